/* What junit.xml and index.html share: the verdict counts, a step's
 * result word and the kernel report that failed a boot (their text goes through bl_xml_escape(),
 * harness/util). */
#include "report/report.h"
#include "console/console.h"
#include "util/util.h"

#include <string.h>

void bl_report_count(const struct bl_variant_result *v, size_t n, size_t counts[BL_COUNT_NUM])
{
	memset(counts, 0, BL_COUNT_NUM * sizeof(*counts));
	for (size_t i = 0; i < n; i++)
		counts[bl_variant_flaky(&v[i]) ? BL_COUNT_FLAKY
					       : bl_variant_main(&v[i])->outcome]++;
}

const char *bl_variant_outcome_name(const struct bl_variant_result *v)
{
	return bl_variant_flaky(v) ? "flaky" : bl_outcome_name(bl_variant_main(v)->outcome);
}

bool bl_outcome_is_error(enum bl_outcome o)
{
	return o == BL_OUT_EMU_ERROR || o == BL_OUT_SETUP_ERROR || o == BL_OUT_INTERRUPTED;
}

const char *bl_step_result_word(const struct bl_step_result *s)
{
	return s->skipped ? "skipped" : s->passed ? "pass" : "fail";
}

const struct bl_kreport *bl_result_failing_kreport(const struct bl_result *r)
{
	for (size_t i = 0; i < r->nkreports; i++)
		if (r->kreports[i].fails)
			return &r->kreports[i];
	return NULL;
}
