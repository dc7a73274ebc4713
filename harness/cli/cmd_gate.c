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
    "  --cmdline TEXT      kernel command line words (default \"root=/dev/vda\")\n"
    "  --root-stack SPEC   the layers from the disk up to the root filesystem, joined\n"
    "                      by '+' (default ext4; docs/root-stacks.md)\n"
    "  --root-by path|uuid|label  how the root= word bootlab adds names the root\n"
    "                      (default path; left out when --cmdline has root=)\n"
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
    "  -h, --help          this text\n"
    "\n"
    "exit status: 0 the root was reached, 1 it was not, 2 bad usage,\n"
    "3 infrastructure failure, 130 interrupted (Ctrl-C, SIGTERM)\n";

/* the label of the root filesystem bootlab makes, for --root-by label */
#define GATE_ROOT_LABEL "bootlab-root"

struct gate {
	const char *kernel, *modules, *root, *cmdline, *arch, *machine, *memory, *timeout;
	const char *junit, *report_dir, *root_size, *root_stack, *root_by;
	struct strlist initramfs;
	bool keep, observe;
	struct bl_kpolicy_override kpolicy; /* --fail-on, --allow */
	/* from the options above */
	int memory_mb, timeout_ms;
	unsigned long long root_bytes; /* --root-size, or the root image's in whole sectors */
	bool root_image;	       /* --root names an ext2/3/4 image, not a folder */
	struct bl_stack stack;	       /* --root-stack */
	enum bl_root_by by;	       /* --root-by */
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

/* a new ext4 root: the agent as /sbin/init, the folders it mounts on and
 * its modules (the --root folder's tree under them) */
static void ext4_root(const struct gate *g, struct bl_disk_fs *fs, const struct strlist *mods,
		      const char *order)
{
	static const char *const dirs[] = {"/dev", "/proc", "/sys", "/run", "/tmp"};
	fs->agent = xstrdup("/sbin/init");
	if (g->root)
		fs->tree = xstrdup(g->root);
	for (size_t i = 0; i < BL_ARRAY_SIZE(dirs); i++)
		bl_plan_fs_file(fs, dirs[i])->dir = true;
	for (size_t i = 0; i < mods->n; i++) {
		char *path = xasprintf("/lib/modules/bootlab/%s", base_name(mods->v[i]));
		bl_plan_fs_file(fs, path)->source = xstrdup(mods->v[i]);
		free(path);
	}
	if (mods->n)
		bl_plan_fs_file(fs, "/lib/modules/bootlab/order")->source = xstrdup(order);
}

/* the root disk: a copy of the --root image with the agent written in, or
 * a new ext4 */
static int add_root_disk(struct bl_scenario *sc, const struct gate *g, const char *workdir,
			 const char *agent, const struct strlist *mods, const char *order)
{
	char *copy = NULL;
	if (g->root_image) {
		copy = xasprintf("%s/root.img", workdir);
		if (inject_into_image(g->root, copy, agent, mods, order, workdir) < 0) {
			free(copy);
			return -1;
		}
	}
	struct bl_disk *d = bl_plan_add_disk(sc, "root", g->root_bytes);
	struct bl_disk_fs *fs = bl_plan_disk_fs(sc, d, BL_FS_EXT4);
	if (g->by == BL_ROOT_BY_LABEL)
		fs->label = xstrdup(GATE_ROOT_LABEL);
	if (copy)
		fs->image = copy;
	else
		ext4_root(g, fs, mods, order);
	return 0;
}

/* pass when the initramfs switched to the root and the agent there said
 * hello; then power off (step names as the scenario loader makes them) */
static void add_steps(struct bl_scenario *sc, const struct gate *g)
{
	struct bl_step *st =
	    bl_plan_add_step(sc, BL_STEP_HELLO, "the initramfs switched to the root disk");
	st->stage = 2;
	st->timeout_ms = g->timeout_ms;
	st = bl_plan_add_step(sc, BL_STEP_AGENT, "2: agent poweroff");
	st->request = json_pack("{s:s}", "op", "poweroff");
	st = bl_plan_add_step(sc, BL_STEP_EXPECT_OUTCOME, "3: outcome pass");
	st->outcome = xstrdup("pass");
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
static const char *root_word(const struct gate *g)
{
	return g->by == BL_ROOT_BY_LABEL ? "root=LABEL=" GATE_ROOT_LABEL : "root=/dev/vda";
}

/* the user's words, with bootlab's root= before them unless they give one */
static char *gate_cmdline(const struct gate *g)
{
	const char *user = g->cmdline ? g->cmdline : "";
	if (has_word(user, "root="))
		return xstrdup(user);
	printf("bootlab gate: root stack %s, adding %s\n", g->root_stack, root_word(g));
	return xasprintf("%s%s%s", root_word(g), *user ? " " : "", user);
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
		if (add_root_disk(sc, g, workdir, agent, &mods, order) < 0) {
			bl_scenario_free(sc);
			sc = NULL;
		} else {
			add_steps(sc, g);
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

static void print_failure(const struct gate *g, const struct bl_run *run, const char *workdir)
{
	const struct bl_result *r = run->nvariants ? bl_variant_main(&run->variants[0]) : NULL;
	printf("\n=== bootlab gate: the initramfs did not reach the root disk ===\n");
	if (r) {
		printf("outcome: %s\n", bl_outcome_name(r->outcome));
		if (r->reason)
			put_text("reason: ", r->reason);
		if (r->last_phase)
			put_text("last phase: ", r->last_phase);
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
		if (r->repro_dir)
			put_text("boot it again: bootlab repro ", r->repro_dir);
	} else {
		printf("no report (%s/report.json)\n", run->dir);
	}
	print_lint(g, workdir);
	fflush(stdout);
}

/* the verdict of a run that happened: printed, the JUnit file copied */
static int gate_verdict(const struct gate *g, const struct bl_run *run, const char *workdir)
{
	int rc = cmd_run_report(run);
	if (rc != BL_EXIT_OK)
		print_failure(g, run, workdir);
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

static int gate_run(const struct gate *g, const char *workdir, int argc, char **argv)
{
	struct bl_scenario *sc = gate_plan(g, workdir);
	if (!sc) {
		fprintf(stderr, "bootlab gate: %s\n", bl_errmsg());
		return bl_err_last_kind() == BL_EK_INFRA ? BL_EXIT_INFRA : BL_EXIT_FAIL;
	}
	bl_kpolicy_override_apply(&g->kpolicy, &sc->kpolicy);
	struct bl_run_opts o = {
	    .report_root = g->report_dir, .argc = argc, .argv = argv, .jobs = 1, .repeat = 1};
	bl_selection_of(&sc, 1, &o.selection);
	struct bl_run run;
	int rc;
	if (bl_run_variants(&sc, 1, &o, &run) < 0) {
		fprintf(stderr, "bootlab gate: %s\n", bl_errmsg());
		rc = BL_EXIT_INFRA;
	} else {
		rc = gate_verdict(g, &run, workdir);
		bl_run_release(&run);
	}
	bl_scenario_free(sc);
	return rc;
}

/* the options into G: -1 to go on, else the exit status */
static int gate_parse(struct gate *g, int argc, char **argv)
{
	static const char *const names[] = {
	    "--kernel",	   "--modules",	   "--root",	"--cmdline", "--arch",
	    "--machine",   "--memory",	   "--timeout", "--junit",   "--report-dir",
	    "--root-size", "--root-stack", "--root-by"};
	const char **slots[] = {&g->kernel, &g->modules,    &g->root,	   &g->cmdline,
				&g->arch,   &g->machine,    &g->memory,	   &g->timeout,
				&g->junit,  &g->report_dir, &g->root_size, &g->root_stack,
				&g->root_by};
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
		} else if (!strcmp(a, "--initramfs")) {
			if (i + 1 >= argc)
				die("gate: option '--initramfs' needs a file");
			sl_push(&g->initramfs, argv[++i]);
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
	return -1;
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

/* --root-stack and --root-by: a stack bootlab builds, named as it can be */
static void check_stack(struct gate *g)
{
	if (bl_stack_parse(g->root_stack, &g->stack) < 0 || bl_stack_buildable(&g->stack) < 0)
		die("gate: --root-stack: %s", bl_errmsg());
	if (bl_root_by_parse(g->root_by, &g->by) < 0)
		die("gate: --root-by: %s", bl_errmsg());
	if (g->by == BL_ROOT_BY_UUID)
		die("gate: --root-by uuid is not supported yet: the root filesystem's UUID is "
		    "derived from its contents (docs/root-stacks.md)");
	if (g->by != BL_ROOT_BY_PATH && g->root_image)
		die("gate: --root-by %s needs a root made by bootlab, not --root IMAGE",
		    g->root_by);
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
			 .root_stack = "ext4",
			 .root_by = "path"};
	int rc = gate_parse(&g, argc, argv);
	if (rc < 0) {
		check_files(&g);
		check_values(&g);
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
	return rc;
}
