/* bootlab gate: the CI gate for a project's own kernel and initramfs.
 * It writes one scenario (the project's initramfs files as raw segments, a
 * root disk whose /sbin/init is the bootlab agent, "pass when the stage-2
 * hello arrives") and runs it with `bootlab run`, so the boot, the reports
 * and the JUnit file are the run command's own. On failure it adds what a
 * CI log needs: the decoded panic, the console tail and the lint findings
 * of the initramfs as the kernel will see it (all segments stacked). */
#include "archive/archive.h"
#include "cli/cli.h"
#include "kernel/kernel.h"
#include "session/session.h"
#include "util/util.h"

#include <errno.h>
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
    "of the initramfs.\n"
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
    "  --arch ARCH         x86_64 (default) or aarch64\n"
    "  --machine M         QEMU machine (default q35 on x86_64, virt on aarch64)\n"
    "  --memory SIZE       guest memory (default 1G)\n"
    "  --timeout DURATION  deadline for the boot (default 300s)\n"
    "  --junit OUT         also write the JUnit report to OUT\n"
    "  --report-dir DIR    where the run's reports go (default reports)\n"
    "  --keep              keep the gate's work folder\n"
    "  -h, --help          this text\n"
    "\n"
    "exit status: 0 the root was reached, 1 it was not, 2 bad usage,\n"
    "3 infrastructure failure\n";

struct gate {
	const char *kernel, *modules, *root, *cmdline, *arch, *machine, *memory, *timeout;
	const char *junit, *report_dir, *root_size;
	struct strlist initramfs;
	bool keep;
};

/* a YAML double-quoted scalar: JSON string syntax is valid YAML */
static void yq(struct strbuf *y, const char *s)
{
	json_t *j = json_string(s);
	char *t = json_dumps(j, JSON_ENCODE_ANY);
	sb_adds(y, t ? t : "\"\"");
	free(t);
	json_decref(j);
}

static char *absolute(const char *p)
{
	char *r = realpath(p, NULL);
	return r ? r : xstrdup(p);
}

/* the agent's port modules for this kernel, or none (built in, or no
 * modules tree: the agent then falls back to the console) */
static void agent_modules(struct gate *g, const char *transport, struct strlist *out)
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
	sb_adds(&cmds, "mkdir /sbin\nrm /sbin/init\n");
	sb_addf(&cmds, "write %s /sbin/init\nsif /sbin/init mode 0100755\n", agent);
	sb_adds(&cmds, "sif /sbin/init uid 0\nsif /sbin/init gid 0\n");
	sb_adds(&cmds, "mkdir /dev\nmkdir /proc\nmkdir /sys\nmkdir /run\n");
	if (mods->n) {
		sb_adds(&cmds, "mkdir /lib\nmkdir /lib/modules\nmkdir /lib/modules/bootlab\n");
		for (size_t i = 0; i < mods->n; i++)
			sb_addf(&cmds, "write %s /lib/modules/bootlab/%s\n", mods->v[i],
				base_name(mods->v[i]));
		sb_addf(&cmds, "write %s /lib/modules/bootlab/order\n", order);
	}
	char *cf = xasprintf("%s/debugfs.cmds", workdir);
	int rc = bl_write_file_atomic(cf, cmds.buf, cmds.len, 0644);
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

static int write_scenario(struct gate *g, const char *workdir, const char *path)
{
	struct strbuf y = STRBUF_INIT;
	bool aarch64 = !strcmp(g->arch, "aarch64");
	const char *machine = g->machine ? g->machine : aarch64 ? "virt" : "q35";
	struct strlist mods = STRLIST_INIT;
	agent_modules(g, strcmp(machine, "microvm") ? "pci" : "mmio", &mods);
	char *agent = bl_agent_path(g->arch);
	char *order = xasprintf("%s/modules.order", workdir);
	int rc = 0;
	if (access(agent, R_OK) < 0) {
		bl_err("the agent for '%s' is not built: '%s' (run 'make agent ARCH=%s')", g->arch,
		       agent, g->arch);
		bl_err_kind(BL_EK_INFRA);
		rc = -1;
		goto out;
	}
	{
		struct strbuf o = STRBUF_INIT;
		for (size_t i = 0; i < mods.n; i++)
			sb_addf(&o, "/lib/modules/bootlab/%s\n", base_name(mods.v[i]));
		rc = bl_write_file_atomic(order, o.buf ? o.buf : "", o.len, 0644);
		sb_release(&o);
		if (rc < 0)
			goto out;
	}

	sb_adds(&y, "# written by bootlab gate\nname: initramfs-gate\n");
	sb_addf(&y, "description: the project's initramfs reaches its root, where the agent is "
		    "/sbin/init\n");
	sb_addf(&y, "arch: %s\nbackend: qemu\nmachine: %s\n", g->arch, machine);
	sb_adds(&y, "kernel:\n  image: ");
	yq(&y, g->kernel);
	sb_adds(&y, "\ncmdline: ");
	{
		char *cl = xasprintf("%s%s", g->cmdline ? g->cmdline : "root=/dev/vda",
				     mods.n ? " bootlab.modules=/lib/modules/bootlab/order" : "");
		yq(&y, cl);
		free(cl);
	}
	sb_addf(&y, "\nmemory: %s\ntimeout: %s\narchives:\n", g->memory, g->timeout);
	for (size_t i = 0; i < g->initramfs.n; i++) {
		sb_addf(&y, "  - name: initramfs%zu\n    raw: ", i + 1);
		yq(&y, g->initramfs.v[i]);
		sb_adds(&y, "\n");
	}
	sb_adds(&y, "disks:\n  - name: root\n");
	struct stat st;
	if (g->root && stat(g->root, &st) == 0 && S_ISREG(st.st_mode)) {
		char *copy = xasprintf("%s/root.img", workdir);
		if (inject_into_image(g->root, copy, agent, &mods, order, workdir) < 0) {
			free(copy);
			rc = -1;
			goto out;
		}
		sb_addf(&y, "    size: %lld\n    filesystem:\n      image: ",
			(long long)((st.st_size + 511) / 512 * 512));
		yq(&y, copy);
		sb_adds(&y, "\n");
		free(copy);
	} else {
		sb_addf(
		    &y,
		    "    size: %s\n    filesystem:\n      type: ext4\n      agent: /sbin/init\n",
		    g->root_size);
		if (g->root) {
			sb_adds(&y, "      tree: ");
			yq(&y, g->root);
			sb_adds(&y, "\n");
		}
		sb_adds(&y, "      files:\n");
		static const char *const dirs[] = {"/dev", "/proc", "/sys", "/run", "/tmp"};
		for (size_t i = 0; i < BL_ARRAY_SIZE(dirs); i++)
			sb_addf(&y, "        - {path: %s, dir: true}\n", dirs[i]);
		for (size_t i = 0; i < mods.n; i++) {
			sb_addf(&y, "        - {path: /lib/modules/bootlab/%s, source: ",
				base_name(mods.v[i]));
			yq(&y, mods.v[i]);
			sb_adds(&y, "}\n");
		}
		if (mods.n) {
			sb_adds(&y, "        - {path: /lib/modules/bootlab/order, source: ");
			yq(&y, order);
			sb_adds(&y, "}\n");
		}
	}
	sb_addf(&y,
		"steps:\n  - name: the initramfs switched to the root disk\n"
		"    hello: {stage: 2}\n    timeout: %s\n"
		"  - agent: {op: poweroff}\n  - outcome: pass\n",
		g->timeout);
	rc = bl_write_file_atomic(path, y.buf, y.len, 0644);
out:
	sb_release(&y);
	sl_release(&mods);
	free(agent);
	free(order);
	return rc;
}

/* the lint findings of the initramfs as the kernel sees it: all segments
 * stacked in order */
static void print_lint(struct gate *g, const char *workdir)
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
	if (bl_initrd_load(&rd, file)) {
		printf("lint: error: unreadable: %s\n", bl_errmsg());
	} else {
		struct bl_lint l = {0};
		bl_lint_run(&rd, 0, &l);
		if (!l.n)
			printf("lint: no findings\n");
		for (size_t i = 0; i < l.n; i++)
			printf("lint: %s: %s: %s%s%s\n", bl_lint_severity_name(l.v[i].severity),
			       l.v[i].code, l.v[i].path ? l.v[i].path : "", l.v[i].path ? ": " : "",
			       l.v[i].message);
		bl_lint_release(&l);
		bl_initrd_release(&rd);
	}
	free(stacked);
}

static void print_failure(struct gate *g, const char *report, const char *workdir)
{
	json_error_t e;
	json_t *r = json_load_file(report, 0, &e);
	json_t *sc = json_array_get(json_object_get(r, "scenarios"), 0);
	printf("\n=== bootlab gate: the initramfs did not reach the root disk ===\n");
	if (sc) {
		const char *reason = json_string_value(json_object_get(sc, "reason"));
		const char *phase = json_string_value(json_object_get(sc, "last_phase"));
		printf("outcome: %s\n", json_string_value(json_object_get(sc, "outcome")));
		if (reason)
			printf("reason: %s\n", reason);
		if (phase)
			printf("last phase: %s\n", phase);
		json_t *p = json_object_get(sc, "panic");
		if (json_is_object(p))
			printf("panic: %s\n       %s\n",
			       json_string_value(json_object_get(p, "description")),
			       json_string_value(json_object_get(p, "message")));
		json_t *tail = json_object_get(sc, "console_tail");
		if (json_array_size(tail)) {
			printf("--- console tail ---\n");
			size_t i;
			json_t *l;
			json_array_foreach(tail, i, l) printf("%s\n", json_string_value(l));
			printf("--- end of console tail ---\n");
		}
	} else {
		printf("no report (%s)\n", report);
	}
	json_decref(r);
	print_lint(g, workdir);
	fflush(stdout);
}

int cmd_gate(int argc, char **argv)
{
	struct gate g = {.arch = "x86_64",
			 .memory = "1G",
			 .timeout = "300s",
			 .report_dir = "reports",
			 .root_size = "128M"};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(gate_usage, stdout);
			return BL_EXIT_OK;
		} else if (!strcmp(a, "--keep")) {
			g.keep = true;
			continue;
		} else if (!strcmp(a, "--initramfs")) {
			if (i + 1 >= argc)
				die("gate: '--initramfs' needs a file");
			sl_push(&g.initramfs, argv[++i]);
			continue;
		}
		static const char *const names[] = {
		    "--kernel", "--modules", "--root",	"--cmdline",	"--arch",     "--machine",
		    "--memory", "--timeout", "--junit", "--report-dir", "--root-size"};
		const char **slots[] = {&g.kernel, &g.modules,	  &g.root,     &g.cmdline,
					&g.arch,   &g.machine,	  &g.memory,   &g.timeout,
					&g.junit,  &g.report_dir, &g.root_size};
		for (size_t n = 0; n < BL_ARRAY_SIZE(names); n++)
			if (!strcmp(a, names[n]))
				slot = slots[n];
		if (!slot) {
			fprintf(stderr, "bootlab gate: unknown option '%s'\n%s", a, gate_usage);
			return BL_EXIT_USAGE;
		}
		if (i + 1 >= argc)
			die("gate: '%s' needs a value", a);
		*slot = argv[++i];
	}
	if (!g.kernel || !g.initramfs.n) {
		fprintf(stderr,
			"bootlab gate: --kernel and at least one --initramfs are required\n%s",
			gate_usage);
		return BL_EXIT_USAGE;
	}
	if (strcmp(g.arch, "x86_64") && strcmp(g.arch, "aarch64"))
		die("gate: --arch '%s': x86_64 or aarch64", g.arch);
	if (!bl_file_exists(g.kernel) || bl_is_dir(g.kernel))
		die("gate: --kernel '%s': no such file", g.kernel);
	for (size_t i = 0; i < g.initramfs.n; i++) {
		if (!bl_file_exists(g.initramfs.v[i]) || bl_is_dir(g.initramfs.v[i]))
			die("gate: --initramfs '%s': no such file", g.initramfs.v[i]);
		char *abs = absolute(g.initramfs.v[i]);
		free(g.initramfs.v[i]);
		g.initramfs.v[i] = abs;
	}
	if (g.modules && !bl_is_dir(g.modules))
		die("gate: --modules '%s': not a folder", g.modules);
	if (g.root && !bl_file_exists(g.root))
		die("gate: --root '%s': no such file or folder", g.root);
	char *kernel = absolute(g.kernel), *modules = g.modules ? absolute(g.modules) : NULL;
	char *root = g.root ? absolute(g.root) : NULL;
	g.kernel = kernel;
	g.modules = modules;
	g.root = root;

	int rc = BL_EXIT_INFRA;
	char *workdir = bl_mktemp_dir("gate");
	char *yaml = NULL, *report = NULL;
	if (!workdir) {
		fprintf(stderr, "bootlab gate: %s\n", bl_errmsg());
		goto out;
	}
	yaml = xasprintf("%s/initramfs-gate.yaml", workdir);
	if (write_scenario(&g, workdir, yaml) < 0) {
		fprintf(stderr, "bootlab gate: %s\n", bl_errmsg());
		rc = bl_err_last_kind() == BL_EK_INFRA ? BL_EXIT_INFRA : BL_EXIT_FAIL;
		goto out;
	}
	char *run_argv[] = {"run", "--report-dir", (char *)g.report_dir, "-j", "1", yaml, NULL};
	rc = cmd_run(6, run_argv);
	report = xasprintf("%s/latest/report.json", g.report_dir);
	if (rc != BL_EXIT_OK && bl_file_exists(report))
		print_failure(&g, report, workdir);
	else if (rc == BL_EXIT_OK)
		printf("bootlab gate: passed: the initramfs switched to the root disk and the "
		       "agent answered "
		       "as its init\n");
	if (g.junit) {
		char *ju = xasprintf("%s/latest/junit.xml", g.report_dir);
		if (bl_copy_file(ju, g.junit) < 0) {
			fprintf(stderr, "bootlab gate: cannot write the JUnit report: %s\n",
				bl_errmsg());
			if (rc == BL_EXIT_OK)
				rc = BL_EXIT_INFRA;
		}
		free(ju);
	}
out:
	if (workdir && g.keep)
		fprintf(stderr, "bootlab gate: kept work folder '%s'\n", workdir);
	else if (workdir)
		bl_rm_rf(workdir);
	free(workdir);
	free(yaml);
	free(report);
	free(kernel);
	free(modules);
	free(root);
	sl_release(&g.initramfs);
	return rc;
}
