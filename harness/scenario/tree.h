/* harness/scenario internal: a YAML file as a small tree of nodes that keep
 * their file, line and column, so every later check can point at the exact
 * spot. Nodes live in an arena (struct ytree) freed in one go; merged maps
 * (extends, variants, matrix rows) share subtrees of the files they came
 * from. Only harness/scenario/ includes this. */
#ifndef BL_SCENARIO_TREE_H
#define BL_SCENARIO_TREE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct yfile {
	char *disp;   /* path as the user wrote it (for messages) */
	char *abs;    /* absolute path */
	char *absdir; /* absolute folder, for relative paths inside */
	struct yfile *next;
};

struct ynode {
	enum ykind kind;
	bool plain; /* SCALAR written without quotes (so 12 is a number) */
	char *s;    /* SCALAR text (NUL-terminated; may hold NULs: len) */
	size_t len;
	struct ynode **kv; /* SEQ: n items; MAP: n pairs, key kv[2i], value kv[2i+1] */
	size_t n;
	struct yfile *file;
	int line, col; /* 1-based */
	struct ynode *next_alloc;
};

struct ytree {
	struct ynode *nodes;
	struct yfile *files;
	long budget; /* nodes left before "too large" */
};

void ytree_release(struct ytree *t);
/* Parse one YAML file (JSON is YAML) into *root. DISP is used in
 * messages, WHAT says what the file holds ("scenario"). */
int ytree_load(struct ytree *t, const char *disp, const char *what, struct ynode **root);
struct ynode *ynode_new(struct ytree *t, enum ykind k, const struct ynode *where);
struct ynode *ynode_scalar(struct ytree *t, const char *s, const struct ynode *where);
void ymap_put(struct ytree *t, struct ynode *map, struct ynode *key, struct ynode *val);
/* a copy of MAP (sharing children) with KEY's pair replaced/added/removed */
struct ynode *ymap_with(struct ytree *t, const struct ynode *map, struct ynode *key,
			struct ynode *val);
struct ynode *ymap_get(const struct ynode *map, const char *key);
struct ynode *ymap_key(const struct ynode *map, const char *key); /* the key node */

/* "FILE:LINE:COL: message"; returns -1 */
int yerr(const struct ynode *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *ykind_name(const struct ynode *n); /* "a mapping", "a list", "text" */
bool yis_null(const struct ynode *n);	       /* plain ~, null or empty */
/* YAML -> JSON: plain scalars that read as null/bool/int/float become those
 * (except integers with a leading 0, which stay text: "0755"); quoted ones
 * stay strings. Caller owns the result. */
json_t *yjson(const struct ynode *n);

#endif
