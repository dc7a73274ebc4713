/* Assertions on agent replies and hellos: dotted paths into JSON and the
 * comparisons a scenario's `expect:` can ask for. */
#include "session/session.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

json_t *bl_json_path(json_t *root, const char *path)
{
	json_t *cur = root;
	char *copy = xstrdup(path), *save = NULL;
	for (char *tok = strtok_r(copy, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(cur)) {
			char *end;
			long i = strtol(tok, &end, 10);
			cur = (*end || i < 0) ? NULL : json_array_get(cur, (size_t)i);
		} else if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else {
			cur = NULL;
		}
	}
	free(copy);
	return cur;
}

static char *scalar_text(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%g", json_real_value(v));
	if (json_is_true(v))
		return xstrdup("true");
	if (json_is_false(v))
		return xstrdup("false");
	if (json_is_null(v))
		return xstrdup("null");
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* V as a message shows it: a string quoted and escaped on one line
 * ("answer=42\n"), anything else as JSON */
static char *shown(json_t *v)
{
	return json_is_string(v) ? bl_quote(json_string_value(v)) : scalar_text(v);
}

static int loose_equal(json_t *got, json_t *want)
{
	if (json_is_number(got) && json_is_number(want))
		return json_number_value(got) == json_number_value(want);
	return json_equal(got, want);
}

/* `contains` with a mapping: an element matches when every key given has
 * an equal value in it (other keys of the element do not matter) */
static int subset_match(json_t *el, json_t *want)
{
	if (!json_is_object(want) || !json_is_object(el))
		return loose_equal(el, want);
	const char *k;
	json_t *v;
	json_object_foreach(want, k, v)
	{
		json_t *g = json_object_get(el, k);
		if (!g || !subset_match(g, v))
			return 0;
	}
	return 1;
}

/* 0 when the assertion holds; else -1 with bl_errmsg() saying why */
int bl_assert_check(const struct bl_assert *a, json_t *doc)
{
	json_t *got = bl_json_path(doc, a->field);
	char *gs = NULL, *ws = NULL;
	int r = 0;
	switch (a->op) {
	case BL_AS_EXISTS:
		if (!got)
			r = bl_err("'%s' is absent", a->field);
		break;
	case BL_AS_ABSENT:
		if (got) {
			gs = shown(got);
			r = bl_err("'%s' is present (%s)", a->field, gs);
		}
		break;
	case BL_AS_EQUALS:
		if (!got) {
			ws = shown(a->value);
			r = bl_err("'%s' is absent, expected %s", a->field, ws);
		} else if (!loose_equal(got, a->value)) {
			gs = shown(got);
			ws = shown(a->value);
			r = bl_err("'%s' is %s, expected %s", a->field, gs, ws);
		}
		break;
	case BL_AS_MATCHES:
		if (!got) {
			r = bl_err("'%s' is absent, expected a match for /%s/", a->field, a->regex);
		} else {
			gs = scalar_text(got);
			if (regexec(&a->re, gs, 0, NULL, 0) != 0) {
				free(gs);
				gs = shown(got);
				r = bl_err("'%s' is %s, which does not match /%s/", a->field, gs,
					   a->regex);
			}
		}
		break;
	case BL_AS_CONTAINS:
		if (!got) {
			r = bl_err("'%s' is absent", a->field);
		} else if (json_is_array(got)) {
			size_t i;
			json_t *el;
			int found = 0;
			json_array_foreach(got, i, el) if (subset_match(el, a->value)) found = 1;
			if (!found) {
				ws = shown(a->value);
				r = bl_err("'%s' does not contain %s", a->field, ws);
			}
		} else {
			gs = scalar_text(got);
			ws = scalar_text(a->value);
			if (!strstr(gs, ws)) {
				free(gs);
				free(ws);
				gs = shown(got);
				ws = shown(a->value);
				r = bl_err("'%s' is %s, which does not contain %s", a->field, gs,
					   ws);
			}
		}
		break;
	}
	free(gs);
	free(ws);
	return r;
}
