#!/bin/sh
# embed_ui.sh FILE... : print a C file that holds the review console's static files (ui/)
# as the table lh_ui_files[] (src/bridge/console.h): for each file its path under /ui/,
# its Content-Type (from its extension; an unknown extension is an error, so a file is
# never served with a guessed type) and its bytes. Run by the Makefile at build time, so
# the bridge serves the console with no install path.
set -eu
echo "/* Generated from ui/ by scripts/embed_ui.sh. Do not edit. */"
echo "#define LH_UI_FILES_ONLY"
echo "#include \"bridge/console.h\""
i=0
for f in "$@"; do
  echo "static const char f$i[] = {"
  od -An -v -tx1 "$f" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
  echo "0x00};"
  i=$((i + 1))
done
echo "const lh_ui_file lh_ui_files[] = {"
i=0
for f in "$@"; do
  case "$f" in
    *.html) t="text/html; charset=utf-8" ;;
    *.css)  t="text/css; charset=utf-8" ;;
    *.js)   t="text/javascript; charset=utf-8" ;;
    *.svg)  t="image/svg+xml" ;;
    *.json) t="application/json" ;;
    *) echo "embed_ui.sh: no Content-Type for $f (add its extension here)" >&2; exit 2 ;;
  esac
  name=${f#ui/}
  echo "    {\"$name\", \"$t\", f$i, sizeof(f$i) - 1},"
  i=$((i + 1))
done
echo "};"
echo "const size_t lh_ui_nfiles = sizeof(lh_ui_files) / sizeof(lh_ui_files[0]);"
