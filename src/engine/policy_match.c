/* policy_match.c — operator policy as code, the hot half: match the compiled policy
 * (policy_int.h, built by policy_load.c) on every decision.
 *
 * lh_policy_match adds a finding for every rule that matches; lh_policy_adjust applies
 * the analyzer settings and the overrides of allow rules. Rules that name literal
 * programs sit in a hash keyed by program, the rest in short lists; cheap keys are
 * checked before paths and regexes. The only memory used per decision comes from the
 * ctx arena (findings, path classification, PCRE2 match data).
 *
 * The format is documented in docs/policy.md. */
#include "engine/policy_int.h"
#include "engine/packs.h"

#include <stdint.h>
#include <string.h>

#include "engine/analyze.h"
#include "engine/paths.h"
#include "engine/rules.h"

#define CV_PATHS       32       /* path operands classified once per command */

/* ------------------------------------------------------------------------------ */
/* Globs                                                                           */
/* ------------------------------------------------------------------------------ */

/* Match one pattern element at *pp against ch; on a match advance *pp past it. */
static int globChar(const char **pp, unsigned char ch, int pathmode) {
    const char *p = *pp;
    if (*p == '?') {
        if (pathmode && ch == '/') return 0;
        *pp = p + 1;
        return 1;
    }
    if (*p == '[') {
        const char *q = p + 1;
        int neg = 0, hit = 0;
        if (*q == '!' || *q == '^') { neg = 1; q++; }
        const char *start = q;
        while (*q && (*q != ']' || q == start)) {
            unsigned char lo = (unsigned char)*q, hi = lo;
            if (q[1] == '-' && q[2] && q[2] != ']') { hi = (unsigned char)q[2]; q += 2; }
            if (ch >= lo && ch <= hi) hit = 1;
            q++;
        }
        if (*q == ']') {                 /* a well-formed class */
            if (pathmode && ch == '/') return 0;
            if (hit == neg) return 0;
            *pp = q + 1;
            return 1;
        }
        /* no closing ]: the [ is literal */
    }
    if (*p == '\\' && p[1]) p++;
    if ((unsigned char)*p != ch) return 0;
    *pp = p + 1;
    return 1;
}

/* Iterative glob with two backtrack points: the last single * (which in pathmode stays
 * inside one path segment) and the last ** (which crosses segments). Linear-ish: no
 * recursion, so a hostile pattern cannot blow the stack. */
int lh_policy_glob_match(const char *pat, const char *s, int pathmode) {
    const char *p = pat;
    const char *sp = NULL, *ss = NULL;       /* single star: pattern after it, text */
    const char *dp = NULL, *ds = NULL;       /* double star */
    int dslash = 0;                          /* the ** was "**" followed by '/' */
    for (;;) {
        if (*p == '*') {
            int n = 0;
            while (*p == '*') { p++; n++; }
            if (!pathmode || n >= 2) {
                dslash = pathmode && *p == '/' && (p - n == pat || p[-n - 1] == '/');
                if (dslash) p++;             /* "**" + "/" spans whole segments */
                dp = p; ds = s; sp = NULL;
                if (!*p && !dslash) return 1;
            } else {
                sp = p; ss = s;
            }
            continue;
        }
        if (!*s) {
            if (!*p) return 1;
            if (pathmode && p[0] == '/' && p[1] == '*' && p[2] == '*' && !p[3]) return 1;
            if (dslash && dp == p && !*p) return 1;
            return 0;
        }
        if (*p && globChar(&p, (unsigned char)*s, pathmode)) { s++; continue; }
        if (sp && *ss && *ss != '/') { ss++; s = ss; p = sp; continue; }
        if (dp && *ds) {
            if (dslash) {
                const char *sl = strchr(ds, '/');
                if (!sl) return 0;
                ds = sl + 1;
            } else {
                ds++;
            }
            s = ds; p = dp; sp = NULL;
            continue;
        }
        return 0;
    }
}

int lh_policy_host_allowed(const lh_policy *p, const char *host) {
    if (!p || !host) return 0;
    for (int i = 0; i < p->nallowed_hosts; i++)
        if (lh_policy_glob_match(p->allowed_hosts[i], host, 0)) return 1;
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Matching: per-decision state (on the stack)                                     */
/* ------------------------------------------------------------------------------ */

/* Regex results are cached per decision, since the text they see is the same for every
 * command: bit i of done/hit for regex slot i < 64, and more[i - 64] (0 not run, 1 no
 * match, 2 a match) past it, in the arena when first needed: a policy of more than 64
 * regex rules ran each again for every command, over the whole command text. */
typedef struct rxstate {
    uint64_t done, hit;
    pcre2_match_data *md;
    unsigned char *more;
} rxstate;

/* One path source of a command: its word, and what is known about it so far. */
typedef struct pitem {
    const lh_word *w;
    int argi;             /* argv index, -1 for a redirection target */
    int state;            /* 0 nothing yet, 1 p.norm only (fast path), 2 classified */
    lh_path p;
} pitem;

/* What one command offers to the rules, computed lazily and at most once. */
typedef struct cview {
    lh_ctx *c;
    const lh_cmd *cmd;
    int idx;
    int sub;              /* argv index of the subcommand; -1 none; -2 not computed */
    int shorts_done;
    uint64_t shorts;
    int npaths;           /* -1 not computed */
    int ncached;
    pitem paths[CV_PATHS];
} cview;

static void cvInit(cview *cv, lh_ctx *c, int idx) {
    cv->c = c;
    cv->idx = idx;
    cv->cmd = idx >= 0 && c->script ? &c->script->cmds[idx] : NULL;
    cv->sub = -2;
    cv->shorts_done = 0;
    cv->shorts = 0;
    cv->npaths = -1;
    cv->ncached = 0;
}

static int isOption(const char *s) { return s[0] == '-' && s[1] != 0; }

/* Options whose value is a separate word, per program, so "git -C dir push" has the
 * subcommand "push". Only the common global options of tools with subcommands. */
static const struct { const char *prog; const char *const opts[10]; } valueOpts[] = {
    {"git", {"-C", "-c", "--git-dir", "--work-tree", "--namespace", NULL}},
    {"kubectl", {"-n", "--namespace", "--context", "--kubeconfig", "-s", "--server",
                 "--cluster", "--user", NULL}},
    {"helm", {"-n", "--namespace", "--kube-context", "--kubeconfig", NULL}},
    {"docker", {"-H", "--host", "-c", "--context", "--config", "-l", "--log-level", NULL}},
    {"systemctl", {"-H", "--host", "-M", "--machine", NULL}},
    {"aws", {"--profile", "--region", "--output", "--endpoint-url", NULL}},
    {"gh", {"-R", "--repo", NULL}},
    {"cargo", {"-C", "-Z", "--config", NULL}},
    {"npm", {"--prefix", "-w", "--workspace", NULL}},
};

static int takesValue(const char *prog, const char *opt) {
    for (size_t i = 0; i < sizeof(valueOpts) / sizeof(valueOpts[0]); i++) {
        if (strcmp(valueOpts[i].prog, prog)) continue;
        for (int j = 0; valueOpts[i].opts[j]; j++)
            if (!strcmp(valueOpts[i].opts[j], opt)) return 1;
        return 0;
    }
    return 0;
}

static int cvSub(cview *cv) {
    if (cv->sub != -2) return cv->sub;
    const lh_cmd *cmd = cv->cmd;
    cv->sub = -1;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) { if (i + 1 < cmd->argc) cv->sub = i + 1; break; }
        if (!isOption(a)) { cv->sub = i; break; }
        if (takesValue(cmd->prog, a)) i++;
    }
    return cv->sub;
}

static uint64_t cvShorts(cview *cv) {
    if (cv->shorts_done) return cv->shorts;
    cv->shorts_done = 1;
    for (int i = 1; i < cv->cmd->argc; i++) {
        const char *a = cv->cmd->argv[i].s;
        if (a[0] != '-' || !a[1]) continue;
        if (a[1] == '-') { if (!a[2]) break; continue; }
        for (const char *q = a + 1; *q; q++) cv->shorts |= shortBit(*q);
    }
    return cv->shorts;
}

static int hasFlag(cview *cv, const pflag *f) {
    const lh_cmd *cmd = cv->cmd;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-') continue;
        if (!strcmp(a, "--")) break;
        if (!strcmp(a, f->exact)) return 1;
        if (f->longname && a[1] == '-' && !strncmp(a + 2, f->longname, f->longlen) &&
            (a[2 + f->longlen] == 0 || a[2 + f->longlen] == '='))
            return 1;
    }
    return f->shorts && (cvShorts(cv) & f->shorts) == f->shorts;
}

/* The path sources of a command, in order: its operands (argv words that are not
 * options, everything after "--"), then the targets of file redirections. */
static int isFileRedir(const lh_redir *r) {
    return lh_redir_writes_file(r) || r->op == LH_R_IN;
}

/* The normalised absolute form of a word that needs no normalising ("/srv/a/b",
 * "build/x"), without the cost of classifying it; NULL when the word holds anything
 * lh_path_classify() would resolve ($, ~, ".", "..", "//", a trailing "/", braces). */
static const char *fastNorm(lh_ctx *c, const lh_word *w) {
    const char *s = w->s;
    size_t len = w->len;
    if (!len || (w->flags & (LH_W_DYNAMIC | LH_W_TILDE | LH_W_SUBST | LH_W_PROCSUBST | LH_W_BRACE)))
        return NULL;
    if (s[0] == '~' || s[len - 1] == '/' || memchr(s, '$', len) || memchr(s, '`', len) ||
        memchr(s, '\\', len) || memchr(s, 0, len))
        return NULL;
    for (size_t i = s[0] == '/' ? 1 : 0; i < len;) {      /* every segment is a real name */
        const char *e = memchr(s + i, '/', len - i);
        size_t n = e ? (size_t)(e - (s + i)) : len - i;
        if (n == 0 || (n == 1 && s[i] == '.') || (n == 2 && s[i] == '.' && s[i + 1] == '.'))
            return NULL;
        i += n + 1;
    }
    if (s[0] == '/') return s;
    if (!c->cwd) return NULL;
    return c->cwd_len == 1 ? lh_arena_printf(c->arena, "/%s", s)
                           : lh_arena_printf(c->arena, "%s/%s", c->cwd, s);
}

/* The path of an item: its normalised form, and its class when need_class. Classifying
 * (lh_path_classify) is the costly part, so a rule with only `path` globs avoids it
 * for plain words. Results are kept in the item. */
static const lh_path *itemPath(cview *cv, pitem *it, int need_class) {
    if (it->state == 2 || (it->state == 1 && !need_class)) return &it->p;
    if (!need_class && it->state == 0) {
        const char *n = fastNorm(cv->c, it->w);
        if (n) {
            it->p.norm = n;
            it->p.cls = LH_PATH_UNKNOWN;
            it->p.flags = 0;
            it->state = 1;
            return &it->p;
        }
    }
    lh_path_classify(cv->c, it->w->s, it->w->len, &it->p);
    if (!it->p.norm) it->p.norm = "";
    it->state = 2;
    return &it->p;
}

/* The same for a plain string (a finding's subject, a tool's file path) into *out. */
static const lh_path *textPath(lh_ctx *c, const char *text, int need_class, lh_path *out) {
    lh_word w = {text, (uint32_t)strlen(text), 0};
    const char *n = need_class ? NULL : fastNorm(c, &w);
    if (n) {
        out->norm = n;
        out->cls = LH_PATH_UNKNOWN;
        out->flags = 0;
        return out;
    }
    lh_path_classify(c, text, w.len, out);
    return out->norm ? out : NULL;
}

static void itemInit(pitem *it, const lh_word *w, int argi) {
    it->w = w;
    it->argi = argi;
    it->state = 0;
}

/* Count the path sources and remember the first CV_PATHS of them. */
static void cvPaths(cview *cv) {
    if (cv->npaths >= 0) return;
    const lh_cmd *cmd = cv->cmd;
    int n = 0, ddash = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const lh_word *w = &cmd->argv[i];
        if (!ddash && !strcmp(w->s, "--")) { ddash = 1; continue; }
        if (!ddash && isOption(w->s)) continue;
        if (n < CV_PATHS) itemInit(&cv->paths[n], w, i);
        n++;
    }
    for (int i = 0; i < cmd->nredirs; i++) {
        if (!isFileRedir(&cmd->redirs[i])) continue;
        if (n < CV_PATHS) itemInit(&cv->paths[n], &cmd->redirs[i].target, -1);
        n++;
    }
    cv->npaths = n;
    cv->ncached = n < CV_PATHS ? n : CV_PATHS;
}

/* Walks a command's path sources in order, in one pass (a command may have thousands):
 * the first CV_PATHS come from the cache, the rest are set up in the caller's *tmp. */
typedef struct pwalk {
    int k, i, r, ddash;
} pwalk;

#define PWALK_INIT {0, 1, 0, 0}

static pitem *nextPath(cview *cv, pwalk *wk, pitem *tmp) {
    const lh_cmd *cmd = cv->cmd;
    while (wk->i < cmd->argc) {
        int i = wk->i++;
        const lh_word *w = &cmd->argv[i];
        if (!wk->ddash && !strcmp(w->s, "--")) { wk->ddash = 1; continue; }
        if (!wk->ddash && isOption(w->s)) continue;
        int k = wk->k++;
        if (k < cv->ncached) return &cv->paths[k];
        itemInit(tmp, w, i);
        return tmp;
    }
    while (wk->r < cmd->nredirs) {
        int r = wk->r++;
        if (!isFileRedir(&cmd->redirs[r])) continue;
        int k = wk->k++;
        if (k < cv->ncached) return &cv->paths[k];
        itemInit(tmp, &cmd->redirs[r].target, -1);
        return tmp;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------ */
/* Matching: keys                                                                  */
/* ------------------------------------------------------------------------------ */

/* pat against a normalised absolute path: "~/x" is under the home, a pattern that
 * starts with neither '/' nor '*' is under the cwd. */
static int pathGlob(const lh_ctx *c, const char *pat, const char *norm) {
    const char *base = NULL;
    size_t blen = 0;
    if (pat[0] == '~') {
        if (!c->home) return 0;
        base = c->home; blen = c->home_len; pat++;
    } else if (pat[0] != '/' && pat[0] != '*') {
        if (!c->cwd) return 0;
        base = c->cwd; blen = c->cwd_len;
    }
    if (base) {
        while (blen > 0 && base[blen - 1] == '/') blen--;   /* "/" → "" */
        if (strncmp(norm, base, blen)) return 0;
        norm += blen;
        if (pat[0] != '/') {            /* relative pattern: the text after "<cwd>/" */
            if (*norm != '/') return 0;
            norm++;
        }
        if (!*norm) norm = pat[0] == '/' ? "/" : "";
    }
    return lh_policy_glob_match(pat, norm, 1);
}

static int pathListMatch(const lh_ctx *c, const plist *l, const char *norm) {
    for (int i = 0; i < l->n; i++)
        if (pathGlob(c, l->v[i], norm)) return 1;
    return 0;
}

/* Does one classified path satisfy the path keys (K_CLASS and K_PATH together)? */
static int pathOk(const lh_ctx *c, unsigned keys, unsigned classes, const plist *globs,
                  const lh_path *p) {
    if ((keys & K_CLASS) && !(classes & (1u << p->cls))) return 0;
    if (keys & K_PATH) {
        if (p->flags & LH_PF_DYNAMIC) return 0;   /* not known until run time */
        if (!pathListMatch(c, globs, p->norm)) return 0;
    }
    return 1;
}

/* The path keys over a command: a deny/escalate rule needs one path that satisfies
 * them, an allow rule needs every path to (and at least one path). */
static int cmdPathsOk(cview *cv, const prule *r, const char **subject) {
    cvPaths(cv);
    int seen = 0;
    int all = r->action == LH_ALLOW;
    pwalk wk = PWALK_INIT;
    pitem tmp, *it;
    while ((it = nextPath(cv, &wk, &tmp))) {
        if ((r->keys & K_SUBCMD) && it->argi >= 0 && it->argi == cvSub(cv)) continue;
        seen++;
        const lh_path *p = itemPath(cv, it, (r->keys & K_CLASS) != 0);
        int ok = pathOk(cv->c, r->keys, r->classes, &r->paths, p);
        if (ok && !all) { *subject = p->norm; return 1; }
        if (!ok && all) return 0;
        if (ok && !*subject) *subject = p->norm;
    }
    return all && seen > 0;
}

static int wordUsable(const prule *r, const lh_word *w) {
    /* an allow rule never vouches for a value known only at run time */
    return r->action != LH_ALLOW || !(w->flags & (LH_W_DYNAMIC | LH_W_SUBST | LH_W_PROCSUBST));
}

static int argsOk(cview *cv, const prule *r) {
    const lh_cmd *cmd = cv->cmd;
    int sub = (r->keys & K_SUBCMD) ? cvSub(cv) : -1;
    int seen = 0, ddash = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const lh_word *w = &cmd->argv[i];
        if (!ddash && !strcmp(w->s, "--")) { ddash = 1; continue; }
        if ((!ddash && isOption(w->s)) || i == sub) continue;
        seen++;
        if (!wordUsable(r, w) || !listMatch(&r->args, w->s, 0)) return 0;
    }
    return seen > 0;
}

static int anyArgOk(cview *cv, const prule *r) {
    const lh_cmd *cmd = cv->cmd;
    for (int i = 1; i < cmd->argc; i++)
        if (wordUsable(r, &cmd->argv[i]) && listMatch(&r->anyargs, cmd->argv[i].s, 0)) return 1;
    return 0;
}

static const char *toolName(const lh_request *req) {
    return req->tool_name && *req->tool_name ? req->tool_name : lh_tool_name(req->tool);
}

static void *arenaMalloc(PCRE2_SIZE n, void *data) { return lh_arena_alloc(data, n); }
static void arenaFree(void *p, void *data) { (void)p; (void)data; }

/* The regex over the request's text: the command for Bash, else the file path, the
 * searched path or the URL. An error (match limit, no memory) counts against the
 * caller: a match for deny/escalate rules, no match for allow rules. */
static int regexOk(const prule *r, lh_ctx *c, rxstate *rx, const lh_policy *P) {
    int slot = r->re_slot;
    if (slot >= 0 && slot < 64 && (rx->done >> slot & 1)) return (int)(rx->hit >> slot & 1);
    if (slot >= 64 && !rx->more) {
        rx->more = lh_arena_calloc(c->arena, (size_t)(P->nregex - 64));
        if (!rx->more) { c->oom = 1; return r->action == LH_ALLOW ? 0 : 1; }
    }
    if (slot >= 64 && rx->more[slot - 64]) return rx->more[slot - 64] == 2;
    const lh_request *req = c->req;
    const char *text = NULL;
    size_t len = 0;
    if (req->tool == LH_TOOL_BASH) { text = req->command; len = req->command_len; }
    else if (req->file_path) text = req->file_path;
    else if (req->path) text = req->path;
    else if (req->url) text = req->url;
    if (!text) return 0;
    if (req->tool != LH_TOOL_BASH || (!len && text[0])) len = strlen(text);
    int failed = r->action == LH_ALLOW ? 0 : 1;
    if (!rx->md) {
        pcre2_general_context *g = pcre2_general_context_create(arenaMalloc, arenaFree, c->arena);
        rx->md = g ? pcre2_match_data_create(1, g) : NULL;
        if (!rx->md) { c->oom = 1; return failed; }
    }
    lh_step(c, 1u + (uint32_t)(len / 256u));   /* a JIT match reads the text fast (its
                                                  backtracking: REGEX_MATCH_LIMIT) */
    int rc = r->re_jit ? pcre2_jit_match(r->re, (PCRE2_SPTR)text, len, 0, 0, rx->md, P->mctx)
                       : pcre2_match(r->re, (PCRE2_SPTR)text, len, 0, 0, rx->md, P->mctx);
    int hit = rc >= 0 ? 1 : rc == PCRE2_ERROR_NOMATCH ? 0 : failed;
    if (slot >= 0 && slot < 64 && (rc >= 0 || rc == PCRE2_ERROR_NOMATCH)) {
        rx->done |= 1ull << slot;
        if (hit) rx->hit |= 1ull << slot;
    }
    if (slot >= 64 && (rc >= 0 || rc == PCRE2_ERROR_NOMATCH)) rx->more[slot - 64] = (unsigned char)(hit ? 2 : 1);
    return hit;
}

/* Keys about the request as a whole: agent, role (tool is checked by the caller). */
static int whoOk(const prule *r, const lh_request *req) {
    if ((r->keys & K_AGENT) && (!req->agent || !listMatch(&r->agents, req->agent, 0))) return 0;
    if ((r->keys & K_ROLE) && (!req->role || !listMatch(&r->roles, req->role, 0))) return 0;
    return 1;
}

/* Every key of a per-command rule against one command, cheapest first. */
static int cmdMatches(const lh_policy *P, const prule *r, cview *cv, rxstate *rx,
                      const char **subject) {
    const lh_cmd *cmd = cv->cmd;
    unsigned k = r->keys;
    *subject = NULL;
    if (k & K_PROGRAM) {
        if (cmd->argc == 0 || (cmd->flags & LH_C_DYNAMIC_CMD)) return 0;
        if (!r->prog_indexed && !listMatch(&r->programs, cmd->prog, 0)) return 0;
    }
    if ((k & K_SUDO) && !!(cmd->flags & LH_C_SUDO) != r->sudo) return 0;
    if (!whoOk(r, cv->c->req)) return 0;
    if (k & K_SUBCMD) {
        if (cmd->argc == 0) return 0;
        int si = cvSub(cv);
        if (si < 0 || !wordUsable(r, &cmd->argv[si]) ||
            !listMatch(&r->subcmds, cmd->argv[si].s, 0))
            return 0;
    }
    for (int i = 0; i < r->nflags; i++)
        if (!hasFlag(cv, &r->flags[i])) return 0;
    if ((k & K_ARGS) && !argsOk(cv, r)) return 0;
    if ((k & K_ANYARG) && !anyArgOk(cv, r)) return 0;
    if ((k & (K_CLASS | K_PATH)) && !cmdPathsOk(cv, r, subject)) return 0;
    if ((k & K_REGEX) && !regexOk(r, cv->c, rx, P)) return 0;
    return 1;
}

/* A rule evaluated once for the whole request (cmd -1). For a non-Bash tool the path
 * keys look at the file path (or the searched path). */
static int requestMatches(const lh_policy *P, const prule *r, lh_ctx *c, rxstate *rx,
                          const char **subject) {
    const lh_request *req = c->req;
    *subject = NULL;
    if ((r->keys & K_TOOL) && req->tool != LH_TOOL_BASH && !listMatch(&r->tools, toolName(req), 0))
        return 0;
    if (!whoOk(r, req)) return 0;
    if (r->keys & (K_CLASS | K_PATH)) {
        const char *fp = req->file_path ? req->file_path : req->path;
        if (!fp || !*fp || strlen(fp) > LH_MAX_PATH_BYTES) return 0;
        lh_path tmp;
        const lh_path *p = textPath(c, fp, (r->keys & K_CLASS) != 0, &tmp);
        if (!p || !pathOk(c, r->keys, r->classes, &r->paths, p)) return 0;
        *subject = p->norm;
    }
    if ((r->keys & K_REGEX) && !regexOk(r, c, rx, P)) return 0;
    return 1;
}

static void emitRule(lh_ctx *c, const prule *r, int cmd, const char *subject) {
    int before = c->nfindings;
    lh_emit_full(c, cmd, r->id, r->action, r->risk, LH_TIER_POLICY, r->reason, r->instead, subject);
    if (c->nfindings > before) c->findings[c->nfindings - 1].policy_rule = r;
}

/* Rules for one command: the program's bucket and the unindexed list, merged so the
 * findings come out in file order. */
static void matchCommand(const lh_policy *P, lh_ctx *c, int idx, rxstate *rx) {
    const lh_cmd *cmd = &c->script->cmds[idx];
    const int *a = NULL;
    int na = 0;
    if (cmd->argc > 0 && cmd->prog[0] && P->progmask) {
        const progslot *s = progFind(P, cmd->prog, hashStr(cmd->prog));
        if (s->name) { a = s->rules; na = s->nrules; }
    }
    if (!na && !P->nbash_any) return;
    if (!lh_step(c, 1u + (uint32_t)(na + P->nbash_any) / 8u)) return;   /* the rules tried */
    cview cv;
    cvInit(&cv, c, idx);
    int i = 0, j = 0;
    while (i < na || j < P->nbash_any) {
        int ri = (j >= P->nbash_any || (i < na && a[i] < P->bash_any[j])) ? a[i++] : P->bash_any[j++];
        const prule *r = &P->rules[ri];
        const char *subject;
        if (cmdMatches(P, r, &cv, rx, &subject)) emitRule(c, r, idx, subject);
    }
}

void lh_policy_match(const lh_policy *P, lh_ctx *c) {
    if (!P || !P->nrules || !c || !c->req) return;
    rxstate rx = {0, 0, NULL, NULL};
    const char *subject;
    if (c->req->tool == LH_TOOL_BASH) {
        for (int i = 0; i < P->nbash_req; i++) {
            const prule *r = &P->rules[P->bash_req[i]];
            if (requestMatches(P, r, c, &rx, &subject)) emitRule(c, r, -1, subject);
        }
        if (c->script)
            for (int i = 0; i < c->script->ncmds && !c->over_budget; i++) matchCommand(P, c, i, &rx);
        return;
    }
    for (int i = 0; i < P->nother; i++) {
        const prule *r = &P->rules[P->other[i]];
        if (requestMatches(P, r, c, &rx, &subject)) emitRule(c, r, -1, subject);
    }
}

/* ------------------------------------------------------------------------------ */
/* Adjusting analyzer findings                                                     */
/* ------------------------------------------------------------------------------ */

static const anset *findSet(const lh_policy *P, const char *id) {
    if (!P->ans || !id) return NULL;
    uint32_t h = hashStr(id);
    for (uint32_t k = h & P->ansmask;; k = (k + 1) & P->ansmask) {
        const anslot *s = &P->ans[k];
        if (!s->id) return NULL;
        if (s->hash == h && !strcmp(s->id, id)) return s->set;
    }
}

/* Does the exception hold for this finding? Path keys look at the finding's subject;
 * without one, at every path of its command (all must match) or the file path. */
static int exceptionHolds(lh_ctx *c, const lh_finding *f, const pexcept *e) {
    const lh_request *req = c->req;
    const lh_cmd *cmd = f->cmd >= 0 && c->script && f->cmd < c->script->ncmds
                      ? &c->script->cmds[f->cmd] : NULL;
    if ((e->keys & K_AGENT) && (!req->agent || !listMatch(&e->agents, req->agent, 0))) return 0;
    if ((e->keys & K_ROLE) && (!req->role || !listMatch(&e->roles, req->role, 0))) return 0;
    if ((e->keys & K_TOOL) && !listMatch(&e->tools, toolName(req), 0)) return 0;
    if (e->keys & K_PROGRAM) {
        if (!cmd || cmd->argc == 0 || (cmd->flags & LH_C_DYNAMIC_CMD) ||
            !listMatch(&e->programs, cmd->prog, 0))
            return 0;
    }
    if (!(e->keys & (K_PATH | K_CLASS))) return 1;
    lh_path tmp;
    const lh_path *p;
    int need_class = (e->keys & K_CLASS) != 0;
    if (f->subject && *f->subject) {
        p = textPath(c, f->subject, need_class, &tmp);
        return p && pathOk(c, e->keys, e->classes, &e->paths, p);
    }
    if (cmd) {
        cview cv;
        cvInit(&cv, c, f->cmd);
        cvPaths(&cv);
        int seen = 0;
        pwalk wk = PWALK_INIT;
        pitem spare, *it;
        while ((it = nextPath(&cv, &wk, &spare))) {
            seen++;
            const lh_path *pp = itemPath(&cv, it, (e->keys & K_CLASS) != 0);
            if (!pathOk(c, e->keys, e->classes, &e->paths, pp)) return 0;
        }
        return seen > 0;
    }
    const char *fp = req->file_path ? req->file_path : req->path;
    if (f->cmd >= 0 || !fp || !*fp) return 0;
    p = textPath(c, fp, need_class, &tmp);
    return p && pathOk(c, e->keys, e->classes, &e->paths, p);
}

static int overridesName(const prule *r, const char *id) {
    if (isProtected(id)) return 0;
    return listMatch(&r->overrides, id, 0);
}

void lh_policy_adjust(const lh_policy *P, lh_ctx *c) {
    if (!P || !c) return;
    /* 0. rule packs that are off: cancel their findings */
    if (P->packs_off)
        for (int i = 0; i < c->nfindings; i++) {
            lh_finding *f = &c->findings[i];
            if (f->overridden_by || f->tier != LH_TIER_ANALYSIS || strncmp(f->rule, "pack.", 5)) continue;
            int k = lh_pack_of_rule(f->rule);
            if (k >= 0 && (P->packs_off >> k) & 1u) f->overridden_by = lh_packs[k].tag_off;
        }
    if (!P->ans && !P->has_overrides) return;
    /* 1. analyzer settings: disabled, action/risk/reason, exceptions */
    if (P->ans)
        for (int i = 0; i < c->nfindings; i++) {
            lh_finding *f = &c->findings[i];
            if (f->overridden_by || f->tier != LH_TIER_ANALYSIS) continue;
            const anset *s = findSet(P, f->rule);
            if (!s) continue;
            if (s->disabled) { f->overridden_by = s->tag_disabled; continue; }
            if (s->has_action) f->action = s->action;
            if (s->has_risk) f->risk = s->risk;
            if (s->reason) f->reason = s->reason;
            if (s->instead) f->instead = s->instead;
            for (int k = 0; k < s->nexc; k++)
                if (exceptionHolds(c, f, s->exc[k])) { f->overridden_by = s->tag_except; break; }
        }
    /* 2. allow rules that name analyzers: cancel those on the same command (a rule that
     *    matched the whole request, cmd -1, covers every command) */
    if (!P->has_overrides) return;
    for (int j = 0; j < c->nfindings; j++) {
        const lh_finding *a = &c->findings[j];
        const prule *r = a->policy_rule;
        if (a->tier != LH_TIER_POLICY || a->action != LH_ALLOW || !r || !r->overrides.n ||
            a->overridden_by)
            continue;
        for (int i = 0; i < c->nfindings; i++) {
            lh_finding *f = &c->findings[i];
            if (f->overridden_by || f->tier != LH_TIER_ANALYSIS) continue;
            if (a->cmd != -1 && f->cmd != a->cmd) continue;
            if (overridesName(r, f->rule)) f->overridden_by = r->cancel_tag;
        }
    }
}

/* ------------------------------------------------------------------------------ */
/* Escalation routes                                                               */
/* ------------------------------------------------------------------------------ */

const lh_escroute *lh_policy_escalation(const lh_policy *P, const char *rule) {
    if (!P || !rule) return NULL;
    for (int i = 0; i < P->nescrules; i++)
        if (!strcmp(P->escrules[i]->id, rule)) return P->escrules[i]->esc;
    const anset *s = findSet(P, rule);
    if (s && s->esc) return s->esc;
    return P->esc_default;
}
