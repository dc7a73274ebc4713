/* init-agent: the bootlab PID 1 agent. Shared declarations.
 * Protocol: docs/protocol.md (JSON lines, version 1).
 * Memory: request strings point into the line buffer and live until the
 * next request; the reply buffer is reused. Nothing here is freed by
 * callers unless a comment says so. */
#ifndef IA_AGENT_H
#define IA_AGENT_H

#include <stddef.h>
#include <stdint.h>

#define IA_LINE_MAX 65536 /* bytes per line, without the '\n' */

/* ---- request parser (proto.c) ---- */
enum ia_type { IA_NULL, IA_BOOL, IA_INT, IA_STR, IA_ARR, IA_OTHER };

struct ia_str {
	char *s; /* NUL-terminated; may hold NUL bytes, see len */
	size_t len;
};

struct ia_val {
	const char *key;
	enum ia_type type;
	long long i;	    /* IA_INT, IA_BOOL */
	struct ia_str s;    /* IA_STR */
	struct ia_str *arr; /* IA_ARR: strings only */
	size_t n;
};

#define IA_MAX_FIELDS 64
struct ia_req {
	struct ia_val f[IA_MAX_FIELDS];
	int nf;
	long long id; /* 0 when absent */
	const char *op;
};

/* Parses one line (modified in place). Returns 0, or -1 with a message
 * in ia_req_error(). */
int ia_req_parse(struct ia_req *r, char *line, size_t len);
const char *ia_req_error(void);

/* Argument accessors. They return 0 when found, 1 when absent (out left
 * unchanged: the default), -1 when the type is wrong (message set via
 * ia_fail). */
int ia_arg_str(struct ia_req *r, const char *key, const char **out, size_t *len);
int ia_arg_int(struct ia_req *r, const char *key, long long *out);
int ia_arg_bool(struct ia_req *r, const char *key, int *out);
int ia_arg_arr(struct ia_req *r, const char *key, struct ia_str **out, size_t *n);
/* Required string argument: -1 (EINVAL set) when absent or wrong. */
int ia_need_str(struct ia_req *r, const char *key, const char **out);
/* Octal mode string like "0755": 0/1/-1 like the accessors. */
int ia_arg_mode(struct ia_req *r, const char *key, unsigned *out);

/* ---- JSON writer (proto.c) ---- */
struct ia_json {
	char *buf;
	size_t len, cap;
	char *first;	/* a static buffer buf starts in (not realloc'd), or NULL */
	uint32_t comma; /* bit per nesting level: a value was written */
	int depth;
	int oom; /* an allocation failed: the text is incomplete */
};
void ia_json_reset(struct ia_json *j);
void ia_json_obj(struct ia_json *j, const char *key); /* key NULL: bare */
void ia_json_arr(struct ia_json *j, const char *key);
void ia_json_end(struct ia_json *j, char c); /* '}' or ']' */
void ia_json_str(struct ia_json *j, const char *key, const char *s);
void ia_json_strn(struct ia_json *j, const char *key, const char *s, size_t n);
void ia_json_int(struct ia_json *j, const char *key, long long v);
void ia_json_majmin(struct ia_json *j, const char *key, unsigned maj, unsigned min);
void ia_json_hex(struct ia_json *j, const char *key, unsigned long long v, int width);
void ia_json_bool(struct ia_json *j, const char *key, int v);
void ia_json_null(struct ia_json *j, const char *key);
void ia_json_mode(struct ia_json *j, const char *key, unsigned mode);
void ia_json_errno(struct ia_json *j, int e); /* "errno":N,"error":"ENAME" */

/* ---- errors: ops return 0 or -1 after ia_fail ---- */
int ia_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ia_fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* uses errno */
extern int ia_err_no;
extern char ia_err_msg[512];
const char *ia_errname(int e);

/* ---- state (main.c) ---- */
struct ia_fdinfo {
	int open;
	unsigned maj, min;
	unsigned mode; /* st_mode & S_IFMT, 0 when unknown */
};

struct ia_state {
	int host;	  /* --transport given: ordinary process, no PID 1 duties */
	const char *root; /* host mode: paths resolved under this folder ("" as PID 1) */
	int stage;
	struct ia_fdinfo fds[3];
	char **argv;
	char **envp;
	long long boottime_ns;
	long long switch_ns; /* stage 2: boottime at the switch, -1 unknown */
	char cmdline[4096];
	char wait_ms_s[32];
	long wait_ms;
	char dev[256];	   /* bootlab.dev */
	char port[256];	   /* bootlab.port */
	char modlist[256]; /* bootlab.modules */
	char exitmode[32]; /* bootlab.exit */
	char nonce[40];	   /* bootlab.nonce: carried by every framed line sent */
	char channel[320]; /* reported channel */
	int chan_fd;
	int framed; /* console framing */
	struct {
		char path[256];
		int err; /* 0 or errno */
		const char *via;
	} mods[64]; /* start-up module results (bootlab.modules) */
	int nmods, modlist_err;
};
extern struct ia_state ia;

long long ia_boottime_ns(void);
/* open(2) with O_CLOEXEC as one system call (musl adds an fcntl) */
int ia_open(const char *path, int flags);
/* /sys, mounted when first needed (the port search, modules) or right
 * after the hello: under UML each call before the hello costs ~0.1 ms */
void ia_need_sys(void);
size_t ia_strlcpy(char *d, const char *s, size_t n);
size_t ia_fmt_uint(char *b, unsigned long long v, unsigned base, int width);
/* Host mode: prefix ia.root. Returns a static buffer (one of 4 rotating). */
const char *ia_path(const char *p);
void ia_hello(struct ia_json *j);
/* the value of the command line word KEY=value (ia.cmdline) into OUT */
void ia_cmdline_word(const char *key, char *out, size_t n);
/* PATH's text into BUF, trailing newlines and blanks cut; the open fd
 * when KEEP, else -1 */
int ia_read_text(const char *path, char *buf, size_t n, int keep);
/* the "clock" message: the printk clock at one CLOCK_BOOTTIME instant */
void ia_send_clock(void);
void ia_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- transport (transport.c) ---- */
int ia_chan_find(void); /* sets ia.chan_fd, ia.channel, ia.framed */
/* the port or tty only (no console), waiting up to ia.wait_ms: 0 or -1 */
int ia_chan_find_port(void);
int ia_chan_send(const char *buf, size_t len); /* one line, adds framing + '\n' */
/* Next request line (NUL-terminated, without '\n'). Returns length, -2 when
 * the line was too long (dropped), -1 on EOF (host mode only). */
long ia_chan_recv(char **line);

/* ---- ops: fill j with result fields; 0 or -1 (ia_fail) ---- */
typedef int (*ia_op_fn)(struct ia_req *r, struct ia_json *j);
int ia_op_info(struct ia_req *r, struct ia_json *j);
int ia_op_stat(struct ia_req *r, struct ia_json *j);
int ia_op_read(struct ia_req *r, struct ia_json *j);
int ia_op_sha256(struct ia_req *r, struct ia_json *j);
int ia_op_list(struct ia_req *r, struct ia_json *j);
int ia_op_readlink(struct ia_req *r, struct ia_json *j);
int ia_op_write(struct ia_req *r, struct ia_json *j);
int ia_op_mkdir(struct ia_req *r, struct ia_json *j);
int ia_op_mknod(struct ia_req *r, struct ia_json *j);
int ia_op_symlink(struct ia_req *r, struct ia_json *j);
int ia_op_chmod(struct ia_req *r, struct ia_json *j);
int ia_op_sync(struct ia_req *r, struct ia_json *j);
int ia_op_mount(struct ia_req *r, struct ia_json *j);
int ia_op_umount(struct ia_req *r, struct ia_json *j);
int ia_op_mounts(struct ia_req *r, struct ia_json *j);
int ia_op_pivot_root(struct ia_req *r, struct ia_json *j);
int ia_op_modules(struct ia_req *r, struct ia_json *j);
int ia_op_md_assemble(struct ia_req *r, struct ia_json *j);
int ia_op_run(struct ia_req *r, struct ia_json *j);
int ia_op_switch_root(struct ia_req *r, struct ia_json *j);
int ia_op_copy(struct ia_req *r, struct ia_json *j);

/* modules.c: load one module; 0 or -errno. via: "finit_module"/"init_module" */
int ia_module_load(const char *path, const char **via);
void ia_modules_boot(void); /* bootlab.modules list, results into ia.mods */

/* mounts.c */
/* Root device and fs type of "/" from /proc/self/mountinfo. 0 or -1. */
int ia_root_info(char *dev, size_t dn, char *fstype, size_t fn);
/* "/" as one statx saw it at start-up */
struct ia_rootinfo {
	int ok;
	unsigned long long dev;
	unsigned mode;
	long long mnt_id; /* -1: unknown */
};
void ia_root_probe(struct ia_rootinfo *ri);
int ia_root_is_rootfs(const struct ia_rootinfo *ri);

/* sha256.c */
struct ia_sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};
void ia_sha256_init(struct ia_sha256 *c);
void ia_sha256_update(struct ia_sha256 *c, const void *p, size_t n);
void ia_sha256_final(struct ia_sha256 *c, unsigned char out[32]);

/* observe.c: started as IA_OBSERVER_PATH (rdinit=, bootlab's observe
 * segment), PID 1 forks a tracer of itself and execs the project's init
 * (docs/observe.md) */
#define IA_OBSERVER_PATH "/.bootlab/observer"
void ia_observe(char **argv, char **envp) __attribute__((noreturn));

/* run.c: reap children that are not ours to wait for */
void ia_reap(void);

#endif
