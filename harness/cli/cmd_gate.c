/* bootlab gate: the CI gate for a project's own kernel and initramfs.
 * It makes one plan in memory (the project's initramfs files as raw
 * segments, a root disk whose /sbin/init is the bootlab agent, "pass when
 * the stage-2 hello arrives") and boots it with the run engine of
 * `bootlab run` (harness/session/run.c), so the boot, the reports and the
 * JUnit file are the run command's own; the verdict is the run's, in
 * memory. On failure it adds what a CI log needs: the decoded panic, the
 * console tail and the lint findings of the initramfs as the kernel will
 * see it (all segments stacked, after what the kernel's built-in archive
 * provides). */
#include "archive/archive.h"
#include "builder/builder.h"
#include "cli/cli.h"
#include "console/console.h"
#include "disk/disk.h"
#include "disk/stack.h"
#include "kernel/kernel.h"
#include "report/report.h"
#include "session/session.h"
#include "util/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char gate_usage[] =
    "usage: bootlab gate --kernel K --initramfs A [--initramfs B]... [OPTIONS]\n"
    "\n"
    "Boot kernel K with the initramfs files A, B, ... (stacked in that order, as a\n"
    "boot loader does with several initrd lines) and a virtio root disk whose\n"
    "/sbin/init is the bootlab agent. The gate passes when the initramfs mounts\n"
    "the root and switches to it: the agent there says hello as stage 2. On\n"
    "failure it prints the decoded panic, the console tail and the lint findings\n"
    "of the initramfs (as 'archive lint --kernel K' gives them).\n"
    "\n"
    "options:\n"
    "  --kernel K          kernel image (bzImage, vmlinuz, arm64 Image)\n"
    "  --initramfs A       an initramfs file (any codec); repeat for more segments\n"
    "  --modules DIR       the kernel's modules tree (default /lib/modules/<version>\n"
    "                      when it exists); the agent's virtio console modules are\n"
    "                      copied from it to the root disk\n"
    "  --root DIR|IMAGE    the root filesystem: a folder (made into ext4) or an ext2/3/4\n"
    "                      image (copied; the agent is written into the copy); default\n"
    "                      an empty ext4\n"
    "  --root-size SIZE    size of the root disk made from a folder (default 128M)\n"
    "  --disks FILE        the root disks as a whole layout in the scenario format\n"
    "                      ({disks: [...], arrays: [...]}, docs/disks.md); the one\n"
    "                      filesystem with `agent:` is the root\n"
    "  --cmdline TEXT      kernel command line words (default \"root=/dev/vda\")\n"
    "  --root-stack SPEC   the layers from the disk up to the root filesystem, joined\n"
    "                      by '+': ext4, raid1+ext4, lvm+ext4, raid1+lvm+ext4 (default\n"
    "                      ext4; docs/root-stacks.md). Repeat it to gate every stack:\n"
    "                      a table of stack, outcome and stage-2 time, one JUnit\n"
    "                      testcase per stack\n"
    "  -j, --jobs N        boot N stacks at once (default 1)\n"
    "  --passphrase TEXT   a luks layer's passphrase: LUKS is formatted with it and it\n"
    "                      is typed when the console shows a passphrase prompt\n"
    "  --keyfile FILE      a luks layer's key file (the initramfs must hold it)\n"
    "  --degraded[=HOW]    the md layer's last member disk left out (HOW absent, the\n"
    "                      default), attached with its md superblock corrupt (HOW\n"
    "                      corrupt) or hot-plugged T after the start (HOW late:T,\n"
    "                      T a duration: late:8s); raid1, raid5 and raid10 stacks only: the\n"
    "                      initramfs must start the array degraded; adds\n"
    "                      bootdegraded=true, and the stage-2 agent reads /proc/mdstat\n"
    "  --root-by path|uuid|label  how the root= word bootlab adds names the root\n"
    "                      (default path; left out when --cmdline has root=)\n"
    "  --uuid NAME=UUID    fix an identifier, so an initramfs that embeds it can be\n"
    "                      built first: md (the array), luks (the header) or root\n"
    "                      (the filesystem); repeat for each\n"
    "  --arch ARCH         x86_64 (default) or aarch64\n"
    "  --machine M         QEMU machine (default q35 on x86_64, virt on aarch64)\n"
    "  --memory SIZE       guest memory (default 1G)\n"
    "  --timeout DURATION  deadline for the boot (default 300s)\n"
    "  --junit OUT         also write the JUnit report to OUT\n"
    "  --report-dir DIR    where the run's reports go (default reports)\n"
    "  --keep              keep the gate's work folder\n"
    "  --fail-on CLASSES   kernel reports of these classes fail the gate (default:\n"
    "                      every class but init: docs/kernel-reports.md)\n"
    "  --allow CLASSES     kernel reports of these classes do not fail the gate;\n"
    "                      --fail-on and --allow apply in order, the last wins\n"
    "  --observe           trace the initramfs's own init in stage 1: on failure the\n"
    "                      reason names what PID 1 ran and what failed (docs/observe.md)\n"
    "  --freeze[=T]        a boot that fails by a panic (panic=0 instead of -1) or\n"
    "                      the deadline is stopped, not ended, and held for T\n"
    "                      (default 1h) or until SIGINT/SIGTERM or QEMU exits;\n"
    "                      prints QEMU's pid, its monitor.sock and qmp.sock and the\n"
    "                      gdb command (adds nokaslr; docs/repro.md)\n"
    "  --dump-memory       with --freeze: the frozen guest's memory as an ELF core\n"
    "                      beside its console log in the report folder\n"
    "  -h, --help          this text\n"
    "\n"
    "exit status: 0 the root was reached, 1 it was not, 2 bad usage,\n"
    "3 infrastructure failure, 130 interrupted (Ctrl-C, SIGTERM)\n";

/* the label and UUID of the root filesystem bootlab makes, for --root-by
 * label and uuid */
#define GATE_ROOT_LABEL "bootlab-root"
#define GATE_ROOT_UUID "b0071ab0-0000-4000-8000-000000000001"
/* --root-stack given at most this often */
#define GATE_STACKS_MAX 16

struct gate {
	const char *kernel, *modules, *root, *cmdline, *arch, *machine, *memory, *timeout;
	const char *junit, *report_dir, *root_size, *root_stack, *root_by;
	const char *passphrase, *keyfile; /* a luks layer's key */
	const char *disks;		  /* --disks FILE */
	struct cli_gate_layout *layout;	  /* its plan, loaded by check_layout() */
	struct strlist initramfs;
	struct strlist stacks; /* every --root-stack, in order */
	struct bl_stack parsed[GATE_STACKS_MAX];
	int jobs;  /* -j: stacks booted at once */
	char *key; /* the luks key's bytes (--passphrase or --keyfile) */
	size_t key_len;
	bool keep, observe;
	bool degraded;			    /* --degraded: the last md member is not attached */
	bool corrupt;			    /* --degraded=corrupt: it is, with a bad superblock */
	int late_ms;			    /* --degraded=late:T: it is hot-plugged T later */
	struct bl_kpolicy_override kpolicy; /* --fail-on, --allow */
	struct bl_freeze_opts freeze;	    /* --freeze, --dump-memory */
	/* from the options above */
	int memory_mb, timeout_ms;
	unsigned long long root_bytes; /* --root-size, or the root image's in whole sectors */
	bool root_image;	       /* --root names an ext2/3/4 image, not a folder */
	struct bl_stack stack;	       /* the stack of this plan (root_stack its spec) */
	enum bl_root_by by;	       /* --root-by */
	struct bl_stack_ids ids;       /* --uuid */
	char *owned[3];		       /* the absolute kernel, modules and root paths */
};

static char *absolute(const char *p)
{
	char *r = realpath(p, NULL);
	return r ? r : xstrdup(p);
}

/* the agent's port modules for this kernel, or none (built in, or no
 * modules tree: the agent then falls back to the console) */
static void agent_modules(const struct gate *g, const char *transport, struct strlist *out)
{
	struct bl_kernel k = {0};
	if (bl_kernel_distro(g->kernel, g->modules, &k) < 0) {
		bl_debug("gate: no module information for '%s': %s", g->kernel, bl_errmsg());
		return;
	}
	char **paths = NULL;
	size_t n = 0;
	if (bl_kernel_agent_modules(&k, transport, &paths, &n) < 0) {
		fprintf(stderr, "bootlab gate: warning: %s; the agent will use the console\n",
			bl_errmsg());
	} else {
		for (size_t i = 0; i < n; i++) {
			sl_push(out, paths[i]);
			free(paths[i]);
		}
		free(paths);
	}
	bl_kernel_release(&k);
}

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');
	return b ? b + 1 : p;
}

/* --root IMAGE: a copy of the image with the agent (and modules) written in
 * by debugfs, so the project's image is never modified */
static int inject_into_image(const char *image, const char *copy, const char *agent,
			     const struct strlist *mods, const char *order, const char *workdir)
{
	if (bl_copy_file(image, copy) < 0)
		return -1;
	struct strbuf cmds = STRBUF_INIT;
	int rc = 0;
	sb_adds(&cmds, "mkdir /sbin\nrm /sbin/init\nwrite ");
	rc |= bl_debugfs_arg(&cmds, agent);
	sb_adds(&cmds, " /sbin/init\nsif /sbin/init mode 0100755\n");
	sb_adds(&cmds, "sif /sbin/init uid 0\nsif /sbin/init gid 0\n");
	sb_adds(&cmds, "mkdir /dev\nmkdir /proc\nmkdir /sys\nmkdir /run\n");
	if (mods->n) {
		sb_adds(&cmds, "mkdir /lib\nmkdir /lib/modules\nmkdir /lib/modules/bootlab\n");
		for (size_t i = 0; i < mods->n; i++) {
			char *dst = xasprintf("/lib/modules/bootlab/%s", base_name(mods->v[i]));
			sb_adds(&cmds, "write ");
			rc |= bl_debugfs_arg(&cmds, mods->v[i]);
			sb_addc(&cmds, ' ');
			rc |= bl_debugfs_arg(&cmds, dst);
			sb_addc(&cmds, '\n');
			free(dst);
		}
		sb_adds(&cmds, "write ");
		rc |= bl_debugfs_arg(&cmds, order);
		sb_adds(&cmds, " /lib/modules/bootlab/order\n");
	}
	char *cf = xasprintf("%s/debugfs.cmds", workdir);
	if (rc == 0)
		rc = bl_write_file_atomic(cf, cmds.buf, cmds.len, 0644);
	sb_release(&cmds);
	if (rc == 0) {
		char *argv[] = {"debugfs", "-w", "-f", cf, (char *)copy, NULL};
		char *out = NULL;
		int status = 0;
		if (bl_run(argv, 60000, &out, &status) < 0)
			rc = bl_err_prefix("debugfs");
		else if (status != 0)
			rc = bl_err("debugfs could not write the agent into '%s' (%s): %s", image,
				    bl_describe_status(status), out ? out : "");
		free(out);
	}
	free(cf);
	return rc;
}

/* the agent's module list on the root disk */
static int write_order(const struct strlist *mods, const char *order)
{
	struct strbuf o = STRBUF_INIT;
	for (size_t i = 0; i < mods->n; i++)
		sb_addf(&o, "/lib/modules/bootlab/%s\n", base_name(mods->v[i]));
	int rc = bl_write_file_atomic(order, o.buf ? o.buf : "", o.len, 0644);
	sb_release(&o);
	return rc;
}

/* the top filesystem's UUID: --uuid root=, else bootlab's fixed one
 * when --root-by uuid names it, else NULL (mke2fs's derived one) */
static const char *root_uuid(const struct gate *g)
{
	if (g->ids.root[0])
		return g->ids.root;
	return g->by == BL_ROOT_BY_UUID ? GATE_ROOT_UUID : NULL;
}

/* whether FS's `files:` have PATH */
static bool has_file(const struct bl_disk_fs *fs, const char *path)
{
	for (size_t i = 0; i < fs->nfiles; i++)
		if (!strcmp(fs->files[i].path, path))
			return true;
	return false;
}

/* what the agent needs on its root FS: the folders it mounts on and its
 * modules */
static void agent_files(struct bl_disk_fs *fs, const struct strlist *mods, const char *order)
{
	static const char *const dirs[] = {"/dev", "/proc", "/sys", "/run", "/tmp"};
	for (size_t i = 0; i < BL_ARRAY_SIZE(dirs); i++)
		if (!has_file(fs, dirs[i]))
			bl_plan_fs_file(fs, dirs[i])->dir = true;
	for (size_t i = 0; i < mods->n; i++) {
		char *path = xasprintf("/lib/modules/bootlab/%s", base_name(mods->v[i]));
		bl_plan_fs_file(fs, path)->source = xstrdup(mods->v[i]);
		free(path);
	}
	if (mods->n)
		bl_plan_fs_file(fs, "/lib/modules/bootlab/order")->source = xstrdup(order);
}

/* what systemd's switch-root asks of a root before it goes there: an
 * os-release file (systemctl switch-root refuses a folder without one as
 * "not an OS tree", so a dracut or any systemd initramfs fails its
 * initrd-switch-root.service on a root that lacks it) */
#define GATE_OS_RELEASE                                                                            \
	"NAME=\"bootlab stage 2\"\nID=bootlab\n"                                                   \
	"PRETTY_NAME=\"bootlab stage-2 root (the agent is /sbin/init)\"\n"

/* whether the --root folder has an os-release file of its own */
static bool tree_has_os_release(const char *tree)
{
	static const char *const names[] = {"etc/os-release", "usr/lib/os-release"};
	for (size_t i = 0; i < BL_ARRAY_SIZE(names); i++) {
		char *p = bl_path_join(tree, names[i]);
		struct stat st;
		int found = lstat(p, &st) == 0;
		free(p);
		if (found)
			return true;
	}
	return false;
}

/* a new ext4 root: the agent as /sbin/init and what it needs (the --root
 * folder's tree under them), and an os-release unless the tree has one */
static void ext4_root(const struct gate *g, struct bl_disk_fs *fs, const struct strlist *mods,
		      const char *order)
{
	fs->agent = xstrdup("/sbin/init");
	if (g->root)
		fs->tree = xstrdup(g->root);
	agent_files(fs, mods, order);
	if (!(g->root && tree_has_os_release(g->root)))
		bl_plan_fs_file(fs, "/etc/os-release")->content = xstrdup(GATE_OS_RELEASE);
}

/* the root filesystem's identity (--root-by) and contents: the copy of
 * the --root image, or a new ext4 (COPY NULL) */
static void root_fs(struct bl_disk_fs *fs, const struct gate *g, char *copy,
		    const struct strlist *mods, const char *order)
{
	if (g->by == BL_ROOT_BY_LABEL)
		fs->label = xstrdup(GATE_ROOT_LABEL);
	if (root_uuid(g))
		fs->uuid = xstrdup(root_uuid(g));
	if (copy)
		fs->image = copy;
	else
		ext4_root(g, fs, mods, order);
}

/* a stack's top filesystem alone, as an image in WORKDIR (*OUT) */
static int make_fs(const struct gate *g, const char *workdir, const char *agent,
		   const struct strlist *mods, const char *order, char **out)
{
	struct bl_scenario *tmp = bl_plan_new("root", "bootlab gate");
	struct bl_disk *d = bl_plan_add_disk(tmp, "root-fs", g->root_bytes);
	root_fs(bl_plan_disk_fs(tmp, d, BL_FS_EXT4), g, NULL, mods, order);
	struct bl_disk_opts o = {.agent_path = agent};
	struct bl_disk_image *imgs = NULL;
	size_t n = 0;
	int rc = bl_disks_build(&tmp->disks, workdir, &o, &imgs, &n) < 0 ? -1 : 0;
	if (rc == 0)
		*out = xstrdup(imgs[0].path);
	bl_disk_images_free(imgs, n);
	bl_scenario_free(tmp);
	return rc;
}

/* D's members on SC's machine; --degraded: the last one left out, or
 * (corrupt) attached with its md superblock broken in the work copy */
static int attach_members(struct bl_scenario *sc, const struct gate *g,
			  const struct bl_stack_disks *d)
{
	size_t n = g->degraded && !g->corrupt && !g->late_ms ? d->n - 1 : d->n; /* d->n > 1 */
	char dev = (char)('a' + d->n - 1);
	if (g->corrupt && bl_stack_md_corrupt(d->members[d->n - 1]) < 0)
		return -1;
	if (g->corrupt)
		printf("bootlab gate: root stack %s, degraded: member %zu of %zu (m%zu.img, "
		       "/dev/vd%c) attached with its md superblock corrupt (checksum wrong)\n",
		       g->root_stack, d->n, d->n, d->n - 1, dev);
	else if (g->late_ms)
		printf("bootlab gate: root stack %s, degraded: member %zu of %zu (m%zu.img) "
		       "hot-plugged %.3f s after the start\n",
		       g->root_stack, d->n, d->n, d->n - 1, g->late_ms / 1000.0);
	else if (g->degraded)
		printf("bootlab gate: root stack %s, degraded: member %zu of %zu (m%zu.img, "
		       "/dev/vd%c) left out, %zu attached\n",
		       g->root_stack, d->n, d->n, d->n - 1, dev, n);
	for (size_t i = 0; i + 1 < n; i++)
		bl_plan_attach(sc, d->members[i], d->sources[i]);
	/* (a repro keeps the corrupt copy, not its source) */
	bl_plan_attach_late(sc, d->members[n - 1], g->corrupt ? NULL : d->sources[n - 1],
			    g->late_ms);
	return 0;
}

/* the layers under the filesystem FS (owned), written by mdadm and lvm2
 * in the builder guest (harness/builder), attached as the root's disks */
static int add_stack(struct bl_scenario *sc, const struct gate *g, const char *workdir, char *fs)
{
	struct bl_stack_build_opts o = {
	    .fs_image = fs,
	    .workdir = workdir,
	    .timeout_ms = 300000,
	    .key = bl_stack_has_kind(&g->stack, BL_KIND_LUKS) ? g->key : NULL,
	    .key_len = g->key_len,
	    .fs_label = g->by == BL_ROOT_BY_LABEL ? GATE_ROOT_LABEL : NULL,
	    .fs_uuid = root_uuid(g),
	    .ids = &g->ids};
	struct bl_stack_disks d;
	int rc = bl_stack_build(&g->stack, &o, &d);
	if (rc == 0) {
		printf("bootlab gate: root stack %s: %zu member disk%s %s (log: %s)\n",
		       g->root_stack, d.n, d.n == 1 ? "" : "s",
		       d.cached ? "from the cache" : "written by mdadm/lvm2 in the builder guest",
		       d.log);
		if (d.md_uuid[0])
			printf("bootlab gate: md array %s, UUID %s\n", BL_STACK_MD_DEV, d.md_uuid);
		if (d.luks_uuid[0])
			printf("bootlab gate: LUKS%c header UUID %s, opened as /dev/mapper/%s\n",
			       bl_stack_has(&g->stack, BL_LAYER_LUKS1) ? '1' : '2', d.luks_uuid,
			       BL_STACK_CRYPT);
		rc = attach_members(sc, g, &d);
		bl_stack_disks_release(&d);
	} else {
		bl_err_prefix("root stack %s", g->root_stack);
	}
	free(fs);
	return rc;
}

/* the root disk: a copy of the --root image with the agent written in, or
 * a new ext4; under the layers of --root-stack when it has any, and made
 * xfs by the builder guest when that is the top */
static int add_root_disk(struct bl_scenario *sc, const struct gate *g, const char *workdir,
			 const char *agent, const struct strlist *mods, const char *order)
{
	char *copy = NULL;
	if (g->disks) {
		agent_files(cli_gate_layout_use(g->layout, sc), mods, order);
		return 0;
	}
	if (g->root_image) {
		copy = xasprintf("%s/root.img", workdir);
		if (inject_into_image(g->root, copy, agent, mods, order, workdir) < 0) {
			free(copy);
			return -1;
		}
	}
	if (g->stack.n > 1 || bl_stack_has(&g->stack, BL_LAYER_XFS)) {
		if (!copy && make_fs(g, workdir, agent, mods, order, &copy) < 0)
			return -1;
		return add_stack(sc, g, workdir, copy);
	}
	struct bl_disk *d = bl_plan_add_disk(sc, "root", g->root_bytes);
	root_fs(bl_plan_disk_fs(sc, d, BL_FS_EXT4), g, copy, mods, order);
	return 0;
}

/* pass when the initramfs switched to the root and the agent there said
 * hello (harness/session/gate_steps.c); a luks stack unlocked by
 * passphrase types it at the prompt first (G->key: the passphrase's copy) */
static int add_steps(struct bl_scenario *sc, const struct gate *g)
{
	bool typed = g->passphrase && bl_stack_has_kind(&g->stack, BL_KIND_LUKS);
	struct bl_gate_steps gs = {.hello_timeout_ms = g->timeout_ms,
				   .passphrase = typed ? g->key : NULL,
				   .read_mdstat = g->degraded};
	return bl_plan_gate_steps(sc, &gs);
}

/* KEY=... is a word of CMDLINE */
static bool has_word(const char *cmdline, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = cmdline; (p = strstr(p, key)); p += n)
		if (p == cmdline || p[-1] == ' ' || p[-1] == '\t')
			return true;
	return false;
}

/* the root= word bootlab adds for the top filesystem (--root-by) */
static char *root_word(const struct gate *g)
{
	const char *top = bl_stack_top_dev(&g->stack);
	if (g->disks)
		return xasprintf("root=%s", g->layout->root_dev);
	if (g->by == BL_ROOT_BY_LABEL)
		return xstrdup("root=LABEL=" GATE_ROOT_LABEL);
	if (g->by == BL_ROOT_BY_UUID)
		return xasprintf("root=UUID=%s", root_uuid(g));
	return xasprintf("root=%s", top ? top : "/dev/vda");
}

/* the user's words, with bootlab's root= before them unless they give
 * one, and with --degraded bootdegraded=true (Ubuntu's and older Debian's
 * initramfs mdadm script ask before starting a degraded array without it)
 * unless they give a bootdegraded= */
static char *gate_cmdline(const struct gate *g)
{
	const char *user = g->cmdline ? g->cmdline : "";
	struct strbuf add = STRBUF_INIT;
	if (!has_word(user, "root=")) {
		char *w = root_word(g);
		sb_adds(&add, w);
		free(w);
	}
	if (g->degraded && !has_word(user, "bootdegraded="))
		sb_addf(&add, "%sbootdegraded=true", add.len ? " " : "");
	if (!add.len) {
		sb_release(&add);
		return xstrdup(user);
	}
	if (g->disks)
		printf("bootlab gate: disks %s, adding %s\n", g->disks, sb_str(&add));
	else
		printf("bootlab gate: root stack %s, adding %s\n", g->root_stack, sb_str(&add));
	char *r = xasprintf("%s%s%s", sb_str(&add), *user ? " " : "", user);
	sb_release(&add);
	return r;
}

/* everything but the root disk and the steps */
static struct bl_scenario *plan_base(const struct gate *g, const char *machine, bool modules)
{
	struct bl_scenario *sc = bl_plan_new("initramfs-gate", "bootlab gate");
	bl_plan_set(&sc->description,
		    "the project's initramfs reaches its root, where the agent is /sbin/init");
	bl_plan_set(&sc->arch, g->arch);
	bl_plan_set(&sc->machine, machine);
	bl_plan_set(&sc->kernel.kind, "image");
	bl_plan_set(&sc->kernel.image, g->kernel);
	char *words = gate_cmdline(g);
	sc->cmdline =
	    xasprintf("%s%s", words, modules ? " bootlab.modules=/lib/modules/bootlab/order" : "");
	free(words);
	sc->memory_mb = g->memory_mb;
	sc->timeout_ms = g->timeout_ms;
	sc->observe = g->observe;
	for (size_t i = 0; i < g->initramfs.n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "initramfs%zu", i + 1);
		bl_plan_add_raw(sc, name, g->initramfs.v[i]);
	}
	return sc;
}

/* the gate's plan, its files made in WORKDIR; NULL with a message */
static struct bl_scenario *gate_plan(const struct gate *g, const char *workdir)
{
	const char *machine = g->machine		    ? g->machine
			      : !strcmp(g->arch, "aarch64") ? "virt"
							    : "q35";
	struct strlist mods = STRLIST_INIT;
	agent_modules(g, strcmp(machine, "microvm") ? "pci" : "mmio", &mods);
	char *agent = bl_agent_path(g->arch);
	char *order = xasprintf("%s/modules.order", workdir);
	struct bl_scenario *sc = NULL;
	if (access(agent, R_OK) < 0) {
		bl_err("the agent for '%s' is not built: '%s' (run 'make agent ARCH=%s')", g->arch,
		       agent, g->arch);
		bl_err_kind(BL_EK_INFRA);
	} else if (write_order(&mods, order) == 0) {
		sc = plan_base(g, machine, mods.n > 0);
		if (add_root_disk(sc, g, workdir, agent, &mods, order) < 0 ||
		    add_steps(sc, g) < 0) {
			bl_scenario_free(sc);
			sc = NULL;
		}
	}
	sl_release(&mods);
	free(agent);
	free(order);
	return sc;
}

/* the lint findings of rd, knowing what the gate's kernel's built-in
 * archive provides when it can be read */
static void print_findings(const struct gate *g, const struct bl_initrd *rd)
{
	struct bl_initrd builtin;
	struct bl_lint_opts o = {0};
	struct bl_lint l = {0};
	if (bl_kernel_builtin_archive(g->kernel, &builtin) == 0)
		o.builtin = &builtin;
	else
		printf("lint: note: the kernel's built-in archive is not known: %s\n", bl_errmsg());
	bl_lint_run(rd, &o, &l);
	if (!l.n)
		printf("lint: no findings\n");
	for (size_t i = 0; i < l.n; i++)
		printf("lint: %s: %s: %s%s%s\n", bl_lint_severity_name(l.v[i].severity),
		       l.v[i].code, l.v[i].path ? l.v[i].path : "", l.v[i].path ? ": " : "",
		       l.v[i].message);
	bl_lint_release(&l);
	if (o.builtin)
		bl_initrd_release(&builtin);
}

/* the lint findings of the initramfs as the kernel sees it: all segments
 * stacked in order */
static void print_lint(const struct gate *g, const char *workdir)
{
	char *stacked = NULL;
	const char *file = g->initramfs.v[0];
	if (g->initramfs.n > 1) {
		stacked = xasprintf("%s/stacked.img", workdir);
		if (bl_archive_stack((const char *const *)g->initramfs.v, g->initramfs.n, stacked) <
		    0) {
			printf("lint: cannot stack the initramfs files: %s\n", bl_errmsg());
			free(stacked);
			return;
		}
		file = stacked;
	}
	struct bl_initrd rd;
	struct bl_read_opts ro = {.keep = bl_lint_keep};
	if (bl_initrd_read_file(&rd, file, &ro)) {
		printf("lint: error: unreadable: %s\n", bl_errmsg());
	} else {
		print_findings(g, &rd);
		bl_initrd_release(&rd);
	}
	free(stacked);
}

/* a line of the failure report, which may hold the guest's bytes: escape
 * sequences and bad UTF-8 as \xNN (sb_add_terminal), never sent raw to the
 * terminal or CI log that shows it */
static void put_text(const char *prefix, const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	sb_add_terminal(&sb, s);
	printf("%s%s\n", prefix, sb_str(&sb));
	sb_release(&sb);
}

/* the md array's start, as the kernel logged it, or NULL: the stack has
 * one array, whatever number the initramfs gave it (Debian's mdadm
 * makes md127 of an array named for another host) */
static const struct bl_event *md_started(const struct bl_result *r)
{
	for (size_t i = 0; i < r->nevents; i++)
		if (r->events[i].c.type == BL_EV_MD_ACTIVE)
			return &r->events[i];
	return NULL;
}

/* the console tail's line holding TEXT, or NULL */
static const char *tail_line(const struct bl_result *r, const char *text)
{
	for (size_t i = 0; r->tail && r->tail[i]; i++)
		if (strstr(r->tail[i], text))
			return r->tail[i];
	return NULL;
}

/* one layer of the stack: 0 when the boot got past it (or may have), -1
 * when it did not (the layers above were not reached) */
static int print_layer(enum bl_layer l, const struct bl_result *r)
{
	const struct bl_event *e = md_started(r);
	const char *refused = tail_line(r, "No key available with this passphrase");
	bool md = bl_layer_kind(l) == BL_KIND_MD;
	if (md && e) {
		printf("layer %s: assembled: ", bl_layer_name(l));
		put_text("", e->c.detail);
	} else if (md) {
		printf("layer %s: the array was never assembled (the kernel never said '%s'): the "
		       "layers above it were not reached\n",
		       bl_layer_name(l),
		       l == BL_LAYER_RAID5    ? "md/raid:mdN: raid level 5 active"
		       : l == BL_LAYER_RAID10 ? "md/raid10:mdN: active"
					      : "md/raid1:mdN: active");
		return -1;
	} else if (bl_layer_kind(l) == BL_KIND_LUKS && refused) {
		printf("layer %s: the key was refused: ", bl_layer_name(l));
		put_text("", refused);
		return -1;
	} else if (bl_layer_kind(l) == BL_KIND_LUKS) {
		printf(
		    "layer %s: /dev/mapper/" BL_STACK_CRYPT " not seen (the kernel logs no "
		    "dm-crypt activation; see the console tail for the initramfs's cryptsetup)\n",
		    bl_layer_name(l));
	} else {
		printf("layer %s: LV " BL_STACK_VG "/" BL_STACK_LV " not seen (the kernel logs no "
		       "LV activation; see the console tail for the initramfs's lvm)\n",
		       bl_layer_name(l));
	}
	return 0;
}

/* how far up a root stack the boot got: the md array runs when the
 * kernel says so, cryptsetup says when it refuses a key; LVM and
 * dm-crypt activation leave no kernel line, so those layers are named as
 * not seen */
static void print_layers(const struct gate *g, const struct bl_result *r)
{
	for (size_t i = 0; i + 1 < g->stack.n; i++)
		if (print_layer(g->stack.layer[i], r) < 0)
			return;
}

/* why one stack's boot did not reach its root */
static void print_failure(const struct gate *g, const struct bl_result *r)
{
	if (g->stacks.n > 1)
		printf(
		    "\n=== bootlab gate: root stack %s: the initramfs did not reach the root ===\n",
		    g->root_stack);
	else
		printf("\n=== bootlab gate: the initramfs did not reach the root disk ===\n");
	printf("outcome: %s\n", bl_outcome_name(r->outcome));
	if (r->reason)
		put_text("reason: ", r->reason);
	if (r->last_phase)
		put_text("last phase: ", r->last_phase);
	if (g->stack.n > 1)
		print_layers(g, r);
	if (r->panic_seen) {
		char d[300];
		bl_describe_panic(&r->panic, d, sizeof(d));
		put_text("panic: ", d);
		put_text("       ", r->panic_line ? r->panic_line : "");
	}
	if (r->tail && r->tail[0]) {
		printf("--- console tail ---\n");
		for (size_t i = 0; r->tail[i]; i++)
			put_text("", r->tail[i]);
		printf("--- end of console tail ---\n");
	}
	if (r->frozen.on)
		printf("frozen: %s at %.3f s\n", bl_frozen_what(r->frozen.why),
		       bl_ns_to_s(r->frozen.at_ns));
	if (r->frozen.dump)
		put_text("memory dump: ", r->frozen.dump);
	if (r->repro_dir)
		put_text("boot it again: bootlab repro ", r->repro_dir);
}

/* G as it planned stack I */
static struct gate stack_view(const struct gate *g, size_t i)
{
	struct gate one = *g;
	one.root_stack = g->stacks.v[i];
	one.stack = g->parsed[i];
	return one;
}

/* the stack whose plan SC is, or the first */
static size_t stack_of(struct bl_scenario *const *scs, size_t n, const struct bl_result *r)
{
	for (size_t i = 0; i < n; i++)
		if (r->sc == scs[i])
			return i;
	return 0;
}

/* several stacks: one line each, outcome and when stage 2 said hello */
static void print_table(const struct gate *g, const struct bl_run *run,
			struct bl_scenario *const *scs)
{
	printf("\n%-24s %-10s %s\n", "root stack", "outcome", "stage-2 hello (guest s)");
	for (size_t v = 0; v < run->nvariants; v++) {
		const struct bl_result *r = bl_variant_main(&run->variants[v]);
		const struct bl_phase *h = &r->phases[BL_PH_HELLO2];
		printf("%-24s %-10s ", g->stacks.v[stack_of(scs, g->stacks.n, r)],
		       bl_outcome_name(r->outcome));
		if (h->seen && h->guest_s >= 0)
			printf("%.2f\n", h->guest_s);
		else
			printf("-\n");
	}
}

/* every stack that did not pass, then the lint findings once */
static void print_failures(const struct gate *g, const struct bl_run *run,
			   struct bl_scenario *const *scs, const char *workdir)
{
	if (!run->nvariants)
		printf("no report (%s/report.json)\n", run->dir);
	for (size_t v = 0; v < run->nvariants; v++) {
		const struct bl_result *r = bl_variant_main(&run->variants[v]);
		if (r->outcome == BL_OUT_PASS)
			continue;
		struct gate one = stack_view(g, stack_of(scs, g->stacks.n, r));
		print_failure(&one, r);
	}
	print_lint(g, workdir);
	fflush(stdout);
}

/* --degraded: each array of /proc/mdstat as the stage-2 agent read it,
 * its line and the next (blocks, [n/m] [U_]) as one */
static void print_mdstat(const struct gate *g, const struct bl_run *run,
			 struct bl_scenario *const *scs)
{
	for (size_t v = 0; v < run->nvariants; v++) {
		const struct bl_result *r = bl_variant_main(&run->variants[v]);
		for (size_t i = 0; i < r->nsteps; i++) {
			const char *d =
			    json_string_value(json_object_get(r->steps[i].reply, "data"));
			if (!d || !strstr(r->steps[i].name, "read /proc/mdstat"))
				continue;
			for (const char *l = d; (l = strstr(l, "md")); l++) {
				if (l != d && l[-1] != '\n')
					continue;
				const char *e = strchr(l, '\n');
				const char *e2 = e ? strchr(e + 1, '\n') : NULL;
				size_t n = e2 ? (size_t)(e2 - l) : strlen(l);
				char *line = xasprintf("%.*s", (int)n, l), *c;
				while ((c = strstr(line, "\n ")) || (c = strstr(line, "  ")))
					memmove(c, c + 1, strlen(c));
				char *pre =
				    xasprintf("bootlab gate: root stack %s: the stage-2 agent's "
					      "/proc/mdstat: ",
					      g->stacks.v[stack_of(scs, g->stacks.n, r)]);
				put_text(pre, line);
				free(pre);
				free(line);
			}
		}
	}
}

/* --degraded=late: when each boot's member was hot-plugged, or why not */
static void print_hotplugs(const struct gate *g, const struct bl_run *run,
			   struct bl_scenario *const *scs)
{
	for (size_t v = 0; v < run->nvariants; v++) {
		const struct bl_result *r = bl_variant_main(&run->variants[v]);
		const char *stack = g->stacks.v[stack_of(scs, g->stacks.n, r)];
		for (size_t i = 0; i < r->nhotplugs; i++) {
			printf("bootlab gate: root stack %s: member hot-plugged at %.3f s%s", stack,
			       r->hotplugs[i].at_s,
			       r->hotplugs[i].error ? ": QEMU refused: " : "\n");
			if (r->hotplugs[i].error)
				put_text("", r->hotplugs[i].error);
		}
		if (!r->nhotplugs)
			printf("bootlab gate: root stack %s: the boot ended before the member was "
			       "hot-plugged\n",
			       stack);
	}
}

/* the verdict of a run that happened: printed, the JUnit file copied */
static int gate_verdict(const struct gate *g, const struct bl_run *run,
			struct bl_scenario *const *scs, const char *workdir)
{
	int rc = cmd_run_report(run);
	if (g->late_ms)
		print_hotplugs(g, run, scs);
	if (g->degraded)
		print_mdstat(g, run, scs);
	if (g->stacks.n > 1)
		print_table(g, run, scs);
	if (rc != BL_EXIT_OK)
		print_failures(g, run, scs, workdir);
	else
		printf("bootlab gate: passed: the initramfs switched to the root disk and the "
		       "agent answered as its init\n");
	if (g->junit &&
	    bl_reporter_junit.write(&run->info, run->variants, run->nvariants, g->junit) < 0) {
		fprintf(stderr, "bootlab gate: cannot write the JUnit report: %s\n", bl_errmsg());
		if (rc == BL_EXIT_OK)
			rc = BL_EXIT_INFRA;
	}
	return rc;
}

/* stack I's plan, its files in WORKDIR (a folder of its own when there
 * are several), named by its stack then; NULL with a message */
static struct bl_scenario *stack_plan(const struct gate *g, size_t i, const char *workdir)
{
	struct gate one = stack_view(g, i);
	if (g->stacks.n == 1)
		return gate_plan(&one, workdir);
	char *dir = xasprintf("%s/stack%zu", workdir, i);
	struct bl_scenario *sc = bl_mkdir_p(dir, 0755) < 0 ? NULL : gate_plan(&one, dir);
	if (sc) {
		sc->variant = xasprintf("stack=%s", one.root_stack);
		bl_plan_set(&sc->name, NULL);
		sc->name = xasprintf("initramfs-gate[%s]", sc->variant);
	}
	free(dir);
	return sc;
}

static int gate_boot(const struct gate *g, struct bl_scenario **scs, const char *workdir, int argc,
		     char **argv)
{
	size_t n = g->stacks.n;
	struct bl_run_opts o = {
	    .report_root = g->report_dir, .argc = argc, .argv = argv, .jobs = g->jobs, .repeat = 1};
	o.freeze = g->freeze.on ? &g->freeze : NULL;
	bl_selection_of(scs, n, &o.selection);
	struct bl_run run;
	if (bl_run_variants(scs, n, &o, &run) < 0) {
		fprintf(stderr, "bootlab gate: %s\n", bl_errmsg());
		return BL_EXIT_INFRA;
	}
	int rc = gate_verdict(g, &run, scs, workdir);
	bl_run_release(&run);
	return rc;
}

static int gate_run(const struct gate *g, const char *workdir, int argc, char **argv)
{
	size_t n = g->stacks.n;
	struct bl_scenario **scs = xcalloc(n, sizeof(*scs));
	int rc = -1;
	for (size_t i = 0; i < n; i++) {
		if (!(scs[i] = stack_plan(g, i, workdir))) {
			fprintf(stderr, "bootlab gate: %s\n", bl_errmsg());
			rc = bl_err_last_kind() == BL_EK_INFRA ? BL_EXIT_INFRA : BL_EXIT_FAIL;
			break;
		}
		bl_kpolicy_override_apply(&g->kpolicy, &scs[i]->kpolicy);
	}
	if (rc < 0)
		rc = gate_boot(g, scs, workdir, argc, argv);
	for (size_t i = 0; i < n; i++)
		bl_scenario_free(scs[i]);
	free(scs);
	return rc;
}

/* --degraded=HOW: absent, corrupt or late:T */
static void degraded_option(struct gate *g, const char *how)
{
	g->degraded = true;
	g->corrupt = !strcmp(how, "corrupt");
	g->late_ms = 0;
	if (!strncmp(how, "late:", 5)) {
		if (bl_parse_duration(how + 5, &g->late_ms) < 0)
			die("gate: --degraded=%s: %s", how, bl_errmsg());
		if (g->late_ms < 1 || g->late_ms > 3600000)
			die("gate: --degraded=%s: from 1ms to 1h", how);
	} else if (!g->corrupt && strcmp(how, "absent")) {
		die("gate: --degraded='%s': absent (the default), corrupt or late:T", how);
	}
}

/* the options into G: -1 to go on, else the exit status */
static int gate_parse(struct gate *g, int argc, char **argv)
{
	static const char *const names[] = {
	    "--kernel",	   "--modules", "--root",	"--cmdline", "--arch",
	    "--machine",   "--memory",	"--timeout",	"--junit",   "--report-dir",
	    "--root-size", "--root-by", "--passphrase", "--keyfile", "--disks"};
	const char **slots[] = {&g->kernel,	&g->modules,	&g->root,      &g->cmdline,
				&g->arch,	&g->machine,	&g->memory,    &g->timeout,
				&g->junit,	&g->report_dir, &g->root_size, &g->root_by,
				&g->passphrase, &g->keyfile,	&g->disks};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(gate_usage, stdout);
			return BL_EXIT_OK;
		} else if (!strcmp(a, "--keep")) {
			g->keep = true;
			continue;
		} else if (!strcmp(a, "--observe")) {
			g->observe = true;
			continue;
		} else if (!strcmp(a, "--degraded") || !strncmp(a, "--degraded=", 11)) {
			degraded_option(g, a[10] ? a + 11 : "absent");
			continue;
		} else if (!strcmp(a, "--freeze") || !strncmp(a, "--freeze=", 9) ||
			   !strcmp(a, "--dump-memory")) {
			int c = a[2] == 'd' ? CLI_OPT_DUMP_MEMORY : CLI_OPT_FREEZE;
			const char *t = c == CLI_OPT_FREEZE && a[8] ? a + 9 : NULL;
			if (cli_freeze_option("gate", &g->freeze, c, t) < 0)
				return BL_EXIT_USAGE;
			continue;
		} else if (!strcmp(a, "--initramfs") || !strcmp(a, "--root-stack")) {
			if (i + 1 >= argc)
				die("gate: option '%s' needs a value", a);
			sl_push(a[2] == 'i' ? &g->initramfs : &g->stacks, argv[++i]);
			continue;
		} else if (!strcmp(a, "--uuid")) {
			if (i + 1 >= argc)
				die("gate: option '%s' needs a value", a);
			if (bl_stack_id_parse(argv[++i], &g->ids) < 0)
				die("gate: --uuid %s", bl_errmsg());
			continue;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
			if (i + 1 >= argc)
				die("gate: option '%s' needs a value", a);
			g->jobs = (int)cli_count("gate", argv[++i], 64, a);
			continue;
		} else if (!strcmp(a, "--fail-on") || !strcmp(a, "--allow")) {
			if (i + 1 >= argc)
				die("gate: option '%s' needs a value", a);
			if (cli_kpolicy_option("gate", &g->kpolicy, a[2] == 'a', argv[++i]) < 0)
				return BL_EXIT_USAGE;
			continue;
		}
		for (size_t n = 0; n < BL_ARRAY_SIZE(names); n++)
			if (!strcmp(a, names[n]))
				slot = slots[n];
		if (!slot) {
			fprintf(stderr, "bootlab gate: unknown option '%s'\n%s", a, gate_usage);
			return BL_EXIT_USAGE;
		}
		if (i + 1 >= argc)
			die("gate: option '%s' needs a value", a);
		*slot = argv[++i];
	}
	if (!g->kernel || !g->initramfs.n) {
		fprintf(stderr,
			"bootlab gate: --kernel and at least one --initramfs are required\n%s",
			gate_usage);
		return BL_EXIT_USAGE;
	}
	/* the gate's plans boot QEMU (bl_plan_new()): checked before anything
	 * is built */
	int rc = cli_freeze_check("gate", &g->freeze, "qemu");
	return rc ? rc : -1;
}

/* --memory, --timeout and --root-size as a scenario file would take them */
static void check_values(struct gate *g)
{
	unsigned long long m;
	if (bl_parse_size(g->memory, &m) < 0)
		die("gate: --memory: %s", bl_errmsg());
	if (m % (1 << 20))
		die("gate: --memory '%s' is not a whole number of MiB (a plain number is bytes; "
		    "write 256M)",
		    g->memory);
	if (m < (16ULL << 20) || m > (64ULL << 30))
		die("gate: --memory '%s' is out of range (16M to 64G)", g->memory);
	g->memory_mb = (int)(m >> 20);
	if (bl_parse_duration(g->timeout, &g->timeout_ms) < 0)
		die("gate: --timeout: %s", bl_errmsg());
	if (g->root_image)
		return;
	if (bl_parse_size(g->root_size, &g->root_bytes) < 0)
		die("gate: --root-size: %s", bl_errmsg());
	if (g->root_bytes < 512 || g->root_bytes % 512)
		die("gate: --root-size '%s' must be a non-zero multiple of 512 bytes",
		    g->root_size);
}

/* a luks layer has exactly one key: --passphrase or --keyfile's bytes */
static void check_key(struct gate *g)
{
	bool luks = false;
	for (size_t i = 0; i < g->stacks.n; i++)
		luks |= bl_stack_has_kind(&g->parsed[i], BL_KIND_LUKS);
	if (g->passphrase && g->keyfile)
		die("gate: --passphrase and --keyfile: give one key");
	if (luks && !g->passphrase && !g->keyfile)
		die("gate: --root-stack with luks needs --passphrase TEXT or --keyfile FILE");
	if (!luks && (g->passphrase || g->keyfile))
		die("gate: %s: no --root-stack has a luks layer",
		    g->passphrase ? "--passphrase" : "--keyfile");
	if (g->passphrase && bl_gate_passphrase_check(g->passphrase) < 0)
		die("gate: --passphrase: %s", bl_errmsg());
	if (g->keyfile && bl_read_file(g->keyfile, &g->key, &g->key_len) < 0)
		die("gate: --keyfile: %s", bl_errmsg());
	if (g->keyfile && !g->key_len)
		die("gate: --keyfile '%s' is empty", g->keyfile);
	if (g->passphrase) {
		g->key = xstrdup(g->passphrase);
		g->key_len = strlen(g->key);
	}
}

/* --uuid NAME=: some stack has the layer it names */
static void check_ids(const struct gate *g)
{
	bool md = false, luks = false;
	for (size_t i = 0; i < g->stacks.n; i++) {
		md |= bl_stack_has_kind(&g->parsed[i], BL_KIND_MD);
		luks |= bl_stack_has_kind(&g->parsed[i], BL_KIND_LUKS);
	}
	if (g->ids.array[0] && !md)
		die("gate: --uuid md=%s: no --root-stack has an md layer (raid1, raid5, raid10)",
		    g->ids.array);
	if (g->ids.luks[0] && !luks)
		die("gate: --uuid luks=%s: no --root-stack has a luks layer", g->ids.luks);
	if (g->ids.root[0] && g->root_image)
		die("gate: --uuid root=%s needs a root made by bootlab, not --root IMAGE",
		    g->ids.root);
}

/* --disks FILE: loaded now, so a bad file stops the gate before anything
 * is built; it replaces every option that makes the root */
static void check_layout(struct gate *g)
{
	const char *other = g->root						  ? "--root"
			    : g->stacks.n					  ? "--root-stack"
			    : g->degraded					  ? "--degraded"
			    : g->root_by					  ? "--root-by"
			    : g->ids.array[0] || g->ids.luks[0] || g->ids.root[0] ? "--uuid"
										  : NULL;
	if (other)
		die("gate: --disks and %s: the layout file says what the root is", other);
	g->layout = xcalloc(1, sizeof(*g->layout));
	if (cli_gate_layout_load(g->disks, g->layout) < 0)
		die("gate: --disks %s", bl_errmsg());
	if (!g->layout->root_dev && !(g->cmdline && has_word(g->cmdline, "root=")))
		die("gate: --disks %s: the root (%s) is on an md array, named md0 or md127 as "
		    "the initramfs chooses: give root= in --cmdline",
		    g->disks, g->layout->field);
}

/* --root-stack and --root-by: a stack bootlab builds, named as it can be */
static void check_stack(struct gate *g)
{
	if (!g->stacks.n)
		sl_push(&g->stacks, "ext4");
	if (g->stacks.n > GATE_STACKS_MAX)
		die("gate: --root-stack given %zu times (at most %d)", g->stacks.n,
		    GATE_STACKS_MAX);
	for (size_t i = 0; i < g->stacks.n; i++) {
		if (bl_stack_parse(g->stacks.v[i], &g->parsed[i]) < 0)
			die("gate: --root-stack: %s", bl_errmsg());
		for (size_t k = 0; k < i; k++)
			if (!strcmp(g->stacks.v[k], g->stacks.v[i]))
				die("gate: --root-stack '%s' given twice", g->stacks.v[i]);
	}
	for (size_t i = 0; g->degraded && i < g->stacks.n; i++)
		if (!bl_stack_redundant(&g->parsed[i]))
			die("gate: --degraded: root stack '%s' has no md layer (raid1, raid5, "
			    "raid10) that runs without a member",
			    g->stacks.v[i]);
	if (bl_root_by_parse(g->root_by ? g->root_by : "path", &g->by) < 0)
		die("gate: --root-by: %s", bl_errmsg());
	check_key(g);
	if (g->by != BL_ROOT_BY_PATH && g->root_image)
		die("gate: --root-by %s needs a root made by bootlab, not --root IMAGE",
		    g->root_by);
	check_ids(g);
}

/* the files named exist; their paths made absolute */
static void check_files(struct gate *g)
{
	if (strcmp(g->arch, "x86_64") && strcmp(g->arch, "aarch64"))
		die("gate: --arch '%s': x86_64 or aarch64", g->arch);
	if (!bl_file_exists(g->kernel) || bl_is_dir(g->kernel))
		die("gate: --kernel '%s': no such file", g->kernel);
	for (size_t i = 0; i < g->initramfs.n; i++) {
		if (!bl_file_exists(g->initramfs.v[i]) || bl_is_dir(g->initramfs.v[i]))
			die("gate: --initramfs '%s': no such file", g->initramfs.v[i]);
		char *abs = absolute(g->initramfs.v[i]);
		free(g->initramfs.v[i]);
		g->initramfs.v[i] = abs;
	}
	if (g->modules && !bl_is_dir(g->modules))
		die("gate: --modules '%s': not a folder", g->modules);
	if (g->root && !bl_file_exists(g->root))
		die("gate: --root '%s': no such file or folder", g->root);
	struct stat st;
	g->root_image = g->root && stat(g->root, &st) == 0 && S_ISREG(st.st_mode);
	if (g->root_image)
		g->root_bytes = ((unsigned long long)st.st_size + 511) / 512 * 512;
	g->kernel = g->owned[0] = absolute(g->kernel);
	if (g->modules)
		g->modules = g->owned[1] = absolute(g->modules);
	if (g->root)
		g->root = g->owned[2] = absolute(g->root);
}

int cmd_gate(int argc, char **argv)
{
	struct gate g = {.arch = "x86_64",
			 .memory = "1G",
			 .timeout = "300s",
			 .report_dir = "reports",
			 .root_size = "128M",
			 .jobs = 1,
			 .freeze.hold_ms = BL_FREEZE_HOLD_MS};
	int rc = gate_parse(&g, argc, argv);
	if (rc < 0) {
		check_files(&g);
		check_values(&g);
		if (g.disks)
			check_layout(&g);
		check_stack(&g);
		char *workdir = bl_mktemp_dir("gate");
		if (!workdir) {
			fprintf(stderr, "bootlab gate: %s\n", bl_errmsg());
			rc = BL_EXIT_INFRA;
		} else {
			rc = gate_run(&g, workdir, argc, argv);
			if (g.keep)
				fprintf(stderr, "bootlab gate: kept work folder '%s'\n", workdir);
			else
				bl_rm_rf(workdir);
			free(workdir);
		}
	}
	for (size_t i = 0; i < BL_ARRAY_SIZE(g.owned); i++)
		free(g.owned[i]);
	sl_release(&g.initramfs);
	sl_release(&g.stacks);
	if (g.layout)
		cli_gate_layout_release(g.layout);
	free(g.layout);
	free(g.key);
	return rc;
}
