/* bl_scenario_load: read a file, resolve `extends:`, expand `variants:` and
 * `matrix:`, apply the command-line overrides, and build one validated plan
 * per variant. Either every variant is appended to the set or none is. */
#include "scenario/plan.h"
#include "scenario/check.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EXTENDS 8
#define MAX_VARIANTS 1024

static const char *const set_keys[] = {
    "description", "arch",    "backend",       "machine",  "kernel", "cmdline",
    "memory",	   "timeout", "emulator-args", "archives", "disks",  "arrays",
    "steps",	   "fail-on", "expect-report", "observe",  NULL};

static char *join_disp(const char *from, const char *rel)
{
	if (rel[0] == '/')
		return xstrdup(rel);
	const char *slash = strrchr(from, '/');
	if (!slash)
		return xstrdup(rel);
	return xasprintf("%.*s/%s", (int)(slash - from), from, rel);
}

/* the file's mapping with its `extends:` chain merged in (child keys win;
 * the base's `name` is not inherited) */
static int load_merged(struct ytree *t, const char *disp, const char **stack, int depth,
		       struct ynode **out)
{
	struct ynode *root;
	if (ytree_load(t, disp, "scenario", &root))
		return -1;
	if (root->kind != Y_MAP)
		return yerr(root, "a scenario must be a mapping (name: ..., steps: ...), not %s",
			    ykind_name(root));
	stack[depth] = root->file->abs;
	struct ynode *ext = ymap_get(root, "extends");
	if (!ext) {
		*out = root;
		return 0;
	}
	char *rel;
	if (ck_text(ext, "extends", &rel))
		return -1;
	char *bdisp = join_disp(disp, rel);
	free(rel);
	int rc = -1;
	if (!bl_file_exists(bdisp) || bl_is_dir(bdisp)) {
		yerr(ext, "base scenario '%s' not found (looked for '%s')", ext->s, bdisp);
		goto out;
	}
	char *babs = realpath(bdisp, NULL);
	for (int i = 0; babs && i <= depth; i++)
		if (!strcmp(stack[i], babs)) {
			struct strbuf sb = STRBUF_INIT;
			for (int j = i; j <= depth; j++)
				sb_addf(&sb, "%s -> ", strrchr(stack[j], '/') + 1);
			sb_adds(&sb, strrchr(babs, '/') + 1);
			yerr(ext, "extends cycle: %s", sb_str(&sb));
			sb_release(&sb);
			free(babs);
			goto out;
		}
	free(babs);
	if (depth + 1 >= MAX_EXTENDS) {
		yerr(ext, "extends chain is too long (at most %d files)", MAX_EXTENDS);
		goto out;
	}
	struct ynode *base;
	if (load_merged(t, bdisp, stack, depth + 1, &base))
		goto out;
	struct ynode *m = ymap_with(t, base, ymap_key(root, "extends"), NULL);
	if (ymap_key(m, "name"))
		m = ymap_with(t, m, ymap_key(m, "name"), NULL);
	for (size_t i = 0; i < root->n; i++)
		if (strcmp(root->kv[2 * i]->s, "extends"))
			m = ymap_with(t, m, root->kv[2 * i], root->kv[2 * i + 1]);
	/* positions of the merged map are the child's */
	m->file = root->file;
	m->line = root->line;
	m->col = root->col;
	*out = m;
	rc = 0;
out:
	free(bdisp);
	return rc;
}

struct dim {
	struct ynode *key;
	struct ynode *vals; /* SEQ of scalars */
};

struct row {
	struct ynode *v[3]; /* per dim */
};

struct variant {
	char *name; /* NULL for the base */
	struct ynode *set;
};

static int parse_matrix(struct ynode *mx, struct dim *dims, size_t *ndims, struct row **rows,
			size_t *nrows)
{
	static const char *const mkeys[] = {"arch", "backend", "machine", "exclude", NULL};
	if (ck_map(mx, "matrix") || ck_keys(mx, mkeys, "matrix"))
		return -1;
	*ndims = 0;
	for (size_t i = 0; i < mx->n; i++) {
		struct ynode *k = mx->kv[2 * i], *v = mx->kv[2 * i + 1];
		if (!strcmp(k->s, "exclude"))
			continue;
		if (v->kind != Y_SEQ || v->n == 0)
			return yerr(v, "matrix '%s' must be a non-empty list of values, not %s",
				    k->s, ykind_name(v));
		for (size_t j = 0; j < v->n; j++) {
			if (v->kv[j]->kind != Y_SCALAR || yis_null(v->kv[j]))
				return yerr(v->kv[j], "matrix '%s' values must be text, not %s",
					    k->s, ykind_name(v->kv[j]));
			for (size_t l = 0; l < j; l++)
				if (!strcmp(v->kv[l]->s, v->kv[j]->s))
					return yerr(v->kv[j], "matrix '%s' lists '%s' twice", k->s,
						    v->kv[j]->s);
		}
		dims[*ndims].key = k;
		dims[*ndims].vals = v;
		(*ndims)++;
	}
	if (*ndims == 0)
		return yerr(mx, "matrix needs at least one of arch, backend or machine");
	size_t total = 1;
	for (size_t d = 0; d < *ndims; d++)
		total *= dims[d].vals->n;
	*rows = xcalloc(total, sizeof(**rows));
	*nrows = 0;
	for (size_t r = 0; r < total; r++) {
		size_t rem = r;
		struct row row = {{0}};
		for (size_t d = *ndims; d-- > 0;) {
			row.v[d] = dims[d].vals->kv[rem % dims[d].vals->n];
			rem /= dims[d].vals->n;
		}
		(*rows)[(*nrows)++] = row;
	}
	struct ynode *ex = ymap_get(mx, "exclude");
	if (!ex)
		return 0;
	if (ck_seq(ex, "exclude"))
		return -1;
	for (size_t i = 0; i < ex->n; i++) {
		struct ynode *e = ex->kv[i];
		if (ck_map(e, "exclude") || e->n == 0)
			return e->kind == Y_MAP ? yerr(e, "an empty exclude would drop everything")
						: -1;
		for (size_t j = 0; j < e->n; j++) {
			struct ynode *k = e->kv[2 * j], *v = e->kv[2 * j + 1];
			size_t d;
			for (d = 0; d < *ndims; d++)
				if (!strcmp(dims[d].key->s, k->s))
					break;
			if (d == *ndims)
				return yerr(k, "exclude key '%s' is not a matrix dimension", k->s);
			size_t l;
			for (l = 0; v->kind == Y_SCALAR && l < dims[d].vals->n; l++)
				if (!strcmp(dims[d].vals->kv[l]->s, v->s))
					break;
			if (v->kind != Y_SCALAR || l == dims[d].vals->n)
				return yerr(v, "exclude value '%s' is not in matrix '%s'",
					    v->kind == Y_SCALAR ? v->s : "?", k->s);
		}
		size_t keep = 0;
		for (size_t r = 0; r < *nrows; r++) {
			bool match = true;
			for (size_t j = 0; j < e->n && match; j++)
				for (size_t d = 0; d < *ndims; d++)
					if (!strcmp(dims[d].key->s, e->kv[2 * j]->s) &&
					    strcmp((*rows)[r].v[d]->s, e->kv[2 * j + 1]->s))
						match = false;
			if (!match)
				(*rows)[keep++] = (*rows)[r];
		}
		*nrows = keep;
	}
	if (*nrows == 0)
		return yerr(ex, "exclude removes every combination of the matrix");
	return 0;
}

static int parse_variants(struct ynode *vs, const struct dim *dims, size_t ndims,
			  struct variant **out, size_t *n)
{
	static const char *const vkeys[] = {"name", "set", NULL};
	if (ck_seq(vs, "variants"))
		return -1;
	*out = xcalloc(vs->n + 1, sizeof(**out));
	*n = 1; /* the base scenario itself */
	for (size_t i = 0; i < vs->n; i++) {
		struct ynode *v = vs->kv[i], *x;
		struct variant *va = &(*out)[*n];
		if (ck_map(v, "variants") || ck_keys(v, vkeys, "variant"))
			return -1;
		if (!(x = ymap_get(v, "name")))
			return yerr(v, "variant needs 'name'");
		if (ck_name(x, "variant name", &va->name))
			return -1;
		(*n)++;
		for (size_t j = 1; j + 1 < *n; j++)
			if (!strcmp((*out)[j].name, va->name))
				return yerr(x, "two variants named '%s'", va->name);
		if (!(x = ymap_get(v, "set")))
			return yerr(v, "variant '%s' needs 'set' (the keys it changes)", va->name);
		if (ck_map(x, "set"))
			return -1;
		for (size_t j = 0; j < x->n; j++) {
			struct ynode *k = x->kv[2 * j];
			for (size_t d = 0; d < ndims; d++)
				if (!strcmp(dims[d].key->s, k->s))
					return yerr(k,
						    "'%s' is a matrix dimension; a variant "
						    "cannot set it",
						    k->s);
		}
		if (ck_keys(x, set_keys, "variant 'set'"))
			return -1;
		va->set = x;
	}
	return 0;
}

static bool known(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(*l, s))
			return true;
	return false;
}

/* --arch/--backend: a matrix dimension is filtered to the given value; when
 * no row has it (or there is no such dimension), the value replaces it */
static void apply_override(struct ytree *t, struct ynode *root, const char *key, const char *val,
			   struct dim *dims, size_t ndims, struct row *rows, size_t *nrows,
			   struct ynode **fixed)
{
	size_t d;
	for (d = 0; d < ndims; d++)
		if (!strcmp(dims[d].key->s, key))
			break;
	if (d < ndims) {
		size_t keep = 0;
		for (size_t r = 0; r < *nrows; r++)
			if (!strcmp(rows[r].v[d]->s, val))
				rows[keep++] = rows[r];
		if (keep) {
			*nrows = keep;
			return;
		}
	}
	const struct ynode *where = ymap_get(root, key);
	if (d < ndims)
		where = dims[d].key;
	*fixed = ynode_scalar(t, val, where ? where : root);
	if (d < ndims) {
		/* rows that now differ only in this dimension collapse into one */
		for (size_t r = 0; r < *nrows; r++)
			rows[r].v[d] = *fixed;
		size_t keep = 0;
		for (size_t r = 0; r < *nrows; r++) {
			bool dup = false;
			for (size_t q = 0; q < keep && !dup; q++) {
				bool same = true;
				for (size_t e = 0; e < ndims; e++)
					if (strcmp(rows[q].v[e]->s, rows[r].v[e]->s))
						same = false;
				dup = same;
			}
			if (!dup)
				rows[keep++] = rows[r];
		}
		*nrows = keep;
		*fixed = NULL;
	}
}

static bool variant_pinned_elsewhere(const struct ynode *set, const struct bl_load_opts *opts)
{
	const struct ynode *x;
	if (opts->arch && (x = ymap_get(set, "arch")) && x->kind == Y_SCALAR &&
	    strcmp(x->s, opts->arch))
		return true;
	if (opts->backend && (x = ymap_get(set, "backend")) && x->kind == Y_SCALAR &&
	    strcmp(x->s, opts->backend))
		return true;
	return false;
}

/* every line of bl_errmsg() (one error each) says which variant it is in */
static void name_variant(const char *name, const char *variant)
{
	char *msg = xstrdup(bl_errmsg()), *save = NULL;
	struct strbuf sb = STRBUF_INIT;
	for (char *l = strtok_r(msg, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		sb_addf(&sb, "%s%s (in variant '%s[%s]')", sb.len ? "\n" : "", l, name, variant);
	bl_err("%s", sb_str(&sb));
	sb_release(&sb);
	free(msg);
}

static char *file_stem(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strlen(b);
	if (n > 5 && !strcmp(b + n - 5, ".yaml"))
		n -= 5;
	else if (n > 4 && !strcmp(b + n - 4, ".yml"))
		n -= 4;
	return xstrndup(b, n);
}

void bl_scenario_set_release(struct bl_scenario_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		bl_scenario_free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

int bl_scenario_load(const char *file, const struct bl_load_opts *opts, struct bl_scenario_set *set)
{
	static const struct bl_load_opts noopts;
	static const char *const arches[] = {"x86_64", "aarch64", NULL};
	static const char *const backends[] = {"qemu", "uml", "libvirt", NULL};
	struct ytree t = {0};
	struct ynode *root, *x;
	const char *stack[MAX_EXTENDS + 1];
	struct dim dims[3];
	size_t ndims = 0, nrows = 1, nvars = 1, nout = 0;
	struct row *rows = NULL;
	struct variant *vars = NULL;
	struct bl_scenario **out = NULL;
	char *name = NULL;
	int rc = -1;

	if (!opts)
		opts = &noopts;
	if (opts->arch && !known(opts->arch, arches))
		return bl_err("unknown arch '%s' (%s)", opts->arch, ck_list(arches));
	if (opts->backend && !known(opts->backend, backends))
		return bl_err("unknown backend '%s' (%s)", opts->backend, ck_list(backends));
	if (load_merged(&t, file, stack, 0, &root))
		goto out;
	if ((x = ymap_get(root, "name"))) {
		if (ck_name(x, "name", &name))
			goto out;
	} else {
		name = file_stem(file);
		struct ynode *tmp = ynode_scalar(&t, name, root);
		char *chk;
		if (ck_name(tmp, "name", &chk)) {
			yerr(root, "file name '%s' is not a usable scenario name; add 'name:'",
			     name);
			goto out;
		}
		free(chk);
	}
	if ((x = ymap_get(root, "matrix"))) {
		if (parse_matrix(x, dims, &ndims, &rows, &nrows))
			goto out;
	} else {
		rows = xcalloc(1, sizeof(*rows));
	}
	if ((x = ymap_get(root, "variants"))) {
		if (parse_variants(x, dims, ndims, &vars, &nvars))
			goto out;
	} else {
		vars = xcalloc(1, sizeof(*vars));
	}
	struct ynode *fix_arch = NULL, *fix_backend = NULL;
	if (opts->arch)
		apply_override(&t, root, "arch", opts->arch, dims, ndims, rows, &nrows, &fix_arch);
	if (opts->backend)
		apply_override(&t, root, "backend", opts->backend, dims, ndims, rows, &nrows,
			       &fix_backend);
	if (nvars * nrows > MAX_VARIANTS) {
		yerr(root, "%zu variants is too many (at most %d)", nvars * nrows, MAX_VARIANTS);
		goto out;
	}

	struct ynode *base = root;
	if ((x = ymap_key(base, "matrix")))
		base = ymap_with(&t, base, x, NULL);
	if ((x = ymap_key(base, "variants")))
		base = ymap_with(&t, base, x, NULL);
	out = xcalloc(nvars * nrows, sizeof(*out));
	for (size_t v = 0; v < nvars; v++) {
		/* a named variant that pins its own arch or backend exists for that
		 * machine: an override that differs leaves it out, rather than
		 * running its machine-specific checks somewhere else */
		if (vars[v].set && variant_pinned_elsewhere(vars[v].set, opts))
			continue;
		struct ynode *vm = base;
		if (vars[v].set)
			for (size_t i = 0; i < vars[v].set->n; i++)
				vm = ymap_with(&t, vm, vars[v].set->kv[2 * i],
					       vars[v].set->kv[2 * i + 1]);
		for (size_t r = 0; r < nrows; r++) {
			struct ynode *m = vm;
			struct strbuf vn = STRBUF_INIT;
			if (vars[v].name)
				sb_adds(&vn, vars[v].name);
			for (size_t d = 0; d < ndims; d++) {
				sb_addf(&vn, "%s%s=%s", vn.len ? "," : "", dims[d].key->s,
					rows[r].v[d]->s);
				m = ymap_with(&t, m, dims[d].key, rows[r].v[d]);
			}
			if (fix_arch)
				m = ymap_with(&t, m, ynode_scalar(&t, "arch", fix_arch), fix_arch);
			if (fix_backend)
				m = ymap_with(&t, m, ynode_scalar(&t, "backend", fix_backend),
					      fix_backend);
			char *abs = realpath(file, NULL);
			out[nout] = sc_plan(m, name, vn.len ? sb_str(&vn) : NULL, abs ? abs : file);
			free(abs);
			if (!out[nout] && vn.len)
				name_variant(name, sb_str(&vn));
			sb_release(&vn);
			if (!out[nout])
				goto out;
			nout++;
		}
	}
	for (size_t i = 0; i < nout; i++)
		for (size_t j = 0; j < set->n; j++)
			if (!strcmp(out[i]->name, set->v[j]->name)) {
				bl_err("%s:%d:%d: scenario name '%s' is already used by '%s'",
				       out[i]->pos.file, out[i]->pos.line, out[i]->pos.col,
				       out[i]->name, set->v[j]->pos.file);
				goto out;
			}
	set->v = xrealloc(set->v, (set->n + nout) * sizeof(*set->v));
	memcpy(set->v + set->n, out, nout * sizeof(*out));
	set->n += nout;
	nout = 0;
	rc = 0;
out:
	for (size_t i = 0; i < nout; i++)
		bl_scenario_free(out[i]);
	free(out);
	free(rows);
	if (vars)
		for (size_t i = 0; i < nvars; i++)
			free(vars[i].name);
	free(vars);
	free(name);
	ytree_release(&t);
	return rc;
}

struct bl_scenario *bl_scenario_load_disks(const char *file)
{
	static const char *const keys[] = {"disks", "arrays", NULL};
	struct ytree t = {0};
	struct ynode *root;
	struct sc_build b = {0};
	int rc = -1;
	b.s = xcalloc(1, sizeof(*b.s));
	b.s->name = xstrdup(file);
	b.s->base_name = xstrdup(file);
	char *abs = realpath(file, NULL);
	b.s->file = abs ? abs : xstrdup(file);
	if (ytree_load(&t, file, "disk spec", &root))
		goto out;
	if (root->kind != Y_MAP || !ymap_get(root, "disks")) {
		yerr(root, "expected {\"disks\": [...], \"arrays\": [...]}");
		goto out;
	}
	b.s->pos = sc_pos(&b, root);
	rc = ck_keys(root, keys, "disk spec") ||
	     sc_disks(&b, ymap_get(root, "disks"), ymap_get(root, "arrays"));
out:
	b.s->srcfiles = b.files ? b.files : xcalloc(1, sizeof(char *));
	ytree_release(&t);
	if (rc) {
		bl_scenario_free(b.s);
		return NULL;
	}
	return b.s;
}
