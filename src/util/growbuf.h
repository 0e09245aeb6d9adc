/* growbuf.h — a bounded, growable, NUL-terminated byte buffer: the body sink of every
 * libcurl client in the project (the LLM expert and its SSE assembler, the MCP client, the
 * mount, the load simulator's experts). */
#ifndef LH_UTIL_GROWBUF_H
#define LH_UTIL_GROWBUF_H

#include <stddef.h>

/* Append n bytes of p to *buf (length *len, capacity *cap), keeping a NUL after them and
 * doubling the capacity from 4 KiB as needed. Returns 0, or -1 (buffer unchanged) when the
 * length would pass max or memory runs out. */
int lh_growbuf_append(char **buf, size_t *len, size_t *cap, size_t max, const void *p, size_t n);

#endif
