/* Sizes and durations written on a command line, in the syntax of a
 * scenario file (docs/scenario-format.md), for options that become plan
 * fields (bootlab gate --memory, --timeout, --root-size), so a gate takes
 * what its scenario file took. The loader reads YAML nodes with the same
 * scanners (ck_size, ck_duration in scenario/check.c) and words its own
 * messages, naming the field. */
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum bl_scan bl_scan_size(const char *s, unsigned long long *out)
{
	static const char units[] = "kKMGT";
	static const int shifts[] = {10, 10, 20, 30, 40};
	char *end;
	if (*s < '0' || *s > '9')
		return BL_SCAN_BAD;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno)
		return BL_SCAN_RANGE;
	int shift = 0;
	const char *u = *end ? strchr(units, *end) : NULL;
	if (u) {
		shift = shifts[u - units];
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end)
		return BL_SCAN_BAD;
	if (shift && x > (~0ULL >> shift))
		return BL_SCAN_RANGE;
	*out = x << shift;
	return BL_SCAN_OK;
}

enum bl_scan bl_scan_duration(const char *s, int *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"", 1000},   {"s", 1000},	   {"ms", 1},
		     {"m", 60000}, {"min", 60000}, {"h", 3600000}};
	char *end;
	if (!((*s >= '0' && *s <= '9') || (*s == '.' && s[1] >= '0' && s[1] <= '9')))
		return BL_SCAN_BAD;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || !isfinite(x) || strpbrk(s, "xXpPeEnN"))
		return BL_SCAN_BAD;
	size_t i = 0;
	while (i < BL_ARRAY_SIZE(units) && strcmp(end, units[i].unit))
		i++;
	if (i == BL_ARRAY_SIZE(units))
		return BL_SCAN_BAD;
	x *= units[i].ms;
	if (x < 1)
		return BL_SCAN_TOO_SHORT;
	if (x > 86400000.0)
		return BL_SCAN_TOO_LONG;
	*ms = (int)(x + 0.5);
	return BL_SCAN_OK;
}

int bl_parse_size(const char *s, unsigned long long *out)
{
	switch (bl_scan_size(s, out)) {
	case BL_SCAN_OK:
		return 0;
	case BL_SCAN_RANGE:
		return bl_err("size '%s' is out of range", s);
	default:
		return bl_err("bad size '%s' (bytes, or a number with K, M, G or T like 64M)", s);
	}
}

int bl_parse_duration(const char *s, int *ms)
{
	switch (bl_scan_duration(s, ms)) {
	case BL_SCAN_OK:
		return 0;
	case BL_SCAN_TOO_SHORT:
		return bl_err("duration '%s' must be at least 1ms", s);
	case BL_SCAN_TOO_LONG:
		return bl_err("duration '%s' is too long (at most 24h)", s);
	default:
		return bl_err("bad duration '%s' (like 500ms, 10s, 2m, or seconds)", s);
	}
}
