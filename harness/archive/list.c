/* The kernel's gen_init_cpio list format, parsed the way usr/gen_init_cpio.c
 * parses it (sscanf fields, so no spaces in names; '#' comments in column
 * one; blank lines), except that an unknown directive or a malformed line is
 * an error naming 'file':line instead of a warning. */
#include "archive.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define NAMEMAX 4096
#define STR_(s) #s
#define STR(s) STR_(s)
#define NAMEFMT "%" STR(NAMEMAX) "s"

/* ${VAR} expansion in file locations, like cpio_replace_env() */
static char *expand_env(const char *loc)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = loc, *start, *end;
	while ((start = strstr(p, "${")) && (end = strchr(start + 2, '}'))) {
		sb_add(&sb, p, start - p);
		char *var = xstrndup(start + 2, end - start - 2);
		const char *val = getenv(var);
		free(var);
		if (val)
			sb_adds(&sb, val);
		p = end + 1;
	}
	sb_adds(&sb, p);
	return sb.len ? sb_detach(&sb, NULL) : (sb_release(&sb), xstrdup(""));
}

static int do_file(struct bl_archive *a, const char *args)
{
	char *name = xmalloc(NAMEMAX + 1), *loc = xmalloc(NAMEMAX + 1);
	unsigned mode;
	int uid, gid, end = 0, rc = -1;

	if (sscanf(args, NAMEFMT " " NAMEFMT " %o %d %d %n", name, loc, &mode, &uid, &gid, &end) <
	    5) {
		bl_err("unrecognized file format '%s'", args);
		goto out;
	}
	char *path = expand_env(loc);
	rc = bl_archive_add_file_host(a, name, mode, (unsigned)uid, (unsigned)gid, path);
	free(path);
	if (rc)
		goto out;
	/* extra names: hard links to the same inode, data on the last one */
	char *first = xstrdup(name);
	while (end && isgraph((unsigned char)args[end])) {
		int nend = 0;
		if (sscanf(args + end, NAMEFMT " %n", name, &nend) < 1)
			break;
		if (bl_archive_add_hardlink(a, name, first)) {
			rc = -1;
			break;
		}
		end += nend;
		if (!nend)
			break;
	}
	free(first);
out:
	free(name);
	free(loc);
	return rc;
}

static int do_dir(struct bl_archive *a, const char *args, char kind)
{
	char *name = xmalloc(NAMEMAX + 1);
	unsigned mode;
	int uid, gid, rc;
	static const char *const what[] = {"dir", "pipe", "sock"};
	const char *w = what[kind == 'd' ? 0 : kind == 'p' ? 1 : 2];

	if (sscanf(args, NAMEFMT " %o %d %d", name, &mode, &uid, &gid) != 4)
		rc = bl_err("unrecognized %s format '%s'", w, args);
	else if (kind == 'd')
		rc = bl_archive_add_dir(a, name, mode, (unsigned)uid, (unsigned)gid);
	else
		rc = bl_archive_add_special(a, name, kind, mode, (unsigned)uid, (unsigned)gid);
	free(name);
	return rc;
}

static int do_nod(struct bl_archive *a, const char *args)
{
	char *name = xmalloc(NAMEMAX + 1);
	unsigned mode, maj, min;
	int uid, gid, rc;
	char type;

	if (sscanf(args, NAMEFMT " %o %d %d %c %u %u", name, &mode, &uid, &gid, &type, &maj,
		   &min) != 7)
		rc = bl_err("unrecognized nod format '%s'", args);
	else /* gen_init_cpio: 'b' is block, anything else character */
		rc = bl_archive_add_nod(a, name, mode, (unsigned)uid, (unsigned)gid,
					type == 'b' ? 'b' : 'c', maj, min);
	free(name);
	return rc;
}

static int do_slink(struct bl_archive *a, const char *args)
{
	char *name = xmalloc(NAMEMAX + 1), *target = xmalloc(NAMEMAX + 1);
	unsigned mode;
	int uid, gid, rc;

	if (sscanf(args, NAMEFMT " " NAMEFMT " %o %d %d", name, target, &mode, &uid, &gid) != 5)
		rc = bl_err("unrecognized slink format '%s'", args);
	else
		rc = bl_archive_add_symlink(a, name, target, mode, (unsigned)uid, (unsigned)gid);
	free(name);
	free(target);
	return rc;
}

static int do_line(struct bl_archive *a, char *line)
{
	size_t slen = strlen(line);
	char *save = NULL;
	char *type = strtok_r(line, " \t", &save);

	if (!type)
		return bl_err("incorrect format, could not locate file type");
	if (*type == '\n' || slen == strlen(type))
		return 0; /* blank line */
	char *args = strtok_r(NULL, "\n", &save);
	if (!args)
		return bl_err("incorrect format, arguments required after '%s'", type);
	if (!strcmp(type, "file"))
		return do_file(a, args);
	if (!strcmp(type, "dir"))
		return do_dir(a, args, 'd');
	if (!strcmp(type, "pipe"))
		return do_dir(a, args, 'p');
	if (!strcmp(type, "sock"))
		return do_dir(a, args, 's');
	if (!strcmp(type, "nod"))
		return do_nod(a, args);
	if (!strcmp(type, "slink"))
		return do_slink(a, args);
	return bl_err("unknown file type '%s'", type);
}

int bl_archive_add_list_buf(struct bl_archive *a, const char *name, const char *text, size_t len)
{
	size_t pos = 0;
	int line_nr = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) + 1 : len - pos;
		line_nr++;
		if (memchr(text + pos, 0, n))
			return bl_err("list '%s':%d: NUL byte in line", name, line_nr);
		if (text[pos] != '#') {
			char *line = xstrndup(text + pos, n);
			int rc = do_line(a, line);
			free(line);
			if (rc)
				return bl_err_prefix("list '%s':%d", name, line_nr);
		}
		pos += n;
	}
	return 0;
}

int bl_archive_add_list(struct bl_archive *a, const char *list_file)
{
	char *text;
	size_t len;
	if (bl_read_file(list_file, &text, &len))
		return -1;
	int rc = bl_archive_add_list_buf(a, list_file, text, len);
	free(text);
	return rc;
}
