/* harness/scenario internal: typed reads of tree nodes, each failing with
 * "FILE:LINE:COL: message" that quotes the key or value at fault. */
#ifndef BL_SCENARIO_CHECK_H
#define BL_SCENARIO_CHECK_H

#include "scenario/tree.h"

#include <regex.h>
#include <stdint.h>

/* every key of MAP must be in ALLOWED (NULL-terminated); WHERE names the
 * mapping in the message ("unknown key 'stpes' in scenario (did you mean 'steps'?)") */
int ck_keys(const struct ynode *map, const char *const *allowed, const char *where);
int ck_key(const struct ynode *key, const char *const *allowed, const char *where); /* one key */
int ck_map(const struct ynode *v, const char *key);
int ck_seq(const struct ynode *v, const char *key);
int ck_text(const struct ynode *v, const char *key, char **out); /* caller frees */
int ck_enum(const struct ynode *v, const char *key, const char *const *values, char **out);
int ck_bool(const struct ynode *v, const char *key, bool *out);
int ck_uint(const struct ynode *v, const char *key, unsigned long long max,
	    unsigned long long *out);
int ck_size(const struct ynode *v, const char *key, unsigned long long *out);
int ck_duration(const struct ynode *v, const char *key, int *ms);
int ck_mode(const struct ynode *v, const char *key, unsigned *out);
int ck_regex(const struct ynode *v, const char *key, char **src, regex_t *re);
/* [A-Za-z0-9._-]{1,64}: it ends up in file names */
int ck_name(const struct ynode *v, const char *key, char **out);
/* a host path, relative to the file V was written in; caller frees */
char *ck_abspath(const struct ynode *v);
/* a host path that must exist: a folder (WANT_DIR) or a file; caller frees */
int ck_host_path(const struct ynode *v, const char *key, bool want_dir, char **out);
/* the host file PATH (V's value made absolute) can be opened for reading:
 * else "WHAT 'PATH' cannot be read: strerror" at V */
int ck_readable(const struct ynode *v, const char *what, const char *path);
const char *ck_suggest(const char *word, const char *const *choices); /* or NULL */
/* "a, b or c" into a static per-thread buffer */
const char *ck_list(const char *const *choices);

#endif
