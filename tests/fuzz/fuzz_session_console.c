/* libFuzzer: the host session's parsers of what a guest sends, fed hostile
 * bytes through their entry points (harness/session/): the input is split
 * into lines; a line starting with '{' is an agent channel line (parsed as
 * loop.c's handle_agent_line() does, then looked up with bl_json_path()
 * like an agent: step's field), any other a console line (bl_printk_split,
 * bl_classify_console with one context per input, bl_describe_panic).
 * Kept small so it survives a rewrite of classify.c. */
#include "session/session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void channel(const char *line)
{
	static const char *const paths[] = {"type", "id", "fds.0.rdev", "entries.1.name", "x..y"};
	json_error_t jerr;
	json_t *msg = json_loads(line, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	for (size_t i = 0; msg && i < sizeof(paths) / sizeof(paths[0]); i++)
		bl_json_path(msg, paths[i]);
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bl_console_ctx ctx = {0};
	char *text = xstrndup((const char *)data, size), *save = NULL;
	for (char *l = strtok_r(text, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save)) {
		if (l[0] == '{')
			channel(l);
		else
			console(&ctx, l);
	}
	free(text);
	return 0;
}
