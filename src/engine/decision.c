/* decision.c — the decision as the contract's JSON (DESIGN.md "Decision").
 * Written by hand rather than through jansson: it is on every reply's hot path and
 * its shape is fixed. */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

/* Bytes that need an escape: '"', '\\' and controls. Runs of the others are copied whole. */
static const unsigned char needsEscape[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

/* Escapes are written as jansson's dump writes them (\b \f \n \r \t, other controls as
 * \u00XX in upper case), so text built here is byte for byte what the store's canonical
 * form keeps (docs/store.md, "Canonical form") and its fast path accepts it as it is. */
int lh_json_escape(const char *s, char *buf, size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (;;) {
        const unsigned char *run = p;
        while (*p && !needsEscape[*p]) p++;
        size_t n = (size_t)(p - run);
        if (o + n >= cap) return -1;
        memcpy(buf + o, run, n);
        o += n;
        if (!*p) break;
        unsigned char ch = *p++;
        char e = 0;
        switch (ch) {
        case '"': e = '"'; break;
        case '\\': e = '\\'; break;
        case '\b': e = 'b'; break;
        case '\f': e = 'f'; break;
        case '\n': e = 'n'; break;
        case '\r': e = 'r'; break;
        case '\t': e = 't'; break;
        default: break;
        }
        if (e) {
            if (o + 2 >= cap) return -1;
            buf[o++] = '\\';
            buf[o++] = e;
        } else {
            if (o + 6 >= cap) return -1;
            memcpy(buf + o, "\\u00", 4);
            buf[o + 4] = hex[ch >> 4];
            buf[o + 5] = hex[ch & 15];
            o += 6;
        }
    }
    buf[o] = 0;
    return (int)o;
}

typedef struct out { char *p; size_t cap, len; int bad; } out;

static void putN(out *o, const char *s, size_t n) {
    if (o->bad || o->len + n >= o->cap) { o->bad = 1; return; }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = 0;
}

static void put(out *o, const char *s) { putN(o, s, strlen(s)); }

/* A member "key":"value" after sep (",", or "" for the first); key is a literal. */
#define putStr(o, sep, key, val) putStrN(o, sep "\"" key "\":\"", sizeof(sep "\"" key "\":\"") - 1, val)

static void putStrN(out *o, const char *head, size_t head_len, const char *val) {
    putN(o, head, head_len);
    if (o->bad) return;
    int n = lh_json_escape(val ? val : "", o->p + o->len, o->cap - o->len);
    if (n < 0) { o->bad = 1; return; }
    o->len += (size_t)n;
    putN(o, "\"", 1);
}

/* A member "key":v after sep; key is a literal. Digits by hand, without snprintf's format
 * parsing. */
#define putNum(o, sep, key, v) putNumN(o, sep "\"" key "\":", sizeof(sep "\"" key "\":") - 1, v)

static void putNumN(out *o, const char *head, size_t head_len, uint64_t v) {
    char d[20];
    size_t n = 0;
    do { d[sizeof(d) - ++n] = (char)('0' + v % 10); v /= 10; } while (v);
    putN(o, head, head_len);
    putN(o, d + sizeof(d) - n, n);
}

int lh_decision_to_json(const lh_decision *d, const char *id, char *buf, size_t cap) {
    out o = {buf, cap, 0, cap == 0};
    put(&o, "{");
    if (id) { putStr(&o, "", "id", id); put(&o, ","); }
    putStr(&o, "", "decision", lh_action_name(d->action));
    putStr(&o, ",", "risk", lh_risk_name(d->risk));
    putStr(&o, ",", "rule", d->rule);
    putStr(&o, ",", "reason", d->reason);
    if (d->instead) putStr(&o, ",", "instead", d->instead);
    putStr(&o, ",", "tier", lh_tier_name(d->tier));
    putStr(&o, ",", "policy_revision", d->policy_revision);
    putNum(&o, ",", "latency_us", d->latency_us);
    if (d->seq) putNum(&o, ",", "seq", d->seq);
    put(&o, "}");
    return o.bad ? -1 : (int)o.len;
}

/* The same members with the keys in byte order, as the store's canonical form has them:
 * with lh_json_escape()'s escapes (jansson's) the text is canonical as it stands, so the
 * store keeps the bridge's decision.made event without rewriting it. */
int lh_decision_to_json_sorted(const lh_decision *d, const char *id, char *buf, size_t cap) {
    out o = {buf, cap, 0, cap == 0};
    put(&o, "{");
    putStr(&o, "", "decision", lh_action_name(d->action));
    if (id) putStr(&o, ",", "id", id);
    if (d->instead) putStr(&o, ",", "instead", d->instead);
    putNum(&o, ",", "latency_us", d->latency_us);
    putStr(&o, ",", "policy_revision", d->policy_revision);
    putStr(&o, ",", "reason", d->reason);
    putStr(&o, ",", "risk", lh_risk_name(d->risk));
    putStr(&o, ",", "rule", d->rule);
    if (d->seq) putNum(&o, ",", "seq", d->seq);
    putStr(&o, ",", "tier", lh_tier_name(d->tier));
    put(&o, "}");
    return o.bad ? -1 : (int)o.len;
}

/* ---- the hook's PreToolUse output ------------------------------------------------ */

static const char *permissionFor(lh_action a) {
    switch (a) {
    case LH_ALLOW: return "allow";
    case LH_DENY: return "deny";
    case LH_ESCALATE: return "ask";   /* until expert agents decide, the user does */
    }
    return "deny";
}

/* The length of s[0..len) without a UTF-8 sequence that the cut at len left incomplete. */
static size_t utf8Whole(const char *s, size_t len) {
    size_t j = len;
    while (j > 0 && len - j < 3 && ((unsigned char)s[j - 1] & 0xC0) == 0x80) j--;
    if (j == 0) return len;
    unsigned char lead = (unsigned char)s[j - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return j - 1 + need > len ? j - 1 : len;
}

int lh_decision_to_hook_json(const lh_decision *d, const char *note, int approve, char *buf, size_t cap,
                             size_t *reason_end) {
    if (cap == 0) return -1;
    buf[0] = 0;
    if (reason_end) *reason_end = 0;
    if (d->action == LH_ALLOW && !approve) return 0;
    char reason[LH_HOOK_REASON_MAX + 1];
    int n;
    if (d->action == LH_ALLOW)
        n = snprintf(reason, sizeof(reason), "Lighthouse: allowed (%s)%s", d->rule, note ? note : "");
    else
        n = snprintf(reason, sizeof(reason), "Lighthouse %s [%s, risk %s]: %s.%s%s%s",
                     d->action == LH_DENY ? "blocked this call" : "needs approval", d->rule,
                     lh_risk_name(d->risk), d->reason, d->instead ? " Instead: " : "",
                     d->instead ? d->instead : "", note ? note : "");
    if (n < 0) return -1;
    if ((size_t)n > LH_HOOK_REASON_MAX) reason[utf8Whole(reason, LH_HOOK_REASON_MAX)] = 0;
    out o = {buf, cap, 0, 0};
    put(&o, "{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"");
    put(&o, permissionFor(d->action));
    putStrN(&o, "\",\"permissionDecisionReason\":\"", sizeof("\",\"permissionDecisionReason\":\"") - 1, reason);
    size_t end = o.len - 1;   /* putStrN closed the string */
    put(&o, "}}");
    if (o.bad) { buf[0] = 0; return -1; }
    if (reason_end) *reason_end = end;
    return (int)o.len;
}
