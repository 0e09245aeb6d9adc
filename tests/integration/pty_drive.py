#!/usr/bin/env python3
"""pty_drive.py STEPS.json -- PROGRAM [ARGS...] — run PROGRAM on a pseudo-terminal (so it
sees a tty, as over ssh) and drive it like a person: STEPS.json is a list of
[regex, text]: wait until the output so far (after the previous match) matches regex,
then type text. After the last step it waits for the program to exit.

Prints the whole transcript, then a last line "exit N". Exit 0 when every step matched
and the program exited 0; 1 when a step's regex was not seen before the program ended or
within 60 s (a hang guard, not a bound on speed); 2 on bad usage. Used by
tests/integration/review.sh."""
import json
import os
import pty
import re
import select
import sys
import time

HANG_S = 60


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        steps = json.load(f)
    argv = sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    out = b""
    seen = 0          # output before this offset is matched already
    ok = True
    eof = False

    def pump(timeout):
        nonlocal out, eof
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            eof = True
        out += data

    for rx, text in steps:
        pat = re.compile(rx.encode())
        deadline = time.monotonic() + HANG_S
        m = None
        while True:
            m = pat.search(out, seen)
            if m or eof or time.monotonic() > deadline:
                break
            pump(0.2)
        if not m:
            ok = False
            sys.stdout.write("# step not matched: %r\n" % rx)
            break
        seen = m.end()
        os.write(fd, text.encode())
    deadline = time.monotonic() + HANG_S
    while not eof and time.monotonic() < deadline:
        pump(0.2)
    try:
        _, status = os.waitpid(pid, os.WNOHANG if not eof else 0)
    except ChildProcessError:
        status = 0
    code = os.waitstatus_to_exitcode(status) if eof else -1
    if not eof:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.stdout.write("\nexit %d\n" % code)
    return 0 if ok and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
