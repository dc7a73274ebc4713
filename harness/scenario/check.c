/* Typed reads of scenario values: text, enums, sizes, durations, modes,
 * regexes. Each error names the key and quotes the value. */
#include "scenario/check.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int lev(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	int d[41][41];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			/* a swap of two neighbours counts as one edit */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < c)
				c = d[i - 2][j - 2] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

const char *ck_suggest(const char *word, const char *const *choices)
{
	const char *best = NULL;
	int bd = 3;
	for (; *choices; choices++) {
		int d = lev(word, *choices);
		if (d < bd && d < (int)strlen(*choices)) {
			bd = d;
			best = *choices;
		}
	}
	return best;
}

const char *ck_list(const char *const *choices)
{
	static __thread char buf[512];
	size_t n = 0, len = 0;
	while (choices[n])
		n++;
	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
				i == 0	     ? ""
				: i == n - 1 ? " or "
					     : ", ",
				choices[i]);
	return buf;
}

int ck_key(const struct ynode *k, const char *const *allowed, const char *where)
{
	/* top-level x-NAME keys hold anchors for the rest of the file */
	if (!strcmp(where, "scenario") && !strncmp(k->s, "x-", 2))
		return 0;
	for (const char *const *a = allowed; *a; a++)
		if (!strcmp(*a, k->s))
			return 0;
	const char *sug = ck_suggest(k->s, allowed);
	if (sug)
		return yerr(k, "unknown key '%s' in %s (did you mean '%s'?)", k->s, where, sug);
	return yerr(k, "unknown key '%s' in %s (known: %s)", k->s, where, ck_list(allowed));
}

int ck_keys(const struct ynode *map, const char *const *allowed, const char *where)
{
	for (size_t i = 0; i < map->n; i++)
		if (ck_key(map->kv[2 * i], allowed, where))
			return -1;
	return 0;
}

int ck_map(const struct ynode *v, const char *key)
{
	if (v->kind != Y_MAP)
		return yerr(v, "'%s' must be a mapping, not %s", key, ykind_name(v));
	return 0;
}

int ck_seq(const struct ynode *v, const char *key)
{
	if (v->kind != Y_SEQ)
		return yerr(v, "'%s' must be a list, not %s", key, ykind_name(v));
	return 0;
}

int ck_text(const struct ynode *v, const char *key, char **out)
{
	if (v->kind != Y_SCALAR || yis_null(v))
		return yerr(v, "'%s' must be text, not %s", key, ykind_name(v));
	if (strlen(v->s) != v->len)
		return yerr(v, "'%s' must not contain NUL bytes", key);
	*out = xstrdup(v->s);
	return 0;
}

int ck_enum(const struct ynode *v, const char *key, const char *const *values, char **out)
{
	if (v->kind != Y_SCALAR || yis_null(v))
		return yerr(v, "'%s' must be one of %s, not %s", key, ck_list(values),
			    ykind_name(v));
	for (const char *const *p = values; *p; p++)
		if (!strcmp(*p, v->s)) {
			*out = xstrdup(v->s);
			return 0;
		}
	const char *sug = ck_suggest(v->s, values);
	if (sug)
		return yerr(v, "unknown %s '%s' (did you mean '%s'?)", key, v->s, sug);
	return yerr(v, "unknown %s '%s' (%s)", key, v->s, ck_list(values));
}

int ck_bool(const struct ynode *v, const char *key, bool *out)
{
	if (v->kind == Y_SCALAR && v->plain) {
		if (!strcmp(v->s, "true") || !strcmp(v->s, "True") || !strcmp(v->s, "TRUE")) {
			*out = true;
			return 0;
		}
		if (!strcmp(v->s, "false") || !strcmp(v->s, "False") || !strcmp(v->s, "FALSE")) {
			*out = false;
			return 0;
		}
	}
	if (v->kind == Y_SCALAR)
		return yerr(v, "'%s' must be true or false, not '%s'", key, v->s);
	return yerr(v, "'%s' must be true or false, not %s", key, ykind_name(v));
}

int ck_uint(const struct ynode *v, const char *key, unsigned long long max, unsigned long long *out)
{
	if (v->kind != Y_SCALAR || yis_null(v))
		return yerr(v, "'%s' must be a number, not %s", key, ykind_name(v));
	const char *s = v->s;
	char *end;
	if (*s < '0' || *s > '9')
		return yerr(v, "'%s' must be a number, not '%s'", key, s);
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (*end || (size_t)(end - s) != v->len)
		return yerr(v, "'%s' must be a number, not '%s'", key, s);
	if (errno || x > max)
		return yerr(v, "'%s' is out of range: '%s' (at most %llu)", key, s, max);
	*out = x;
	return 0;
}

int ck_size(const struct ynode *v, const char *key, unsigned long long *out)
{
	if (v->kind != Y_SCALAR || yis_null(v))
		return yerr(v, "'%s' must be a size like 64M, not %s", key, ykind_name(v));
	enum bl_scan r = strlen(v->s) != v->len ? BL_SCAN_BAD : bl_scan_size(v->s, out);
	if (r == BL_SCAN_RANGE)
		return yerr(v, "size '%s' for '%s' is out of range", v->s, key);
	if (r != BL_SCAN_OK)
		return yerr(
		    v, "bad size '%s' for '%s' (bytes, or a number with K, M, G or T like 64M)",
		    v->s, key);
	return 0;
}

int ck_duration(const struct ynode *v, const char *key, int *ms)
{
	if (v->kind != Y_SCALAR || yis_null(v))
		return yerr(v, "'%s' must be a duration like 10s, not %s", key, ykind_name(v));
	const char *s = v->s;
	switch (strlen(s) != v->len ? BL_SCAN_BAD : bl_scan_duration(s, ms)) {
	case BL_SCAN_OK:
		return 0;
	case BL_SCAN_TOO_SHORT:
		return yerr(v, "duration '%s' for '%s' must be at least 1ms", s, key);
	case BL_SCAN_TOO_LONG:
		return yerr(v, "duration '%s' for '%s' is too long (at most 24h)", s, key);
	default:
		return yerr(v, "bad duration '%s' for '%s' (like 500ms, 10s, 2m, or seconds)", s,
			    key);
	}
}

int ck_mode(const struct ynode *v, const char *key, unsigned *out)
{
	if (v->kind != Y_SCALAR || yis_null(v))
		return yerr(v, "'%s' must be an octal mode like \"0755\", not %s", key,
			    ykind_name(v));
	const char *s = v->s;
	if (s[0] == '0' && s[1] == 'o')
		s += 2;
	size_t n = strspn(s, "01234567");
	if (n == 0 || s[n] || n > 5 || strlen(v->s) != v->len)
		return yerr(v, "bad %s '%s' (octal digits like \"0755\")", key, v->s);
	unsigned long m = strtoul(s, NULL, 8);
	if (m > 07777)
		return yerr(v, "bad %s '%s' (permission bits only, at most 07777)", key, v->s);
	*out = (unsigned)m;
	return 0;
}

int ck_regex(const struct ynode *v, const char *key, char **src, regex_t *re)
{
	char *s;
	if (ck_text(v, key, &s))
		return -1;
	/* glibc's ERE has no \d: it would silently match a plain 'd' */
	for (const char *c = s; *c; c++) {
		if (*c != '\\' || !c[1])
			continue;
		c++;
		if (*c == 'd' || *c == 'D') {
			yerr(v, "bad regex '%s' for '%s': '\\%c' is not POSIX; write %s", s, key,
			     *c, *c == 'd' ? "[0-9]" : "[^0-9]");
			free(s);
			return -1;
		}
	}
	if (bl_regcomp(re, s, REG_EXTENDED | REG_NEWLINE) < 0) {
		yerr(v, "bad regex '%s' for '%s': %s", s, key, bl_errmsg());
		free(s);
		return -1;
	}
	*src = s;
	return 0;
}

int ck_name(const struct ynode *v, const char *key, char **out)
{
	if (ck_text(v, key, out))
		return -1;
	size_t n =
	    strspn(*out, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
	if ((*out)[n] || n > 64 || (*out)[0] == '.' || (*out)[0] == '-') {
		yerr(v,
		     "bad %s '%s' (up to 64 letters, digits, '.', '_' or '-'; it becomes a file "
		     "name)",
		     key, *out);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

char *ck_abspath(const struct ynode *v)
{
	if (v->s[0] == '/')
		return xstrdup(v->s);
	const char *s = v->s;
	while (s[0] == '.' && s[1] == '/')
		s += 2;
	return bl_path_join(v->file->absdir, s);
}

int ck_host_path(const struct ynode *v, const char *key, bool want_dir, char **out)
{
	char *t;
	if (ck_text(v, key, &t))
		return -1;
	free(t);
	*out = ck_abspath(v);
	if (want_dir ? !bl_is_dir(*out) : !bl_file_exists(*out) || bl_is_dir(*out)) {
		yerr(v, "%s '%s' not found (looked for %s '%s')", key, v->s,
		     want_dir ? "folder" : "file", *out);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int ck_readable(const struct ynode *v, const char *what, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return yerr(v, "%s '%s' cannot be read: %s", what, path, strerror(errno));
	int dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	close(fd);
	if (dir)
		return yerr(v, "%s '%s' is a folder, not a file", what, path);
	return 0;
}
