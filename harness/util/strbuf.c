/* Memory helpers, strbuf and strlist. */
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
	fputs("bootlab: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	return sb_detach(&sb, NULL);
}

void sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

void sb_release(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

void sb_grow(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->alloc)
		return;
	size_t want = sb->alloc ? sb->alloc : 64;
	while (want < sb->len + extra + 1)
		want *= 2;
	bool fresh = !sb->buf;
	sb->buf = xrealloc(sb->buf, want);
	sb->alloc = want;
	if (fresh)
		sb->buf[0] = 0; /* the buffer is a string from the start */
}

void sb_add(struct strbuf *sb, const void *data, size_t n)
{
	sb_grow(sb, n);
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = 0;
}

void sb_adds(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addc(struct strbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	/* most lines fit the stack buffer: formatted once */
	char small[256];
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sb_add(sb, small, (size_t)n);
		return;
	}
	sb_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_add_quoted(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		static const char named[] = {
		    ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['"'] = '"', ['\\'] = '\\'};
		if (*p < sizeof(named) && named[*p]) {
			sb_addc(sb, '\\');
			sb_addc(sb, named[*p]);
		} else if (*p < 0x20 || *p == 0x7f) {
			sb_addf(sb, "\\x%02x", *p);
		} else {
			sb_addc(sb, (char)*p);
		}
	}
	sb_addc(sb, '"');
}

void sb_add_terminal(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t l = *p >= 0x80 ? bl_utf8_len(s + i, n - i) : 1;
		/* C0 but tab, DEL, C1 (U+0080..U+009F: 0xC2 0x80..0x9F) and
		 * every byte of a broken sequence: shown, never sent raw */
		bool ctl = (*p < 0x20 && *p != '\t') || *p == 0x7f || l == 0 ||
			   (l == 2 && p[0] == 0xc2 && p[1] < 0xa0);
		if (!ctl) {
			sb_add(sb, s + i, l);
			i += l;
			continue;
		}
		for (size_t k = 0; k < (l ? l : 1); k++)
			sb_addf(sb, "\\x%02x", p[k]);
		i += l ? l : 1;
	}
}

char *bl_quote(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	sb_add_quoted(&sb, s ? s : "");
	return sb_detach(&sb, NULL);
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = 0;
}

char *sb_detach(struct strbuf *sb, size_t *len)
{
	char *r;
	if (!sb->buf) {
		sb_grow(sb, 0);
		sb->buf[0] = 0;
	}
	r = sb->buf;
	if (len)
		*len = sb->len;
	sb_init(sb);
	return r;
}

const char *sb_str(struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

void sl_push_nocopy(struct strlist *sl, char *s)
{
	if (sl->n + 2 > sl->alloc) {
		sl->alloc = sl->alloc ? sl->alloc * 2 : 8;
		sl->v = xrealloc(sl->v, sl->alloc * sizeof(*sl->v));
	}
	sl->v[sl->n++] = s;
	sl->v[sl->n] = NULL;
}

void sl_push(struct strlist *sl, const char *s)
{
	sl_push_nocopy(sl, xstrdup(s));
}

void sl_pushf(struct strlist *sl, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	sl_push_nocopy(sl, sb_detach(&sb, NULL));
}

char **sl_argv(struct strlist *sl)
{
	if (!sl->v)
		sl_push_nocopy(sl, NULL), sl->n = 0;
	return sl->v;
}

void sl_release(struct strlist *sl)
{
	for (size_t i = 0; i < sl->n; i++)
		free(sl->v[i]);
	free(sl->v);
	sl->v = NULL;
	sl->n = sl->alloc = 0;
}

const char *bl_prefix_in(const char *s, const char *const *prefixes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
			return prefixes[i];
	return NULL;
}
