// diff.test.mjs — the console's line diff (ui/js/diff.js) on its own, in node: applying
// the diff to the old text must give the new one, and it must be minimal on known cases.
// Prints "ok - ..." / "not ok - ..." lines (tests/integration/ui.sh numbers them).
import { diffLines, DIFF_MAX_LINES } from "../../ui/js/diff.js";

let failed = 0;
function check(name, cond, detail) {
  if (cond) console.log(`ok - ${name}`);
  else { failed++; console.log(`not ok - ${name}${detail ? ` (${detail})` : ""}`); }
}

const sides = (d) => [d.filter((x) => x.op !== "+").map((x) => x.line).join("\n"),
                      d.filter((x) => x.op !== "-").map((x) => x.line).join("\n")];
const changed = (d) => d.filter((x) => x.op !== " ").length;

const cases = [
  ["a\nb\nc", "a\nb\nc", 0],
  ["a\nb\nc", "a\nx\nc", 2],
  ["a\nb\nc", "a\nb\nc\nd", 1],
  ["", "x\ny", 3],          // "" is one empty line: it goes, two come
  ["k: 1\nrules:\n  - id: a\n  - id: b\n", "k: 2\nrules:\n  - id: b\n  - id: c\n", 4],
];
for (const [a, b, n] of cases) {
  const d = diffLines(a, b);
  const [x, y] = sides(d);
  check(`diff ${JSON.stringify(a)} → ${JSON.stringify(b)}: both sides rebuilt, ${n} changed lines`,
        x === a && y === b && changed(d) === n, `${changed(d)} changed`);
}

// Random texts (a fixed seed): both sides always rebuild exactly.
let seed = 12345;
const rnd = (k) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % k; };
let bad = 0;
for (let t = 0; t < 300; t++) {
  const gen = () => Array.from({ length: rnd(40) }, () => "abcde"[rnd(5)]).join("\n");
  const a = gen(), b = gen();
  const [x, y] = sides(diffLines(a, b));
  if (x !== a || y !== b) bad++;
}
check("300 random pairs: the diff always rebuilds both texts", bad === 0, `${bad} wrong`);

const big = Array.from({ length: DIFF_MAX_LINES + 5 }, (_, i) => `line ${i}`);
check("too long a change is refused (null), not computed",
      diffLines(big.join("\n"), big.slice().reverse().join("\n")) === null);
check("a long text with a small change is diffed (common head and tail are cut first)",
      changed(diffLines(big.join("\n"), big.map((l, i) => (i === 100 ? "changed" : l)).join("\n"))) === 2);
process.exit(failed ? 1 : 0);
