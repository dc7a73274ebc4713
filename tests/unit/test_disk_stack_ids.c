/* bootlab gate --uuid NAME=UUID (harness/disk/stack.c, docs/root-stacks.md
 * "Fixed identifiers"): the spellings each name takes, what each is
 * stored as, and the words refused. */
#include "disk/stack.h"
#include "t.h"
#include "util/util.h"

#include <string.h>

/* WORD parsed into fresh ids: 0 or -1 */
static int parse(const char *word, struct bl_stack_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	return bl_stack_id_parse(word, ids);
}

static void test_spellings(void)
{
	struct bl_stack_ids ids;
	T_EQ_INT(parse("md=0badc0de:5eed1e55:0000cafe:12345678", &ids), 0, "md: mdadm's 8:8:8:8");
	T_EQ_STR(ids.array, "0badc0de:5eed1e55:0000cafe:12345678", "md: kept as mdadm prints it");
	T_EQ_INT(parse("md=0BADC0DE-5EED-1E55-0000-CAFE12345678", &ids), 0, "md: 8-4-4-4-12 too");
	T_EQ_STR(ids.array, "0badc0de:5eed1e55:0000cafe:12345678",
		 "md: 8-4-4-4-12 in capitals stored as mdadm's spelling, lower case");
	T_EQ_INT(parse("luks=C0FFEE00-1111-4222-8333-444455556666", &ids), 0, "luks: 8-4-4-4-12");
	T_EQ_STR(ids.luks, "c0ffee00-1111-4222-8333-444455556666", "luks: lower case");
	T_OK(!ids.array[0] && !ids.root[0], "luks: the other names stay unset");
	T_EQ_INT(parse("root=feedf00d-aaaa-4bbb-8ccc-dddddddddddd", &ids), 0, "root: 8-4-4-4-12");
	T_EQ_STR(ids.root, "feedf00d-aaaa-4bbb-8ccc-dddddddddddd", "root: as given");
	T_EQ_INT(bl_stack_id_parse("md=00000000:00000000:00000000:00000001", &ids), 0,
		 "a second name adds to the first");
	T_OK(ids.root[0] && ids.array[0], "both names set");
}

static void test_refused(void)
{
	static const char *const bad[][2] = {
	    {"root=0badc0de:5eed1e55:0000cafe:12345678", "mdadm's spelling is for md only"},
	    {"luks=c0ffee00-1111-4222-8333-44445555666", "a digit short"},
	    {"luks=c0ffee00-1111-4222-8333-4444555566667", "a digit over"},
	    {"luks=c0ffee0-01111-4222-8333-444455556666", "groups in the wrong places"},
	    {"luks=c0ffee00-1111-4222-8333-44445555666g", "not hex"},
	    {"luks=c0ffee00:1111:4222:8333:444455556666", "':' in 8-4-4-4-12"},
	    {"md=0badc0de-5eed1e55-0000cafe-12345678", "'-' in 8:8:8:8"},
	    {"md=0badc0de5eed1e550000cafe12345678", "no separators"},
	    {"md=", "no UUID"},
	    {"md", "no '='"},
	    {"=0badc0de:5eed1e55:0000cafe:12345678", "no name"},
	    {"vg=c0ffee00-1111-4222-8333-444455556666", "an unknown name"},
	    {"mdx=0badc0de:5eed1e55:0000cafe:12345678", "a name that starts like md"},
	};
	for (size_t i = 0; i < BL_ARRAY_SIZE(bad); i++) {
		struct bl_stack_ids ids;
		T_EQ_INT(parse(bad[i][0], &ids), -1, "refused: %s ('%s')", bad[i][1], bad[i][0]);
		T_OK(!ids.array[0] && !ids.luks[0] && !ids.root[0], "refused: nothing stored (%s)",
		     bad[i][1]);
	}
	struct bl_stack_ids ids;
	parse("luks=c0ffee00-1111-4222-8333-444455556666", &ids);
	T_EQ_INT(bl_stack_id_parse("luks=c0ffee00-1111-4222-8333-444455556667", &ids), -1,
		 "a name given twice is refused");
	T_EQ_STR(ids.luks, "c0ffee00-1111-4222-8333-444455556666", "the first one stays");
	T_OK(strstr(bl_errmsg(), "'luks' given twice") != NULL, "the message says so: %s",
	     bl_errmsg());
	parse("md=0badc0de:5eed1e55:0000cafe:1234567z", &ids);
	T_EQ_STR(bl_errmsg(),
		 "md: '0badc0de:5eed1e55:0000cafe:1234567z' is not a UUID (32 hex digits as "
		 "8-4-4-4-12, or mdadm's 8:8:8:8)",
		 "a bad UUID's message names the name, the word and the spellings");
}

int main(void)
{
	test_spellings();
	test_refused();
	return t_done();
}
