/* jschema.h — the JSON Schema subset of MCP elicitations (a "requestedSchema"), checked
 * and applied (docs/api.md, "Elicitations").
 *
 * The subset: one flat object,
 *   {"type": "object", "properties": {NAME: PROP, ...}, "required": [NAME, ...]}
 * (also "title", "description" and "$schema" at the top), where PROP is one of
 *   {"type": "string", "minLength", "maxLength", "enum": [STRING, ...], "enumNames",
 *    "format": "email"|"uri"|"date"|"date-time", "default"}
 *   {"type": "number"|"integer", "minimum", "maximum", "default"}
 *   {"type": "boolean", "default"}
 * each also with "title" and "description". Anything else (another type, a nested
 * object, an unknown keyword, a bound of the wrong type) is refused with a message that
 * names it. Bounds keep hostile schemas cheap: LH_JSCHEMA_MAX_PROPS properties, names of
 * at most LH_JSCHEMA_MAX_NAME bytes, LH_JSCHEMA_MAX_ENUM enum values of at most
 * LH_JSCHEMA_MAX_TEXT bytes each.
 *
 * Both functions only read their arguments; neither allocates. */
#ifndef LH_UTIL_JSCHEMA_H
#define LH_UTIL_JSCHEMA_H

#include <jansson.h>
#include <stddef.h>

#define LH_JSCHEMA_MAX_PROPS 64
#define LH_JSCHEMA_MAX_NAME 128
#define LH_JSCHEMA_MAX_ENUM 256
#define LH_JSCHEMA_MAX_TEXT 1024     /* an enum value, a title, a description, a default */

/* 0 when schema is inside the subset; else -1 and err says what is outside it
 * ("properties.port.type: \"array\" is not one of string, number, integer, boolean"). */
int lh_jschema_check(const json_t *schema, char *err, size_t errlen);

/* Validate content against schema, which lh_jschema_check accepted. 0 when valid; else
 * -1, field holds the name of the offending property ("" when the content is not an
 * object at all) and err a message that names it ("port: must be an integer, got 1.5").
 * Properties not in the schema are refused. */
int lh_jschema_validate(const json_t *schema, const json_t *content, char *field, size_t fieldlen, char *err,
                        size_t errlen);

#endif
