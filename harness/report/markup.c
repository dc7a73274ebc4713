/* What junit.xml and index.html share: text escaped for XML or HTML, the
 * verdict counts, and a step's result word. */
#include "report/report.h"
#include "util/util.h"

#include <string.h>

void bl_markup_text(struct strbuf *sb, const char *s, enum bl_markup m)
{
	const char *p = s ? s : "";
	size_t left = strlen(p);
	bool html = m == BL_MARKUP_HTML;
	while (left) {
		unsigned char c = (unsigned char)*p;
		size_t step = 1;
		switch (c) {
		case '<':
			sb_adds(sb, "&lt;");
			break;
		case '>':
			sb_adds(sb, "&gt;");
			break;
		case '&':
			sb_adds(sb, "&amp;");
			break;
		case '"':
			sb_adds(sb, "&quot;");
			break;
		case '\'':
			sb_adds(sb, html ? "&#39;" : "&apos;");
			break;
		case '\t':
		case '\n':
			sb_addc(sb, (char)c);
			break;
		default:
			if (!html && c == '\r')
				sb_addc(sb, (char)c);
			else if (html && (c < 0x20 || c == 0x7f))
				sb_addf(sb, "&#x%x;",
					c == 0x7f ? 0x2421 : 0x2400 + c); /* control pictures */
			else if (c < 0x20)
				/* XML 1.0 has no place for other control characters */
				sb_addf(sb, "\\x%02x", c);
			else if (c < 0x80)
				sb_addc(sb, (char)c);
			else if ((step = bl_utf8_len(p, left)))
				sb_add(sb, p, step);
			else {
				/* not UTF-8: the replacement character */
				sb_adds(sb, html ? "&#xfffd;" : "\xef\xbf\xbd");
				step = 1;
			}
		}
		p += step;
		left -= step;
	}
}

void bl_report_count(const struct bl_variant_result *v, size_t n, size_t counts[BL_OUT_NUM])
{
	memset(counts, 0, BL_OUT_NUM * sizeof(*counts));
	for (size_t i = 0; i < n; i++)
		counts[bl_variant_main(&v[i])->outcome]++;
}

bool bl_outcome_is_error(enum bl_outcome o)
{
	return o == BL_OUT_EMU_ERROR || o == BL_OUT_SETUP_ERROR || o == BL_OUT_INTERRUPTED;
}

const char *bl_step_result_word(const struct bl_step_result *s)
{
	return s->skipped ? "skipped" : s->passed ? "pass" : "fail";
}
