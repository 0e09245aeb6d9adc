#!/usr/bin/env python3
"""gen_shell_sem.py — writes tests/corpus/shell_sem.jsonl (ids sx-*).

The cases are string literals written to a file as data; nothing here runs them.
Each dangerous case sits next to its safe twin. Run: python3 tests/corpus/gen_shell_sem.py
"""
import json
import os

P = "/home/dev/project"
H = "/home/dev"

# (class, expect, command, why[, cwd])
CASES = [
    # ---- part 12: env - must not hang ----
    ("destructive", "deny", "env - rm -rf /", "env - (empty environment) then a root wipe"),
    ("safe", "allow", "env - ls -la", "env - then a listing"),
    ("destructive", "deny", "env - PATH=/bin rm -rf ~", "env - with an assignment then a home wipe"),
    ("safe", "allow", "env - PATH=/usr/bin make test", "env - with an assignment then make"),
    ("destructive", "deny", "env -i - -u HOME rm -rf /etc", "env option forms mixed"),
    ("safe", "allow", "env -i - -u HOME git status", "env option forms mixed, safe"),
    ("destructive", "deny", "sudo env - nice -n 5 rm -rf /var", "nested wrappers with env -"),
    ("safe", "allow", "nice -n 5 env - timeout 5 ls", "nested wrappers with env -, safe"),
    ("destructive", "deny", "env -S'rm -rf /'", "env -S with the string attached"),
    ("safe", "allow", "env -S'ls -la'", "env -S attached, safe"),
    ("destructive", "deny", "env --split-string='rm -rf ~'", "env --split-string= form"),
    ("safe", "allow", "env --split-string='make test'", "env --split-string= form, safe"),
    ("destructive", "deny", "env -iS'dd if=/dev/zero of=/dev/sda'", "env -i and -S in one cluster"),
    ("safe", "allow", "env -iS'git status'", "env -iS cluster, safe"),

    # ---- brace expansion ----
    ("destructive", "deny", "{rm,-rf,/}", "brace expansion in command position builds rm -rf /"),
    ("safe", "allow", "{ls,-la,src}", "brace expansion in command position builds ls"),
    ("destructive", "deny", "rm -rf /{etc,usr}", "brace expansion to system dirs"),
    ("safe", "allow", "rm -rf {build,dist}", "brace expansion over project build dirs"),
    ("destructive", "deny", "rm -rf {build,~}", "brace expansion that includes home"),
    ("safe", "allow", "mkdir -p src/{a,b,c}", "brace expansion creating dirs"),
    ("destructive", "deny", "rm -rf /home/dev/{project,.ssh}", "brace list reaching ~/.ssh"),
    ("safe", "allow", "rm -f out/file{1..3}.o", "numeric range inside the project"),
    ("risky", "escalate", "touch f{1..99999999}", "huge range: capped, escalated"),
    ("safe", "allow", "touch f{1..5}", "small range"),
    ("destructive", "deny", "{r,}m -rf /", "brace alternative yields rm and m"),
    ("safe", "allow", "cp config.{json,json.bak}", "backup copy by brace"),

    # ---- aliases ----
    ("destructive", "deny", "alias x='rm -rf /'; x", "alias defined and then used"),
    ("safe", "allow", "alias x='ls -la'; x", "alias for a listing"),
    ("destructive", "deny", "alias c='rm -rf'; c ~", "alias for rm -rf used on home"),
    ("safe", "allow", "alias c='rm -rf'; c build", "alias for rm -rf used on build"),
    ("destructive", "deny", "alias ll='ls'\nalias ll='rm -rf /etc'\nll", "alias redefined, last wins"),
    ("safe", "allow", "alias ll='rm -rf /etc'\nalias ll='ls -l'\nll", "alias redefined to a listing"),
    ("destructive", "deny", "alias a=b b='rm -rf /'; a", "alias chain"),
    ("safe", "allow", "alias a=b b='git status'; a", "alias chain to git status"),
    ("destructive", "deny", "shopt -s expand_aliases; alias wipe='dd if=/dev/zero of=/dev/sda'; wipe", "alias to a disk wipe"),
    ("safe", "allow", "shopt -s expand_aliases; alias gs='git status'; gs", "alias to git status"),

    # ---- trap / PROMPT_COMMAND ----
    ("destructive", "deny", "trap 'rm -rf ~' EXIT", "trap handler wipes home"),
    ("safe", "allow", "trap 'rm -rf build/.lock' EXIT", "trap handler cleans a project file"),
    ("destructive", "deny", "trap 'rm -rf /' INT TERM; sleep 5", "trap on signals"),
    ("safe", "allow", "trap 'echo done' EXIT; make", "harmless trap"),
    ("destructive", "deny", "export PROMPT_COMMAND='rm -rf /'", "PROMPT_COMMAND runs code"),
    ("safe", "allow", "export PROMPT_COMMAND='history -a'", "PROMPT_COMMAND history"),
    ("destructive", "deny", "PROMPT_COMMAND=\"rm -rf $HOME\"", "PROMPT_COMMAND assignment"),
    ("safe", "allow", "PROMPT_COMMAND='date'", "PROMPT_COMMAND date"),
    ("destructive", "deny", "export PS1='$(rm -rf ~) \\$ '", "PS1 runs its substitutions at each prompt"),
    ("safe", "allow", "export PS1='$(git branch --show-current) \\w \\$ '", "PS1 showing the git branch"),
    ("destructive", "deny", "PS4='`rm -rf /`'; set -x", "PS4 runs at each trace line"),
    ("safe", "allow", "PS4='+ $(date +%s) '; set -x", "PS4 with a timestamp"),

    # ---- here-docs and here-strings fed to runners ----
    ("destructive", "deny", "at now <<EOF\nrm -rf /\nEOF", "at reads a shell script from a here-doc"),
    ("safe", "allow", "at now + 1 hour <<EOF\nmake test\nEOF", "at runs a build later: its script is judged"),
    ("destructive", "deny", "batch <<< 'rm -rf ~'", "batch reads a here-string"),
    ("destructive", "deny", "sh <<< 'rm -rf /'", "sh reads a here-string"),
    ("safe", "allow", "sh <<< 'ls -la'", "sh reads a safe here-string"),
    ("destructive", "deny", "bash <<'EOF'\nrm -rf ~/*\nEOF", "bash here-doc"),
    ("safe", "allow", "bash <<'EOF'\nls\npwd\nEOF", "bash here-doc, safe"),
    ("destructive", "deny", "cat > x.txt <<EOF\nhello\nEOF\nsh <<EOF\nrm -rf /usr\nEOF", "data here-doc then shell here-doc"),
    ("safe", "allow", "cat > notes.txt <<EOF\nrm -rf /\nEOF", "here-doc written to a file is data"),
    ("destructive", "deny", "python3 - <<'EOF'\nimport shutil\nshutil.rmtree('/etc')\nEOF", "python here-doc deletes /etc"),
    ("safe", "allow", "python3 - <<'EOF'\nprint('hello')\nEOF", "python here-doc prints"),

    # ---- functions ----
    ("destructive", "deny", "f() { rm -rf /; }; f", "function defined then called"),
    ("safe", "allow", "f() { ls; }; f", "function with a listing"),
    ("destructive", "deny", "f() { rm -rf \"$1\"; }; f /", "function with an argument"),
    ("safe", "allow", "f() { rm -rf \"$1\"; }; f build", "function with a project argument"),
    ("destructive", "deny", "f() { rm -rf ~; }; (f)", "function called in a subshell"),
    ("safe", "allow", "f() { echo hi; }; (f)", "safe function in a subshell"),
    ("destructive", "deny", "f() { rm -rf /etc; }; true && f", "function in an && chain"),
    ("safe", "allow", "f() { git status; }; true && f", "safe function in an && chain"),
    ("destructive", "deny", "g() { rm -rf \"$@\"; }; ls | g /", "function in a pipeline with a root arg"),
    ("safe", "allow", "g() { cat; }; ls | g", "function in a pipeline, safe"),
    ("destructive", "deny", "function wipe { rm -rf \"$1\"; }\nwipe ~", "ksh style function with home arg"),
    ("safe", "allow", "function wipe { rm -rf \"$1\"; }\nwipe dist", "ksh style function with dist"),

    # ---- renamed binaries ----
    ("destructive", "deny", "cp /bin/rm x; ./x -rf /", "rm copied under a new name"),
    ("safe", "allow", "cp /bin/ls x; ./x -la", "ls copied under a new name"),
    ("destructive", "deny", "ln -s /bin/rm del && ./del -rf ~", "rm linked under a new name"),
    ("safe", "allow", "ln -s /bin/cat show && ./show README.md", "cat linked under a new name"),
    ("destructive", "deny", "cp $(which rm) /tmp/cleaner; /tmp/cleaner -rf /", "rm found by which and copied"),
    ("safe", "allow", "cp $(which ls) /tmp/lister; /tmp/lister -la", "ls found by which and copied"),
    ("destructive", "deny", "install -m 755 /usr/bin/shred s; ./s -u /dev/sda", "shred installed under a new name"),
    ("safe", "allow", "install -m 755 build/tool bin/tool; ./bin/tool --help", "project tool installed"),
    ("destructive", "deny", "mv /tmp/rm2 q; cp /bin/rm q && ./q -rf /usr", "copied after a move"),
    ("destructive", "deny", "ln /usr/bin/mkfs.ext4 fmt; ./fmt /dev/sda1", "hard link to mkfs"),
    ("safe", "allow", "ln -s /usr/bin/python3 py; ./py --version", "link to python, version"),
    ("destructive", "deny", "hash -p /bin/rm ls; ls -rf /", "hash -p makes ls run rm"),
    ("safe", "allow", "hash -p /usr/bin/git g; g status", "hash -p makes g run git"),

    # ---- loops over literal lists ----
    ("safe", "allow", "for d in build dist; do rm -rf $d; done", "loop over project dirs"),
    ("destructive", "deny", "for d in build /; do rm -rf $d; done", "loop list includes root"),
    ("destructive", "deny", "for d in node_modules ~; do rm -rf \"$d\"; done", "loop list includes home"),
    ("safe", "allow", "for d in node_modules .cache; do rm -rf \"$d\"; done", "loop list of caches"),
    ("destructive", "deny", "for f in /etc /usr; do rm -rf \"$f\"/*; done", "loop over system dirs"),
    ("safe", "allow", "for f in a.o b.o; do rm -f \"$f\"; done", "loop over object files"),
    ("destructive", "deny", "for x in 1 2; do for d in /var /opt; do rm -rf $d; done; done", "nested loops"),
    ("safe", "allow", "for x in 1 2; do for d in tmp1 tmp2; do rm -rf $d; done; done", "nested loops, safe"),
    ("destructive", "deny", "for d in {build,/}; do rm -rf $d; done", "loop list by brace including root"),
    ("safe", "allow", "for d in {build,out}; do rm -rf $d; done", "loop list by brace, safe"),

    # ---- cd to the project root, cd - ----
    ("safe", "allow", "cd \"$(git rev-parse --show-toplevel)\" && rm -rf build", "cd to the repo root then delete build"),
    ("destructive", "deny", "cd \"$(git rev-parse --show-toplevel)\" && rm -rf ../*", "cd to repo root then delete its parent"),
    ("safe", "allow", "cd build && make && cd - && rm -rf dist", "cd - returns to the project"),
    ("destructive", "deny", "cd / && cd /tmp && cd - && rm -rf *", "cd - returns to root"),
    ("risky", "escalate", "cd \"$(git rev-parse --show-toplevel)\" && rm -rf *", "delete everything at the project root"),
    ("safe", "allow", "cd \"$(git rev-parse --show-toplevel)\"/build && rm -rf *", "delete everything in build"),

    # ---- TMPDIR and assigned variables ----
    ("destructive", "escalate", "TMPDIR=/ ; rm -rf $TMPDIR/*", "TMPDIR reassigned to root: not a temp dir (value known at run time)"),
    ("safe", "allow", "rm -rf $TMPDIR/lighthouse-test", "TMPDIR not reassigned"),
    ("destructive", "escalate", "TMPDIR=~ rm -rf \"$TMPDIR\"", "TMPDIR shadowed on the command: not trusted"),
    ("safe", "allow", "TMPDIR=build/tmp; rm -rf \"$TMPDIR\"", "TMPDIR assigned to a project dir"),
    ("destructive", "escalate", "D=/etc; rm -rf \"$D\"", "variable assigned to /etc (value known at run time)"),
    ("safe", "allow", "D=build; rm -rf \"$D\"", "variable assigned to build"),
    ("destructive", "escalate", "export T=/usr && rm -rf $T", "exported assignment (value known at run time)"),
    ("safe", "allow", "export T=dist && rm -rf $T", "exported assignment to dist"),
    ("destructive", "escalate", "X=/ && rm -rf ${X}", "braced variable assigned to root (value known at run time)"),
    ("safe", "allow", "X=out && rm -rf ${X}/", "braced variable assigned to out"),

    # ---- command substitution inside arithmetic ----
    ("destructive", "deny", "echo $(( $(rm -rf /) + 1 ))", "rm inside arithmetic"),
    ("safe", "allow", "echo $(( $(wc -l < README.md) + 1 ))", "wc inside arithmetic"),
    ("destructive", "deny", "n=$(( $(dd if=/dev/zero of=/dev/sda) ))", "dd inside arithmetic"),
    ("safe", "allow", "n=$(( $(ls | wc -l) * 2 ))", "ls inside arithmetic"),
    ("destructive", "deny", "x=$(( `rm -rf ~` ))", "backticks inside arithmetic"),
    ("safe", "allow", "x=$(( `date +%s` - 1 ))", "date inside arithmetic"),

    # ---- rm -rf * at the project root ----
    ("risky", "escalate", "rm -rf *", "delete everything at the project root"),
    ("safe", "allow", "cd build && rm -rf *", "delete everything in build"),
    ("risky", "escalate", "rm -rf ./*", "delete everything at the project root, ./ form"),
    ("safe", "allow", "rm -rf build/*", "delete everything in build"),
    ("risky", "escalate", "rm -rf .", "delete the project dir itself"),
    ("safe", "allow", "rm -rf ./build", "delete build"),
    ("risky", "escalate", "rm -rf -- * .[!.]*", "delete everything including dotfiles at root"),
    ("safe", "allow", "rm -rf dist/* dist/.[!.]*", "delete everything in dist"),

    # ---- second round: aliases naming themselves, arithmetic commands ----
    ("safe", "allow", "alias ls='ls --color=auto'; ls -la", "alias that names itself is not re-expanded"),
    ("destructive", "deny", "alias ls='rm -rf ~'; ls", "alias shadowing ls with a home wipe"),
    ("safe", "allow", "alias grep='grep --color=auto'\ngrep -rn TODO src", "grep alias naming itself"),
    ("destructive", "deny", "alias grep='grep -q x; rm -rf /'\ngrep y file", "grep alias hiding a wipe"),
    ("safe", "allow", "(( ${#files[@]} > 0 )) && echo ok", "arithmetic command"),
    ("destructive", "deny", "((rm -rf /))", "no arithmetic: nested subshells, as dash runs it"),
    ("safe", "allow", "i=0; ((i++)); echo $i", "arithmetic increment"),
    ("destructive", "deny", "((shred -u /dev/sda))", "no arithmetic: nested subshells shredding a disk"),
    ("safe", "allow", "(( x = y * 2 ))", "arithmetic assignment"),
    ("destructive", "deny", "(( $(rm -rf ~) ))", "substitution inside an arithmetic command"),
    ("safe", "allow", "(( $(git rev-list --count HEAD) > 10 )) && echo many", "git inside an arithmetic command"),
    ("destructive", "deny", "for ((i=$(rm -rf /etc); i<3; i++)); do :; done", "substitution in for (( ))"),
    ("safe", "allow", "for ((i=0; i<3; i++)); do echo $i; done", "C-style for loop"),

    # ---- here-strings and pipes into runners ----
    ("destructive", "deny", "python3 <<< 'import shutil; shutil.rmtree(\"/usr\")'", "python here-string deletes /usr"),
    ("safe", "allow", "python3 <<< 'print(1+1)'", "python here-string prints"),
    ("destructive", "deny", "bash -s <<< 'rm -rf ~'", "bash -s reads a here-string"),
    ("safe", "allow", "bash -s <<< 'git status'", "bash -s reads git status"),
    ("destructive", "deny", "cat <<'EOF' | sh\nrm -rf /\nEOF", "here-doc piped into sh"),
    ("safe", "allow", "cat <<'EOF' | sh\necho hi\nEOF", "here-doc piped into sh, safe"),
    ("destructive", "deny", "at midnight <<< 'dd if=/dev/zero of=/dev/sda'", "at here-string wipes a disk"),
    ("safe", "allow", "at midnight <<< 'make backup'", "at here-string runs make"),
    ("destructive", "deny", "echo 'rm -rf ~' | at now", "at reads a piped script"),
    ("safe", "allow", "echo 'make docs' | at now", "at reads a piped make"),
    ("destructive", "deny", "batch <<EOF\nmkfs.ext4 /dev/sdb1\nEOF", "batch here-doc formats a disk"),
    ("safe", "allow", "batch <<EOF\nnpm test\nEOF", "batch here-doc runs tests"),

    # ---- trap forms ----
    ("destructive", "deny", "trap -- 'rm -rf /' EXIT", "trap with --"),
    ("safe", "allow", "trap - EXIT", "trap reset"),
    ("destructive", "deny", "trap 'dd if=/dev/zero of=/dev/sda' ERR; false", "trap on ERR"),
    ("safe", "allow", "trap -p", "list traps"),

    # ---- functions in more places ----
    ("destructive", "deny", "f() { rm -rf \"$1\"; }; f build; f /etc", "the second call is dangerous"),
    ("safe", "allow", "f() { rm -rf \"$1\"; }; f build; f dist", "both calls are safe"),
    ("destructive", "deny", "clean() { rm -rf \"$@\"; }; clean build ~", "$@ holds home"),
    ("safe", "allow", "clean() { rm -rf \"$@\"; }; clean build dist", "$@ holds project dirs"),
    ("destructive", "deny", "f() { rm -rf /; }; f &", "function run in the background"),
    ("safe", "allow", "f() { sleep 1; }; f &", "safe function in the background"),
    ("destructive", "deny", "f() { rm -rf ~; }; if true; then f; fi", "function called inside if"),
    ("safe", "allow", "f() { make; }; if true; then f; fi", "safe function inside if"),
    ("destructive", "deny", "w() { dd if=/dev/zero of=\"$1\"; }; w /dev/sda", "function writing a device"),
    ("safe", "allow", "w() { dd if=/dev/zero of=\"$1\" bs=1k count=1; }; w out.bin", "function writing a file"),

    ("destructive", "deny", "f() { rm -rf \"$1\"; }; g() { f \"$1\"; }; g /", "a function calling a function with root"),
    ("safe", "allow", "f() { rm -rf \"$1\"; }; g() { f \"$1\"; }; g build", "a function calling a function with build"),
    ("destructive", "deny", "inner() { rm -rf \"$@\"; }\nouter() { inner \"$@\"; }\nouter ~", "$@ passed down to home"),
    ("safe", "allow", "inner() { rm -rf \"$@\"; }\nouter() { inner \"$@\"; }\nouter dist", "$@ passed down to dist"),

    # ---- renamed programs, more forms ----
    ("destructive", "deny", "cp /usr/bin/dd ./copy && ./copy if=/dev/zero of=/dev/sda", "dd copied under a new name"),
    ("safe", "allow", "cp /usr/bin/dd ./copy && ./copy if=in.img of=out.img", "dd copy between files"),
    ("destructive", "deny", "ln -sf $(command -v rm) /tmp/x; /tmp/x -rf /etc", "rm linked via command -v"),
    ("safe", "allow", "ln -sf $(command -v git) /tmp/g; /tmp/g status", "git linked via command -v"),

    # ---- brace expansion, more forms ----
    ("destructive", "deny", "sudo {rm,-rf,/var}", "brace command under sudo"),
    ("safe", "allow", "{echo,hello,world}", "brace command echo"),
    ("destructive", "deny", "rm -rf ~/{.ssh,.gnupg}", "brace list of secret dirs"),
    ("safe", "allow", "rm -rf ./{tmp,cache}", "brace list of project dirs"),
    ("destructive", "deny", "chmod -R 777 /{etc,usr}", "recursive chmod over system dirs"),
    ("safe", "allow", "chmod -R 755 ./{bin,scripts}", "recursive chmod over project dirs"),
    ("destructive", "deny", "rm -rf /{a..c}/../etc", "range that resolves into /etc"),
    ("safe", "allow", "rm -f log{1..3}.txt", "range of project files"),

    # ---- loops, more forms ----
    ("destructive", "deny", "for h in ~/.ssh ~/.aws; do rm -rf $h; done", "loop over secret dirs"),
    ("safe", "allow", "for h in out tmp; do rm -rf ./$h; done", "loop over project dirs"),
    ("destructive", "deny", "for f in *.log /etc/passwd; do rm -f \"$f\"; done", "loop list includes /etc/passwd"),
    ("safe", "allow", "for f in *.log *.tmp; do rm -f \"$f\"; done", "loop over project globs"),
    ("destructive", "deny", "for dev in /dev/sda /dev/sdb; do dd if=/dev/zero of=$dev; done", "loop over disks"),
    ("safe", "allow", "for img in a.img b.img; do dd if=/dev/zero of=$img bs=1M count=1; done", "loop over image files"),

    # ---- cd, more forms ----
    ("destructive", "deny", "cd /etc && cd /tmp && cd - && rm -rf ./*", "cd - returns to /etc"),
    ("safe", "allow", "cd /tmp && cd - && rm -rf build", "cd - returns to the project"),
    ("destructive", "deny", "cd `git rev-parse --show-toplevel`/.. && rm -rf *", "the parent of the repo root"),
    ("safe", "allow", "cd `git rev-parse --show-toplevel`/dist && rm -rf *", "dist under the repo root"),

    # ---- env - and TMPDIR, more forms ----
    ("destructive", "deny", "env - /bin/sh -c 'rm -rf /'", "env - then a shell"),
    ("safe", "allow", "env - /bin/sh -c 'ls'", "env - then a shell listing"),
    ("destructive", "deny", "env -- rm -rf ~", "env -- then a home wipe"),
    ("safe", "allow", "env -- make", "env -- then make"),
    ("destructive", "escalate", "export TMPDIR=/etc; rm -rf \"$TMPDIR\"/*", "TMPDIR exported as /etc (value known at run time)"),
    ("safe", "allow", "rm -rf \"$TMPDIR\"/build-cache", "the real temp dir"),

    # ---- keywords before compounds, callbacks ----
    ("destructive", "deny", "coproc rm -rf /", "coproc runs a simple command"),
    ("safe", "allow", "coproc cat", "coproc runs cat"),
    ("destructive", "deny", "coproc w { rm -rf ~; }", "named coproc running a group"),
    ("safe", "allow", "coproc { make; }", "coproc running a safe group"),
    ("destructive", "deny", "time { rm -rf /; }", "time before a group"),
    ("safe", "allow", "time { make; }", "time before a safe group (was a parse error)"),
    ("destructive", "deny", "time -p ( rm -rf /etc )", "time -p before a subshell"),
    ("safe", "allow", "time -p ( make test )", "time -p before a safe subshell"),
    ("destructive", "deny", "mapfile -C 'rm -rf /' -c 1 arr < list.txt", "mapfile callback is code"),
    ("safe", "allow", "mapfile -t lines < list.txt", "mapfile without a callback"),
    ("destructive", "deny", "readarray -c 1 -C 'rm -rf ~' arr < list.txt", "readarray callback is code"),
    ("safe", "allow", "readarray -c 1 -C 'echo' arr < list.txt", "readarray with an echo callback"),

    # ---- stdin as a script file ----
    ("destructive", "deny", "source /dev/stdin <<< 'rm -rf /'", "source reads a here-string"),
    ("safe", "allow", "source /dev/stdin <<< 'export FOO=1'", "source reads a safe here-string"),
    ("destructive", "deny", ". /dev/stdin <<EOF\nrm -rf ~\nEOF", "dot reads a here-doc"),
    ("safe", "allow", ". /dev/stdin <<EOF\ncd src\nEOF", "dot reads a safe here-doc"),
    ("destructive", "deny", "bash /dev/stdin <<< 'rm -rf /usr'", "bash runs /dev/stdin"),
    ("safe", "allow", "bash /dev/stdin <<< 'make lint'", "bash runs a safe /dev/stdin"),
    ("destructive", "deny", "echo 'rm -rf /' | sh /proc/self/fd/0", "sh runs its stdin by fd path"),
    ("safe", "allow", "echo 'ls' | sh /proc/self/fd/0", "sh runs a safe stdin by fd path"),
    ("safe", "allow", "source ./env.sh", "source of a project file"),

    # ---- rm -rf at the project root, more forms ----
    ("risky", "escalate", "rm -rf -- *", "everything at the project root, after --"),
    ("safe", "allow", "rm -rf -- build/*", "everything in build, after --"),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "shell_sem.jsonl")
    with open(out, "w") as f:
        for n, case in enumerate(CASES, 1):
            cls, expect, cmd, why = case[:4]
            cwd = case[4] if len(case) > 4 else P
            line = {"id": "sx-%03d" % n, "class": cls, "expect": expect, "tool": "Bash",
                    "input": {"command": cmd}, "cwd": cwd, "home": H, "why": why}
            f.write(json.dumps(line) + "\n")
    print("wrote %d cases to %s" % (len(CASES), out))


if __name__ == "__main__":
    main()
