/* harness/kernel without builds: arch names, config queries, distro kernel
 * detection and libkmod module order on the kernels installed here. */
#include "kernel/internal.h"
#include "kernel/kernel.h"
#include "t.h"
#include "util/util.h"

#include <glob.h>
#include <stdlib.h>
#include <unistd.h>

static void test_arch_names(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"x86_64", "x86_64"}, {"amd64", "x86_64"}, {"arm64", "aarch64"}, {"aarch64", "aarch64"},
	    {"um", "um"},	  {"uml", "um"},       {"sparc", NULL},	     {"", NULL},
	};
	for (size_t i = 0; i < BL_ARRAY_SIZE(cases); i++) {
		const char *got = bl_kernel_arch_name(cases[i].in);
		if (cases[i].want)
			T_EQ_STR(got, cases[i].want, "arch '%s'", cases[i].in);
		else
			T_OK(got == NULL, "arch '%s' is unknown", cases[i].in);
	}
}

static void test_config(void)
{
	char *dir = bl_mktemp_dir("kconfig");
	char *cfg = bl_path_join(dir, "config");
	const char text[] = "CONFIG_FIRST=y\n# CONFIG_OFF is not set\nCONFIG_MOD=m\n"
			    "CONFIG_STR=\"y\"\nCONFIG_MODULES=y\nCONFIG_INT=12\nCONFIG_LAST=m";
	bl_write_file_atomic(cfg, text, sizeof(text) - 1, 0644);
	struct bl_kernel k = {.config = cfg};
	static const struct {
		const char *opt;
		int want;
	} cases[] = {
	    {"CONFIG_FIRST", 'y'},
	    {"FIRST", 'y'},
	    {"MOD", 'm'},
	    {"OFF", 0},
	    {"STR", 0},
	    {"INT", 0},
	    {"MODULE", 0},
	    {"MODULES", 'y'},
	    {"LAST", 'm'},
	    {"NOPE", 0},
	};
	for (size_t i = 0; i < BL_ARRAY_SIZE(cases); i++)
		T_EQ_INT(bl_kernel_config(&k, cases[i].opt), cases[i].want, "config %s",
			 cases[i].opt);
	struct bl_kernel none = {0};
	T_EQ_INT(bl_kernel_config(&none, "MODULES"), 0, "no config: 0");
	bl_rm_rf(dir);
	free(cfg);
	free(dir);
}

static void test_distro(void)
{
	glob_t g;
	if (glob("/boot/vmlinuz-*-cloud-amd64", 0, NULL, &g) != 0) {
		T_SKIP("no cloud kernel installed", "distro x86_64 kernel");
		return;
	}
	const char *img = g.gl_pathv[g.gl_pathc - 1];
	struct bl_kernel k;
	T_OK(bl_kernel_distro(img, NULL, &k) == 0, "distro kernel '%s' (%s)", img, bl_errmsg());
	T_EQ_STR(k.arch, "x86_64", "cloud kernel arch from its bytes");
	T_EQ_STR(k.flavor, "distro", "flavor");
	T_OK(k.modules_dir && strstr(k.modules_dir, k.version), "modules dir '%s'",
	     k.modules_dir ? k.modules_dir : "(null)");
	T_EQ_INT(bl_kernel_config(&k, "VIRTIO_CONSOLE"), 'm', "cloud VIRTIO_CONSOLE=m");
	T_EQ_INT(bl_kernel_config(&k, "EXT4_FS"), 'y', "cloud EXT4_FS=y");

	const char *names[] = {"virtio_pci", "virtio_console"};
	const char *want[] = {
	    "virtio_ring.ko",		"virtio.ko",	 "virtio_pci_modern_dev.ko",
	    "virtio_pci_legacy_dev.ko", "virtio_pci.ko", "virtio_console.ko"};
	char **paths = NULL;
	size_t n = 0;
	T_OK(bl_kernel_modules_resolve(&k, names, 2, &paths, &n) == 0, "resolve (%s)", bl_errmsg());
	T_EQ_INT(n, BL_ARRAY_SIZE(want), "6 modules");
	for (size_t i = 0; i < n && i < BL_ARRAY_SIZE(want); i++) {
		const char *b = strrchr(paths[i], '/');
		T_EQ_STR(b ? b + 1 : paths[i], want[i], "module %zu", i);
		T_OK(access(paths[i], R_OK) == 0, "'%s' readable", paths[i]);
	}
	T_OK(paths && paths[n] == NULL, "list is NULL-terminated");
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);

	const char *builtins[] = {"ext4", "jbd2"}; /* built in on Debian's cloud kernel */
	if (bl_kernel_config(&k, "EXT4_FS") == 'y' && bl_kernel_config(&k, "JBD2") == 'y') {
		T_OK(bl_kernel_modules_resolve(&k, builtins, 2, &paths, &n) == 0,
		     "built-ins resolve");
		T_EQ_INT(n, 0, "built-ins are skipped");
		free(paths);
	}
	T_OK(bl_kernel_agent_modules(&k, "pci", &paths, &n) == 0, "agent modules, pci (%s)",
	     bl_errmsg());
	T_EQ_INT(n, 6, "agent modules for the cloud kernel over pci: the 6 of docs/machines.md");
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	T_OK(bl_kernel_agent_modules(&k, "isa", &paths, &n) < 0, "unknown transport fails");

	const char *bad[] = {"virtio_console", "no_such_module"};
	T_OK(bl_kernel_modules_resolve(&k, bad, 2, &paths, &n) < 0, "unknown module fails");
	T_OK(strstr(bl_errmsg(), "no_such_module") != NULL, "message names it: %s", bl_errmsg());
	bl_kernel_release(&k);
	globfree(&g);
}

static void test_uml(void)
{
	if (access("/usr/bin/linux.uml", X_OK) != 0) {
		T_SKIP("no Debian UML", "distro UML kernel");
		return;
	}
	struct bl_kernel k;
	T_OK(bl_kernel_distro("/usr/bin/linux.uml", NULL, &k) == 0, "UML as a distro kernel (%s)",
	     bl_errmsg());
	T_EQ_STR(k.arch, "um", "UML arch from its bytes");
	T_OK(k.version && k.version[0] >= '0' && k.version[0] <= '9', "UML version '%s'",
	     k.version ? k.version : "(null)");
	T_EQ_INT(bl_kernel_config(&k, "BLK_DEV_UBD"), 'y', "UML config via --showconfig");
	bl_kernel_release(&k);
}

static void test_bad_input(void)
{
	struct bl_kernel k;
	T_OK(bl_kernel_distro("/nonexistent/vmlinuz", NULL, &k) < 0, "missing image fails");
	T_OK(strstr(bl_errmsg(), "/nonexistent/vmlinuz") != NULL, "named: %s", bl_errmsg());
	T_OK(bl_kernel_distro("/etc/passwd", NULL, &k) < 0, "a text file is not a kernel");
	struct bl_kernel_req req = {.arch = "pdp11"};
	T_OK(bl_kernel_build(&req, &k) < 0, "unknown arch fails");
	T_OK(strstr(bl_errmsg(), "pdp11") != NULL, "named: %s", bl_errmsg());
}

/* the build warns about fragment lines the final .config does not honour;
 * of several lines naming one option only the last counts (a base's
 * CONFIG_PVH=y under the debug fragment's "# CONFIG_PVH is not set" was
 * reported as unmet) */
static void test_fragment_unmet(void)
{
	static const char frag[] = "CONFIG_PVH=y\n"
				   "CONFIG_KASAN=y\n"
				   "# CONFIG_SLOB is not set\n"
				   "CONFIG_TYPO=y\n"
				   "# a comment\n"
				   "# CONFIG_PVH is not set\n"
				   "# CONFIG_NET is not set\n"
				   "CONFIG_SLOB=y";
	static const char cfg[] = "#\n# generated\n#\n"
				  "CONFIG_KASAN=y\n"
				  "# CONFIG_PVH is not set\n"
				  "CONFIG_NET=y\n"
				  "CONFIG_SLOB=y\n";
	struct strlist got = STRLIST_INIT;
	bl_kernel_fragment_unmet(frag, sizeof(frag) - 1, cfg, &got);
	struct strbuf all = STRBUF_INIT;
	for (size_t i = 0; i < got.n; i++)
		sb_addf(&all, "%s%s", i ? "," : "", got.v[i]);
	T_EQ_STR(all.buf, "CONFIG_TYPO=y,# CONFIG_NET is not set",
		 "unmet: a missing option and a set one asked unset; PVH and SLOB are decided by "
		 "their last line");
	sb_release(&all);
	sl_release(&got);
}

int main(void)
{
	test_fragment_unmet();
	test_arch_names();
	test_config();
	test_distro();
	test_uml();
	test_bad_input();
	return t_done();
}
