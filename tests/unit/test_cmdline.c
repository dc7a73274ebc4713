/* The kernel command line type (harness/machine/cmdline.c) against the
 * kernel's own reading of a line (docs/kernel-behaviour.md section 15):
 * quoted words, keys where '-' and '_' are one, the last of repeated keys,
 * "--" handing the rest to init, and words bootlab adds landing before it. */
#include "machine/machine.h"
#include "t.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static char *line_of(const char *text)
{
	struct bl_cmdline c = BL_CMDLINE_INIT;
	bl_cmdline_parse(&c, text);
	char *s = bl_cmdline_str(&c);
	bl_cmdline_release(&c);
	return s;
}

static void test_parse(void)
{
	struct bl_cmdline c = BL_CMDLINE_INIT;
	bl_cmdline_parse(&c, "  root=/dev/vda\tconsole=ttyS0,115200 quiet  empty= ");
	T_EQ_INT(c.n, 4, "parse: words split at any white space");
	T_EQ_STR(bl_cmdline_get(&c, "root"), "/dev/vda", "get: a key's value");
	T_EQ_STR(bl_cmdline_get(&c, "console"), "ttyS0,115200",
		 "get: the value up to the word's end");
	T_EQ_STR(bl_cmdline_get(&c, "quiet"), "", "get: a bare word has the empty value");
	T_EQ_STR(bl_cmdline_get(&c, "empty"), "", "get: key= has the empty value");
	T_OK(bl_cmdline_get(&c, "init") == NULL, "get: an absent key is NULL");
	T_OK(!bl_cmdline_has(&c, "roo"), "has: a prefix of a key is not the key");
	T_OK(!bl_cmdline_has(&c, "root=/dev"), "has: a key is not matched inside a value");
	char *s = bl_cmdline_str(&c);
	T_EQ_STR(s, "root=/dev/vda console=ttyS0,115200 quiet empty=", "str: single spaces");
	free(s);
	bl_cmdline_release(&c);
	s = line_of(NULL);
	T_EQ_STR(s, "", "parse: no text, no words");
	free(s);
}

static void test_kernel_rules(void)
{
	struct bl_cmdline c = BL_CMDLINE_INIT;
	bl_cmdline_parse(&c, "panic=5 no-timer-check dyndbg=\"file a.c +p\" \"x=y z\" panic=0");
	T_EQ_INT(c.n, 5, "quotes: a quoted value keeps its spaces in one word");
	T_EQ_STR(bl_cmdline_get(&c, "dyndbg"), "file a.c +p", "quotes: the value loses its quotes");
	T_EQ_STR(bl_cmdline_get(&c, "x"), "y z", "quotes: a word quoted whole has a plain key");
	T_EQ_STR(bl_cmdline_get(&c, "panic"), "0", "repeated keys: the last wins");
	T_OK(bl_cmdline_has(&c, "no_timer_check"), "keys: '-' and '_' are the same");
	bl_cmdline_release(&c);

	bl_cmdline_parse(&c, "root=/dev/vda -- panic=3 single");
	T_OK(!bl_cmdline_has(&c, "panic"), "--: words after it are init's, not the kernel's");
	bl_cmdline_add(&c, "panic", "-1");
	bl_cmdline_default(&c, "printk.time", "1");
	char *s = bl_cmdline_str(&c);
	T_EQ_STR(s, "root=/dev/vda panic=-1 printk.time=1 -- panic=3 single",
		 "--: added words go before it");
	free(s);
	T_EQ_STR(bl_cmdline_get(&c, "panic"), "-1", "--: the kernel's panic= is the added one");
	bl_cmdline_release(&c);
}

static void test_changes(void)
{
	struct bl_cmdline c = BL_CMDLINE_INIT;
	bl_cmdline_parse(&c, "panic=5 quiet panic_on_oops=1 panic=7");
	bl_cmdline_set(&c, "panic", "0");
	char *s = bl_cmdline_str(&c);
	T_EQ_STR(s, "quiet panic_on_oops=1 panic=0",
		 "set: replaces every word of the key, no other");
	free(s);
	T_OK(!bl_cmdline_default(&c, "panic", "-1"), "default: false when the key is there");
	T_EQ_STR(bl_cmdline_get(&c, "panic"), "0", "default: the word there stays");
	T_OK(bl_cmdline_default(&c, "console", "ttyS0"), "default: true when it adds");
	bl_cmdline_add(&c, "bootlab.note", "two words");
	bl_cmdline_add(&c, "bootlab.empty", "");
	bl_cmdline_add(&c, "single", NULL);
	s = bl_cmdline_str(&c);
	T_EQ_STR(s,
		 "quiet panic_on_oops=1 panic=0 console=ttyS0 bootlab.note=\"two words\" "
		 "bootlab.empty=\"\" single",
		 "add: values with spaces quoted, NULL a bare word");
	struct bl_cmdline back = BL_CMDLINE_INIT;
	bl_cmdline_parse(&back, s);
	T_EQ_STR(bl_cmdline_get(&back, "bootlab.note"), "two words", "add: reads back as written");
	free(s);
	bl_cmdline_release(&back);

	struct bl_cmdline copy;
	bl_cmdline_copy(&copy, &c);
	bl_cmdline_set(&copy, "quiet", "1");
	T_EQ_STR(bl_cmdline_get(&c, "quiet"), "", "copy: changing the copy leaves the original");
	T_EQ_INT(copy.n, c.n, "copy: every word");
	bl_cmdline_release(&copy);
	bl_cmdline_release(&c);
	T_OK(c.n == 0 && c.w == NULL, "release: empty again");
}

int main(void)
{
	test_parse();
	test_kernel_rules();
	test_changes();
	return t_done();
}
