/* Sizes and durations written on a command line, in the syntax of a
 * scenario file (docs/scenario-format.md), for options that become plan
 * fields (bootlab gate --memory, --timeout, --root-size), so a gate takes
 * what its scenario file took. The loader reads the same syntax from YAML
 * nodes (ck_size, ck_duration in scenario/check.c, which could call
 * these). */
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int bl_parse_size(const char *s, unsigned long long *out)
{
	static const char units[] = "kKMGT";
	static const int shifts[] = {10, 10, 20, 30, 40};
	char *end;
	if (*s < '0' || *s > '9')
		goto bad;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno)
		return bl_err("size '%s' is out of range", s);
	int shift = 0;
	const char *u = *end ? strchr(units, *end) : NULL;
	if (u) {
		shift = shifts[u - units];
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end)
		goto bad;
	if (shift && x > (~0ULL >> shift))
		return bl_err("size '%s' is out of range", s);
	*out = x << shift;
	return 0;
bad:
	return bl_err("bad size '%s' (bytes, or a number with K, M, G or T like 64M)", s);
}

int bl_parse_duration(const char *s, int *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"", 1000},   {"s", 1000},	   {"ms", 1},
		     {"m", 60000}, {"min", 60000}, {"h", 3600000}};
	char *end;
	if (!((*s >= '0' && *s <= '9') || (*s == '.' && s[1] >= '0' && s[1] <= '9')))
		goto bad;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || !isfinite(x) || strpbrk(s, "xXpPeEnN"))
		goto bad;
	size_t i = 0;
	while (i < BL_ARRAY_SIZE(units) && strcmp(end, units[i].unit))
		i++;
	if (i == BL_ARRAY_SIZE(units))
		goto bad;
	x *= units[i].ms;
	if (x < 1)
		return bl_err("duration '%s' must be at least 1ms", s);
	if (x > 86400000.0)
		return bl_err("duration '%s' is too long (at most 24h)", s);
	*ms = (int)(x + 0.5);
	return 0;
bad:
	return bl_err("bad duration '%s' (like 500ms, 10s, 2m, or seconds)", s);
}
