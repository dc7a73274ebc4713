/* harness/machine: what libvirt.c, libvirt_bridge.c and libvirt_pool.c share. libvirt is
 * reached only through the bl_lv table that libvirt.c fills with dlopen
 * (lv_load) before any call; the names below make calls read as libvirt's
 * own. */
#ifndef BL_LIBVIRT_INT_H
#define BL_LIBVIRT_INT_H

#include "machine/machine.h"

#include <dlfcn.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdbool.h>

/* libvirt and what it pulls in (glib, gnutls, ICU, Kerberos: 50 more
 * libraries) cost every bootlab command about 0.1 s of dynamic loading,
 * more than a UML boot. So it is opened with dlopen the first time this
 * backend starts, and only then. */
#define LV_FUNCS                                                                                   \
	X(virConnectClose)                                                                         \
	X(virConnectDomainEventDeregisterAny)                                                      \
	X(virConnectDomainEventRegisterAny)                                                        \
	X(virConnectOpen)                                                                          \
	X(virConnectRef)                                                                           \
	X(virConnectSetKeepAlive)                                                                  \
	X(virDomainCreateXML)                                                                      \
	X(virDomainDestroy)                                                                        \
	X(virDomainFree)                                                                           \
	X(virDomainGetName)                                                                        \
	X(virDomainGetState)                                                                       \
	X(virDomainLookupByName)                                                                   \
	X(virDomainOpenChannel)                                                                    \
	X(virDomainOpenConsole)                                                                    \
	X(virDomainResume)                                                                         \
	X(virEventAddHandle)                                                                       \
	X(virEventUpdateHandle)                                                                    \
	X(virEventRegisterDefaultImpl)                                                             \
	X(virEventRemoveHandle)                                                                    \
	X(virEventRunDefaultImpl)                                                                  \
	X(virGetLastError)                                                                         \
	X(virGetLastErrorMessage)                                                                  \
	X(virSetErrorFunc)                                                                         \
	X(virStoragePoolCreate)                                                                    \
	X(virStoragePoolDefineXML)                                                                 \
	X(virStoragePoolFree)                                                                      \
	X(virStoragePoolIsActive)                                                                  \
	X(virStoragePoolListAllVolumes)                                                            \
	X(virStoragePoolLookupByName)                                                              \
	X(virStoragePoolSetAutostart)                                                              \
	X(virStorageVolCreateXML)                                                                  \
	X(virStorageVolCreateXMLFrom)                                                              \
	X(virStorageVolDelete)                                                                     \
	X(virStorageVolFree)                                                                       \
	X(virStorageVolGetInfo)                                                                    \
	X(virStorageVolGetName)                                                                    \
	X(virStorageVolGetPath)                                                                    \
	X(virStorageVolGetXMLDesc)                                                                 \
	X(virStorageVolLookupByName)                                                               \
	X(virStorageVolResize)                                                                     \
	X(virStorageVolUpload)                                                                     \
	X(virStreamAbort)                                                                          \
	X(virStreamEventAddCallback)                                                               \
	X(virStreamEventRemoveCallback)                                                            \
	X(virStreamEventUpdateCallback)                                                            \
	X(virStreamFinish)                                                                         \
	X(virStreamFree)                                                                           \
	X(virStreamNew)                                                                            \
	X(virStreamRecv)                                                                           \
	X(virStreamSend)
struct bl_lv_funcs {
#define X(f) __typeof__(&f) f;
	LV_FUNCS
#undef X
};
extern struct bl_lv_funcs bl_lv;

/* libvirt.c's lv_load: bl_lv from the library H; NULL, else the name of
 * a symbol H lacks (before the names below, which would expand) */
static inline const char *bl_lv_fill(void *h)
{
#define X(f)                                                                                       \
	if (!(*(void **)&bl_lv.f = dlsym(h, #f)))                                                  \
		return #f;
	LV_FUNCS
#undef X
	return NULL;
}

#define virConnectClose (bl_lv.virConnectClose)
#define virConnectDomainEventDeregisterAny (bl_lv.virConnectDomainEventDeregisterAny)
#define virConnectDomainEventRegisterAny (bl_lv.virConnectDomainEventRegisterAny)
#define virConnectOpen (bl_lv.virConnectOpen)
#define virConnectRef (bl_lv.virConnectRef)
#define virConnectSetKeepAlive (bl_lv.virConnectSetKeepAlive)
#define virDomainCreateXML (bl_lv.virDomainCreateXML)
#define virDomainDestroy (bl_lv.virDomainDestroy)
#define virDomainFree (bl_lv.virDomainFree)
#define virDomainGetName (bl_lv.virDomainGetName)
#define virDomainGetState (bl_lv.virDomainGetState)
#define virDomainLookupByName (bl_lv.virDomainLookupByName)
#define virDomainOpenChannel (bl_lv.virDomainOpenChannel)
#define virDomainOpenConsole (bl_lv.virDomainOpenConsole)
#define virDomainResume (bl_lv.virDomainResume)
#define virEventAddHandle (bl_lv.virEventAddHandle)
#define virEventUpdateHandle (bl_lv.virEventUpdateHandle)
#define virEventRegisterDefaultImpl (bl_lv.virEventRegisterDefaultImpl)
#define virEventRemoveHandle (bl_lv.virEventRemoveHandle)
#define virEventRunDefaultImpl (bl_lv.virEventRunDefaultImpl)
#define virGetLastError (bl_lv.virGetLastError)
#define virGetLastErrorMessage (bl_lv.virGetLastErrorMessage)
#define virSetErrorFunc (bl_lv.virSetErrorFunc)
#define virStoragePoolCreate (bl_lv.virStoragePoolCreate)
#define virStoragePoolDefineXML (bl_lv.virStoragePoolDefineXML)
#define virStoragePoolFree (bl_lv.virStoragePoolFree)
#define virStoragePoolIsActive (bl_lv.virStoragePoolIsActive)
#define virStoragePoolListAllVolumes (bl_lv.virStoragePoolListAllVolumes)
#define virStoragePoolLookupByName (bl_lv.virStoragePoolLookupByName)
#define virStoragePoolSetAutostart (bl_lv.virStoragePoolSetAutostart)
#define virStorageVolCreateXML (bl_lv.virStorageVolCreateXML)
#define virStorageVolCreateXMLFrom (bl_lv.virStorageVolCreateXMLFrom)
#define virStorageVolDelete (bl_lv.virStorageVolDelete)
#define virStorageVolFree (bl_lv.virStorageVolFree)
#define virStorageVolGetInfo (bl_lv.virStorageVolGetInfo)
#define virStorageVolGetName (bl_lv.virStorageVolGetName)
#define virStorageVolGetPath (bl_lv.virStorageVolGetPath)
#define virStorageVolGetXMLDesc (bl_lv.virStorageVolGetXMLDesc)
#define virStorageVolLookupByName (bl_lv.virStorageVolLookupByName)
#define virStorageVolResize (bl_lv.virStorageVolResize)
#define virStorageVolUpload (bl_lv.virStorageVolUpload)
#define virStreamAbort (bl_lv.virStreamAbort)
#define virStreamEventAddCallback (bl_lv.virStreamEventAddCallback)
#define virStreamEventRemoveCallback (bl_lv.virStreamEventRemoveCallback)
#define virStreamEventUpdateCallback (bl_lv.virStreamEventUpdateCallback)
#define virStreamFinish (bl_lv.virStreamFinish)
#define virStreamFree (bl_lv.virStreamFree)
#define virStreamNew (bl_lv.virStreamNew)
#define virStreamRecv (bl_lv.virStreamRecv)
#define virStreamSend (bl_lv.virStreamSend)

/* ---- libvirt_job.c: work on a thread of its own, waited for with a
 * deadline. libvirt bounds none of its calls, so the start (libvirt.c)
 * and the uploads (libvirt_pool.c) run theirs on a detached thread; the
 * boot waits for the thread to reach a stage, at most a deadline, and on
 * missing it marks the work abandoned: the thread then undoes what it
 * made and frees the work itself when its call returns. ---- */
struct bl_lv_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	int stage;	   /* how far the thread has got (the caller's enum) */
	bool abandoned;	   /* the boot gave up: the thread frees the work */
};

void bl_lv_wait_init(struct bl_lv_wait *w);
void bl_lv_wait_destroy(struct bl_lv_wait *w);
/* with w->mu held: wait until the thread has reached STAGE, at most MS
 * milliseconds; false when it has not */
bool bl_lv_wait_for(struct bl_lv_wait *w, int stage, long long ms);
/* the thread has reached STAGE (the waiter is woken); true when the boot
 * has given up on it, so the thread owns and frees the work */
bool bl_lv_wait_reached(struct bl_lv_wait *w, int stage);

/* a detached thread running FN(ARG) with every signal blocked (the run
 * command handles them); 0, else an errno value */
int bl_lv_thread(void *(*fn)(void *), void *arg);

/* libvirt.c: libvirt loaded (once); NULL, else why it could not be */
const char *bl_lv_load(void);
/* libvirt's last error message in this thread, or "unknown libvirt error" */
const char *bl_lv_errmsg(void);

/* ---- libvirt_bridge.c: a console or channel stream bridged to a
 * socketpair the session polls; nothing the guest sends is dropped ---- */
struct bl_lv_bridge {
	virStreamPtr st;
	int fd;		  /* our end of the socketpair (non-blocking) */
	int watch;	  /* virEventAddHandle id for fd, -1 when none */
	bool ending;	  /* the stream ended (event thread only) */
	bool dead;	  /* ... and all it carried is in fd (atomic) */
	size_t off, len;  /* pend[off, len): from the stream, not yet in fd */
	char pend[16384]; /* one chunk of the stream */
};

/* the console (CONSOLE) or the agent channel of DOM into B, which must be
 * zeroed; *SESSION_FD is the session's end. 0, else -1 with a message */
int bl_lv_bridge_open(virConnectPtr conn, virDomainPtr dom, struct bl_lv_bridge *b, int *session_fd,
		      bool console);
/* the guest's side of B has ended and all it sent is in the socketpair */
bool bl_lv_bridge_drained(struct bl_lv_bridge *b);
/* stop bridging, free the stream, close our end; safe on a bridge that
 * never opened (fd -1) */
void bl_lv_bridge_close(struct bl_lv_bridge *b);

/* ---- libvirt_pool.c: a boot's files uploaded into a storage pool on the
 * connected host (docs/libvirt.md, "Uploading files to the host") ---- */

/* a URI of this machine's own daemon: no host name, and no transport but
 * unix (an alias without "://" counts as local) */
bool bl_lv_uri_local(const char *uri);

/* upload or not for URI: $BOOTLAB_LIBVIRT_UPLOAD (1/yes/always: always,
 * 0/no/never: never), else only for a URI that is not local (a host name,
 * or a transport other than unix) */
bool bl_lv_upload_wanted(const char *uri);

struct bl_lv_upload {
	/* what the domain XML names: the volumes' paths on the host (owned) */
	char *kernel, *initrd;
	char **disks; /* per-boot clones, pl->ndisks of them */
	size_t ndisks;
	char **clones; /* the clones' volume names, deleted by bl_lv_upload_end */
	size_t nclones;
	char *pool_dir;	 /* the pool's folder on the host */
	long long bytes; /* uploaded for this boot */
	int files_sent, files_reused;
	struct bl_lv_sweep {
		int evicted, clones; /* volumes evicted, leftover clones deleted */
		long long evicted_bytes;
	} sweep; /* by this boot's upload, the first of its process */
};

/* the plan's kernel, initrd and disks into the pool "bootlab" on CONN's
 * host (made when missing), content-addressed; disks cloned per boot as
 * BOOT_NAME.vdX. Bounded: an answer within 60 s + 1 s per MiB of the
 * files ($BOOTLAB_LIBVIRT_UPLOAD_TIMEOUT, a duration, instead), else -1
 * with a message (BL_EK_INFRA). */
int bl_lv_upload_start(virConnectPtr conn, const char *uri, const struct bl_machine_plan *pl,
		       const char *boot_name, struct bl_lv_upload *u);
/* delete U's per-boot clones (bounded: 30 s) and release U */
void bl_lv_upload_end(virConnectPtr conn, struct bl_lv_upload *u);

/* ---- libvirt_evict.c ---- */

/* POOL kept in bounds: leftover clones of killed boots deleted, content
 * volumes evicted by age ($BOOTLAB_LIBVIRT_POOL_MAX_AGE) and by total
 * size ($BOOTLAB_LIBVIRT_POOL_MAX), never the KEEP names; what was done
 * into *OUT. -1 with a message for a bad setting or an unlistable pool. */
int bl_lv_pool_sweep(virConnectPtr conn, virStoragePoolPtr pool, const char *const *keep,
		     size_t nkeep, struct bl_lv_sweep *out);
/* a boot reuses the volume whose marker is MARK: its last use is now
 * (the marker's mtime, moved forward when hours old) */
void bl_lv_mark_used(virStoragePoolPtr pool, const char *mark);

#endif
