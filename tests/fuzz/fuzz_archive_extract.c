/* libFuzzer: `archive extract` (the reader, then bl_initrd_extract) into a
 * scratch folder. Besides "no crash, no leak": nothing is written outside
 * it. The scratch folder is a/b/c/out under a private folder; after every
 * input each of a, a/b, a/b/c must hold only its one child and the canary
 * file next to out must be unchanged, else abort(). */
#include "archive/archive.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char top[] = "/tmp/bl-fuzz-extract.XXXXXX";
static char out[sizeof(top) + 16], canary[sizeof(top) + 16];

/* the folder holds exactly the names of want (NULL-terminated) */
static void only(const char *dir, const char *const *want)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t k = 0;
	if (!d)
		abort();
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		for (k = 0; want[k] && strcmp(want[k], e->d_name); k++)
			;
		if (!want[k])
			abort(); /* written outside the scratch folder */
	}
	closedir(d);
}

static void cleanup(void)
{
	bl_rm_rf(top);
}

static void setup(void)
{
	if (!mkdtemp(top))
		abort();
	atexit(cleanup);
	char *p = xasprintf("%s/a/b/c", top);
	bl_mkdir_p(p, 0755);
	free(p);
	snprintf(out, sizeof(out), "%s/a/b/c/out", top);
	snprintf(canary, sizeof(canary), "%s/a/b/c/canary", top);
	bl_write_file(canary, "canary\n", 7, 0644);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct bl_initrd rd;
	if (!ready++)
		setup();
	if (size > 1 << 20 || bl_initrd_parse(&rd, data, size, 8u << 20))
		return 0;
	bl_initrd_extract(&rd, out);
	bl_initrd_release(&rd);
	static const char *const in_top[] = {"a", NULL}, *const in_a[] = {"b", NULL},
				 *const in_b[] = {"c", NULL},
				 *const in_c[] = {"out", "canary", NULL};
	char *a = xasprintf("%s/a", top), *b = xasprintf("%s/a/b", top),
	     *c = xasprintf("%s/a/b/c", top);
	only(top, in_top);
	only(a, in_a);
	only(b, in_b);
	only(c, in_c);
	char *text;
	size_t len;
	if (bl_read_file(canary, &text, &len) || len != 7 || memcmp(text, "canary\n", 7))
		abort();
	free(text);
	free(a);
	free(b);
	free(c);
	bl_rm_rf(out);
	return 0;
}
