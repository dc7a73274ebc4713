/* Reporter registry. */
#include "report/report.h"
#include "util/util.h"

#include <stdlib.h>
#include <unistd.h>

static const struct bl_reporter *const reporters[] = {
    &bl_reporter_json,
    &bl_reporter_junit,
    &bl_reporter_html,
};

int bl_report_write_all(const struct bl_run_info *run, const struct bl_variant_result *v, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < BL_ARRAY_SIZE(reporters); i++) {
		char *path = bl_path_join(run->dir, reporters[i]->file);
		if (reporters[i]->write(run, v, n, path) < 0 && rc == 0) {
			bl_err_prefix("%s report", reporters[i]->name);
			rc = -1;
		}
		free(path);
	}
	return rc;
}

int bl_report_write_run(const struct bl_run *run)
{
	int rc = bl_report_write_all(&run->info, run->variants, run->nvariants);
	/* REPORT_ROOT/latest -> the newest run */
	char *latest = xasprintf("%s/latest", run->report_root);
	unlink(latest);
	if (symlink(run->run_id, latest) < 0)
		bl_debug("cannot point '%s' at '%s'", latest, run->run_id);
	free(latest);
	return rc;
}
