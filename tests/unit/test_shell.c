/* test_shell.c — the POSIX shell parser and the unwrapper. */
#include "testutil.h"

#include <stdio.h>

#include "engine/analyze.h"
#include "engine/shell.h"
#include "engine/unwrap.h"

static lh_arena *A;

static lh_script *parse(const char *text) {
    lh_script *s = lh_arena_calloc(A, sizeof(*s));
    lh_shell_parse(A, text, strlen(text), NULL, s, -1, -1, LH_ORIGIN_TOP, 0);
    return s;
}

/* Parse and unwrap, as the engine does. */
static lh_script *unwrap(const char *text) {
    static lh_request req;
    static lh_ctx c;
    memset(&req, 0, sizeof(req));
    memset(&c, 0, sizeof(c));
    req.tool = LH_TOOL_BASH;
    req.command = text;
    req.command_len = strlen(text);
    c.arena = A;
    c.req = &req;
    c.cwd = "/home/dev/project";
    c.cwd_len = strlen(c.cwd);
    c.home = "/home/dev";
    c.home_len = strlen(c.home);
    c.cwd_is_project = 1;
    lh_shell_limits lim;
    lh_shell_default_limits(&lim);
    c.script = parse(text);
    lh_unwrap(&c, &lim);
    return c.script;
}

/* The argv of command k joined with '|'. */
static const char *argvOf(const lh_script *s, int k) {
    static char buf[1024];
    buf[0] = 0;
    if (k >= s->ncmds) return "<none>";
    for (int j = 0; j < s->cmds[k].argc; j++) {
        if (j) strcat(buf, "|");
        strncat(buf, s->cmds[k].argv[j].s, sizeof(buf) - strlen(buf) - 2);
    }
    return buf;
}

/* Index of the first command whose program is prog, or -1. */
static int find(const lh_script *s, const char *prog) {
    for (int k = 0; k < s->ncmds; k++)
        if (!strcmp(s->cmds[k].prog, prog) && s->cmds[k].argc) return k;
    return -1;
}

static int setup(void **st) { (void)st; A = lh_arena_new(1 << 16); return 0; }
static int teardown(void **st) { (void)st; lh_arena_free(A); return 0; }
static int reset(void **st) { (void)st; lh_arena_reset(A); return 0; }

/* ---- quoting ------------------------------------------------------------------ */

static void test_quotes_removed(void **st) {
    lh_script *s = parse("r''m -\"r\"f '/' \\/x");
    assert_int_equal(s->error, LH_SH_OK);
    assert_int_equal(s->ncmds, 1);
    assert_string_equal(argvOf(s, 0), "rm|-rf|/|/x");
    assert_string_equal(s->cmds[0].prog, "rm");
}

static void test_ansi_c_quotes(void **st) {
    lh_script *s = parse("$'\\x72\\x6d' $'-\\162f' $'a\\tb' $'\\u00e9'");
    assert_int_equal(s->error, LH_SH_OK);
    assert_string_equal(s->cmds[0].prog, "rm");
    assert_string_equal(s->cmds[0].argv[1].s, "-rf");
    assert_string_equal(s->cmds[0].argv[2].s, "a\tb");
    assert_string_equal(s->cmds[0].argv[3].s, "\xc3\xa9");
}

/* Every escape that decodes to a NUL byte ends the $'…' string, as in bash (found by
 * tests/fuzz/fuzz_shell.c: \c@ and \u0000 left a NUL inside the word, so its text and its
 * length disagreed and "rm\0x" was not "rm"). */
static void test_ansi_c_nul_ends_string(void **st) {
    lh_script *s = parse("$'rm\\c@x' $'-rf\\c`q' $'a\\u0000b' $'c\\U00000000d' $'e\\x00f' $'g\\0h' $'i\\c j' k");
    assert_int_equal(s->error, LH_SH_OK);
    assert_int_equal(s->ncmds, 1);
    static const char *const want[] = {"rm", "-rf", "a", "c", "e", "g", "i", "k"};
    assert_int_equal(s->cmds[0].argc, 8);
    for (int i = 0; i < 8; i++) {
        assert_string_equal(s->cmds[0].argv[i].s, want[i]);
        assert_int_equal(s->cmds[0].argv[i].len, strlen(want[i]));
    }
    assert_string_equal(s->cmds[0].prog, "rm");
    /* \400 is 256, a NUL byte too; an escaped quote after the NUL does not end the string;
     * \u with no digits is kept as written. */
    s = parse("echo $'a\\400b' $'c\\0\\' d' $'e\\uZ'");
    assert_int_equal(s->error, LH_SH_OK);
    assert_int_equal(s->ncmds, 1);
    assert_int_equal(s->cmds[0].argc, 4);
    assert_string_equal(s->cmds[0].argv[1].s, "a");
    assert_string_equal(s->cmds[0].argv[2].s, "c");
    assert_string_equal(s->cmds[0].argv[3].s, "e\\uZ");
}

/* A here-doc whose body starts inside the same command, at a newline within [[ … ]]: the
 * body is read before the command ends, so its redirection must already be on the command
 * (found by tests/fuzz/fuzz_shell.c: a write through a NULL redirection array). */
static void test_heredoc_inside_cond(void **st) {
    lh_script *s = parse("<<E [[ -n x\nbody\nE\n]]");
    assert_int_equal(s->error, LH_SH_OK);
    assert_true(s->ncmds >= 1);
    assert_int_equal(s->cmds[0].nredirs, 1);
    assert_string_equal(s->cmds[0].redirs[0].target.s, "body\n");
    assert_string_equal(s->cmds[0].argv[0].s, "[[");
}

/* After a \0 (or \x00) bash drops the rest of $'…' but still reads its escapes: a \'
 * there does not end the quote (found by the differential test, tests/diff/). */
static void test_ansi_c_nul_keeps_escapes(void **st) {
    lh_script *s = parse("cp $'a\\0\\'b' c; ls $'\\x00\\'' d");
    assert_int_equal(s->error, LH_SH_OK);
    assert_int_equal(s->ncmds, 2);
    assert_string_equal(argvOf(s, 0), "cp|a|c");
    assert_string_equal(argvOf(s, 1), "ls||d");
}

/* A backslash that is the last character of the script stays a backslash, as in bash
 * (found by the differential test). */
static void test_trailing_backslash_kept(void **st) {
    lh_script *s = parse("echo a\\");
    assert_int_equal(s->error, LH_SH_OK);
    assert_string_equal(argvOf(s, 0), "echo|a\\");
    s = parse("echo a\\\nb");     /* a line continuation still joins */
    assert_string_equal(argvOf(s, 0), "echo|ab");
}

static void test_double_quote_escapes(void **st) {
    lh_script *s = parse("echo \"a\\\"b\\$c\\\\d\\e\"");
    assert_string_equal(s->cmds[0].argv[1].s, "a\"b$c\\d\\e");
    assert_false(s->cmds[0].argv[1].flags & LH_W_DYNAMIC);
}

static void test_data_is_not_a_command(void **st) {
    lh_script *s = parse("echo \"rm -rf /\"; git commit -m 'DROP TABLE x; rm -rf /'; grep \"DROP TABLE\" .");
    assert_int_equal(s->ncmds, 3);
    assert_string_equal(argvOf(s, 0), "echo|rm -rf /");
    assert_string_equal(s->cmds[1].argv[3].s, "DROP TABLE x; rm -rf /");
    assert_int_equal(find(s, "rm"), -1);
}

static void test_backslash_command(void **st) {
    lh_script *s = parse("\\rm -rf x");
    assert_string_equal(s->cmds[0].prog, "rm");
    s = parse("/bin/rm -rf x");
    assert_string_equal(s->cmds[0].prog, "rm");
}

/* ---- expansions ------------------------------------------------------------------ */

static void test_cmdsubst_nested(void **st) {
    lh_script *s = parse("echo \"$(echo `rm -rf /` $(id))\"");
    assert_int_equal(s->error, LH_SH_OK);
    int rm = find(s, "rm");
    assert_true(rm > 0);
    assert_int_equal(s->cmds[rm].origin, LH_ORIGIN_CMDSUBST);
    assert_true(find(s, "id") > 0);
    assert_true(s->cmds[0].argv[1].flags & LH_W_SUBST);
}

static void test_param_expansion_with_subst(void **st) {
    lh_script *s = parse("echo ${x:-$(rm -rf /)} $((1 + 2)) $HOME ${#y}");
    assert_int_equal(s->error, LH_SH_OK);
    assert_true(find(s, "rm") > 0);
    assert_true(s->cmds[0].argv[2].flags & LH_W_ARITH);
    assert_true(s->cmds[0].argv[3].flags & LH_W_VAR);
    assert_string_equal(s->cmds[0].argv[3].s, "$HOME");
}

/* "$((" and "((" open arithmetic only when the parenthesis that closes the first "("
 * is followed at once by ")"; otherwise bash reads a command substitution (or nested
 * subshells) whose commands run (found by the differential test, tests/diff/). */
static void test_double_paren_not_arithmetic(void **st) {
    lh_script *s = parse("echo $((echo a) | rm -rf /tmp/x)");
    assert_int_equal(s->error, LH_SH_OK);
    int rm = find(s, "rm");
    assert_true(rm > 0);
    assert_int_equal(s->cmds[rm].origin, LH_ORIGIN_CMDSUBST);
    assert_true(s->cmds[0].argv[1].flags & LH_W_SUBST);
    assert_false(s->cmds[0].argv[1].flags & LH_W_ARITH);
    s = parse("((cd /; ls) | rm -rf y)");
    assert_int_equal(s->error, LH_SH_OK);
    assert_string_equal(argvOf(s, find(s, "rm")), "rm|-rf|y");
    s = parse("echo $(( (1+2) * 3 )); (( (i+1) > 2 )) && ls");
    assert_int_equal(s->error, LH_SH_OK);
    assert_true(s->cmds[0].argv[1].flags & LH_W_ARITH);
    assert_int_equal(s->ncmds, 2);
}

/* bash expands $(…), `…` and ${…} inside arithmetic before it evaluates it: their
 * commands run (found by the differential test). */
static void test_subst_inside_arithmetic(void **st) {
    lh_script *s = parse("echo $(( $(rm -rf /tmp/a) + 1 )); (( x = `shred b` )); "
                         "for (( i = $(reboot); i < 2; i++ )); do :; done");
    assert_int_equal(s->error, LH_SH_OK);
    assert_true(find(s, "rm") > 0);
    assert_true(find(s, "shred") > 0);
    assert_true(find(s, "reboot") > 0);
    assert_true(s->cmds[0].argv[1].flags & LH_W_ARITH);
    assert_true(s->cmds[0].argv[1].flags & LH_W_SUBST);
    /* nesting is bounded: "$((" 5,000 deep is an error, not a stack overflow */
    char *deep = lh_arena_alloc(A, 5000 * 5 + 2);
    for (int k = 0; k < 5000; k++) memcpy(deep + 3 * k, "$((", 3);
    deep[5000 * 3] = '1';
    for (int k = 0; k < 5000; k++) memcpy(deep + 5000 * 3 + 1 + 2 * k, "))", 2);
    deep[5000 * 5 + 1] = 0;
    s = parse(deep);
    assert_int_equal(s->error, LH_SH_TOO_DEEP);
}

/* bash 5.3 runs the commands of ${ …; } and ${| …; } in the current shell (found by the
 * differential test: mvdan/sh knows them from mksh). */
static void test_funsub(void **st) {
    lh_script *s = parse("echo ${ rm -rf /tmp/a; } x; echo ${|shred b;} ${x} ${#y}");
    assert_int_equal(s->error, LH_SH_OK);
    int rm = find(s, "rm");
    assert_true(rm > 0);
    assert_int_equal(s->cmds[rm].origin, LH_ORIGIN_CMDSUBST);
    assert_int_equal(s->cmds[rm].parent, 0);
    assert_true(s->cmds[0].argv[1].flags & LH_W_SUBST);
    assert_string_equal(s->cmds[0].argv[2].s, "x");
    assert_true(find(s, "shred") > 0);
    assert_int_equal(parse("echo ${ ls")->error, LH_SH_SYNTAX);
    /* "}" must end the list as a reserved word: ${ ls;}" is refused, not misread */
    assert_int_equal(parse("echo \"${ ls;}\"")->error, LH_SH_SYNTAX);
}

/* The elements of an array assignment are words: their substitutions run (found by the
 * differential test). */
static void test_array_assignment_substs(void **st) {
    lh_script *s = parse("a=(x $(rm -rf /tmp/q) `shred f`) ls; b=(\"$(reboot)\")");
    assert_int_equal(s->error, LH_SH_OK);
    assert_true(find(s, "rm") > 0);
    assert_true(find(s, "shred") > 0);
    assert_true(find(s, "reboot") > 0);
    assert_int_equal(s->cmds[find(s, "rm")].origin, LH_ORIGIN_CMDSUBST);
    assert_string_equal(s->cmds[0].prog, "ls");
    assert_int_equal(find(s, "x"), -1);   /* an element is not a command */
}

static void test_procsubst(void **st) {
    lh_script *s = parse("sh <(curl -s http://x) ; diff <(ls a) >(cat)");
    int curl = find(s, "curl");
    assert_true(curl > 0);
    assert_int_equal(s->cmds[curl].origin, LH_ORIGIN_PROCSUBST_IN);
    assert_int_equal(s->cmds[curl].parent, 0);
    assert_int_equal(s->cmds[curl].parent_arg, 1);
    int cat = find(s, "cat");
    assert_int_equal(s->cmds[cat].origin, LH_ORIGIN_PROCSUBST_OUT);
    /* inside a word too, as bash reads it: one argument "--from=/dev/fd/63" (found by
     * the differential test) */
    s = parse("diff --from=<(curl -s http://x) b");
    assert_int_equal(s->error, LH_SH_OK);
    assert_int_equal(s->cmds[0].argc, 3);
    assert_true(s->cmds[0].argv[1].flags & LH_W_PROCSUBST);
    assert_int_equal(s->cmds[find(s, "curl")].parent_arg, 1);
}

static void test_dynamic_command_word(void **st) {
    lh_script *s = parse("$CMD -rf /; $(echo rm) x");
    assert_true(s->cmds[0].flags & LH_C_DYNAMIC_CMD);
    int k = -1;
    for (int i = 0; i < s->ncmds; i++) if (s->cmds[i].argc == 2 && !strcmp(s->cmds[i].argv[1].s, "x")) k = i;
    assert_true(k >= 0);
    assert_true(s->cmds[k].flags & LH_C_DYNAMIC_CMD);
}

/* ---- lists, pipelines, compound commands --------------------------------------- */

static void test_pipeline_stages(void **st) {
    lh_script *s = parse("curl -s x | tee a |& sh && echo ok || echo no; sleep 1 & wait");
    int curl = find(s, "curl"), sh = find(s, "sh");
    assert_int_equal(s->cmds[curl].pipe_len, 3);
    assert_int_equal(s->cmds[sh].pipe_pos, 2);
    assert_true(s->cmds[sh].flags & LH_C_PIPE_IN);
    assert_true(s->cmds[curl].flags & LH_C_PIPE_OUT);
    assert_true(s->cmds[find(s, "tee")].flags & LH_C_PIPE_ERR);
    assert_true(s->cmds[find(s, "sleep")].flags & LH_C_BACKGROUND);
    assert_false(s->cmds[find(s, "wait")].flags & LH_C_BACKGROUND);
}

static void test_compound_commands(void **st) {
    lh_script *s = parse(
        "if [ -d x ]; then rm -rf x; elif true; then :; else echo; fi\n"
        "for f in $(ls); do echo \"$f\"; done\n"
        "while read l; do printf '%s' \"$l\"; done < <(cat f)\n"
        "until false; do break; done\n"
        "case \"$1\" in start|go) run ;; (stop) halt ;; *) shred /dev/sda ;; esac\n"
        "(cd /tmp && make) ; { ls; pwd; }\n"
        "[[ $x > 3 && -f y ]] && ((i++))\n");
    assert_int_equal(s->error, LH_SH_OK);
    const char *progs[] = {"rm", "ls", "echo", "printf", "cat", "break", "run", "halt", "shred", "make", "pwd", "[["};
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        if (find(s, progs[i]) < 0) fail_msg("missing %s", progs[i]);
    }
}

static void test_function_and_fork_bomb(void **st) {
    lh_script *s = parse(":(){ :|:& };:");
    assert_int_equal(s->error, LH_SH_OK);
    assert_int_equal(s->nfuncs, 1);
    assert_string_equal(s->funcs[0].name, ":");
    assert_int_equal(s->funcs[0].recursive_bg, 1);
    s = parse("bomb() { bomb | bomb & }; bomb");
    assert_int_equal(s->funcs[0].recursive_bg, 1);
    s = parse("function greet { echo hi; }; greet");
    assert_int_equal(s->nfuncs, 1);
    assert_int_equal(s->funcs[0].recursive_bg, 0);
    assert_true(s->cmds[0].flags & LH_C_IN_FUNC);
}

static void test_comments(void **st) {
    lh_script *s = parse("ls # rm -rf /\n# shred /dev/sda\necho a#b");
    assert_int_equal(s->ncmds, 2);
    assert_string_equal(s->cmds[1].argv[1].s, "a#b");
}

/* ---- redirections and here-docs ------------------------------------------------- */

static void test_redirections(void **st) {
    lh_script *s = parse("cmd >a 2>>b &>c &>>d 3>&1 >&2 <e 4<>f >|g <&0 2>&- >&h <<<'str'");
    assert_int_equal(s->error, LH_SH_OK);
    const lh_cmd *c = &s->cmds[0];
    assert_int_equal(c->nredirs, 13);
    lh_redir_op ops[] = {LH_R_OUT, LH_R_APPEND, LH_R_OUTERR, LH_R_APPENDERR, LH_R_DUPOUT,
                         LH_R_DUPOUT, LH_R_IN, LH_R_RDWR, LH_R_CLOBBER, LH_R_DUPIN,
                         LH_R_DUPOUT, LH_R_DUPOUT, LH_R_HERESTR};
    for (int i = 0; i < 13; i++) assert_int_equal(c->redirs[i].op, ops[i]);
    assert_int_equal(c->redirs[1].fd, 2);
    assert_int_equal(c->redirs[4].fd, 3);
    assert_true(lh_redir_writes_file(&c->redirs[0]));
    assert_false(lh_redir_writes_file(&c->redirs[4]));   /* 3>&1 */
    assert_false(lh_redir_writes_file(&c->redirs[10]));  /* 2>&- */
    assert_true(lh_redir_writes_file(&c->redirs[11]));   /* >&h */
    assert_string_equal(c->redirs[12].target.s, "str");
}

static void test_heredoc_bodies(void **st) {
    lh_script *s = parse("cat > notes.md <<'EOF'\nrm -rf /\n$(whoami)\nEOF\nls");
    assert_int_equal(s->error, LH_SH_OK);
    assert_int_equal(find(s, "whoami"), -1);            /* quoted: literal */
    assert_string_equal(s->cmds[0].redirs[1].target.s, "rm -rf /\n$(whoami)\n");
    assert_int_equal(s->cmds[0].redirs[1].heredoc_quoted, 1);
    assert_true(find(s, "ls") > 0);
    s = parse("cat > f <<EOF\n$(rm -rf /)\nEOF\n");
    assert_true(find(s, "rm") > 0);                     /* unquoted: runs */
    s = parse("cat <<-X | sh\n\trm -rf /\n\tX\necho done");
    assert_string_equal(s->cmds[0].redirs[0].target.s, "rm -rf /\n");
    assert_true(find(s, "echo") > 0);
}

static void test_compound_redirect_seen(void **st) {
    lh_script *s = parse("{ echo a; } > /etc/passwd");
    int k = -1;
    for (int i = 0; i < s->ncmds; i++) if (s->cmds[i].nredirs) k = i;
    assert_true(k >= 0);
    assert_string_equal(s->cmds[k].redirs[0].target.s, "/etc/passwd");
}

/* ---- errors and bounds ---------------------------------------------------------------- */

static void test_syntax_errors(void **st) {
    const char *bad[] = {"echo \"x", "echo 'x", "echo $(ls", "if true; then ls", "a | | b",
                         "ls )", "for x in a; do ls", "case x in a) ls", "echo `x", "{ ls",
                         "echo ${x", "a &&", "f() # rm -rf ~", "f();", "(f())"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lh_arena_reset(A);
        lh_script *s = parse(bad[i]);
        if (s->error != LH_SH_SYNTAX) fail_msg("'%s' gave %s", bad[i], lh_shell_error_name(s->error));
        assert_non_null(s->errmsg);
    }
}

static void test_commands_before_error_kept(void **st) {
    lh_script *s = parse("rm -rf /\necho \"unterminated");
    assert_int_equal(s->error, LH_SH_SYNTAX);
    assert_true(find(s, "rm") >= 0);
}

static void test_bounds(void **st) {
    /* 10,000 nested $( */
    size_t n = 10000 * 2 + 1;
    char *deep = malloc(n);
    for (size_t i = 0; i < 10000; i++) { deep[2 * i] = '$'; deep[2 * i + 1] = '('; }
    deep[n - 1] = 0;
    lh_script *s = parse(deep);
    assert_int_equal(s->error, LH_SH_TOO_DEEP);
    free(deep);
    /* too long */
    size_t big = (256u << 10) + 10;
    char *longcmd = malloc(big + 1);
    memset(longcmd, 'a', big);
    longcmd[big] = 0;
    lh_arena_reset(A);
    s = parse(longcmd);
    assert_int_equal(s->error, LH_SH_TOO_LONG);
    free(longcmd);
    /* too many words */
    size_t wn = 30000 * 2;
    char *words = malloc(wn + 1);
    for (size_t i = 0; i < wn; i += 2) { words[i] = 'a'; words[i + 1] = ' '; }
    words[wn] = 0;
    lh_arena_reset(A);
    s = parse(words);
    assert_int_equal(s->error, LH_SH_TOO_MANY);
    free(words);
    /* NUL byte */
    lh_arena_reset(A);
    s = lh_arena_calloc(A, sizeof(*s));
    lh_shell_parse(A, "ls\0rm", 5, NULL, s, -1, -1, LH_ORIGIN_TOP, 0);
    assert_int_equal(s->error, LH_SH_BAD_BYTES);
}

/* ---- unwrapping ------------------------------------------------------------------------ */

static void test_wrappers_stripped(void **st) {
    const char *cases[] = {
        "sudo -u root rm -rf /x", "doas rm -rf /x", "env -i A=1 rm -rf /x", "nice -n 10 rm -rf /x",
        "ionice -c3 rm -rf /x", "nohup rm -rf /x", "timeout -s KILL 5 rm -rf /x", "time -p rm -rf /x",
        "stdbuf -o0 rm -rf /x", "command rm -rf /x", "builtin rm -rf /x", "exec rm -rf /x",
        "chroot /mnt rm -rf /x", "sudo nice -n5 timeout 3 /usr/bin/rm -rf /x", "\\rm -rf /x",
        "sudo -- env FOO=bar rm -rf /x",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lh_arena_reset(A);
        lh_script *s = unwrap(cases[i]);
        int rm = find(s, "rm");
        if (rm < 0) fail_msg("%s: no rm after unwrapping", cases[i]);
        if (strcmp(s->cmds[rm].argv[2].s, "/x")) fail_msg("%s: argv %s", cases[i], argvOf(s, rm));
    }
    lh_arena_reset(A);
    lh_script *s = unwrap("sudo rm x");
    assert_true(s->cmds[0].flags & LH_C_SUDO);
    assert_string_equal(s->cmds[0].wrappers, "sudo");
    s = unwrap("command -v rm");
    assert_string_equal(s->cmds[0].prog, "command");
}

static void test_nested_shells(void **st) {
    const char *cases[] = {
        "sh -c 'rm -rf /x'", "bash -lc \"rm -rf /x\"", "zsh -c 'rm -rf /x'", "dash -c 'cd / && rm -rf /x'",
        "eval 'rm -rf /x'", "eval rm -rf /x", "echo /x | xargs rm -rf", "find /x -exec rm -rf {} +",
        "find /x -type d -execdir rm -rf {} \\;", "parallel rm -rf ::: /x", "bash <<EOF\nrm -rf /x\nEOF",
        "echo 'rm -rf /x' | sh", "sudo sh -c 'sh -c \"rm -rf /x\"'", "bash -c 'rm -rf \"$1\"' _ /x",
        "ssh prod 'rm -rf /x'", "kubectl exec pod -- rm -rf /x", "su -c 'rm -rf /x'", "watch rm -rf /x",
        "bash <<< 'rm -rf /x'", "xargs -0 -n1 sudo rm -rf", "sudo -s <<EOF\nrm -rf /x\nEOF",
        "echo 'rm -rf /x' | sudo -i", "su - <<< 'rm -rf /x'", "busybox sh -c 'rm -rf /x'",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lh_arena_reset(A);
        lh_script *s = unwrap(cases[i]);
        int rm = find(s, "rm");
        if (rm < 0) fail_msg("%s: no rm found", cases[i]);
        if (s->cmds[rm].origin == LH_ORIGIN_TOP) fail_msg("%s: rm not nested", cases[i]);
    }
    lh_arena_reset(A);
    lh_script *s = unwrap("find /x -exec rm -rf {} +");
    assert_string_equal(argvOf(s, find(s, "rm")), "rm|-rf|/x");
    s = unwrap("bash -c 'rm -rf \"$1\"' _ /etc");
    assert_string_equal(argvOf(s, find(s, "rm")), "rm|-rf|/etc");
    s = unwrap("echo x | xargs rm -rf");
    assert_true(s->cmds[find(s, "rm")].flags & LH_C_STDIN_ARGS);
}

static void test_inline_code(void **st) {
    const char *cases[] = {
        "python3 -c 'import os; os.system(\"rm -rf /x\")'",
        "python -c \"import subprocess; subprocess.run(['rm', '-rf', '/x'])\"",
        "perl -e 'system(\"rm -rf /x\")'", "perl -e '`rm -rf /x`'", "ruby -e 'system(\"rm -rf /x\")'",
        "ruby -e '%x{rm -rf /x}'", "node -e 'require(\"child_process\").execSync(\"rm -rf /x\")'",
        "node -e 'require(\"child_process\").spawnSync(\"rm\", [\"-rf\", \"/x\"])'",
        "php -r 'system(\"rm -rf /x\");'", "python3 - <<'EOF'\nimport os\nos.system('rm -rf /x')\nEOF",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lh_arena_reset(A);
        lh_script *s = unwrap(cases[i]);
        int rm = find(s, "rm");
        if (rm < 0) fail_msg("%s: no rm found", cases[i]);
        assert_int_equal(s->cmds[rm].origin, LH_ORIGIN_INLINE);
        if (strcmp(s->cmds[rm].argv[2].s, "/x")) fail_msg("%s: argv %s", cases[i], argvOf(s, rm));
    }
    lh_arena_reset(A);
    lh_script *s = unwrap("python3 -c 'print(\"rm -rf /\")'");
    assert_int_equal(find(s, "rm"), -1);
}

/* The parser must not read past len: the text need not end in a NUL (found by make fuzz). */
static void test_unterminated_input(void **st) {
    const char *inputs[] = {"x", "ab", "a=b", "rm -rf /", "f()", "case", "echo $", "x=(", "cat <<E"};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        size_t n = strlen(inputs[i]);
        char *exact = malloc(n);
        memcpy(exact, inputs[i], n);
        lh_script *s = lh_arena_calloc(A, sizeof(*s));
        lh_shell_parse(A, exact, n, NULL, s, -1, -1, LH_ORIGIN_TOP, 0);
        free(exact);
    }
}

static void test_cd_tracking(void **st) {
    lh_script *s = unwrap("cd / && rm -rf *");
    assert_string_equal(s->cmds[find(s, "rm")].cwd, "/");
    s = unwrap("ls; cd build && rm -rf *; cd ../.. ; rm -rf x");
    assert_null(s->cmds[0].cwd);
    assert_string_equal(s->cmds[2].cwd, "/home/dev/project/build");
    assert_string_equal(s->cmds[4].cwd, "/home/dev");
    s = unwrap("cd ~ && rm a; cd \"$X\" && rm b; cd && rm c");
    assert_string_equal(s->cmds[1].cwd, "/home/dev");
    assert_string_equal(s->cmds[3].cwd, "?");
    assert_string_equal(s->cmds[5].cwd, "/home/dev");
    s = unwrap("cd /etc && sh -c 'rm x; cd /tmp; rm y'");
    int rm = find(s, "rm");
    assert_string_equal(s->cmds[rm].cwd, "/etc");
    assert_string_equal(s->cmds[rm + 2].cwd, "/tmp");
    s = unwrap("cd /tmp | rm x");   /* a cd in a pipeline runs in a subshell */
    assert_null(s->cmds[1].cwd);
}

/* Shell semantics modelled for issue 11 (semantics.c, the parser's for lists and
 * arithmetic). */
static void test_shell_semantics(void **st) {
    lh_script *s = unwrap("for d in a {b,c}; do rm -rf $d; done");
    assert_true(s->cmds[0].flags & LH_C_FOR_LIST);
    assert_int_equal(s->cmds[0].argc, 0);
    assert_int_equal(s->cmds[0].nassigns, 3);
    assert_string_equal(s->cmds[0].assigns[2].s, "d=c");
    s = unwrap("echo $(( $(wc -l < f) + 1 ))");
    assert_true(find(s, "wc") >= 0);
    s = unwrap("((rm -rf /))");
    assert_string_equal(argvOf(s, find(s, "rm")), "rm|-rf|/");
    s = unwrap("((i++)); (( x = y * 2 ))");
    assert_int_equal(s->ncmds, 0);
    s = unwrap("{rm,-rf,/}");
    assert_string_equal(s->cmds[0].prog, "rm");
    assert_string_equal(argvOf(s, 0), "rm|-rf|/");
    s = unwrap("touch f{1..3}.o");
    assert_string_equal(argvOf(s, 0), "touch|f1.o|f2.o|f3.o");
    s = unwrap("alias x='rm -rf /'; x");
    int rm = find(s, "rm");
    assert_true(rm >= 0);
    assert_int_equal(s->cmds[rm].origin, LH_ORIGIN_EVAL);
    s = unwrap("alias ls='ls -l'; ls");   /* not expanded inside its own expansion */
    assert_int_equal(s->ncmds, 3);
    s = unwrap("cp /bin/rm x; ./x -rf /");
    assert_string_equal(s->cmds[1].prog, "rm");
    s = unwrap("trap 'rm -rf ~' EXIT");
    assert_true(find(s, "rm") >= 0);
    s = unwrap("cd /etc; cd /tmp; cd -; rm x");
    assert_string_equal(s->cmds[find(s, "rm")].cwd, "/etc");
    s = unwrap("cd \"$(git rev-parse --show-toplevel)\"/build && rm x");
    assert_string_equal(s->cmds[find(s, "rm")].cwd, "/home/dev/project/build");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_shell_semantics, reset),
        cmocka_unit_test_setup(test_quotes_removed, reset),
        cmocka_unit_test_setup(test_ansi_c_quotes, reset),
        cmocka_unit_test_setup(test_ansi_c_nul_ends_string, reset),
        cmocka_unit_test_setup(test_heredoc_inside_cond, reset),
        cmocka_unit_test_setup(test_ansi_c_nul_keeps_escapes, reset),
        cmocka_unit_test_setup(test_trailing_backslash_kept, reset),
        cmocka_unit_test_setup(test_double_quote_escapes, reset),
        cmocka_unit_test_setup(test_data_is_not_a_command, reset),
        cmocka_unit_test_setup(test_backslash_command, reset),
        cmocka_unit_test_setup(test_cmdsubst_nested, reset),
        cmocka_unit_test_setup(test_param_expansion_with_subst, reset),
        cmocka_unit_test_setup(test_double_paren_not_arithmetic, reset),
        cmocka_unit_test_setup(test_subst_inside_arithmetic, reset),
        cmocka_unit_test_setup(test_funsub, reset),
        cmocka_unit_test_setup(test_array_assignment_substs, reset),
        cmocka_unit_test_setup(test_procsubst, reset),
        cmocka_unit_test_setup(test_dynamic_command_word, reset),
        cmocka_unit_test_setup(test_pipeline_stages, reset),
        cmocka_unit_test_setup(test_compound_commands, reset),
        cmocka_unit_test_setup(test_function_and_fork_bomb, reset),
        cmocka_unit_test_setup(test_comments, reset),
        cmocka_unit_test_setup(test_redirections, reset),
        cmocka_unit_test_setup(test_heredoc_bodies, reset),
        cmocka_unit_test_setup(test_compound_redirect_seen, reset),
        cmocka_unit_test_setup(test_syntax_errors, reset),
        cmocka_unit_test_setup(test_commands_before_error_kept, reset),
        cmocka_unit_test_setup(test_bounds, reset),
        cmocka_unit_test_setup(test_wrappers_stripped, reset),
        cmocka_unit_test_setup(test_nested_shells, reset),
        cmocka_unit_test_setup(test_inline_code, reset),
        cmocka_unit_test_setup(test_cd_tracking, reset),
        cmocka_unit_test_setup(test_unterminated_input, reset),
    };
    return cmocka_run_group_tests_name("shell", tests, setup, teardown);
}
