/* bootlab kernel: build, find, list and inspect the kernels bootlab boots. */
#include "cli.h"
#include "kernel/kernel.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
    "usage: bootlab kernel build --arch ARCH [--fragment FILE] [--source DIR]\n"
    "                            [--builtin ARCHIVE] [-q]\n"
    "       bootlab kernel path --arch ARCH [--fragment FILE] [--source DIR] [--builtin ARCHIVE]\n"
    "       bootlab kernel fetch --arch aarch64 [-q]\n"
    "       bootlab kernel list\n"
    "       bootlab kernel clean [--builtin] [HASH...]\n"
    "       bootlab kernel modules --kernel IMAGE [--modules-dir DIR] NAME...\n"
    "       bootlab kernel config --kernel IMAGE|--arch ARCH OPTION...\n";

static const char help_text[] =
    "\n"
    "build   build kernels/ARCH.config (or --fragment) onto tinyconfig from Debian's\n"
    "        linux-source-6.1 (or --source) into the cache and print the boot image's\n"
    "        path; a cached kernel returns at once. --builtin relinks the cached\n"
    "        build with ARCHIVE (copied byte for byte) as its built-in initramfs.\n"
    "path    like build, but never builds: fails unless the kernel is cached\n"
    "fetch   download Debian's arm64 kernel package into the cache (no install)\n"
    "        and print the image path\n"
    "list    the kernels in the cache: arch, flavor (built: from source; distro:\n"
    "        a distribution's; built+initramfs: a build relinked with a built-in\n"
    "        archive), hash, version, size, date, image\n"
    "modules the .ko files to load for NAMEs, dependencies first (libkmod),\n"
    "        for a distro kernel IMAGE and its modules tree\n"
    "config  'y', 'm' or 'n' for each CONFIG_ OPTION of a kernel\n"
    "clean   remove the cached kernels with these HASHes (from 'list'; a prefix\n"
    "        will do), or only their built-in relinks (--builtin; all kernels'\n"
    "        without HASH); with neither, incomplete entries. Prints what it removed\n"
    "ARCH is x86_64, aarch64 (arm64) or um.\n";

static void usage_exit(const char *msg)
{
	if (msg)
		fprintf(stderr, "bootlab kernel: %s\n", msg);
	fputs(usage_text, stderr);
	fputs("('bootlab kernel --help' says more)\n", stderr);
	exit(BL_EXIT_USAGE);
}

struct opts {
	struct bl_kernel_req req;
	const char *kernel, *modules_dir;
	char **rest;
	int nrest;
	int builtin_only;
};

static void parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rest = xcalloc((size_t)argc + 1, sizeof(char *));
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char **val = NULL;
		if (!strcmp(a, "--builtin") && !strcmp(argv[1], "clean")) {
			o->builtin_only = 1; /* a flag here, not a file */
			continue;
		} else if (!strcmp(a, "--arch"))
			val = &o->req.arch;
		else if (!strcmp(a, "--fragment"))
			val = &o->req.fragment;
		else if (!strcmp(a, "--source"))
			val = &o->req.source_dir;
		else if (!strcmp(a, "--builtin"))
			val = &o->req.builtin;
		else if (!strcmp(a, "--kernel"))
			val = &o->kernel;
		else if (!strcmp(a, "--modules-dir"))
			val = &o->modules_dir;
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->req.quiet = 1;
			continue;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			exit(0);
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "bootlab kernel: unknown option '%s'\n", a);
			usage_exit(NULL);
		} else {
			o->rest[o->nrest++] = argv[i];
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "bootlab kernel: option '%s' needs a value\n", a);
			usage_exit(NULL);
		}
		*val = argv[++i];
	}
	if (o->req.arch && !bl_kernel_arch_name(o->req.arch)) {
		fprintf(stderr, "bootlab kernel: unknown arch '%s' (x86_64, aarch64, um)\n",
			o->req.arch);
		exit(BL_EXIT_USAGE);
	}
}

static int fail(void)
{
	fprintf(stderr, "bootlab kernel: %s\n", bl_errmsg());
	return bl_err_last_kind() == BL_EK_INFRA ? BL_EXIT_INFRA : BL_EXIT_FAIL;
}

/* the kernel an --kernel IMAGE or --arch ARCH names */
static int kernel_of(struct opts *o, struct bl_kernel *k)
{
	if (o->kernel)
		return bl_kernel_distro(o->kernel, o->modules_dir, k);
	if (!o->req.arch)
		usage_exit("give --kernel IMAGE or --arch ARCH");
	o->req.cached_only = 1;
	return bl_kernel_build(&o->req, k);
}

/* FLAVOR in `kernel list`: how the entry came to be (docs/kernels.md) */
static const char *list_flavor(const struct bl_kernel_entry *e)
{
	if (e->builtin)
		return "built+initramfs"; /* a relink with a built-in archive */
	return e->flavor;		  /* "built" from source, "distro" */
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* the widest of each text column, so the columns line up */
struct list_widths {
	int arch, flavor, version;
};

static struct list_widths list_measure(const struct bl_kernel_entry *l, size_t n)
{
	struct list_widths w = {4, 6, 7}; /* the headings */
	for (size_t i = 0; i < n; i++) {
		w.arch = max_int(w.arch, (int)strlen(l[i].arch));
		w.flavor = max_int(w.flavor, (int)strlen(list_flavor(&l[i])));
		w.version = max_int(w.version, (int)strlen(l[i].version));
	}
	return w;
}

static int do_list(void)
{
	struct bl_kernel_entry *l;
	size_t n;
	if (bl_kernel_cache_list(&l, &n) < 0)
		return fail();
	struct list_widths w = list_measure(l, n);
	printf("%-*s %-*s %-16s %-*s %9s %-16s %s\n", w.arch, "ARCH", w.flavor, "FLAVOR", "HASH",
	       w.version, "VERSION", "SIZE", "DATE", "IMAGE");
	for (size_t i = 0; i < n; i++) {
		char date[32];
		time_t t = (time_t)l[i].mtime;
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M", localtime(&t));
		printf("%-*s %-*s %-16.16s %-*s %8lldK %-16s %s\n", w.arch, l[i].arch, w.flavor,
		       list_flavor(&l[i]), l[i].hash, w.version, l[i].version,
		       (l[i].size + 1023) / 1024, date, l[i].image ? l[i].image : "");
	}
	bl_kernel_entries_free(l, n);
	return 0;
}

int cmd_kernel(int argc, char **argv)
{
	if (argc < 2)
		usage_exit(NULL);
	const char *sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
		fputs(usage_text, stdout);
		fputs(help_text, stdout);
		return 0;
	}
	struct opts o;
	parse(argc, argv, &o);
	struct bl_kernel k;
	int rc = 0;
	if (!strcmp(sub, "build") || !strcmp(sub, "path")) {
		if (!o.req.arch)
			usage_exit("missing --arch");
		if (o.nrest)
			usage_exit("unexpected argument");
		o.req.cached_only = !strcmp(sub, "path");
		if (bl_kernel_build(&o.req, &k) < 0)
			rc = fail();
		else {
			printf("%s\n", k.image);
			bl_kernel_release(&k);
		}
	} else if (!strcmp(sub, "fetch")) {
		if (!o.req.arch)
			o.req.arch = "aarch64";
		if (bl_kernel_fetch(o.req.arch, o.req.quiet, &k) < 0)
			rc = fail();
		else {
			printf("%s\n", k.image);
			bl_kernel_release(&k);
		}
	} else if (!strcmp(sub, "list")) {
		rc = do_list();
	} else if (!strcmp(sub, "clean")) {
		if (bl_kernel_cache_clean((const char *const *)o.rest, (size_t)o.nrest,
					  o.builtin_only, stdout) < 0)
			rc = fail();
	} else if (!strcmp(sub, "modules")) {
		if (!o.kernel)
			usage_exit("missing --kernel");
		if (!o.nrest)
			usage_exit("no module names");
		char **paths;
		size_t n;
		if (kernel_of(&o, &k) < 0)
			rc = fail();
		else {
			if (bl_kernel_modules_resolve(&k, (const char *const *)o.rest,
						      (size_t)o.nrest, &paths, &n) < 0)
				rc = fail();
			else {
				for (size_t i = 0; i < n; i++) {
					printf("%s\n", paths[i]);
					free(paths[i]);
				}
				free(paths);
			}
			bl_kernel_release(&k);
		}
	} else if (!strcmp(sub, "config")) {
		if (!o.nrest)
			usage_exit("no options");
		if (kernel_of(&o, &k) < 0)
			rc = fail();
		else {
			if (!k.config)
				fprintf(stderr, "bootlab kernel: no config known for '%s'\n",
					k.image);
			for (int i = 0; i < o.nrest; i++) {
				int c = bl_kernel_config(&k, o.rest[i]);
				printf("%s %c\n", o.rest[i], c ? c : 'n');
			}
			rc = k.config ? 0 : BL_EXIT_FAIL;
			bl_kernel_release(&k);
		}
	} else {
		fprintf(stderr, "bootlab kernel: unknown subcommand '%s'\n", sub);
		usage_exit(NULL);
	}
	free(o.rest);
	return rc;
}
