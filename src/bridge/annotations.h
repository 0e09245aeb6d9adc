/* annotations.h — notes that experts attach to a shadowed file's lines or symbol, re-anchored
 * after edits (docs/shadows.md, "Annotations"; docs/api.md):
 *
 *   POST   /v1/annotations            (expert, admin) {path, lines: {start, end} | symbol, text} → 201
 *   GET    /v1/annotations?path=&at=  (expert, admin) every live one (of path), resolved at `at`
 *   GET    /v1/annotations/{id}?at=   one, resolved
 *   DELETE /v1/annotations/{id}       (its author, or an admin)
 *
 * An anchor keeps what it was made on: the symbol (name and kind) if one was named, the
 * lines, and the hashes of those lines and of LH_ANN_CONTEXT lines around them. On each
 * read it is resolved against the file's version at `at`: first by the symbol's name
 * (same kind), then by context (the anchored lines' hashes voted onto the new version's
 * lines; the best offset wins when at least half of the lines match), and is `exact`
 * (same lines, same text), `moved` (elsewhere, or the symbol renamed with its body intact)
 * or `lost`.
 *
 * State: one lh_annotations per bridge, owned by this module: the annotation.created and
 * annotation.deleted events indexed in memory, rebuilt from the store at the first use and
 * caught up from it before each use (so another replica's are seen). Guarded by its own
 * mutex, held across a creation's append so the count limit holds. It reads file contents
 * through shadows.h (lh_shadows_read), never the other way round. */
#ifndef LH_BRIDGE_ANNOTATIONS_H
#define LH_BRIDGE_ANNOTATIONS_H

#include "bridge/bridge_int.h"

#define LH_ANN_TEXT_MAX 4000      /* bytes of a note */
#define LH_ANN_LINES_MAX 2000     /* lines of an anchor */
#define LH_ANN_CONTEXT 3          /* lines kept before and after it */
#define LH_ANN_COUNT_DEFAULT 10000 /* live annotations (LIGHTHOUSE_ANNOTATIONS_MAX) */

typedef struct lh_annotations lh_annotations;

lh_annotations *lh_annotations_new(lh_bridge *b, char *err, size_t errlen);
void lh_annotations_free(lh_annotations *a);

/* POST /v1/annotations, GET /v1/annotations: */
enum MHD_Result lh_route_annotations_post(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_annotations_list(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
/* GET and DELETE /v1/annotations/{id} (the id is r->rid): */
enum MHD_Result lh_route_annotation_get(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_annotation_delete(lh_bridge *b, struct MHD_Connection *c, lh_req *r);

#endif
