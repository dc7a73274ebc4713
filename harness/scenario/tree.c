/* YAML text -> position-keeping node tree (libyaml's document API), and
 * the YAML -> JSON scalar rules. */
#include "scenario/tree.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_FILE (1 << 20) /* a scenario is a page or two; refuse monsters */
#define MAX_DEPTH 64
#define MAX_NODES 50000 /* per load, counting alias expansions */

void ytree_release(struct ytree *t)
{
	while (t->nodes) {
		struct ynode *n = t->nodes;
		t->nodes = n->next_alloc;
		free(n->s);
		free(n->kv);
		free(n);
	}
	while (t->files) {
		struct yfile *f = t->files;
		t->files = f->next;
		free(f->disp);
		free(f->abs);
		free(f->absdir);
		free(f);
	}
}

static struct ynode *alloc_node(struct ytree *t, enum ykind k)
{
	struct ynode *n = xcalloc(1, sizeof(*n));
	n->kind = k;
	n->next_alloc = t->nodes;
	t->nodes = n;
	return n;
}

struct ynode *ynode_new(struct ytree *t, enum ykind k, const struct ynode *where)
{
	struct ynode *n = alloc_node(t, k);
	if (where) {
		n->file = where->file;
		n->line = where->line;
		n->col = where->col;
	}
	return n;
}

struct ynode *ynode_scalar(struct ytree *t, const char *s, const struct ynode *where)
{
	struct ynode *n = ynode_new(t, Y_SCALAR, where);
	n->s = xstrdup(s);
	n->len = strlen(s);
	n->plain = true;
	return n;
}

static void push(struct ynode *p, struct ynode *c)
{
	p->kv = xrealloc(p->kv, (p->n + 1) * sizeof(*p->kv));
	p->kv[p->n++] = c;
}

void ymap_put(struct ytree *t, struct ynode *map, struct ynode *key, struct ynode *val)
{
	(void)t;
	map->kv = xrealloc(map->kv, (map->n + 1) * 2 * sizeof(*map->kv));
	map->kv[2 * map->n] = key;
	map->kv[2 * map->n + 1] = val;
	map->n++;
}

struct ynode *ymap_with(struct ytree *t, const struct ynode *map, struct ynode *key,
			struct ynode *val)
{
	struct ynode *m = ynode_new(t, Y_MAP, map);
	bool done = false;
	for (size_t i = 0; i < map->n; i++) {
		struct ynode *k = map->kv[2 * i], *v = map->kv[2 * i + 1];
		if (strcmp(k->s, key->s) == 0) {
			done = true;
			if (!val)
				continue;
			k = key;
			v = val;
		}
		ymap_put(t, m, k, v);
	}
	if (!done && val)
		ymap_put(t, m, key, val);
	return m;
}

struct ynode *ymap_key(const struct ynode *map, const char *key)
{
	if (!map || map->kind != Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->kv[2 * i]->s, key) == 0)
			return map->kv[2 * i];
	return NULL;
}

struct ynode *ymap_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->kv[2 * i]->s, key) == 0)
			return map->kv[2 * i + 1];
	return NULL;
}

int yerr(const struct ynode *n, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!n)
		return bl_err("%s", msg);
	return bl_err("%s:%d:%d: %s", n->file ? n->file->disp : "?", n->line, n->col, msg);
}

const char *ykind_name(const struct ynode *n)
{
	switch (n->kind) {
	case Y_MAP:
		return "a mapping";
	case Y_SEQ:
		return "a list";
	default:
		return yis_null(n) ? "empty" : "text";
	}
}

bool yis_null(const struct ynode *n)
{
	return n->kind == Y_SCALAR && n->plain &&
	       (n->len == 0 || !strcmp(n->s, "~") || !strcmp(n->s, "null") ||
		!strcmp(n->s, "Null") || !strcmp(n->s, "NULL"));
}

/* ---- YAML -> tree ---- */

struct conv {
	struct ytree *t;
	struct yfile *f;
	yaml_document_t *doc;
};

static void set_pos(struct ynode *n, struct yfile *f, yaml_mark_t m)
{
	n->file = f;
	n->line = (int)m.line + 1;
	n->col = (int)m.column + 1;
}

static int convert(struct conv *c, yaml_node_t *yn, int depth, struct ynode **out)
{
	struct ynode *n;
	if (depth > MAX_DEPTH) {
		struct ynode tmp = {.file = c->f};
		set_pos(&tmp, c->f, yn->start_mark);
		return yerr(&tmp, "nested too deeply (recursive alias?)");
	}
	if (--c->t->budget < 0) {
		struct ynode tmp = {.file = c->f};
		set_pos(&tmp, c->f, yn->start_mark);
		return yerr(&tmp, "too many nodes (alias expansion?)");
	}
	if (yn->tag && strncmp((char *)yn->tag, "tag:yaml.org,2002:", 18)) {
		struct ynode tmp = {.file = c->f};
		set_pos(&tmp, c->f, yn->start_mark);
		return yerr(&tmp, "unsupported YAML tag '%s'", (char *)yn->tag);
	}
	switch (yn->type) {
	case YAML_SCALAR_NODE:
		n = alloc_node(c->t, Y_SCALAR);
		set_pos(n, c->f, yn->start_mark);
		/* the text may hold NULs ("\0" in double quotes): copy all bytes */
		n->s = xmalloc(yn->data.scalar.length + 1);
		memcpy(n->s, yn->data.scalar.value, yn->data.scalar.length);
		n->s[yn->data.scalar.length] = 0;
		n->len = yn->data.scalar.length;
		n->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		break;
	case YAML_SEQUENCE_NODE:
		n = alloc_node(c->t, Y_SEQ);
		set_pos(n, c->f, yn->start_mark);
		for (yaml_node_item_t *it = yn->data.sequence.items.start;
		     it < yn->data.sequence.items.top; it++) {
			struct ynode *ch;
			if (convert(c, yaml_document_get_node(c->doc, *it), depth + 1, &ch))
				return -1;
			push(n, ch);
		}
		break;
	case YAML_MAPPING_NODE: {
		struct ynode *merge = NULL;
		n = alloc_node(c->t, Y_MAP);
		set_pos(n, c->f, yn->start_mark);
		for (yaml_node_pair_t *p = yn->data.mapping.pairs.start;
		     p < yn->data.mapping.pairs.top; p++) {
			struct ynode *k, *v;
			if (convert(c, yaml_document_get_node(c->doc, p->key), depth + 1, &k))
				return -1;
			if (k->kind != Y_SCALAR || yis_null(k))
				return yerr(k, "a key must be text, not %s", ykind_name(k));
			if (strlen(k->s) != k->len)
				return yerr(k, "a key must not contain NUL bytes");
			bool is_merge = k->plain && !strcmp(k->s, "<<");
			struct ynode *prev = is_merge ? merge : ymap_key(n, k->s);
			if (prev)
				return yerr(k, "duplicate key '%s' (first at line %d)", k->s,
					    prev->line);
			if (convert(c, yaml_document_get_node(c->doc, p->value), depth + 1, &v))
				return -1;
			if (is_merge) {
				merge = v;
				continue;
			}
			ymap_put(c->t, n, k, v);
		}
		/* YAML merge keys: `<<: *base` (or a list of them, the first
		 * winning) adds the keys this mapping does not set itself */
		if (merge) {
			size_t nm = merge->kind == Y_SEQ ? merge->n : 1;
			for (size_t i = 0; i < nm; i++) {
				struct ynode *m = merge->kind == Y_SEQ ? merge->kv[i] : merge;
				if (m->kind != Y_MAP)
					return yerr(m, "'<<' merges mappings, not %s",
						    ykind_name(m));
				for (size_t j = 0; j < m->n; j++)
					if (!ymap_key(n, m->kv[2 * j]->s))
						ymap_put(c->t, n, m->kv[2 * j], m->kv[2 * j + 1]);
			}
		}
		break;
	}
	default:
		return bl_err("%s: empty YAML node", c->f->disp);
	}
	*out = n;
	return 0;
}

static struct yfile *new_file(struct ytree *t, const char *disp)
{
	struct yfile *f = xcalloc(1, sizeof(*f));
	f->disp = xstrdup(disp);
	char *abs = realpath(disp, NULL);
	f->abs = abs ? abs : xstrdup(disp);
	char *slash = strrchr(f->abs, '/');
	f->absdir =
	    slash ? xstrndup(f->abs, slash == f->abs ? 1 : (size_t)(slash - f->abs)) : xstrdup(".");
	f->next = t->files;
	t->files = f;
	return f;
}

/* is the byte at AT of DATA a tab with only blanks before it on its line? */
static bool tab_indent(const char *data, size_t len, size_t at)
{
	if (at >= len || data[at] != '\t')
		return false;
	while (at > 0 && (data[at - 1] == ' ' || data[at - 1] == '\t'))
		at--;
	return at == 0 || data[at - 1] == '\n';
}

/* libyaml's error, at its position; a tab where YAML wants spaces (which
 * libyaml calls a "character that cannot start any token") is named */
static int parse_error(struct yfile *f, yaml_parser_t *p, const char *data, size_t len)
{
	yaml_mark_t m = p->problem_mark;
	if (p->error == YAML_MEMORY_ERROR)
		return bl_err("%s: out of memory parsing YAML", f->disp);
	if (p->error == YAML_SCANNER_ERROR && tab_indent(data, len, m.index))
		return bl_err("%s:%zu:%zu: bad YAML: a tab in indentation (YAML indents with "
			      "spaces)",
			      f->disp, m.line + 1, m.column + 1);
	if (p->context)
		return bl_err("%s:%zu:%zu: bad YAML: %s %s (line %zu)", f->disp, m.line + 1,
			      m.column + 1, p->problem ? p->problem : "error", p->context,
			      p->context_mark.line + 1);
	return bl_err("%s:%zu:%zu: bad YAML: %s", f->disp, m.line + 1, m.column + 1,
		      p->problem ? p->problem : "error");
}

/* read at most MAX_FILE bytes: the path may be a pipe (<(...)) or a
 * device that never ends (extends: /dev/zero) */
static int read_capped(const char *path, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return bl_err_errno("%s: cannot open", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return bl_err("%s: is a folder, not a scenario file", path);
	}
	struct strbuf sb = STRBUF_INIT;
	for (;;) {
		sb_grow(&sb, 65536);
		ssize_t n = read(fd, sb.buf + sb.len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			sb_release(&sb);
			errno = e;
			return bl_err_errno("%s: cannot read", path);
		}
		if (n == 0)
			break;
		sb.len += (size_t)n;
		sb.buf[sb.len] = 0;
		if (sb.len > MAX_FILE) {
			close(fd);
			sb_release(&sb);
			return bl_err("%s: too large for a scenario (more than %d bytes)", path,
				      MAX_FILE);
		}
	}
	close(fd);
	sb_grow(&sb, 1);
	*data = sb_detach(&sb, len);
	return 0;
}

/* Nesting deeper than MAX_DEPTH, found from libyaml's events before the
 * document is loaded: the loader would first build the whole tree, and
 * libyaml's scanner is quadratic in the depth of flow collections (50 kB
 * of '[' took 34 s). Counting events stops at the first collection past
 * the limit, after a bounded look-ahead. 1 with the error set when too
 * deep; 0 otherwise (a syntax error is left to the loader, which names it). */
static int too_deep(struct yfile *f, const char *data, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, deep = 0;
	if (!yaml_parser_initialize(&p))
		return 0;
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!deep && yaml_parser_parse(&p, &ev)) {
		yaml_event_type_t ty = ev.type;
		if (ty == YAML_SEQUENCE_START_EVENT || ty == YAML_MAPPING_START_EVENT) {
			if (++depth > MAX_DEPTH) {
				struct ynode tmp = {.file = f};
				set_pos(&tmp, f, ev.start_mark);
				yerr(&tmp, "nested deeper than %d levels", MAX_DEPTH);
				deep = 1;
			}
		} else if (ty == YAML_SEQUENCE_END_EVENT || ty == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		yaml_event_delete(&ev);
		if (ty == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return deep;
}

int ytree_load(struct ytree *t, const char *disp, const char *what, struct ynode **root)
{
	char *data = NULL;
	size_t len = 0;
	int ret = -1;
	yaml_parser_t parser;
	yaml_document_t doc, doc2;
	bool have_doc = false;

	if (t->budget == 0 && !t->nodes)
		t->budget = MAX_NODES;
	if (read_capped(disp, &data, &len))
		return -1;
	struct yfile *f = new_file(t, disp);
	if (too_deep(f, data, len)) {
		free(data);
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		free(data);
		return bl_err("%s: cannot start the YAML parser", disp);
	}
	yaml_parser_set_input_string(&parser, (unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		parse_error(f, &parser, data, len);
		goto out;
	}
	have_doc = true;
	yaml_node_t *yroot = yaml_document_get_root_node(&doc);
	if (!yroot) {
		bl_err("%s:1:1: empty %s file", disp, what);
		goto out;
	}
	/* a second document would be silently ignored: refuse it */
	if (!yaml_parser_load(&parser, &doc2)) {
		parse_error(f, &parser, data, len);
		goto out;
	}
	if (yaml_document_get_root_node(&doc2)) {
		struct ynode tmp = {.file = f};
		set_pos(&tmp, f, yaml_document_get_root_node(&doc2)->start_mark);
		yaml_document_delete(&doc2);
		yerr(&tmp, "a %s file holds one YAML document, this is a second one", what);
		goto out;
	}
	yaml_document_delete(&doc2);
	struct conv c = {t, f, &doc};
	if (convert(&c, yroot, 0, root))
		goto out;
	ret = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(data);
	return ret;
}

/* ---- YAML scalars as JSON ---- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static json_t *scalar_json(const struct ynode *n)
{
	const char *s = n->s;
	if (!n->plain)
		return json_stringn(s, n->len);
	if (yis_null(n))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	const char *d = s + (*s == '-' || *s == '+');
	if (all_digits(d) && !(d[0] == '0' && d[1])) {
		errno = 0;
		long long v = strtoll(s, NULL, 10);
		if (errno == 0)
			return json_integer(v);
	}
	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'o') && d[2]) {
		char *end;
		errno = 0;
		long long v = strtoll(d + 2, &end, d[1] == 'x' ? 16 : 8);
		if (errno == 0 && !*end)
			return json_integer(*s == '-' ? -v : v);
	}
	/* floats: digits with a dot or an exponent */
	if ((strchr(s, '.') || strchr(s, 'e') || strchr(s, 'E')) &&
	    strspn(d, "0123456789.eE+-") == strlen(d) && (d[0] >= '0' && d[0] <= '9')) {
		char *end;
		errno = 0;
		double v = strtod(s, &end);
		if (errno == 0 && !*end)
			return json_real(v);
	}
	return json_stringn(s, n->len);
}

json_t *yjson(const struct ynode *n)
{
	json_t *j;
	switch (n->kind) {
	case Y_SCALAR:
		j = scalar_json(n);
		return j ? j : json_string("\xef\xbf\xbd"); /* invalid UTF-8: cannot happen */
	case Y_SEQ:
		j = json_array();
		for (size_t i = 0; i < n->n; i++)
			json_array_append_new(j, yjson(n->kv[i]));
		return j;
	case Y_MAP:
		j = json_object();
		for (size_t i = 0; i < n->n; i++)
			json_object_setn_new(j, n->kv[2 * i]->s, n->kv[2 * i]->len,
					     yjson(n->kv[2 * i + 1]));
		return j;
	}
	return json_null();
}
