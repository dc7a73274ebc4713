/* The programs of an observed stage 1 as spans of time (docs/observe.md),
 * for the HTML timeline and bootlab compare: each exec starts one, the
 * exit of its process or the next exec of the same pid ends it. */
#include "session/session.h"

#include <stdlib.h>
#include <string.h>

/* the first exit or exec of PID after event I, or NULL */
static const struct bl_obs_event *end_of(const struct bl_observed *o, size_t i)
{
	int pid = o->ev[i].pid;
	for (size_t k = i + 1; k < o->n; k++)
		if ((o->ev[k].kind == BL_OBS_EXIT || o->ev[k].kind == BL_OBS_EXEC) &&
		    o->ev[k].pid == pid)
			return &o->ev[k];
	return NULL;
}

struct bl_obs_span *bl_obs_spans(const struct bl_observed *o, size_t *n)
{
	struct bl_obs_span *v = NULL;
	size_t a = 0;
	*n = 0;
	double last = o->n ? bl_obs_guest_s(o, &o->ev[o->n - 1]) : 0;
	for (size_t i = 0; i < o->n; i++) {
		if (o->ev[i].kind != BL_OBS_EXEC)
			continue;
		BL_GROW(v, *n, a);
		struct bl_obs_span *s = &v[(*n)++];
		s->exec = &o->ev[i];
		s->end = end_of(o, i);
		s->start_s = bl_obs_guest_s(o, s->exec);
		s->end_s = s->end ? bl_obs_guest_s(o, s->end) : last;
	}
	return v;
}

int bl_obs_span_failed(const struct bl_obs_span *s)
{
	if (!s->end)
		return -1;
	if (s->end->kind == BL_OBS_EXEC)
		return 0;
	return s->end->signal || s->end->status != 0;
}

const struct bl_obs_event *bl_obs_switch_root(const struct bl_observed *o)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->ev[i].kind == BL_OBS_SWITCH_ROOT)
			return &o->ev[i];
	return NULL;
}

static struct bl_obs_prog *prog_of(struct bl_obs_prog **v, size_t *n, size_t *a, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].name, name))
			return &(*v)[i];
	BL_GROW(*v, *n, *a);
	struct bl_obs_prog *p = &(*v)[(*n)++];
	*p = (struct bl_obs_prog){.name = name};
	return p;
}

struct bl_obs_prog *bl_obs_programs(const struct bl_observed *o, size_t *n)
{
	size_t ns = 0, a = 0;
	struct bl_obs_span *s = bl_obs_spans(o, &ns);
	struct bl_obs_prog *v = NULL;
	*n = 0;
	for (size_t i = 0; i < ns; i++) {
		char *const *argv = s[i].exec->argv;
		struct bl_obs_prog *p = prog_of(&v, n, &a, argv && argv[0] ? argv[0] : "?");
		p->runs++;
		p->failed += bl_obs_span_failed(&s[i]) == 1;
		p->total_s += s[i].end_s - s[i].start_s;
	}
	free(s);
	return v;
}
