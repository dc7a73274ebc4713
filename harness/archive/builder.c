/* The archive builder: an ordered entry list rendered as cpio newc exactly
 * like the kernel's usr/gen_init_cpio renders it. */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* one member of the archive being built (the scenario's struct bl_entry is
 * the plan of an entry; this is what gets written) */
struct newc_member {
	char *name; /* without the leading '/' */
	uint32_t mode, uid, gid, nlink;
	uint32_t rmaj, rmin;
	int has_dev; /* keep dmaj:dmin (re-emitted archives) instead of 3:1 */
	uint32_t dmaj, dmin;
	int has_mtime;	/* else the mtime given to write */
	int host_mtime; /* came from the host: clamped to the write mtime */
	uint32_t mtime;
	char *data;    /* inline body (symlink: target without NUL) or NULL */
	char *host;    /* host file read at write time, or NULL */
	uint64_t size; /* body size */
	size_t group;  /* hard-link group, 0 = none */
};

struct bl_archive {
	struct newc_member *v;
	size_t n, alloc;
	size_t groups;
};

static struct newc_member *bl_archive_push(struct bl_archive *a, const char *path, uint32_t mode,
					   unsigned uid, unsigned gid);

struct bl_archive *bl_archive_new(void)
{
	return xcalloc(1, sizeof(struct bl_archive));
}

void bl_archive_free(struct bl_archive *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].data);
		free(a->v[i].host);
	}
	free(a->v);
	free(a);
}

size_t bl_archive_count(const struct bl_archive *a)
{
	return a->n;
}

static const char *strip_name(const char *path)
{
	return path[0] == '/' ? path + 1 : path;
}

static int check_name(const char *path)
{
	if (!path)
		return bl_err("missing archive path");
	size_t n = strlen(strip_name(path));
	if (n + 1 > 4096)
		return bl_err("archive path '%.40s...' is longer than PATH_MAX", path);
	return 0;
}

static struct newc_member *bl_archive_push(struct bl_archive *a, const char *path, uint32_t mode,
					   unsigned uid, unsigned gid)
{
	BL_GROW(a->v, a->n, a->alloc);
	struct newc_member *e = &a->v[a->n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(strip_name(path));
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	e->nlink = 1;
	return e;
}

int bl_archive_add_dir(struct bl_archive *a, const char *path, unsigned mode, unsigned uid,
		       unsigned gid)
{
	if (check_name(path))
		return -1;
	struct newc_member *e = bl_archive_push(a, path, S_IFDIR | (mode & 07777), uid, gid);
	e->nlink = 2;
	return 0;
}

int bl_archive_add_file_data(struct bl_archive *a, const char *path, unsigned mode, unsigned uid,
			     unsigned gid, const void *data, size_t len)
{
	if (check_name(path))
		return -1;
	if ((uint64_t)len > 0xffffffffULL)
		return bl_err("'%s': size exceeds the cpio limit of 4 GiB - 1", path);
	struct newc_member *e = bl_archive_push(a, path, S_IFREG | (mode & 07777), uid, gid);
	e->data = xmalloc(len ? len : 1);
	if (len)
		memcpy(e->data, data, len);
	e->size = len;
	return 0;
}

int bl_archive_add_file_host(struct bl_archive *a, const char *path, unsigned mode, unsigned uid,
			     unsigned gid, const char *host_path)
{
	struct stat st;

	if (check_name(path))
		return -1;
	if (stat(host_path, &st))
		return bl_err_errno("file '%s' could not be opened for reading", host_path);
	if (!S_ISREG(st.st_mode))
		return bl_err("'%s' is not a regular file", host_path);
	if ((uint64_t)st.st_size > 0xffffffffULL)
		return bl_err("'%s': size exceeds the cpio limit of 4 GiB - 1", host_path);
	struct newc_member *e = bl_archive_push(a, path, S_IFREG | (mode & 07777), uid, gid);
	e->host = xstrdup(host_path);
	e->size = st.st_size;
	e->has_mtime = 1;
	e->host_mtime = 1;
	e->mtime = st.st_mtime > 0xffffffffLL ? 0xffffffffu
		   : st.st_mtime < 0	      ? 0
					      : (uint32_t)st.st_mtime;
	return 0;
}

int bl_archive_add_hardlink(struct bl_archive *a, const char *path, const char *existing_path)
{
	if (check_name(path) || check_name(existing_path))
		return -1;
	const char *want = strip_name(existing_path);
	size_t i = a->n;
	while (i > 0 && strcmp(a->v[i - 1].name, want))
		i--;
	if (!i)
		return bl_err("hard link '%s': no entry '%s' before it", path, existing_path);
	struct newc_member *old = &a->v[i - 1];
	if (!S_ISREG(old->mode))
		return bl_err("hard link '%s': '%s' is not a regular file", path, existing_path);
	if (!old->group)
		old->group = ++a->groups;
	size_t oi = i - 1;
	struct newc_member *e = bl_archive_push(a, path, 0, 0, 0);
	old = &a->v[oi]; /* push may have moved the array */
	e->mode = old->mode;
	e->uid = old->uid;
	e->gid = old->gid;
	e->group = old->group;
	e->has_mtime = old->has_mtime;
	e->host_mtime = old->host_mtime;
	e->mtime = old->mtime;
	e->size = old->size;
	e->data = old->data ? xmalloc(old->size ? old->size : 1) : NULL;
	if (old->data && old->size)
		memcpy(e->data, old->data, old->size);
	e->host = old->host ? xstrdup(old->host) : NULL;
	return 0;
}

int bl_archive_add_nod(struct bl_archive *a, const char *path, unsigned mode, unsigned uid,
		       unsigned gid, char type, unsigned maj, unsigned min)
{
	if (check_name(path))
		return -1;
	if (type != 'c' && type != 'b')
		return bl_err("'%s': device type must be 'c' or 'b', not '%c'", path, type);
	struct newc_member *e =
	    bl_archive_push(a, path, (type == 'b' ? S_IFBLK : S_IFCHR) | (mode & 07777), uid, gid);
	e->rmaj = maj;
	e->rmin = min;
	return 0;
}

int bl_archive_add_symlink(struct bl_archive *a, const char *path, const char *target,
			   unsigned mode, unsigned uid, unsigned gid)
{
	if (check_name(path))
		return -1;
	size_t n = strlen(target);
	if (n + 1 > 4096)
		return bl_err("symlink '%s': target longer than PATH_MAX", path);
	struct newc_member *e = bl_archive_push(a, path, S_IFLNK | (mode & 07777), uid, gid);
	e->data = xstrndup(target, n);
	e->size = n + 1; /* gen_init_cpio stores the NUL too */
	return 0;
}

int bl_archive_add_special(struct bl_archive *a, const char *path, char type, unsigned mode,
			   unsigned uid, unsigned gid)
{
	if (check_name(path))
		return -1;
	if (type != 'p' && type != 's')
		return bl_err("'%s': special type must be 'p' or 's', not '%c'", path, type);
	struct newc_member *e =
	    bl_archive_push(a, path, (type == 'p' ? S_IFIFO : S_IFSOCK) | (mode & 07777), uid, gid);
	e->nlink = 2; /* cpio_mkgeneric */
	return 0;
}

int bl_archive_set_mtime(struct bl_archive *a, uint32_t mtime)
{
	if (!a->n)
		return bl_err("no entry to set the mtime of");
	a->v[a->n - 1].has_mtime = 1;
	a->v[a->n - 1].host_mtime = 1;
	a->v[a->n - 1].mtime = mtime;
	return 0;
}

/* ---- re-emitting an existing archive ---- */

int bl_archive_add_cpio(struct bl_archive *a, const char *cpio_file)
{
	struct bl_initrd rd;
	if (bl_initrd_load(&rd, cpio_file))
		return -1;
	size_t base = a->n;
	for (size_t i = 0; i < rd.n_entries; i++) {
		const struct bl_cpio_entry *ce = &rd.entries[i];
		struct newc_member *e = bl_archive_push(a, ce->name, ce->mode, ce->uid, ce->gid);
		e->nlink = ce->nlink;
		e->has_mtime = 1;
		e->mtime = ce->mtime;
		e->rmaj = ce->rdevmajor;
		e->rmin = ce->rdevminor;
		if (S_ISREG(ce->mode) || S_ISLNK(ce->mode)) {
			size_t len;
			const unsigned char *d = S_ISREG(ce->mode)
						     ? bl_initrd_content(&rd, ce, &len)
						     : (len = ce->filesize, ce->data);
			e->data = xmalloc(len + 1);
			memcpy(e->data, d, len);
			e->data[len] = 0;
			e->size = len;
		}
		if (S_ISREG(ce->mode) && ce->nlink >= 2) {
			e->nlink = 1;
			for (size_t j = i; j-- > 0;) {
				const struct bl_cpio_entry *o = &rd.entries[j];
				if (o->archive != ce->archive)
					break;
				if (S_ISREG(o->mode) && o->nlink >= 2 && o->ino == ce->ino &&
				    o->devmajor == ce->devmajor && o->devminor == ce->devminor) {
					struct newc_member *oe = &a->v[base + j];
					if (!oe->group)
						oe->group = ++a->groups;
					e->group = oe->group;
					break;
				}
			}
		}
	}
	bl_initrd_release(&rd);
	return 0;
}

/* ---- rendering ---- */

static void put_hex8(char *p, uint32_t v)
{
	static const char hex[] = "0123456789ABCDEF";
	for (int i = 7; i >= 0; i--, v >>= 4)
		p[i] = hex[v & 15];
}

static void put_header(struct strbuf *out, const uint32_t f[13], const char *name, size_t namesize)
{
	sb_grow(out, 110 + namesize + 4);
	char *p = out->buf + out->len;
	memcpy(p, "070701", 6);
	for (int i = 0; i < 13; i++)
		put_hex8(p + 6 + 8 * i, f[i]);
	memcpy(p + 110, name, namesize - 1);
	p[110 + namesize - 1] = 0;
	out->len += 110 + namesize;
	while (out->len & 3)
		out->buf[out->len++] = 0;
	out->buf[out->len] = 0;
}

static void pad4(struct strbuf *out)
{
	static const char zero[4];
	if (out->len & 3)
		sb_add(out, zero, 4 - (out->len & 3));
}

static int read_host(const struct newc_member *e, struct strbuf *out)
{
	int fd = open(e->host, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bl_err_errno("file '%s' could not be opened for reading", e->host);
	sb_grow(out, e->size);
	size_t got = 0;
	while (got < e->size) {
		ssize_t r = read(fd, out->buf + out->len + got, e->size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			if (r == 0)
				return bl_err("file '%s' shrank while it was read", e->host);
			return bl_err_errno("can not read file '%s'", e->host);
		}
		got += r;
	}
	close(fd);
	out->len += got;
	out->buf[out->len] = 0;
	return 0;
}

/* marks: offsets (from the start of this archive) where entries begin */
static int render(struct bl_archive *a, uint32_t mtime, struct strbuf *out, size_t **marks,
		  size_t *n_marks)
{
	size_t start = out->len, alloc_marks = 0;
	uint32_t ino = 721;
	/* per hard-link group: inode, member count, index of the last member */
	size_t ng = a->groups + 1;
	uint32_t *g_ino = xcalloc(ng, sizeof(*g_ino));
	uint32_t *g_count = xcalloc(ng, sizeof(*g_count));
	size_t *g_last = xcalloc(ng, sizeof(*g_last));
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].group) {
			g_count[a->v[i].group]++;
			g_last[a->v[i].group] = i;
		}
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct newc_member *e = &a->v[i];
		uint32_t f[13];
		uint32_t size = (uint32_t)e->size, nlink = e->nlink, this_ino;
		if (e->group) {
			if (!g_ino[e->group])
				g_ino[e->group] = ino++;
			this_ino = g_ino[e->group];
			nlink = g_count[e->group];
			if (g_last[e->group] != i)
				size = 0;
		} else {
			this_ino = ino++;
		}
		uint32_t m = mtime;
		if (e->has_mtime)
			m = e->host_mtime && e->mtime > mtime ? mtime : e->mtime;
		size_t namesize = strlen(e->name) + 1;
		if (marks) {
			BL_GROW(*marks, *n_marks, alloc_marks);
			(*marks)[(*n_marks)++] = out->len - start;
		}
		f[0] = this_ino;
		f[1] = e->mode;
		f[2] = e->uid;
		f[3] = e->gid;
		f[4] = nlink;
		f[5] = m;
		f[6] = size;
		f[7] = e->has_dev ? e->dmaj : 3;
		f[8] = e->has_dev ? e->dmin : 1;
		f[9] = e->rmaj;
		f[10] = e->rmin;
		f[11] = (uint32_t)namesize;
		f[12] = 0;
		put_header(out, f, e->name, namesize);
		if (size) {
			if (e->host) {
				if (read_host(e, out))
					goto fail;
			} else {
				sb_add(out, e->data, size);
			}
			pad4(out);
		}
	}
	const uint32_t trailer[13] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 11, 0};
	put_header(out, trailer, "TRAILER!!!", 11);
	{
		size_t len = out->len - start;
		size_t pad = (512 - len % 512) % 512;
		sb_grow(out, pad);
		memset(out->buf + out->len, 0, pad);
		out->len += pad;
		out->buf[out->len] = 0;
	}
	free(g_ino);
	free(g_count);
	free(g_last);
	return 0;
fail:
	free(g_ino);
	free(g_count);
	free(g_last);
	out->len = start;
	return -1;
}

int bl_archive_render(struct bl_archive *a, uint32_t mtime, struct strbuf *out)
{
	return render(a, mtime, out, NULL, NULL);
}

/* ---- parallel compression: independent streams cut at entry boundaries ---- */

#define CHUNK_MIN ((size_t)8 << 20) /* fixed, so the bytes never depend on the CPU count */

struct chunk {
	const char *in;
	size_t len;
	struct strbuf out;
	int rc;
	char err[512];
};

struct pool {
	const struct bl_codec *c;
	int level;
	struct chunk *v;
	size_t n;
	size_t next;
	pthread_mutex_t lock;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		struct chunk *ch = &p->v[i];
		ch->rc = p->c->compress(ch->in, ch->len, p->level, &ch->out);
		if (ch->rc)
			snprintf(ch->err, sizeof(ch->err), "%s", bl_errmsg());
	}
}

static int compress_chunks(const struct bl_codec *c, int level, const char *raw, size_t len,
			   const size_t *marks, size_t n_marks, struct strbuf *out)
{
	struct pool p = {.c = c, .level = level};
	size_t cut = 0, alloc = 0;
	/* cut at the first entry boundary at or after each CHUNK_MIN bytes; the
	 * last chunk runs to the end (trailer and padding included) */
	for (size_t m = 0; m < n_marks; m++) {
		if (marks[m] - cut >= CHUNK_MIN) {
			BL_GROW(p.v, p.n, alloc);
			memset(&p.v[p.n], 0, sizeof(p.v[p.n]));
			p.v[p.n].in = raw + cut;
			p.v[p.n++].len = marks[m] - cut;
			cut = marks[m];
		}
	}
	BL_GROW(p.v, p.n, alloc);
	memset(&p.v[p.n], 0, sizeof(p.v[p.n]));
	p.v[p.n].in = raw + cut;
	p.v[p.n++].len = len - cut;

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nthreads = ncpu < 1 ? 1 : (size_t)ncpu;
	if (nthreads > p.n)
		nthreads = p.n;
	pthread_mutex_init(&p.lock, NULL);
	pthread_t *tids = xcalloc(nthreads, sizeof(*tids));
	size_t started = 0;
	for (size_t t = 1; t < nthreads; t++)
		if (!pthread_create(&tids[t], NULL, worker, &p))
			started = t;
	worker(&p);
	for (size_t t = 1; t <= started; t++)
		pthread_join(tids[t], NULL);
	free(tids);
	pthread_mutex_destroy(&p.lock);
	int rc = 0;
	for (size_t i = 0; i < p.n; i++) {
		if (p.v[i].rc && !rc)
			rc = bl_err("%s", p.v[i].err);
		if (!rc)
			sb_add(out, p.v[i].out.buf, p.v[i].out.len);
		sb_release(&p.v[i].out);
	}
	free(p.v);
	return rc;
}

int bl_archive_bytes(struct bl_archive *a, const char *codec_spec, uint32_t mtime,
		     struct strbuf *out)
{
	size_t *marks = NULL, n_marks = 0;
	const struct bl_codec *c;
	int level;
	struct strbuf raw = STRBUF_INIT;
	char *key = NULL;
	int rc = -1;

	if (bl_codec_parse(codec_spec, &c, &level))
		return -1;
	if (render(a, mtime, &raw, &marks, &n_marks))
		goto out;
	if (c == &bl_codec_none) {
		sb_add(out, raw.buf, raw.len);
		rc = 0;
		goto out;
	}
	if (bl_zcache_get(c->name, level, raw.buf, raw.len, out, &key) == 0) {
		rc = 0;
		goto out;
	}
	size_t at = out->len;
	if (c->multi_stream ? compress_chunks(c, level, raw.buf, raw.len, marks, n_marks, out)
			    : c->compress(raw.buf, raw.len, level, out)) {
		bl_err_prefix("%s", c->name);
		goto out;
	}
	bl_zcache_put(key, out->buf + at, out->len - at);
	rc = 0;
out:
	free(key);
	free(marks);
	sb_release(&raw);
	return rc;
}

int bl_archive_write(struct bl_archive *a, const char *out_path, const char *codec_spec,
		     uint32_t mtime)
{
	struct strbuf z = STRBUF_INIT;
	int rc = bl_archive_bytes(a, codec_spec, mtime, &z);
	if (rc == 0)
		rc = bl_write_file_atomic(out_path, z.buf, z.len, 0644);
	sb_release(&z);
	return rc;
}
