/* arena.c — bump allocator; see arena.h. */
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
    struct block *next;
    size_t cap;
    size_t used;
    _Alignas(16) unsigned char data[];
} block;

struct lh_arena {
    block *head;       /* current block (most recent) */
    block *first;      /* kept across resets */
    size_t block_size;
    size_t total;      /* bytes handed out since reset */
    void *last;        /* last allocation, for lh_arena_grow */
    size_t last_n;
    unsigned long failures; /* NULL returns since lh_arena_new (lh_arena_failures) */
};

#define ALIGN16(n) (((n) + 15u) & ~(size_t)15u)
#define ARENA_MAX_ALLOC ((size_t)1 << 30)

static block *newBlock(size_t cap) {
    block *b = malloc(sizeof(block) + cap);
    if (!b) return NULL;
    b->next = NULL;
    b->cap = cap;
    b->used = 0;
    return b;
}

/* ------------------------------------------------------------------------------ */
/* Fault injection (tests only; see arena.h)                                      */
/* ------------------------------------------------------------------------------ */

_Thread_local int lh_fault_armed_;
static _Thread_local long faultLeft;          /* allocation points still to succeed */
static _Thread_local int faultPersist;
static _Thread_local unsigned long faultSeen, faultFired;

void lh_fault_arm(long n, int persist) {
    faultLeft = n;
    faultPersist = persist;
    faultSeen = faultFired = 0;
    lh_fault_armed_ = n >= 0;
}

int lh_fault_step_armed(void) {
    faultSeen++;
    if (faultLeft > 0) { faultLeft--; return 0; }
    faultFired++;
    if (!faultPersist) lh_fault_armed_ = 0;   /* one failure; seen stops counting too */
    return 1;
}

unsigned long lh_fault_seen(void) { return faultSeen; }
unsigned long lh_fault_fired(void) { return faultFired; }

/* ------------------------------------------------------------------------------ */
/* Arena                                                                           */
/* ------------------------------------------------------------------------------ */

lh_arena *lh_arena_new(size_t block_size) {
    if (lh_fault_step()) return NULL;
    lh_arena *a = calloc(1, sizeof(*a));
    if (!a) return NULL;
    a->block_size = block_size < 1024 ? 1024 : block_size;
    a->first = a->head = newBlock(a->block_size);
    if (!a->first) { free(a); return NULL; }
    return a;
}

void lh_arena_free(lh_arena *a) {
    if (!a) return;
    block *b = a->head;
    while (b) { block *n = b->next; free(b); b = n; }
    free(a);
}

void lh_arena_reset(lh_arena *a) {
    block *b = a->head;
    while (b && b != a->first) { block *n = b->next; free(b); b = n; }
    a->head = a->first;
    a->first->used = 0;
    a->first->next = NULL;
    a->total = 0;
    a->last = NULL;
    a->last_n = 0;
}

static void *failed(lh_arena *a) {
    a->failures++;
    return NULL;
}

/* Every allocation but lh_arena_grow's in place, without the fault point (the callers
 * have passed it). */
static void *allocRaw(lh_arena *a, size_t n) {
    if (n > ARENA_MAX_ALLOC) return failed(a);
    size_t need = ALIGN16(n ? n : 1);
    block *b = a->head;
    if (b->cap - b->used < need) {
        size_t cap = need > a->block_size ? need : a->block_size;
        block *nb = newBlock(cap);
        if (!nb) return failed(a);
        nb->next = a->head;
        a->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    a->last = p;
    a->last_n = need;
    return p;
}

void *lh_arena_alloc(lh_arena *a, size_t n) {
    if (lh_fault_step()) return failed(a);
    return allocRaw(a, n);
}

void *lh_arena_calloc(lh_arena *a, size_t n) {
    void *p = lh_arena_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

char *lh_arena_strndup(lh_arena *a, const char *s, size_t n) {
    char *p = lh_arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *lh_arena_strdup(lh_arena *a, const char *s) {
    return lh_arena_strndup(a, s, strlen(s));
}

char *lh_arena_printf(lh_arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *p = lh_arena_alloc(a, (size_t)n + 1);
    if (!p) return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *lh_arena_grow(lh_arena *a, void *old, size_t old_n, size_t new_n) {
    if (new_n <= old_n) return old;
    if (lh_fault_step() || new_n > ARENA_MAX_ALLOC) return failed(a);
    block *b = a->head;
    if (old && old == a->last) {
        /* Extend in place when the old allocation ends the current block. */
        size_t start = (size_t)((unsigned char *)old - b->data);
        size_t need = ALIGN16(new_n);
        if (start + need <= b->cap) {
            a->total += need - a->last_n;
            b->used = start + need;
            a->last_n = need;
            return old;
        }
    }
    void *p = allocRaw(a, new_n);
    if (p && old) memcpy(p, old, old_n);
    return p;
}

void *lh_arena_reserve(lh_arena *a, void *base, int n, int *cap, size_t elem) {
    if (n < *cap) return base;
    int ncap = *cap ? *cap * 2 : 4;
    void *nb = lh_arena_grow(a, base, (size_t)*cap * elem, (size_t)ncap * elem);
    if (nb) *cap = ncap;
    return nb;
}

size_t lh_arena_used(const lh_arena *a) { return a->total; }

unsigned long lh_arena_failures(const lh_arena *a) { return a->failures; }
