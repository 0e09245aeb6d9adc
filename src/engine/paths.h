/* paths.h — normalising and classifying the paths a tool call touches.
 *
 * A path word ("../x", "~/.ssh/id_rsa", "$HOME/.bashrc", "/etc/[a-z]*") is resolved against
 * the request's cwd and home without touching the filesystem: ".", ".." and repeated
 * slashes are folded, "~" and $HOME/${HOME} are replaced when home is known, and a glob
 * is classified by the directory it starts in. */
#ifndef LH_PATHS_H
#define LH_PATHS_H

#include <stddef.h>

#include "util/arena.h"

typedef enum {
    LH_PATH_PROJECT = 0, /* under the cwd (when the cwd may be a project) */
    LH_PATH_TEMP,        /* /tmp, /var/tmp, /dev/shm, $TMPDIR */
    LH_PATH_HOME,        /* under home, outside the project */
    LH_PATH_SECRET,      /* ~/.ssh, ~/.aws, ~/.gnupg, .env, *.pem, /etc/shadow, … */
    LH_PATH_SYSTEM,      /* /etc, /usr, /bin, /sbin, /lib*, /boot, /opt, /var, /root, … */
    LH_PATH_DEVICE,      /* /dev/… (but /dev/null, /dev/stdout, /dev/tty…) */
    LH_PATH_VIRTUAL,     /* /proc, /sys */
    LH_PATH_ROOT,        /* "/" itself, or a glob directly under it */
    LH_PATH_OTHER,       /* anything else outside the project (/srv/x, /mnt/y, other homes) */
    LH_PATH_UNKNOWN,     /* depends on a run-time value ($x, $(…)) */
    LH_PATH__COUNT
} lh_path_class;

/* Extra facts about a path (bits). */
#define LH_PF_GLOB          0x001u /* contains a glob */
#define LH_PF_DYNAMIC       0x002u /* contains an expansion that could not be resolved */
#define LH_PF_IS_HOME       0x004u /* the home directory itself */
#define LH_PF_IS_CWD        0x008u /* the cwd (project root) itself, or a glob over it */
#define LH_PF_SHELL_STARTUP 0x010u /* ~/.bashrc, ~/.profile, ~/.zshrc, /etc/profile… */
#define LH_PF_AUTH_KEYS     0x020u /* ~/.ssh/authorized_keys */
#define LH_PF_CRON          0x040u /* /etc/cron*, /var/spool/cron */
#define LH_PF_GIT_HOOKS     0x080u /* .git/hooks/… */
#define LH_PF_AUTH_DB       0x100u /* /etc/sudoers*, /etc/passwd, /etc/shadow, /etc/group */
#define LH_PF_GIT_DIR       0x200u /* inside a .git directory */
#define LH_PF_DEV_NULL      0x400u /* /dev/null, /dev/stdout, /dev/stderr, /dev/tty… */
#define LH_PF_IN_PROJECT    0x800u /* under the project dir, whatever the class (./.env) */
#define LH_PF_NET_DEV       0x1000u /* /dev/tcp/…, /dev/udp/… (bash network redirections) */

typedef struct lh_path {
    const char *norm;    /* normalised absolute path (in the arena) */
    lh_path_class cls;
    unsigned flags;      /* LH_PF_* */
} lh_path;

struct lh_ctx;

/* Classify the path word (len bytes) in the request's context; fills *out. */
lh_path_class lh_path_classify(const struct lh_ctx *c, const char *word, size_t len,
                               lh_path *out);
/* Same without a ctx (tests, policy lint). home may be NULL. */
lh_path_class lh_path_classify_in(lh_arena *a, const char *cwd, const char *home,
                                  int cwd_is_project, const char *word, size_t len,
                                  lh_path *out);
/* Normalise path (absolute) in place: fold //, /./ and /../; never above "/". */
size_t lh_path_normalize(char *path, size_t len);
/* Decide whether cwd may count as a project directory. */
int lh_path_cwd_is_project(const char *cwd, const char *home);

const char *lh_path_class_name(lh_path_class c); /* "project", "temp", … */
int lh_path_class_parse(const char *s, lh_path_class *out);

#endif
