/* harness/util/under.c: bl_open_under walks a name under a root folder
 * one component at a time and never leaves it; bl_rm_rf_at removes links,
 * not what they point to. */
#include "t.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmp;
static int root;

/* NAME under the root with HOW: the folder's path relative to the root
 * ("" for the root) and its last component, or NULL */
static char *walk(const char *name, int how, int *refused)
{
	char *last, buf[4096];
	int fd = bl_open_under(root, name, how, &last, refused);
	if (fd < 0)
		return NULL;
	char *link = xasprintf("/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	size_t rl = strlen(tmp) + strlen("/root");
	char *r = xasprintf("%s:%s", strlen(buf) >= rl ? buf + rl : "?", last);
	close(fd);
	free(link);
	free(last);
	return r;
}

static void expect(const char *name, int how, const char *want, int want_refused, const char *msg)
{
	int refused = -1;
	char *got = walk(name, how, &refused);
	if (want) {
		T_EQ_STR(got, want, "'%s' leads to %s", name, want);
	} else {
		T_OK(!got && refused == want_refused, "'%s' %s", name,
		     want_refused ? "refused" : "fails");
		T_EQ_STR(bl_errmsg(), msg, "'%s': the message", name);
	}
	free(got);
}

static void path(const char *rel, const char *link)
{
	char *p = xasprintf("%s/root/%s", tmp, rel);
	if (link)
		symlink(link, p);
	else
		bl_mkdir_p(p, 0755);
	free(p);
}

int main(void)
{
	tmp = bl_mktemp_dir("unit-under");
	path("usr/sbin", NULL);
	path("a", NULL);
	path("out", NULL);
	path("sbin", "usr/sbin");
	path("a/b", "../usr");
	path("abs", tmp);
	path("up", "../../..");
	path("loop", "loop");
	char *r = xasprintf("%s/root", tmp);
	root = open(r, O_RDONLY | O_DIRECTORY);
	free(r);

	expect("/usr/sbin/init", 0, "/usr/sbin:init", 0, NULL);
	expect("sbin/init", BL_UNDER_FOLLOW, "/usr/sbin:init", 0, NULL);
	expect("/a/b/sbin/x", BL_UNDER_FOLLOW, "/usr/sbin:x", 0, NULL);
	expect("/sbin", BL_UNDER_FOLLOW, ":sbin", 0, NULL);
	expect("/n/e/w", BL_UNDER_MKDIR, "/n/e:w", 0, NULL);
	expect("/sbin/init", 0, NULL, 1, "path through symlink '/sbin' refused");
	char *m = xasprintf("symlink '/abs' -> '%s' leads out of the filesystem", tmp);
	expect("/abs/x", BL_UNDER_FOLLOW, NULL, 1, m);
	free(m);
	expect("/up/x", BL_UNDER_FOLLOW, NULL, 1,
	       "symlink '/up' -> '../../..' leads out of the filesystem");
	expect("/loop/x", BL_UNDER_FOLLOW, NULL, 1, "too many levels of symlinks at '/loop'");
	expect("/a/../x", BL_UNDER_FOLLOW, NULL, 1, "'..' in the name refused");
	expect("/none/x", BL_UNDER_FOLLOW, NULL, 0, "parent '/none': No such file or directory");
	expect("/./", BL_UNDER_MKDIR, NULL, 0, "'/./' names the root folder itself");

	/* removing a folder with a link to outside in it leaves the outside */
	path("out/l", tmp);
	T_EQ_INT(bl_rm_rf_at(root, "out"), 0, "rm -rf of a folder holding a link out");
	struct stat st;
	T_OK(!stat(tmp, &st) && fstatat(root, "usr/sbin", &st, 0) == 0,
	     "what the link pointed to is still there");
	T_OK(fstatat(root, "out", &st, AT_SYMLINK_NOFOLLOW) < 0, "the folder is gone");
	close(root);
	bl_rm_rf(tmp);
	free(tmp);
	return t_done();
}
