/* harness/util/regex.c: a pattern's size after its repetitions are
 * expanded is counted before regcomp() runs, and a pattern over the bounds
 * is refused with a message instead of taking a gigabyte to compile. */
#include "t.h"
#include "util/util.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void size_is(const char *pattern, size_t want)
{
	size_t got = 0;
	int rc = bl_regex_size(pattern, &got);
	T_OK(rc == 0 && got == want, "'%s' expands to %zu positions (got %zu, rc %d)", pattern,
	     want, got, rc);
}

static void refused(const char *pattern, const char *why)
{
	regex_t re;
	int rc = bl_regcomp(&re, pattern, REG_EXTENDED);
	T_OK(rc < 0 && strstr(bl_errmsg(), why), "'%.40s' refused: %s (got '%s')", pattern, why,
	     rc < 0 ? bl_errmsg() : "compiled");
}

static void matches(const char *pattern, const char *text, int want)
{
	regex_t re;
	int rc = bl_regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	T_OK(rc == 0 && (regexec(&re, text, 0, NULL, 0) == 0) == want, "'%s' %s '%s'", pattern,
	     want ? "matches" : "does not match", text);
	if (rc == 0)
		regfree(&re);
}

/* CPU milliseconds of the children this process has reaped: the trials */
static long children_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* a pattern whose trial ended in time is not tried again: every variant of
 * a matrix compiles its steps' patterns again, each a fork before */
static void tried_once(void)
{
	char loop[80] = "";
	for (int i = 0; i < 8; i++)
		strcat(loop, "(^|a)+");
	regex_t re;
	/* the patterns above spent part of the budget: a hit needs the
	 * trial's CPU to be left, which a sanitizer build on a busy machine
	 * may not leave */
	bl_regex_budget_reset();
	long t0 = children_ms();
	int rc1 = bl_regcomp(&re, loop, REG_EXTENDED);
	if (rc1 == 0)
		regfree(&re);
	long t1 = children_ms();
	int rc2 = bl_regcomp(&re, loop, REG_EXTENDED);
	if (rc2 == 0)
		regfree(&re);
	long t2 = children_ms();
	T_OK(rc1 == 0 && rc2 == 0 && t1 > t0 && t2 == t1,
	     "a costly pattern is tried once: its trials took %ld ms, then %ld ms", t1 - t0,
	     t2 - t1);
	rc1 = bl_regcomp(&re, loop, REG_EXTENDED | REG_NOSUB);
	if (rc1 == 0)
		regfree(&re);
	T_OK(rc1 == 0 && children_ms() > t2, "the same pattern with other flags is tried again");
}

int main(void)
{
	size_is("abc", 3);
	size_is("a{10}", 10);
	size_is("(ab){3}", 9);
	size_is("a+", 2);
	size_is("a|bc", 3);
	size_is("[0-9]{1,3}(\\.[0-9]{1,3}){3}", 18);
	size_is("[]{}]{5}", 5);	       /* ']' first in a bracket is a member */
	size_is("[[:digit:]]{4}x", 5); /* a class inside a bracket */
	size_is("x\\{1000000\\}", 10); /* escaped braces are no repetition */
	size_is("a{,7}", 7);	       /* glibc reads {,n} as {0,n} */
	size_is("a{2,}", 3);

	/* the shapes that blew up: nested counted repetitions, 4 s and 1 GB */
	refused("((a{0,30}){30}){30}", "expand to more than 2000 positions");
	refused("(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p){0,120}", "expand to more than 2000");
	refused("a{,30000}", "a repetition count of 30000 is over 1000");
	refused("a{1001}", "a repetition count of 1001 is over 1000");
	refused("a{99999999999999999999999}", "is over 1000");
	char deep[200] = "";
	for (int i = 0; i < 65; i++)
		strcat(deep, "(");
	strcat(deep, "a");
	for (int i = 0; i < 65; i++)
		strcat(deep, ")");
	refused(deep, "groups nest deeper than 64");
	refused("a{2", "Unmatched \\{"); /* regcomp's own words, still an error */
	refused("(ab", "Unmatched ( or \\(");

	/* what users write still works */
	matches("^Run /init as init process$", "Run /init as init process", 1);
	matches("md[0-9]+: (active|clean)", "md127: active raid1", 1);
	matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}", "10.0.2.15", 1);
	matches("a{1000}", "aaa", 0);
	memmove(deep, deep + 1, strlen(deep));
	deep[strlen(deep) - 1] = 0;
	matches(deep, "a", 1); /* 64 deep is allowed */
	tried_once();
	return t_done();
}
