/* bootlab archive: build, stack, list, extract, cat and lint initramfs
 * archives (harness/archive does the work). */
#include "archive/archive.h"
#include "cli.h"
#include "kernel/kernel.h"
#include "util/util.h"

#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINT_USAGE                                                                                 \
	"bootlab archive lint FILE... [--kernel K] [--ram SIZE] [--json] [--max-unpacked SIZE]"
#define RAISE "--max-unpacked SIZE"

static const char usage_text[] =
    "usage: bootlab archive build SOURCE... -o OUT [--compress CODEC[:LEVEL]] [--mtime T]\n"
    "                             [--root-uid N --root-gid N]\n"
    "       bootlab archive stack A B... -o OUT\n"
    "       bootlab archive list FILE [--json] [--max-unpacked SIZE]\n"
    "       bootlab archive extract FILE -C DIR [--max-unpacked SIZE]\n"
    "       bootlab archive cat FILE PATH [--max-unpacked SIZE]\n"
    "       " LINT_USAGE "\n"
    "\n"
    "build   writes one cpio newc archive from SOURCEs, in order. A SOURCE is a\n"
    "        folder (walked sorted, parents first, hard links kept), an existing\n"
    "        archive (any codec, stacked ok; re-emitted entry by entry), or a\n"
    "        gen_init_cpio list file (file/dir/nod/slink/pipe/sock). Force the\n"
    "        kind with a prefix: tree:PATH, cpio:PATH, list:PATH; tree:PATH=PREFIX\n"
    "        puts a folder under PREFIX.\n"
    "          --compress  none gzip bzip2 lzma xz lzo lz4 zstd (default none)\n"
    "          --mtime T   mtime (epoch seconds) for entries without one; later\n"
    "                      host mtimes are clamped to T. Default: $SOURCE_DATE_EPOCH,\n"
    "                      else the current time (like gen_init_cpio -t)\n"
    "          --root-uid N, --root-gid N  folder sources: host id N becomes 0\n"
    "                      ('squash' maps every id to 0)\n"
    "stack   concatenates archives (each with its own codec) with the zero\n"
    "        padding the kernel accepts; put an uncompressed microcode archive first\n"
    "list    prints each segment (offset, codec, sizes) and its entries\n"
    "extract unpacks every segment into DIR the way the kernel would; refuses\n"
    "        absolute names, '..' and paths through symlinks\n"
    "cat     writes the content of PATH (the entry the kernel keeps) to stdout\n"
    "lint    reports pitfalls (missing /init, /dev/console, libraries, a shell\n"
    "        /init that does not end with exec, ...); exit 1 when any finding is an\n"
    "        error\n"
    "          --kernel K  the kernel that boots the archive: what its built-in\n"
    "                      archive provides (a distribution kernel's /dev/console,\n"
    "                      /dev, /root) is not reported missing\n"
    "          --ram SIZE  report archives that unpack to more than half of SIZE\n"
    "\n"
    "--max-unpacked SIZE  what reading FILE may hold unpacked (extract: every\n"
    "        entry; list, cat, lint stream and hold only what they read, and\n"
    "        may unpack 16 times SIZE). Default: 64 times FILE's size, at least\n"
    "        256M; for lint with --ram, the RAM size\n"
    "\n"
    "exit status: 0 ok, 1 lint errors or a failed operation, 2 bad usage\n";

static void usage_exit(FILE *f, int code)
{
	fputs(usage_text, f);
	exit(code);
}

static int has_magic(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char b[6];
	size_t n = 0;
	if (f) {
		n = fread(b, 1, sizeof(b), f);
		fclose(f);
	}
	if (n == 6 && !memcmp(b, "070701", 6))
		return 1;
	if (n == 6 && (!memcmp(b, "070702", 6) || !memcmp(b, "070707", 6)))
		return 1; /* odc too: the reader then gives the kernel's message */
	return n >= 2 && bl_codec_detect(b, n) != NULL;
}

static int parse_id(const char *s, const char *opt)
{
	if (!strcmp(s, "squash"))
		return BL_ARCHIVE_SQUASH;
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < -1 || v > 0x7fffffffL)
		die("archive build: bad id '%s' for %s (a number, -1 or squash)", s, opt);
	return (int)v;
}

static int add_source(struct bl_archive *a, const char *src, int ruid, int rgid)
{
	if (!strncmp(src, "tree:", 5)) {
		char *p = xstrdup(src + 5), *eq = strchr(p, '=');
		if (eq)
			*eq++ = 0;
		int rc = bl_archive_add_tree(a, p, eq ? eq : "", ruid, rgid);
		free(p);
		return rc;
	}
	if (!strncmp(src, "cpio:", 5))
		return bl_archive_add_cpio(a, src + 5);
	if (!strncmp(src, "list:", 5))
		return bl_archive_add_list(a, src + 5);
	if (bl_is_dir(src))
		return bl_archive_add_tree(a, src, "", ruid, rgid);
	if (!bl_file_exists(src))
		return bl_err("source '%s' does not exist", src);
	if (has_magic(src))
		return bl_archive_add_cpio(a, src);
	return bl_archive_add_list(a, src);
}

static int parse_mtime(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 0xffffffffLL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int do_build(int argc, char **argv)
{
	const char *out = NULL, *codec = "none";
	int ruid = -1, rgid = -1, have_mtime = 0;
	uint32_t mtime = 0;
	struct strlist srcs = STRLIST_INIT;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "-h") || !strcmp(o, "--help"))
			usage_exit(stdout, 0);
		if (!strcmp(o, "-o") || !strcmp(o, "--compress") || !strcmp(o, "--mtime") ||
		    !strcmp(o, "--root-uid") || !strcmp(o, "--root-gid")) {
			if (i + 1 >= argc)
				die("archive build: option '%s' needs a value", o);
			const char *v = argv[++i];
			if (!strcmp(o, "-o"))
				out = v;
			else if (!strcmp(o, "--compress"))
				codec = v;
			else if (!strcmp(o, "--mtime")) {
				if (parse_mtime(v, &mtime))
					die("archive build: bad --mtime '%s' (epoch seconds)", v);
				have_mtime = 1;
			} else if (!strcmp(o, "--root-uid"))
				ruid = parse_id(v, o);
			else
				rgid = parse_id(v, o);
		} else if (o[0] == '-' && o[1]) {
			die("archive build: unknown option '%s'", o);
		} else {
			sl_push(&srcs, o);
		}
	}
	if (!out)
		die("archive build: -o OUT is required");
	if (!srcs.n)
		die("archive build: no SOURCE given");
	if (!have_mtime) {
		const char *sde = getenv("SOURCE_DATE_EPOCH");
		if (sde && *sde) {
			if (parse_mtime(sde, &mtime))
				die("archive build: bad SOURCE_DATE_EPOCH '%s'", sde);
		} else {
			mtime = (uint32_t)time(NULL);
		}
	}
	const struct bl_codec *c;
	int level;
	if (bl_codec_parse(codec, &c, &level)) {
		fprintf(stderr, "bootlab archive build: %s\n", bl_errmsg());
		sl_release(&srcs);
		return BL_EXIT_USAGE;
	}
	struct bl_archive *a = bl_archive_new();
	int rc = 0;
	for (size_t i = 0; i < srcs.n && !rc; i++)
		rc = add_source(a, srcs.v[i], ruid, rgid);
	if (!rc)
		rc = bl_archive_write(a, out, codec, mtime);
	bl_archive_free(a);
	sl_release(&srcs);
	if (rc) {
		fprintf(stderr, "bootlab archive build: %s\n", bl_errmsg());
		return BL_EXIT_FAIL;
	}
	return BL_EXIT_OK;
}

static int do_stack(int argc, char **argv)
{
	const char *out = NULL;
	struct strlist in = STRLIST_INIT;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			usage_exit(stdout, 0);
		if (!strcmp(argv[i], "-o")) {
			if (i + 1 >= argc)
				die("archive stack: option '-o' needs a value");
			out = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			die("archive stack: unknown option '%s'", argv[i]);
		} else {
			sl_push(&in, argv[i]);
		}
	}
	if (!out || !in.n)
		die("archive stack: usage: bootlab archive stack A B... -o OUT");
	int rc = bl_archive_stack((const char *const *)in.v, in.n, out);
	sl_release(&in);
	if (rc) {
		fprintf(stderr, "bootlab archive stack: %s\n", bl_errmsg());
		return BL_EXIT_FAIL;
	}
	return BL_EXIT_OK;
}

/* --max-unpacked SIZE at argv[*i] into ro; 0 when argv[*i] is another word */
static int max_unpacked(const char *cmd, int argc, char **argv, int *i, struct bl_read_opts *ro)
{
	unsigned long long v;
	if (strcmp(argv[*i], "--max-unpacked"))
		return 0;
	if (*i + 1 >= argc || bl_parse_size(argv[*i + 1], &v) || !v)
		die("archive %s: option '--max-unpacked' needs a size like 512M or 8G", cmd);
	ro->max_out = v;
	ro->raise = RAISE;
	(*i)++;
	return 1;
}

static int load(const char *cmd, const char *file, const struct bl_read_opts *ro,
		struct bl_initrd *rd)
{
	if (bl_initrd_read_file(rd, file, ro)) {
		fprintf(stderr, "bootlab archive %s: %s\n", cmd, bl_errmsg());
		return -1;
	}
	if (rd->warnings && bl_verbose)
		fputs(rd->warnings, stderr);
	return 0;
}

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "symlink";
	case S_IFCHR:
		return "char";
	case S_IFBLK:
		return "block";
	case S_IFIFO:
		return "pipe";
	case S_IFSOCK:
		return "sock";
	}
	return "unknown";
}

static int keep_none(void *ctx, const struct bl_cpio_entry *e, const unsigned char *head, size_t n)
{
	(void)ctx, (void)e, (void)head, (void)n;
	return 0;
}

static int do_list(int argc, char **argv)
{
	const char *file = NULL;
	int json = 0;
	/* list holds no file's data: symlink targets are always held */
	struct bl_read_opts ro = {.raise = RAISE, .keep = keep_none};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			usage_exit(stdout, 0);
		else if (max_unpacked("list", argc, argv, &i, &ro))
			continue;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			die("archive list: unknown option '%s'", argv[i]);
		else if (file)
			die("archive list: one FILE only");
		else
			file = argv[i];
	}
	if (!file)
		die("archive list: usage: bootlab archive list FILE [--json]");
	struct bl_initrd rd;
	if (load("list", file, &ro, &rd))
		return BL_EXIT_FAIL;
	if (json) {
		json_t *root = json_object(), *segs = json_array();
		for (size_t s = 0; s < rd.n_segments; s++) {
			const struct bl_segment *sg = &rd.segments[s];
			json_t *js = json_object(), *ents = json_array();
			json_object_set_new(js, "index", json_integer(s));
			json_object_set_new(js, "offset", json_integer(sg->offset));
			json_object_set_new(js, "length", json_integer(sg->length));
			json_object_set_new(js, "codec", json_string(sg->codec->name));
			json_object_set_new(js, "size", json_integer(sg->size));
			for (size_t i = sg->first_entry; i < sg->first_entry + sg->n_entries; i++) {
				const struct bl_cpio_entry *e = &rd.entries[i];
				json_t *je = json_object();
				json_object_set_new(je, "name", json_string(e->name));
				json_object_set_new(je, "type", json_string(type_name(e->mode)));
				json_object_set_new(je, "mode", json_integer(e->mode & 07777));
				json_object_set_new(je, "uid", json_integer(e->uid));
				json_object_set_new(je, "gid", json_integer(e->gid));
				json_object_set_new(je, "nlink", json_integer(e->nlink));
				json_object_set_new(je, "ino", json_integer(e->ino));
				json_object_set_new(je, "mtime", json_integer(e->mtime));
				json_object_set_new(je, "size", json_integer(e->filesize));
				json_object_set_new(je, "offset", json_integer(e->offset));
				if (S_ISLNK(e->mode)) {
					char *t = xstrndup((const char *)e->data, e->filesize);
					json_object_set_new(je, "target", json_string(t));
					free(t);
				}
				if (S_ISCHR(e->mode) || S_ISBLK(e->mode)) {
					json_object_set_new(je, "rdev_major",
							    json_integer(e->rdevmajor));
					json_object_set_new(je, "rdev_minor",
							    json_integer(e->rdevminor));
				}
				json_array_append_new(ents, je);
			}
			json_object_set_new(js, "entries", ents);
			json_array_append_new(segs, js);
		}
		json_object_set_new(root, "file", json_string(file));
		json_object_set_new(root, "segments", segs);
		/* entries the kernel skips silently (name size, data on a node...) */
		json_t *notes = json_array();
		if (rd.warnings) {
			char *w = xstrdup(rd.warnings), *save = NULL;
			for (char *l = strtok_r(w, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
				json_array_append_new(notes, json_string(l));
			free(w);
		}
		json_object_set_new(root, "notes", notes);
		json_dumpf(root, stdout, JSON_INDENT(1));
		fputc('\n', stdout);
		json_decref(root);
	} else {
		for (size_t s = 0; s < rd.n_segments; s++) {
			const struct bl_segment *sg = &rd.segments[s];
			printf("segment %zu: offset %llu, %llu bytes, %s, %llu bytes unpacked, %zu "
			       "entries\n",
			       s, (unsigned long long)sg->offset, (unsigned long long)sg->length,
			       sg->codec->name, (unsigned long long)sg->size, sg->n_entries);
			for (size_t i = sg->first_entry; i < sg->first_entry + sg->n_entries; i++) {
				const struct bl_cpio_entry *e = &rd.entries[i];
				char m[11];
				bl_mode_string(e->mode, m);
				printf("  %s %5u/%-5u ", m, e->uid, e->gid);
				if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
					printf("%4u,%4u", e->rdevmajor, e->rdevminor);
				else
					printf("%9u", e->filesize);
				printf(" %s", e->name);
				if (S_ISLNK(e->mode))
					printf(" -> %.*s",
					       (int)strnlen((const char *)e->data, e->filesize),
					       (const char *)e->data);
				if (S_ISREG(e->mode) && e->nlink > 1)
					printf(" (ino %u, %u links)", e->ino, e->nlink);
				putchar('\n');
			}
		}
	}
	if (rd.warnings)
		fputs(rd.warnings, stderr);
	bl_initrd_release(&rd);
	return BL_EXIT_OK;
}

static int do_extract(int argc, char **argv)
{
	const char *file = NULL, *dir = NULL;
	struct bl_read_opts ro = {.raise = RAISE};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			usage_exit(stdout, 0);
		else if (max_unpacked("extract", argc, argv, &i, &ro))
			continue;
		else if (!strcmp(argv[i], "-C")) {
			if (i + 1 >= argc)
				die("archive extract: option '-C' needs a folder");
			dir = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1])
			die("archive extract: unknown option '%s'", argv[i]);
		else if (file)
			die("archive extract: one FILE only");
		else
			file = argv[i];
	}
	if (!file || !dir)
		die("archive extract: usage: bootlab archive extract FILE -C DIR");
	struct bl_initrd rd;
	if (load("extract", file, &ro, &rd))
		return BL_EXIT_FAIL;
	int rc = bl_initrd_extract(&rd, dir);
	bl_initrd_release(&rd);
	if (rc) {
		fprintf(stderr, "bootlab archive extract: %s: %s\n", file, bl_errmsg());
		return BL_EXIT_FAIL;
	}
	return BL_EXIT_OK;
}

static int do_cat(int argc, char **argv)
{
	const char *file = NULL, *path = NULL;
	struct bl_read_opts ro = {.raise = RAISE, .keep = bl_keep_path};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			usage_exit(stdout, 0);
		else if (max_unpacked("cat", argc, argv, &i, &ro))
			continue;
		else if (argv[i][0] == '-' && argv[i][1])
			die("archive cat: unknown option '%s'", argv[i]);
		else if (!file)
			file = argv[i];
		else if (!path)
			path = argv[i];
		else
			die("archive cat: usage: bootlab archive cat FILE PATH");
	}
	if (!file || !path)
		die("archive cat: usage: bootlab archive cat FILE PATH");
	struct bl_initrd rd;
	struct bl_keep_path kp;
	bl_keep_path_init(&kp, path);
	ro.ctx = &kp;
	int loaded = load("cat", file, &ro, &rd);
	bl_keep_path_release(&kp);
	if (loaded)
		return BL_EXIT_FAIL;
	const struct bl_cpio_entry *e = bl_initrd_lookup(&rd, path);
	int rc = BL_EXIT_OK;
	if (!e) {
		fprintf(stderr, "bootlab archive cat: '%s': no entry '%s'\n", file, path);
		rc = BL_EXIT_FAIL;
	} else if (S_ISLNK(e->mode)) {
		fprintf(stderr, "bootlab archive cat: '%s' is a symlink to '%.*s'\n", path,
			(int)strnlen((const char *)e->data, e->filesize), (const char *)e->data);
		rc = BL_EXIT_FAIL;
	} else if (!S_ISREG(e->mode)) {
		fprintf(stderr, "bootlab archive cat: '%s' is not a regular file (%s)\n", path,
			type_name(e->mode));
		rc = BL_EXIT_FAIL;
	} else {
		size_t len;
		const unsigned char *d = bl_initrd_content(&rd, e, &len);
		if (fwrite(d, 1, len, stdout) != len || fflush(stdout)) {
			fprintf(stderr, "bootlab archive cat: write error\n");
			rc = BL_EXIT_FAIL;
		}
	}
	bl_initrd_release(&rd);
	return rc;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno)
		return -1;
	unsigned long long mul = 1;
	switch (*end) {
	case 0:
		break;
	case 'k':
	case 'K':
		mul = 1ull << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		end++;
		break;
	default:
		return -1;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		return -1;
	*out = v * mul;
	return 0;
}

/* the findings of one FILE (an unreadable one is itself an error finding) */
static void lint_file(const char *file, const struct bl_lint_opts *o, const struct bl_read_opts *ro,
		      struct bl_lint *l)
{
	struct bl_initrd rd;
	if (bl_initrd_read_file(&rd, file, ro) == 0) {
		bl_lint_run(&rd, o, l);
		bl_initrd_release(&rd);
		return;
	}
	BL_GROW(l->v, l->n, l->alloc);
	l->v[l->n].severity = BL_LINT_ERROR;
	l->v[l->n].code = xstrdup("unreadable");
	l->v[l->n].path = NULL;
	l->v[l->n++].message = xstrdup(bl_errmsg());
}

static json_t *finding_json(const char *file, const struct bl_lint_finding *x)
{
	json_t *o = json_object();
	json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "severity", json_string(bl_lint_severity_name(x->severity)));
	json_object_set_new(o, "code", json_string(x->code));
	json_object_set_new(o, "path", x->path ? json_string(x->path) : json_null());
	json_object_set_new(o, "message", json_string(x->message));
	return o;
}

static void lint_summary(json_t *arr, const int count[3], int json)
{
	int errors = count[BL_LINT_ERROR], warnings = count[BL_LINT_WARNING];
	if (!json) {
		json_decref(arr);
		fprintf(stderr, "%d error%s, %d warning%s, %d info\n", errors,
			errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s",
			count[BL_LINT_INFO]);
		return;
	}
	json_t *root = json_object();
	json_object_set_new(root, "findings", arr);
	json_object_set_new(root, "errors", json_integer(errors));
	json_object_set_new(root, "warnings", json_integer(warnings));
	json_object_set_new(root, "infos", json_integer(count[BL_LINT_INFO]));
	json_dumpf(root, stdout, JSON_INDENT(1));
	fputc('\n', stdout);
	json_decref(root);
}

/* the options of lint into o, *kernel and *json; the FILEs into files */
static void lint_options(int argc, char **argv, struct bl_lint_opts *o, struct bl_read_opts *ro,
			 const char **kernel, int *json, struct strlist *files)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			usage_exit(stdout, 0);
		else if (max_unpacked("lint", argc, argv, &i, ro))
			continue;
		else if (!strcmp(argv[i], "--json"))
			*json = 1;
		else if (!strcmp(argv[i], "--ram")) {
			if (i + 1 >= argc || parse_size(argv[i + 1], &o->ram_bytes))
				die("archive lint: option '--ram' needs a size like 512M or 2G");
			i++;
		} else if (!strcmp(argv[i], "--kernel")) {
			if (i + 1 >= argc)
				die("archive lint: option '--kernel' needs a kernel image");
			*kernel = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1])
			die("archive lint: unknown option '%s'", argv[i]);
		else
			sl_push(files, argv[i]);
	}
	if (!files->n)
		die("archive lint: usage: " LINT_USAGE);
}

static int do_lint(int argc, char **argv)
{
	struct strlist files = STRLIST_INIT;
	struct bl_lint_opts o = {0};
	struct bl_initrd builtin;
	const char *kernel = NULL;
	int json = 0, count[3] = {0};
	struct bl_read_opts ro = {.raise = RAISE, .keep = bl_lint_keep};
	lint_options(argc, argv, &o, &ro, &kernel, &json, &files);
	ro.ram_bytes = o.ram_bytes;
	if (kernel && bl_kernel_builtin_archive(kernel, &builtin) < 0) {
		fprintf(stderr, "bootlab archive lint: --kernel: %s\n", bl_errmsg());
		sl_release(&files);
		return BL_EXIT_FAIL;
	}
	o.builtin = kernel ? &builtin : NULL;
	json_t *arr = json_array();
	for (size_t f = 0; f < files.n; f++) {
		struct bl_lint l = {0};
		lint_file(files.v[f], &o, &ro, &l);
		for (size_t i = 0; i < l.n; i++) {
			const struct bl_lint_finding *x = &l.v[i];
			count[x->severity]++;
			if (json)
				json_array_append_new(arr, finding_json(files.v[f], x));
			else
				printf("%s: %s: %s: %s%s%s\n", files.v[f],
				       bl_lint_severity_name(x->severity), x->code,
				       x->path ? x->path : "", x->path ? ": " : "", x->message);
		}
		bl_lint_release(&l);
	}
	lint_summary(arr, count, json);
	if (kernel)
		bl_initrd_release(&builtin);
	sl_release(&files);
	return count[BL_LINT_ERROR] ? BL_EXIT_FAIL : BL_EXIT_OK;
}

int cmd_archive(int argc, char **argv)
{
	if (argc < 2)
		usage_exit(stderr, BL_EXIT_USAGE);
	const char *sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help"))
		usage_exit(stdout, 0);
	if (!strcmp(sub, "build"))
		return do_build(argc - 1, argv + 1);
	if (!strcmp(sub, "stack"))
		return do_stack(argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return do_list(argc - 1, argv + 1);
	if (!strcmp(sub, "extract"))
		return do_extract(argc - 1, argv + 1);
	if (!strcmp(sub, "cat"))
		return do_cat(argc - 1, argv + 1);
	if (!strcmp(sub, "lint"))
		return do_lint(argc - 1, argv + 1);
	fprintf(stderr, "bootlab archive: unknown subcommand '%s'\n", sub);
	usage_exit(stderr, BL_EXIT_USAGE);
	return BL_EXIT_USAGE;
}
