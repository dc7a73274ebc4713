/* plan -> artifacts: the kernel (cached build, relink with a built-in
 * archive, or a distro image), the external archives stacked into one
 * initrd, and the disks. Everything lands in the boot's work folder except
 * what the caches keep. */
#include "archive/archive.h"
#include "disk/disk.h"
#include "kernel/kernel.h"
#include "machine/machine.h"
#include "session/session.h"
#include "util/util.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *bl_agent_path(const char *arch)
{
	const char *env = getenv("BOOTLAB_AGENT_DIR");
	char *home = bl_self_dir();
	char *p = env && *env ? xasprintf("%s/%s/init-agent", env, arch)
			      : xasprintf("%s/build/agent/%s/init-agent", home, arch);
	free(home);
	return p;
}

static uint32_t archive_mtime(void)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	return sde && *sde ? (uint32_t)strtoul(sde, NULL, 10) : 0;
}

static unsigned mode_or(const struct bl_entry *e, unsigned def)
{
	return e->mode ? e->mode : def;
}

/* a .ko file under /lib/modules/bootlab/ and its line in the order file
 * the agent loads (bootlab.modules=); each module once */
static int add_module_file(struct bl_archive *a, const char *path, struct strlist *order)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char *dst = xasprintf("/lib/modules/bootlab/%s", base);
	for (size_t i = 0; i < order->n; i++)
		if (!strcmp(order->v[i], dst)) {
			free(dst);
			return 0;
		}
	int rc = bl_archive_add_file_host(a, dst, 0644, 0, 0, path);
	sl_push_nocopy(order, dst);
	return rc;
}

/* kernel modules for a distro kernel, resolved with their dependencies */
static int add_modules(struct bl_archive *a, const struct bl_kernel *k, const char *const *names,
		       size_t n, struct strlist *order)
{
	char **paths = NULL;
	size_t np = 0;
	if (!k->modules_dir)
		return bl_err("modules requested, but kernel '%s' has no modules folder", k->image);
	if (bl_kernel_modules_resolve(k, names, n, &paths, &np) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < np && rc == 0; i++)
		rc = add_module_file(a, paths[i], order);
	for (size_t i = 0; i < np; i++)
		free(paths[i]);
	free(paths);
	return rc;
}

static int ensure_dir(struct bl_archive *a, const char *path, struct strlist *made)
{
	for (size_t i = 0; i < made->n; i++)
		if (!strcmp(made->v[i], path))
			return 0;
	sl_push(made, path);
	return bl_archive_add_dir(a, path, 0755, 0, 0);
}

static int add_module_dirs(struct bl_archive *a, struct strlist *made)
{
	int rc = ensure_dir(a, "/lib", made);
	if (!rc)
		rc = ensure_dir(a, "/lib/modules", made);
	if (!rc)
		rc = ensure_dir(a, "/lib/modules/bootlab", made);
	return rc;
}

/* Build one archive into OUT. With HOST_MODULES it also carries the
 * modules the agent's port needs (prep->auto_modules), first in the
 * order file. */
static int build_archive(const struct bl_scenario *sc, const struct bl_archive_spec *as,
			 const struct bl_kernel *k, const char *out, struct bl_prepared *prep,
			 bool host_modules)
{
	struct bl_archive *a = bl_archive_new();
	struct strlist order = STRLIST_INIT, made = STRLIST_INIT;
	int rc = 0;
	if (host_modules && prep->auto_modules && prep->auto_modules[0]) {
		rc = add_module_dirs(a, &made);
		for (size_t i = 0; prep->auto_modules[i] && rc == 0; i++)
			rc = add_module_file(a, prep->auto_modules[i], &order);
		if (rc < 0)
			bl_err_prefix("modules for the agent's port");
	}
	for (size_t i = 0; i < as->nentries && rc == 0; i++) {
		const struct bl_entry *e = &as->entries[i];
		switch (e->kind) {
		case BL_ENT_FILE:
			if (e->source)
				rc = bl_archive_add_file_host(a, e->path, mode_or(e, 0644), e->uid,
							      e->gid, e->source);
			else
				rc = bl_archive_add_file_data(a, e->path, mode_or(e, 0644), e->uid,
							      e->gid, e->content ? e->content : "",
							      e->content_len);
			break;
		case BL_ENT_DIR:
			rc = bl_archive_add_dir(a, e->path, mode_or(e, 0755), e->uid, e->gid);
			break;
		case BL_ENT_NOD:
			rc = bl_archive_add_nod(a, e->path, mode_or(e, 0600), e->uid, e->gid,
						e->devtype, e->major, e->minor);
			break;
		case BL_ENT_SLINK:
			rc = bl_archive_add_symlink(a, e->path, e->target, mode_or(e, 0777), e->uid,
						    e->gid);
			break;
		case BL_ENT_PIPE:
			rc = bl_archive_add_special(a, e->path, 'p', mode_or(e, 0644), e->uid,
						    e->gid);
			break;
		case BL_ENT_SOCK:
			rc = bl_archive_add_special(a, e->path, 's', mode_or(e, 0644), e->uid,
						    e->gid);
			break;
		case BL_ENT_HARDLINK:
			rc = bl_archive_add_hardlink(a, e->path, e->target);
			break;
		case BL_ENT_TREE:
			rc = bl_archive_add_tree(a, e->source, e->path ? e->path : "",
						 BL_ARCHIVE_SQUASH, BL_ARCHIVE_SQUASH);
			break;
		case BL_ENT_LIST:
			rc = bl_archive_add_list(a, e->source);
			break;
		case BL_ENT_CPIO:
			rc = bl_archive_add_cpio(a, e->source);
			break;
		case BL_ENT_AGENT: {
			char *ag = bl_agent_path(prep->arch);
			if (access(ag, R_OK) < 0) {
				rc = bl_err("the agent for '%s' is not built: '%s' (run 'make "
					    "agent ARCH=%s')",
					    prep->arch, ag, prep->arch);
				bl_err_kind(BL_EK_INFRA);
			} else {
				rc = bl_archive_add_file_host(a, e->path, mode_or(e, 0755), e->uid,
							      e->gid, ag);
			}
			free(ag);
			break;
		}
		case BL_ENT_MODULES: {
			size_t n = 0;
			while (e->modules && e->modules[n])
				n++;
			rc = add_module_dirs(a, &made);
			if (!rc)
				rc = add_modules(a, k, (const char *const *)e->modules, n, &order);
			break;
		}
		}
		if (rc < 0 && bl_err_last_kind() != BL_EK_INFRA) {
			bl_err_prefix("%s:%d:%d: archive '%s'",
				      e->pos.file ? e->pos.file : sc->file, e->pos.line, e->pos.col,
				      as->name);
			rc = -2; /* located */
		}
	}
	if (rc == 0 && order.n) {
		struct strbuf list = STRBUF_INIT;
		for (size_t i = 0; i < order.n; i++)
			sb_addf(&list, "%s\n", order.v[i]);
		rc = bl_archive_add_file_data(a, "/lib/modules/bootlab/order", 0644, 0, 0, list.buf,
					      list.len);
		sb_release(&list);
		prep->modules_order = true;
	}
	if (rc == 0) {
		struct strbuf z = STRBUF_INIT;
		rc = bl_archive_bytes(a, as->codec ? as->codec : "gzip", archive_mtime(), &z);
		if (rc == 0) /* the run's scratch folder: no fsync */
			rc = bl_write_file(out, z.buf, z.len, 0644);
		sb_release(&z);
	}
	bl_archive_free(a);
	sl_release(&order);
	sl_release(&made);
	return rc;
}

/* The observer's segment (docs/observe.md): the agent as
 * /.bootlab/observer, the folders its tracer mounts on in a namespace of
 * its own, and the modules the agent's port needs with their order file,
 * all under /.bootlab, so the project's archives stay as they are and
 * nothing of theirs is replaced. */
static int build_observer(const struct bl_prepared *prep, const char *out)
{
	static const char *const dirs[] = {"/.bootlab", "/.bootlab/dev", "/.bootlab/proc",
					   "/.bootlab/sys", "/.bootlab/modules"};
	struct bl_archive *a = bl_archive_new();
	struct strbuf order = STRBUF_INIT;
	char *ag = bl_agent_path(prep->arch);
	int rc = 0;
	if (access(ag, R_OK) < 0) {
		rc = bl_err("the agent for '%s' is not built: '%s' (run 'make agent ARCH=%s')",
			    prep->arch, ag, prep->arch);
		bl_err_kind(BL_EK_INFRA);
	}
	for (size_t i = 0; i < BL_ARRAY_SIZE(dirs) && rc == 0; i++)
		rc = bl_archive_add_dir(a, dirs[i], 0755, 0, 0);
	if (rc == 0)
		rc = bl_archive_add_file_host(a, "/.bootlab/observer", 0755, 0, 0, ag);
	for (size_t i = 0; prep->auto_modules && prep->auto_modules[i] && rc == 0; i++) {
		const char *base = strrchr(prep->auto_modules[i], '/');
		base = base ? base + 1 : prep->auto_modules[i];
		char *dst = xasprintf("/.bootlab/modules/%s", base);
		rc = bl_archive_add_file_host(a, dst, 0644, 0, 0, prep->auto_modules[i]);
		sb_addf(&order, "/modules/%s\n", base); /* as the tracer's chroot sees it */
		free(dst);
	}
	if (rc == 0 && order.len)
		rc = bl_archive_add_file_data(a, "/.bootlab/modules/order", 0644, 0, 0, order.buf,
					      order.len);
	if (rc == 0) {
		struct strbuf z = STRBUF_INIT;
		rc = bl_archive_bytes(a, "gzip", archive_mtime(), &z);
		if (rc == 0)
			rc = bl_write_file(out, z.buf, z.len, 0644);
		sb_release(&z);
	}
	if (rc < 0 && bl_err_last_kind() != BL_EK_INFRA)
		bl_err_prefix("the observer's archive segment");
	sb_release(&order);
	free(ag);
	bl_archive_free(a);
	return rc;
}

/* test aid: damage the middle of a compressed segment the way a bad
 * download or disk would */
static int corrupt_file(const char *path)
{
	char *data;
	size_t len;
	if (bl_read_file(path, &data, &len) < 0)
		return -1;
	if (len < 64) {
		free(data);
		return bl_err("'%s' is too small to corrupt", path);
	}
	for (size_t i = len / 2; i < len / 2 + 16 && i < len; i++)
		data[i] = (char)(data[i] ^ 0x5a);
	int rc = bl_write_file_atomic(path, data, len, 0644);
	free(data);
	return rc;
}

static const char *kernel_arch(const struct bl_scenario *sc)
{
	if (sc->backend && !strcmp(sc->backend, "uml"))
		return "um";
	return sc->arch;
}

/* the scenario's disks as images in the work folder (cached by content) */
static int prepare_disks(const struct bl_scenario *sc, const char *workdir, struct bl_prepared *p)
{
	char *agent = bl_agent_path(p->arch);
	struct bl_disk_opts o = {.agent_path = agent};
	struct bl_disk_image *imgs = NULL;
	size_t n = 0;
	int rc = bl_disks_build(&sc->disks, workdir, &o, &imgs, &n);
	if (rc == BL_DISK_ERR_AT)
		rc = -2; /* located: the message starts with the field's FILE:LINE:COL */
	if (rc == 0) {
		p->disks = xcalloc(n ? n : 1, sizeof(char *));
		p->disk_sources = xcalloc(n ? n : 1, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			if (imgs[i].absent)
				continue;
			p->disk_sources[p->ndisks] = xstrdup(imgs[i].cached);
			p->disks[p->ndisks++] = xstrdup(imgs[i].path);
		}
	}
	bl_disk_images_free(imgs, n);
	free(agent);
	return rc;
}

/* the plan's host images attached in place, after its built disks */
static void attach_disks(const struct bl_scenario *sc, struct bl_prepared *p)
{
	size_t n = 0;
	while (sc->attach && sc->attach[n])
		n++;
	if (!n)
		return;
	p->disks = xrealloc(p->disks, (p->ndisks + n) * sizeof(char *));
	p->disk_sources = xrealloc(p->disk_sources, (p->ndisks + n) * sizeof(char *));
	p->disk_late_ms = xcalloc(p->ndisks + n, sizeof(int));
	for (size_t i = 0; i < n; i++) {
		p->disk_late_ms[p->ndisks] = sc->attach_late_ms[i];
		p->disk_sources[p->ndisks] = xstrdup(sc->attach_src[i]);
		p->disks[p->ndisks++] = xstrdup(sc->attach[i]);
	}
}

/* "/boot/vmlinuz-*-cloud-amd64": the newest match (version sort), so a
 * scenario names a distro kernel without its exact version */
static int expand_glob(const char *pattern, char **out)
{
	if (!strpbrk(pattern, "*?[")) {
		*out = xstrdup(pattern);
		return 0;
	}
	glob_t g;
	if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
		globfree(&g);
		return bl_err("no kernel matches '%s'", pattern);
	}
	size_t best = 0;
	for (size_t i = 1; i < g.gl_pathc; i++)
		if (strverscmp(g.gl_pathv[i], g.gl_pathv[best]) > 0)
			best = i;
	*out = xstrdup(g.gl_pathv[best]);
	globfree(&g);
	return 0;
}

static bool is_arch_default(const char *frag)
{
	return !strcmp(frag, "x86_64") || !strcmp(frag, "aarch64") || !strcmp(frag, "um");
}

/* The kernel the scenario names, for its arch and backend: a cached build
 * (kernels/<arch>.config unless a fragment is named; `build: x86_64` on
 * an aarch64 or uml matrix row means that row's own default), a distro
 * image (a glob picks the newest), or Debian's arm64 package. */
static int prepare_kernel(const struct bl_scenario *sc, const char *builtin, struct bl_kernel *k)
{
	const struct bl_kernel_spec *ks = &sc->kernel;
	const char *want = kernel_arch(sc);
	if (ks->kind && !strcmp(ks->kind, "distro") && !ks->image) {
		if (bl_kernel_fetch(sc->arch, 1, k) < 0)
			return -1;
	} else if (ks->kind && (!strcmp(ks->kind, "distro") || !strcmp(ks->kind, "image"))) {
		char *img = NULL;
		if (expand_glob(ks->image, &img) < 0)
			return -1;
		int r = bl_kernel_distro(img, ks->modules_dir, k);
		free(img);
		if (r < 0)
			return -1;
	} else {
		char *frag = NULL;
		if (ks->config && !(is_arch_default(ks->config) && strcmp(ks->config, want))) {
			char *home = bl_self_dir();
			frag = strchr(ks->config, '/')
				   ? xstrdup(ks->config)
				   : xasprintf("%s/kernels/%s.config", home, ks->config);
			free(home);
		}
		struct bl_kernel_req req = {
		    .arch = want,
		    .fragment = frag,
		    .builtin = builtin,
		    /* a cold build takes minutes: say so (plain lines when not a terminal) */
		    .quiet = 0,
		};
		int r = bl_kernel_build(&req, k);
		free(frag);
		if (r < 0)
			return -1;
	}
	if (k->arch && strcmp(k->arch, want))
		return bl_err(
		    "kernel '%s' is for '%s', but this boot needs '%s' (arch %s, backend %s)",
		    k->image, k->arch, want, sc->arch, sc->backend);
	return 0;
}

static bool has_agent(const struct bl_scenario *sc)
{
	if (sc->observe)
		return true;
	for (size_t i = 0; i < sc->narchives; i++)
		for (size_t j = 0; j < sc->archives[i].nentries; j++)
			if (sc->archives[i].entries[j].kind == BL_ENT_AGENT)
				return true;
	return false;
}

/* The machine type and virtio transport for this kernel, and the modules
 * the agent's port needs when the kernel lacks virtio_console or the
 * transport built in (Debian's kernels: docs/machines.md, "Modules for the
 * agent's port"). On virt, a kernel without VIRTIO_MMIO=y gets virtio-pci:
 * its port appears sooner and the boot is faster
 * (docs/design/performance.md#measured). */
static int prepare_machine(const struct bl_scenario *sc, const struct bl_kernel *k,
			   struct bl_prepared *p)
{
	if (sc->backend && !strcmp(sc->backend, "uml"))
		return 0;
	struct bl_machine_plan mp = {
	    .arch = sc->arch,
	    .backend = sc->backend,
	    .machine = sc->machine,
	    .kernel_kind = p->plan.kernel_kind,
	    .virtio_mmio_cmdline = p->plan.virtio_mmio_cmdline,
	};
	if (!strcmp(bl_machine_qemu_type(&mp), "virt") &&
	    bl_kernel_config(k, "VIRTIO_MMIO") != 'y' && (k->config || k->modules_dir))
		mp.virtio = "pci";
	p->machine = xstrdup(bl_machine_qemu_type(&mp));
	p->virtio = xstrdup(bl_machine_virtio(&mp));
	if (!has_agent(sc))
		return 0;
	size_t n = 0;
	if (bl_kernel_agent_modules(k, p->virtio, &p->auto_modules, &n) < 0)
		return bl_err_prefix("the agent's virtio-serial port (%s) on kernel '%s'",
				     p->virtio, k->image);
	return 0;
}

/* the kernel's panic= value as core_param() takes it: an int, else the
 * default CONFIG_PANIC_TIMEOUT=0 */
static int panic_value(const char *v)
{
	char *end;
	errno = 0;
	long n = v ? strtol(v, &end, 0) : 0;
	if (!v || end == v || *end || errno || n < INT_MIN || n > INT_MAX)
		return 0;
	return (int)n;
}

/* The machine plan from the artifacts: the scenario's command line words
 * and the words every boot needs unless the scenario sets them: a panic
 * ends the emulator at once (panic=-1, with QEMU's -no-reboot), the
 * guest's timestamps sit next to the host's for the phases, and the agent
 * finds the modules its port needs */
static void plan_boot(const struct bl_scenario *sc, const char *workdir, struct bl_prepared *p)
{
	struct bl_machine_plan *mp = &p->plan;
	mp->arch = p->arch;
	mp->backend = sc->backend;
	mp->machine = p->machine ? p->machine : sc->machine;
	mp->virtio = p->virtio;
	mp->kernel = p->kernel;
	mp->initrd = p->initrd;
	mp->memory_mb = sc->memory_mb;
	mp->disks = (const char *const *)p->disks;
	mp->ndisks = p->ndisks;
	mp->disk_late_ms = p->disk_late_ms;
	mp->extra_args = (const char *const *)sc->emulator_args;
	mp->workdir = workdir;
	bl_cmdline_parse(&mp->cmdline, sc->cmdline);
	bl_cmdline_default(&mp->cmdline, "panic", "-1");
	bl_cmdline_default(&mp->cmdline, "printk.time", "1");
	if (p->modules_order)
		bl_cmdline_default(&mp->cmdline, "bootlab.modules", "/lib/modules/bootlab/order");
	mp->panic = panic_value(bl_cmdline_get(&mp->cmdline, "panic"));
	if (sc->observe) { /* the observer runs first, then the init the kernel would have run */
		const char *rd = bl_cmdline_get(&mp->cmdline, "rdinit");
		bl_cmdline_set(&mp->cmdline, "bootlab.observe", rd ? rd : "/init");
		bl_cmdline_set(&mp->cmdline, "rdinit", "/.bootlab/observer");
	}
}

int bl_prepare(const struct bl_scenario *sc, const char *workdir, struct bl_prepared *p)
{
	memset(p, 0, sizeof(*p));
	p->arch = xstrdup(sc->arch);
	struct bl_kernel k = {0};
	char *builtin = NULL;
	int rc = -1, r;
	struct strlist segs = STRLIST_INIT;

	/* a built-in archive has to exist before the kernel is linked */
	for (size_t i = 0; i < sc->narchives; i++) {
		const struct bl_archive_spec *as = &sc->archives[i];
		if (!as->builtin)
			continue;
		builtin = xasprintf("%s/builtin-%s.cpio", workdir, as->name);
		struct bl_kernel none = {0};
		struct bl_archive_spec plain = *as;
		plain.codec = "none";
		if ((r = build_archive(sc, &plain, &none, builtin, p, false)) < 0) {
			rc = r;
			goto out;
		}
	}

	if (prepare_kernel(sc, builtin, &k) < 0)
		goto out;
	p->kernel = xstrdup(k.image);
	p->plan.kernel_kind = k.kind;
	p->plan.virtio_mmio_cmdline = bl_kernel_mmio_cmdline(&k);
	if (prepare_machine(sc, &k, p) < 0)
		goto out;

	/* the port's modules go into the first archive bootlab builds that
	 * holds the agent or modules, else into a segment of their own */
	ssize_t mod_host = sc->observe ? (ssize_t)sc->narchives : -1;
	for (size_t i = 0; i < sc->narchives && mod_host < 0; i++) {
		const struct bl_archive_spec *as = &sc->archives[i];
		for (size_t j = 0; !as->builtin && !as->raw && j < as->nentries; j++)
			if (as->entries[j].kind == BL_ENT_AGENT ||
			    as->entries[j].kind == BL_ENT_MODULES)
				mod_host = (ssize_t)i;
	}

	for (size_t i = 0; i < sc->narchives; i++) {
		const struct bl_archive_spec *as = &sc->archives[i];
		if (as->builtin)
			continue;
		if (as->raw) {
			sl_push(&segs, as->raw);
			continue;
		}
		char *out = xasprintf("%s/%02zu-%s.cpio%s", workdir, i, as->name,
				      as->codec && strcmp(as->codec, "none") ? ".z" : "");
		if ((r = build_archive(sc, as, &k, out, p, (ssize_t)i == mod_host)) < 0 ||
		    (as->corrupt && (r = corrupt_file(out)) < 0)) {
			free(out);
			rc = r;
			goto out;
		}
		sl_push_nocopy(&segs, out);
	}
	if (mod_host < 0 && p->auto_modules && p->auto_modules[0]) {
		struct bl_archive_spec mods = {.name = "bootlab-modules", .codec = "gzip"};
		char *out = xasprintf("%s/%02zu-bootlab-modules.cpio.z", workdir, sc->narchives);
		if ((r = build_archive(sc, &mods, &k, out, p, true)) < 0) {
			free(out);
			rc = r;
			goto out;
		}
		sl_push_nocopy(&segs, out);
	}
	if (sc->observe) {
		char *out = xasprintf("%s/%02zu-bootlab-observer.cpio.z", workdir, sc->narchives);
		sl_push_nocopy(&segs, out);
		if (build_observer(p, out) < 0)
			goto out;
	}
	if (segs.n == 1) {
		p->initrd = xstrdup(segs.v[0]);
	} else if (segs.n > 1) { /* not NAME.img: a disk named "initrd" would overwrite it */
		p->initrd = xasprintf("%s/initrd.stacked", workdir);
		if (bl_archive_stack((const char *const *)segs.v, segs.n, p->initrd) < 0)
			goto out;
	}
	if (sc->disks.ndisks && (r = prepare_disks(sc, workdir, p)) < 0) {
		rc = r;
		goto out;
	}
	attach_disks(sc, p);
	plan_boot(sc, workdir, p);
	rc = 0;
out:
	if (rc == -1 && bl_err_last_kind() != BL_EK_INFRA)
		bl_err_prefix("%s", sc->file);
	if (rc < 0)
		rc = -1;
	free(builtin);
	sl_release(&segs);
	bl_kernel_release(&k);
	return rc;
}

void bl_prepared_release(struct bl_prepared *p)
{
	bl_cmdline_release(&p->plan.cmdline);
	free(p->kernel);
	free(p->initrd);
	for (size_t i = 0; i < p->ndisks; i++) {
		free(p->disks[i]);
		free(p->disk_sources ? p->disk_sources[i] : NULL);
	}
	free(p->disks);
	free(p->disk_sources);
	free(p->disk_late_ms);
	free(p->arch);
	free(p->machine);
	free(p->virtio);
	for (size_t i = 0; p->auto_modules && p->auto_modules[i]; i++)
		free(p->auto_modules[i]);
	free(p->auto_modules);
	memset(p, 0, sizeof(*p));
}
