#!/usr/bin/env python3
"""check_ownership.py — the bridge's state is owned module by module (docs/architecture.md,
"The bridge's modules, threads and locks"), and src/ includes in layers.

A module is a .c file and its own .h (src/bridge/sse.c and src/bridge/sse.h are one).
Two checks, each printed as TAP lines by tests/integration/bridge_ownership.sh:

  owner   In SRC_BRIDGE (src/bridge by default) every name declared as a lock
          (pthread_mutex_t, pthread_cond_t, pthread_rwlock_t) or an atomic (_Atomic T,
          atomic_int, ...) belongs to the module that declares it, and only that module may
          operate on it: every pthread_mutex_* / pthread_cond_* / atomic_* call names as its
          object (its first argument's last field: &b->eng_mu -> eng_mu) a name its own module
          declares. A lock or atomic declared in a header that has no .c of its own has no
          owner: a violation wherever it is used.
  include The graph of #include "..." lines between the modules of SRC_BRIDGE has no
          circle.
  layers  The graph between the layers of SRC (src/engine, src/store, src/bridge, ...; a
          top-level file is its own node) has no circle either: each layer includes only
          the ones below it. Inside src/engine and src/store a library's headers include
          one another, so their module graphs are not checked.

Usage: check_ownership.py [owner|include|layers] [--src DIR] [--bridge DIR]
(no mode: owner and include)
Prints one line per violation and exits 1 if there is any, else 0."""
import os
import re
import sys

LOCK_TYPES = r"pthread_mutex_t|pthread_cond_t|pthread_rwlock_t|pthread_spinlock_t"
ATOMIC_TYPEDEFS = r"atomic_(?:bool|char|schar|uchar|short|ushort|int|uint|long|ulong|llong|ullong|size_t|ptrdiff_t|intptr_t|uintptr_t|int_fast64_t|uint_fast64_t|uint_fast32_t|int_fast32_t|flag)"
OPS = re.compile(r"\b(pthread_(?:mutex|cond|rwlock|spin)_[a-z]+|atomic_[a-z_]+)\s*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def strip_comments(text):
    """C text without comments and string literals (their contents blanked)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_of(path):
    return os.path.splitext(path)[0]


def first_arg(text, start):
    """The text of the first argument of the call whose '(' is at start."""
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        elif ch == "," and depth == 1:
            return text[start + 1:i]
        i += 1
    return text[start + 1:]


def object_name(arg):
    """The last field or variable an argument names: &b->m->outcomes[r][k] -> outcomes."""
    arg = re.sub(r"\[[^\]]*\]", "", arg)
    arg = re.sub(r"\([^()]*\)", "", arg)   # casts
    names = re.findall(r"[A-Za-z_]\w*", arg)
    return names[-1] if names else None


def c_files(root):
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.join(d, f)


def declarations(text):
    """Names declared as a lock or an atomic in text (comments stripped)."""
    names = set()
    for m in re.finditer(r"\b(?:%s)\s+([^;(){}]*);" % LOCK_TYPES, text):
        names.update(re.findall(r"\*?\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\])*\s*(?:,|$)", m.group(1)))
    for m in re.finditer(r"\b_Atomic\s*(?:\([^)]*\)|[A-Za-z_][\w ]*?)\s+\*?\s*([A-Za-z_][^;(){}]*);", text):
        names.update(re.findall(r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\])*\s*(?:,|$)", m.group(1)))
    for m in re.finditer(r"\b(?:%s)\s+([^;(){}]*);" % ATOMIC_TYPEDEFS, text):
        names.update(re.findall(r"\*?\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\])*\s*(?:=[^,]*)?(?:,|$)", m.group(1)))
    return names


def check_owner(bridge):
    files = list(c_files(bridge))
    texts = {f: strip_comments(open(f, encoding="utf-8", errors="replace").read()) for f in files}
    declared = {}   # name -> modules that declare it
    problems = []
    for f, t in texts.items():
        for name in declarations(t):
            mod = module_of(f)
            if f.endswith(".h") and not os.path.exists(mod + ".c"):
                problems.append("%s: %s is a lock or an atomic in a header with no .c of its own: no module owns it"
                                % (f, name))
            declared.setdefault(name, set()).add(mod)
    for f, t in texts.items():
        mod = module_of(f)
        for m in OPS.finditer(t):
            if m.group(1) in ("atomic_thread_fence", "atomic_signal_fence"):
                continue
            name = object_name(first_arg(t, m.end() - 1))
            if not name:
                continue
            owners = declared.get(name)
            line = t.count("\n", 0, m.start()) + 1
            if owners is None:
                # A local declared in this function (a lock attr, a plain atomic local) is not
                # shared state; a pthread_*attr object neither.
                if re.search(r"\b%s\b" % re.escape(name), t) and not name.endswith(("attr", "_attr")):
                    if re.search(r"(?:%s|%s|_Atomic)[^;]*\b%s\b" % (LOCK_TYPES, ATOMIC_TYPEDEFS, re.escape(name)), t):
                        continue
                if name.endswith(("attr", "_attr")) or name in ("ca", "ma"):
                    continue
                problems.append("%s:%d: %s(%s) on a name no file in %s declares as a lock or an atomic"
                                % (f, line, m.group(1), name, bridge))
            elif mod not in owners:
                problems.append("%s:%d: %s on %s, which belongs to %s"
                                % (f, line, m.group(1), name, ", ".join(sorted(o + ".c" for o in owners))))
    return problems


def include_edges(src, group):
    """{from: {to}} over the files of src, each named by group(path relative to src)."""
    edges = {}
    for f in c_files(src):
        rel = os.path.relpath(f, src)
        node = group(rel)
        for inc in INCLUDE.findall(strip_comments_keep_includes(open(f, encoding="utf-8", errors="replace").read())):
            target = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
            if not os.path.exists(os.path.join(src, target)):
                target = os.path.normpath(inc)
            if not os.path.exists(os.path.join(src, target)):
                continue   # generated (version.h) or outside src
            tnode = group(target)
            if tnode is not None and node is not None and tnode != node:
                edges.setdefault(node, set()).add(tnode)
    return edges


def check_include(src, bridge):
    bridgeRel = os.path.relpath(bridge, src)
    module = lambda rel: module_of(rel) if rel.startswith(bridgeRel + os.sep) else None
    return circles(include_edges(src, module), "modules")


def check_layers(src):
    layer = lambda rel: rel.split(os.sep)[0] if os.sep in rel else module_of(rel)
    return circles(include_edges(src, layer), "layers")


def circles(edges, what):
    # Tarjan: every strongly connected component of more than one module is a circle.
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    problems = []
    for comp in out:
        comp = sorted(comp)
        links = ["%s -> %s" % (a, b) for a in comp for b in sorted(edges.get(a, ())) if b in comp]
        problems.append("include circle among the %s %s: %s" % (what, ", ".join(comp), "; ".join(links)))
    return problems


def strip_comments_keep_includes(text):
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)


def main(argv):
    what = argv[1] if len(argv) > 1 and not argv[1].startswith("--") else "all"
    src = "src"
    bridge = None
    for i, a in enumerate(argv):
        if a == "--src":
            src = argv[i + 1]
        if a == "--bridge":
            bridge = argv[i + 1]
    bridge = bridge or os.path.join(src, "bridge")
    problems = []
    if what in ("owner", "all"):
        problems += check_owner(bridge)
    if what in ("include", "all"):
        problems += check_include(src, bridge)
    if what == "layers":
        problems += check_layers(src)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
