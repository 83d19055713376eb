/* rollout-private.h - shared between the files of src/rollout/ only. */
#ifndef PL_ROLLOUT_PRIVATE_H
#define PL_ROLLOUT_PRIVATE_H

#include "rollout.h"

/* Parses the window object at path ("$.windows[0]") into out (zeroed
 * first); errors name d's file and the JSON path of the bad field. */
int rollout_window_parse(const struct pl_jdoc *d, json_t *obj, const char *path,
                         struct rollout_window_rule *out);
/* Frees a rule's strings and zone. */
void rollout_window_rule_clear(struct rollout_window_rule *r);

#endif
