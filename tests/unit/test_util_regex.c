/* harness/util/regex.c: a pattern's size after its repetitions are
 * expanded is counted before regcomp() runs, and a pattern over the bounds
 * is refused with a message instead of taking a gigabyte to compile. */
#include "t.h"
#include "util/util.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

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
	return t_done();
}
