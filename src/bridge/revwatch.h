/* revwatch.h — the revocation watcher: token.revoked events written by other processes
 * (`lighthouse token revoke`, another replica) take effect in this bridge. On PostgreSQL it
 * also follows policy.* events, so a policy pushed or rolled back through any replica is
 * installed on every replica (the policy callback, revisions.c).
 *
 * Start-up reads the store's head, then every revocation recorded (lh_revwatch_load); the
 * watcher thread then follows the store from that same head (lh_revwatch_start), so a
 * revocation that lands between the two is applied too.
 *
 * Owns: its thread ("lh-revocations") and its stopping flag. No other file touches them. */
#ifndef LH_BRIDGE_REVWATCH_H
#define LH_BRIDGE_REVWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "bridge/auth.h"
#include "store/store.h"

typedef struct lh_revwatch lh_revwatch;

/* Called on each of the watcher's rounds (appender.h, lh_appender_trim_when_idle). */
typedef void (*lh_revwatch_idle_fn)(void *ctx, uint64_t *state);
/* Called, on the watcher's thread, with each policy.* event after head, in seq order. */
typedef void (*lh_revwatch_policy_fn)(void *ctx, const lh_event *ev);

/* Read the store's head into *head, then add every recorded revocation to revoked.
 * 0, or -1 with err. */
int lh_revwatch_load(lh_store *store, lh_revoked *revoked, int64_t *head, char *err, size_t errlen);
/* Start the watcher from head (lh_revwatch_load's): every token.revoked after it is added
 * to revoked. postgres: wait on the store's notifications (LISTEN lighthouse_events)
 * instead of polling, and hand every policy.* event after head to policy (may be NULL),
 * read from the store at least every LH_REVWATCH_POLICY_MS whatever the notifications do.
 * idle (may be NULL) runs each round. NULL with err when the thread cannot start: the
 * bridge must not run without revocation updates. store and revoked are borrowed and must
 * outlive it. */
#define LH_REVWATCH_POLICY_MS 200
lh_revwatch *lh_revwatch_start(lh_store *store, lh_revoked *revoked, int postgres, int64_t head, lh_revwatch_idle_fn idle,
                               void *idle_ctx, lh_revwatch_policy_fn policy, void *policy_ctx, char *err, size_t errlen);
/* Stop and join the thread, and free. NULL: no-op. */
void lh_revwatch_stop(lh_revwatch *w);

/* Tests only: 0 (default), or the errno lh_revwatch_start's thread creation fails with. */
extern int lh_revwatch_test_create_error;
/* Tests only: NULL (default), or called by lh_revwatch_start before the thread starts,
 * to write to the store in the gap between the load and the watch. */
extern void (*lh_revwatch_test_gap)(lh_store *store);

#endif
