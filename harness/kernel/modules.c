/* Module dependencies with libkmod, read from the kernel's own modules tree
 * (never the host's running kernel): a depth-first walk over modules.dep,
 * dependencies first, each module once, built-ins skipped.
 *
 * libkmod is opened with dlopen the first time a distro kernel needs it:
 * linked in, it and the libraries it pulls (zstd, xz, zlib, OpenSSL as
 * shared objects) cost ~2 ms of dynamic linking on every bootlab start,
 * ~7% of a UML boot, for the few boots that use a distro kernel. */
#include "kernel.h"
#include "util/util.h"

#include <dlfcn.h>
#include <libkmod.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct {
	struct kmod_ctx *(*new_)(const char *, const char *const *);
	struct kmod_ctx *(*unref)(struct kmod_ctx *);
	int (*new_from_lookup)(struct kmod_ctx *, const char *, struct kmod_list **);
	struct kmod_list *(*list_next)(const struct kmod_list *, const struct kmod_list *);
	struct kmod_module *(*get_module)(const struct kmod_list *);
	struct kmod_list *(*get_dependencies)(const struct kmod_module *);
	const char *(*get_name)(const struct kmod_module *);
	const char *(*get_path)(const struct kmod_module *);
	struct kmod_module *(*mod_unref)(struct kmod_module *);
	int (*unref_list)(struct kmod_list *);
} km;
static int km_ok;
static pthread_once_t km_once = PTHREAD_ONCE_INIT;

static void km_load(void)
{
	void *h = dlopen("libkmod.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
	*(void **)&km.new_ = dlsym(h, "kmod_new");
	*(void **)&km.unref = dlsym(h, "kmod_unref");
	*(void **)&km.new_from_lookup = dlsym(h, "kmod_module_new_from_lookup");
	*(void **)&km.list_next = dlsym(h, "kmod_list_next");
	*(void **)&km.get_module = dlsym(h, "kmod_module_get_module");
	*(void **)&km.get_dependencies = dlsym(h, "kmod_module_get_dependencies");
	*(void **)&km.get_name = dlsym(h, "kmod_module_get_name");
	*(void **)&km.get_path = dlsym(h, "kmod_module_get_path");
	*(void **)&km.mod_unref = dlsym(h, "kmod_module_unref");
	*(void **)&km.unref_list = dlsym(h, "kmod_module_unref_list");
	km_ok = km.new_ && km.unref && km.new_from_lookup && km.list_next && km.get_module &&
		km.get_dependencies && km.get_name && km.get_path && km.mod_unref && km.unref_list;
}

/* the names below are libkmod's own, resolved through the table */
#undef kmod_list_foreach
#define kmod_list_foreach(e, first) for ((e) = (first); (e); (e) = km.list_next((first), (e)))
#define kmod_new km.new_
#define kmod_unref km.unref
#define kmod_module_new_from_lookup km.new_from_lookup
#define kmod_module_get_module km.get_module
#define kmod_module_get_dependencies km.get_dependencies
#define kmod_module_get_name km.get_name
#define kmod_module_get_path km.get_path
#define kmod_module_unref km.mod_unref
#define kmod_module_unref_list km.unref_list

struct walk {
	struct kmod_ctx *ctx;
	struct strlist out;  /* .ko paths in load order */
	struct strlist seen; /* module names visited */
};

static int seen(struct walk *w, const char *name)
{
	for (size_t i = 0; i < w->seen.n; i++)
		if (!strcmp(w->seen.v[i], name))
			return 1;
	sl_push(&w->seen, name);
	return 0;
}

static int visit(struct walk *w, struct kmod_module *mod, int depth)
{
	const char *name = kmod_module_get_name(mod);
	if (seen(w, name))
		return 0;
	if (depth > 64)
		return bl_err("module '%s': dependency chain too deep", name);
	const char *path = kmod_module_get_path(mod);
	if (!path)
		return 0; /* built in (modules.builtin) */
	/* modules.dep lists every dependency, the ones needed first at the end;
	 * libkmod hands them over reversed, so this is modules.dep read from
	 * its end, the order modprobe loads them in */
	struct kmod_list *deps = kmod_module_get_dependencies(mod), *l;
	struct kmod_module **v = NULL;
	size_t n = 0, alloc = 0;
	kmod_list_foreach(l, deps)
	{
		BL_GROW(v, n, alloc);
		v[n++] = kmod_module_get_module(l);
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if (rc == 0)
			rc = visit(w, v[i], depth + 1);
	for (size_t i = 0; i < n; i++)
		kmod_module_unref(v[i]);
	free(v);
	kmod_module_unref_list(deps);
	if (rc == 0)
		sl_push(&w->out, path);
	return rc;
}

/* is name built in? modules.builtin lists kernel/.../name.ko, '-' and '_' alike */
static int builtin(const char *mdir, const char *name)
{
	char *p = xasprintf("%s/modules.builtin", mdir), *data;
	size_t len;
	int r = 0;
	if (bl_read_file(p, &data, &len) == 0) {
		for (char *s = strtok(data, "\n"); s && !r; s = strtok(NULL, "\n")) {
			char *b = strrchr(s, '/');
			b = b ? b + 1 : s;
			size_t bl = strcspn(b, ".");
			if (bl != strlen(name))
				continue;
			r = 1;
			for (size_t i = 0; i < bl && r; i++) {
				char x = b[i] == '-' ? '_' : b[i],
				     y = name[i] == '-' ? '_' : name[i];
				r = x == y;
			}
		}
		free(data);
	}
	free(p);
	return r;
}

int bl_kernel_modules_resolve(const struct bl_kernel *k, const char *const *names, size_t n,
			      char ***paths, size_t *npaths)
{
	*paths = NULL;
	*npaths = 0;
	if (!k->modules_dir) {
		if (n)
			return bl_err("kernel '%s' has no modules folder; cannot load '%s'",
				      k->image, names[0]);
		*paths = xcalloc(1, sizeof(char *));
		return 0;
	}
	pthread_once(&km_once, km_load);
	if (!km_ok) {
		bl_err("cannot load libkmod.so.2 (install libkmod2 with ci/install-deps): %s",
		       dlerror() ? dlerror() : "missing symbols");
		bl_err_kind(BL_EK_INFRA);
		return -1;
	}
	struct walk w = {.out = STRLIST_INIT, .seen = STRLIST_INIT};
	const char *null_cfg = NULL;
	w.ctx = kmod_new(k->modules_dir, &null_cfg); /* no modprobe.d of the host */
	if (!w.ctx) {
		bl_err_errno("cannot read modules folder '%s'", k->modules_dir);
		bl_err_kind(BL_EK_INFRA);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct kmod_list *list = NULL, *l;
		int r = kmod_module_new_from_lookup(w.ctx, names[i], &list);
		if (r < 0 || !list) {
			if (builtin(k->modules_dir, names[i]))
				continue;
			rc = bl_err("module '%s' not found in '%s'", names[i], k->modules_dir);
			break;
		}
		kmod_list_foreach(l, list)
		{
			struct kmod_module *m = kmod_module_get_module(l);
			if (rc == 0)
				rc = visit(&w, m, 0);
			kmod_module_unref(m);
			break; /* the first match: the module itself, or the alias's first */
		}
		kmod_module_unref_list(list);
	}
	kmod_unref(w.ctx);
	sl_release(&w.seen);
	if (rc < 0) {
		sl_release(&w.out);
		return -1;
	}
	*npaths = w.out.n;
	BL_GROW(w.out.v, w.out.n, w.out.alloc); /* room for the NULL */
	w.out.v[w.out.n] = NULL;
	*paths = w.out.v;
	return 0;
}

int bl_kernel_agent_modules(const struct bl_kernel *k, const char *transport, char ***paths,
			    size_t *npaths)
{
	const char *names[2];
	size_t n = 0;
	int pci = transport && !strcmp(transport, "pci");
	if (!transport || (!pci && strcmp(transport, "mmio")))
		return bl_err("unknown virtio transport '%s' (pci, mmio)",
			      transport ? transport : "");
	/* UML has no virtio: its agent line is a tty, always built in */
	if (k->arch && !strcmp(k->arch, "um")) {
		*paths = xcalloc(1, sizeof(char *));
		*npaths = 0;
		return 0;
	}
	if (bl_kernel_config(k, pci ? "VIRTIO_PCI" : "VIRTIO_MMIO") != 'y')
		names[n++] = pci ? "virtio_pci" : "virtio_mmio";
	if (bl_kernel_config(k, "VIRTIO_CONSOLE") != 'y')
		names[n++] = "virtio_console";
	if (n && !k->config && !k->modules_dir) {
		/* nothing known: assume a kernel built for this (no modules to add) */
		n = 0;
	}
	return bl_kernel_modules_resolve(k, names, n, paths, npaths);
}
