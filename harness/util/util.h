/* harness/util: small helpers shared by every stage.
 *
 * Errors: a function that fails calls bl_err() (which formats the message
 * into a per-thread buffer and returns -1) and returns that -1; the caller
 * that consumes the error prints bl_errmsg() once. bl_err_prefix() adds
 * context ("scenario 'x.yaml'") on the way up. die() is only for main and
 * option parsing: it prints "bootlab " and the message, which starts with
 * the command ("gate: ..."), so every error of a command reads
 * "bootlab gate: ...". Messages are lowercase, with no final period.
 *
 * Ownership: functions named *_new, *dup, *printf, bl_read_file return heap
 * memory the caller frees. */
#ifndef BL_UTIL_H
#define BL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define BL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BL_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* where something was written, for messages: "file:line:col" (every stage
 * that reports an error about a scenario's field keeps one) */
struct bl_srcpos {
	const char *file; /* borrowed: the scenario owns the name */
	int line, col;
};

/* exit statuses of the bootlab command */
/* 130: stopped by Ctrl-C or SIGTERM, as a shell reports 128 + SIGINT */
enum {
	BL_EXIT_OK = 0,
	BL_EXIT_FAIL = 1,
	BL_EXIT_USAGE = 2,
	BL_EXIT_INFRA = 3,
	BL_EXIT_INTERRUPTED = 130
};

/* ---- errors ---- */
int bl_err(const char *fmt, ...) BL_PRINTF(1, 2);	 /* sets message, returns -1 */
int bl_err_errno(const char *fmt, ...) BL_PRINTF(1, 2);	 /* appends ": strerror(errno)" */
int bl_err_prefix(const char *fmt, ...) BL_PRINTF(1, 2); /* "prefix: old message", -1 */
const char *bl_errmsg(void);
/* error kind: set with the message; lets run tell bad input from broken infrastructure */
enum bl_errkind { BL_EK_INPUT = 0, BL_EK_INFRA = 1 };
void bl_err_kind(enum bl_errkind k);
enum bl_errkind bl_err_last_kind(void);
void die(const char *fmt, ...) BL_PRINTF(1, 2) __attribute__((noreturn));
void bl_warn(const char *fmt, ...) BL_PRINTF(1, 2);
extern int bl_verbose;
void bl_debug(const char *fmt, ...) BL_PRINTF(1, 2);

/* ---- memory: abort on OOM ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) BL_PRINTF(1, 2);
#define BL_GROW(ptr, nr, alloc)                                                                    \
	do {                                                                                       \
		if ((nr) >= (alloc)) {                                                             \
			(alloc) = (alloc) ? (alloc)*2 : 8;                                         \
			(ptr) = xrealloc((ptr), (alloc) * sizeof(*(ptr)));                         \
		}                                                                                  \
	} while (0)

/* ---- growable string/byte buffer ---- */
struct strbuf {
	char *buf; /* always NUL-terminated when alloc > 0 */
	size_t len, alloc;
};
#define STRBUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void sb_init(struct strbuf *sb);
void sb_release(struct strbuf *sb);
void sb_grow(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const void *data, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...) BL_PRINTF(2, 3);
void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
void sb_reset(struct strbuf *sb);
char *sb_detach(struct strbuf *sb, size_t *len); /* caller frees; sb is reset */
const char *sb_str(struct strbuf *sb);		 /* "" when empty */
/* S in double quotes on one line, as a message shows a value: \" \\ \n \r \t,
 * other control bytes \xNN, the rest as it is ("answer=42\n") */
void sb_add_quoted(struct strbuf *sb, const char *s);
char *bl_quote(const char *s); /* the same, as a new string */
/* S as text for a terminal: valid UTF-8 and tabs as they are; C0 control
 * bytes, DEL, C1 controls (which start escape sequences) and bytes of an
 * invalid UTF-8 sequence as \xNN, so guest output cannot drive the
 * terminal (a title, a cleared screen, a remapped keyboard) */
void sb_add_terminal(struct strbuf *sb, const char *s);

/* ---- text for XML and HTML (xml.c) ---- */
/* length of the valid UTF-8 sequence at S (at most N bytes), 0 if invalid
 * (overlong, a surrogate, past U+10FFFF, cut short) */
size_t bl_utf8_len(const char *s, size_t n);
/* Append N bytes of S to SB as XML 1.0 / HTML text or attribute value
 * (for either quote): & < > " ' as references, tab and LF raw. What XML
 * 1.0 forbids is replaced, never dropped: a C0 control character (CR
 * too) and DEL by its control picture (&#x2401; for 0x01, &#x2421; DEL),
 * U+FFFE, U+FFFF and every byte that does not start a valid UTF-8
 * sequence (surrogates and overlong forms included) by U+FFFD (&#xfffd;).
 * Returns how many characters were replaced. */
size_t bl_xml_escape_n(struct strbuf *sb, const char *s, size_t n);
/* the same for the string S; NULL adds nothing */
size_t bl_xml_escape(struct strbuf *sb, const char *s);

/* ---- string list ---- */
struct strlist {
	char **v;
	size_t n, alloc;
};
#define STRLIST_INIT                                                                               \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void sl_push(struct strlist *sl, const char *s); /* copies s */
void sl_pushf(struct strlist *sl, const char *fmt, ...) BL_PRINTF(2, 3);
void sl_push_nocopy(struct strlist *sl, char *s);
char **sl_argv(struct strlist *sl); /* NULL-terminated view, owned by sl */
void sl_release(struct strlist *sl);
/* the first of the N PREFIXES that S starts with, or NULL */
const char *bl_prefix_in(const char *s, const char *const *prefixes, size_t n);

/* ---- time ---- */
int64_t bl_now_ns(void);    /* CLOCK_MONOTONIC */
extern int64_t bl_start_ns; /* bl_now_ns() when main() began (0: not set) */
double bl_ns_to_s(int64_t ns);

/* ---- files and folders ---- */
int bl_mkdir_p(const char *path, mode_t mode);
int bl_rm_rf(const char *path);
int bl_read_file(const char *path, char **data, size_t *len); /* caller frees *data */
/* write via a temporary file and rename, so nothing half-written is left;
 * the temporary PATH.tmp.PID is created new (O_EXCL | O_NOFOLLOW): a link
 * planted at that name is removed, never written through */
int bl_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* a plain write, no fsync: for a run's own scratch files, which nobody
 * reads after a crash (removed on a failed write) */
int bl_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* all N bytes of BUF at offset OFF of FD (short writes and EINTR retried) */
int bl_pwrite_all(int fd, const void *buf, size_t n, uint64_t off);
/* the data extents of IN (SIZE bytes) to OUT at AT, copy_file_range or a
 * chunk at a time: holes stay holes, nothing is read whole into memory */
int bl_copy_extents(int in, off_t size, int out, off_t at);
/* SRC's data extents and mode, via a temporary file and rename */
int bl_copy_file(const char *src, const char *dst);
/* the same three in the folder DFD (an fd), the name's parents not followed */
int bl_rm_rf_at(int dfd, const char *name);
int bl_write_file_atomic_at(int dfd, const char *name, const void *data, size_t len, mode_t mode);
int bl_copy_file_at(const char *src, int dfd, const char *dst);
/* Open the folder holding NAME's last component under the folder ROOT (an
 * fd), one component at a time with openat(O_NOFOLLOW | O_DIRECTORY): a
 * leading '/' is ROOT, '..' in NAME is refused, and the host never follows
 * a symlink of the tree. A symlink on the way is refused, or with
 * BL_UNDER_FOLLOW walked the same way when it is relative and stays under
 * ROOT (as the guest would resolve it); BL_UNDER_MKDIR creates missing
 * folders (0755). Returns the folder's fd and *last (caller closes and
 * frees), or -1 with a message naming the component, *refused set when
 * NAME would lead out of ROOT or through a refused symlink. */
enum { BL_UNDER_FOLLOW = 1, BL_UNDER_MKDIR = 2 };
int bl_open_under(int root, const char *name, int how, char **last, int *refused);
int bl_file_exists(const char *path);
int bl_is_dir(const char *path);
char *bl_path_join(const char *a, const char *b);
/* PATH's part below the folder DIR ("/r/x/log" in "/r": "x/log"), or NULL when
 * PATH is not in DIR (or either is NULL) */
const char *bl_path_in(const char *path, const char *dir);
/* the value (after ": ") of the first /proc/cpuinfo line whose key starts
 * with KEY, case-insensitive ("model name", "flags", "bogomips"); caller
 * frees; NULL when there is none */
char *bl_cpuinfo(const char *key);
/* $XDG_CACHE_HOME/bootlab or ~/.cache/bootlab, created if missing; caller frees */
char *bl_cache_dir(void);
/* folder holding the bootlab binary's tree (the clone); caller frees */
char *bl_self_dir(void);
/* a fresh private folder under $TMPDIR; caller frees (and removes) it */
char *bl_mktemp_dir(const char *tag);

/* ---- regular expressions (regex.c) ---- */
/* What a pattern may cost before regcomp() sees it: each repetition count
 * at most BL_RE_DUP_MAX (RE2's and Go's limit), groups nested at most
 * BL_RE_MAX_DEPTH deep, and at most BL_RE_MAX_SIZE positions once every
 * repetition is expanded (every alternative counted). Measured on glibc
 * 2.36, the largest patterns under these bounds compile in 0.3 s and
 * 70 MB. Repetitions of what matches the empty string can still make
 * regcomp() exponential, so it is first tried in a child that may use
 * BL_RE_CPU_MS of CPU and BL_RE_WALL_S of wall-clock time, and all the
 * patterns of one process BL_RE_BUDGET_MS of CPU; docs/scenario-format.md
 * says what is refused. */
#define BL_RE_DUP_MAX 1000
#define BL_RE_MAX_DEPTH 64
#define BL_RE_MAX_SIZE 2000
#define BL_RE_CPU_MS 1000
#define BL_RE_WALL_S 30
#define BL_RE_BUDGET_MS 5000
/* PATTERN's expanded size into *SIZE; -1 with a message saying which
 * bound it passes */
int bl_regex_size(const char *pattern, size_t *size);
/* regcomp() for a pattern within those bounds that compiles in time; -1
 * with a message (why it is too big or too hard, or regerror's words) and
 * nothing to regfree(). It forks: call it while the process has one
 * thread (loading a scenario, reading the command line). */
struct re_pattern_buffer;
int bl_regcomp(struct re_pattern_buffer *re, const char *pattern, int cflags);
/* gives the process its whole BL_RE_BUDGET_MS again: for a long-lived
 * process that stands for many bootlab runs (the fuzz harnesses, one
 * input each), never for bootlab itself */
void bl_regex_budget_reset(void);

/* ---- sizes and durations, as a scenario file writes them (parse.c) ---- */
/* what is wrong with a value, for callers that word the message themselves
 * (the scenario loader adds the field and its position) */
enum bl_scan { BL_SCAN_OK, BL_SCAN_BAD, BL_SCAN_RANGE, BL_SCAN_TOO_SHORT, BL_SCAN_TOO_LONG };
/* "64M", "1GiB", "4096" (bytes) -> bytes; BAD or RANGE */
enum bl_scan bl_scan_size(const char *s, unsigned long long *out);
/* "500ms", "10s", "2m", "1h", "30" (seconds) -> ms; BAD, TOO_SHORT (< 1 ms)
 * or TOO_LONG (> 24 h) */
enum bl_scan bl_scan_duration(const char *s, int *ms);
/* the same, with bl_err() naming the value */
int bl_parse_size(const char *s, unsigned long long *out);
int bl_parse_duration(const char *s, int *ms);

/* ---- hashing (SHA-256) ---- */
struct bl_sha256 {
	void *ctx;
};
void bl_sha256_init(struct bl_sha256 *h);
void bl_sha256_update(struct bl_sha256 *h, const void *data, size_t n);
void bl_sha256_update_str(struct bl_sha256 *h, const char *s); /* includes the NUL */
int bl_sha256_update_file(struct bl_sha256 *h, const char *path);
void bl_sha256_final_hex(struct bl_sha256 *h, char out[65]);
/* the SHA-256 of the file at PATH in hex; -1 with a message */
int bl_sha256_file_hex(const char *path, char out[65]);

/* ---- running host commands ---- */
/* fork() for helpers and emulators: the child leads its own process group
 * (so it can be killed as a whole) and gets SIGKILL when bootlab dies
 * (PR_SET_PDEATHSIG, checked against a parent that already died). Returns
 * like fork(), -1 with a message. */
pid_t bl_fork_group(void);
/* Run argv (argv[0] searched in PATH) with stdin from /dev/null, within
 * timeout_ms (0 = none). Output (stdout+stderr merged) goes to *out when
 * out != NULL (caller frees), else to this process's stderr. Returns the
 * wait status in *status; returns -1 (with a message) when it could not
 * be started or timed out; the child's process group is always killed. */
int bl_run(char *const argv[], int timeout_ms, char **out, int *status);
/* "exited 2", "killed by signal 9 (SIGKILL)"; static buffer per thread */
const char *bl_describe_status(int status);
const char *bl_signame(int sig); /* "SIGSEGV" */

#endif
