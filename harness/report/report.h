/* harness/report: results -> files under reports/<run-id>/.
 *
 * One file per format (json.c, junit.c, html.c), registered in report.c.
 * Each reporter writes atomically (temporary file, then rename). The JSON
 * report is the reference: its schema is docs/report-schema.md and
 * docs/report.schema.json. */
#ifndef BL_REPORT_H
#define BL_REPORT_H

#include "session/session.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct bl_run_info {
	const char *run_id;
	const char *dir;         /* reports/<run-id> */
	int64_t start_wall;      /* unix seconds */
	int64_t duration_ns;
	const char *command;     /* how bootlab was invoked */
	int jobs;
	int repeat;
};

struct bl_reporter {
	const char *name;  /* "json" */
	const char *file;  /* "report.json" */
	int (*write)(const struct bl_run_info *run, struct bl_result *const *results, size_t n,
		     const char *path);
};

/* the report as a JSON document (new reference) */
json_t *bl_report_to_json(const struct bl_run_info *run, struct bl_result *const *results,
			  size_t n);
/* one scenario's result as JSON (new reference) */
json_t *bl_result_to_json(const struct bl_result *r, const char *report_dir);
/* write every registered format into run->dir; 0 or -1 (first error) */
int bl_report_write_all(const struct bl_run_info *run, struct bl_result *const *results, size_t n);

extern const struct bl_reporter bl_reporter_json;
extern const struct bl_reporter bl_reporter_junit;
#endif
