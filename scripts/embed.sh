#!/bin/sh
# embed.sh NAME FILE: print a C file that holds FILE's bytes as a NUL-terminated string NAME,
# its length NAME_len, and NAME_sha256: "sha256:" and the first 16 hex digits of the
# SHA-256 of the bytes (a policy's default revision, computed here so that every start of
# the hook does not hash the built-in policy again).
set -eu
name=$1 file=$2
echo "/* Generated from $file by scripts/embed.sh. Do not edit. */"
echo "#include <stddef.h>"
echo "const char $name[] = {"
od -An -v -tx1 "$file" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
echo "0x00};"
echo "const size_t ${name}_len = sizeof($name) - 1;"
echo "const char ${name}_sha256[] = \"sha256:$(sha256sum "$file" | cut -c1-16)\";"
