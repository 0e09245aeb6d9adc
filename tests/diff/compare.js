'use strict';
// compare.js — the differential test of the engine's shell parser (src/engine/shell.c)
// against mvdan/sh. See docs/architecture.md, "Differential test of the shell parser".
//
//   node tests/diff/compare.js SHELL_DUMP [--seed N] [--count N] [--show N]
//
// Inputs: every corpus command (tests/corpus/*.jsonl, .input.command) and COUNT scripts
// from the seeded generator (gen.js), a third of them mutated corpus commands. They are
// written to a temporary file of JSON strings and handed to the two parsers as data;
// nothing runs them. For each input the two dumps ({"err":true} or the sorted argv of
// every simple command) are compared. A disagreement of an accepted class (ACCEPTED
// below, each with its reason in docs/architecture.md) is counted; any other is printed
// with its input and fails the run. Prints TAP lines and a summary.

const fs = require('fs');
const path = require('path');
const os = require('os');
const { spawnSync } = require('child_process');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const { dump, DYN } = require('./mvdan_dump');
const { generate } = require('./gen');

function args() {
  const a = { dumpBin: process.argv[2], seed: 1, count: 20000, show: 20 };
  for (let k = 3; k < process.argv.length; k += 2) {
    const v = Number(process.argv[k + 1]);
    if (process.argv[k] === '--seed') a.seed = v;
    else if (process.argv[k] === '--count') a.count = v;
    else if (process.argv[k] === '--show') a.show = v;
    else throw new Error('unknown option ' + process.argv[k]);
  }
  if (!a.dumpBin) throw new Error('usage: compare.js SHELL_DUMP [--seed N] [--count N]');
  return a;
}

function corpusCommands(root) {
  const dir = path.join(root, 'tests', 'corpus');
  const out = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const c = JSON.parse(line);
      if (c.input && typeof c.input.command === 'string') out.push(c.input.command);
    }
  }
  return out;
}

// Accepted classes of difference. Each has a test on the disagreement (when) and a
// rewrite of the input (rewrite) that takes the known cause away while meaning the same
// to bash; a disagreement is accepted only if both parsers agree on the rewritten input.
// Each class and its reason is in docs/architecture.md.
const ACCEPTED = [
  {
    // mvdan/sh ends a word at a # that follows a quote or an expansion and reads a
    // comment; in bash a # starts a comment only at the start of a word. The rewrite
    // escapes every # inside a word.
    name: 'hash-inside-word',
    when: (input) => /[^\s;&|(<>{$\\]#/.test(input),
    rewrite: (input) => input.replace(/([^\s;&|(<>{$\\])#/g, '$1\\#'),
  },
  {
    // mvdan/sh cannot parse $'…' inside `…` ("reached EOF without closing quote `").
    name: 'ansi-quote-in-backquotes',
    when: (input) => input.includes('`') && input.includes("$'"),
    rewrite: (input) => input.replace(/\$'/g, "'"),
  },
  {
    // bash runs a script whose last here-document has no closing line (with a warning);
    // the engine reads such a body to the end, mvdan/sh rejects the script.
    name: 'heredoc-closed-by-end-of-input',
    // Also one inside $(…) that the end of the substitution ends. Accepted as is.
    when: (input, eng, mv) => !eng.err && mv.err && /unclosed here-document/.test(mv.msg),
    rewrite: null,
  },
  {
    // "$((" / "((" whose first ')' is not followed by ')' is, in bash, "$( (" / "( (":
    // a command substitution or subshells. mvdan/sh reads arithmetic and fails.
    name: 'double-paren-subshell',
    when: (input, eng, mv) => mv.err && input.includes('(('),
    rewrite: (input) => splitDoubleParens(input),
  },
  {
    // mvdan/sh reads "word[" in a command word as an array index and fails; bash reads
    // a plain word ("ssh[[ -i …", "b[ install").
    name: 'bracket-inside-word',
    when: (input, eng, mv) => mv.err && /must follow a name|must be followed by =|matching \[ with \]/.test(mv.msg),
    rewrite: (input) => input.replace(/([^\s;&|()<>`$\\[])\[/g, '$1\\['),
  },
  {
    // A comment ends at the newline, a backslash before it included; mvdan/sh reads
    // "\<newline>" at the end of a comment as a line continuation.
    name: 'backslash-newline-after-comment',
    when: (input) => /#[^\n]*\\\n/.test(input),
    rewrite: (input) => input.replace(/(#[^\n]*?)\\\n/g, '$1\n'),
  },
  {
    // A here-document started inside `…` whose body lines come after the closing
    // backquote: bash parses the backquoted text on its own (the here-document there
    // ends at the end of that text) and the engine does the same; mvdan/sh takes the
    // body from the lines after. Accepted as is (no rewrite).
    name: 'heredoc-inside-backquotes',
    when: (input) => /`[^`]*<<-?[ \t]*["'\\]?[A-Za-z_][^`]*`/.test(input),
    rewrite: null,
  },
  {
    // "cat <<EOF | \n …": a here-document's body starts on the line after its operator
    // even when the command goes on after | or && (POSIX, bash, and the engine: here the
    // rest then fails to parse); mvdan/sh reads the next lines as commands.
    name: 'heredoc-body-after-continued-line',
    when: (input, eng, mv) => eng.err && !mv.err && /<<[^\n]*(\|\|?|&&)[ \t]*\n/.test(input),
    rewrite: null,
  },
  {
    // "[[ a =~ # ]]": the engine reads a # at the start of a word as a comment there too
    // and rejects the script; mvdan/sh takes it as the operand.
    name: 'hash-word-in-test-clause',
    when: (input, eng, mv) => eng.err && !mv.err && /\[\[[^\]]*\s#/.test(input),
    rewrite: null,
  },
  {
    // "<<< #…", "> #…": in bash a # after an operator starts a comment, so the
    // redirection has no word and the line is a syntax error (the engine's answer too);
    // mvdan/sh accepts it.
    name: 'comment-after-redirection-operator',
    when: (input, eng, mv) => eng.err && !mv.err && /[<>][ \t]*#/.test(input),
    rewrite: null,
  },
  {
    // bash's old arithmetic "$[ … ]": the engine keeps "$[" as text (a $(…) inside is
    // still parsed), mvdan/sh fails on "$[[". The rewrite quotes the "[".
    name: 'dollar-bracket-arithmetic',
    when: (input, eng, mv) => input.includes('$['),
    rewrite: (input) => input.split('$[').join('$\\['),
  },
  {
    // NAME=(…) before a command word: mvdan/sh rejects it ("inline variables cannot be
    // arrays"); the engine keeps it as an assignment. Only argv is compared.
    name: 'array-assignment-before-command',
    when: (input, eng, mv) => !eng.err && mv.err && /cannot be arrays/.test(mv.msg),
    rewrite: (input) => input.replace(/\b[A-Za-z_][A-Za-z0-9_]*=\([^()]*\)[ \t]+(?=[^\s;&|])/g, ''),
  },
  {
    // mvdan/sh in bash mode reads @(…) !(…) +(…) *(…) ?(…) as extended globs, which a
    // non-interactive bash knows only after "shopt -s extglob" (a syntax error without).
    name: 'extglob',
    when: (input, eng, mv) => !!mv.extglob,
    rewrite: null,
  },
  {
    // bash 5.3's ${ cmds; } and ${| cmds; }: the engine parses their commands; mvdan/sh
    // in bash mode knows them only from mksh and rejects the script.
    name: 'bash53-funsub',
    when: (input, eng, mv) => !eng.err && mv.err && /is a mksh feature/.test(mv.msg),
    rewrite: null,
  },
  {
    // The engine does not check the syntax of arithmetic, parameter expansions, [[ … ]],
    // declaration names or here-document delimiters: bash fails such a word at run time
    // (after it ran any substitution inside, which the engine parses) or, for a
    // delimiter holding $(…), uses its text; mvdan/sh rejects the script at parse time.
    name: 'engine-lenient-on-expression-syntax',
    when: (input, eng, mv) => !eng.err && mv.err &&
      /not a valid (arithmetic|test|parameter expansion) operator|parameter expansion requires a literal|must be followed by an expression|must follow an expression|cannot be followed by a word|must be followed by a literal|without matching \(\( with \)\)|reached ~ without matching \( with \)|reached LitWord without matching \( with \)|invalid parameter name|"expr" must be followed by ;|matching \[\[ with \]\]|test operator words must|invalid var name|expansions not allowed in heredoc words|array element values must be words|= must follow a name|\[ must follow a name|unsigned expressions are a mksh feature/.test(mv.msg),
    rewrite: null,
  },
  {
    // The engine's parser is lenient on a stray separator or operator (";ls", "a | |& b",
    // "$(!)", a reserved word out of place): bash rejects such a line and runs nothing of
    // it, the engine parses what is there. Extra commands seen, none missed. Accepted
    // only for these mvdan/sh messages, and only when the engine saw a command.
    name: 'engine-lenient-on-stray-operator',
    when: (input, eng, mv) => !eng.err && eng.cmds.length > 0 && mv.err &&
      /can only immediately follow a statement|cannot form a statement alone|is not a valid start for a statement|can only be used (to|in)|cannot negate a command multiple times|statements must be separated by|must be followed by a word|reached \) without matching \{ with \}|must be followed by a statement|"for foo \[in words\]" must be followed by "do"/.test(mv.msg),
    rewrite: null,
  },
  {
    // An ANSI-C escape that makes a NUL (\0, \x00, \c@, \u0000, \U0, \400) ends the
    // $'…' string in bash, and the engine drops the rest as bash does; mvdan/sh keeps a
    // NUL byte (or the text after it) in the word. Accepted as is.
    name: 'ansi-c-nul',
    when: (input) => /\$'[^']*\\(c@|u0+(?![1-9a-fA-F])|U0+(?![1-9a-fA-F])|x0+(?![1-9a-fA-F])|0|400)/.test(input),
    rewrite: null,
  },
  {
    // \u, \U or \x with no hex digit after it: bash keeps the backslash and the letter
    // ($'\U=1' is the four characters \U=1), and so does the engine; mvdan/sh drops them.
    // Accepted as is.
    name: 'ansi-c-escape-without-digits',
    when: (input) => /\$'[^']*\\[uUx](?![0-9a-fA-F])/.test(input),
    rewrite: null,
  },
  {
    // export NAME\X=v (declare, local, readonly, typeset): a backslash in the name part is
    // not an assignment word, so bash removes the quote and the builtin gets
    // "NAMEX=v", as the engine's argv says; mvdan/sh's declaration clause keeps the
    // backslash in the word. Accepted as is.
    name: 'declaration-name-backslash',
    when: (input) => /(^|[\s;&|(])(export|declare|local|readonly|typeset)\s[^\n;&|]*\\[^\s=]*=/.test(input),
    rewrite: null,
  },
  {
    // coproc CMD: the engine keeps "coproc" as the first word (the unwrapper strips it
    // like a wrapper); mvdan/sh parses a coprocess clause. The rewrite drops the keyword.
    name: 'coproc-as-wrapper',
    when: (input) => /(^|[\s;&|(])coproc\s/.test(input),
    rewrite: (input) => input.replace(/(^|[\s;&|(])coproc\s+/g, '$1'),
  },
  {
    // "time -p ( … )" / "time -p { …; }": the engine skips the time keyword and its -p
    // before a group; mvdan/sh keeps "time -p" as a command of its own.
    // Also "time NAME=VALUE cmd": mvdan/sh reads the keyword and an assignment, the engine
    // a first word "time" (also stripped by the unwrapper). The rewrite drops the keyword.
    name: 'time-before-group',
    when: (input) => /(^|[\s;&|(])time\s/.test(input),
    rewrite: (input) => input.replace(/(^|[\s;&|(])time\s+(-p\s+)?/g, '$1'),
  },
  {
    // "((rm -rf /))" in command position whose text reads as words and options, not an
    // expression: the engine reads nested subshells (as dash runs it), so their commands
    // are judged; bash and mvdan/sh read arithmetic and run nothing. The safe reading.
    name: 'double-paren-words-as-subshells',
    when: (input, eng, mv) => !mv.err && !eng.err && /(^|[\s;&|(])\(\(/.test(input) &&
      eng.cmds.length > ((mv.cmds || []).length),
    rewrite: (input) => input.replace(/(^|[\s;&|(])\(\(/g, '$1( ('),
  },
  {
    // A quote left open inside $(( … )): bash fails the word when it evaluates it (after
    // running the substitutions before it, which the engine parses); mvdan/sh rejects the
    // script. Extra commands seen, none missed.
    name: 'engine-lenient-quote-in-arithmetic',
    when: (input, eng, mv) => !eng.err && mv.err && (input.includes('$((') || input.includes('${')) &&
      /reached EOF without closing quote/.test(mv.msg),
    rewrite: null,
  },
  {
    // A function named with brackets ("b[[omb(){ …; }", "function b[[omb { …; }"): bash
    // accepts the name (bash -n passes), and so does the engine, which parses the body;
    // mvdan/sh reads an array index, or no name after "function", and fails.
    name: 'bracket-in-function-name',
    when: (input, eng, mv) => !eng.err && mv.err &&
      ((/must follow a name/.test(mv.msg) && /[A-Za-z_][^\s(){};&|]*\[[^\s(){};&|]*\(\)/.test(input)) ||
       (/"function" must be followed by a name/.test(mv.msg) &&
        /(^|[\s;&|(])function\s+[^\s(){};&|]*\[/.test(input))),
    rewrite: null,
  },
  {
    // A second "else" in one if clause ("if a; then b; else c; else d; fi"): bash and
    // dash reject the line (syntax error near "else"), and so does the engine (it
    // escalates); mvdan/sh reads the second "else" as a command's first word. Accepted
    // only when the engine fails and mvdan/sh does not.
    name: 'mvdan-lenient-second-else',
    when: (input, eng, mv) => eng.err && !mv.err && /(^|[\s;&|(])else\s[^]*[;&\n]\s*else(\s|$)/.test(input),
    rewrite: null,
  },
  {
    // A quote left open inside `…` ("`read '`"): bash parses the backquoted text as a
    // script of its own and fails it; the engine rejects the line too (it escalates);
    // mvdan/sh reads the quote across the backquote. Accepted only when the engine fails.
    name: 'open-quote-inside-backquotes',
    when: (input, eng, mv) => eng.err && !mv.err && /`[^`]*['"][^`]*`/.test(input),
    rewrite: null,
  },
];

// Rewrite each "$((" or "((" that bash does not read as arithmetic (the ')' closing its
// first '(' is not followed by ')') as "$( (" or "( (": the same script to bash.
function splitDoubleParens(s) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(' && s[i + 1] === '(' && !closesArith(s, i + 2)) { out += '( '; continue; }
    out += s[i];
  }
  return out;
}
function closesArith(s, k) {
  let depth = 0;
  for (; k < s.length; k++) {
    if (s[k] === '(') depth++;
    else if (s[k] === ')') {
      if (depth === 0) return s[k + 1] === ')';
      depth--;
    }
  }
  return false;
}

// The dumps of inputs from the engine (shell_dump, one batch).
function engineDumps(bin, inputs) {
  const res = spawnSync(bin, [], {
    input: inputs.map((s) => JSON.stringify(s)).join('\n') + '\n', maxBuffer: 1 << 30,
  });
  if (res.status !== 0) throw new Error('shell_dump exited ' + res.status + ' ' + String(res.stderr).slice(0, 500));
  return res.stdout.toString('latin1').split('\n').slice(0, inputs.length).map((l) => JSON.parse(l));
}

function canon(d) {
  if (d.err) return '{"err":true}';
  return JSON.stringify(d.cmds.map((a) => JSON.stringify(a)).sort());
}

// mvdan/sh's dumps of inputs, on two worker threads (it is the slow side: ~1.4 ms of
// CPU a script), in input order.
async function mvdanDumps(inputs) {
  const nw = Math.max(1, Math.min(2, os.cpus().length));
  const per = Math.ceil(inputs.length / nw);
  const parts = [];
  for (let w = 0; w < nw; w++) {
    const slice = inputs.slice(w * per, (w + 1) * per);
    parts.push(new Promise((resolve, reject) => {
      const wk = new Worker(__filename, { workerData: slice });
      wk.once('message', resolve);
      wk.once('error', reject);
    }));
  }
  return (await Promise.all(parts)).flat();
}

async function main() {
  const a = args();
  const root = path.resolve(__dirname, '..', '..');
  const corpus = corpusCommands(root);
  const t0 = process.hrtime.bigint();
  const inputs = corpus.concat(generate(a.seed, a.count, corpus));
  let engs;
  try {
    engs = engineDumps(a.dumpBin, inputs);
  } catch (e) {
    console.log('not ok - ' + e.message);
    return 1;
  }
  const mvs = await mvdanDumps(inputs);
  let agree = 0, both_err = 0;
  const diffs = []; // {k, eng, mv, cls: [class indexes that apply], rewritten}
  for (let k = 0; k < inputs.length; k++) {
    const eng = engs[k];
    const mv = mvs[k];
    if (canon(eng) === canon(mv)) { agree++; if (eng.err) both_err++; continue; }
    // Apply the rewrites of the classes that match, again on the rewritten input (one
    // quirk can hide the next), at most a few rounds. A class without a rewrite accepts
    // the disagreement as it is.
    const cls = [];
    let r = inputs[k], mvr = mv, lenient = false;
    for (let round = 0; round < 4; round++) {
      let changed = false;
      ACCEPTED.forEach((c, i) => {
        if (lenient || cls.includes(i) || !c.when(r, eng, mvr)) return;
        if (!c.rewrite) { cls.push(i); lenient = true; return; }
        const r2 = c.rewrite(r);
        if (r2 !== r) { cls.push(i); r = r2; changed = true; }
      });
      if (!changed || lenient) break;
      mvr = dump(r);
      if (canon(mvr) === canon(eng)) break;
    }
    diffs.push({ k, eng, mv, cls, rewritten: r, lenient });
  }
  // Second pass: the rewritten inputs of the disagreements that fall in a class.
  diffs.forEach((d) => { if (d.lenient) d.accepted = true; });
  const retry = diffs.filter((d) => d.cls.length && !d.lenient);
  const engs2 = retry.length ? engineDumps(a.dumpBin, retry.map((d) => d.rewritten)) : [];
  retry.forEach((d, i) => { d.accepted = canon(engs2[i]) === canon(dump(d.rewritten)); });
  const counts = {}, examples = {};
  let bad = 0, shown = 0;
  const show = (s) => s.split(DYN).join('<$>');
  for (const d of diffs) {
    if (d.accepted) {
      const name = d.cls.map((i) => ACCEPTED[i].name).join(' + ');
      counts[name] = (counts[name] || 0) + 1;
      if (!examples[name]) examples[name] = inputs[d.k];
      continue;
    }
    bad++;
    if (shown++ < a.show) {
      console.log('# DIFF ' + (d.k < corpus.length ? 'corpus' : 'generated') + ' input: ' + JSON.stringify(inputs[d.k]));
      console.log('#   engine: ' + show(canon(d.eng)));
      console.log('#   mvdan:  ' + show(canon(d.mv)) + (d.mv.err ? ' ' + d.mv.msg : ''));
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`# ${inputs.length} inputs (${corpus.length} corpus, ${a.count} generated, seed ${a.seed}) in ${secs.toFixed(1)} s`);
  console.log(`# agree ${agree} (both rejected ${both_err}), accepted differences ${inputs.length - agree - bad}, other differences ${bad}`);
  for (const name of Object.keys(counts).sort()) {
    console.log(`#   accepted ${name}: ${counts[name]}, e.g. ${JSON.stringify(examples[name])}`);
  }
  console.log((bad ? 'not ok' : 'ok') + ` - shell parser agrees with mvdan/sh on ${inputs.length} inputs but for accepted classes (${bad} other differences)`);
  return bad ? 1 : 0;
}

if (isMainThread) {
  main().then((rc) => { process.exitCode = rc; },
    (e) => { console.log('not ok - ' + (e && e.stack || e)); process.exitCode = 1; });
} else {
  parentPort.postMessage(workerData.map(dump));
}
