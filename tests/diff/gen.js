'use strict';
// gen.js — a seeded generator of shell scripts for the differential parser test.
// Every script is a string that is only ever parsed (by the engine's parser through
// shell_dump and by mvdan/sh): none is run. The same seed gives the same scripts.

function rng(seed) { // mulberry32
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function make(seed) {
  const r = rng(seed);
  const int = (n) => Math.floor(r() * n);
  const pick = (a) => a[int(a.length)];
  const chance = (p) => r() < p;

  const names = ['ls', 'cat', 'grep', 'echo', 'git', 'make', 'cp', 'mv', 'rm', 'find', 'sed',
    'awk', 'curl', 'tar', 'npm', 'python3', 'sort', 'head', 'tail', 'wc', 'xargs', 'test',
    'printf', 'cd', 'touch', 'mkdir', 'chmod', 'true', 'false', 'read', 'env', 'sudo'];
  const plain = ['a', 'b', '-l', '-rf', '--force', 'src/main.c', '/tmp/x', '.', '..', 'x=y',
    'file.txt', '-n', '1', '42', 'HEAD~1', 'a:b', '@', '%', '+', 'foo,bar', 'é', 'ü.txt',
    '-', '--', '=', 'k=v', 'x+=1', 'a=b=c', '#', 'a#b', '!', 'done', 'if', 'then', 'fi',
    'in', 'esac', '{', '}', '[', ']', 'a]', '!x'];
  const vars = ['$HOME', '$1', '$#', '$?', '$@', '$*', '$$', '$!', '$-', '${x}', '${x:-a b}',
    '${#x}', '${x%/*}', '${x//a/b}', '${x:+"q"}', '$x', '$_y1', '${arr[0]}', '${!x}'];
  const escs = ['\\ ', '\\"', "\\'", '\\\\', '\\$', '\\`', '\\n', '\\a', '\\\n', '\\;',
    '\\|', '\\&', '\\>', '\\(', '\\*', '\\#', '\\~'];
  const ansi = ['\\n', '\\t', '\\x41', '\\x7e', '\\101', '\\u00e9', '\\e', '\\\\', "\\'",
    '\\"', '\\cA', '\\z', '\\x', '\\0', '\\x00', '\\777', '\\U0001F600', '\\?', '\\a'];

  let depth = 0;

  function dq() {
    let s = '"';
    const n = int(4);
    for (let k = 0; k < n; k++) {
      const c = int(8);
      if (c === 0) s += pick(plain);
      else if (c === 1) s += pick(vars);
      else if (c === 2) s += pick(['\\"', '\\$', '\\\\', '\\`', '\\n', '\\a', "'", '\\\n']);
      else if (c === 3 && depth < 2) { depth++; s += '$(' + list() + ')'; depth--; }
      else if (c === 4 && depth < 2) { depth++; s += '`' + simpleCmd().replace(/[`\\]/g, '') + '`'; depth--; }
      else if (c === 5) s += ' ';
      else if (c === 6) s += '$((1+' + int(9) + '))';
      else s += pick(['*', '?', '~', '{a,b}', '#', ';', '|', '&', '<', '>']);
    }
    return s + '"';
  }

  function wordPart() {
    const c = int(14);
    if (c < 4) return pick(plain);
    if (c === 4) return "'" + pick(plain) + pick(['', ' ', '"', '\\', '$x', '\n', '`']) + "'";
    if (c === 5) return dq();
    if (c === 6) return pick(vars);
    if (c === 7) return pick(escs);
    if (c === 8) { let s = "$'"; const n = 1 + int(3); for (let k = 0; k < n; k++) s += chance(0.5) ? pick(ansi) : pick(plain); return s + "'"; }
    if (c === 9 && depth < 2) { depth++; const s = '$(' + list() + ')'; depth--; return s; }
    if (c === 10 && depth < 2) { depth++; const s = '`' + simpleCmd().replace(/[`\\]/g, '') + '`'; depth--; return s; }
    if (c === 11) return '$((' + pick(['1+2', 'x*3', '(a+1)*2', '$y<<1', 'i++']) + '))';
    if (c === 12) return pick(['*.c', 'a?', '[ab]c', '{a,b}', '~', '~/x', '~root', 'a{1..3}', '[!x]']);
    return pick(['=', ':', '+', '.', '/', '%', '^', ',', '-']);
  }

  function word() {
    let s = '';
    const n = 1 + (chance(0.7) ? 0 : int(3));
    for (let k = 0; k < n; k++) s += wordPart();
    return s;
  }

  function redir() {
    const op = pick(['>', '>>', '<', '2>', '2>&1', '>&2', '&>', '&>>', '>|', '<>', '1>', '<<<',
      '3<', '<&0', '>&-', '<<', '<<-', '<(', '>(']);
    if (op === '2>&1' || op === '>&2' || op === '>&-' || op === '<&0') return op;
    if ((op === '<<' || op === '<<-') && depth > 0) return '<<< ' + word();
    if (op === '<<' || op === '<<-') {
      const d = pick(['EOF', "'EOF'", '"END"', 'E\\OF', 'X']);
      const delim = d.replace(/['"\\]/g, '');
      heredocs.push({ delim, tabs: op === '<<-' });
      return op + pick(['', ' ']) + d;
    }
    if (op === '<(' || op === '>(') {
      if (depth >= 2) return '>/dev/null';
      depth++; const s = ' ' + op + list() + ')'; depth--; return s;
    }
    return op + pick(['', ' ']) + word();
  }

  let heredocs = [];
  function heredocBodies() {
    let s = '';
    for (const h of heredocs) {
      const n = int(3);
      for (let k = 0; k < n; k++) {
        s += (h.tabs && chance(0.5) ? '\t' : '') +
          pick(['hello', '$x and $(date)', 'a `b` c', '\\$y', 'rm -rf /tmp/q', "it's", '"q"',
            '${v:-d}', '  indented', 'EOFX']) + '\n';
      }
      s += (h.tabs && chance(0.5) ? '\t' : '') + h.delim + '\n';
    }
    heredocs = [];
    return s;
  }

  function simpleCmd() {
    let s = '';
    if (chance(0.15)) s += pick(['A=1 ', 'X="a b" ', "P=$'x' ", 'B=$(pwd) ', 'arr=(a b) ']);
    s += chance(0.85) ? pick(names) : word();
    const n = int(4);
    for (let k = 0; k < n; k++) s += (chance(0.1) ? '\t' : ' ') + (chance(0.12) ? redir() : word());
    if (chance(0.1)) s += ' ' + redir();
    if (chance(0.05)) s += ' # ' + pick(plain) + ' ' + pick(plain);
    return s;
  }

  function compound() {
    depth++;
    let s;
    const c = int(11);
    if (c === 0) s = '(' + list() + ')';
    else if (c === 1) s = '{ ' + list() + '; }';
    else if (c === 2) s = 'if ' + list() + '; then ' + list() + (chance(0.4) ? '; elif ' + list() + '; then ' + list() : '') + (chance(0.5) ? '; else ' + list() : '') + '; fi';
    else if (c === 3) s = pick(['while ', 'until ']) + list() + '; do ' + list() + '; done';
    else if (c === 4) s = 'for ' + pick(['i', 'f', 'x_1']) + (chance(0.8) ? ' in ' + word() + ' ' + word() : '') + pick(['; ', '\n']) + 'do ' + list() + pick(['; ', '\n']) + 'done';
    else if (c === 5) s = 'case ' + word() + ' in ' + pick(['a', '*.c', "'x'", '$y', '(b']) + pick(['', '|z']) + ') ' + list() + pick([';;', ';&', ';;&']) + pick([' ', '\n']) + (chance(0.5) ? '*) ' + list() + ';; ' : '') + 'esac';
    else if (c === 6) s = pick(['f', 'my_fn', 'g1']) + '() { ' + list() + '; }';
    else if (c === 7) s = 'function ' + pick(['f', 'h']) + pick([' ', '() ']) + '{ ' + list() + '; }';
    else if (c === 8) s = '(( ' + pick(['i++', 'x = 1 + 2', 'a < b', '(1)']) + ' ))';
    else if (c === 9) s = '[[ ' + word() + ' ' + pick(['==', '!=', '=~', '<', '-nt']) + ' ' + word() + ' ]]';
    else s = 'for (( i=0; i<3; i++ )); do ' + list() + '; done';
    depth--;
    if (chance(0.15)) s += ' ' + redir();
    return s;
  }

  function command() {
    return depth < 2 && chance(0.2) ? compound() : simpleCmd();
  }

  function pipeline() {
    let s = chance(0.05) ? '! ' : '';
    s += command();
    const n = chance(0.25) ? 1 + int(2) : 0;
    for (let k = 0; k < n; k++) s += pick([' | ', '|', ' |& ', ' |\n']) + command();
    return s;
  }

  function andOr() {
    let s = pipeline();
    const n = chance(0.2) ? 1 + int(2) : 0;
    for (let k = 0; k < n; k++) s += pick([' && ', ' || ', '&&', ' &&\n']) + pipeline();
    return s;
  }

  function list() {
    let s = andOr();
    const n = chance(depth ? 0.1 : 0.3) ? 1 + int(2) : 0;
    for (let k = 0; k < n; k++) {
      const sep = pick(['; ', ' & ', ';', '\n']);
      if (sep === '\n' && heredocs.length && depth === 0) s += '\n' + heredocBodies();
      else s += sep;
      s += andOr();
    }
    return s;
  }

  function script() {
    heredocs = [];
    depth = 0;
    let s = list();
    if (chance(0.1)) s += pick([' &', ';', '\n']);
    if (heredocs.length) s += '\n' + heredocBodies();
    return s;
  }

  // A corpus command with a few small edits of the characters a shell cares about.
  const special = ['"', "'", '\\', '$', '`', '(', ')', '{', '}', '|', '&', ';', '<', '>',
    ' ', '\n', '#', '*', '~', '=', '$(', '${', '<<', '))', ';;', '\t', '!', '[[', 'é'];
  function mutate(src) {
    let s = src;
    const n = 1 + int(3);
    for (let k = 0; k < n; k++) {
      const at = int(s.length + 1);
      const c = int(5);
      if (c === 0) s = s.slice(0, at) + pick(special) + s.slice(at);
      else if (c === 1) s = s.slice(0, at) + s.slice(at + 1 + int(3));
      else if (c === 2) s = s.slice(0, at) + pick(special) + s.slice(at + 1);
      else if (c === 3) { const e = Math.min(s.length, at + 1 + int(12)); s = s.slice(0, e) + s.slice(at, e) + s.slice(e); }
      else s = s.slice(0, at) + ' ' + word() + ' ' + s.slice(at);
    }
    return s;
  }

  return { script, mutate, int };
}

// count scripts from seed: about 1 in 3 a mutation of one of base (corpus commands).
function generate(seed, count, base) {
  const g = make(seed);
  const out = [];
  for (let k = 0; k < count; k++) {
    if (base.length && g.int(3) === 0) out.push(g.mutate(base[g.int(base.length)]));
    else out.push(g.script());
  }
  return out;
}

module.exports = { generate };
