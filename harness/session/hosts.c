/* The run engine's libvirt hosts (--connect URI#N, several): a host that
 * stops taking connections mid-run is lost, and the boots it did not
 * finish move to the hosts that are left (docs/libvirt.md, "Several
 * hosts"). A boot on a lost host tells nothing about the variant, so its
 * result is dropped and the variant boots again elsewhere: the run's
 * results are those of a run without the loss, each moved boot naming
 * the host it left and why (report.json: emulator.moved_from). */
#include "machine/machine.h"
#include "session/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* how long a host may take to answer before it counts as lost */
#define HOST_PROBE_MS 10000

static size_t host_index(const struct pool *p, const char *uri)
{
	for (size_t i = 0; i < p->nhosts; i++)
		if (!strcmp(p->hosts[i].uri, uri))
			return i;
	return p->nhosts;
}

bool bl_pool_host_lost(const struct pool *p, const char *uri)
{
	size_t h = uri ? host_index(p, uri) : p->nhosts;
	return h < p->nhosts && p->lost[h];
}

static bool other_host_left(const struct pool *p, const char *uri)
{
	for (size_t i = 0; i < p->nhosts; i++)
		if (!p->lost[i] && strcmp(p->hosts[i].uri, uri))
			return true;
	return false;
}

/* J's boot on the lost host, dropped: what it wrote in the report folder
 * (a repro folder, a kept initrd) goes with it; its console log is the
 * next boot's name and is written over */
static void drop_boot(struct pool *p, struct bl_run_job *j)
{
	if (j->r.repro_dir)
		bl_rm_rf(j->r.repro_dir);
	if (j->r.initrd && bl_path_in(j->r.initrd, p->report_dir))
		unlink(j->r.initrd);
	bl_result_release(&j->r);
	memset(&j->r, 0, sizeof(j->r));
	free(j->workdir);
	j->workdir = NULL;
	j->infra = j->bad_input = false;
}

bool bl_pool_move_if_lost(struct pool *p, struct bl_run_job *j, const char *uri)
{
	if (!p->nhosts || !j->r.sc || j->r.outcome == BL_OUT_PASS || j->bad_input)
		return false;
	/* the last host left is never lost, so it is not asked either */
	pthread_mutex_lock(&p->lock);
	bool others = other_host_left(p, uri);
	pthread_mutex_unlock(&p->lock);
	if (!others || bl_libvirt_host_answers(uri, HOST_PROBE_MS) == 0)
		return false;
	char *why = xstrdup(bl_errmsg());
	pthread_mutex_lock(&p->lock);
	size_t h = host_index(p, uri);
	/* the last host left keeps its slots: every variant still gets a
	 * boot, and with it a result that says why it failed */
	bool moved = h < p->nhosts && other_host_left(p, uri);
	bool first = moved && !p->lost[h];
	if (moved) {
		p->lost[h] = true;
		drop_boot(p, j);
		free(j->moved_from);
		free(j->moved_why);
		j->moved_from = xstrdup(uri);
		j->moved_why = xstrdup(why);
		j->state = JOB_PENDING;
		p->again[p->nagain++] = j;
	}
	pthread_mutex_unlock(&p->lock);
	if (first)
		fprintf(stderr,
			"bootlab: host '%s' is lost (%s): its unfinished variants move to the "
			"other hosts\n",
			uri, why);
	free(why);
	return moved;
}
