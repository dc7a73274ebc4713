/* The one XML/HTML escaper (harness/util/xml.c): every byte 0x00-0xff on
 * its own and all of them in a row, UTF-8 that is valid, cut short,
 * overlong, a surrogate or past U+10FFFF, and U+FFFE/U+FFFF. Every output
 * must be text XML 1.0 accepts in an element and in either quote of an
 * attribute. */
#include "t.h"
#include "util/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* the escaped form of N bytes of S (caller frees), *REPLACED the count */
static char *esc(const char *s, size_t n, size_t *replaced)
{
	struct strbuf sb = STRBUF_INIT;
	size_t r = bl_xml_escape_n(&sb, s, n);
	if (replaced)
		*replaced = r;
	return sb_detach(&sb, NULL);
}

/* a reference at S (after the '&'): a named one of the five, or a
 * hexadecimal/decimal one to a character XML 1.0 allows; its length up to
 * the ';', 0 if none */
static size_t ref_len(const char *s)
{
	static const char *const named[] = {"amp;", "lt;", "gt;", "quot;", "apos;"};
	for (size_t i = 0; i < BL_ARRAY_SIZE(named); i++)
		if (!strncmp(s, named[i], strlen(named[i])))
			return strlen(named[i]);
	size_t n = strspn(s, "#x0123456789abcdef");
	if (s[0] != '#' || n < 2 || s[n] != ';')
		return 0;
	unsigned long v = s[1] == 'x' ? strtoul(s + 2, NULL, 16) : strtoul(s + 1, NULL, 10);
	bool allowed = v == '\t' || v == '\n' || v == '\r' || (v >= 0x20 && v <= 0xd7ff) ||
		       (v >= 0xe000 && v <= 0xfffd) || (v >= 0x10000 && v <= 0x10ffff);
	return allowed ? n + 1 : 0;
}

/* OUT is XML 1.0 character data fit for an attribute in either quote:
 * valid UTF-8, only characters XML allows, markup only as references */
static bool xml_clean(const char *out)
{
	size_t n = strlen(out);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)out[i];
		size_t l = bl_utf8_len(out + i, n - i);
		if (!l || (c < 0x20 && c != '\t' && c != '\n') || strchr("<>\"'\r", c) ||
		    (l == 3 && !memcmp(out + i, "\xef\xbf", 2) &&
		     (unsigned char)out[i + 2] >= 0xbe))
			return false;
		if (c == '&') {
			size_t r = ref_len(out + i + 1);
			if (!r)
				return false;
			l = r + 1;
		}
		i += l;
	}
	return true;
}

/* what one byte B must become */
static const char *byte_want(unsigned b, char buf[16])
{
	static const char *const refs[][2] = {
	    {"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&#39;"}};
	for (size_t i = 0; i < BL_ARRAY_SIZE(refs); i++)
		if (b == (unsigned char)refs[i][0][0])
			return refs[i][1];
	if (b >= 0x80)
		return "&#xfffd;";
	if (b == 0x7f || (b < 0x20 && b != '\t' && b != '\n'))
		snprintf(buf, 16, "&#x%x;", b == 0x7f ? 0x2421 : 0x2400 + b);
	else
		snprintf(buf, 16, "%c", (char)b);
	return buf;
}

static void test_every_byte(void)
{
	char all[256], buf[16];
	size_t bad = 0, r;
	for (unsigned b = 0; b < 256; b++) {
		char c = (char)b;
		char *out = esc(&c, 1, &r);
		const char *want = byte_want(b, buf);
		bool replaced = !strncmp(want, "&#x", 3);
		bad += !strcmp(out, want) && r == replaced && xml_clean(out) ? 0 : 1;
		if (strcmp(out, want))
			printf("#   byte 0x%02x: got '%s', want '%s'\n", b, out, want);
		free(out);
		all[b] = c;
	}
	T_EQ_INT(bad, 0, "every byte 0x00-0xff alone: its reference, its picture or itself");
	char *out = esc(all, sizeof(all), &r);
	T_OK(xml_clean(out), "all 256 bytes in a row: clean XML text");
	T_EQ_INT(r, 30 + 1 + 128, "replaced: 30 C0 controls, DEL, 128 bytes that are not UTF-8");
	free(out);
}

struct utf8_case {
	const char *in, *want;
	size_t replaced;
	const char *what;
};

static const struct utf8_case utf8_cases[] = {
    {"\xc3\xa9\xe2\x82\xac", "\xc3\xa9\xe2\x82\xac", 0, "two- and three-byte sequences kept"},
    {"\xf0\x9f\x90\xa7", "\xf0\x9f\x90\xa7", 0, "four-byte sequence kept"},
    {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", 0, "U+10FFFF kept"},
    {"\xef\xbf\xbd\xef\xbf\xbc", "\xef\xbf\xbd\xef\xbf\xbc", 0, "U+FFFD and U+FFFC kept"},
    {"\xef\xb7\x90", "\xef\xb7\x90", 0, "U+FDD0 kept (XML 1.0 allows it)"},
    {"\xc2\x80\xc2\x9f", "\xc2\x80\xc2\x9f", 0, "C1 controls kept (XML 1.0 allows them)"},
    {"a\xef\xbf\xbe"
     "b",
     "a&#xfffd;b", 1, "U+FFFE replaced"},
    {"\xef\xbf\xbf", "&#xfffd;", 1, "U+FFFF replaced"},
    {"\xed\xa0\x80", "&#xfffd;&#xfffd;&#xfffd;", 3, "surrogate U+D800: each byte replaced"},
    {"\xed\xbf\xbf", "&#xfffd;&#xfffd;&#xfffd;", 3, "surrogate U+DFFF"},
    {"\xed\xa0\xbd\xed\xb0\x80", "&#xfffd;&#xfffd;&#xfffd;&#xfffd;&#xfffd;&#xfffd;", 6,
     "CESU-8 surrogate pair"},
    {"\xc0\xaf", "&#xfffd;&#xfffd;", 2, "overlong '/' in two bytes"},
    {"\xc0\x80", "&#xfffd;&#xfffd;", 2, "overlong NUL"},
    {"\xe0\x80\xaf", "&#xfffd;&#xfffd;&#xfffd;", 3, "overlong '/' in three bytes"},
    {"\xf0\x80\x80\xaf", "&#xfffd;&#xfffd;&#xfffd;&#xfffd;", 4, "overlong '/' in four bytes"},
    {"\xc1\xbf", "&#xfffd;&#xfffd;", 2, "overlong DEL"},
    {"\xf4\x90\x80\x80", "&#xfffd;&#xfffd;&#xfffd;&#xfffd;", 4, "past U+10FFFF"},
    {"\xe2\x82x", "&#xfffd;&#xfffd;x", 2, "cut short by an ASCII byte"},
    {"\xe2\x82", "&#xfffd;&#xfffd;", 2, "cut short by the end"},
    {"\x80\xbf", "&#xfffd;&#xfffd;", 2, "lone continuation bytes"},
    {"\xc3\x28", "&#xfffd;(", 1, "bad continuation byte"},
    {"\xf8\x88\x80\x80\x80", "&#xfffd;&#xfffd;&#xfffd;&#xfffd;&#xfffd;", 5, "five-byte form"},
    {"\xfe\xff", "&#xfffd;&#xfffd;", 2, "0xfe 0xff"},
    {"a<b&\"c'd>\te\nf", "a&lt;b&amp;&quot;c&#39;d&gt;\te\nf", 0,
     "markup and quotes as references, tab and LF raw"},
    {"\x01\x1b[0m\r\x7f", "&#x2401;&#x241b;[0m&#x240d;&#x2421;", 4,
     "controls, CR and DEL as their pictures"},
};

static void test_utf8(void)
{
	for (size_t i = 0; i < BL_ARRAY_SIZE(utf8_cases); i++) {
		const struct utf8_case *c = &utf8_cases[i];
		size_t r;
		char *out = esc(c->in, strlen(c->in), &r);
		T_EQ_STR(out, c->want, "%s", c->what);
		T_OK(r == c->replaced && xml_clean(out), "%s: %zu replaced, clean", c->what,
		     c->replaced);
		free(out);
	}
}

static void test_utf8_len(void)
{
	T_EQ_INT(bl_utf8_len("\xc3\xa9", 2), 2, "utf8_len: two-byte sequence");
	T_EQ_INT(bl_utf8_len("\xe2\x82\xac", 3), 3, "utf8_len: three-byte sequence");
	T_EQ_INT(bl_utf8_len("\xef\xbf\xbe", 3), 3, "utf8_len: U+FFFE is UTF-8 (JSON keeps it)");
	T_EQ_INT(bl_utf8_len("\xc3\x28", 2), 0, "utf8_len: bad continuation byte");
	T_EQ_INT(bl_utf8_len("\xc0\xaf", 2), 0, "utf8_len: overlong encoding");
	T_EQ_INT(bl_utf8_len("\xed\xa0\x80", 3), 0, "utf8_len: surrogate");
	T_EQ_INT(bl_utf8_len("\xe2\x82\xac", 2), 0, "utf8_len: truncated sequence");
}

static void test_strings(void)
{
	struct strbuf sb = STRBUF_INIT;
	T_EQ_INT(bl_xml_escape(&sb, NULL), 0, "NULL: nothing replaced");
	T_EQ_INT(sb.len, 0, "NULL: nothing added");
	T_EQ_INT(bl_xml_escape(&sb, "x\x02y"), 1, "string: one control replaced");
	T_EQ_STR(sb_str(&sb), "x&#x2402;y", "string: the same as the counted form");
	sb_release(&sb);
}

/* text for a terminal (bootlab gate's failure report): nothing that can
 * start an escape sequence reaches it raw */
static void test_terminal(void)
{
	struct strbuf sb = STRBUF_INIT;
	sb_add_terminal(&sb, "a\x1b]0;pwned\x07"
			     "b\x1b[2Jc");
	T_EQ_STR(sb_str(&sb), "a\\x1b]0;pwned\\x07b\\x1b[2Jc", "terminal: ESC and BEL as \\xNN");
	sb_reset(&sb);
	sb_add_terminal(&sb, "\xc2\x9b"
			     "31m\x9b"
			     "x\x7f");
	T_EQ_STR(sb_str(&sb),
		 "\\xc2\\x9b"
		 "31m\\x9b"
		 "x\\x7f",
		 "terminal: C1 CSI (UTF-8 or raw) and DEL as \\xNN");
	sb_reset(&sb);
	sb_add_terminal(&sb, "tab\there \xc3\xa9\xe2\x82\xac \xc2\xa0");
	T_EQ_STR(sb_str(&sb), "tab\there \xc3\xa9\xe2\x82\xac \xc2\xa0",
		 "terminal: tab and UTF-8 text (U+00A0 too) as they are");
	sb_release(&sb);
}

int main(void)
{
	test_terminal();
	test_every_byte();
	test_utf8();
	test_utf8_len();
	test_strings();
	return t_done();
}
