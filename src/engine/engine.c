/* engine.c — one request in, one decision out: cache → policy → analyzers.
 *
 * The engine owns the policy and the cache. Everything per request lives in the
 * caller's arena, so a warmed-up engine decides without calling malloc (a cache
 * insert is the one exception). See engine.h for the contract. */
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "engine/analyze.h"
#include "engine/cache.h"
#include "engine/policy.h"
#include "engine/unwrap.h"
#include "util/check.h"
#include "util/utf8.h"

#define SELF_MAX 8

struct lh_engine {
    lh_policy *policy;
    lh_cache *cache;          /* NULL when disabled */
    lh_shell_limits lim;
    const char *revision;
    char *self_paths[SELF_MAX]; /* Lighthouse's own files (an_self.c), malloc'd */
    int nself;
};

/* The files the engine runs from: its policy file (by the name it was loaded from),
 * and what LIGHTHOUSE_POLICY, LIGHTHOUSE_DATA and LIGHTHOUSE_CONFIG name. Absolute
 * paths only: a relative one is relative to a process the agent does not share. Read
 * once, here; decisions only compare strings. */
static void addSelf(lh_engine *e, const char *p) {
    if (!p || p[0] != '/' || e->nself == SELF_MAX) return;
    size_t n = strlen(p);
    if (n == 0 || n > LH_MAX_PATH_BYTES) return;
    char *c = strdup(p);
    if (!c) return;
    lh_path_normalize(c, n);
    e->self_paths[e->nself++] = c;
}

/* ------------------------------------------------------------------------------ */
/* Life cycle                                                                      */
/* ------------------------------------------------------------------------------ */

static uint64_t cacheSeed(void) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&ts;
    }
    return seed;
}

lh_engine *lh_engine_new(lh_policy *policy, size_t cache_entries, char *err, size_t errlen) {
    lh_engine *e = calloc(1, sizeof(*e));
    if (!e) { snprintf(err, errlen, "out of memory"); lh_policy_free(policy); return NULL; }
    e->policy = policy ? policy : lh_policy_default();
    if (!e->policy) {
        snprintf(err, errlen, "the built-in default policy failed to load");
        free(e);
        return NULL;
    }
    e->revision = lh_policy_revision(e->policy);
    addSelf(e, lh_policy_name(e->policy));
    addSelf(e, getenv("LIGHTHOUSE_POLICY"));
    addSelf(e, getenv("LIGHTHOUSE_DATA"));
    const char *data = getenv("LIGHTHOUSE_DATA");
    if (data && *data && strlen(data) < 4000) {   /* the witness file next to it (store/witness.c) */
        char cp[4096];
        snprintf(cp, sizeof(cp), "%s.checkpoints", data);
        addSelf(e, cp);
    }
    addSelf(e, getenv("LIGHTHOUSE_CHECKPOINTS"));
    addSelf(e, getenv("LIGHTHOUSE_CONFIG"));
    lh_shell_default_limits(&e->lim);
    if (cache_entries) {
        e->cache = lh_cache_new(cache_entries, cacheSeed());
        if (!e->cache) {
            snprintf(err, errlen, "out of memory for a cache of %zu entries", cache_entries);
            lh_engine_free(e);
            return NULL;
        }
    }
    return e;
}

void lh_engine_free(lh_engine *e) {
    if (!e) return;
    lh_cache_free(e->cache);
    lh_policy_free(e->policy);
    for (int i = 0; i < e->nself; i++) free(e->self_paths[i]);
    free(e);
}

const lh_policy *lh_engine_policy(const lh_engine *e) { return e->policy; }

void lh_engine_cache_stats(const lh_engine *e, lh_cache_stats *out) {
    if (!e->cache) { memset(out, 0, sizeof(*out)); return; }
    lh_cache_get_stats((lh_cache *)e->cache, out);
}

/* ------------------------------------------------------------------------------ */
/* Cache key                                                                       */
/* ------------------------------------------------------------------------------ */

/* The request as bytes: every field a decision depends on, NUL-separated. */
static char *cacheKey(const lh_engine *e, const lh_request *r, lh_arena *a, size_t *len) {
    const char *primary = r->command ? r->command : r->file_path ? r->file_path :
                          r->path ? r->path : r->url ? r->url : "";
    size_t plen = r->command ? r->command_len : strlen(primary);
    const char *parts[] = {e->revision, r->tool_name ? r->tool_name : "", r->cwd ? r->cwd : "/",
                           r->home ? r->home : "", r->agent ? r->agent : "",
                           r->role ? r->role : "", r->content ? r->content : "",
                           r->edits_json ? r->edits_json : ""};
    size_t n = plen + 1;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) n += strlen(parts[i]) + 1;
    for (int i = 0; i < r->nmcp_args; i++) n += strlen(r->mcp_keys[i]) + strlen(r->mcp_args[i]) + 2;
    if (r->nmcp_args && r->url) n += strlen(r->url) + 1;
    if (r->mcp_more) n += 2;
    if (n > LH_CACHE_MAX_KEY) return NULL;
    char *k = lh_arena_alloc(a, n);
    if (!k) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t l = strlen(parts[i]);
        memcpy(k + o, parts[i], l);
        o += l;
        k[o++] = 0;
    }
    memcpy(k + o, primary, plen);
    o += plen;
    k[o++] = 0;
    /* an MCP call's path arguments (and its url) decide too */
    for (int i = 0; i < r->nmcp_args; i++) {
        const char *two[2] = {r->mcp_keys[i], r->mcp_args[i]};
        for (int j = 0; j < 2; j++) {
            size_t l = strlen(two[j]);
            memcpy(k + o, two[j], l);
            o += l;
            k[o++] = 0;
        }
    }
    if (r->nmcp_args && r->url) {
        size_t l = strlen(r->url);
        memcpy(k + o, r->url, l);
        o += l;
        k[o++] = 0;
    }
    if (r->mcp_more) { k[o++] = 1; k[o++] = 0; }
    *len = o;
    return k;
}

/* ------------------------------------------------------------------------------ */
/* Findings                                                                        */
/* ------------------------------------------------------------------------------ */

void lh_emit_full(lh_ctx *c, int cmd, const char *rule, lh_action act, lh_risk risk,
                  lh_tier tier, const char *reason, const char *instead,
                  const char *subject) {
    /* A finding names its rule, its verdict is one of the enums, it comes from one of the
     * two tiers that emit, and cmd is the request (-1) or a command of the script. */
    LH_ASSERT(rule && (unsigned)act <= LH_DENY && (unsigned)risk <= LH_RISK_CRITICAL);
    LH_ASSERT(tier == LH_TIER_POLICY || tier == LH_TIER_ANALYSIS);
    LH_ASSERT(cmd == -1 || (cmd >= 0 && c->script && cmd < c->script->ncmds));
    lh_finding *nf = lh_arena_reserve(c->arena, c->findings, c->nfindings, &c->capfindings,
                                      sizeof(lh_finding));
    if (!nf) { c->oom = 1; return; }
    c->findings = nf;
    LH_ASSERT(c->nfindings < c->capfindings);
    lh_finding *f = &c->findings[c->nfindings++];
    memset(f, 0, sizeof(*f));
    f->rule = rule;
    f->action = act;
    f->risk = risk;
    f->tier = tier;
    f->reason = reason;
    f->instead = instead;
    f->subject = subject;
    f->cmd = cmd;
}

void lh_emit(lh_ctx *c, int cmd, const lh_rule_info *r, const char *subject) {
    lh_emit_full(c, cmd, r->id, r->action, r->risk, LH_TIER_ANALYSIS, r->reason, r->instead,
                 subject);
}

/* ------------------------------------------------------------------------------ */
/* Bash                                                                            */
/* ------------------------------------------------------------------------------ */

/* Programs whose job is to print shell code for the current shell to eval
 * (`eval "$(pyenv init -)"`, `eval "$(ssh-agent -s)"`): what they print is as trusted
 * as the program itself, which the analyzers see as the substitution's child. */
static int isShellInitGenerator(const lh_cmd *cmd) {
    static const char *const progs[] = {
        "pyenv", "rbenv", "nodenv", "jenv", "goenv", "plenv", "direnv", "ssh-agent",
        "gpg-agent", "keychain", "conda", "micromamba", "mamba", "brew", "starship", "zoxide",
        "fnm", "mise", "rtx", "asdf", "opam", "dircolors", "thefuck", "luarocks", "rustup",
        "kubectl", "helm", "gh", "npm", "pip", "poetry", "pipenv", "register-python-argcomplete",
        "minikube", "docker-machine", "atuin", "mcfly", "fzf", "nix", "devbox", "flox",
        "aws_completer", "terraform", "gcloud", "just", "deno", "bun", "rye", "uv", NULL,
    };
    for (int i = 0; progs[i]; i++)
        if (!strcmp(cmd->prog, progs[i])) return 1;
    return 0;
}

/* True when every word of cmd is one $(…) or `…` whose commands are all shell-init
 * generators, and cmd runs under eval or source. */
static int isEvalOfInit(const lh_script *s, int k) {
    const lh_cmd *cmd = &s->cmds[k];
    if (cmd->origin != LH_ORIGIN_EVAL) return 0;
    int children = 0;
    for (int j = k + 1; j < s->ncmds; j++) {
        const lh_cmd *ch = &s->cmds[j];
        if (ch->parent != k) continue;
        if (ch->origin != LH_ORIGIN_CMDSUBST || ch->argc == 0 || !isShellInitGenerator(ch)) return 0;
        children++;
    }
    for (int a = 0; a < cmd->argc; a++) {
        const char *w = cmd->argv[a].s;
        size_t n = cmd->argv[a].len;
        int subst = (n > 3 && w[0] == '$' && w[1] == '(' && w[n - 1] == ')') ||
                    (n > 2 && w[0] == '`' && w[n - 1] == '`');
        if (!subst) return 0;
    }
    return children > 0;
}

/* Findings the parse itself yields: errors and bounds, fork bombs, commands whose
 * program is only known at run time. */
static void checkScript(lh_ctx *c) {
    lh_script *s = c->script;
    switch (s->error) {
    case LH_SH_OK: break;
    case LH_SH_SYNTAX:
        lh_emit(c, -1, LH_RULE(PARSE_ERROR), s->errmsg);
        break;
    case LH_SH_BAD_BYTES:
        lh_emit(c, -1, LH_RULE(BAD_BYTES), s->errmsg);
        break;
    case LH_SH_NOMEM:
        c->oom = 1;
        break;
    default:
        lh_emit(c, -1, LH_RULE(TOO_COMPLEX), s->errmsg);
        break;
    }
    for (int i = 0; i < s->nfuncs; i++)
        if (s->funcs[i].recursive_bg) {
            /* "(fork bomb): :" reads as a dangling colon: name the function */
            const char *subj = lh_arena_printf(c->arena, "%s()", s->funcs[i].name);
            lh_emit(c, s->funcs[i].first_cmd, LH_RULE(FORK_BOMB), subj ? subj : s->funcs[i].name);
        }
    for (int i = 0; i < s->ncmds; i++) {
        const lh_cmd *cmd = &s->cmds[i];
        if (cmd->argc > 0 && (cmd->flags & LH_C_DYNAMIC_CMD) && !isEvalOfInit(s, i))
            lh_emit(c, i, LH_RULE(DYNAMIC_CMD), cmd->argv[0].s);
    }
}

/* Parse the request's command into c->script (within the limits, valid UTF-8 only),
 * unwrap nested scripts, and emit what the parse itself found (errors, fork bombs,
 * dynamic command names). The analyzers judge the script afterwards (lh_analyze). */
static void parseScript(lh_ctx *c, const lh_engine *e) {
    const lh_request *r = c->req;
    if (r->command_len > e->lim.max_input) {
        lh_emit(c, -1, LH_RULE(TOO_COMPLEX), "the command is longer than the limit");
        return;
    }
    if (!lh_utf8_valid(r->command, r->command_len)) {
        lh_emit(c, -1, LH_RULE(BAD_BYTES), NULL);
        return;
    }
    lh_script *s = lh_arena_calloc(c->arena, sizeof(*s));
    if (!s) { c->oom = 1; return; }
    c->script = s;
    lh_shell_parse(c->arena, r->command, r->command_len, &e->lim, s, -1, -1, LH_ORIGIN_TOP, 0);
    /* Analyse what parsed even after an error: bash runs the lines before a syntax
     * error, so "rm -rf /\n'" must still be denied. */
    lh_unwrap(c, &e->lim);
    lh_script_assert(s);
    checkScript(c);
    lh_step(c, (uint32_t)(s->nwords + s->ncmds));   /* the parser's work, nested included */
}

/* ------------------------------------------------------------------------------ */
/* Combining                                                                       */
/* ------------------------------------------------------------------------------ */

static int stronger(const lh_finding *a, const lh_finding *b) {
    if (a->action != b->action) return a->action > b->action;
    return a->risk > b->risk;
}

/* The subject as valid UTF-8: it quotes what the shell decoded ($'\x8e' is one byte that
 * is not UTF-8), and the reason goes into JSON (the hook's reply, the audit event). Each
 * byte that does not start a valid sequence becomes U+FFFD. */
static const char *utf8Subject(lh_arena *a, const char *s) {
    size_t n = strlen(s), ok = lh_utf8_prefix(s, n);
    if (ok == n) return s;
    char *o = lh_arena_alloc(a, 3 * n + 1);   /* each byte at most U+FFFD's three */
    if (!o) return NULL;
    size_t w = 0;
    while (n > 0) {
        memcpy(o + w, s, ok);
        w += ok;
        if (ok == n) break;
        memcpy(o + w, "\xEF\xBF\xBD", 3);
        w += 3;
        s += ok + 1;
        n -= ok + 1;
        ok = lh_utf8_prefix(s, n);
    }
    o[w] = 0;
    return o;
}

static const char *withSubject(lh_arena *a, const lh_finding *f) {
    if (!f->subject || !*f->subject) return f->reason;
    const char *subj = utf8Subject(a, f->subject);
    const char *r = subj ? lh_arena_printf(a, "%s: %s", f->reason, subj) : NULL;
    return r ? r : f->reason;
}

static void combine(lh_ctx *c, lh_decision *d) {
    const lh_finding *best = NULL, *allow = NULL;
    for (int i = 0; i < c->nfindings; i++) {
        const lh_finding *f = &c->findings[i];
        if (f->overridden_by) continue;
        if (f->action == LH_ALLOW) {
            if (!allow && f->tier == LH_TIER_POLICY) allow = f;
            continue;
        }
        if (!best || stronger(f, best)) best = f;
    }
    if (best) {
        d->action = best->action;
        d->risk = best->risk;
        d->tier = best->tier;
        d->rule = best->rule;
        d->reason = withSubject(c->arena, best);
        d->instead = best->instead;
        return;
    }
    d->action = LH_ALLOW;
    d->risk = LH_RISK_LOW;
    if (allow) {
        /* An operator rule allowed it; say what it overrode. */
        const char *over = NULL;
        for (int i = 0; i < c->nfindings; i++) {
            const lh_finding *f = &c->findings[i];
            if (f->overridden_by && f->action != LH_ALLOW) { over = f->rule; break; }
        }
        d->tier = LH_TIER_POLICY;
        d->rule = allow->rule;
        d->risk = allow->risk;
        d->reason = over ? lh_arena_printf(c->arena, "%s (overrides %s)",
                                           allow->reason && *allow->reason ? allow->reason : "allowed by policy",
                                           over)
                         : (allow->reason && *allow->reason ? allow->reason : "allowed by policy");
        d->instead = NULL;
        return;
    }
    for (int i = 0; i < c->nfindings; i++) {
        const lh_finding *f = &c->findings[i];
        if (f->overridden_by && f->action != LH_ALLOW) {
            d->tier = LH_TIER_POLICY;
            d->rule = f->overridden_by;
            d->reason = lh_arena_printf(c->arena, "allowed by %s, which overrides %s", f->overridden_by, f->rule);
            d->instead = NULL;
            return;
        }
    }
    d->tier = LH_TIER_ANALYSIS;
    d->rule = "default.allow";
    d->reason = "no rule found a risk in this call";
    d->instead = NULL;
}

/* ------------------------------------------------------------------------------ */
/* Decide                                                                          */
/* ------------------------------------------------------------------------------ */

static void failClosed(lh_decision *d, const char *rev) {
    memset(d, 0, sizeof(*d));
    d->action = LH_DENY;
    d->risk = LH_RISK_HIGH;
    d->tier = LH_TIER_ANALYSIS;
    d->rule = LH_RULE(ENGINE_ERROR)->id;
    d->reason = LH_RULE(ENGINE_ERROR)->reason;
    d->policy_revision = rev;
}

static const char *normalizedDir(lh_arena *a, const char *dir) {
    if (!dir || dir[0] != '/') return "/";
    size_t n = strlen(dir);
    char *p = lh_arena_strndup(a, dir, n);
    if (!p) return NULL;
    lh_path_normalize(p, n);
    return p;
}

static int decide(lh_engine *e, const lh_request *req, lh_arena *a, lh_decision *out, unsigned opts);

/* The decision, and for an escalate one the route its rule names (a lookup in the policy,
 * no allocation; also after a cache hit, whose rule is the same). */
int lh_engine_decide(lh_engine *e, const lh_request *req, lh_arena *a, lh_decision *out,
                     unsigned opts) {
    int rc = decide(e, req, a, out, opts);
    if (out->action == LH_ESCALATE) out->escalation = lh_policy_escalation(e->policy, out->rule);
    return rc;
}

const char *lh_esc_timeout_name(lh_esc_timeout t) {
    return t == LH_ESC_TIMEOUT_ALLOW ? "allow" : t == LH_ESC_TIMEOUT_ASK ? "ask" : "deny";
}

static int decide(lh_engine *e, const lh_request *req, lh_arena *a, lh_decision *out, unsigned opts) {
    memset(out, 0, sizeof(*out));
    out->policy_revision = e->revision;

    char *key = NULL;
    size_t klen = 0;
    int use_cache = e->cache && !(opts & (LH_DECIDE_NOCACHE | LH_DECIDE_EXPLAIN));
    /* Any allocation from a that fails during this decision fails it closed, also where
     * the code that asked went on with less (a reason without its subject, a path left
     * unclassified): a decision made on less than the whole analysis is not made. */
    unsigned long failures = lh_arena_failures(a);
    if (use_cache) {
        key = cacheKey(e, req, a, &klen);
        lh_cached hit;
        if (key && lh_cache_get(e->cache, key, klen, a, &hit)) {
            if (lh_arena_failures(a) != failures) { failClosed(out, e->revision); return -1; }
            out->action = hit.action;
            out->risk = hit.risk;
            out->tier = LH_TIER_CACHE;
            out->rule = hit.rule;
            out->reason = hit.reason;
            out->instead = hit.instead;
            return 0;
        }
    }

    lh_ctx c;
    memset(&c, 0, sizeof(c));
    c.arena = a;
    c.req = req;
    c.policy = e->policy;
    c.self_paths = (const char *const *)e->self_paths;
    c.nself_paths = e->nself;
    c.cwd = normalizedDir(a, req->cwd);
    c.home = req->home ? normalizedDir(a, req->home) : NULL;
    if (!c.cwd || (req->home && !c.home)) { failClosed(out, e->revision); return -1; }
    c.cwd_len = strlen(c.cwd);
    c.home_len = c.home ? strlen(c.home) : 0;
    c.cwd_is_project = lh_path_cwd_is_project(c.cwd, c.home);

    if (req->tool == LH_TOOL_BASH || (req->tool == LH_TOOL_MCP && req->command)) parseScript(&c, e);
    lh_policy_match(e->policy, &c);
    lh_analyze(&c);
    lh_policy_adjust(e->policy, &c);

    if (req->tool == LH_TOOL_MCP || req->tool == LH_TOOL_UNKNOWN) {
        int matched = 0;
        for (int i = 0; i < c.nfindings; i++)
            if (c.findings[i].tier == LH_TIER_POLICY) matched = 1;
        if (!matched && !c.mcp_judged) {
            const lh_rule_info *r = LH_RULE(UNKNOWN_TOOL);
            lh_action act = lh_policy_unknown_tool_action(e->policy, req->tool_name);
            if (act != LH_ALLOW)
                lh_emit_full(&c, -1, r->id, act, r->risk, LH_TIER_POLICY, r->reason, r->instead,
                             req->tool_name);
        }
    }
    if (c.oom) { failClosed(out, e->revision); return -1; }
    if (c.over_budget) lh_emit(&c, -1, LH_RULE(ENGINE_BUDGET), "the step budget of one decision");

    combine(&c, out);
    if (c.oom || lh_arena_failures(a) != failures) { failClosed(out, e->revision); return -1; }
    out->steps = c.steps;
    if (opts & LH_DECIDE_EXPLAIN) {
        out->findings = c.findings;
        out->nfindings = c.nfindings;
        out->script = c.script;
        out->parse_error = c.script && c.script->error ? c.script->errmsg : NULL;
    }
    if (use_cache && key) {
        lh_cached put = {out->action, out->risk, out->tier, out->rule, out->reason, out->instead};
        lh_cache_put(e->cache, key, klen, &put);
    }
    return 0;
}
