/* One merged scenario mapping (extends, variant and matrix already applied)
 * -> a validated struct bl_scenario. Checks run in the order keys are
 * documented, so the first error is always the same one. */
#include "../../guest/init-agent/ops.h"
#include "archive/archive.h"
#include "scenario/check.h"
#include "scenario/plan.h"
#include "util/util.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char *const top_keys[] = {
    "name",    "description", "extends",  "arch",	   "backend",	    "machine", "kernel",
    "cmdline", "memory",      "timeout",  "emulator-args", "archives",	    "disks",   "arrays",
    "steps",   "matrix",      "variants", "fail-on",	   "expect-report", "observe", NULL};
static const char *const arches[] = {"x86_64", "aarch64", NULL};
static const char *const backends[] = {"qemu", "uml", "libvirt", NULL};
static const char *const machines[] = {"auto", "microvm", "q35", "pc", "virt", NULL};

/* Names other parts own are checked against their tables: the agent's ops
 * (guest/init-agent/ops.h), archive/codec.c's codecs; outcomes and panic
 * reasons are in outcome.c. */
#define OP_NAME(name, fn) name,
static const char *const agent_ops[] = {IA_OPS(OP_NAME) NULL};

/* the codecs archive/codec.c has, NULL-terminated into NAMES (room for 15) */
static const char *const *codec_names(const char *names[16])
{
	size_t n;
	const struct bl_codec *const *all = bl_codec_all(&n);
	for (size_t i = 0; i < n && i < 15; i++)
		names[i] = all[i]->name;
	names[n < 15 ? n : 15] = NULL;
	return names;
}

/* the file names positions point to are interned in B (s->srcfiles) */
static const char *bfile(struct sc_build *b, const struct yfile *f)
{
	if (!f)
		return "?";
	for (size_t i = 0; i < b->nfiles; i++)
		if (!strcmp(b->files[i], f->disp))
			return b->files[i];
	b->files = xrealloc(b->files, (b->nfiles + 2) * sizeof(*b->files));
	b->files[b->nfiles] = xstrdup(f->disp);
	b->files[b->nfiles + 1] = NULL;
	return b->files[b->nfiles++];
}

struct bl_srcpos sc_pos(struct sc_build *b, const struct ynode *n)
{
	struct bl_srcpos p = {bfile(b, n->file), n->line, n->col};
	return p;
}

int sc_fail(struct sc_build *b)
{
	if (b->nerrs++ < SC_MAX_ERRORS)
		sb_addf(&b->errs, "%s%s", b->errs.len ? "\n" : "", bl_errmsg());
	return -1;
}

/* RC of one check the others do not depend on: true when it passed, else
 * false with its error recorded */
static bool sc_ok(struct sc_build *b, int rc)
{
	if (rc)
		sc_fail(b);
	return !rc;
}

static bool in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(*l, s))
			return true;
	return false;
}

/* an absolute name inside an archive, no "..", no trailing slash */
static int ck_arch_path(const struct ynode *v, const char *key, bool allow_root, char **out)
{
	if (ck_text(v, key, out))
		return -1;
	const char *p = *out;
	const char *why = NULL;
	if (p[0] != '/')
		why = "must be absolute (start with '/')";
	else if (!allow_root && !p[1])
		why = "cannot be '/' itself";
	else if (p[1] && p[strlen(p) - 1] == '/')
		why = "must not end with '/'";
	else if (strstr(p, "//"))
		why = "must not contain '//'";
	else if (strlen(p) > 4000)
		why = "is too long";
	else {
		for (const char *c = p; (c = strstr(c, "/..")); c++)
			if (c[3] == '/' || !c[3])
				why = "must not contain '..'";
	}
	if (why) {
		yerr(v, "%s '%s' %s", key, p, why);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* ---- kernel ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the fragments of DIR (kernels/ of this bootlab tree): the names of its
 * *.config files, sorted, into SL (NULL-terminated by sl_argv) */
static void fragment_names(const char *dir, struct strlist *sl)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n > 7 && !strcmp(e->d_name + n - 7, ".config"))
			sl_push_nocopy(sl, xstrndup(e->d_name, n - 7));
	}
	if (d)
		closedir(d);
	if (sl->n)
		qsort(sl->v, sl->n, sizeof(*sl->v), cmp_str);
}

/* `build: NAME` names a fragment kernels/ has (harness/kernel builds
 * kernels/NAME.config of this bootlab tree) */
static int ck_fragment(const struct ynode *v)
{
	char *self = bl_self_dir(), *dir = xasprintf("%s/kernels", self);
	struct strlist sl = STRLIST_INIT;
	fragment_names(dir, &sl);
	char **names = sl_argv(&sl);
	int rc = 0;
	if (!in_list(v->s, (const char *const *)names)) {
		const char *sug = ck_suggest(v->s, (const char *const *)names);
		if (sug)
			rc =
			    yerr(v, "unknown kernel fragment '%s' (did you mean '%s'?)", v->s, sug);
		else
			rc = yerr(v,
				  "unknown kernel fragment '%s' (%s has %s; a fragment file of "
				  "your own is a path with a '/', like ./mine.config)",
				  v->s, dir, sl.n ? ck_list((const char *const *)names) : "none");
	}
	sl_release(&sl);
	free(dir);
	free(self);
	return rc;
}

static int build_kernel(struct sc_build *b, const struct ynode *k)
{
	static const char *const keys[] = {"build", "distro", "image", "modules", "package", NULL};
	struct bl_kernel_spec *ks = &b->s->kernel;
	if (ck_map(k, "kernel") || ck_keys(k, keys, "kernel"))
		return -1;
	ks->pos = sc_pos(b, k);
	const struct ynode *kind = NULL;
	for (size_t i = 0; i < k->n; i++) {
		const char *key = k->kv[2 * i]->s;
		if (strcmp(key, "build") && strcmp(key, "distro") && strcmp(key, "image"))
			continue;
		if (kind)
			return yerr(k->kv[2 * i], "kernel has both '%s' and '%s'; pick one",
				    kind->s, key);
		kind = k->kv[2 * i];
	}
	if (!kind)
		return yerr(k, "kernel needs one of 'build', 'distro' or 'image'");
	ks->kind = xstrdup(kind->s);
	const struct ynode *v = ymap_get(k, kind->s);
	if (!strcmp(kind->s, "build")) {
		/* a name in kernels/, or a fragment file of the user's own */
		if (!yis_null(v) && v->kind == Y_SCALAR && strchr(v->s, '/')) {
			if (ck_host_path(v, "kernel fragment", false, &ks->config))
				return -1;
		} else if (!yis_null(v) && (ck_name(v, "build", &ks->config) || ck_fragment(v))) {
			return -1;
		}
	} else if (!strcmp(kind->s, "image")) {
		if (ck_text(v, "image", &ks->image))
			return -1;
		free(ks->image);
		ks->image = ck_abspath(v);
		if (ck_readable(v, "kernel image", ks->image))
			return -1;
	} else {
		/* distro: a path to the installed kernel, or empty with a package */
		if (!yis_null(v)) {
			if (ck_text(v, "distro", &ks->image))
				return -1;
			free(ks->image);
			ks->image = ck_abspath(v);
		}
	}
	const struct ynode *m = ymap_get(k, "modules"), *pk = ymap_get(k, "package");
	bool distro = !strcmp(ks->kind, "distro");
	if (m && !distro)
		return yerr(ymap_key(k, "modules"), "'modules' only applies to a distro kernel");
	if (pk && !distro)
		return yerr(ymap_key(k, "package"), "'package' only applies to a distro kernel");
	if (m) {
		if (ck_text(m, "modules", &ks->modules_dir))
			return -1;
		free(ks->modules_dir);
		ks->modules_dir = ck_abspath(m);
	}
	if (pk && ck_name(pk, "package", &ks->package))
		return -1;
	if (distro && !ks->image && !ks->package)
		return yerr(v,
			    "distro kernel needs a path (distro: /boot/vmlinuz-...) or 'package'");
	return 0;
}

/* ---- archives ---- */

static const char *const entry_kinds[] = {"agent",    "dir",	 "nod",	 "file", "symlink",
					  "hardlink", "pipe",	 "sock", "tree", "list",
					  "cpio",     "modules", NULL};
static const enum bl_entry_kind entry_enum[] = {
    BL_ENT_AGENT, BL_ENT_DIR,  BL_ENT_NOD,  BL_ENT_FILE, BL_ENT_SLINK, BL_ENT_HARDLINK,
    BL_ENT_PIPE,  BL_ENT_SOCK, BL_ENT_TREE, BL_ENT_LIST, BL_ENT_CPIO,  BL_ENT_MODULES};
/* extra keys each kind takes, besides its own */
static const char *const entry_extra[BL_ENT_MODULES + 1][8] = {
    [BL_ENT_AGENT] = {"mode", "uid", "gid"},
    [BL_ENT_DIR] = {"mode", "uid", "gid"},
    [BL_ENT_NOD] = {"type", "major", "minor", "mode", "uid", "gid"},
    [BL_ENT_FILE] = {"content", "source", "mode", "uid", "gid"},
    [BL_ENT_SLINK] = {"target", "mode", "uid", "gid"},
    [BL_ENT_HARDLINK] = {"target"},
    [BL_ENT_PIPE] = {"mode", "uid", "gid"},
    [BL_ENT_SOCK] = {"mode", "uid", "gid"},
    [BL_ENT_TREE] = {"path"},
    [BL_ENT_LIST] = {NULL},
    [BL_ENT_CPIO] = {NULL},
    [BL_ENT_MODULES] = {NULL},
};
static const unsigned entry_mode[BL_ENT_MODULES + 1] = {
    [BL_ENT_AGENT] = 0755, [BL_ENT_DIR] = 0755,	 [BL_ENT_NOD] = 0600,  [BL_ENT_FILE] = 0644,
    [BL_ENT_SLINK] = 0777, [BL_ENT_PIPE] = 0644, [BL_ENT_SOCK] = 0644,
};

/* what each kind of entry needs besides its path: E the entry's mapping,
 * A the archive so far (for a hardlink's target) */
static int entry_extras(const struct bl_archive_spec *a, const struct ynode *e, struct bl_entry *en)
{
	unsigned long long u;
	switch (en->kind) {
	case BL_ENT_NOD: {
		static const char *const types[] = {"c", "b", NULL};
		const struct ynode *t = ymap_get(e, "type"), *ma = ymap_get(e, "major"),
				   *mi = ymap_get(e, "minor");
		if (!t)
			return yerr(e, "nod '%s' needs 'type' (c or b)", en->path);
		if (!ma)
			return yerr(e, "nod '%s' needs 'major'", en->path);
		if (!mi)
			return yerr(e, "nod '%s' needs 'minor'", en->path);
		char *ts;
		if (ck_enum(t, "type", types, &ts))
			return -1;
		en->devtype = ts[0];
		free(ts);
		if (ck_uint(ma, "major", 4095, &u))
			return -1;
		en->major = (unsigned)u;
		if (ck_uint(mi, "minor", 1048575, &u))
			return -1;
		en->minor = (unsigned)u;
		break;
	}
	case BL_ENT_FILE: {
		const struct ynode *c = ymap_get(e, "content"), *s = ymap_get(e, "source");
		if (c && s)
			return yerr(ymap_key(e, "source"),
				    "file '%s' has both 'content' and 'source'; pick one",
				    en->path);
		if (!c && !s)
			return yerr(e, "file '%s' needs 'content' or 'source'", en->path);
		if (c) {
			if (c->kind != Y_SCALAR)
				return yerr(c, "'content' must be text, not %s", ykind_name(c));
			/* an empty plain scalar is an empty file, not null */
			en->content = xmalloc(c->len + 1);
			memcpy(en->content, c->s, c->len + 1);
			en->content_len = c->len;
		} else if (ck_host_path(s, "source", false, &en->source)) {
			return -1;
		}
		break;
	}
	case BL_ENT_SLINK: {
		const struct ynode *t = ymap_get(e, "target");
		if (!t)
			return yerr(e, "symlink '%s' needs 'target'", en->path);
		if (ck_text(t, "target", &en->target))
			return -1;
		break;
	}
	case BL_ENT_HARDLINK: {
		const struct ynode *t = ymap_get(e, "target");
		if (!t)
			return yerr(e, "hardlink '%s' needs 'target'", en->path);
		if (ck_arch_path(t, "target", false, &en->target))
			return -1;
		size_t i;
		for (i = 0; i < a->nentries; i++)
			if ((a->entries[i].kind == BL_ENT_FILE ||
			     a->entries[i].kind == BL_ENT_AGENT) &&
			    a->entries[i].path && !strcmp(a->entries[i].path, en->target))
				break;
		if (i == a->nentries)
			return yerr(t, "hardlink target '%s' is not a file earlier in archive '%s'",
				    en->target, a->name);
		break;
	}
	default:
		break;
	}
	return 0;
}

static int build_entry(struct sc_build *b, struct bl_archive_spec *a, const struct ynode *e,
		       struct bl_entry *en)
{
	if (e->kind != Y_MAP)
		return yerr(e, "an archive entry must be a mapping like {file: /path, ...}, not %s",
			    ykind_name(e));
	en->pos = sc_pos(b, e);
	const struct ynode *kk = NULL;
	int ki = -1;
	for (size_t i = 0; i < e->n; i++) {
		for (int j = 0; entry_kinds[j]; j++)
			if (!strcmp(e->kv[2 * i]->s, entry_kinds[j])) {
				if (kk)
					return yerr(e->kv[2 * i],
						    "entry has both '%s' and '%s'; one per entry",
						    kk->s, entry_kinds[j]);
				kk = e->kv[2 * i];
				ki = j;
			}
	}
	if (!kk) {
		/* an unknown first key is most likely a misspelt kind */
		const char *sug = e->n ? ck_suggest(e->kv[0]->s, entry_kinds) : NULL;
		if (sug)
			return yerr(e->kv[0], "unknown entry kind '%s' (did you mean '%s'?)",
				    e->kv[0]->s, sug);
		return yerr(e, "entry needs a kind: %s", ck_list(entry_kinds));
	}
	en->kind = entry_enum[ki];
	const char *allowed[12];
	size_t na = 0;
	allowed[na++] = kk->s;
	for (int j = 0; entry_extra[en->kind][j]; j++)
		allowed[na++] = entry_extra[en->kind][j];
	allowed[na] = NULL;
	char where[64];
	snprintf(where, sizeof(where), "'%s' entry", kk->s);
	if (ck_keys(e, allowed, where))
		return -1;

	const struct ynode *v = ymap_get(e, kk->s);
	en->mode = entry_mode[en->kind];
	switch (en->kind) {
	case BL_ENT_TREE:
	case BL_ENT_LIST:
	case BL_ENT_CPIO:
		if (ck_host_path(v, kk->s, en->kind == BL_ENT_TREE, &en->source))
			return -1;
		if (en->kind == BL_ENT_TREE) {
			const struct ynode *p = ymap_get(e, "path");
			if (p ? ck_arch_path(p, "path", true, &en->path) : 0)
				return -1;
			if (!en->path)
				en->path = xstrdup("/");
		}
		break;
	case BL_ENT_MODULES: {
		struct strlist sl = STRLIST_INIT;
		if (v->kind == Y_SCALAR && !yis_null(v)) {
			sl_push(&sl, v->s);
		} else if (v->kind == Y_SEQ && v->n > 0) {
			for (size_t i = 0; i < v->n; i++) {
				char *m;
				if (ck_name(v->kv[i], "module", &m)) {
					sl_release(&sl);
					return -1;
				}
				sl_push_nocopy(&sl, m);
			}
		} else {
			return yerr(v, "'modules' must be a list of module names, not %s",
				    ykind_name(v));
		}
		sl_push_nocopy(&sl, NULL);
		en->modules = sl.v; /* NULL-terminated, ownership moves */
		break;
	}
	default:
		if (ck_arch_path(v, kk->s, false, &en->path))
			return -1;
		break;
	}

	const struct ynode *x;
	unsigned long long u;
	if ((x = ymap_get(e, "mode")) && ck_mode(x, "mode", &en->mode))
		return -1;
	if ((x = ymap_get(e, "uid"))) {
		if (ck_uint(x, "uid", 0xfffffffeULL, &u))
			return -1;
		en->uid = (unsigned)u;
	}
	if ((x = ymap_get(e, "gid"))) {
		if (ck_uint(x, "gid", 0xfffffffeULL, &u))
			return -1;
		en->gid = (unsigned)u;
	}

	return entry_extras(a, e, en);
}

static void entry_release(struct bl_entry *en)
{
	free(en->path);
	free(en->content);
	free(en->source);
	free(en->target);
	if (en->modules)
		for (char **m = en->modules; *m; m++)
			free(*m);
	free(en->modules);
}

/* an archive's own keys, without its entries */
static int archive_head(struct sc_build *b, const struct ynode *an, size_t idx)
{
	static const char *const keys[] = {"name", "codec",   "builtin", "corrupt",
					   "raw",  "entries", NULL};
	struct bl_scenario *s = b->s;
	struct bl_archive_spec *a = &s->archives[idx];
	if (an->kind != Y_MAP)
		return yerr(an, "an archive must be a mapping (name:, codec:, entries:), not %s",
			    ykind_name(an));
	if (ck_keys(an, keys, "archive"))
		return -1;
	a->pos = sc_pos(b, an);
	const struct ynode *x;
	if ((x = ymap_get(an, "name"))) {
		if (ck_name(x, "archive name", &a->name))
			return -1;
		for (size_t i = 0; i < idx; i++)
			if (s->archives[i].name && !strcmp(s->archives[i].name, a->name))
				return yerr(x, "two archives named '%s' (the first at line %d)",
					    a->name, s->archives[i].pos.line);
	} else {
		a->name = xasprintf("archive%zu", idx + 1);
	}
	const char *codecs[16];
	if ((x = ymap_get(an, "codec")) && ck_enum(x, "codec", codec_names(codecs), &a->codec))
		return -1;
	if ((x = ymap_get(an, "builtin")) && ck_bool(x, "builtin", &a->builtin))
		return -1;
	if ((x = ymap_get(an, "corrupt")) && ck_bool(x, "corrupt", &a->corrupt))
		return -1;
	if ((x = ymap_get(an, "raw")) && ck_host_path(x, "raw", false, &a->raw))
		return -1;
	const struct ynode *ents = ymap_get(an, "entries");
	if (a->raw && ents)
		return yerr(ymap_key(an, "entries"),
			    "archive '%s' has both 'raw' and 'entries'; pick one", a->name);
	if (a->raw && a->codec)
		return yerr(ymap_key(an, "codec"),
			    "archive '%s' is 'raw' (used as is), so 'codec' has no effect",
			    a->name);
	if (!a->raw && !ents)
		return yerr(an, "archive '%s' needs 'entries' (or 'raw')", a->name);
	if (!a->codec && !a->raw)
		a->codec = xstrdup("gzip");
	if (a->builtin && idx > 0)
		return yerr(ymap_key(an, "builtin"),
			    "builtin archive '%s' must come first (it is linked into the kernel, "
			    "before every external archive)",
			    a->name);
	return ents ? ck_seq(ents, "entries") : 0;
}

/* is entry I of archive A's ENTS a path an earlier entry has? */
static int ck_entry_dup(const struct bl_archive_spec *a, const struct ynode *ents, size_t i)
{
	const struct bl_entry *en = &a->entries[i];
	if (!en->path || en->kind == BL_ENT_TREE)
		return 0;
	for (size_t j = 0; j < i; j++)
		if (a->entries[j].path && a->entries[j].kind != BL_ENT_TREE &&
		    !strcmp(a->entries[j].path, en->path))
			return yerr(ents->kv[i], "'%s' is already in archive '%s' (line %d)",
				    en->path, a->name, a->entries[j].pos.line);
	return 0;
}

/* archive IDX; every bad entry is recorded. Returns -1 when anything was bad */
static int build_archive(struct sc_build *b, const struct ynode *an, size_t idx)
{
	struct bl_archive_spec *a = &b->s->archives[idx];
	if (!sc_ok(b, archive_head(b, an, idx)))
		return -1;
	const struct ynode *ents = ymap_get(an, "entries");
	int nerrs = b->nerrs;
	a->entries = xcalloc(ents && ents->n ? ents->n : 1, sizeof(*a->entries));
	for (size_t i = 0; ents && i < ents->n; i++) {
		a->nentries++; /* counted even on failure, so it is released */
		if (sc_ok(b, build_entry(b, a, ents->kv[i], &a->entries[i])))
			sc_ok(b, ck_entry_dup(a, ents, i));
	}
	return b->nerrs > nerrs ? -1 : 0;
}

/* ---- steps ---- */

static const char *const step_kinds[] = {"hello", "console", "send",	      "agent",
					 "panic", "outcome", "expect-script", NULL};

/* one `FIELD: EXPECTATION` of a step's `expect:` (K: V) into AS */
static int build_assert(struct sc_build *b, struct bl_assert *as, const struct ynode *k,
			const struct ynode *v)
{
	static const char *const ops[] = {"equals", "matches",	"exists",
					  "absent", "contains", NULL};
	as->pos = sc_pos(b, k);
	as->field = xstrdup(k->s);
	if (!k->s[0] || k->s[0] == '.' || k->s[strlen(k->s) - 1] == '.' || strstr(k->s, ".."))
		return yerr(k, "bad field path '%s' (like fds.0.rdev)", k->s);
	if (v->kind != Y_MAP) {
		as->op = BL_AS_EQUALS;
		as->value = yjson(v);
		return 0;
	}
	if (v->n != 1) {
		if (v->n == 0 || !ck_suggest(v->kv[0]->s, ops))
			return yerr(v,
				    "expectation for '%s' must be a value or one of "
				    "{%s: ...}; to compare with a mapping use {equals: {...}}",
				    k->s, ck_list(ops));
		return yerr(v->kv[2], "expectation for '%s' takes one of %s, not two", k->s,
			    ck_list(ops));
	}
	const struct ynode *ok = v->kv[0], *ov = v->kv[1];
	if (ck_keys(v, ops, "expectation"))
		return -1;
	bool t;
	if (!strcmp(ok->s, "equals")) {
		as->op = BL_AS_EQUALS;
		as->value = yjson(ov);
	} else if (!strcmp(ok->s, "contains")) {
		as->op = BL_AS_CONTAINS;
		as->value = yjson(ov);
	} else if (!strcmp(ok->s, "matches")) {
		as->op = BL_AS_MATCHES;
		if (ck_regex(ov, "matches", &as->regex, &as->re))
			return -1;
	} else {
		as->op = !strcmp(ok->s, "exists") ? BL_AS_EXISTS : BL_AS_ABSENT;
		if (ck_bool(ov, ok->s, &t))
			return -1;
		if (!t)
			return yerr(ov, "'%s: false' is not allowed; write '%s: true'", ok->s,
				    as->op == BL_AS_EXISTS ? "absent" : "exists");
	}
	return 0;
}

/* a step's `expect:`; every bad expectation is recorded */
static void build_asserts(struct sc_build *b, struct bl_step *st, const struct ynode *ex)
{
	if (!sc_ok(b, ck_map(ex, "expect")))
		return;
	st->asserts = xcalloc(ex->n ? ex->n : 1, sizeof(*st->asserts));
	for (size_t i = 0; i < ex->n; i++) {
		const struct ynode *k = ex->kv[2 * i], *v = ex->kv[2 * i + 1];
		struct bl_assert *as = &st->asserts[st->nasserts++];
		const struct ynode *val = v->kind == Y_MAP && v->n == 1 ? v->kv[1] : v;
		if (sc_ok(b, build_assert(b, as, k, v)))
			sc_ok(b, sc_check_expect(st, as, k, val));
	}
}

static int parse_errno(const struct ynode *v, char **out)
{
	if (v->kind == Y_SCALAR && v->plain && !strcmp(v->s, "true"))
		return 0; /* any error */
	if (v->kind != Y_SCALAR || yis_null(v))
		return yerr(v, "'error' must be an errno name like ENOENT, or true, not %s",
			    ykind_name(v));
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		char num[16];
		snprintf(num, sizeof(num), "%d", e);
		if (n && (!strcmp(n, v->s) || !strcmp(num, v->s))) {
			*out = xstrdup(n);
			return 0;
		}
	}
	return yerr(v, "unknown errno '%s' for 'error' (like ENOENT, EINVAL, or true for any)",
		    v->s);
}

static int parse_signal(const struct ynode *v, int *sig)
{
	if (v->kind != Y_SCALAR || yis_null(v))
		return yerr(v, "'signal' must be a signal name like SIGSEGV, not %s",
			    ykind_name(v));
	const char *s = v->s;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (int i = 1; i < 65; i++) {
		const char *n = sigabbrev_np(i);
		char num[16];
		snprintf(num, sizeof(num), "%d", i);
		if ((n && !strcmp(n, s)) || !strcmp(num, v->s)) {
			*sig = i;
			return 0;
		}
	}
	return yerr(v, "unknown signal '%s' (like SIGSEGV, SIGKILL or a number)", v->s);
}

static int build_panic(struct bl_step *st, const struct ynode *v)
{
	static const char *const keys[] = {"reason", "status", "signal", NULL};
	st->panic_status = -1;
	st->panic_signal = -1;
	if (yis_null(v) ||
	    (v->kind == Y_SCALAR && v->plain && (!strcmp(v->s, "any") || !strcmp(v->s, "true"))))
		return 0;
	if (v->kind != Y_MAP)
		return yerr(v,
			    "'panic' must be 'any' or a mapping {reason:, status:, signal:}, "
			    "not '%s'",
			    v->kind == Y_SCALAR ? v->s : ykind_name(v));
	if (ck_keys(v, keys, "panic"))
		return -1;
	const struct ynode *r = ymap_get(v, "reason"), *s = ymap_get(v, "status"),
			   *g = ymap_get(v, "signal");
	/* a step expects a panic: any reason but "none" */
	if (r && ck_enum(r, "panic reason", bl_panic_reason_names() + BL_PANIC_NONE + 1,
			 &st->panic_reason))
		return -1;
	if (s && g)
		return yerr(ymap_key(v, "signal"),
			    "panic has both 'status' and 'signal': init either exits or is killed");
	if ((s || g) && st->panic_reason && strcmp(st->panic_reason, "kill-init"))
		return yerr(ymap_key(v, s ? "status" : "signal"),
			    "'%s' only applies to reason 'kill-init', not '%s'",
			    s ? "status" : "signal", st->panic_reason);
	if (s) {
		unsigned long long u;
		if (ck_uint(s, "status", 255, &u))
			return -1;
		st->panic_status = (int)u;
	}
	if (g && parse_signal(g, &st->panic_signal))
		return -1;
	if ((s || g) && !st->panic_reason)
		st->panic_reason = xstrdup("kill-init");
	return 0;
}

/* an `agent:` step: SN the step, V its request; *GEN its generated name */
static int build_agent_step(const struct ynode *sn, const struct ynode *v, struct bl_step *st,
			    char **gen)
{
	const struct ynode *x;
	st->kind = BL_STEP_AGENT;
	if (ck_map(v, "agent"))
		return -1;
	const struct ynode *op = ymap_get(v, "op");
	if (!op)
		return yerr(v, "agent request needs 'op' (like {op: stat, path: /init})");
	char *ops;
	if (ck_text(op, "op", &ops))
		return -1;
	free(ops);
	if ((x = ymap_key(v, "id")))
		return yerr(x, "'id' is chosen by bootlab; leave it out");
	if ((x = ymap_get(sn, "error")) && parse_errno(x, &st->expect_errno))
		return -1;
	st->expect_error = x != NULL;
	if (!in_list(op->s, agent_ops) &&
	    !(st->expect_errno && !strcmp(st->expect_errno, "EOPNOTSUPP"))) {
		const char *sug = ck_suggest(op->s, agent_ops);
		if (sug)
			return yerr(op, "unknown agent op '%s' (did you mean '%s'?)", op->s, sug);
		return yerr(op,
			    "unknown agent op '%s' (see docs/protocol.md; "
			    "add 'error: EOPNOTSUPP' to test an unknown op)",
			    op->s);
	}
	st->request = yjson(v);
	st->no_reply = !st->expect_error && (!strcmp(op->s, "exit") || !strcmp(op->s, "kill") ||
					     !strcmp(op->s, "switch_root"));
	if ((x = ymap_get(sn, "no-reply")) && ck_bool(x, "no-reply", &st->no_reply))
		return -1;
	if (st->no_reply && st->expect_error)
		return yerr(ymap_key(sn, "error"),
			    "'error' needs a reply, but this step has no-reply");
	if (st->no_reply && ymap_get(sn, "expect"))
		return yerr(ymap_key(sn, "expect"),
			    "op '%s' gets no reply, so there is nothing to 'expect'", op->s);
	const struct ynode *path = ymap_get(v, "path");
	if (!path)
		path = ymap_get(v, "newroot");
	if (path && path->kind == Y_SCALAR)
		*gen = xasprintf("agent %s %s", op->s, path->s);
	else
		*gen = xasprintf("agent %s", op->s);
	return 0;
}

static int build_step(struct sc_build *b, const struct ynode *sn, struct bl_step *st, size_t idx)
{
	if (sn->kind != Y_MAP)
		return yerr(sn, "a step must be a mapping like {console: REGEX}, not %s",
			    ykind_name(sn));
	st->pos = sc_pos(b, sn);
	st->timeout_ms = 30000;
	st->panic_status = st->panic_signal = -1;
	const struct ynode *kk = NULL;
	for (size_t i = 0; i < sn->n; i++)
		if (in_list(sn->kv[2 * i]->s, step_kinds)) {
			if (kk)
				return yerr(sn->kv[2 * i],
					    "step has both '%s' and '%s'; one per step", kk->s,
					    sn->kv[2 * i]->s);
			kk = sn->kv[2 * i];
		}
	if (!kk) {
		const char *sug = sn->n ? ck_suggest(sn->kv[0]->s, step_kinds) : NULL;
		if (sug)
			return yerr(sn->kv[0], "unknown step '%s' (did you mean '%s'?)",
				    sn->kv[0]->s, sug);
		return yerr(sn, "step needs one of %s", ck_list(step_kinds));
	}
	const char *k = kk->s;
	const char *allowed[8] = {k, "name", "timeout"};
	size_t na = 3;
	if (!strcmp(k, "hello") || !strcmp(k, "agent"))
		allowed[na++] = "expect";
	if (!strcmp(k, "agent")) {
		allowed[na++] = "error";
		allowed[na++] = "no-reply";
	}
	allowed[na] = NULL;
	char where[64];
	snprintf(where, sizeof(where), "'%s' step", k);
	/* a known key in the wrong step gets its own message */
	for (size_t i = 0; i < sn->n; i++) {
		const char *key = sn->kv[2 * i]->s;
		if (!in_list(key, allowed) &&
		    (!strcmp(key, "expect") || !strcmp(key, "error") || !strcmp(key, "no-reply")))
			return yerr(sn->kv[2 * i], "'%s' does not apply to a '%s' step", key, k);
	}
	if (ck_keys(sn, allowed, where))
		return -1;

	const struct ynode *v = ymap_get(sn, k), *x;
	if ((x = ymap_get(sn, "name")) && ck_text(x, "name", &st->name))
		return -1;
	if ((x = ymap_get(sn, "timeout")) && ck_duration(x, "timeout", &st->timeout_ms))
		return -1;
	char *gen = NULL;
	if (!strcmp(k, "hello")) {
		static const char *const hkeys[] = {"stage", NULL};
		st->kind = BL_STEP_HELLO;
		if (!yis_null(v)) {
			if (ck_map(v, "hello") || ck_keys(v, hkeys, "hello"))
				return -1;
			if ((x = ymap_get(v, "stage"))) {
				unsigned long long u;
				if (ck_uint(x, "stage", 2, &u))
					return -1;
				if (u == 0)
					return yerr(x, "'stage' is 1 (the initramfs) or 2 (after "
						       "switch_root), not 0");
				st->stage = (int)u;
			}
		}
		gen = st->stage ? xasprintf("hello stage %d", st->stage) : xstrdup("hello");
	} else if (!strcmp(k, "console")) {
		st->kind = BL_STEP_CONSOLE_WAIT;
		if (ck_regex(v, "console", &st->regex, &st->re))
			return -1;
		gen = xasprintf("console /%s/", st->regex);
	} else if (!strcmp(k, "send")) {
		st->kind = BL_STEP_CONSOLE_SEND;
		if (v->kind != Y_SCALAR || yis_null(v))
			return yerr(v, "'send' must be text, not %s", ykind_name(v));
		st->text = xmalloc(v->len + 1);
		memcpy(st->text, v->s, v->len + 1);
		gen = xstrdup("send");
	} else if (!strcmp(k, "agent")) {
		if (build_agent_step(sn, v, st, &gen))
			return -1;
	} else if (!strcmp(k, "panic")) {
		st->kind = BL_STEP_EXPECT_PANIC;
		if (build_panic(st, v))
			return -1;
		gen = st->panic_reason ? xasprintf("panic %s", st->panic_reason) : xstrdup("panic");
	} else if (!strcmp(k, "outcome")) {
		st->kind = BL_STEP_EXPECT_OUTCOME;
		if (ck_enum(v, "outcome", bl_outcome_names(), &st->outcome))
			return -1;
		gen = xasprintf("outcome %s", st->outcome);
	} else {
		st->kind = BL_STEP_EXPECT_SCRIPT;
		if (ck_host_path(v, "expect-script", false, &st->script))
			return -1;
		const char *base = strrchr(st->script, '/');
		gen = xasprintf("expect-script %s", base ? base + 1 : st->script);
	}
	if (!st->name)
		st->name = xasprintf("%zu: %s", idx + 1, gen);
	free(gen);
	return 0;
}

static void step_release(struct bl_step *st)
{
	free(st->name);
	if (st->regex)
		regfree(&st->re);
	free(st->regex);
	free(st->text);
	json_decref(st->request);
	free(st->expect_errno);
	for (size_t i = 0; i < st->nasserts; i++) {
		struct bl_assert *as = &st->asserts[i];
		free(as->field);
		json_decref(as->value);
		if (as->regex)
			regfree(&as->re);
		free(as->regex);
	}
	free(st->asserts);
	free(st->outcome);
	free(st->panic_reason);
	free(st->script);
}

/* Steps that cannot run where they are written: nothing answers after PID 1
 * exited, was killed or powered the machine off, or after a panic; and the
 * final outcome comes last. */
static int check_order(const struct bl_scenario *s, const struct ynode *steps)
{
	const char *gone = NULL; /* why the agent cannot answer any more */
	size_t gone_at = 0;
	for (size_t i = 0; i < s->nsteps; i++) {
		const struct bl_step *st = &s->steps[i];
		const struct ynode *sn = steps->kv[i];
		if (st->kind == BL_STEP_EXPECT_OUTCOME && i + 1 < s->nsteps)
			return yerr(
			    steps->kv[i + 1],
			    "no step can follow 'outcome' (step %zu): it is the end of the boot",
			    i + 1);
		if (gone && (st->kind == BL_STEP_AGENT || st->kind == BL_STEP_HELLO))
			return yerr(sn, "step %zu waits for the agent, but %s in step %zu", i + 1,
				    gone, gone_at + 1);
		if (st->kind == BL_STEP_EXPECT_PANIC) {
			gone = "the kernel panicked";
			gone_at = i;
		} else if (st->kind == BL_STEP_AGENT && !st->expect_error) {
			const char *op = json_string_value(json_object_get(st->request, "op"));
			if (op && !strcmp(op, "exit"))
				gone = "PID 1 exited";
			else if (op && !strcmp(op, "kill"))
				gone = "PID 1 was killed";
			else if (op && !strcmp(op, "poweroff"))
				gone = "the machine powered off";
			else
				continue;
			gone_at = i;
		}
	}
	return 0;
}

/* hello and agent steps need the agent somewhere: an `agent:` entry, a
 * disk filesystem's `agent:`, or an archive made elsewhere (raw, list,
 * cpio, tree) that may hold it */
static int check_agent_placed(const struct bl_scenario *s, const struct ynode *steps)
{
	size_t i;
	for (i = 0; i < s->nsteps; i++)
		if (s->steps[i].kind == BL_STEP_HELLO || s->steps[i].kind == BL_STEP_AGENT)
			break;
	if (i == s->nsteps)
		return 0;
	for (size_t a = 0; a < s->narchives; a++) {
		if (s->archives[a].raw)
			return 0;
		for (size_t e = 0; e < s->archives[a].nentries; e++)
			switch (s->archives[a].entries[e].kind) {
			case BL_ENT_AGENT:
			case BL_ENT_LIST:
			case BL_ENT_CPIO:
			case BL_ENT_TREE:
				return 0;
			default:
				break;
			}
	}
	if (sc_disks_have_agent(&s->disks))
		return 0;
	return yerr(steps->kv[i],
		    "step %zu talks to the agent, but no archive or disk holds it (add '- agent: "
		    "/init' to an archive's entries)",
		    i + 1);
}

static int build_machine(struct bl_scenario *s, const struct ynode *root)
{
	const struct ynode *an = ymap_get(root, "arch"), *bn = ymap_get(root, "backend"),
			   *mn = ymap_get(root, "machine");
	if (an ? ck_enum(an, "arch", arches, &s->arch) : (s->arch = xstrdup("x86_64"), 0))
		return -1;
	if (bn ? ck_enum(bn, "backend", backends, &s->backend) : (s->backend = xstrdup("qemu"), 0))
		return -1;
	if (mn) {
		if (ck_enum(mn, "machine", machines, &s->machine))
			return -1;
		if (!strcmp(s->machine, "auto")) {
			free(s->machine);
			s->machine = NULL;
		}
	}
	if (!strcmp(s->backend, "uml") && strcmp(s->arch, "x86_64"))
		return yerr(bn, "backend 'uml' runs x86_64 only, not arch '%s'", s->arch);
	if (s->machine) {
		if (!strcmp(s->backend, "uml"))
			return yerr(mn, "'machine' has no meaning with backend 'uml'");
		bool arm = !strcmp(s->machine, "virt");
		if (arm != !strcmp(s->arch, "aarch64"))
			return yerr(mn, "machine '%s' is not an %s machine (%s)", s->machine,
				    s->arch, arm ? "microvm, q35 or pc" : "virt");
	}
	return 0;
}

static int build_memory(struct bl_scenario *s, const struct ynode *x)
{
	unsigned long long m;
	if (ck_size(x, "memory", &m))
		return -1;
	if (m % (1 << 20))
		return yerr(x,
			    "memory '%s' is not a whole number of MiB (a plain number "
			    "is bytes; write 256M)",
			    x->s);
	if (m < (16ULL << 20) || m > (64ULL << 30))
		return yerr(x, "memory '%s' is out of range (16M to 64G)", x->s);
	s->memory_mb = (int)(m >> 20);
	return 0;
}

static int build_emulator_args(struct bl_scenario *s, const struct ynode *x)
{
	if (ck_seq(x, "emulator-args"))
		return -1;
	s->emulator_args = xcalloc(x->n + 1, sizeof(char *));
	for (size_t i = 0; i < x->n; i++)
		if (ck_text(x->kv[i], "emulator-args", &s->emulator_args[i]))
			return -1;
	return 0;
}

/* what archive AN (number I) needs of the kernel */
static int ck_archive_kernel(const struct bl_scenario *s, const struct ynode *an, size_t i)
{
	const struct bl_archive_spec *a = &s->archives[i];
	if (a->builtin && strcmp(s->kernel.kind, "build"))
		return yerr(ymap_key(an, "builtin"),
			    "builtin archive '%s' needs a kernel built from kernels/ "
			    "('kernel: {build: ...}'), not '%s'",
			    a->name, s->kernel.kind);
	for (size_t j = 0; j < a->nentries; j++)
		if (a->entries[j].kind == BL_ENT_MODULES && strcmp(s->kernel.kind, "distro"))
			return yerr(ymap_key(ymap_get(an, "entries")->kv[j], "modules"),
				    "a 'modules' entry needs a distro kernel (kernel: "
				    "{distro: ...}), not '%s'",
				    s->kernel.kind);
	return 0;
}

/* `archives:`; every bad archive and entry is recorded. KERNEL_OK: the
 * kernel was good, so what the archives need of it can be checked */
static void build_archives(struct sc_build *b, const struct ynode *x, bool kernel_ok)
{
	struct bl_scenario *s = b->s;
	if (!sc_ok(b, ck_seq(x, "archives")))
		return;
	s->archives = xcalloc(x->n ? x->n : 1, sizeof(*s->archives));
	for (size_t i = 0; i < x->n; i++) {
		s->narchives++;
		if (!build_archive(b, x->kv[i], i) && kernel_ok)
			sc_ok(b, ck_archive_kernel(s, x->kv[i], i));
	}
}

/* `steps:`; every bad step is recorded. KEYS_OK: no top-level key was
 * unknown (else a missing `steps` is most likely that misspelt key) */
static void build_steps(struct sc_build *b, const struct ynode *root, const char *name,
			bool keys_ok)
{
	struct bl_scenario *s = b->s;
	const struct ynode *x = ymap_get(root, "steps");
	if (!x) {
		if (keys_ok)
			sc_ok(b, yerr(root, "scenario '%s' needs 'steps'", name));
		return;
	}
	if (!sc_ok(b, ck_seq(x, "steps")))
		return;
	if (x->n == 0) {
		sc_ok(b, yerr(x, "'steps' is empty; a scenario needs at least one step"));
		return;
	}
	s->steps = xcalloc(x->n, sizeof(*s->steps));
	for (size_t i = 0; i < x->n; i++) {
		const struct ynode *ex = ymap_get(x->kv[i], "expect");
		s->nsteps++;
		if (sc_ok(b, build_step(b, x->kv[i], &s->steps[i], i)) && ex)
			build_asserts(b, &s->steps[i], ex);
	}
	/* the order and the agent's place need every part built */
	if (!b->nerrs && sc_ok(b, check_order(s, x)))
		sc_ok(b, check_agent_placed(s, x));
}

/* ---- the whole scenario ---- */

/* every check whose result others do not need runs, and each error is
 * recorded: a file's mistakes are reported together */
static int build_top(struct sc_build *b, const struct ynode *root, const char *name)
{
	struct bl_scenario *s = b->s;
	const struct ynode *x;
	s->pos = sc_pos(b, root);
	s->name = xstrdup(name);
	bool keys_ok = true;
	for (size_t i = 0; i < root->n; i++)
		keys_ok &= sc_ok(b, ck_key(root->kv[2 * i], top_keys, "scenario"));
	if ((x = ymap_get(root, "description")))
		sc_ok(b, ck_text(x, "description", &s->description));
	bool machine_ok = sc_ok(b, build_machine(s, root)), kernel_ok = true;
	if ((x = ymap_get(root, "kernel"))) {
		kernel_ok = sc_ok(b, build_kernel(b, x));
	} else {
		s->kernel.kind = xstrdup("build");
		s->kernel.pos = s->pos;
	}
	if (machine_ok && kernel_ok && !strcmp(s->backend, "uml") &&
	    !strcmp(s->kernel.kind, "distro"))
		sc_ok(b, yerr(ymap_key(ymap_get(root, "kernel"), "distro"),
			      "backend 'uml' needs a UML kernel ('build' or 'image: "
			      "/usr/bin/linux'), not a distro kernel"));
	if ((x = ymap_get(root, "cmdline")))
		sc_ok(b, ck_text(x, "cmdline", &s->cmdline));
	s->memory_mb = 256;
	if ((x = ymap_get(root, "memory")))
		sc_ok(b, build_memory(s, x));
	s->timeout_ms = 60000;
	if ((x = ymap_get(root, "timeout")))
		sc_ok(b, ck_duration(x, "timeout", &s->timeout_ms));
	if ((x = ymap_get(root, "emulator-args")))
		sc_ok(b, build_emulator_args(s, x));
	if ((x = ymap_get(root, "observe")))
		sc_ok(b, ck_bool(x, "observe", &s->observe));
	if ((x = ymap_get(root, "archives")))
		build_archives(b, x, kernel_ok);
	sc_ok(b, sc_disks(b, ymap_get(root, "disks"), ymap_get(root, "arrays")));
	sc_kreports(b, ymap_get(root, "fail-on"), ymap_get(root, "expect-report"));
	build_steps(b, root, name, keys_ok);
	return b->nerrs ? -1 : 0;
}

void bl_gate_steps_free(struct bl_gate_steps *gs)
{
	if (gs)
		free(gs->passphrase);
	free(gs);
}

void bl_scenario_free(struct bl_scenario *s)
{
	if (!s)
		return;
	free(s->file);
	free(s->name);
	free(s->base_name);
	free(s->variant);
	free(s->description);
	sc_kreports_free(s);
	free(s->arch);
	free(s->backend);
	free(s->machine);
	free(s->kernel.kind);
	free(s->kernel.config);
	free(s->kernel.image);
	free(s->kernel.modules_dir);
	free(s->kernel.package);
	for (size_t i = 0; i < s->narchives; i++) {
		struct bl_archive_spec *a = &s->archives[i];
		free(a->name);
		free(a->codec);
		free(a->raw);
		for (size_t j = 0; j < a->nentries; j++)
			entry_release(&a->entries[j]);
		free(a->entries);
	}
	free(s->archives);
	bl_disk_plan_release(&s->disks);
	for (size_t i = 0; s->attach && s->attach[i]; i++) {
		free(s->attach[i]);
		free(s->attach_src[i]);
	}
	free(s->attach);
	free(s->attach_src);
	free(s->attach_late_ms);
	free(s->cmdline);
	if (s->emulator_args)
		for (char **a = s->emulator_args; *a; a++)
			free(*a);
	free(s->emulator_args);
	for (size_t i = 0; i < s->nsteps; i++)
		step_release(&s->steps[i]);
	free(s->steps);
	bl_gate_steps_free(s->gate);
	if (s->srcfiles)
		for (char **f = s->srcfiles; *f; f++)
			free(*f);
	free(s->srcfiles);
	free(s);
}

struct bl_scenario *sc_plan(const struct ynode *root, const char *name, const char *variant,
			    const char *file)
{
	struct sc_build b = {0};
	b.s = xcalloc(1, sizeof(*b.s));
	b.s->file = xstrdup(file);
	b.s->base_name = xstrdup(name);
	b.s->variant = variant ? xstrdup(variant) : NULL;
	int rc = build_top(&b, root, name);
	if (b.nerrs > SC_MAX_ERRORS)
		sb_addf(&b.errs, "\n%s:%d:%d: %d more errors not shown", b.s->pos.file,
			b.s->pos.line, b.s->pos.col, b.nerrs - SC_MAX_ERRORS);
	if (rc)
		bl_err("%s", sb_str(&b.errs));
	sb_release(&b.errs);
	if (!b.files)
		b.files = xcalloc(1, sizeof(char *));
	b.s->srcfiles = b.files;
	if (!rc && variant) {
		free(b.s->name);
		b.s->name = xasprintf("%s[%s]", name, variant);
	}
	if (rc) {
		bl_scenario_free(b.s);
		return NULL;
	}
	return b.s;
}
