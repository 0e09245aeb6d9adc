/* decision.c — the decision as the contract's JSON (DESIGN.md "Decision").
 * Written by hand rather than through jansson: it is on every reply's hot path and
 * its shape is fixed. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

/* Escapes are written as jansson's dump writes them (\b \f \n \r \t, other controls as
 * \u00XX in upper case), so text built here is byte for byte what the store's canonical
 * form keeps (docs/store.md, "Canonical form") and its fast path accepts it as it is. */
int lh_json_escape(const char *s, char *buf, size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        const char *esc = NULL;
        switch (ch) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (esc) {
            if (o + 2 >= cap) return -1;
            buf[o++] = esc[0];
            buf[o++] = esc[1];
        } else if (ch < 0x20) {
            if (o + 6 >= cap) return -1;
            memcpy(buf + o, "\\u00", 4);
            buf[o + 4] = hex[ch >> 4];
            buf[o + 5] = hex[ch & 15];
            o += 6;
        } else {
            if (o + 1 >= cap) return -1;
            buf[o++] = (char)ch;
        }
    }
    if (o >= cap) return -1;
    buf[o] = 0;
    return (int)o;
}

typedef struct out { char *p; size_t cap, len; int bad; } out;

static void put(out *o, const char *s) {
    size_t n = strlen(s);
    if (o->bad || o->len + n >= o->cap) { o->bad = 1; return; }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = 0;
}

static void putStr(out *o, const char *key, const char *val) {
    if (o->bad) return;
    put(o, "\"");
    put(o, key);
    put(o, "\":\"");
    int n = lh_json_escape(val ? val : "", o->p + o->len, o->cap - o->len);
    if (n < 0) { o->bad = 1; return; }
    o->len += (size_t)n;
    put(o, "\"");
}

static void putNum(out *o, const char *key, uint64_t v) {
    char num[64];
    snprintf(num, sizeof(num), "\"%s\":%" PRIu64, key, v);
    put(o, num);
}

int lh_decision_to_json(const lh_decision *d, const char *id, char *buf, size_t cap) {
    out o = {buf, cap, 0, cap == 0};
    put(&o, "{");
    if (id) { putStr(&o, "id", id); put(&o, ","); }
    putStr(&o, "decision", lh_action_name(d->action));
    put(&o, ",");
    putStr(&o, "risk", lh_risk_name(d->risk));
    put(&o, ",");
    putStr(&o, "rule", d->rule);
    put(&o, ",");
    putStr(&o, "reason", d->reason);
    if (d->instead) { put(&o, ","); putStr(&o, "instead", d->instead); }
    put(&o, ",");
    putStr(&o, "tier", lh_tier_name(d->tier));
    put(&o, ",");
    putStr(&o, "policy_revision", d->policy_revision);
    put(&o, ",");
    putNum(&o, "latency_us", d->latency_us);
    if (d->seq) { put(&o, ","); putNum(&o, "seq", d->seq); }
    put(&o, "}");
    return o.bad ? -1 : (int)o.len;
}

/* The same members with the keys in byte order, as the store's canonical form has them:
 * with lh_json_escape()'s escapes (jansson's) the text is canonical as it stands, so the
 * store keeps the bridge's decision.made event without rewriting it. */
int lh_decision_to_json_sorted(const lh_decision *d, const char *id, char *buf, size_t cap) {
    out o = {buf, cap, 0, cap == 0};
    put(&o, "{");
    putStr(&o, "decision", lh_action_name(d->action));
    if (id) { put(&o, ","); putStr(&o, "id", id); }
    if (d->instead) { put(&o, ","); putStr(&o, "instead", d->instead); }
    put(&o, ",");
    putNum(&o, "latency_us", d->latency_us);
    put(&o, ",");
    putStr(&o, "policy_revision", d->policy_revision);
    put(&o, ",");
    putStr(&o, "reason", d->reason);
    put(&o, ",");
    putStr(&o, "risk", lh_risk_name(d->risk));
    put(&o, ",");
    putStr(&o, "rule", d->rule);
    if (d->seq) { put(&o, ","); putNum(&o, "seq", d->seq); }
    put(&o, ",");
    putStr(&o, "tier", lh_tier_name(d->tier));
    put(&o, "}");
    return o.bad ? -1 : (int)o.len;
}
