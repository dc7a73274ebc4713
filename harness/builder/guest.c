/* The builder guest: bootlab's own x86_64 kernel on q35 (PCI slots give
 * the disks a fixed order: the members are vda, vdb..., the filesystem
 * image the last one), the agent as /init and the host's mdadm, lvm,
 * cryptsetup and busybox with every library ldd names, at their host
 * paths, and the LUKS key when the stack has one. Each step
 * of the script is one agent `run` of `/bin/sh -ec`; the first one that
 * does not exit 0 is the error. */
#include "archive/archive.h"
#include "builder/internal.h"
#include "report/report.h"
#include "session/session.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const tools[] = {"/sbin/mdadm", "/sbin/lvm", "/sbin/cryptsetup"};
static const char *const applets[] = {"sh",    "dd",	 "mkdir", "cat", "sync",
				      "mount", "umount", "cp",	  "rm"};
static const char *const dirs[] = {"/dev", "/proc", "/sys",	"/run",
				   "/tmp", "/etc",  "/etc/lvm", "/mnt"};

/* PATH and its parent folders, once each */
static int add_parents(struct bl_archive *a, struct strlist *seen, const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;
	for (char *s = strchr(p + 1, '/'); s && rc == 0; s = strchr(s + 1, '/')) {
		*s = 0;
		bool have = false;
		for (size_t i = 0; i < seen->n && !have; i++)
			have = !strcmp(seen->v[i], p);
		if (!have) {
			sl_push(seen, p);
			rc = bl_archive_add_dir(a, p, 0755, 0, 0);
		}
		*s = '/';
	}
	free(p);
	return rc;
}

static int add_host_file(struct bl_archive *a, struct strlist *seen, const char *path)
{
	for (size_t i = 0; i < seen->n; i++)
		if (!strcmp(seen->v[i], path))
			return 0;
	if (add_parents(a, seen, path) < 0)
		return -1;
	sl_push(seen, path);
	return bl_archive_add_file_host(a, path, 0755, 0, 0, path);
}

/* PROG and the libraries `ldd PROG` names ("x => /path (0x..)" or
 * "/lib64/ld-linux... (0x..)") */
static int add_program(struct bl_archive *a, struct strlist *seen, const char *prog)
{
	char *argv[] = {"ldd", (char *)prog, NULL}, *out = NULL;
	int status = 0;
	if (bl_run(argv, 30000, &out, &status) < 0 || status != 0) {
		bl_err("cannot list the libraries of '%s' (ldd: %s)", prog, out ? out : "");
		free(out);
		bl_err_kind(BL_EK_INFRA);
		return -1;
	}
	int rc = add_host_file(a, seen, prog);
	for (char *line = strtok(out, "\n"); line && rc == 0; line = strtok(NULL, "\n")) {
		char *p = strstr(line, "=> ");
		p = p ? p + 3 : line + strspn(line, " \t");
		if (*p != '/')
			continue;
		p[strcspn(p, " \t")] = 0;
		rc = add_host_file(a, seen, p);
	}
	free(out);
	return rc;
}

static int fill_archive(struct bl_archive *a, const struct bu_script *s)
{
	struct strlist seen = STRLIST_INIT;
	char *agent = bl_agent_path("x86_64");
	int rc = access(agent, R_OK);
	if (rc < 0) {
		bl_err("the agent for 'x86_64' is not built: '%s' (run 'make agent')", agent);
		bl_err_kind(BL_EK_INFRA);
	}
	for (size_t i = 0; i < BL_ARRAY_SIZE(dirs) && rc == 0; i++) {
		char *under = xasprintf("%s/", dirs[i]); /* the folder as a parent: once */
		rc = add_parents(a, &seen, under);
		free(under);
	}
	if (rc == 0)
		rc = bl_archive_add_file_host(a, "/init", 0755, 0, 0, agent);
	if (rc == 0)
		rc = bl_archive_add_file_data(a, "/etc/lvm/lvm.conf", 0644, 0, 0, bu_lvm_conf,
					      strlen(bu_lvm_conf));
	if (rc == 0)
		rc = add_host_file(a, &seen, "/bin/busybox");
	if (rc == 0 && s->key)
		rc =
		    bl_archive_add_file_data(a, "/etc/bootlab-key", 0600, 0, 0, s->key, s->key_len);
	for (size_t i = 0; i < BL_ARRAY_SIZE(applets) && rc == 0; i++) {
		char *p = xasprintf("/bin/%s", applets[i]);
		rc = bl_archive_add_symlink(a, p, "busybox", 0777, 0, 0);
		free(p);
	}
	for (size_t i = 0; i < BL_ARRAY_SIZE(tools) && rc == 0; i++)
		rc = add_program(a, &seen, tools[i]);
	for (size_t i = 0; s->xfs && i < BL_ARRAY_SIZE(bu_xfs_tools) && rc == 0; i++)
		rc = add_program(a, &seen, bu_xfs_tools[i]);
	free(agent);
	sl_release(&seen);
	return rc;
}

static int write_archive(const char *out, const struct bu_script *s)
{
	struct bl_archive *a = bl_archive_new();
	int rc = fill_archive(a, s);
	if (rc == 0)
		rc = bl_archive_write(a, out, "gzip", 1);
	if (rc < 0 && bl_err_last_kind() != BL_EK_INFRA)
		bl_err_prefix("the stack builder's archive");
	bl_archive_free(a);
	return rc;
}

static void add_run(struct bl_scenario *sc, const struct bu_step *st)
{
	struct bl_step *p = bl_plan_add_step(sc, BL_STEP_AGENT, st->what);
	p->timeout_ms = 180000;
	p->request = json_pack("{s:s,s:[s,s,s],s:i}", "op", "run", "argv", "/bin/sh", "-ec",
			       st->script, "timeout_ms", 170000);
	/* a step that does not exit 0 fails the builder's boot, too */
	p->asserts = xcalloc(1, sizeof(*p->asserts));
	p->asserts[0] = (struct bl_assert){
	    .field = xstrdup("status"), .op = BL_AS_EQUALS, .value = json_integer(0)};
	p->nasserts = 1;
}

static struct bl_scenario *plan(const struct bu_script *s, const char *archive,
				char *const *members, size_t n, const char *fs, int timeout_ms)
{
	struct bl_scenario *sc = bl_plan_new("stack-builder", "bootlab stack builder");
	bl_plan_set(&sc->description, "mdadm and lvm2 write the layers of a root stack");
	bl_plan_set(&sc->machine, "q35");
	sc->memory_mb = 512;
	sc->timeout_ms = timeout_ms;
	bl_plan_add_raw(sc, "builder", archive);
	for (size_t i = 0; i < n; i++)
		bl_plan_attach(sc, members[i], NULL);
	bl_plan_attach(sc, fs, NULL);
	bl_plan_add_step(sc, BL_STEP_HELLO, "the builder's agent")->stage = 1;
	for (size_t i = 0; i < s->n; i++)
		add_run(sc, &s->v[i]);
	bl_plan_add_step(sc, BL_STEP_AGENT, "poweroff")->request =
	    json_pack("{s:s}", "op", "poweroff");
	return sc;
}

/* the first step of S that did not run to exit 0, as an error */
static int check_steps(const struct bu_script *s, const struct bl_result *r, struct strbuf *log)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct bl_step_result *sr = i + 1 < r->nsteps ? &r->steps[i + 1] : NULL;
		json_t *rep = sr ? sr->reply : NULL;
		const char *out = json_string_value(json_object_get(rep, "output"));
		json_t *st = json_object_get(rep, "status");
		sb_addf(log, "== %s\n%s", s->v[i].what, out ? out : "");
		if (json_is_integer(st) && json_integer_value(st) == 0)
			continue;
		if (!rep)
			return bl_err("the stack builder did not get to '%s': %s (%s)",
				      s->v[i].what, bl_outcome_name(r->outcome),
				      r->reason ? r->reason : "");
		return bl_err("the stack builder's step '%s' failed (%s): %s", s->v[i].what,
			      json_is_integer(st) ? "non-zero exit" : "no exit status",
			      out ? out : "no output");
	}
	return 0;
}

int bu_guest_run(const struct bu_script *s, char *const *members, size_t n, const char *fs,
		 const char *workdir, int timeout_ms, struct strbuf *log)
{
	char *archive = xasprintf("%s/builder.cpio.gz", workdir);
	char *reports = xasprintf("%s/builder-reports", workdir);
	int rc = write_archive(archive, s);
	struct bl_scenario *sc = rc ? NULL : plan(s, archive, members, n, fs, timeout_ms);
	if (sc) {
		struct bl_run_opts o = {.report_root = reports, .jobs = 1, .repeat = 1};
		bl_selection_of(&sc, 1, &o.selection);
		struct bl_run run = {0};
		rc = bl_run_variants(&sc, 1, &o, &run);
		if (rc == 0 && run.nvariants)
			rc = check_steps(s, bl_variant_main(&run.variants[0]), log);
		else if (rc == 0)
			rc = bl_err("the stack builder's guest did not boot");
		bl_run_release(&run);
		bl_scenario_free(sc);
	}
	free(archive);
	free(reports);
	return rc;
}
