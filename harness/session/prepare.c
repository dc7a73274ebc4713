/* plan -> artifacts: the kernel (cached build, relink with a built-in
 * archive, or a distro image), the external archives stacked into one
 * initrd, and the disks. Everything lands in the boot's work folder except
 * what the caches keep. */
#include "archive/archive.h"
#include "disk/disk.h"
#include "kernel/kernel.h"
#include "session/session.h"
#include "util/util.h"

#include <errno.h>
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

/* kernel modules for a distro kernel: .ko files under /lib/modules/bootlab/
 * plus the list the agent loads in order (bootlab.modules=) */
static int add_modules(struct bl_archive *a, const struct bl_kernel *k, const char *const *names,
		       size_t n, struct strbuf *list)
{
	char **paths = NULL;
	size_t np = 0;
	if (!k->modules_dir)
		return bl_err("modules requested, but kernel '%s' has no modules folder", k->image);
	if (bl_kernel_modules_resolve(k, names, n, &paths, &np) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < np && rc == 0; i++) {
		const char *base = strrchr(paths[i], '/');
		base = base ? base + 1 : paths[i];
		char *dst = xasprintf("/lib/modules/bootlab/%s", base);
		rc = bl_archive_add_file_host(a, dst, 0644, 0, 0, paths[i]);
		sb_addf(list, "%s\n", dst);
		free(dst);
	}
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

static int build_archive(const struct bl_scenario *sc, const struct bl_archive_spec *as,
			 const struct bl_kernel *k, const char *out, struct bl_prepared *prep)
{
	struct bl_archive *a = bl_archive_new();
	struct strbuf modlist = STRBUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < as->nentries && rc == 0; i++) {
		const struct bl_entry *e = &as->entries[i];
		switch (e->kind) {
		case BL_ENT_FILE:
			if (e->source)
				rc = bl_archive_add_file_host(a, e->path, mode_or(e, 0644), e->uid, e->gid,
							      e->source);
			else
				rc = bl_archive_add_file_data(a, e->path, mode_or(e, 0644), e->uid, e->gid,
							      e->content ? e->content : "",
							      e->content_len);
			break;
		case BL_ENT_DIR:
			rc = bl_archive_add_dir(a, e->path, mode_or(e, 0755), e->uid, e->gid);
			break;
		case BL_ENT_NOD:
			rc = bl_archive_add_nod(a, e->path, mode_or(e, 0600), e->uid, e->gid, e->devtype,
						e->major, e->minor);
			break;
		case BL_ENT_SLINK:
			rc = bl_archive_add_symlink(a, e->path, e->target, mode_or(e, 0777), e->uid,
						    e->gid);
			break;
		case BL_ENT_PIPE:
			rc = bl_archive_add_special(a, e->path, 'p', mode_or(e, 0644), e->uid, e->gid);
			break;
		case BL_ENT_SOCK:
			rc = bl_archive_add_special(a, e->path, 's', mode_or(e, 0644), e->uid, e->gid);
			break;
		case BL_ENT_HARDLINK:
			rc = bl_archive_add_hardlink(a, e->path, e->target);
			break;
		case BL_ENT_TREE:
			rc = bl_archive_add_tree(a, e->source, e->path ? e->path : "", BL_ARCHIVE_SQUASH,
						 BL_ARCHIVE_SQUASH);
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
				rc = bl_err("the agent for '%s' is not built: '%s' (run 'make agent ARCH=%s')",
					    prep->arch, ag, prep->arch);
				bl_err_kind(BL_EK_INFRA);
			} else {
				rc = bl_archive_add_file_host(a, e->path, mode_or(e, 0755), e->uid, e->gid,
							      ag);
			}
			free(ag);
			break;
		}
		case BL_ENT_MODULES: {
			size_t n = 0;
			while (e->modules && e->modules[n])
				n++;
			struct strlist made = STRLIST_INIT;
			rc = ensure_dir(a, "/lib", &made);
			if (!rc)
				rc = ensure_dir(a, "/lib/modules", &made);
			if (!rc)
				rc = ensure_dir(a, "/lib/modules/bootlab", &made);
			sl_release(&made);
			if (!rc)
				rc = add_modules(a, k, (const char *const *)e->modules, n, &modlist);
			break;
		}
		}
		if (rc < 0 && bl_err_last_kind() != BL_EK_INFRA) {
			bl_err_prefix("%s:%d:%d: archive '%s'", e->pos.file ? e->pos.file : sc->file,
				      e->pos.line, e->pos.col, as->name);
			rc = -2; /* located */
		}
	}
	if (rc == 0 && modlist.len) {
		rc = bl_archive_add_file_data(a, "/lib/modules/bootlab/order", 0644, 0, 0, modlist.buf,
					      modlist.len);
		free(prep->cmdline_extra);
		prep->cmdline_extra = xstrdup("bootlab.modules=/lib/modules/bootlab/order");
	}
	if (rc == 0)
		rc = bl_archive_write(a, out, as->codec ? as->codec : "gzip", archive_mtime());
	bl_archive_free(a);
	sb_release(&modlist);
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

/* the scenario's disks as images in the work folder (cached by content);
 * a message that names a field is pointed back at the YAML */
static int prepare_disks(const struct bl_scenario *sc, const char *workdir, struct bl_prepared *p)
{
	char *agent = bl_agent_path(p->arch);
	char *scdir = xstrdup(sc->file);
	char *slash = strrchr(scdir, '/');
	if (slash)
		*slash = 0;
	struct bl_disk_opts o = {.arrays = sc->arrays, .agent_path = agent};
	struct bl_disk_image *imgs = NULL;
	size_t n = 0;
	int rc = bl_disks_build(sc->disks, sc->ndisks, scdir, workdir, &o, &imgs, &n);
	if (rc < 0) {
		char field[256];
		const char *msg = bl_errmsg();
		size_t fl = strcspn(msg, ":");
		if (fl < sizeof(field) && msg[fl] == ':') {
			memcpy(field, msg, fl);
			field[fl] = 0;
			const struct bl_srcpos *pos = bl_scenario_locate(sc, field);
			if (pos) {
				bl_err_prefix("%s:%d:%d", pos->file, pos->line, pos->col);
				rc = -2; /* located */
			}
		}
	} else {
		p->disks = xcalloc(n ? n : 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			if (!imgs[i].absent)
				p->disks[p->ndisks++] = xstrdup(imgs[i].path);
	}
	bl_disk_images_free(imgs, n);
	free(agent);
	free(scdir);
	return rc;
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
		if ((r = build_archive(sc, &plain, &none, builtin, p)) < 0) {
			rc = r;
			goto out;
		}
	}

	const struct bl_kernel_spec *ks = &sc->kernel;
	if (ks->kind && (!strcmp(ks->kind, "distro") || !strcmp(ks->kind, "image"))) {
		if (bl_kernel_distro(ks->image, ks->modules_dir, &k) < 0)
			goto out;
	} else {
		char *frag = NULL;
		if (ks->config) {
			char *home = bl_self_dir();
			frag = strchr(ks->config, '/') ? xstrdup(ks->config)
						       : xasprintf("%s/kernels/%s.config", home, ks->config);
			free(home);
		}
		struct bl_kernel_req req = {
		    .arch = kernel_arch(sc),
		    .fragment = frag,
		    .builtin = builtin,
		    .quiet = 1,
		};
		int kr = bl_kernel_build(&req, &k);
		free(frag);
		if (kr < 0)
			goto out;
	}
	p->kernel = xstrdup(k.image);
	{
		const char *img = strrchr(k.image, '/');
		img = img ? img + 1 : k.image;
		if (!strcmp(k.arch, "um"))
			p->kernel_kind = xstrdup("uml");
		else if (!strcmp(k.arch, "aarch64"))
			p->kernel_kind = xstrdup("image");
		else if (!strcmp(img, "vmlinux"))
			p->kernel_kind = xstrdup("pvh");
		else
			p->kernel_kind = xstrdup("bzimage");
	}
	p->virtio_mmio_cmdline = bl_kernel_config(&k, "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES") == 'y';

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
		if ((r = build_archive(sc, as, &k, out, p)) < 0 || (as->corrupt && (r = corrupt_file(out)) < 0)) {
			free(out);
			rc = r;
			goto out;
		}
		sl_push_nocopy(&segs, out);
	}
	if (segs.n == 1) {
		p->initrd = xstrdup(segs.v[0]);
	} else if (segs.n > 1) {
		p->initrd = xasprintf("%s/initrd.img", workdir);
		if (bl_archive_stack((const char *const *)segs.v, segs.n, p->initrd) < 0)
			goto out;
	}
	if (sc->ndisks && (r = prepare_disks(sc, workdir, p)) < 0) {
		rc = r;
		goto out;
	}
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
	free(p->kernel);
	free(p->kernel_kind);
	free(p->initrd);
	for (size_t i = 0; i < p->ndisks; i++)
		free(p->disks[i]);
	free(p->disks);
	free(p->arch);
	free(p->cmdline_extra);
	memset(p, 0, sizeof(*p));
}
