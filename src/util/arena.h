/* arena.h — a bump allocator for per-request work.
 *
 * One decision allocates many small pieces (words, commands, findings) that all die
 * together. An arena hands them out from large blocks and frees them in one step.
 * lh_arena_reset() keeps the first block, so a warmed-up arena makes no malloc at all.
 *
 * Ownership: everything allocated from an arena belongs to it; never free() it.
 * An arena is not thread-safe: use one per thread or per request. */
#ifndef LH_ARENA_H
#define LH_ARENA_H

#include <stddef.h>

typedef struct lh_arena lh_arena;

/* Create an arena whose blocks hold at least block_size bytes. NULL on out of memory. */
lh_arena *lh_arena_new(size_t block_size);
void lh_arena_free(lh_arena *a);
/* Forget every allocation; keeps the first block for reuse. */
void lh_arena_reset(lh_arena *a);
/* Allocate n bytes aligned to 16. NULL only on out of memory (or n over 1 GiB). */
void *lh_arena_alloc(lh_arena *a, size_t n);
/* Allocate n zeroed bytes. */
void *lh_arena_calloc(lh_arena *a, size_t n);
/* Copy n bytes of s and add a NUL. */
char *lh_arena_strndup(lh_arena *a, const char *s, size_t n);
char *lh_arena_strdup(lh_arena *a, const char *s);
/* printf into the arena. */
char *lh_arena_printf(lh_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grow an array in place when it is the last allocation, else copy. Returns the new base. */
void *lh_arena_grow(lh_arena *a, void *old, size_t old_n, size_t new_n);
/* Room for one more element in an array (base, n used, *cap allocated, elem bytes
 * each): doubles *cap when full, starting at 4. Returns the base, moved or not, or NULL
 * on out of memory (base is then unchanged). */
void *lh_arena_reserve(lh_arena *a, void *base, int n, int *cap, size_t elem);
/* Bytes handed out since the last reset (for bounds and tests). */
size_t lh_arena_used(const lh_arena *a);
/* Allocations from a that returned NULL since it was made (out of memory, a size over the
 * bound, or an injected fault; not reset). A caller that must not go on after any failed
 * allocation compares it before and after its work (lh_engine_decide does). */
unsigned long lh_arena_failures(const lh_arena *a);

/* ---- fault injection (tests only), in the way of SQLite's faultsimStep ------------
 *
 * Every allocation point of an arena (lh_arena_new, lh_arena_alloc and what calls it,
 * lh_arena_grow even when it grows in place) first calls lh_fault_step(), as do the few
 * plain mallocs on the decision path (the cache's entry) and any allocator a test hands
 * to a library (jansson). Disarmed, that is one load of a thread-local flag and a branch
 * predicted not taken. Armed with lh_fault_arm(n, persist), on this thread the first n
 * allocation points succeed and the next fails; with persist every later one fails too.
 * tests/unit/test_oom.c sweeps n over every allocation point of a decision. */
extern _Thread_local int lh_fault_armed_;
int lh_fault_step_armed(void);
/* 1 when this allocation must fail. */
static inline int lh_fault_step(void) {
    return __builtin_expect(lh_fault_armed_, 0) ? lh_fault_step_armed() : 0;
}
/* Arm (n >= 0) or disarm (n < 0) the injector on this thread; resets both counters. */
void lh_fault_arm(long n, int persist);
/* Allocation points passed on this thread since the last lh_fault_arm (failed included). */
unsigned long lh_fault_seen(void);
/* Allocations failed by the injector on this thread since the last lh_fault_arm. */
unsigned long lh_fault_fired(void);

#endif
