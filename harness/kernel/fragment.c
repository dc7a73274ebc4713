/* A config fragment's text. A fragment may start with one line
 *
 *     # base: x86_64.config
 *
 * naming another fragment of the same folder: its text comes first, then
 * this fragment's (merge_config.sh lets a later line win). That is how a
 * variant such as kernels/x86_64-debug.config adds options to the arch's
 * fragment without copying it. Bases may have bases, at most
 * FRAGMENT_DEPTH deep (a loop is an error, not a hang). The expanded text
 * is what the cache key hashes and what the build merges. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define FRAGMENT_DEPTH 4

/* *name: "NAME" of a first line "# base: NAME", NULL when there is none;
 * the name must be a plain file name of the same folder */
static int base_name(const char *path, const char *data, size_t len, char **name)
{
	static const char tag[] = "# base:";
	*name = NULL;
	if (len < sizeof(tag) - 1 || memcmp(data, tag, sizeof(tag) - 1))
		return 0;
	const char *s = data + sizeof(tag) - 1, *e = memchr(data, '\n', len);
	if (!e)
		e = data + len;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*name = xstrndup(s, (size_t)(e - s));
	if (**name && !strchr(*name, '/') && **name != '.')
		return 0;
	bl_err("kernel fragment '%s':1: base '%s' is not a file name of its folder", path, *name);
	free(*name);
	*name = NULL;
	return -1;
}

/* the base's text (when there is one), then path's own */
static int expand(const char *path, const char *arch, int depth, struct strbuf *out)
{
	if (depth > FRAGMENT_DEPTH)
		return bl_err("kernel fragment '%s': bases nest deeper than %d (a loop?)", path,
			      FRAGMENT_DEPTH);
	if (bl_kernel_fragment_arch_check(path, arch) < 0)
		return -1;
	char *data, *name;
	size_t len;
	if (bl_read_file(path, &data, &len) < 0)
		return bl_err_prefix("kernel fragment");
	int rc = base_name(path, data, len, &name);
	if (rc == 0 && name) {
		const char *slash = strrchr(path, '/');
		char *bpath = xasprintf("%.*s%s", slash ? (int)(slash - path + 1) : 0, path, name);
		rc = expand(bpath, arch, depth + 1, out);
		if (rc < 0 && depth == 0) /* the top fragment and the innermost error */
			bl_err_prefix("kernel fragment '%s':1: base", path);
		free(bpath);
	}
	if (rc == 0) {
		sb_add(out, data, len);
		if (depth > 0 && len && data[len - 1] != '\n')
			sb_addc(out, '\n');
	}
	free(name);
	free(data);
	return rc;
}

/* kernels/x86_64.config for --arch um would build for minutes and
 * give a kernel missing its console: refuse the mix-up up front */
int bl_kernel_fragment_arch_check(const char *frag, const char *arch)
{
	const char *b = strrchr(frag, '/') ? strrchr(frag, '/') + 1 : frag;
	char stem[32];
	size_t bl = strlen(b);
	if (bl <= 7 || bl - 7 >= sizeof(stem) || strcmp(b + bl - 7, ".config"))
		return 0;
	memcpy(stem, b, bl - 7);
	stem[bl - 7] = 0;
	const char *other = bl_kernel_arch_name(stem);
	if (other && strcmp(other, arch))
		return bl_err("kernel fragment '%s' is for %s, not %s", frag, other, arch);
	return 0;
}

int bl_kernel_fragment_text(const char *path, const char *arch, struct strbuf *out)
{
	return expand(path, arch, 0, out);
}

/* name: the option a fragment line sets ("CONFIG_X=..." or "# CONFIG_X is
 * not set"), 0 when the line sets none */
static int line_option(const char *s, size_t n, char name[128], bool *unset)
{
	char line[256];
	if (n >= sizeof(line))
		return 0;
	memcpy(line, s, n);
	line[n] = 0;
	*unset = sscanf(line, "# CONFIG_%127[A-Za-z0-9_] is not set", name) == 1;
	if (*unset)
		return 1;
	return sscanf(line, "CONFIG_%127[A-Za-z0-9_]=", name) == 1 && strchr(line, '=');
}

/* a later line of the fragment sets the same option: that one counts */
static bool set_again(const char *from, const char *end, const char *name)
{
	for (const char *s = from; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char other[128];
		bool unset;
		if (line_option(s, n, other, &unset) && !strcmp(other, name))
			return true;
		s += n + 1;
	}
	return false;
}

/* the one line that decides an option is the last that names it
 * (merge_config.sh: "Value of CONFIG_X is redefined by fragment"), so a
 * base's CONFIG_PVH=y under a later "# CONFIG_PVH is not set" is no
 * request the final config fails */
void bl_kernel_fragment_unmet(const char *frag, size_t len, const char *cfg, struct strlist *out)
{
	const char *end = frag + len;
	for (const char *s = frag; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char name[128];
		bool unset;
		if (line_option(s, n, name, &unset) && !set_again(s + n, end, name)) {
			char *want = unset ? xasprintf("\nCONFIG_%s=", name)
					   : xasprintf("\n%.*s\n", (int)n, s);
			if ((strstr(cfg, want) != NULL) == unset)
				sl_push_nocopy(out, xstrndup(s, n));
			free(want);
		}
		s += n + 1;
	}
}
