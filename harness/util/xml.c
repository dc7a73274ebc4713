/* Text for XML and HTML documents (junit.xml, index.html, libvirt's
 * domain XML): the one escaper every text node and attribute value goes
 * through, and the UTF-8 check it (and the JSON report) relies on. */
#include "util.h"

#include <stdbool.h>
#include <string.h>

size_t bl_utf8_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	if (p[0] < 0x80)
		return 1;
	size_t len;
	unsigned min;
	unsigned cp;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* the reference for an ASCII character markup gives a meaning to, else
 * NULL */
static const char *xml_ref(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	}
	return NULL;
}

/* one ASCII character; true when it had to be replaced: a control
 * character but tab and LF, or DEL, becomes its control picture (U+2400 +
 * C, U+2421): XML 1.0 has no place for most, and a parser reads a raw CR
 * as LF */
static bool xml_ascii(struct strbuf *sb, unsigned char c)
{
	const char *ref = xml_ref(c);
	if (ref) {
		sb_adds(sb, ref);
		return false;
	}
	if ((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n') {
		sb_addc(sb, (char)c);
		return false;
	}
	sb_addf(sb, "&#x%x;", c == 0x7f ? 0x2421 : 0x2400 + c);
	return true;
}

/* U+FFFE or U+FFFF: valid UTF-8 that XML 1.0 forbids (EF BF BE, EF BF BF) */
static bool xml_nonchar(const char *s, size_t len)
{
	return len == 3 && !memcmp(s, "\xef\xbf", 2) && (unsigned char)s[2] >= 0xbe;
}

size_t bl_xml_escape_n(struct strbuf *sb, const char *s, size_t n)
{
	size_t replaced = 0;
	while (n) {
		size_t len = 1;
		if ((unsigned char)*s < 0x80) {
			replaced += xml_ascii(sb, (unsigned char)*s);
		} else if ((len = bl_utf8_len(s, n)) && !xml_nonchar(s, len)) {
			sb_add(sb, s, len);
		} else {
			sb_adds(sb, "&#xfffd;");
			replaced++;
			len = len ? len : 1;
		}
		s += len;
		n -= len;
	}
	return replaced;
}

size_t bl_xml_escape(struct strbuf *sb, const char *s)
{
	return s ? bl_xml_escape_n(sb, s, strlen(s)) : 0;
}
