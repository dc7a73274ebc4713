/* What every report format needs from a variant's repetitions: which one
 * to show, and min/median/max per phase. */
#include "report/report.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

size_t bl_variant_main_index(const struct bl_variant_result *v)
{
	for (size_t i = 0; i < v->nruns; i++)
		if (v->runs[i]->outcome != BL_OUT_PASS)
			return i + 1;
	return v->nruns;
}

const struct bl_result *bl_variant_main(const struct bl_variant_result *v)
{
	return v->runs[bl_variant_main_index(v) - 1];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void stat_of(double *vals, size_t n, struct bl_stat *out)
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	if (!n)
		return;
	qsort(vals, n, sizeof(*vals), cmp_double);
	out->min = vals[0];
	out->max = vals[n - 1];
	out->median = n % 2 ? vals[n / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2;
}

void bl_stat_phase_host(const struct bl_variant_result *v, enum bl_phase_id p, struct bl_stat *out)
{
	double *vals = xcalloc(v->nruns + 1, sizeof(double));
	size_t n = 0;
	for (size_t i = 0; i < v->nruns; i++)
		if (v->runs[i]->phases[p].seen)
			vals[n++] = bl_ns_to_s(v->runs[i]->phases[p].host_ns);
	stat_of(vals, n, out);
	free(vals);
}

void bl_stat_phase_guest(const struct bl_variant_result *v, enum bl_phase_id p, struct bl_stat *out)
{
	double *vals = xcalloc(v->nruns + 1, sizeof(double));
	size_t n = 0;
	for (size_t i = 0; i < v->nruns; i++)
		if (v->runs[i]->phases[p].seen && v->runs[i]->phases[p].guest_s >= 0)
			vals[n++] = v->runs[i]->phases[p].guest_s;
	stat_of(vals, n, out);
	free(vals);
}

void bl_stat_duration(const struct bl_variant_result *v, struct bl_stat *out)
{
	double *vals = xcalloc(v->nruns + 1, sizeof(double));
	for (size_t i = 0; i < v->nruns; i++)
		vals[i] = bl_ns_to_s(v->runs[i]->duration_ns);
	stat_of(vals, v->nruns, out);
	free(vals);
}

json_t *bl_json_text(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	struct strbuf sb = STRBUF_INIT;
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	while (n) {
		size_t l = bl_utf8_len((const char *)p, n);
		if (!l) {
			sb_adds(&sb, "\xef\xbf\xbd");
			l = 1;
		} else {
			sb_add(&sb, p, l);
		}
		p += l;
		n -= l;
	}
	j = json_string(sb_str(&sb));
	sb_release(&sb);
	return j ? j : json_string("");
}
