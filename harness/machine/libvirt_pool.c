/* libvirt backend: a boot's files uploaded to the connected host, so a
 * remote host needs no shared folder (docs/libvirt.md, "Uploading files to
 * the host").
 *
 * A dir pool "bootlab" on the host (defined, built and started when
 * missing, autostarted afterwards) holds content-addressed volumes named
 * SHA256.kernel, SHA256.initrd and SHA256.disk: a file is uploaded
 * (virStorageVolCreateXML + virStorageVolUpload through a stream) only
 * when no volume of its hash is there. libvirt cannot rename a volume, so
 * the upload goes to its final name and a marker volume NAME.ok (empty)
 * is made once it is complete; a volume without its marker is one being
 * uploaded (by another bootlab: waited for) or one a crash left half
 * written (deleted and uploaded again after the wait). Disks, which a
 * boot writes to, are cloned per boot on the host
 * (virStorageVolCreateXMLFrom) and deleted after it.
 *
 * libvirt has no per-call timeout: the work runs on a thread of its own
 * (libvirt_job.c) and the boot waits for it at most a deadline; a thread
 * that misses it is abandoned, and undoes its per-boot clones when it
 * ends. */
#include "machine/libvirt_int.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POOL_NAME "bootlab"
#define POOL_DIR_SYSTEM "/var/lib/libvirt/" POOL_NAME
/* how long a volume without its marker is waited for (another bootlab
 * uploading it) before it counts as a crash's leftover */
#define MARKER_WAIT_MS 20000
#define CHUNK (256 * 1024)

bool bl_lv_uri_local(const char *uri)
{
	/* local is DRIVER[+unix]:///PATH, no host name */
	const char *sep = strstr(uri, "://");
	if (!sep)
		return true; /* an alias libvirt resolves: the local default */
	const char *plus = memchr(uri, '+', (size_t)(sep - uri));
	if (plus && !(sep - plus - 1 == 4 && !strncmp(plus + 1, "unix", 4)))
		return false;
	return sep[3] == '/';
}

bool bl_lv_upload_wanted(const char *uri)
{
	const char *e = getenv("BOOTLAB_LIBVIRT_UPLOAD");
	if (e && (!strcmp(e, "1") || !strcmp(e, "yes") || !strcmp(e, "always")))
		return true;
	if (e && (!strcmp(e, "0") || !strcmp(e, "no") || !strcmp(e, "never")))
		return false;
	return !bl_lv_uri_local(uri);
}

/* the pool's folder on the host: $BOOTLAB_LIBVIRT_POOL_DIR, else the
 * system daemon's state folder; NULL for other URIs */
static const char *pool_dir(const char *uri)
{
	const char *e = getenv("BOOTLAB_LIBVIRT_POOL_DIR");
	if (e && *e)
		return e;
	const char *sep = strstr(uri, "://");
	const char *path = sep ? strchr(sep + 3, '/') : NULL;
	if (path && !strncmp(path, "/system", 7) && strchr("?#", path[7]))
		return POOL_DIR_SYSTEM;
	return NULL;
}

/* the worker thread's stages (struct bl_lv_wait) */
enum { JOB_RUNNING, JOB_DONE };

/* one upload's state, shared by the waiting boot and the worker thread;
 * freed by whichever of them finishes last */
struct job {
	struct bl_lv_wait w;
	int rc;
	char err[1024];
	virConnectPtr conn; /* a reference of the job's own */
	char *uri, *name, *pooldir;
	/* the files: kernel, initrd or NULL, disks */
	char **files;
	const char **kinds;
	size_t nfiles;
	bool clone_only; /* bl_lv_upload_end: delete the clones named in out */
	struct bl_lv_upload out;
};

static void upload_release(struct bl_lv_upload *u)
{
	free(u->kernel);
	free(u->initrd);
	for (size_t i = 0; i < u->ndisks; i++)
		free(u->disks[i]);
	free(u->disks);
	for (size_t i = 0; i < u->nclones; i++)
		free(u->clones[i]);
	free(u->clones);
	free(u->pool_dir);
	memset(u, 0, sizeof(*u));
}

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->nfiles; i++)
		free(j->files[i]);
	free(j->files);
	free((void *)j->kinds);
	free(j->uri);
	free(j->name);
	free(j->pooldir);
	if (j->conn)
		virConnectClose(j->conn);
	upload_release(&j->out);
	bl_lv_wait_destroy(&j->w);
	free(j);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* the pool, defined and started when missing; NULL with a message */
static virStoragePoolPtr pool_get(struct job *j)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(j->conn, POOL_NAME);
	if (!p) {
		if (!j->pooldir) {
			bl_err("libvirt: no storage pool '%s' on '%s' and no folder to make it in "
			       "(set BOOTLAB_LIBVIRT_POOL_DIR to a folder on that host)",
			       POOL_NAME, j->uri);
			return NULL;
		}
		struct strbuf x = STRBUF_INIT;
		sb_addf(&x, "<pool type='dir'><name>%s</name><target><path>", POOL_NAME);
		bl_xml_escape(&x, j->pooldir);
		sb_adds(&x, "</path></target></pool>");
		p = virStoragePoolDefineXML(j->conn, x.buf, 0);
		sb_release(&x);
		if (!p) /* another bootlab defined it meanwhile? */
			p = virStoragePoolLookupByName(j->conn, POOL_NAME);
		if (!p) {
			bl_err("libvirt: cannot define the storage pool '%s' (%s): %s", POOL_NAME,
			       j->pooldir, bl_lv_errmsg());
			return NULL;
		}
		virStoragePoolSetAutostart(p, 1);
	}
	if (virStoragePoolIsActive(p) != 1 &&
	    virStoragePoolCreate(p, VIR_STORAGE_POOL_CREATE_WITH_BUILD) < 0 &&
	    virStoragePoolIsActive(p) != 1) {
		bl_err("libvirt: cannot start the storage pool '%s': %s", POOL_NAME,
		       bl_lv_errmsg());
		virStoragePoolFree(p);
		return NULL;
	}
	return p;
}

static virStorageVolPtr vol_create(virStoragePoolPtr pool, const char *name, long long size)
{
	char *x = xasprintf("<volume><name>%s</name><capacity unit='bytes'>%lld</capacity>"
			    "<target><format type='raw'/></target></volume>",
			    name, size);
	virStorageVolPtr v = virStorageVolCreateXML(pool, x, 0);
	free(x);
	return v;
}

static bool vol_exists(virStoragePoolPtr pool, const char *name)
{
	virStorageVolPtr v = virStorageVolLookupByName(pool, name);
	if (v)
		virStorageVolFree(v);
	return v != NULL;
}

static void vol_delete(virStoragePoolPtr pool, const char *name)
{
	virStorageVolPtr v = virStorageVolLookupByName(pool, name);
	if (v) {
		virStorageVolDelete(v, 0);
		virStorageVolFree(v);
	}
}

/* the file PATH into the new volume V through a stream; -1 with a message */
static int send_file(struct job *j, virStorageVolPtr v, const char *path, long long size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bl_err_errno("libvirt: cannot open '%s' to upload it", path);
	virStreamPtr st = virStreamNew(j->conn, 0);
	if (!st || virStorageVolUpload(v, st, 0, (unsigned long long)size, 0) < 0) {
		bl_err("libvirt: cannot upload '%s': %s", path, bl_lv_errmsg());
		if (st)
			virStreamFree(st);
		close(fd);
		return -1;
	}
	char *buf = xmalloc(CHUNK);
	long long sent = 0;
	int rc = 0;
	while (sent < size && rc == 0) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? bl_err_errno("libvirt: reading '%s'", path)
				   : bl_err("libvirt: '%s' shrank while it was uploaded", path);
			break;
		}
		for (ssize_t off = 0; off < n && rc == 0;) {
			int s = virStreamSend(st, buf + off, (size_t)(n - off));
			if (s < 0)
				rc = bl_err("libvirt: uploading '%s': %s", path, bl_lv_errmsg());
			else
				off += s;
		}
		sent += n;
	}
	free(buf);
	close(fd);
	if (rc == 0 && virStreamFinish(st) < 0)
		rc = bl_err("libvirt: finishing the upload of '%s': %s", path, bl_lv_errmsg());
	if (rc < 0)
		virStreamAbort(st);
	virStreamFree(st);
	return rc;
}

/* in-process: one upload of a name at a time (the other threads find its
 * marker afterwards); other bootlab processes are covered by the marker */
static pthread_mutex_t upload_mu = PTHREAD_MUTEX_INITIALIZER;

/* PATH's volume NAME in POOL, uploaded unless complete there; *PATH_OUT
 * its path on the host; -1 with a message */
static int vol_ensure(struct job *j, virStoragePoolPtr pool, const char *path, const char *name,
		      long long size, virStorageVolPtr *out)
{
	char *mark = xasprintf("%s.ok", name);
	int rc = -1;
	pthread_mutex_lock(&upload_mu);
	for (int waited = 0;; waited += 200) {
		bool have = vol_exists(pool, name), done = have && vol_exists(pool, mark);
		if (done) {
			bl_lv_mark_used(pool, mark);
			j->out.files_reused++;
			rc = 0;
			break;
		}
		if (have && waited < MARKER_WAIT_MS) { /* another bootlab uploading it */
			sleep_ms(200);
			continue;
		}
		if (have) /* a crash's leftover: uploaded again */
			vol_delete(pool, name);
		virStorageVolPtr v = vol_create(pool, name, size);
		if (!v) {
			if (waited < MARKER_WAIT_MS && vol_exists(pool, name))
				continue; /* made by another bootlab just now */
			bl_err("libvirt: cannot create the volume '%s': %s", name, bl_lv_errmsg());
			break;
		}
		if (send_file(j, v, path, size) < 0) {
			virStorageVolDelete(v, 0);
			virStorageVolFree(v);
			break;
		}
		virStorageVolFree(v);
		virStorageVolPtr m = vol_create(pool, mark, 0);
		if (!m) {
			bl_err("libvirt: cannot create the volume '%s': %s", mark, bl_lv_errmsg());
			break;
		}
		virStorageVolFree(m);
		j->out.files_sent++;
		j->out.bytes += size;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&upload_mu);
	free(mark);
	if (rc == 0 && !(*out = virStorageVolLookupByName(pool, name)))
		rc = bl_err("libvirt: the volume '%s' vanished: %s", name, bl_lv_errmsg());
	return rc;
}

static char *vol_path(virStorageVolPtr v)
{
	char *p = virStorageVolGetPath(v);
	if (!p)
		bl_err("libvirt: no path for a volume: %s", bl_lv_errmsg());
	return p;
}

/* a disk the boot may write: a clone of V of its own on the host */
static int clone_disk(struct job *j, virStoragePoolPtr pool, virStorageVolPtr v, long long size)
{
	struct bl_lv_upload *u = &j->out;
	char *cname = xasprintf("%s.vd%c", j->name, (char)('a' + u->ndisks));
	char *x = xasprintf("<volume><name>%s</name><capacity unit='bytes'>%lld</capacity>"
			    "<target><format type='raw'/></target></volume>",
			    cname, size);
	virStorageVolPtr c = virStorageVolCreateXMLFrom(pool, x, v, 0);
	free(x);
	if (!c) {
		bl_err("libvirt: cannot clone a disk as '%s': %s", cname, bl_lv_errmsg());
		free(cname);
		return -1;
	}
	u->clones[u->nclones++] = cname;
	char *p = vol_path(c);
	virStorageVolFree(c);
	if (!p)
		return -1;
	u->disks[u->ndisks++] = p;
	return 0;
}

/* the job's files as volume names (SHA256.kind) and their sizes */
static int volume_names(struct job *j, char **names, long long *sizes)
{
	for (size_t i = 0; i < j->nfiles; i++) {
		struct stat sb;
		char hex[65];
		if (stat(j->files[i], &sb) < 0)
			return bl_err_errno("libvirt: cannot upload '%s'", j->files[i]);
		if (bl_sha256_file_hex(j->files[i], hex) < 0)
			return -1;
		names[i] = xasprintf("%s.%s", hex, j->kinds[i]);
		sizes[i] = (long long)sb.st_size;
	}
	return 0;
}

/* the host's pool swept once per process, before its first upload there
 * (so no boot of this process has found a volume the sweep then
 * deletes), keeping the NAMES this boot needs and their markers; each
 * --connect host has its own */
static int sweep_once(struct job *j, virStoragePoolPtr pool, char **names)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static struct strlist swept; /* the URIs swept */
	pthread_mutex_lock(&mu);
	int rc = 0;
	bool done = false;
	for (size_t i = 0; i < swept.n && !done; i++)
		done = !strcmp(swept.v[i], j->uri);
	if (!done) {
		char **keep = xcalloc(2 * j->nfiles + 1, sizeof(char *));
		for (size_t i = 0; i < j->nfiles; i++) {
			keep[2 * i] = names[i];
			keep[2 * i + 1] = xasprintf("%s.ok", names[i]);
		}
		rc = bl_lv_pool_sweep(j->conn, pool, (const char *const *)keep, 2 * j->nfiles,
				      &j->out.sweep);
		for (size_t i = 0; i < j->nfiles; i++)
			free(keep[2 * i + 1]);
		free(keep);
		if (rc == 0)
			sl_push(&swept, j->uri);
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

static int upload_all(struct job *j)
{
	struct bl_lv_upload *u = &j->out;
	virStoragePoolPtr pool = pool_get(j);
	if (!pool)
		return -1;
	u->disks = xcalloc(j->nfiles + 1, sizeof(char *));
	u->clones = xcalloc(j->nfiles + 1, sizeof(char *));
	char **names = xcalloc(j->nfiles + 1, sizeof(char *));
	long long *sizes = xcalloc(j->nfiles + 1, sizeof(long long));
	int rc = volume_names(j, names, sizes);
	if (rc == 0)
		rc = sweep_once(j, pool, names);
	for (size_t i = 0; i < j->nfiles && rc == 0; i++) {
		const char *kind = j->kinds[i];
		virStorageVolPtr v = NULL;
		rc = vol_ensure(j, pool, j->files[i], names[i], sizes[i], &v);
		if (rc < 0)
			break;
		if (!strcmp(kind, "disk")) {
			rc = clone_disk(j, pool, v, sizes[i]);
		} else {
			char *p = vol_path(v);
			rc = p ? 0 : -1;
			*(strcmp(kind, "kernel") ? &u->initrd : &u->kernel) = p;
		}
		virStorageVolFree(v);
	}
	for (size_t i = 0; i < j->nfiles; i++)
		free(names[i]);
	free(names);
	free(sizes);
	virStoragePoolFree(pool);
	return rc;
}

static int delete_clones(struct job *j)
{
	struct bl_lv_upload *u = &j->out;
	if (!u->nclones)
		return 0;
	virStoragePoolPtr pool = virStoragePoolLookupByName(j->conn, POOL_NAME);
	if (!pool)
		return bl_err("libvirt: no storage pool '%s' to delete '%s' from: %s", POOL_NAME,
			      u->clones[0], bl_lv_errmsg());
	for (size_t i = 0; i < u->nclones; i++)
		vol_delete(pool, u->clones[i]);
	virStoragePoolFree(pool);
	return 0;
}

static void *job_thread(void *arg)
{
	struct job *j = arg;
	int rc = j->clone_only ? delete_clones(j) : upload_all(j);
	if (rc < 0 && !j->clone_only) { /* no boot: undo the clones made */
		char err[sizeof(j->err)];
		snprintf(err, sizeof(err), "%s", bl_errmsg());
		delete_clones(j);
		bl_err("%s", err);
	}
	j->rc = rc; /* read by the boot only once it sees JOB_DONE */
	if (rc < 0)
		snprintf(j->err, sizeof(j->err), "%s", bl_errmsg());
	if (bl_lv_wait_reached(&j->w, JOB_DONE)) {
		/* nobody boots with it: undo the per-boot clones */
		if (!j->clone_only)
			delete_clones(j);
		job_free(j);
	}
	return NULL;
}

/* run J on its own thread and wait at most TIMEOUT_MS: 0 when it ended
 * well (J then the caller's), -1 with a message (J freed or abandoned) */
static int job_run(struct job *j, long long timeout_ms, const char *what)
{
	virConnectRef(j->conn);

	int e = bl_lv_thread(job_thread, j);
	if (e) {
		job_free(j);
		errno = e;
		return bl_err_errno("libvirt: cannot start a thread for %s", what);
	}
	pthread_mutex_lock(&j->w.mu);
	bool done = bl_lv_wait_for(&j->w, JOB_DONE, timeout_ms);
	j->w.abandoned = !done;
	pthread_mutex_unlock(&j->w.mu);
	if (!done)
		return bl_err("libvirt: %s on '%s' took more than %lld s (abandoned)", what, j->uri,
			      timeout_ms / 1000);
	if (j->rc < 0) {
		bl_err("%s", j->err);
		job_free(j);
		return -1;
	}
	return 0;
}

static struct job *job_new(virConnectPtr conn, const char *uri, const char *name)
{
	struct job *j = xcalloc(1, sizeof(*j));
	bl_lv_wait_init(&j->w);
	j->conn = conn;
	j->uri = xstrdup(uri);
	j->name = xstrdup(name);
	return j;
}

int bl_lv_upload_start(virConnectPtr conn, const char *uri, const struct bl_machine_plan *pl,
		       const char *boot_name, struct bl_lv_upload *u)
{
	memset(u, 0, sizeof(*u));
	const char *t = getenv("BOOTLAB_LIBVIRT_UPLOAD_TIMEOUT");
	int env_ms = 0;
	if (t && *t && bl_parse_duration(t, &env_ms) < 0) {
		bl_err_kind(BL_EK_INFRA);
		return bl_err_prefix("BOOTLAB_LIBVIRT_UPLOAD_TIMEOUT");
	}
	struct job *j = job_new(conn, uri, boot_name);
	const char *dir = pool_dir(uri);
	j->pooldir = dir ? xstrdup(dir) : NULL;
	j->files = xcalloc(pl->ndisks + 2, sizeof(char *));
	j->kinds = xcalloc(pl->ndisks + 2, sizeof(char *));
	long long total = 0;
	for (size_t i = 0; i < pl->ndisks + 2; i++) {
		const char *f = i == 0 ? pl->kernel : i == 1 ? pl->initrd : pl->disks[i - 2];
		if (!f)
			continue;
		struct stat sb;
		if (stat(f, &sb) == 0)
			total += sb.st_size;
		j->kinds[j->nfiles] = i == 0 ? "kernel" : i == 1 ? "initrd" : "disk";
		j->files[j->nfiles++] = xstrdup(f);
	}
	long long timeout_ms = 60000 + total / 1024; /* 60 s + 1 s per MiB */
	if (env_ms > 0)
		timeout_ms = env_ms;
	if (job_run(j, timeout_ms, "uploading a boot's files") < 0) {
		bl_err_kind(BL_EK_INFRA);
		return -1;
	}
	*u = j->out;
	memset(&j->out, 0, sizeof(j->out));
	u->pool_dir = j->pooldir ? xstrdup(j->pooldir) : NULL;
	job_free(j);
	return 0;
}

void bl_lv_upload_end(virConnectPtr conn, struct bl_lv_upload *u)
{
	if (u->nclones && conn) {
		struct job *j = job_new(conn, "the host", "");
		j->clone_only = true;
		j->out.clones = u->clones;
		j->out.nclones = u->nclones;
		u->clones = NULL;
		u->nclones = 0;
		if (job_run(j, 30000, "deleting a boot's disk clones") < 0)
			bl_warn("%s", bl_errmsg());
		else
			job_free(j);
	}
	upload_release(u);
}
