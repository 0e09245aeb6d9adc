/* io.h — bounded reads of whole files and streams, and a file replaced whole. */
#ifndef LH_IO_H
#define LH_IO_H

#include <stddef.h>

/* Read all of fd (up to max bytes) into a malloc'd NUL-terminated buffer; the caller
 * frees it. Returns NULL with a message in err on error or when the input is larger
 * than max (then *too_big is set when too_big is not NULL). */
char *lh_read_fd(int fd, size_t max, size_t *len, int *too_big, char *err, size_t errlen);
/* Same for a file path. */
char *lh_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* Replace path with data[0..len) so that a crash or a power cut leaves the old file or the
 * new one, whole, and once this returns 0, the new one: a temporary file beside it
 * (PATH.tmpPID, mode 0666 less the umask) is written and fsynced, renamed over path, and the
 * directory fsynced. Returns 0, or -1 with a message in err (the temporary file removed). */
int lh_replace_file(const char *path, const char *data, size_t len, char *err, size_t errlen);

#endif
