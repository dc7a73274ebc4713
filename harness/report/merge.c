/* bootlab report merge: the reports of shards or reruns of one choice of
 * variants, read back (read.c), into one run written by the same writers
 * (json.c, junit.c, html.c). A variant's boots from every input are kept
 * once per attempt, in the order the inputs started; console logs are
 * copied beside the merged report under names that do not collide. The
 * folder is made under a temporary name and renamed at the end: on an
 * error nothing is left. docs/ci.md says why. */
#include "report/report.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the inputs come from one choice of variants (the same --filter over the
 * same files, before --shard) */
static int check_selection(struct bl_report_in *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct bl_selection *s = &in[i].info.selection;
		if (!s->n)
			return bl_err(
			    "'%s': field 'selection': missing (written by a bootlab without "
			    "report merge): cannot tell which variants its run chose",
			    in[i].path);
		const struct bl_selection *f = &in[0].info.selection;
		if (strcmp(s->digest, f->digest))
			return bl_err(
			    "'%s' and '%s' are runs of different scenario sets (%zu and %zu "
			    "variants chosen before --shard; selection digests %.12s and "
			    "%.12s): merge the shards or reruns of one choice",
			    in[0].path, in[i].path, f->n, s->n, f->digest, s->digest);
	}
	return 0;
}

/* shards I/N given with one N but some I missing: a warning, the merge
 * goes on (a CI job that failed to upload) */
static void check_shards(const struct bl_report_in *in, size_t n)
{
	unsigned total = 0, i_, n_;
	bool *seen = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!in[i].info.shard || sscanf(in[i].info.shard, "%u/%u", &i_, &n_) != 2)
			return;
		if (!total) {
			total = n_;
			seen = xcalloc(total + 1, sizeof(*seen));
		}
		if (n_ != total || i_ < 1 || i_ > total) {
			free(seen);
			return;
		}
		seen[i_] = true;
	}
	for (unsigned k = 1; k <= total; k++)
		if (!seen[k])
			bl_warn("report merge: no report of shard %u/%u among the inputs", k,
				total);
	free(seen);
}

static int cmp_started(const void *a, const void *b)
{
	const struct bl_report_in *x = *(struct bl_report_in *const *)a;
	const struct bl_report_in *y = *(struct bl_report_in *const *)b;
	if (x->info.start_wall != y->info.start_wall)
		return x->info.start_wall < y->info.start_wall ? -1 : 1;
	return strcmp(x->info.run_id, y->info.run_id);
}

/* one boot's identity across inputs: the run it ran in, its attempt there
 * and its place among that attempt's repetitions */
struct boot_key {
	const char *run_id;
	int attempt;
	size_t rep;
};

struct mvariant {
	const char *name;
	struct bl_result **runs;
	struct boot_key *keys;
	size_t n, a;
};

struct merge {
	struct mvariant *v;
	size_t n, a;
	struct strlist names; /* file names taken in the merged folder */
	const char *tmp;
};

static struct mvariant *variant_of(struct merge *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].name, name))
			return &m->v[i];
	BL_GROW(m->v, m->n, m->a);
	m->v[m->n] = (struct mvariant){.name = name};
	return &m->v[m->n++];
}

static bool key_eq(const struct boot_key *a, const struct boot_key *b)
{
	return a->attempt == b->attempt && a->rep == b->rep && !strcmp(a->run_id, b->run_id);
}

/* V's boots from IN: each (run, attempt, repetition) once */
static void take_variant(struct merge *m, const struct bl_variant_result *v)
{
	struct mvariant *mv = variant_of(m, v->runs[0]->sc->name);
	for (size_t k = 0; k < v->nruns; k++) {
		struct bl_result *r = v->runs[k];
		struct boot_key key = {r->ran_on.run_id, r->ran_on.attempt, 0};
		for (size_t j = 0; j < k; j++)
			key.rep += v->runs[j]->ran_on.attempt == key.attempt &&
				   !strcmp(v->runs[j]->ran_on.run_id, key.run_id);
		bool dup = false;
		for (size_t j = 0; j < mv->n && !dup; j++)
			dup = key_eq(&mv->keys[j], &key);
		if (dup)
			continue;
		if (mv->n == mv->a) {
			mv->a = mv->a ? 2 * mv->a : 4;
			mv->runs = xrealloc(mv->runs, mv->a * sizeof(*mv->runs));
			mv->keys = xrealloc(mv->keys, mv->a * sizeof(*mv->keys));
		}
		mv->runs[mv->n] = r;
		mv->keys[mv->n++] = key;
	}
}

/* the merged attempt numbers: each (run, attempt there) in the order met */
static void number_attempts(struct mvariant *mv)
{
	int next = 1;
	for (size_t k = 0; k < mv->n; k++) {
		int a = 0;
		for (size_t j = 0; j < k && !a; j++)
			if (mv->keys[j].attempt == mv->keys[k].attempt &&
			    !strcmp(mv->keys[j].run_id, mv->keys[k].run_id))
				a = mv->runs[j]->attempt;
		mv->runs[k]->attempt = a ? a : next++;
	}
}

/* NAME, or NAME with ".2", ".3"... before its ".console.log"/".initrd"
 * ending, whichever is not taken yet in the merged folder (new string) */
static char *free_name(struct merge *m, const char *name)
{
	static const char *const ends[] = {".console.log", ".initrd", ".core"};
	size_t stem = strlen(name);
	for (size_t i = 0; i < BL_ARRAY_SIZE(ends); i++) {
		size_t l = strlen(ends[i]);
		if (stem > l && !strcmp(name + stem - l, ends[i])) {
			stem -= l;
			break;
		}
	}
	char *cand = xstrdup(name);
	for (int k = 2;; k++) {
		bool taken = false;
		for (size_t i = 0; i < m->names.n && !taken; i++)
			taken = !strcmp(m->names.v[i], cand);
		if (!taken)
			break;
		free(cand);
		cand = xasprintf("%.*s.%d%s", (int)stem, name, k, name + stem);
	}
	sl_push(&m->names, cand);
	return cand;
}

/* REL of the folder IN->dir, opened without following a symlink anywhere:
 * a regular file, or a folder when DIR */
static int open_in(const struct bl_report_in *in, const char *rel, bool dir, struct stat *st)
{
	int root = open(in->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return bl_err_errno("cannot open '%s'", in->dir);
	char *last = NULL;
	int refused = 0;
	int dfd = bl_open_under(root, rel, 0, &last, &refused);
	close(root);
	if (dfd < 0)
		return bl_err_prefix("'%s': '%s'", in->path, rel);
	int fd = openat(dfd, last,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
	close(dfd);
	free(last);
	if (fd < 0)
		return bl_err_errno("'%s': cannot open '%s' in its folder", in->path, rel);
	if (fstat(fd, st) < 0 || (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))) {
		close(fd);
		return bl_err("'%s': '%s' is not a %s", in->path, rel,
			      dir ? "folder" : "regular file");
	}
	return fd;
}

/* FD's SIZE bytes into the new file DST (holes kept) */
static int copy_to(int fd, off_t size, const char *dst)
{
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int rc =
	    out < 0 ? bl_err_errno("cannot create '%s'", dst) : bl_copy_extents(fd, size, out, 0);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = bl_err_errno("cannot write '%s'", dst);
	return rc;
}

/* *PATH (a file in IN's folder) copied into the merged folder; *PATH then
 * names the copy. A path outside IN's folder (a user's own initrd) stays. */
static int copy_in(struct merge *m, const struct bl_report_in *in, char **path)
{
	const char *rel = *path ? bl_path_in(*path, in->dir) : NULL;
	if (!rel)
		return 0;
	struct stat st;
	int fd = open_in(in, rel, false, &st);
	if (fd < 0)
		return -1;
	const char *base = strrchr(rel, '/');
	char *name = free_name(m, base ? base + 1 : rel);
	char *dst = bl_path_join(m->tmp, name);
	free(name);
	int rc = copy_to(fd, st.st_size, dst);
	close(fd);
	free(*path);
	*path = dst;
	return rc;
}

/* a repro folder holds repro.json, its initrd and disk images: no more */
#define REPRO_FILES_MAX 64

/* the file ENTRY of the folder DFD (named NAME in IN) into DST/ENTRY;
 * anything but a regular file is refused */
static int copy_entry(const struct bl_report_in *in, const char *name, int dfd, const char *entry,
		      const char *dst)
{
	struct stat st;
	int fd = openat(dfd, entry, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return bl_err("'%s': '%s/%s' is not a regular file", in->path, name, entry);
	}
	char *to = bl_path_join(dst, entry);
	int rc = copy_to(fd, st.st_size, to);
	free(to);
	close(fd);
	return rc;
}

/* the files of the folder DFD (named NAME in IN; closed here) into DST */
static int copy_entries(const struct bl_report_in *in, const char *name, int dfd, const char *dst)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return bl_err_errno("'%s': cannot read '%s'", in->path, name);
	}
	int rc = 0, n = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = ++n > REPRO_FILES_MAX ? bl_err("'%s': '%s' holds more than %d files", in->path,
						    name, REPRO_FILES_MAX)
					   : copy_entry(in, name, dirfd(d), de->d_name, dst);
	}
	closedir(d);
	return rc;
}

/* *PATH (a repro folder in IN's folder) copied into the merged folder */
static int copy_dir_in(struct merge *m, const struct bl_report_in *in, char **path)
{
	const char *rel = *path ? bl_path_in(*path, in->dir) : NULL;
	if (!rel)
		return 0;
	struct stat st;
	int dfd = open_in(in, rel, true, &st);
	if (dfd < 0)
		return -1;
	const char *base = strrchr(rel, '/');
	char *name = free_name(m, base ? base + 1 : rel);
	char *dst = bl_path_join(m->tmp, name);
	free(name);
	int rc;
	if (mkdir(dst, 0755) < 0) {
		rc = bl_err_errno("cannot create '%s'", dst);
		close(dfd);
	} else {
		rc = copy_entries(in, rel, dfd, dst);
	}
	free(*path);
	*path = dst;
	return rc;
}

/* which input a result came from */
static const struct bl_report_in *input_of(struct bl_report_in *in, size_t n,
					   const struct bl_result *r)
{
	for (size_t i = 0; i < n; i++)
		if (r >= in[i].results && r < in[i].results + in[i].nresults)
			return &in[i];
	return NULL;
}

static int copy_files(struct merge *m, struct bl_report_in *in, size_t n)
{
	for (size_t i = 0; i < m->n; i++)
		for (size_t k = 0; k < m->v[i].n; k++) {
			struct bl_result *r = m->v[i].runs[k];
			const struct bl_report_in *from = input_of(in, n, r);
			if (copy_in(m, from, &r->console_log) < 0 ||
			    copy_in(m, from, &r->initrd) < 0 ||
			    copy_in(m, from, &r->frozen.dump) < 0 ||
			    copy_dir_in(m, from, &r->repro_dir) < 0)
				return -1;
		}
	return 0;
}

/* the merged run's own fields: its span, the largest -j/--repeat/--retry */
static void merged_info(struct bl_report_in *const *order, size_t n, struct bl_run_info *info)
{
	int64_t end = 0;
	info->start_wall = order[0]->info.start_wall;
	for (size_t i = 0; i < n; i++) {
		const struct bl_run_info *x = &order[i]->info;
		int64_t e = x->start_wall * 1000000000LL + x->duration_ns;
		end = e > end ? e : end;
		info->jobs = x->jobs > info->jobs ? x->jobs : info->jobs;
		info->repeat = x->repeat > info->repeat ? x->repeat : info->repeat;
		info->retry = x->retry > info->retry ? x->retry : info->retry;
		info->interrupted |= x->interrupted;
	}
	info->duration_ns = end - info->start_wall * 1000000000LL;
	info->selection = order[0]->info.selection;
}

static void merge_release(struct merge *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].runs);
		free(m->v[i].keys);
	}
	free(m->v);
	sl_release(&m->names);
}

/* the merged variants into RUN (its arrays owned by RUN: bl_merge_release) */
static void merged_variants(struct merge *m, struct bl_merged *out)
{
	struct bl_run *run = &out->run;
	size_t total = 0;
	for (size_t i = 0; i < m->n; i++)
		total += m->v[i].n;
	out->runs = xcalloc(total + 1, sizeof(*out->runs));
	out->variants = xcalloc(m->n + 1, sizeof(*out->variants));
	for (size_t i = 0, at = 0; i < m->n; i++) {
		memcpy(out->runs + at, m->v[i].runs, m->v[i].n * sizeof(*out->runs));
		struct bl_variant_result *v = &out->variants[i];
		*v = (struct bl_variant_result){out->runs + at, m->v[i].n};
		at += m->v[i].n;
		bool pass = true;
		for (size_t k = 0; k < v->nruns; k++)
			pass &= v->runs[k]->outcome == BL_OUT_PASS;
		run->npass += pass;
		run->nflaky += bl_variant_flaky(v);
	}
	run->variants = out->variants;
	run->nvariants = m->n;
	run->nboots = run->njobs = total;
}

static void sources_of(struct bl_report_in *const *order, size_t n, struct bl_merged *out)
{
	struct bl_run_source *src = xcalloc(n + 1, sizeof(*src));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false; /* one run given twice (a folder and its latest) */
		for (size_t j = 0; j < k && !seen; j++)
			seen = !strcmp(src[j].run_id, order[i]->info.run_id);
		if (!seen)
			src[k++] = (struct bl_run_source){
			    order[i]->info.run_id, order[i]->info.start_wall, order[i]->info.shard,
			    order[i]->info.host, order[i]->path};
	}
	out->sources = src;
	out->run.info.sources = src;
	out->run.info.nsources = k;
}

/* the merged folder under a temporary name beside OUT */
static char *tmp_beside(const char *out)
{
	char *tmpl = xasprintf("%s.tmp-XXXXXX", out);
	if (!mkdtemp(tmpl)) {
		bl_err_errno("cannot make a folder beside '%s'", out);
		free(tmpl);
		return NULL;
	}
	chmod(tmpl, 0755);
	return tmpl;
}

static int merge_into(struct merge *m, struct bl_report_in *in, size_t n,
		      struct bl_report_in **order, struct bl_merged *out)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < order[i]->nvariants; k++)
			take_variant(m, &order[i]->variants[k]);
	for (size_t i = 0; i < m->n; i++)
		number_attempts(&m->v[i]);
	if (copy_files(m, in, n) < 0)
		return -1;
	merged_variants(m, out);
	sources_of(order, n, out);
	merged_info(order, n, &out->run.info);
	return bl_report_write_all(&out->run.info, out->variants, out->run.nvariants);
}

int bl_report_merge(struct bl_report_in *in, size_t n, const char *dest, const char *command,
		    struct bl_merged *out)
{
	*out = (struct bl_merged){0};
	if (!n)
		return bl_err("no report to merge");
	if (check_selection(in, n) < 0)
		return -1;
	check_shards(in, n);
	if (access(dest, F_OK) == 0 || errno != ENOENT)
		return bl_err("'%s' exists: merge into a new folder", dest);
	struct bl_report_in **order = xcalloc(n, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = &in[i];
	qsort(order, n, sizeof(*order), cmp_started);
	out->tmp = tmp_beside(dest);
	out->run_id = bl_run_id_new();
	out->command = xstrdup(command);
	out->dest = xstrdup(dest);
	struct merge m = {.tmp = out->tmp};
	out->run.info =
	    (struct bl_run_info){.run_id = out->run_id, .dir = out->tmp, .command = out->command};
	int rc = out->tmp ? merge_into(&m, in, n, order, out) : -1;
	if (rc == 0 && rename(out->tmp, dest) < 0)
		rc = bl_err_errno("cannot rename '%s' to '%s'", out->tmp, dest);
	if (rc < 0 && out->tmp)
		bl_rm_rf(out->tmp);
	/* the summary names the merged folder */
	out->run.info.dir = out->dest;
	merge_release(&m);
	free(order);
	return rc;
}

void bl_merge_release(struct bl_merged *m)
{
	free(m->runs);
	free(m->variants);
	free((void *)m->sources);
	free(m->run_id);
	free(m->command);
	free(m->tmp);
	free(m->dest);
	*m = (struct bl_merged){0};
}
