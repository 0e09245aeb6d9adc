'use strict';
// mvdan_dump.js — the independent side of the differential shell-parser test: what
// mvdan/sh (the npm package mvdan-sh, a GopherJS build of mvdan.cc/sh's syntax package)
// extracts from a script, in the shape tests/diff/shell_dump.c prints for the engine:
//   {"err":true} (with its message in msg)  or  {"cmds":[argv, ...]}  (argv of every simple command, nested ones
//   included, sorted; a word holding an expansion is the marker "\u0001").
//
// As a program it reads one JSON string per line on stdin and prints one JSON line each.
// The scripts are data: they are parsed, never run.

const path = require('path');
const sh = require(path.join(__dirname, 'node_modules', 'mvdan-sh'));
const syntax = sh.syntax;
const DYN = '\u0001';

// Strings are handled as bytes (one Latin-1 character per UTF-8 byte), as the engine
// sees them and shell_dump prints them.
function bytes(s) { return Buffer.from(s, 'utf8').toString('latin1'); }

// Bash's $'…' escapes, as the engine decodes them (a \0 ends the string).
function ansiC(v) {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c !== '\\' || i + 1 >= v.length) { out += c; continue; }
    const e = v[++i];
    const simple = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v',
      e: '\x1b', E: '\x1b', '\\': '\\', "'": "'", '"': '"', '?': '?' };
    if (e in simple) { out += simple[e]; continue; }
    if (e === 'c') { if (i + 1 < v.length) out += String.fromCharCode(v.charCodeAt(++i) & 0x1f); continue; }
    const hex = (max) => { let s = ''; while (s.length < max && /[0-9a-fA-F]/.test(v[i + 1] || '')) s += v[++i]; return s; };
    if (e === 'x') {
      const h = hex(2);
      if (!h) { out += '\\x'; continue; }
      const n = parseInt(h, 16);
      if (n === 0) return out;
      out += String.fromCharCode(n);
      continue;
    }
    if (e === 'u' || e === 'U') {
      const h = hex(e === 'u' ? 4 : 8);
      const n = h ? parseInt(h, 16) : 0;
      if (n > 0 && n < 0x110000 && !(n >= 0xd800 && n < 0xe000)) out += bytes(String.fromCodePoint(n));
      continue;
    }
    if (e >= '0' && e <= '7') {
      let s = e;
      while (s.length < 3 && /[0-7]/.test(v[i + 1] || '')) s += v[++i];
      const n = parseInt(s, 8) & 0xff;
      if (n === 0) return out;
      out += String.fromCharCode(n);
      continue;
    }
    out += '\\' + e;
  }
  return out;
}

// Quote removal of an unquoted literal: \<newline> vanishes, \c is c.
function unquotedLit(v) { return v.replace(/\\\n/g, '').replace(/\\([\s\S])/g, '$1'); }
// Inside "…": a backslash quotes only $ ` " \ and newline.
function dquotedLit(v) { return v.replace(/\\\n/g, '').replace(/\\([$`"\\])/g, '$1'); }

// What the current dump met that the comparison must know (extglob patterns).
const state = { extglob: false };

// A word as the engine would print it: its text after quote removal, or the marker.
function wordText(w) {
  let s = '';
  for (const part of w.Parts) {
    const t = syntax.NodeType(part);
    if (t === 'Lit') s += unquotedLit(bytes(part.Value));
    else if (t === 'SglQuoted') s += part.Dollar ? ansiC(bytes(part.Value)) : bytes(part.Value);
    else if (t === 'DblQuoted') {
      for (const q of part.Parts) {
        if (syntax.NodeType(q) !== 'Lit') return DYN;
        s += dquotedLit(bytes(q.Value));
      }
    } else if (t === 'ExtGlob') { state.extglob = true; return DYN; }
    else return DYN; // ParamExp, CmdSubst, ArithmExp, ProcSubst
  }
  return s;
}

function dump(src) {
  let f;
  state.extglob = false;
  try {
    f = syntax.NewParser().Parse(src, '');
  } catch (e) {
    return { err: true, msg: e.Error ? e.Error() : String(e) };
  }
  const cmds = [];
  const skip = new Set(); // offsets of commands printed as part of "time …"
  const at = (node) => node.Pos().Offset();
  syntax.Walk(f, function (n) {
    if (!n) return true;
    const t = syntax.NodeType(n);
    if (t === 'CallExpr') {
      if (n.Args.length && !skip.has(at(n))) cmds.push(n.Args.map(wordText));
    } else if (t === 'DeclClause') {
      // declare/export/local/readonly/typeset: one command for the engine
      const argv = [bytes(n.Variant.Value)];
      for (const a of n.Args) {
        if (a.Naked) argv.push(a.Name ? bytes(a.Name.Value) : wordText(a.Value));
        else if (a.Array || a.Index) argv.push(DYN);
        else {
          const v = a.Value ? wordText(a.Value) : '';
          argv.push(v === DYN ? DYN : a.Name.Value + (a.Append ? '+=' : '=') + v);
        }
      }
      cmds.push(argv);
    } else if (t === 'TimeClause') {
      // "time cmd …" is the command time with cmd's words for the engine
      const c = n.Stmt && n.Stmt.Cmd;
      const argv = ['time'];
      if (n.PosixFormat) argv.push('-p');
      if (c && syntax.NodeType(c) === 'CallExpr' && c.Assigns.length === 0) {
        for (const w of c.Args) argv.push(wordText(w));
        skip.add(at(c));
      }
      if (argv.length > 1 || !c) cmds.push(argv);
    }
    return true;
  });
  const out = { cmds: cmds.map((a) => JSON.stringify(a)).sort().map((s) => JSON.parse(s)) };
  if (state.extglob) out.extglob = true;
  return out;
}

module.exports = { dump, DYN };

if (require.main === module) {
  const lines = require('fs').readFileSync(0, 'utf8').split('\n');
  const out = [];
  for (const l of lines) if (l) out.push(JSON.stringify(dump(JSON.parse(l))));
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
}
