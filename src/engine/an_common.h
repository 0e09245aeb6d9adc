/* an_common.h — what the built-in analyzers (src/engine/an_*.c) share.
 *
 * analyze.c walks the request and calls one handler per simple command, chosen by
 * program name from a sorted table. Handlers get an an_state (the ctx plus the
 * script's known variables) and a command view whose argv starts at the program
 * (after the unwrapper, after resolving `$RM` when the script set RM=rm, after
 * "busybox"). They emit findings with lh_emit()/lh_emit_full().
 *
 * Internal to src/engine/. No I/O, no globals that change, no malloc: everything
 * transient lives in the request's arena. */
#ifndef LH_AN_COMMON_H
#define LH_AN_COMMON_H

#include "engine/analyze.h"
#include "engine/feeds.h"

#define AN_MAX_VARS 32
#define AN_MAX_LINKS 32        /* symbolic links made by the script that paths resolve through */
#define AN_MAX_LOOP_ITEMS 16   /* items of one `for` list judged one by one */
#define AN_MAX_LOOPS 8         /* `for` lists judged item by item per call */
#define AN_MAX_LOOP_PASSES 64  /* item combinations of one nest of loops */
/* How far apart (in commands) two related commands may be for the analyzers to look
 * for one from the other (pipeline stages, a download and its use). Bounds the work on
 * scripts with thousands of commands. */
#define AN_WINDOW 512
#define AN_LO(i) ((i) > AN_WINDOW ? (i) - AN_WINDOW : 0)
#define AN_HI(i, n) ((i) + AN_WINDOW < (n) ? (i) + AN_WINDOW : (n))

/* A symbolic link the script makes (`ln -s TARGET NAME`): both normalised. */
typedef struct an_link {
    const char *name;
    const char *target;
} an_link;

/* NAME=value seen in the script (a plain assignment, or export/declare/local). */
typedef struct an_var {
    const char *name;
    size_t nlen;
    const char *val;
    int cmd;             /* index of the command that set it */
    int16_t item;        /* 1-based item of a `for` list: > 0 a literal value, < 0 a
                            run-time one (`$(ls)`); 0: not a loop item */
    int16_t loop;        /* the list's index in an_state.loops when item != 0 */
} an_var;

/* A `for NAME in WORDS` list judged item by item (loopvars.c). Loops nested in one
 * another form a nest whose passes go through every combination of their items. */
typedef struct an_loop {
    int cmd, end;        /* the list's command; its body is cmds[cmd+1 .. end) */
    int16_t n;           /* items (<= AN_MAX_LOOP_ITEMS) */
    int16_t stride;      /* passes per item: the items of the nest's earlier loops, multiplied */
    int16_t nest;        /* index of the nest's outermost loop */
    int16_t passes;      /* outermost loop: the nest's item combinations (<= AN_MAX_LOOP_PASSES) */
} an_loop;

typedef struct an_state {
    lh_ctx *c;
    an_var vars[AN_MAX_VARS];
    int nvars;
    int var_used;        /* a script variable was substituted for the current command */
    int pass;            /* which combination of `for` items the loop variables take */
    int loop_items;      /* the most combinations of any nest of loops (passes needed) */
    an_loop loops[AN_MAX_LOOPS];
    int nloops;
    uint64_t dropped;    /* hash bits of names set past AN_MAX_VARS: not known */
    const lh_cmd *frame; /* the call whose arguments $1…$9, $@, $* take while a
                            function body is judged for it; NULL otherwise */
    int frame_arg;       /* the argument $@ and $* stand for in this pass */
    an_link links[AN_MAX_LINKS];   /* an_path resolves NAME/… through them */
    int nlinks;          /* AN_MAX_LINKS + 1: the script made more (engine.budget) */
} an_state;

typedef void (*an_fn)(an_state *s, int idx, const lh_cmd *cmd);

/* ---- loopvars.c: loop variables and names set at run time ---------------------- */

/* The value of a name the script sets at run time (read, unset, NAME+=…): unknown, so a
 * use keeps its reference as written. Compared by address. */
extern const char an_var_unknown[];

/* Record NAME (n bytes) = val set by command idx. Past AN_MAX_VARS the name is marked
 * dropped (an_var_dropped) and NULL is returned. */
an_var *an_var_add(an_state *s, int idx, const char *name, size_t n, const char *val);
int an_var_dropped(const an_state *s, const char *name, size_t n);

/* The `for` list at idx (LH_C_FOR_LIST): its items become values of its name, judged
 * one per pass; past the caps (items, loops, passes, variables) the name is unknown. */
void an_loop_collect(an_state *s, int idx, const lh_cmd *cmd);

/* Names cmd sets at run time (read, mapfile, readarray, getopts, unset, let, printf -v)
 * become unknown from idx on. */
void an_loop_setters(an_state *s, int idx, const lh_cmd *cmd);

/* The 1-based item the name of loop k takes on pass s->pass. */
int an_loop_item(const an_state *s, int k);

/* ---- analyze.c: shared helpers ------------------------------------------------ */

/* The command at idx as stored in the script (not the resolved view). */
static inline const lh_cmd *an_at(const an_state *s, int idx) { return &s->c->script->cmds[idx]; }

/* Classify a word used as a path by command idx: script variables are substituted
 * first ("$D" after D=/etc), then lh_path_classify(). */
lh_path_class an_path(an_state *s, int idx, const char *text, lh_path *out);

/* text with the script's variables substituted (or text itself). */
const char *an_expand(an_state *s, int idx, const char *text);

/* Run the handler for a command view (python -m twine → twine's handler). */
void an_dispatch(an_state *s, int idx, const lh_cmd *view);

/* Parse text as a script run by command idx (a here-doc fed to sudo -s, cat <<EOF |
 * sh): its commands are appended to the script and analysed in turn. */
void an_parse_child(an_state *s, int idx, const char *text, size_t len, lh_origin origin);

/* Collect the operands of cmd from argv[from]: words that are neither options nor
 * option values. short_arg lists the short options that take a value, long_arg the
 * long ones ("--output"; NULL-terminated, may be NULL). After "--" all words are
 * operands. Returns how many were stored (at most max). */
int an_operands(const lh_cmd *cmd, int from, const char *short_arg,
                const char *const *long_arg, int *idx, int max);

/* The value of option -ch / long_name ("-XPOST", "-X POST", "--request=POST",
 * "--request POST"), or NULL. ch may be 0, long_name NULL. */
const char *an_opt_value(const lh_cmd *cmd, char ch, const char *long_name);

/* True when argv[from..] has the exact word w, "--" and the words after it included. */
int an_has_word(const lh_cmd *cmd, int from, const char *w);

/* Case-insensitive ASCII comparisons. */
int an_ieq(const char *a, const char *b);
int an_istarts(const char *s, const char *prefix);
const char *an_istr(const char *hay, const char *needle);

/* Program classes. */
int an_is_shell(const char *prog);
int an_is_interp(const char *prog);

/* Does stdin of this shell or interpreter become code (no script operand, "-",
 * -s, /dev/stdin)? */
int an_reads_code_from_stdin(const lh_cmd *cmd);

/* The host of a URL or host word ("https://u@h:1/x" → "h"); writes into buf. */
const char *an_url_host(const char *url, char *buf, size_t cap);
/* localhost, 127.x, ::1, 0.0.0.0, *.localhost, host.docker.internal. */
int an_is_loopback_host(const char *host);

/* Does the output of command idx reach something that runs it as code (a shell or
 * interpreter reading stdin, sh <(…), bash -c "$(…)", eval, source, a command word)?
 * Returns the index of that command, or -1. */
int an_flows_to_exec(an_state *s, int idx);
/* Does the output of command idx reach a network sender (curl, nc, ssh, scp…)?
 * Returns its index or -1; *loopback is set when every destination is local. */
int an_flows_to_sender(an_state *s, int idx, int *loopback);

/* ---- the shared judging layer: any family may call these ------------------------ *
 * A family (an_fs.c, an_net.c, …) calls analyze.c and this layer rather than another
 * family, so each judgement has one home whichever command reaches it. What still
 * crosses is dispatch, not judgement: an_data_dispatch chains the pack and ops tables
 * (an_packs.c, an_ops.c), and an_mcp.c, which sorts an MCP tool's arguments as analyze.c
 * sorts tool calls, hands SQL text to an_db.c's scanner (an_db_sql_text). */

/* an_shared.c */
#define AN_W_WRITE  0   /* overwrite, append, truncate */
#define AN_W_CREATE 1   /* mkdir, touch: creates, never destroys */
/* Judge a write to the path word text by command idx. */
void an_fs_write_target(an_state *s, int idx, const char *text, int how);
/* Judge the deletion of the path word text (recursive/forced as rm -r/-f);
 * filtered when only matching entries go (find -name … -delete). */
void an_fs_delete_target(an_state *s, int idx, const char *text, int recursive, int forced,
                         int filtered);
/* Judge the deletion of paths command idx reads from stdin (xargs): the upstream find's
 * start paths or a literal list. Returns 0 when they are not known. */
int an_fs_stdin_targets(an_state *s, int idx, int recursive, int forced);
/* find: its expressions narrow what matches (-name, -mtime…); its start points (argv
 * indexes, at most max; none means "."). */
int an_find_has_filter(const lh_cmd *f);
int an_find_starts(const lh_cmd *f, int *idx, int max);
/* The pipeline stage that feeds the xargs running command idx, or NULL. */
const lh_cmd *an_xargs_feeder(an_state *s, int idx);
/* The paths a listing stage (find, grep -rl, rg -l, ls, echo) passes on: how many (in
 * out), 0 with *dot for the cwd, -1 when not known; *filtered when only some files go. */
int an_feeder_paths(const lh_cmd *up, const char **out, int max, int *dot, int *filtered);
/* Emit rule r with action act (an escalation at most medium risk) for command idx. */
void an_emit_as(an_state *s, int idx, lh_rule_id r, lh_action act, const char *subject);
/* Is the normalised path under a temp dir (/tmp, /var/tmp, /dev/shm, macOS's)? */
int an_in_temp_dir(const char *norm);
/* Report that command idx reads the secret named subject: exfiltration when the
 * command sends it or its output reaches a network sender, else secret.read. */
void an_net_secret_used(an_state *s, int idx, const char *subject);
/* Is the path one of Lighthouse's own files (programs, data dir, policy, hook settings)? */
int an_self_path(const lh_ctx *c, const lh_path *p);
/* Report self.tamper when p is one of them (returns 1), else 0. */
int an_self_guard(an_state *s, int idx, const lh_path *p);
/* Framework commands that drop or recreate the database (rake db:drop, prisma migrate
 * reset, manage.py flush…); also the handler of those programs. */
void an_db_framework(an_state *s, int idx, const lh_cmd *cmd);
/* Does a script or target name say it deploys or releases ("deploy.sh", "release")? */
int an_is_deploy_name(const char *name);

/* an_url.c */
/* Judge the destination of a URL or host word used by command idx (-1: the request):
 * cloud metadata, link-local, private and internal hosts are escalated unless the
 * policy's settings.allowed_hosts lists them. Returns 1 when it reported. */
int an_url_check(lh_ctx *c, int idx, const char *url);
/* curl --unix-socket PATH: the Docker/Podman engine socket is net.docker-api. */
int an_url_socket_check(lh_ctx *c, int idx, const char *path);
void an_url_webfetch(lh_ctx *c);

/* an_ctx.c: context that makes an everyday call safe. */
/* Drop the database-wipe findings of command idx (from findings[from]) when it targets
 * a local test or dev database. */
void an_ctx_test_db(an_state *s, int idx, const lh_cmd *cmd, int from);
/* cp .env.example .env (sources ops[0..n)) into the project: no write finding. */
int an_ctx_env_copy(an_state *s, int idx, const lh_cmd *cmd, const int *ops, int n, const char *dest);
/* >> .env, or cat .env.example > .env, in the project. */
int an_ctx_env_redirect(an_state *s, int idx, const lh_cmd *cmd, const lh_redir *rd);
/* Is the normalised path inside a tool cache under home (~/.cache/X, ~/.npm/_cacache…)? */
int an_ctx_home_cache(const lh_ctx *c, const char *norm);
/* bash -n / sh -n / -o noexec: the shell only parses. */
int an_syntax_only(const lh_cmd *cmd);

/* ---- per-family handlers --------------------------------------------------------- */

/* an_fs.c */
void an_fs_rm(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_rmdir(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_cp(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_mv(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_ln(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_install(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_tee(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_truncate(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_sed(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_create(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_find(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_extract(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_shred(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_redirs(an_state *s, int idx, const lh_cmd *cmd);
void an_fs_dynamic(an_state *s, int idx, const lh_cmd *cmd);


/* an_disk.c */
void an_disk_dd(an_state *s, int idx, const lh_cmd *cmd);
void an_disk_mkfs(an_state *s, int idx, const lh_cmd *cmd);
void an_disk_wipe(an_state *s, int idx, const lh_cmd *cmd);
void an_disk_fallocate(an_state *s, int idx, const lh_cmd *cmd);
/* an_sys.c: does a chmod/install mode set the setuid or setgid bit (4755, u+s)? */
int an_sys_mode_setuid(const char *mode);
/* an_data.c: a package named by a URL or a VCS source (git+…, github:…, https://…). */
int an_pkg_url_spec(const char *w);
void an_disk_partition(an_state *s, int idx, const lh_cmd *cmd);
void an_disk_volume(an_state *s, int idx, const lh_cmd *cmd);
void an_disk_fsck(an_state *s, int idx, const lh_cmd *cmd);
void an_disk_rescue(an_state *s, int idx, const lh_cmd *cmd);
/* The table entry a disk tool is judged by ("dcfldd" → "dd", "mkfs.ext4"/"mkntfs" →
 * "mkfs", "pvcreate" → "wipefs", "tune2fs" → "fsck"), or NULL. */
const char *an_disk_family(const char *prog);

/* an_git.c */
void an_git(an_state *s, int idx, const lh_cmd *cmd);

/* an_sys.c */
void an_sys_shutdown(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_init(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_systemctl(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_service(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_kill(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_pkill(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_chmod(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_crontab(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_account(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_sysctl(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_mount(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_firewall(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_pkg(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_langpkg(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_misc(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_su(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_sudo_rest(an_state *s, int idx, const lh_cmd *cmd);
void an_sys_generic_sudo(an_state *s, int idx, const lh_cmd *cmd);

/* an_net.c */
void an_net_fetch(an_state *s, int idx, const lh_cmd *cmd);
void an_net_interp(an_state *s, int idx, const lh_cmd *cmd);
void an_net_decoder(an_state *s, int idx, const lh_cmd *cmd);
void an_net_reader(an_state *s, int idx, const lh_cmd *cmd);
void an_net_envdump(an_state *s, int idx, const lh_cmd *cmd);
void an_net_nc(an_state *s, int idx, const lh_cmd *cmd);
void an_net_ssh(an_state *s, int idx, const lh_cmd *cmd);
void an_net_scp(an_state *s, int idx, const lh_cmd *cmd);
void an_net_tunnel(an_state *s, int idx, const lh_cmd *cmd);
void an_net_secret_tool(an_state *s, int idx, const lh_cmd *cmd);
void an_net_redir_inputs(an_state *s, int idx, const lh_cmd *cmd);
int an_is_decoder(const lh_cmd *cmd);

/* an_self.c: Lighthouse's own files and processes. */
/* chmod/chown/chattr/setfacl/shred of those files; kill, pkill, systemctl, service
 * that stop the bridge. */
void an_self_command(an_state *s, int idx, const lh_cmd *cmd);

/* an_mcp.c: an MCP tool's path and URL arguments, judged as Read, Write or a deletion
 * by the verb of its name. */
void an_mcp(lh_ctx *c);

/* an_db.c */
void an_db_sql(an_state *s, int idx, const lh_cmd *cmd);
void an_db_redis(an_state *s, int idx, const lh_cmd *cmd);
void an_db_mongo(an_state *s, int idx, const lh_cmd *cmd);
void an_db_admin(an_state *s, int idx, const lh_cmd *cmd);
/* SQL text given as a tool argument (an MCP query tool): judged for what it does. */
void an_db_sql_text(lh_ctx *c, const char *sql);

/* an_data.c: runs after the program's handler (an_dispatch), for every command */
void an_data_dispatch(an_state *s, int idx, const lh_cmd *view);
int an_data_table_sorted(void);
/* an_packs.c: the rule packs (pack.*), switched on or off by the policy's packs: */
void an_packs_dispatch(an_state *s, int idx, const lh_cmd *view);
/* an_ops.c: config-store writes, Kafka record deletion, Salt, ports on every interface. */
void an_ops_dispatch(an_state *s, int idx, const lh_cmd *view);
int an_packs_table_sorted(void);

/* an_infra.c */
void an_infra_terraform(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_iac(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_kubectl(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_helm(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_ansible(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_aws(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_gcloud(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_az(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_cloudcli(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_docker(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_compose(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_publish(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_gh(an_state *s, int idx, const lh_cmd *cmd);
void an_infra_deploy(an_state *s, int idx, const lh_cmd *cmd);
/* an_send.c: credentials sent as files (rclone, s3cmd, mutt -a, mail -A, git send-email). */
void an_send_dispatch(an_state *s, int idx, const lh_cmd *cmd);
/* an_cmdtext.c: command text given to pwsh -Command, fc -s after history -s, tox -x. */
void an_cmdtext_dispatch(an_state *s, int idx, const lh_cmd *cmd);
/* an_cmdtext.c: does the shell -c dst run what it reads (sh -c 'sh', bash -c 'source
 * /dev/stdin', sh -c 'cat | sh', xargs -I{} sh -c {}), or does tee dst feed a shell in >(…)? */
int an_cmdtext_runs_stdin(an_state *s, int dst);

#endif
