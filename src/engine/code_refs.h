/* code_refs.h — inline code that reaches a command-running function indirectly. */
#ifndef LH_CODE_REFS_H
#define LH_CODE_REFS_H

#include <stddef.h>

/* The name of a command-running function (system, popen, execSync …) that code (len
 * bytes, canonical form from lh_code_canon) reaches without a plain call: named by a
 * string or symbol to a dispatcher (getattr, send, call_user_func …), a string called
 * as a function, or the function passed as a value (map(os.system, …)). NULL when
 * none. A static string; no allocation. */
const char *lh_code_indirect_runner(const char *code, size_t len);

#endif
