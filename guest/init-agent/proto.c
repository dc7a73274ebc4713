/* proto.c: the JSON lines protocol (docs/protocol.md): a parser for flat
 * request objects and a writer for replies.
 *
 * Strings are byte strings: raw bytes stand for themselves, \u0000-\u00FF
 * for one byte each, larger code points for their UTF-8 encoding. The
 * writer passes valid UTF-8 through and escapes every other byte as
 * \u00XX, so a read/write round trip is exact. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

int ia_err_no;
char ia_err_msg[512];

int ia_fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ia_err_msg, sizeof(ia_err_msg), fmt, ap);
	va_end(ap);
	ia_err_no = err;
	return -1;
}

int ia_fail_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	size_t n;
	va_start(ap, fmt);
	vsnprintf(ia_err_msg, sizeof(ia_err_msg), fmt, ap);
	va_end(ap);
	n = strlen(ia_err_msg);
	snprintf(ia_err_msg + n, sizeof(ia_err_msg) - n, ": %s", strerror(e));
	ia_err_no = e;
	return -1;
}

static const struct {
	int e;
	const char *name;
} errnames[] = {
    {EPERM, "EPERM"},
    {ENOENT, "ENOENT"},
    {ESRCH, "ESRCH"},
    {EINTR, "EINTR"},
    {EIO, "EIO"},
    {ENXIO, "ENXIO"},
    {E2BIG, "E2BIG"},
    {ENOEXEC, "ENOEXEC"},
    {EBADF, "EBADF"},
    {ECHILD, "ECHILD"},
    {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"},
    {EFAULT, "EFAULT"},
    {ENOTBLK, "ENOTBLK"},
    {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"},
    {EXDEV, "EXDEV"},
    {ENODEV, "ENODEV"},
    {ENOTDIR, "ENOTDIR"},
    {EISDIR, "EISDIR"},
    {EINVAL, "EINVAL"},
    {ENFILE, "ENFILE"},
    {EMFILE, "EMFILE"},
    {ENOTTY, "ENOTTY"},
    {ETXTBSY, "ETXTBSY"},
    {EFBIG, "EFBIG"},
    {ENOSPC, "ENOSPC"},
    {ESPIPE, "ESPIPE"},
    {EROFS, "EROFS"},
    {EMLINK, "EMLINK"},
    {EPIPE, "EPIPE"},
    {ERANGE, "ERANGE"},
    {ENAMETOOLONG, "ENAMETOOLONG"},
    {ENOSYS, "ENOSYS"},
    {ENOTEMPTY, "ENOTEMPTY"},
    {ELOOP, "ELOOP"},
    {ETIMEDOUT, "ETIMEDOUT"},
    {EOPNOTSUPP, "EOPNOTSUPP"},
    {EKEYREJECTED, "EKEYREJECTED"},
    {ENOKEY, "ENOKEY"},
    {EBADMSG, "EBADMSG"},
    {EOVERFLOW, "EOVERFLOW"},
    {EMSGSIZE, "EMSGSIZE"},
    {ENOPKG, "ENOPKG"},
};

const char *ia_errname(int e)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].e == e)
			return errnames[i].name;
	return "EUNKNOWN";
}

/* ---------------------------------------------------------------- parser */

static char perr[160];
static struct ia_str pool[IA_LINE_MAX / 3 + 2]; /* array elements: '"",' each */
static size_t npool;

const char *ia_req_error(void)
{
	return perr;
}

struct pstate {
	char *p, *end, *start;
};

static int perror_at(struct pstate *ps, const char *what)
{
	snprintf(perr, sizeof(perr), "malformed request at byte %ld: %s", (long)(ps->p - ps->start),
		 what);
	return -1;
}

static void skip_ws(struct pstate *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n'))
		ps->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* At '"': decodes in place (output never longer than input). */
static int parse_string(struct pstate *ps, struct ia_str *out)
{
	char *w, *r = ps->p + 1;
	w = r;
	out->s = w;
	for (;;) {
		if (r >= ps->end) {
			ps->p = r;
			return perror_at(ps, "unterminated string");
		}
		unsigned char c = (unsigned char)*r;
		if (c == '"')
			break;
		if (c < 0x20) {
			ps->p = r;
			return perror_at(ps, "control character in string");
		}
		if (c != '\\') {
			*w++ = (char)c;
			r++;
			continue;
		}
		if (r + 1 >= ps->end) {
			ps->p = r;
			return perror_at(ps, "unterminated string");
		}
		r++;
		switch (*r) {
		case '"':
			*w++ = '"';
			r++;
			continue;
		case '\\':
			*w++ = '\\';
			r++;
			continue;
		case '/':
			*w++ = '/';
			r++;
			continue;
		case 'b':
			*w++ = '\b';
			r++;
			continue;
		case 'f':
			*w++ = '\f';
			r++;
			continue;
		case 'n':
			*w++ = '\n';
			r++;
			continue;
		case 'r':
			*w++ = '\r';
			r++;
			continue;
		case 't':
			*w++ = '\t';
			r++;
			continue;
		case 'u':
			break;
		default:
			ps->p = r;
			return perror_at(ps, "bad escape");
		}
		unsigned cp, lo;
		if (ps->end - r < 5 || hex4(r + 1, &cp)) {
			ps->p = r;
			return perror_at(ps, "bad \\u escape");
		}
		r += 5;
		if (cp >= 0xdc00 && cp <= 0xdfff) {
			ps->p = r;
			return perror_at(ps, "lone low surrogate");
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (ps->end - r < 6 || r[0] != '\\' || r[1] != 'u' || hex4(r + 2, &lo) ||
			    lo < 0xdc00 || lo > 0xdfff) {
				ps->p = r;
				return perror_at(ps, "lone high surrogate");
			}
			r += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (cp <= 0xff) {
			*w++ = (char)cp; /* one byte */
		} else if (cp < 0x800) {
			*w++ = (char)(0xc0 | (cp >> 6));
			*w++ = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			*w++ = (char)(0xe0 | (cp >> 12));
			*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*w++ = (char)(0x80 | (cp & 0x3f));
		} else {
			*w++ = (char)(0xf0 | (cp >> 18));
			*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
			*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*w++ = (char)(0x80 | (cp & 0x3f));
		}
	}
	out->len = (size_t)(w - out->s);
	ps->p = r + 1;
	*w = 0; /* w <= r: the closing quote or earlier */
	return 0;
}

static int parse_number(struct pstate *ps, struct ia_val *v)
{
	char *p = ps->p;
	int neg = 0, other = 0;
	unsigned long long u = 0;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (p >= ps->end || *p < '0' || *p > '9') {
		ps->p = p;
		return perror_at(ps, "bad number");
	}
	if (*p == '0' && p + 1 < ps->end && p[1] >= '0' && p[1] <= '9') {
		ps->p = p;
		return perror_at(ps, "leading zero");
	}
	while (p < ps->end && *p >= '0' && *p <= '9') {
		if (u > (~0ULL - 9) / 10)
			other = 1;
		else
			u = u * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (p < ps->end && *p == '.') {
		other = 1;
		p++;
		if (p >= ps->end || *p < '0' || *p > '9') {
			ps->p = p;
			return perror_at(ps, "bad fraction");
		}
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		other = 1;
		p++;
		if (p < ps->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= ps->end || *p < '0' || *p > '9') {
			ps->p = p;
			return perror_at(ps, "bad exponent");
		}
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (!other && u > (neg ? 9223372036854775808ULL : 9223372036854775807ULL))
		other = 1;
	ps->p = p;
	if (other) {
		v->type = IA_OTHER;
	} else {
		v->type = IA_INT;
		v->i = neg ? (long long)(0 - u) : (long long)u;
	}
	return 0;
}

static int lit(struct pstate *ps, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return perror_at(ps, "bad literal");
	ps->p += n;
	return 0;
}

static int parse_value(struct pstate *ps, struct ia_val *v, int depth);

static int parse_array(struct pstate *ps, struct ia_val *v, int depth)
{
	struct ia_val e;
	size_t first = npool;
	int strings = 1;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		v->type = IA_ARR;
		v->arr = pool + first;
		v->n = 0;
		return 0;
	}
	for (;;) {
		skip_ws(ps);
		memset(&e, 0, sizeof(e));
		if (parse_value(ps, &e, depth + 1))
			return -1;
		if (e.type == IA_STR && strings && npool < sizeof(pool) / sizeof(pool[0]))
			pool[npool++] = e.s;
		else
			strings = 0;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return perror_at(ps, "unterminated array");
		if (*ps->p == ']')
			break;
		if (*ps->p != ',')
			return perror_at(ps, "expected ',' or ']'");
		ps->p++;
	}
	ps->p++;
	if (strings) {
		v->type = IA_ARR;
		v->arr = pool + first;
		v->n = npool - first;
	} else {
		v->type = IA_OTHER;
		npool = first;
	}
	return 0;
}

static int parse_object_skip(struct pstate *ps, int depth)
{
	struct ia_str k;
	struct ia_val e;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"')
			return perror_at(ps, "expected a key");
		if (parse_string(ps, &k))
			return -1;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return perror_at(ps, "expected ':'");
		ps->p++;
		skip_ws(ps);
		memset(&e, 0, sizeof(e));
		if (parse_value(ps, &e, depth + 1))
			return -1;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return perror_at(ps, "unterminated object");
		if (*ps->p == '}')
			break;
		if (*ps->p != ',')
			return perror_at(ps, "expected ',' or '}'");
		ps->p++;
	}
	ps->p++;
	return 0;
}

static int parse_value(struct pstate *ps, struct ia_val *v, int depth)
{
	if (depth > 32)
		return perror_at(ps, "nested too deeply");
	if (ps->p >= ps->end)
		return perror_at(ps, "expected a value");
	switch (*ps->p) {
	case '"':
		v->type = IA_STR;
		return parse_string(ps, &v->s);
	case '[':
		return parse_array(ps, v, depth);
	case '{':
		v->type = IA_OTHER;
		return parse_object_skip(ps, depth);
	case 't':
		v->type = IA_BOOL;
		v->i = 1;
		return lit(ps, "true");
	case 'f':
		v->type = IA_BOOL;
		v->i = 0;
		return lit(ps, "false");
	case 'n':
		v->type = IA_NULL;
		return lit(ps, "null");
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps, v);
		return perror_at(ps, "unexpected character");
	}
}

int ia_req_parse(struct ia_req *r, char *line, size_t len)
{
	struct pstate ps = {line, line + len, line};
	struct ia_str k;
	memset(r, 0, sizeof(*r));
	npool = 0;
	perr[0] = 0;
	skip_ws(&ps);
	if (ps.p >= ps.end || *ps.p != '{')
		return perror_at(&ps, "expected '{'");
	ps.p++;
	skip_ws(&ps);
	if (ps.p < ps.end && *ps.p == '}') {
		ps.p++;
	} else {
		for (;;) {
			struct ia_val tmp, *v;
			skip_ws(&ps);
			if (ps.p >= ps.end || *ps.p != '"')
				return perror_at(&ps, "expected a key");
			if (parse_string(&ps, &k))
				return -1;
			skip_ws(&ps);
			if (ps.p >= ps.end || *ps.p != ':')
				return perror_at(&ps, "expected ':'");
			ps.p++;
			skip_ws(&ps);
			/* a repeated key: the last one wins */
			v = NULL;
			for (int i = 0; i < r->nf; i++)
				if (!strcmp(r->f[i].key, k.s))
					v = &r->f[i];
			if (!v)
				v = r->nf < IA_MAX_FIELDS ? &r->f[r->nf++] : &tmp;
			memset(v, 0, sizeof(*v));
			v->key = k.s;
			if (parse_value(&ps, v, 1))
				return -1;
			skip_ws(&ps);
			if (ps.p >= ps.end)
				return perror_at(&ps, "unterminated object");
			if (*ps.p == '}')
				break;
			if (*ps.p != ',')
				return perror_at(&ps, "expected ',' or '}'");
			ps.p++;
		}
		ps.p++;
	}
	skip_ws(&ps);
	if (ps.p != ps.end)
		return perror_at(&ps, "trailing characters");
	for (int i = 0; i < r->nf; i++) {
		struct ia_val *v = &r->f[i];
		if (!strcmp(v->key, "id")) {
			if (v->type != IA_INT || v->i <= 0) {
				snprintf(perr, sizeof(perr), "'id' must be a positive integer");
				return -1;
			}
			r->id = v->i;
		} else if (!strcmp(v->key, "op") && v->type == IA_STR) {
			r->op = v->s.s;
		}
	}
	return 0;
}

static struct ia_val *find(struct ia_req *r, const char *key)
{
	for (int i = 0; i < r->nf; i++)
		if (!strcmp(r->f[i].key, key))
			return &r->f[i];
	return NULL;
}

static int wrong(const char *key, const char *want)
{
	return ia_fail(EINVAL, "argument '%s': expected %s", key, want);
}

int ia_arg_str(struct ia_req *r, const char *key, const char **out, size_t *len)
{
	struct ia_val *v = find(r, key);
	if (!v || v->type == IA_NULL)
		return 1;
	if (v->type != IA_STR)
		return wrong(key, "a string");
	*out = v->s.s;
	if (len)
		*len = v->s.len;
	return 0;
}

int ia_need_str(struct ia_req *r, const char *key, const char **out)
{
	size_t n;
	int rc = ia_arg_str(r, key, out, &n);
	if (rc == 1)
		return ia_fail(EINVAL, "missing argument '%s'", key);
	if (rc == 0 && strlen(*out) != n)
		return ia_fail(EINVAL, "argument '%s': NUL byte in string", key);
	return rc;
}

int ia_arg_int(struct ia_req *r, const char *key, long long *out)
{
	struct ia_val *v = find(r, key);
	if (!v || v->type == IA_NULL)
		return 1;
	if (v->type != IA_INT)
		return wrong(key, "an integer");
	*out = v->i;
	return 0;
}

int ia_arg_bool(struct ia_req *r, const char *key, int *out)
{
	struct ia_val *v = find(r, key);
	if (!v || v->type == IA_NULL)
		return 1;
	if (v->type != IA_BOOL)
		return wrong(key, "true or false");
	*out = (int)v->i;
	return 0;
}

int ia_arg_arr(struct ia_req *r, const char *key, struct ia_str **out, size_t *n)
{
	struct ia_val *v = find(r, key);
	if (!v || v->type == IA_NULL)
		return 1;
	if (v->type != IA_ARR)
		return wrong(key, "an array of strings");
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->arr[i].s) != v->arr[i].len)
			return ia_fail(EINVAL, "argument '%s': NUL byte in string", key);
	*out = v->arr;
	*n = v->n;
	return 0;
}

int ia_arg_mode(struct ia_req *r, const char *key, unsigned *out)
{
	const char *s;
	unsigned m = 0;
	int rc = ia_arg_str(r, key, &s, NULL);
	if (rc)
		return rc;
	if (!*s || strlen(s) > 6)
		return wrong(key, "an octal mode string like \"0755\"");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7')
			return wrong(key, "an octal mode string like \"0755\"");
		m = m * 8 + (unsigned)(*p - '0');
	}
	if (m > 07777)
		return wrong(key, "a mode of at most 07777");
	*out = m;
	return 0;
}

/* ---------------------------------------------------------------- writer */

static void put(struct ia_json *j, const char *s, size_t n)
{
	if (j->oom)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 4096;
		char *nb;
		while (cap < j->len + n + 1)
			cap *= 2;
		if (j->buf && j->buf == j->first) { /* leave the static buffer */
			if ((nb = malloc(cap)))
				memcpy(nb, j->buf, j->len + 1);
		} else {
			nb = realloc(j->buf, cap);
		}
		if (!nb) {
			j->oom = 1;
			return;
		}
		j->buf = nb;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = 0;
}

void ia_json_reset(struct ia_json *j)
{
	j->len = 0;
	j->comma = 0;
	j->depth = 0;
	j->oom = 0;
	if (j->buf)
		j->buf[0] = 0;
}

static void esc(struct ia_json *j, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run = 0;
	put(j, "\"", 1);
	while (i < n) {
		unsigned char c = s[i];
		size_t k = 0; /* length of a valid UTF-8 sequence at i */
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			k = 1;
		} else if (c >= 0xc2 && c <= 0xf4) {
			size_t need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
			if (i + need <= n) {
				size_t m;
				for (m = 1; m < need; m++)
					if ((s[i + m] & 0xc0) != 0x80)
						break;
				if (m == need) {
					unsigned c1 = s[i + 1];
					if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) ||
					    (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
						k = 0; /* overlong, surrogate or > U+10FFFF */
					else
						k = need;
				}
			}
		}
		if (k) {
			i += k;
			run += k;
			continue;
		}
		put(j, (const char *)s + i - run, run);
		run = 0;
		switch (c) {
		case '"':
			put(j, "\\\"", 2);
			break;
		case '\\':
			put(j, "\\\\", 2);
			break;
		case '\n':
			put(j, "\\n", 2);
			break;
		case '\r':
			put(j, "\\r", 2);
			break;
		case '\t':
			put(j, "\\t", 2);
			break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			put(j, u, 6);
		}
		}
		i++;
	}
	put(j, (const char *)s + i - run, run);
	put(j, "\"", 1);
}

static void key(struct ia_json *j, const char *k)
{
	if (j->comma & (1u << j->depth))
		put(j, ",", 1);
	j->comma |= 1u << j->depth;
	if (k) {
		esc(j, (const unsigned char *)k, strlen(k));
		put(j, ":", 1);
	}
}

void ia_json_obj(struct ia_json *j, const char *k)
{
	key(j, k);
	put(j, "{", 1);
	if (j->depth < 31)
		j->depth++;
	j->comma &= ~(1u << j->depth);
}

void ia_json_arr(struct ia_json *j, const char *k)
{
	key(j, k);
	put(j, "[", 1);
	if (j->depth < 31)
		j->depth++;
	j->comma &= ~(1u << j->depth);
}

void ia_json_end(struct ia_json *j, char c)
{
	put(j, &c, 1);
	if (j->depth > 0)
		j->depth--;
}

void ia_json_strn(struct ia_json *j, const char *k, const char *s, size_t n)
{
	key(j, k);
	esc(j, (const unsigned char *)s, n);
}

void ia_json_str(struct ia_json *j, const char *k, const char *s)
{
	if (!s) {
		ia_json_null(j, k);
		return;
	}
	ia_json_strn(j, k, s, strlen(s));
}

size_t ia_strlcpy(char *d, const char *s, size_t n)
{
	size_t l = strlen(s);
	if (n) {
		size_t c = l < n ? l : n - 1;
		memcpy(d, s, c);
		d[c] = 0;
	}
	return l;
}

/* v in base 8, 10 or 16 (lower case), at least width digits, into b (at
 * least 24 bytes); the length. Not snprintf: the hello path avoids stdio's
 * formatter, which is slow to translate on its first call under TCG. */
size_t ia_fmt_uint(char *b, unsigned long long v, unsigned base, int width)
{
	char t[24];
	size_t n = 0, k = 0;
	do {
		t[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while ((int)n < width && n < sizeof(t))
		t[n++] = '0';
	while (n)
		b[k++] = t[--n];
	b[k] = 0;
	return k;
}

void ia_json_int(struct ia_json *j, const char *k, long long v)
{
	char b[32];
	size_t n = 0;
	key(j, k);
	if (v < 0)
		b[n++] = '-';
	n +=
	    ia_fmt_uint(b + n, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, 10, 1);
	put(j, b, n);
}

void ia_json_bool(struct ia_json *j, const char *k, int v)
{
	key(j, k);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void ia_json_null(struct ia_json *j, const char *k)
{
	key(j, k);
	put(j, "null", 4);
}

void ia_json_mode(struct ia_json *j, const char *k, unsigned mode)
{
	char b[24];
	ia_json_strn(j, k, b, ia_fmt_uint(b, mode & 07777, 8, 4));
}

void ia_json_majmin(struct ia_json *j, const char *k, unsigned maj, unsigned min)
{
	char b[48];
	size_t n = ia_fmt_uint(b, maj, 10, 1);
	b[n++] = ':';
	n += ia_fmt_uint(b + n, min, 10, 1);
	ia_json_strn(j, k, b, n);
}

void ia_json_hex(struct ia_json *j, const char *k, unsigned long long v, int width)
{
	char b[32] = "0x";
	ia_json_strn(j, k, b, 2 + ia_fmt_uint(b + 2, v, 16, width));
}

void ia_json_errno(struct ia_json *j, int e)
{
	ia_json_int(j, "errno", e);
	ia_json_str(j, "error", ia_errname(e));
}
