/* Assertions on agent replies: dotted paths and every comparison. */
#include "session/session.h"
#include "t.h"
#include "util/util.h"

#include <stdlib.h>

struct acase {
	const char *field;
	enum bl_assert_op op;
	const char *value; /* JSON text (EQUALS, CONTAINS) or regex (MATCHES) */
	int holds;
};

static const char doc_text[] =
    "{\"pid\":1,\"size\":6,\"mode\":\"0644\",\"cmdline\":\"console=ttyS0 bootlab.smoke=1\","
    "\"fds\":[{\"fd\":0,\"open\":true,\"rdev\":\"5:1\"},{\"fd\":1,\"open\":false}],"
    "\"env\":[\"HOME=/\",\"TERM=linux\"],"
    "\"mounts\":[{\"source\":\"dev\",\"target\":\"/"
    "dev\",\"fstype\":\"devtmpfs\",\"options\":\"rw\"}],"
    "\"data\":\"a\\u0000b\"}";

static const struct acase cases[] = {
    {"pid", BL_AS_EQUALS, "1", 1},
    {"pid", BL_AS_EQUALS, "1.0", 1},
    {"pid", BL_AS_EQUALS, "2", 0},
    {"mode", BL_AS_EQUALS, "\"0644\"", 1},
    {"fds.0.rdev", BL_AS_EQUALS, "\"5:1\"", 1},
    {"fds.1.open", BL_AS_EQUALS, "false", 1},
    {"fds.2", BL_AS_EXISTS, NULL, 0},
    {"fds.1", BL_AS_EXISTS, NULL, 1},
    {"nope", BL_AS_ABSENT, NULL, 1},
    {"pid", BL_AS_ABSENT, NULL, 0},
    {"cmdline", BL_AS_MATCHES, "bootlab\\.smoke=1", 1},
    {"cmdline", BL_AS_MATCHES, "^bootlab", 0},
    {"pid", BL_AS_MATCHES, "^1$", 1},
    {"env", BL_AS_CONTAINS, "\"TERM=linux\"", 1},
    {"env", BL_AS_CONTAINS, "\"TERM=dumb\"", 0},
    {"cmdline", BL_AS_CONTAINS, "\"ttyS0\"", 1},
    {"mounts", BL_AS_CONTAINS, "{\"target\":\"/dev\",\"fstype\":\"devtmpfs\"}", 1},
    {"mounts", BL_AS_CONTAINS, "{\"target\":\"/dev\",\"fstype\":\"tmpfs\"}", 0},
    {"data", BL_AS_EQUALS, "\"a\\u0000b\"", 1},
    {"fds.x", BL_AS_EXISTS, NULL, 0},
    {"pid.0", BL_AS_EXISTS, NULL, 0},
};

int main(void)
{
	json_error_t e;
	json_t *doc = json_loads(doc_text, JSON_ALLOW_NUL, &e);
	T_OK(doc != NULL, "document parses");
	for (size_t i = 0; i < BL_ARRAY_SIZE(cases); i++) {
		const struct acase *c = &cases[i];
		struct bl_assert a = {.field = (char *)c->field, .op = c->op};
		if (c->op == BL_AS_MATCHES) {
			a.regex = (char *)c->value;
			regcomp(&a.re, c->value, REG_EXTENDED);
		} else if (c->value) {
			a.value = json_loads(c->value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
		}
		int r = bl_assert_check(&a, doc);
		T_EQ_INT(r == 0, c->holds, "%s %d %s %s", c->field, c->op, c->value ? c->value : "",
			 c->holds ? "holds" : "fails");
		if (r < 0)
			printf("#   message: %s\n", bl_errmsg());
		if (c->op == BL_AS_MATCHES)
			regfree(&a.re);
		json_decref(a.value);
	}
	struct bl_assert a = {.field = "pid", .op = BL_AS_EQUALS, .value = json_integer(2)};
	bl_assert_check(&a, doc);
	T_EQ_STR(bl_errmsg(), "'pid' is 1, expected 2",
		 "failure message names the field and both values");
	json_decref(a.value);
	/* a string value is shown quoted and escaped on one line */
	json_t *d2 = json_pack("{s:s}", "data", "answer=42\n\x1b[0m\t\"q\"");
	struct bl_assert b = {
	    .field = "data", .op = BL_AS_EQUALS, .value = json_string("answer=43\n")};
	bl_assert_check(&b, d2);
	T_EQ_STR(bl_errmsg(),
		 "'data' is \"answer=42\\n\\x1b[0m\\t\\\"q\\\"\", expected \"answer=43\\n\"",
		 "string values are quoted, control bytes escaped, one line");
	json_decref(b.value);
	json_decref(d2);
	json_decref(doc);
	return t_done();
}
