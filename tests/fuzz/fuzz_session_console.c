/* libFuzzer: the host session's parsers of what a guest sends, fed hostile
 * bytes through their entry points (harness/session/): the input is split
 * into lines; a line starting with '{' is an agent channel line (parsed as
 * loop.c's handle_agent_line() does, then looked up with bl_json_path()
 * like an agent: step's field, and as an observer's "observe" message by
 * bl_obs_add), any other a console line (bl_printk_split,
 * bl_classify_console with one context per input, bl_describe_panic, and
 * the part from bl_printk_embedded the same way) and a line of the kernel
 * report parser (harness/console: bl_kparser_feed, then its reports),
 * and the emergency-shell and failed-unit tells (console/userland.c).
 * Kept small so it survives a rewrite of classify.c. */
#include "console/console.h"
#include "session/session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void channel(struct bl_observed *obs, const char *line)
{
	static const char *const paths[] = {"type", "id", "fds.0.rdev", "entries.1.name", "x..y"};
	json_error_t jerr;
	json_t *msg = json_loads(line, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	for (size_t i = 0; msg && i < sizeof(paths) / sizeof(paths[0]); i++)
		bl_json_path(msg, paths[i]);
	if (msg && bl_obs_add(obs, msg, 0) == 0 && obs->n > BL_OBS_EVENTS_MAX)
		abort();
	json_decref(msg);
}

static void console(struct bl_console_ctx *ctx, const char *line)
{
	double guest_s;
	struct bl_classified c;
	char buf[512];
	const char *text = bl_printk_split(line, &guest_s);
	bl_classify_console(ctx, text, &c);
	if (strnlen(c.detail, sizeof(c.detail)) == sizeof(c.detail))
		abort(); /* detail must stay a string */
	bl_describe_panic(&c, buf, sizeof(buf));
	/* the lines of the guest's programs a timeout's reason quotes: a
	 * failed unit's words are never longer than the line they came from */
	bl_console_shell_banner(text);
	char *unit = bl_console_unit_failure(text);
	if (unit && strlen(unit) >= strlen(text))
		abort();
	free(unit);
}

/* every report has a title, a 16-digit signature and a body */
static void reports(struct bl_kparser *kp)
{
	bl_kparser_finish(kp);
	size_t n;
	const struct bl_kreport *r = bl_kparser_reports(kp, &n);
	for (size_t i = 0; i < n; i++)
		if (!r[i].title || !r[i].body || !r[i].signature || strlen(r[i].signature) != 16)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bl_console_ctx ctx = {0};
	struct bl_kparser *kp = bl_kparser_new();
	struct bl_observed obs = {.on = true};
	char *text = xstrndup((const char *)data, size), *save = NULL;
	for (char *l = strtok_r(text, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save)) {
		if (l[0] == '{') {
			channel(&obs, l);
			continue;
		}
		console(&ctx, l);
		bl_kparser_feed(kp, l);
		const char *cut = bl_printk_embedded(l);
		if (cut && (cut <= l || cut >= l + strlen(l)))
			abort(); /* inside the line, after its first byte */
		if (cut)
			console(&ctx, cut);
	}
	free(bl_obs_spans(&obs, &(size_t){0}));
	bl_obs_release(&obs);
	reports(kp);
	bl_kparser_free(kp);
	free(text);
	return 0;
}
