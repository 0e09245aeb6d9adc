/* check.h — invariants asserted, in the way of Redis's serverAssert and SQLite's
 * assert_pager_state: what a comment argues about a state is also checked.
 *
 * LH_ASSERT(cond) is kept in every build. It is for checks of O(1) cost (a queue's state,
 * an index in range, an enum in range) on paths where a compare and a branch predicted
 * not taken cost nothing measurable. When cond is false it prints
 *   lighthouse: FILE:LINE: FUNCTION: assertion failed: COND
 * to stderr and aborts: the program's state is not what its code believes, and going on
 * could turn into an allow or a lost audit event. The bridge then stops (a supervisor
 * restarts it). The hook exits 2 instead (lh_assert_set_exit), which blocks the call:
 * Claude Code takes a hook killed by a signal as a non-blocking error and goes on.
 *
 * LH_DEBUG_ASSERT(cond) is for checks that walk (every command of a script): compiled in
 * only when LH_DEBUG is defined, which the sanitizer build does (SAN=1: make check,
 * build-san). Elsewhere cond is not evaluated, but still compiled, so it stays correct. */
#ifndef LH_UTIL_CHECK_H
#define LH_UTIL_CHECK_H

_Noreturn void lh_assert_fail(const char *cond, const char *file, int line, const char *func);
/* What a failed assertion does after its message, in place of abort(): fn should exit (if
 * it returns, abort() follows). NULL: abort. Set once by a program's main path before any
 * thread starts. */
void lh_assert_set_exit(void (*fn)(void));

#define LH_ASSERT(cond) \
    (__builtin_expect(!!(cond), 1) ? (void)0 : lh_assert_fail(#cond, __FILE__, __LINE__, __func__))

#ifdef LH_DEBUG
#define LH_DEBUG_ASSERT(cond) LH_ASSERT(cond)
#else
#define LH_DEBUG_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

#endif
