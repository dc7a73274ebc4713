/* KVM or TCG. On some hosts /dev/kvm opens but a guest hangs in early boot
 * (docs/design/performance.md#measured), so KVM is used only after a probe boot worked:
 * the plan's own kernel, no initrd and no root, under KVM with a deadline
 * of BL_KVM_PROBE_MS. Such a kernel panics ("VFS: Unable to mount root
 * fs") at the end of its boot and panic=-1 + -no-reboot end QEMU: a panic
 * line and exit 0 in time mean KVM works. The answer is cached per host
 * (kernel release + CPU model) in <cache>/kvm/, so a hanging KVM costs
 * the probe's timeout once per host. */
#include "machine/machine.h"
#include "util/util.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* "6.1.0-28-amd64 / Intel(R) Xeon(R) ..." */
static char *host_id_text;
static pthread_once_t host_id_once = PTHREAD_ONCE_INIT;

static void host_id_load(void)
{
	struct utsname u;
	uname(&u);
	char *model = bl_cpuinfo("model name");
	if (!model)
		model = bl_cpuinfo("CPU part");
	host_id_text = xasprintf("%s %s / %s", u.release, u.machine, model ? model : "");
	free(model);
}

/* kernel, machine and CPU model: what the KVM and TSC answers are cached
 * under; worked out once per process (/proc/cpuinfo costs 20-70 us) */
static const char *host_id(void)
{
	pthread_once(&host_id_once, host_id_load);
	return host_id_text;
}

static int probe(const struct bl_machine_plan *p, char *why, size_t n)
{
	struct strlist av = STRLIST_INIT;
	char *cmdline = NULL, *out = NULL;
	int st = 0, ok = 0;
	if (bl_qemu_argv(p, "kvm", true, &av, &cmdline) < 0) {
		snprintf(why, n, "probe: %s", bl_errmsg());
		goto out;
	}
	int64_t t0 = bl_now_ns();
	int rc = bl_run(sl_argv(&av), BL_KVM_PROBE_MS, &out, &st);
	double s = bl_ns_to_s(bl_now_ns() - t0);
	if (rc < 0)
		snprintf(why, n, "kvm probe boot did not end within %.1f s",
			 BL_KVM_PROBE_MS / 1000.0);
	else if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		snprintf(why, n, "kvm probe boot: qemu %s", bl_describe_status(st));
	else if (!out || !strstr(out, "Kernel panic"))
		snprintf(why, n,
			 "kvm probe boot ended without reaching the end of the kernel's boot");
	else {
		snprintf(why, n, "kvm probe boot reached the end of the kernel's boot in %.2f s",
			 s);
		ok = 1;
	}
out:
	free(out);
	free(cmdline);
	sl_release(&av);
	return ok;
}

int bl_kvm_usable(const struct bl_machine_plan *p, char *why, size_t n)
{
	struct utsname u;
	uname(&u);
	const char *host = !strcmp(u.machine, "arm64") ? "aarch64" : u.machine;
	if (!p->arch || strcmp(p->arch, host)) {
		snprintf(why, n, "guest arch '%s' is not the host's '%s'", p->arch ? p->arch : "",
			 u.machine);
		return 0;
	}
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, n, "/dev/kvm is not usable");
		return 0;
	}
	close(fd);

	char *cache = bl_cache_dir();
	if (!cache) {
		snprintf(why, n, "no cache folder for the kvm probe's answer");
		return 0;
	}
	const char *id = host_id();
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, id);
	bl_sha256_final_hex(&h, hex);
	hex[16] = 0;
	char *dir = xasprintf("%s/kvm", cache);
	char *file = xasprintf("%s/%s", dir, hex);
	char *lock = xasprintf("%s/%s.lock", dir, hex);
	int ok = 0, lfd = -1;
	bl_mkdir_p(dir, 0755);
	/* one probe per host, even with parallel runs */
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lfd >= 0)
		flock(lfd, LOCK_EX);
	char *data = NULL;
	size_t len;
	if (bl_read_file(file, &data, &len) == 0) {
		ok = !strncmp(data, "kvm=yes", 7);
		char *r = strstr(data, "reason=");
		snprintf(why, n, "cached: %.*s", r ? (int)strcspn(r + 7, "\n") : 0, r ? r + 7 : "");
	} else {
		bl_warn("probing kvm on this host (once, at most %d s): %s", BL_KVM_PROBE_MS / 1000,
			id);
		ok = probe(p, why, n);
		char *text = xasprintf("kvm=%s\nhost=%s\nreason=%s\n", ok ? "yes" : "no", id, why);
		if (bl_write_file_atomic(file, text, strlen(text), 0644) < 0)
			bl_debug("kvm: %s", bl_errmsg());
		free(text);
		if (!ok)
			bl_warn("kvm: %s; using tcg (answer cached in '%s')", why, file);
	}
	free(data);
	if (lfd >= 0)
		close(lfd);
	free(lock);
	free(file);
	free(dir);
	free(cache);
	return ok;
}

/* ---- the host's TSC rate, for x86 guests under TCG ---- */

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>

/* "constant_tsc" among the first CPU's flags: the TSC ticks at one rate */
static int constant_tsc(void)
{
	char *flags = bl_cpuinfo("flags");
	int yes = flags && strstr(flags, " constant_tsc");
	free(flags);
	return yes;
}

/* rdtsc against CLOCK_MONOTONIC_RAW over ~20 ms, in kHz */
static long measure_tsc_khz(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	unsigned long long t0 = __rdtsc(), t1;
	do {
		clock_gettime(CLOCK_MONOTONIC_RAW, &b);
		t1 = __rdtsc();
	} while ((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec) < 20000000LL);
	long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	return (long)((t1 - t0) * 1000000ULL / (unsigned long long)ns);
}
#endif

#if defined(__x86_64__) || defined(__i386__)
static long tsc_khz;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

/* once per process: boots of one run start from several threads */
static void tsc_load(void)
{
	long khz = 0;
	char *cache = bl_cache_dir();
	if (!cache)
		return;
	const char *id = host_id();
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, "tsc");
	bl_sha256_update_str(&h, id);
	bl_sha256_final_hex(&h, hex);
	char *dir = xasprintf("%s/kvm", cache);
	char *file = xasprintf("%s/tsc-%.16s", dir, hex);
	char *data = NULL;
	size_t len;
	if (bl_read_file(file, &data, &len) == 0) {
		khz = strtol(data, NULL, 10);
		if (khz < 0)
			khz = 0;
	} else {
		khz = constant_tsc() ? measure_tsc_khz() : 0;
		char *text = xasprintf("%ld\nhost=%s\n", khz, id);
		if (bl_mkdir_p(dir, 0755) < 0 ||
		    bl_write_file_atomic(file, text, strlen(text), 0644) < 0)
			bl_debug("tsc: %s", bl_errmsg());
		free(text);
	}
	free(data);
	free(file);
	free(dir);
	free(cache);
	tsc_khz = khz;
}
#endif

long bl_host_tsc_khz(void)
{
#if defined(__x86_64__) || defined(__i386__)
	pthread_once(&tsc_once, tsc_load);
	return tsc_khz;
#else
	return 0;
#endif
}
