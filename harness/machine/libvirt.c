/* libvirt backend: the plan becomes a transient domain started with
 * VIR_DOMAIN_START_AUTODESTROY (so it dies with bootlab's connection, even
 * when bootlab is killed), the console and the agent channel are read
 * through the API (virDomainOpenConsole / virDomainOpenChannel streams) so
 * remote URIs work, and lifecycle events end the boot. Streams are bridged
 * to socketpairs, so the session's poll loop is the same as for the other
 * backends. All libvirt callbacks run on one event-loop thread.
 *
 * Files: kernel, initrd and disks are named by path in the domain XML:
 * bootlab's own paths, which a host must see, or (remote URIs,
 * BOOTLAB_LIBVIRT_UPLOAD) the paths of volumes uploaded into a pool on
 * the host (libvirt_pool.c). docs/libvirt.md says when and why. */
#include "machine/libvirt_int.h"
#include "machine/machine.h"
#include "util/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct bl_lv_funcs bl_lv;
static pthread_once_t lv_once = PTHREAD_ONCE_INIT;
static char lv_dlerr[256];

static void lv_load(void)
{
	void *h = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(lv_dlerr, sizeof(lv_dlerr), "%s", dlerror());
		return;
	}
	const char *missing = bl_lv_fill(h);
	if (missing)
		snprintf(lv_dlerr, sizeof(lv_dlerr), "libvirt.so.0 has no '%s'", missing);
}

const char *bl_lv_load(void)
{
	pthread_once(&lv_once, lv_load);
	return lv_dlerr[0] ? lv_dlerr : NULL;
}
struct lv_priv {
	virConnectPtr conn;
	virDomainPtr dom;
	struct bl_lv_bridge con, ag;
	int lifecycle_cb;
	char name[96];	   /* events come for every domain of the connection */
	volatile int gone; /* domain stopped */
	volatile int crashed;
	int64_t gone_ns; /* when lv_poll_exit first saw it gone (0: not yet) */
	bool uploaded;	 /* up holds the boot's volumes on the host */
	struct bl_lv_upload up;
};

static pthread_once_t loop_once = PTHREAD_ONCE_INIT;
static int loop_ok;

static void quiet_errors(void *data, virErrorPtr err)
{
	(void)data;
	bl_debug("libvirt: %s", err && err->message ? err->message : "?");
}

static void *loop_thread(void *arg)
{
	(void)arg;
	for (;;)
		virEventRunDefaultImpl();
	return NULL;
}

static void loop_start(void)
{
	virSetErrorFunc(NULL, quiet_errors);
	if (virEventRegisterDefaultImpl() < 0)
		return;
	if (bl_lv_thread(loop_thread, NULL) == 0)
		loop_ok = 1;
}

const char *bl_lv_errmsg(void)
{
	const char *m = virGetLastErrorMessage();
	return m ? m : "unknown libvirt error";
}

static int lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct lv_priv *p = opaque;
	(void)conn;
	const char *n = virDomainGetName(dom);
	if (!n || strcmp(n, p->name))
		return 0;
	if (event == VIR_DOMAIN_EVENT_STOPPED) {
		p->crashed = detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED ||
			     detail == VIR_DOMAIN_EVENT_STOPPED_FAILED;
		p->gone = 1;
	} else if (event == VIR_DOMAIN_EVENT_CRASHED) {
		p->crashed = 1;
	}
	return 0;
}

/* S into the domain XML X; -1 naming WHAT when XML cannot carry it as it
 * is (bl_xml_escape() would have replaced a character) */
static int lv_xml_text(struct strbuf *x, const char *what, const char *s)
{
	if (!bl_xml_escape(x, s))
		return 0;
	return bl_err("libvirt backend: the %s '%s' holds characters XML cannot carry (control "
		      "characters, U+FFFE, U+FFFF or bytes that are not UTF-8)",
		      what, s);
}

/* the os element: the plan's kernel and initrd, the command line CMDLINE */
static int lv_os_xml(const struct bl_machine_plan *pl, bool arm, const char *cmdline,
		     struct strbuf *x)
{
	sb_addf(x, " <os>\n  <type arch='%s' machine='%s'>hvm</type>\n", arm ? "aarch64" : "x86_64",
		arm ? "virt" : "q35");
	sb_adds(x, "  <kernel>");
	if (lv_xml_text(x, "kernel path", pl->kernel))
		return -1;
	sb_adds(x, "</kernel>\n");
	if (pl->initrd) {
		sb_adds(x, "  <initrd>");
		if (lv_xml_text(x, "initrd path", pl->initrd))
			return -1;
		sb_adds(x, "</initrd>\n");
	}
	sb_adds(x, "  <cmdline>");
	if (lv_xml_text(x, "kernel command line", cmdline))
		return -1;
	sb_adds(x, "</cmdline>\n </os>\n");
	return 0;
}

/* the domain to create: NAME, the plan's kernel, initrd and disks, the
 * kernel command line CMDLINE; -1 when a value cannot be written */
static int lv_domain_xml(const struct bl_machine_plan *pl, const char *name, const char *cmdline,
			 struct strbuf *x)
{
	bool arm = !strcmp(pl->arch, "aarch64");
	sb_addf(x, "<domain type='qemu'>\n <name>%s</name>\n", name);
	sb_addf(x, " <memory unit='MiB'>%d</memory>\n <vcpu>1</vcpu>\n",
		pl->memory_mb > 0 ? pl->memory_mb : 256);
	if (lv_os_xml(pl, arm, cmdline, x))
		return -1;
	if (arm)
		sb_adds(x, " <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>\n");
	sb_adds(x, " <on_poweroff>destroy</on_poweroff>\n <on_reboot>destroy</on_reboot>\n"
		   " <on_crash>destroy</on_crash>\n <devices>\n");
	sb_addf(x, "  <emulator>/usr/bin/%s</emulator>\n",
		arm ? "qemu-system-aarch64" : "qemu-system-x86_64");
	sb_adds(x, "  <serial type='pty'><target port='0'/></serial>\n"
		   "  <console type='pty'><target type='serial' port='0'/></console>\n");
	sb_adds(x, "  <channel type='unix'><source mode='bind'/>"
		   "<target type='virtio' name='org.bootlab.agent'/></channel>\n");
	for (size_t i = 0; i < pl->ndisks; i++) {
		sb_adds(x, "  <disk type='file' device='disk'><driver name='qemu' type='raw' "
			   "cache='unsafe'/>"
			   "<source file='");
		if (lv_xml_text(x, "disk image path", pl->disks[i]))
			return -1;
		sb_addf(x, "'/><target dev='vd%c' bus='virtio'/></disk>\n", (char)('a' + i));
	}
	sb_adds(x, "  <controller type='usb' model='none'/>\n  <memballoon model='none'/>\n"
		   " </devices>\n</domain>\n");
	return 0;
}

/* Undo what a start made, in the order libvirtd needs (lv_stop, and a start
 * the boot gave up on); frees P. */
static void lv_release(struct lv_priv *p)
{
	/* A domain that ended by itself is being torn down by libvirtd right
	 * now: closing its console or channel stream meanwhile can deadlock
	 * libvirtd 9.0 (its qemu-event thread in virChrdevFree against the
	 * stream's abort on the main thread; libvirtd then answers nobody).
	 * Seen again with the lifecycle event not yet in: so a domain that is
	 * not running any more counts as ending by itself too. Wait until the
	 * transient domain is gone (at most 2 s), and then a little more, for
	 * the teardown's last step frees the consoles after the domain left
	 * the list; only then close the streams. */
	if (p->dom && !p->gone) {
		int state = 0, reason = 0;
		if (virDomainGetState(p->dom, &state, &reason, 0) < 0 ||
		    (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_PAUSED))
			p->gone = 1;
	}
	if (p->gone && p->dom) {
		for (int i = 0; i < 400; i++) {
			int state = 0, reason = 0;
			if (virDomainGetState(p->dom, &state, &reason, 0) < 0)
				break;
			struct timespec ts = {0, 5000000};
			nanosleep(&ts, NULL);
		}
		struct timespec settle = {0, 200000000};
		nanosleep(&settle, NULL);
	}
	bl_lv_bridge_close(&p->con);
	bl_lv_bridge_close(&p->ag);
	if (p->dom) {
		if (!p->gone)
			virDomainDestroy(p->dom);
		virDomainFree(p->dom);
		p->dom = NULL;
	}
	if (p->uploaded) /* the domain is gone: its disk clones can go */
		bl_lv_upload_end(p->conn, &p->up);
	if (p->conn) {
		if (p->lifecycle_cb >= 0)
			virConnectDomainEventDeregisterAny(p->conn, p->lifecycle_cb);
		virConnectClose(p->conn);
		p->conn = NULL;
	}
	free(p);
}

/* ---- the start's calls to the daemon, under a deadline ----
 *
 * A libvirtd that takes the connection and never answers (9.0 deadlocked
 * in virChrdevFree against virFDStreamSetInternalCloseCb, then answered
 * nobody) blocks virConnectOpen, and every call after it, for good:
 * libvirt bounds none of them (keepalive starts only once connected, and a
 * daemon whose event loop still answers its pings keeps a call waiting on
 * a stuck worker), and the boot's own deadline is the session's, which
 * begins only after the start. So the start's calls run on a thread of
 * their own while the boot waits with a deadline: the connection
 * BOOTLAB_LIBVIRT_CONNECT_TIMEOUT (30 s by default), starting the domain
 * twice that (libvirt itself waits up to 30 s for QEMU's monitor). A boot
 * that gives up leaves the thread detached and the owner of all it made:
 * if its call ever returns, the thread undoes it (domain, streams,
 * connection) and frees the job, so nothing of it reaches the boot. */
#define LV_CONNECT_TIMEOUT_MS 30000

/* the thread connects (CONNECTED), then waits for the domain's XML,
 * which the boot writes once it has uploaded the files the XML names
 * (libvirt_pool.c, bounded on its own), and starts the domain (DONE) */
enum lv_stage { LV_CONNECTING, LV_CONNECTED, LV_STARTING, LV_DONE };

struct lv_job {
	struct bl_lv_wait w; /* w.stage: enum lv_stage */
	int rc;
	enum bl_errkind kind;
	char err[2048];	 /* bl_errmsg() is per thread */
	char *uri, *xml; /* xml: NULL until the boot hands it over */
	struct lv_priv *p;
	int console_fd, agent_fd; /* the session's ends of the streams */
};

static void lv_job_free(struct lv_job *j)
{
	if (j->p)
		lv_release(j->p);
	if (j->console_fd >= 0)
		close(j->console_fd);
	if (j->agent_fd >= 0)
		close(j->agent_fd);
	bl_lv_wait_destroy(&j->w);
	free(j->uri);
	free(j->xml);
	free(j);
}

/* what to try when virConnectOpen failed. libvirt keeps at most 1024
 * bytes of what the transport (ssh) wrote on stderr; past that its read
 * fails with EOVERFLOW and ssh's reason is lost (a changed host key's
 * warning is that long): say so rather than leave "Value too large" */
static const char *lv_connect_hint(const char *uri)
{
	if (bl_lv_uri_local(uri))
		return "is libvirtd running? a private one: "
		       "export BOOTLAB_LIBVIRT_URI=$(ci/libvirtd start)";
	virErrorPtr e = virGetLastError();
	if (e && e->code == VIR_ERR_SYSTEM_ERROR && e->int1 == EOVERFLOW && strstr(uri, "+ssh:"))
		return "ssh wrote more than the 1024 bytes libvirt keeps of its "
		       "message, so its reason is lost: run ssh to that host by hand to read it";
	return "does `virsh -c URI version` work from here?";
}

/* connect, create the domain paused, attach console and channel, resume */
static int lv_job_run(struct lv_job *j)
{
	struct lv_priv *p = j->p;
	p->conn = virConnectOpen(j->uri);
	if (!p->conn) {
		bl_err("libvirt: cannot connect to '%s': %s (%s)", j->uri, bl_lv_errmsg(),
		       lv_connect_hint(j->uri));
		bl_err_kind(BL_EK_INFRA);
		return -1;
	}
	/* a crashed or dropped bootlab must not leave the domain behind */
	virConnectSetKeepAlive(p->conn, 5, 3);
	if (bl_lv_wait_reached(&j->w, LV_CONNECTED))
		return bl_err("connected after the deadline");
	pthread_mutex_lock(&j->w.mu);
	while (!j->xml && !j->w.abandoned)
		pthread_cond_wait(&j->w.cv, &j->w.mu);
	bool gone = j->w.abandoned;
	pthread_mutex_unlock(&j->w.mu);
	if (gone)
		return bl_err("the boot gave up before the domain was started");
	p->lifecycle_cb =
	    virConnectDomainEventRegisterAny(p->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					     VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), p, NULL);
	/* start paused, attach console and channel, then run: no output is lost */
	p->dom = virDomainCreateXML(p->conn, j->xml,
				    VIR_DOMAIN_START_AUTODESTROY | VIR_DOMAIN_START_PAUSED);
	if (!p->dom) {
		bl_err("libvirt: cannot start the domain: %s", bl_lv_errmsg());
		bl_err_kind(BL_EK_INFRA);
		return -1;
	}
	/* a boot that gave up meanwhile: never resume its domain */
	if (bl_lv_wait_reached(&j->w, LV_STARTING))
		return bl_err("the domain started after the deadline");
	if (bl_lv_bridge_open(p->conn, p->dom, &p->con, &j->console_fd, true) < 0 ||
	    bl_lv_bridge_open(p->conn, p->dom, &p->ag, &j->agent_fd, false) < 0) {
		bl_err_kind(BL_EK_INFRA);
		return -1;
	}
	if (virDomainResume(p->dom) < 0) {
		bl_err_kind(BL_EK_INFRA);
		return bl_err("libvirt: cannot resume the domain: %s", bl_lv_errmsg());
	}
	return 0;
}

static void *lv_job_thread(void *arg)
{
	struct lv_job *j = arg;
	int rc = lv_job_run(j);
	j->rc = rc; /* read by the boot only once it sees LV_DONE */
	if (rc) {
		snprintf(j->err, sizeof(j->err), "%s", bl_errmsg());
		j->kind = bl_err_last_kind();
	}
	if (bl_lv_wait_reached(&j->w, LV_DONE)) {
		bl_debug("libvirt: the start a boot gave up on at '%s' ended (%s): undoing it",
			 j->uri, rc ? j->err : "started");
		lv_job_free(j);
	}
	return NULL;
}

static struct lv_job *lv_job_new(const char *uri, const char *name)
{
	struct lv_job *j = xcalloc(1, sizeof(*j));
	bl_lv_wait_init(&j->w);
	j->w.stage = LV_CONNECTING;
	j->uri = xstrdup(uri);
	j->console_fd = j->agent_fd = -1;
	j->p = xcalloc(1, sizeof(*j->p));
	j->p->lifecycle_cb = -1;
	/* none opened yet: lv_release() must close no fd 0 and remove no watch 0 */
	j->p->con.fd = j->p->ag.fd = -1;
	j->p->con.watch = j->p->ag.watch = -1;
	snprintf(j->p->name, sizeof(j->p->name), "%s", name);
	return j;
}

/* BOOTLAB_LIBVIRT_CONNECT_TIMEOUT (a duration, seconds by default) into *MS */
static int lv_connect_timeout(int *ms)
{
	const char *e = getenv("BOOTLAB_LIBVIRT_CONNECT_TIMEOUT");
	*ms = LV_CONNECT_TIMEOUT_MS;
	if (!e || !*e)
		return 0;
	if (bl_parse_duration(e, ms))
		return bl_err_prefix("libvirt backend: BOOTLAB_LIBVIRT_CONNECT_TIMEOUT");
	return 0;
}

/* on the connection J's thread made: the plan's files uploaded when the
 * host needs them (libvirt_pool.c), then the domain's XML naming what the
 * host sees into *XML and m->command; -1 with a message */
static int lv_domain_ready(const struct bl_machine_plan *pl, struct bl_machine *m, struct lv_job *j,
			   char **xml)
{
	struct lv_priv *p = j->p;
	struct bl_machine_plan hp = *pl;
	char *upl = NULL;
	if (bl_lv_upload_wanted(j->uri)) {
		if (bl_lv_upload_start(p->conn, j->uri, pl, p->name, &p->up) < 0)
			return -1;
		p->uploaded = true;
		hp.kernel = p->up.kernel;
		hp.initrd = p->up.initrd;
		hp.disks = (const char *const *)p->up.disks;
		m->uploaded_bytes = p->up.bytes;
		const struct bl_lv_sweep *sw = &p->up.sweep;
		char swept[160] = "";
		if (sw->evicted || sw->clones)
			snprintf(swept, sizeof(swept),
				 "; swept the pool: evicted %d (%lld bytes), leftover clones "
				 "deleted: %d",
				 sw->evicted, sw->evicted_bytes, sw->clones);
		upl = xasprintf("; uploaded %lld bytes to pool bootlab (%d files sent, %d reused, "
				"%zu disk clones)%s",
				p->up.bytes, p->up.files_sent, p->up.files_reused, p->up.nclones,
				swept);
		bl_debug("libvirt %s: %s%s", j->uri, p->name, upl);
	}
	struct strbuf x = STRBUF_INIT;
	int rc = lv_domain_xml(&hp, p->name, m->full_cmdline, &x);
	if (rc == 0) {
		m->command = xasprintf("libvirt %s%s: virDomainCreateXML\n%s", j->uri,
				       upl ? upl : "", x.buf);
		*xml = sb_detach(&x, NULL);
	}
	sb_release(&x);
	free(upl);
	return rc;
}

static int lv_start(const struct bl_machine_plan *pl, struct bl_machine *m)
{
	pthread_once(&lv_once, lv_load);
	if (lv_dlerr[0]) {
		bl_err_kind(BL_EK_INFRA);
		return bl_err("libvirt backend: cannot load libvirt: %s (apt-get install libvirt0)",
			      lv_dlerr);
	}
	pthread_once(&loop_once, loop_start);
	if (!loop_ok) {
		bl_err_kind(BL_EK_INFRA);
		return bl_err("libvirt backend: cannot start the event loop");
	}
	int ms;
	if (lv_connect_timeout(&ms))
		return -1;
	bool arm = !strcmp(pl->arch, "aarch64");
	const char *uri = pl->connect ? pl->connect : getenv("BOOTLAB_LIBVIRT_URI");
	if (!uri || !*uri)
		uri = "qemu:///system";

	m->console_name = arm ? "ttyAMA0" : "ttyS0";
	struct bl_cmdline words = BL_CMDLINE_INIT;
	bl_machine_cmdline(pl, m->console_name, &words);
	bl_qemu_machine_words(pl->arch, arm ? "virt" : "q35", &words);
	m->full_cmdline = bl_cmdline_str(&words);
	bl_cmdline_release(&words);
	static volatile int counter;
	char name[96]; /* events come for every domain of the connection */
	snprintf(name, sizeof(name), "bootlab-%d-%d-%lx", (int)getpid(),
		 __sync_add_and_fetch(&counter, 1), (unsigned long)(bl_now_ns() & 0xffffff));

	struct lv_job *j = lv_job_new(uri, name);
	int e = bl_lv_thread(lv_job_thread, j);
	if (e) {
		lv_job_free(j);
		errno = e;
		bl_err_errno("libvirt backend: cannot start a thread");
		bl_err_kind(BL_EK_INFRA);
		return -1;
	}
	pthread_mutex_lock(&j->w.mu);
	bool connected = bl_lv_wait_for(&j->w, LV_CONNECTED, ms);
	bool failed = j->w.stage == LV_DONE;
	pthread_mutex_unlock(&j->w.mu);
	char *xml = NULL;
	int prep = connected && !failed ? lv_domain_ready(pl, m, j, &xml) : 0;
	pthread_mutex_lock(&j->w.mu);
	j->xml = xml;
	pthread_cond_broadcast(&j->w.cv);
	bool done = connected && prep == 0 && bl_lv_wait_for(&j->w, LV_DONE, 2 * (long long)ms);
	j->w.abandoned = !done;
	pthread_mutex_unlock(&j->w.mu);
	if (prep < 0) /* the thread owns the job now, and undoes the upload */
		return -1;
	if (!done) {
		bl_err(
		    "libvirt: the daemon at '%s' did not %s within %g s (%sBOOTLAB_LIBVIRT_CONNECT_"
		    "TIMEOUT): it is hung; restart it (bootlab's private one: ci/libvirtd stop; "
		    "ci/libvirtd start)",
		    uri, connected ? "start the domain" : "answer the connection",
		    (connected ? 2 * ms : ms) / 1000.0, connected ? "twice " : "");
		bl_err_kind(BL_EK_INFRA);
		return -1;
	}
	int rc = 0;
	if (j->rc) {
		rc = bl_err("%s", j->err);
		bl_err_kind(j->kind);
	} else {
		m->priv = j->p;
		m->console_fd = j->console_fd;
		m->agent_fd = j->agent_fd;
		j->p = NULL;
		j->console_fd = j->agent_fd = -1;
	}
	lv_job_free(j);
	return rc;
}

/* The domain is gone, but the console's last lines (a panic's, say) may
 * still be on their way: qemu's pty, libvirtd, ssh, our event thread. The
 * lifecycle event overtakes them on a loaded host. The boot has ended once
 * the console stream ended too, or LV_DRAIN_NS after the domain went. */
#define LV_DRAIN_NS (3 * 1000000000LL)
static bool lv_console_drained(struct lv_priv *p)
{
	if (!p->gone_ns)
		p->gone_ns = bl_now_ns();
	if (bl_lv_bridge_drained(&p->con))
		return true;
	if (bl_now_ns() < p->gone_ns + LV_DRAIN_NS)
		return false;
	bl_debug("libvirt: %s: the console stream did not end within 3 s of the domain", p->name);
	return true;
}

static int lv_poll_exit(struct bl_machine *m)
{
	struct lv_priv *p = m->priv;
	if (!p || !p->dom)
		return 1;
	if (!p->gone) {
		int state = 0, reason = 0;
		if (virDomainGetState(p->dom, &state, &reason, 0) < 0 ||
		    state == VIR_DOMAIN_SHUTOFF)
			p->gone = 1;
		else if (state == VIR_DOMAIN_CRASHED)
			p->crashed = 1, p->gone = 1;
	}
	if (!p->gone || !lv_console_drained(p))
		return 0;
	if (!m->exited) {
		m->exited = true;
		m->status = p->crashed ? W_EXITCODE(1, 0) : 0;
	}
	return 1;
}

static void lv_stop(struct bl_machine *m)
{
	struct lv_priv *p = m->priv;
	if (!p)
		return;
	lv_release(p);
	m->priv = NULL;
	if (!m->exited) {
		m->exited = true;
		m->status = 0;
	}
}

const struct bl_backend bl_backend_libvirt = {
    .name = "libvirt",
    .start = lv_start,
    .stop = lv_stop,
    .poll_exit = lv_poll_exit,
};
