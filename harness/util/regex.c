/* Regular expressions whose compile cost is bounded before regcomp() runs.
 *
 * glibc's regcomp() expands every counted repetition into copies of what
 * it repeats, and the optional copies of a{m,n} nest inside each other,
 * so a 20-byte pattern compiles into a huge automaton: on glibc 2.36,
 * ((a{0,30}){30}){30} took 4.3 s and 1 GB, and a fuzzed scenario field
 * took 1.2 GB. Every pattern bootlab compiles comes from a scenario file
 * or a command line, so its size is counted first: positions after every
 * repetition is expanded, every alternative included.
 *
 * Size is not all: repetitions of what can match the empty string make
 * its closures exponential in the nesting or the count. a{0,20}?+{20}
 * (800 positions) took 7.5 s, and (^|a)+ written 100 times (300) never
 * ended. No rule on the text tells these apart from harmless patterns, so
 * a pattern is then compiled once in a child process that a CPU-time
 * limit ends (docs/scenario-format.md, "Regular expressions"). */
#include "util/util.h"

#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

struct re_frame {
	size_t total; /* positions of the group so far, all alternatives */
	size_t last;  /* positions of the last atom, which a repetition copies */
};

struct re_size {
	struct re_frame f[BL_RE_MAX_DEPTH + 1];
	int depth;
	bool deep;    /* a group past BL_RE_MAX_DEPTH was opened */
	size_t count; /* the largest repetition count seen */
};

static size_t sat_add(size_t a, size_t b)
{
	return a + b > BL_RE_MAX_SIZE ? BL_RE_MAX_SIZE + 1 : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
	if (a && b > (BL_RE_MAX_SIZE + 1) / a)
		return BL_RE_MAX_SIZE + 1;
	return a * b > BL_RE_MAX_SIZE ? BL_RE_MAX_SIZE + 1 : a * b;
}

static void add_atom(struct re_frame *f, size_t n)
{
	f->total = sat_add(f->total, n);
	f->last = n;
}

/* the last atom repeated COPIES times in all */
static void repeat_last(struct re_frame *f, size_t copies)
{
	size_t grown = sat_mul(f->last, copies);
	f->total = sat_add(f->total - f->last, grown);
	f->last = grown;
}

/* past a bracket expression starting at S ('['); its end, or NULL when it
 * is not closed (regcomp says so) */
static const char *skip_bracket(const char *s)
{
	s++;
	if (*s == '^')
		s++;
	if (*s == ']')
		s++;
	for (; *s && *s != ']'; s++) {
		if (*s == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			char close[3] = {s[1], ']', 0};
			const char *e = strstr(s + 2, close);
			if (!e)
				return NULL;
			s = e + 1;
		}
	}
	return *s ? s + 1 : NULL;
}

/* an interval at S: "{m}", "{m,}", "{m,n}", or glibc's "{,n}" and "{,}"
 * (m is 0): its end, the copies it makes and its largest count, or NULL
 * when S is not one (regcomp then reads '{' its own way) */
static const char *read_interval(const char *s, size_t *copies, size_t *count)
{
	const char *p = s + 1;
	char *end = (char *)p;
	unsigned long m = 0, n;
	if (*p >= '0' && *p <= '9')
		m = strtoul(p, &end, 10);
	else if (*p != ',')
		return NULL;
	n = m;
	bool open = false;
	if (*end == ',') {
		end++;
		if (*end >= '0' && *end <= '9')
			n = strtoul(end, &end, 10);
		else
			open = true;
	}
	if (*end != '}')
		return NULL;
	*count = m > n ? m : n;
	*copies = *count + open;
	return end + 1;
}

static int re_close(struct re_size *z)
{
	size_t g = sat_add(z->f[z->depth].total, 1);
	add_atom(&z->f[--z->depth], g);
	return 0;
}

/* one token at S; where the next starts, or NULL to stop estimating */
static const char *re_token(struct re_size *z, const char *s)
{
	struct re_frame *f = &z->f[z->depth];
	size_t copies, count;
	const char *e;
	switch (*s) {
	case '\\':
		add_atom(f, 1);
		return s[1] ? s + 2 : NULL;
	case '[':
		add_atom(f, 1);
		return skip_bracket(s);
	case '(':
		if (z->depth == BL_RE_MAX_DEPTH) {
			z->deep = true;
			return NULL;
		}
		z->f[++z->depth] = (struct re_frame){0};
		return s + 1;
	case ')':
		if (z->depth)
			re_close(z);
		else
			add_atom(f, 1);
		return s + 1;
	case '|':
		f->last = 0;
		return s + 1;
	case '+':
		repeat_last(f, 2);
		return s + 1;
	case '{':
		e = read_interval(s, &copies, &count);
		if (!e)
			break;
		z->count = count > z->count ? count : z->count;
		repeat_last(f, copies);
		return e;
	}
	if (*s != '*' && *s != '?')
		add_atom(f, 1);
	return s + 1;
}

int bl_regex_size(const char *pattern, size_t *size)
{
	struct re_size *z = xcalloc(1, sizeof(*z));
	const char *s = pattern;
	while (s && *s)
		s = re_token(z, s);
	int rc = 0;
	if (z->deep)
		rc = bl_err("groups nest deeper than %d", BL_RE_MAX_DEPTH);
	else if (z->count > BL_RE_DUP_MAX)
		rc = bl_err("a repetition count of %zu is over %d", z->count, BL_RE_DUP_MAX);
	while (z->depth > 0)
		re_close(z);
	*size = z->f[0].total;
	if (!rc && *size > BL_RE_MAX_SIZE)
		rc = bl_err("its repetitions expand to more than %d positions", BL_RE_MAX_SIZE);
	free(z);
	return rc;
}

/* CPU milliseconds the trials of this process used, counted twice (the
 * parent compiles each pattern again): a file of many patterns that each
 * stay just under BL_RE_CPU_MS must not take minutes to load */
static long trial_spent_ms;

void bl_regex_budget_reset(void)
{
	trial_spent_ms = 0;
}

/* The last patterns whose trial ended in time, with the CPU it took: the
 * same pattern compiles the same way, so it is not tried again (every
 * variant of a matrix compiles its steps' patterns again). A hit charges
 * the budget once, for the parent's own compile. */
struct trial_memo {
	char *pattern;
	int cflags;
	long ms;
};
#define TRIAL_MEMO_N 64
static struct trial_memo memo[TRIAL_MEMO_N];
static size_t memo_next;

static const struct trial_memo *memo_find(const char *pattern, int cflags)
{
	for (size_t i = 0; i < TRIAL_MEMO_N; i++)
		if (memo[i].pattern && memo[i].cflags == cflags &&
		    !strcmp(memo[i].pattern, pattern))
			return &memo[i];
	return NULL;
}

static void memo_add(const char *pattern, int cflags, long ms)
{
	struct trial_memo *m = &memo[memo_next++ % TRIAL_MEMO_N];
	char *copy = strdup(pattern);
	if (!copy)
		return;
	free(m->pattern);
	*m = (struct trial_memo){copy, cflags, ms};
}

/* the child: regcomp() under a CPU-time limit of ms (SIGPROF), and a
 * wall-clock one (SIGALRM) in case it never runs at all; exit 0 when it
 * compiled */
static void trial_child(const char *pattern, int cflags, long ms)
{
	struct itimerval cpu = {.it_value = {ms / 1000, ms % 1000 * 1000}};
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGPROF);
	sigaddset(&set, SIGALRM);
	signal(SIGPROF, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	setitimer(ITIMER_PROF, &cpu, NULL);
	alarm(BL_RE_WALL_S);
	regex_t re;
	_exit(regcomp(&re, pattern, cflags) ? 1 : 0);
}

static long cpu_ms(const struct rusage *ru)
{
	const struct timeval *u = &ru->ru_utime, *s = &ru->ru_stime;
	return (u->tv_sec + s->tv_sec) * 1000 + (u->tv_usec + s->tv_usec) / 1000;
}

/* why the trial, given ms of CPU, was ended by signal sig */
static int trial_failed(int sig, long ms)
{
	if (sig == SIGPROF && ms <= 0)
		return bl_err("not tried: the patterns before it used up the %d ms of CPU one "
			      "bootlab process may spend compiling patterns",
			      BL_RE_BUDGET_MS);
	if (sig == SIGPROF && ms < BL_RE_CPU_MS)
		return bl_err("compiling it takes more than the %ld ms of CPU left of the %d ms "
			      "one bootlab process may spend compiling patterns",
			      ms, BL_RE_BUDGET_MS);
	if (sig == SIGPROF)
		return bl_err("compiling it takes more than %d ms of CPU (repetitions of what "
			      "matches the empty string)",
			      BL_RE_CPU_MS);
	if (sig == SIGALRM)
		return bl_err("compiling it did not end in %d s", BL_RE_WALL_S);
	return bl_err("compiling it killed the trial (%s)", strsignal(sig));
}

/* 0 when regcomp() ends within BL_RE_CPU_MS and the process's budget,
 * whether it compiles or not */
static int compiles_in_time(const char *pattern, int cflags)
{
	long left = BL_RE_BUDGET_MS - trial_spent_ms;
	long ms = left < BL_RE_CPU_MS ? left : BL_RE_CPU_MS;
	const struct trial_memo *seen = memo_find(pattern, cflags);
	if (seen && seen->ms <= left) {
		trial_spent_ms += seen->ms;
		return 0;
	}
	if (ms <= 0)
		return trial_failed(SIGPROF, 0);
	pid_t pid = fork();
	if (pid < 0)
		return bl_err_errno("cannot fork to try compiling it");
	if (pid == 0)
		trial_child(pattern, cflags, ms);
	int st = 0;
	struct rusage ru = {0};
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return bl_err_errno("cannot wait for the compile's trial");
	long used = cpu_ms(&ru);
	trial_spent_ms += 2 * used;
	if (!WIFEXITED(st))
		return trial_failed(WTERMSIG(st), ms);
	memo_add(pattern, cflags, used);
	return 0;
}

int bl_regcomp(regex_t *re, const char *pattern, int cflags)
{
	size_t size;
	if (bl_regex_size(pattern, &size) < 0)
		return bl_err_prefix("too big to compile");
	if (compiles_in_time(pattern, cflags) < 0)
		return bl_err_prefix("too hard to compile");
	int rc = regcomp(re, pattern, cflags);
	if (rc) {
		char msg[200];
		regerror(rc, re, msg, sizeof(msg));
		regfree(re);
		return bl_err("%s", msg);
	}
	return 0;
}
