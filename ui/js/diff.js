// diff.js — a line diff of two texts (longest common subsequence), for policy revisions.

export const DIFF_MAX_LINES = 2000;

// [{op: " "|"-"|"+", line}] turning a into b; null when either text has more than
// DIFF_MAX_LINES lines (the table would be too large for a page).
export function diffLines(a, b) {
  const x = a.split("\n"), y = b.split("\n");
  // Common head and tail first: most revisions change a few lines.
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head &&
         x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const xs = x.slice(head, x.length - tail), ys = y.slice(head, y.length - tail);
  if (xs.length > DIFF_MAX_LINES || ys.length > DIFF_MAX_LINES) return null;
  const n = xs.length, m = ys.length, w = m + 1;
  const L = new Uint16Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      L[i * w + j] = xs[i] === ys[j] ? L[(i + 1) * w + j + 1] + 1 : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
  const out = x.slice(0, head).map((line) => ({ op: " ", line }));
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && xs[i] === ys[j]) { out.push({ op: " ", line: xs[i] }); i++; j++; }
    else if (j < m && (i === n || L[i * w + j + 1] >= L[(i + 1) * w + j])) { out.push({ op: "+", line: ys[j] }); j++; }
    else { out.push({ op: "-", line: xs[i] }); i++; }
  }
  for (const line of x.slice(x.length - tail)) out.push({ op: " ", line });
  return out;
}
