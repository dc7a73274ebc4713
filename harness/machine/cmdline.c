/* The kernel command line as a word list, read and written the way the
 * kernel reads it (docs/kernel-behaviour.md section 15): words split at
 * white space outside double quotes, a word's key ends at its first '=',
 * '-' and '_' are the same in keys, the last of repeated keys wins, and
 * "--" ends the kernel's words (what follows is init's). Every word
 * bootlab adds goes before that "--". */
#include "machine/machine.h"
#include "util/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool key_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* a word's key and value as the kernel's next_arg() cuts them: a
 * leading quote opens the word, the key ends at the first '=' after its
 * first character, and the value loses its surrounding quotes */
static void word_split(struct bl_cmdline_word *w)
{
	const char *t = w->text;
	bool quoted = *t == '"';
	if (quoted)
		t++;
	const char *end = t + strlen(t);
	const char *eq = *t ? strchr(t + 1, '=') : NULL;
	if (!eq) {
		if (quoted && end > t && end[-1] == '"')
			end--;
		w->key = xstrndup(t, (size_t)(end - t));
		w->val = NULL;
		return;
	}
	w->key = xstrndup(t, (size_t)(eq - t));
	const char *v = eq + 1;
	bool vq = *v == '"';
	if (vq)
		v++;
	if ((vq || quoted) && end > v && end[-1] == '"')
		end--;
	w->val = xstrndup(v, (size_t)(end - v));
}

/* the index of "--", or n: where words bootlab adds go */
static size_t kernel_end(const struct bl_cmdline *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->w[i].text, "--"))
			return i;
	return c->n;
}

static void insert_word(struct bl_cmdline *c, size_t at, char *text)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		c->w = xrealloc(c->w, c->cap * sizeof(*c->w));
	}
	memmove(&c->w[at + 1], &c->w[at], (c->n - at) * sizeof(*c->w));
	c->w[at] = (struct bl_cmdline_word){.text = text};
	word_split(&c->w[at]);
	c->n++;
}

static void word_free(struct bl_cmdline_word *w)
{
	free(w->text);
	free(w->key);
	free(w->val);
}

void bl_cmdline_parse(struct bl_cmdline *c, const char *text)
{
	const char *p = text ? text : "";
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return;
		const char *s = p;
		bool quoted = false;
		for (; *p && (quoted || !isspace((unsigned char)*p)); p++)
			if (*p == '"')
				quoted = !quoted;
		insert_word(c, c->n, xstrndup(s, (size_t)(p - s)));
	}
}

void bl_cmdline_add(struct bl_cmdline *c, const char *key, const char *val)
{
	char *text;
	if (!val)
		text = xstrdup(key);
	else if (strpbrk(val, " \t\n") || !*val)
		text = xasprintf("%s=\"%s\"", key, val);
	else
		text = xasprintf("%s=%s", key, val);
	insert_word(c, kernel_end(c), text);
}

void bl_cmdline_set(struct bl_cmdline *c, const char *key, const char *val)
{
	for (size_t i = kernel_end(c); i-- > 0;)
		if (key_eq(c->w[i].key, key)) {
			word_free(&c->w[i]);
			memmove(&c->w[i], &c->w[i + 1], (c->n - i - 1) * sizeof(*c->w));
			c->n--;
		}
	bl_cmdline_add(c, key, val);
}

bool bl_cmdline_default(struct bl_cmdline *c, const char *key, const char *val)
{
	if (bl_cmdline_has(c, key))
		return false;
	bl_cmdline_add(c, key, val);
	return true;
}

bool bl_cmdline_has(const struct bl_cmdline *c, const char *key)
{
	return bl_cmdline_get(c, key) != NULL;
}

const char *bl_cmdline_get(const struct bl_cmdline *c, const char *key)
{
	for (size_t i = kernel_end(c); i-- > 0;)
		if (key_eq(c->w[i].key, key))
			return c->w[i].val ? c->w[i].val : "";
	return NULL;
}

char *bl_cmdline_str(const struct bl_cmdline *c)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < c->n; i++) {
		if (i)
			sb_addc(&sb, ' ');
		sb_adds(&sb, c->w[i].text);
	}
	return sb_detach(&sb, NULL);
}

void bl_cmdline_copy(struct bl_cmdline *dst, const struct bl_cmdline *src)
{
	*dst = (struct bl_cmdline)BL_CMDLINE_INIT;
	for (size_t i = 0; i < src->n; i++)
		insert_word(dst, dst->n, xstrdup(src->w[i].text));
}

void bl_cmdline_release(struct bl_cmdline *c)
{
	for (size_t i = 0; i < c->n; i++)
		word_free(&c->w[i]);
	free(c->w);
	*c = (struct bl_cmdline)BL_CMDLINE_INIT;
}
