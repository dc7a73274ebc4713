/* Host-mode tests of the init-agent (build/agent/x86_64/init-agent):
 * every request and its error paths over a socketpair, the agent running
 * as an ordinary process with --transport fd:3 --root SCRATCH.
 * Each table row is one request and the substrings its reply must hold
 * ("!text" must be absent). Rows run in order on one agent. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"

static const char *agent_bin = "build/agent/x86_64/init-agent";

struct agent {
	pid_t pid;
	int fd;
	char buf[8 << 20];
	size_t len;
};

static int spawn(struct agent *a, const char *root)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	a->len = 0;
	a->pid = fork();
	if (a->pid == 0) {
		struct rlimit no = {0, 0};
		setrlimit(RLIMIT_CORE, &no);
		dup2(sv[1], 3);
		execl(agent_bin, agent_bin, "--transport", "fd:3", "--root", root, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	a->fd = sv[0];
	return a->pid < 0 ? -1 : 0;
}

/* One reply line (without '\n') into a static buffer, NULL on EOF/timeout. */
static char *recv_line(struct agent *a, int timeout_ms)
{
	static char line[8 << 20];
	for (;;) {
		char *nl = memchr(a->buf, '\n', a->len);
		if (nl) {
			size_t n = (size_t)(nl - a->buf);
			memcpy(line, a->buf, n);
			line[n] = 0;
			memmove(a->buf, nl + 1, a->len - n - 1);
			a->len -= n + 1;
			return line;
		}
		struct pollfd p = {a->fd, POLLIN, 0};
		if (poll(&p, 1, timeout_ms) <= 0)
			return NULL;
		ssize_t r = read(a->fd, a->buf + a->len, sizeof(a->buf) - a->len);
		if (r <= 0)
			return NULL;
		a->len += (size_t)r;
	}
}

static void send_raw(struct agent *a, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(a->fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static char *ask(struct agent *a, const char *req)
{
	send_raw(a, req, strlen(req));
	send_raw(a, "\n", 1);
	return recv_line(a, 15000);
}

static int finish(struct agent *a)
{
	int st = 0;
	close(a->fd);
	waitpid(a->pid, &st, 0);
	return st;
}

struct row {
	const char *req;
	const char *want[5];
};

/* sha256("hello\n") and of the empty string, from coreutils */
#define SHA_HELLO "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct row rows[] = {
    {"{\"id\":1,\"op\":\"info\"}",
     {"\"id\":1,\"ok\":true", "\"stage\":1", "\"channel\":\"fd:3\"", "\"fds\":["}},
    /* malformed input: error, keep serving */
    {"garbage", {"\"id\":null", "\"errno\":22", "\"error\":\"EINVAL\"", "expected '{'"}},
    {"{", {"\"id\":null", "\"errno\":22"}},
    {"{\"id\":1", {"\"id\":null", "unterminated"}},
    {"{\"id\":1,\"op\":\"info\"} x", {"\"id\":null", "trailing"}},
    {"{\"id\":1,\"op\":\"info\",}", {"\"id\":null", "expected a key"}},
    {"{\"id\":1,\"op\":\"info\",\"s\":\"\\ud800\"}", {"\"id\":null", "surrogate"}},
    {"{\"id\":1,\"op\":\"info\",\"s\":\"\\x\"}", {"\"id\":null", "bad escape"}},
    {"{\"id\":1,\"op\":\"info\",\"s\":\"a\tb\"}", {"\"id\":null", "control character"}},
    {"{\"id\":1,\"op\":\"info\",\"n\":01}", {"\"id\":null", "leading zero"}},
    {"{\"id\":1,\"op\":\"info\",\"n\":tru}", {"\"id\":null", "bad literal"}},
    {"[1,2]", {"\"id\":null", "expected '{'"}},
    {"{\"id\":\"7\",\"op\":\"info\"}", {"\"id\":null", "'id' must be a positive integer"}},
    {"{\"id\":0,\"op\":\"info\"}", {"\"id\":null", "'id' must be a positive integer"}},
    {"{\"id\":-3,\"op\":\"info\"}", {"\"id\":null", "positive"}},
    {"{\"id\":1.5,\"op\":\"info\"}", {"\"id\":null", "positive"}},
    {"{\"id\":99999999999999999999,\"op\":\"info\"}", {"\"id\":null", "positive"}},
    {"{\"op\":\"info\"}", {"\"id\":null", "missing 'id'"}},
    {"{\"id\":3}", {"\"id\":3,\"ok\":false", "missing 'op'"}},
    {"{\"id\":3,\"op\":7}", {"\"id\":3,\"ok\":false", "missing 'op'"}},
    {"{\"id\":4,\"op\":\"frobnicate\"}",
     {"\"id\":4,\"ok\":false", "\"errno\":95", "EOPNOTSUPP", "unknown op 'frobnicate'"}},
    /* unknown arguments are ignored, nested values too; CR LF is fine */
    {"{\"id\":5,\"op\":\"info\",\"x\":{\"a\":[1,{\"b\":null}],\"c\":-1.5e3},\"y\":[true]}",
     {"\"id\":5,\"ok\":true"}},
    {"{\"id\":6,\"op\":\"info\"}\r", {"\"id\":6,\"ok\":true"}},
    {"  {\"op\":\"info\" , \"id\" : 7 }  ", {"\"id\":7,\"ok\":true"}},
    /* stat and friends: missing and wrongly typed arguments */
    {"{\"id\":8,\"op\":\"stat\"}",
     {"\"id\":8,\"ok\":false", "\"errno\":22", "missing argument 'path'"}},
    {"{\"id\":9,\"op\":\"stat\",\"path\":5}",
     {"\"errno\":22", "argument 'path': expected a string"}},
    {"{\"id\":9,\"op\":\"stat\",\"path\":\"a\\u0000b\"}", {"\"errno\":22", "NUL byte"}},
    {"{\"id\":10,\"op\":\"stat\",\"path\":\"/nope\"}",
     {"\"errno\":2", "ENOENT", "stat '/nope': No such file or directory"}},
    {"{\"id\":10,\"op\":\"stat\",\"path\":\"/\",\"follow\":\"yes\"}",
     {"\"errno\":22", "'follow': expected true or false"}},
    /* write / read / sha256 */
    {"{\"id\":11,\"op\":\"write\",\"path\":\"/f\",\"data\":\"hello\\n\",\"mode\":\"0600\"}",
     {"\"id\":11,\"ok\":true", "\"size\":6"}},
    {"{\"id\":12,\"op\":\"stat\",\"path\":\"/f\"}",
     {"\"type\":\"file\"", "\"mode\":\"0600\"", "\"size\":6", "\"nlink\":1"}},
    {"{\"id\":13,\"op\":\"read\",\"path\":\"/f\"}",
     {"\"data\":\"hello\\n\"", "\"size\":6", "\"truncated\":false"}},
    {"{\"id\":14,\"op\":\"read\",\"path\":\"/f\",\"max\":2}",
     {"\"data\":\"he\"", "\"truncated\":true", "\"size\":2"}},
    {"{\"id\":15,\"op\":\"read\",\"path\":\"/f\",\"hex\":true}", {"\"hex\":\"68656c6c6f0a\""}},
    {"{\"id\":16,\"op\":\"read\",\"path\":\"/f\",\"max\":-1}", {"\"errno\":22", "'max'"}},
    {"{\"id\":16,\"op\":\"read\",\"path\":\"/f\",\"max\":1048577}", {"\"errno\":22", "'max'"}},
    {"{\"id\":16,\"op\":\"read\",\"path\":\"/f\",\"max\":\"9\"}",
     {"\"errno\":22", "expected an integer"}},
    {"{\"id\":17,\"op\":\"read\",\"path\":\"/nope\"}", {"\"errno\":2", "open '/nope'"}},
    {"{\"id\":17,\"op\":\"read\",\"path\":\"/\"}", {"\"errno\":21", "EISDIR"}},
    {"{\"id\":18,\"op\":\"sha256\",\"path\":\"/f\"}",
     {"\"sha256\":\"" SHA_HELLO "\"", "\"size\":6"}},
    {"{\"id\":19,\"op\":\"write\",\"path\":\"/e\",\"data\":\"\"}", {"\"ok\":true", "\"size\":0"}},
    {"{\"id\":20,\"op\":\"sha256\",\"path\":\"/e\"}", {SHA_EMPTY}},
    {"{\"id\":21,\"op\":\"sha256\",\"path\":\"/nope\"}", {"\"errno\":2"}},
    /* bytes: \u0000-\u00ff are single bytes, other bytes come back escaped */
    {"{\"id\":22,\"op\":\"write\",\"path\":\"/b\",\"hex\":\"00ff0a22c3a9\"}", {"\"size\":6"}},
    {"{\"id\":23,\"op\":\"read\",\"path\":\"/b\"}", {"\"data\":\"\\u0000\\u00ff\\n\\\"\xc3\xa9\""}},
    {"{\"id\":24,\"op\":\"write\",\"path\":\"/u\",\"data\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}",
     {"\"size\":8"}},
    {"{\"id\":25,\"op\":\"read\",\"path\":\"/u\",\"hex\":true}", {"\"hex\":\"e9e282acf09f9880\""}},
    {"{\"id\":26,\"op\":\"write\",\"path\":\"/x\",\"data\":\"a\",\"hex\":\"61\"}",
     {"\"errno\":22", "exactly one of"}},
    {"{\"id\":26,\"op\":\"write\",\"path\":\"/x\"}", {"\"errno\":22", "exactly one of"}},
    {"{\"id\":27,\"op\":\"write\",\"path\":\"/x\",\"hex\":\"zz\"}",
     {"\"errno\":22", "not a hex digit"}},
    {"{\"id\":27,\"op\":\"write\",\"path\":\"/x\",\"hex\":\"abc\"}",
     {"\"errno\":22", "odd length"}},
    {"{\"id\":28,\"op\":\"write\",\"path\":\"/x\",\"data\":\"a\",\"mode\":\"0999\"}",
     {"\"errno\":22", "octal mode"}},
    {"{\"id\":28,\"op\":\"write\",\"path\":\"/x\",\"data\":\"a\",\"mode\":755}",
     {"\"errno\":22", "expected a string"}},
    {"{\"id\":29,\"op\":\"write\",\"path\":\"/no/dir/x\",\"data\":\"a\"}",
     {"\"errno\":2", "write '/no/dir/x'"}},
    {"{\"id\":30,\"op\":\"write\",\"path\":\"/f\",\"data\":\"more\\n\",\"append\":true}",
     {"\"size\":5"}},
    {"{\"id\":31,\"op\":\"read\",\"path\":\"/f\"}", {"\"data\":\"hello\\nmore\\n\""}},
    /* folders, links, nodes, modes */
    {"{\"id\":32,\"op\":\"mkdir\",\"path\":\"/d\",\"mode\":\"0700\"}", {"\"id\":32,\"ok\":true"}},
    {"{\"id\":33,\"op\":\"stat\",\"path\":\"/d\"}", {"\"type\":\"dir\"", "\"mode\":\"0700\""}},
    {"{\"id\":34,\"op\":\"mkdir\",\"path\":\"/d\"}", {"\"errno\":17", "EEXIST", "mkdir '/d'"}},
    {"{\"id\":35,\"op\":\"mkdir\",\"path\":\"/p/q/r\",\"parents\":true}", {"\"ok\":true"}},
    {"{\"id\":36,\"op\":\"mkdir\",\"path\":\"/s/t\"}", {"\"errno\":2"}},
    {"{\"id\":37,\"op\":\"symlink\",\"target\":\"f\",\"path\":\"/l\"}", {"\"ok\":true"}},
    {"{\"id\":38,\"op\":\"readlink\",\"path\":\"/l\"}", {"\"target\":\"f\""}},
    {"{\"id\":39,\"op\":\"stat\",\"path\":\"/l\"}", {"\"type\":\"symlink\"", "\"target\":\"f\""}},
    {"{\"id\":40,\"op\":\"stat\",\"path\":\"/l\",\"follow\":true}",
     {"\"type\":\"file\"", "!\"target\""}},
    {"{\"id\":41,\"op\":\"readlink\",\"path\":\"/f\"}", {"\"errno\":22"}},
    {"{\"id\":42,\"op\":\"symlink\",\"target\":\"f\",\"path\":\"/l\"}", {"\"errno\":17"}},
    {"{\"id\":43,\"op\":\"symlink\",\"path\":\"/l2\"}", {"\"errno\":22", "'target'"}},
    {"{\"id\":44,\"op\":\"mknod\",\"path\":\"/fifo\",\"type\":\"fifo\",\"mode\":\"0640\"}",
     {"\"ok\":true"}},
    {"{\"id\":45,\"op\":\"stat\",\"path\":\"/fifo\"}", {"\"type\":\"fifo\"", "\"mode\":\"0640\""}},
    /* a FIFO without a writer or reader must not hang the agent */
    {"{\"id\":400,\"op\":\"read\",\"path\":\"/fifo\"}",
     {"\"id\":400,\"ok\":true", "\"size\":0", "\"data\":\"\""}},
    {"{\"id\":401,\"op\":\"sha256\",\"path\":\"/fifo\"}", {SHA_EMPTY}},
    {"{\"id\":402,\"op\":\"write\",\"path\":\"/fifo\",\"data\":\"x\"}", {"\"errno\":6", "ENXIO"}},
    {"{\"id\":46,\"op\":\"mknod\",\"path\":\"/n\",\"type\":\"pipe\"}",
     {"\"errno\":22", "chr, blk, fifo or sock"}},
    {"{\"id\":47,\"op\":\"mknod\",\"path\":\"/n\",\"type\":\"chr\",\"major\":5000}",
     {"\"errno\":22", "out of range"}},
    {"{\"id\":48,\"op\":\"mknod\",\"path\":\"/n\"}", {"\"errno\":22", "'type'"}},
    {"{\"id\":49,\"op\":\"chmod\",\"path\":\"/f\",\"mode\":\"4755\"}", {"\"ok\":true"}},
    {"{\"id\":50,\"op\":\"stat\",\"path\":\"/f\"}", {"\"mode\":\"4755\""}},
    {"{\"id\":51,\"op\":\"chmod\",\"path\":\"/f\"}", {"\"errno\":22", "'mode'"}},
    {"{\"id\":52,\"op\":\"chmod\",\"path\":\"/nope\",\"mode\":\"0644\"}", {"\"errno\":2"}},
    {"{\"id\":53,\"op\":\"chmod\",\"path\":\"/f\",\"mode\":\"17777\"}", {"\"errno\":22"}},
    {"{\"id\":54,\"op\":\"list\",\"path\":\"/\"}",
     {"\"entries\":[{\"name\":\"b\",\"type\":\"file\"},{\"name\":\"d\",\"type\":\"dir\"},{\"name\":"
      "\"e\",\"type\":\"file\"},{\"name\":\"f\",\"type\":\"file\"},{\"name\":\"fifo\",\"type\":"
      "\"fifo\"},{\"name\":\"l\",\"type\":\"symlink\"},{\"name\":\"p\",\"type\":\"dir\"},{\"name\":"
      "\"u\",\"type\":\"file\"}]"}},
    {"{\"id\":55,\"op\":\"list\",\"path\":\"/nope\"}", {"\"errno\":2"}},
    {"{\"id\":56,\"op\":\"list\",\"path\":\"/f\"}", {"\"errno\":20", "ENOTDIR"}},
    {"{\"id\":57,\"op\":\"list\",\"path\":\"/d\"}", {"\"entries\":[]"}},
    {"{\"id\":58,\"op\":\"sync\"}", {"\"id\":58,\"ok\":true"}},
    /* copy: a tree with a file, a symlink, a fifo and a sub-folder */
    {"{\"id\":300,\"op\":\"copy\",\"from\":\"/p\",\"to\":\"/p/q/copy\"}",
     {"\"id\":300,\"ok\":true", "\"files\":3"}},
    {"{\"id\":301,\"op\":\"mkdir\",\"path\":\"/src\"}", {"\"ok\":true"}},
    {"{\"id\":302,\"op\":\"write\",\"path\":\"/src/x\",\"data\":\"xyz\",\"mode\":\"0751\"}",
     {"\"ok\":true"}},
    {"{\"id\":303,\"op\":\"symlink\",\"target\":\"/abs\",\"path\":\"/src/ln\"}", {"\"ok\":true"}},
    {"{\"id\":304,\"op\":\"mknod\",\"path\":\"/src/fifo\",\"type\":\"fifo\"}", {"\"ok\":true"}},
    {"{\"id\":305,\"op\":\"mkdir\",\"path\":\"/src/sub\",\"mode\":\"0700\"}", {"\"ok\":true"}},
    {"{\"id\":306,\"op\":\"copy\",\"from\":\"/src\",\"to\":\"/dst\"}",
     {"\"files\":5", "\"bytes\":3"}},
    {"{\"id\":307,\"op\":\"stat\",\"path\":\"/dst/x\"}", {"\"mode\":\"0751\"", "\"size\":3"}},
    {"{\"id\":308,\"op\":\"readlink\",\"path\":\"/dst/ln\"}", {"\"target\":\"/abs\""}},
    {"{\"id\":309,\"op\":\"stat\",\"path\":\"/dst/fifo\"}", {"\"type\":\"fifo\""}},
    {"{\"id\":310,\"op\":\"stat\",\"path\":\"/dst/sub\"}",
     {"\"type\":\"dir\"", "\"mode\":\"0700\""}},
    {"{\"id\":311,\"op\":\"copy\",\"from\":\"/nope\",\"to\":\"/dst2\"}",
     {"\"errno\":2", "copy: '"}},
    {"{\"id\":312,\"op\":\"copy\",\"from\":\"/src\"}", {"\"errno\":22", "'to'"}},
    {"{\"id\":313,\"op\":\"copy\",\"from\":\"/src/x\",\"to\":\"/no/where\"}",
     {"\"errno\":2", "create"}},
    /* mounts */
    {"{\"id\":59,\"op\":\"mounts\"}", {"\"mounts\":[{\"source\":"}},
    {"{\"id\":60,\"op\":\"mount\",\"source\":\"x\"}", {"\"errno\":22", "'target'"}},
    {"{\"id\":61,\"op\":\"mount\",\"target\":\"/d\",\"flags\":[\"ro\",\"sideways\"]}",
     {"\"errno\":22", "unknown flag 'sideways'"}},
    {"{\"id\":62,\"op\":\"mount\",\"target\":\"/d\",\"flags\":\"ro\"}",
     {"\"errno\":22", "array of strings"}},
    {"{\"id\":62,\"op\":\"mount\",\"target\":\"/d\",\"flags\":[1]}",
     {"\"errno\":22", "array of strings"}},
    {"{\"id\":63,\"op\":\"mount\",\"target\":\"/d\"}", {"\"errno\":22", "'fstype'"}},
    {"{\"id\":64,\"op\":\"umount\",\"target\":\"/d\"}", {"\"ok\":false", "umount '/d'"}},
    {"{\"id\":65,\"op\":\"umount\"}", {"\"errno\":22"}},
    {"{\"id\":66,\"op\":\"pivot_root\",\"new_root\":\"/d\",\"put_old\":\"/d\"}",
     {"\"ok\":false", "pivot_root '/d' '/d'"}},
    {"{\"id\":67,\"op\":\"pivot_root\",\"new_root\":\"/d\"}", {"\"errno\":22", "'put_old'"}},
    /* modules */
    {"{\"id\":68,\"op\":\"modules\",\"paths\":[\"/nope.ko\"]}",
     {"\"id\":68,\"ok\":true", "\"results\":[{\"path\":\"/nope.ko\",\"ok\":false,\"errno\":2"}},
    {"{\"id\":69,\"op\":\"modules\",\"paths\":[\"/f\"]}",
     {"\"results\":[{\"path\":\"/f\",\"ok\":false", "\"via\":\""}},
    {"{\"id\":70,\"op\":\"modules\"}", {"\"errno\":22", "'paths'"}},
    {"{\"id\":70,\"op\":\"modules\",\"paths\":[]}", {"\"results\":[]"}},
    /* md */
    {"{\"id\":71,\"op\":\"md_assemble\",\"device\":\"/dev/md0\"}", {"\"errno\":22", "'members'"}},
    {"{\"id\":72,\"op\":\"md_assemble\",\"device\":\"/dev/sda\",\"members\":[\"/f\"]}",
     {"\"errno\":22", "expected /dev/mdN"}},
    {"{\"id\":73,\"op\":\"md_assemble\",\"device\":\"/dev/md0\",\"members\":[\"/"
     "f\"],\"metadata\":\"2.0\"}",
     {"\"errno\":22", "'metadata'"}},
    {"{\"id\":74,\"op\":\"md_assemble\",\"device\":\"/dev/md0\",\"members\":[\"/f\"]}",
     {"\"errno\":15", "ENOTBLK", "member '/f' is not a block device"}},
    {"{\"id\":75,\"op\":\"md_assemble\",\"device\":\"/dev/md0\",\"members\":[\"/nope\"]}",
     {"\"errno\":2", "member '/nope'"}},
    /* run */
    {"{\"id\":76,\"op\":\"run\",\"argv\":[\"/bin/sh\",\"-c\",\"echo out; echo err >&2; exit 7\"]}",
     {"\"status\":7", "\"signal\":null", "\"output\":\"out\\nerr\\n\"", "\"timed_out\":false"}},
    {"{\"id\":77,\"op\":\"run\",\"argv\":[\"/bin/sleep\",\"10\"],\"timeout_ms\":300}",
     {"\"status\":null", "\"signal\":9", "\"timed_out\":true"}},
    {"{\"id\":78,\"op\":\"run\",\"argv\":[\"/nope/prog\"]}", {"\"errno\":2", "run '/nope/prog'"}},
    {"{\"id\":79,\"op\":\"run\",\"argv\":[\"/usr/bin/env\"],\"env\":[\"A=1\",\"B=two\"]}",
     {"\"output\":\"A=1\\nB=two\\n\"", "\"status\":0"}},
    {"{\"id\":80,\"op\":\"run\",\"argv\":[]}", {"\"errno\":22", "'argv'"}},
    {"{\"id\":80,\"op\":\"run\",\"argv\":[\"/bin/true\"],\"timeout_ms\":-5}",
     {"\"errno\":22", "'timeout_ms'"}},
    {"{\"id\":81,\"op\":\"run\",\"argv\":[\"/bin/sh\",\"-c\",\"head -c 70000 /dev/zero\"]}",
     {"\"truncated\":true", "\"status\":0"}},
    {"{\"id\":82,\"op\":\"run\",\"argv\":[\"/bin/sh\",\"-c\",\"kill -SEGV $$\"]}",
     {"\"status\":null", "\"signal\":11"}},
    {"{\"id\":83,\"op\":\"run\",\"argv\":[\"/bin/sh\",\"-c\",\"sleep 10 & echo "
     "bg\"],\"timeout_ms\":5000}",
     {"\"status\":0", "\"output\":\"bg\\n\"", "\"timed_out\":false"}},
    /* switch_root refusals reachable on any host */
    {"{\"id\":84,\"op\":\"switch_root\"}", {"\"errno\":22", "'newroot'"}},
    {"{\"id\":85,\"op\":\"switch_root\",\"newroot\":\"/nope\"}",
     {"\"errno\":2", "new root '/nope'"}},
    {"{\"id\":86,\"op\":\"switch_root\",\"newroot\":\"/f\"}",
     {"\"errno\":20", "new root '/f' is not a folder"}},
    {"{\"id\":87,\"op\":\"switch_root\",\"newroot\":\"/d\"}",
     {"\"errno\":22", "new root '/d' is not a mount point"}},
    {"{\"id\":88,\"op\":\"switch_root\",\"newroot\":\"/d\",\"init\":\"sbin/init\"}",
     {"\"errno\":22", "absolute"}},
    /* end-of-life requests with bad arguments keep the agent alive */
    {"{\"id\":89,\"op\":\"exit\",\"status\":300}", {"\"errno\":22", "0..255"}},
    {"{\"id\":90,\"op\":\"kill\",\"signal\":0}", {"\"errno\":22", "1..64"}},
    {"{\"id\":91,\"op\":\"poweroff\",\"mode\":\"explode\"}", {"\"errno\":22", "'mode'"}},
    {"{\"id\":92,\"op\":\"info\"}", {"\"id\":92,\"ok\":true"}},
};

static int check_reply(const char *got, const struct row *r, int i)
{
	int ok = got != NULL;
	for (int k = 0; ok && k < 5 && r->want[k]; k++) {
		const char *w = r->want[k];
		if (w[0] == '!')
			ok = !strstr(got, w + 1);
		else
			ok = strstr(got, w) != NULL;
	}
	T_OK(ok, "row %d: %.70s", i, r->req);
	if (!ok)
		printf("#   reply: %.600s\n", got ? got : "(none)");
	return ok;
}

static char scratch[] = "/tmp/bootlab-agent-test.XXXXXX";

static void table(void)
{
	struct agent *a = calloc(1, sizeof(*a));
	char *hello, *big;
	size_t n;
	if (spawn(a, scratch)) {
		T_OK(0, "spawn agent");
		return;
	}
	hello = recv_line(a, 15000);
	T_OK(hello && strstr(hello, "\"type\":\"hello\"") && strstr(hello, "\"v\":1") &&
		 strstr(hello, "\"channel\":\"fd:3\""),
	     "hello line: %.80s", hello ? hello : "(none)");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_reply(ask(a, rows[i].req), &rows[i], (int)i);

	/* an empty line gets no reply; the next request does */
	send_raw(a, "\n\n", 2);
	hello = ask(a, "{\"id\":200,\"op\":\"info\"}");
	T_OK(hello && strstr(hello, "\"id\":200,"), "empty lines are skipped");

	/* an over-long line: one error, then the agent serves on */
	n = 70000;
	big = malloc(n + 1);
	memset(big, 'a', n);
	big[n] = 0;
	hello = ask(a, big);
	T_OK(hello && strstr(hello, "\"id\":null") && strstr(hello, "\"errno\":90") &&
		 strstr(hello, "longer than 65536"),
	     "70000-byte line: EMSGSIZE reply: %.100s", hello ? hello : "(none)");
	hello = ask(a, "{\"id\":201,\"op\":\"info\"}");
	T_OK(hello && strstr(hello, "\"id\":201,\"ok\":true"), "serves after an over-long line");

	/* exactly 65536 bytes is allowed */
	{
		const char *pre = "{\"id\":202,\"op\":\"info\",\"pad\":\"";
		size_t pl = strlen(pre);
		memcpy(big, pre, pl);
		memset(big + pl, 'x', 65536 - pl - 2);
		memcpy(big + 65536 - 2, "\"}", 3);
		hello = ask(a, big);
		T_OK(hello && strstr(hello, "\"id\":202,\"ok\":true"),
		     "a 65536-byte line is served");
	}
	/* a deeply nested unknown argument */
	{
		char *p = big;
		p += sprintf(p, "{\"id\":203,\"op\":\"info\",\"x\":");
		for (int i = 0; i < 100; i++)
			*p++ = '[';
		for (int i = 0; i < 100; i++)
			*p++ = ']';
		strcpy(p, "}");
		hello = ask(a, big);
		T_OK(hello && strstr(hello, "\"id\":null") && strstr(hello, "nested too deeply"),
		     "100 nested arrays: error");
	}
	/* a reply of 1 MiB (6 MiB escaped) */
	{
		char req[256];
		snprintf(req, sizeof(req),
			 "{\"id\":204,\"op\":\"run\",\"argv\":[\"/bin/sh\",\"-c\",\"head -c "
			 "1048576 /dev/urandom > %s/big\"]}",
			 scratch);
		hello = ask(a, req);
		T_OK(hello && strstr(hello, "\"status\":0"), "make a 1 MiB file");
		hello = ask(a, "{\"id\":205,\"op\":\"read\",\"path\":\"/big\",\"max\":1048576}");
		T_OK(hello && strstr(hello, "\"size\":1048576") &&
			 strstr(hello, "\"truncated\":false"),
		     "read 1 MiB of random bytes");
	}
	free(big);
	hello = ask(a, "{\"id\":206,\"op\":\"poweroff\"}");
	T_OK(hello && strstr(hello, "\"id\":206,\"ok\":true,\"action\":\"reboot\""),
	     "poweroff replies first");
	n = (size_t)finish(a);
	T_OK(WIFEXITED((int)n) && WEXITSTATUS((int)n) == 0,
	     "host mode: poweroff ends the agent with 0");
	free(a);
}

/* exit, kill and EOF end the host-mode agent as they would end PID 1 */
static void endings(void)
{
	struct {
		const char *req;
		int exited, code;
		const char *name;
	} e[] = {
	    {"{\"id\":1,\"op\":\"exit\",\"status\":3}", 1, 3, "exit 3"},
	    {"{\"id\":1,\"op\":\"exit\"}", 1, 0, "exit (default 0)"},
	    {"{\"id\":1,\"op\":\"kill\",\"signal\":15}", 0, 15, "kill 15"},
	    {"{\"id\":1,\"op\":\"kill\",\"signal\":11}", 0, 11, "kill 11 (a real fault)"},
	    {"{\"id\":1,\"op\":\"kill\"}", 0, 9, "kill (default 9)"},
	    {"{\"id\":1,\"op\":\"reboot\"}", 1, 0, "reboot"},
	    {NULL, 1, 0, "EOF on the channel"},
	};
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		struct agent *a = calloc(1, sizeof(*a));
		int st;
		char *l;
		spawn(a, scratch);
		recv_line(a, 15000);
		if (e[i].req) {
			send_raw(a, e[i].req, strlen(e[i].req));
			send_raw(a, "\n", 1);
		}
		l = e[i].req && strstr(e[i].req, "reboot") ? recv_line(a, 15000) : NULL;
		if (!l && e[i].req && !strstr(e[i].req, "reboot"))
			l = recv_line(a, 2000); /* exit and kill send nothing */
		st = finish(a);
		T_OK(e[i].exited ? WIFEXITED(st) && WEXITSTATUS(st) == e[i].code
				 : WIFSIGNALED(st) && WTERMSIG(st) == e[i].code,
		     "%s: wait status 0x%x", e[i].name, st);
		if (e[i].req && !strstr(e[i].req, "reboot"))
			T_OK(l == NULL, "%s: no reply", e[i].name);
		free(a);
	}
}

/* In a chroot "/" is no mount point, so a new mount namespace cannot make
 * it private, and mounts under a shared parent would show on the host.
 * There the parent binds the scratch folder onto itself and makes that one
 * mount private before the child unshares; it undoes the bind afterwards. */
static int scratch_bound;

static int root_is_mount(void)
{
	struct statx sx;
	return statx(AT_FDCWD, "/", 0, STATX_BASIC_STATS, &sx) == 0 &&
	       (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static void bind_scratch(void)
{
	if (root_is_mount())
		return;
	if (mount(scratch, scratch, NULL, MS_BIND, NULL))
		return;
	if (mount(NULL, scratch, NULL, MS_PRIVATE, NULL)) {
		umount2(scratch, MNT_DETACH);
		return;
	}
	scratch_bound = 1;
}

/* A root that is neither ramfs nor tmpfs, for the rootfs refusal: the
 * scratch folder when it is on a disk, else (a /tmp on tmpfs) an overlay
 * made inside it, which reports its own magic. Called in the child's
 * private mount namespace; path gets the folder. */
static int disk_like_root(char *path, size_t n)
{
	struct statfs sf;
	snprintf(path, n, "%s", scratch);
	if (statfs(scratch, &sf))
		return -1;
	if (sf.f_type != TMPFS_MAGIC && sf.f_type != RAMFS_MAGIC)
		return 0;
	static const char *const parts[] = {"ov", "ov/lower", "ov/upper", "ov/work", "ov/root"};
	char d[512], opts[2048];
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		snprintf(d, sizeof(d), "%s/%s", scratch, parts[i]);
		mkdir(d, 0755);
	}
	snprintf(opts, sizeof(opts), "lowerdir=%s/ov/lower,upperdir=%s/ov/upper,workdir=%s/ov/work",
		 scratch, scratch, scratch);
	snprintf(path, n, "%s/ov/root", scratch);
	return mount("overlay", path, "overlay", 0, opts);
}

/* switch_root refusals that need mounts: in a private mount namespace,
 * with a tmpfs as the scratch root (the rootfs check passes) and a tmpfs
 * new root. The last check, PID 1, refuses; nothing is deleted. */
static void switch_root_refusals(void)
{
	struct agent *a = calloc(1, sizeof(*a));
	char p[512], *l;
	pid_t pid;
	int st;
	/* first: a scratch root on a disk: rootfs is not ramfs/tmpfs */
	char droot[400];
	if (unshare(CLONE_NEWNS) ||
	    (!scratch_bound && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))) {
		T_SKIP("needs root for a private mount namespace",
		       "switch_root refusals with mounts");
		free(a);
		return;
	}
	if (disk_like_root(droot, sizeof(droot))) {
		T_OK(0, "a root that is not tmpfs under %s: %s", scratch, strerror(errno));
		free(a);
		return;
	}
	snprintf(p, sizeof(p), "%s/nr", droot);
	mkdir(p, 0755);
	if (mount("tmpfs", p, "tmpfs", 0, NULL)) {
		T_OK(0, "mount tmpfs on %s: %s", p, strerror(errno));
		free(a);
		return;
	}
	spawn(a, droot);
	recv_line(a, 15000);
	struct statfs_row {
		const char *req;
		const char *want[3];
	};
	l = ask(a, "{\"id\":1,\"op\":\"switch_root\",\"newroot\":\"/nr\"}");
	T_OK(l && strstr(l, "\"errno\":22") && strstr(l, "rootfs is not ramfs/tmpfs (magic 0x"),
	     "rootfs on disk: refused: %.200s", l ? l : "(none)");
	finish(a);
	umount2(p, MNT_DETACH);

	/* now a tmpfs scratch root with a tmpfs new root inside */
	char root[256];
	snprintf(root, sizeof(root), "%s/tmproot", scratch);
	mkdir(root, 0755);
	if (mount("tmpfs", root, "tmpfs", 0, NULL)) {
		T_OK(0, "mount tmpfs root");
		free(a);
		return;
	}
	snprintf(p, sizeof(p), "%s/nr", root);
	mkdir(p, 0755);
	mount("tmpfs", p, "tmpfs", 0, NULL);
	snprintf(p, sizeof(p), "%s/nr/sbin", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/nr/sbin/init", root);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	snprintf(p, sizeof(p), "%s/nr/bin", root);
	symlink("/sbin", p); /* absolute: must resolve inside the new root */
	snprintf(p, sizeof(p), "%s/keep", root);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	spawn(a, root);
	recv_line(a, 15000);
	l = ask(a,
		"{\"id\":2,\"op\":\"switch_root\",\"newroot\":\"/nr\",\"init\":\"/sbin/missing\"}");
	T_OK(l && strstr(l, "\"errno\":2") &&
		 strstr(l, "new init '/sbin/missing' not found under '/nr'"),
	     "init missing: refused: %.200s", l ? l : "(none)");
	l = ask(a, "{\"id\":3,\"op\":\"switch_root\",\"newroot\":\"/nr\"}");
	T_OK(l && strstr(l, "\"errno\":13") && strstr(l, "new init '/sbin/init' is not executable"),
	     "init not executable: refused: %.200s", l ? l : "(none)");
	l = ask(a, "{\"id\":4,\"op\":\"chmod\",\"path\":\"/nr/sbin/init\",\"mode\":\"0755\"}");
	l = ask(a, "{\"id\":5,\"op\":\"switch_root\",\"newroot\":\"/nr\",\"init\":\"/bin/init\"}");
	T_OK(l && strstr(l, "\"errno\":1,") && strstr(l, "not PID 1"),
	     "init via an absolute symlink in the new root, all checks pass but PID 1: %.200s",
	     l ? l : "(none)");
	l = ask(a, "{\"id\":6,\"op\":\"stat\",\"path\":\"/keep\"}");
	T_OK(l && strstr(l, "\"type\":\"file\""), "nothing was deleted by the refusals");
	l = ask(a, "{\"id\":7,\"op\":\"mount\",\"source\":\"tmpfs\",\"target\":\"/"
		   "keep2\",\"fstype\":\"tmpfs\"}");
	T_OK(l && strstr(l, "\"errno\":2"), "mount on a missing target: ENOENT");
	ask(a, "{\"id\":8,\"op\":\"mkdir\",\"path\":\"/m\"}");
	l = ask(a,
		"{\"id\":9,\"op\":\"mount\",\"source\":\"tmpfs\",\"target\":\"/"
		"m\",\"fstype\":\"tmpfs\",\"flags\":[\"nosuid\",\"nodev\"],\"data\":\"size=1m\"}");
	T_OK(l && strstr(l, "\"id\":9,\"ok\":true"), "mount tmpfs: %.200s", l ? l : "(none)");
	l = ask(a, "{\"id\":10,\"op\":\"mounts\"}");
	snprintf(p, sizeof(p),
		 "\"target\":\"%s/m\",\"fstype\":\"tmpfs\",\"options\":\"rw,nosuid,nodev", root);
	T_OK(l && strstr(l, p), "mounts lists it with its flags");
	l = ask(a, "{\"id\":11,\"op\":\"mount\",\"source\":\"x\",\"target\":\"/"
		   "m\",\"fstype\":\"nosuchfs\"}");
	T_OK(l && strstr(l, "\"errno\":19"), "unknown fs type: ENODEV");
	l = ask(a, "{\"id\":12,\"op\":\"umount\",\"target\":\"/m\"}");
	T_OK(l && strstr(l, "\"id\":12,\"ok\":true"), "umount");
	l = ask(a, "{\"id\":13,\"op\":\"mknod\",\"path\":\"/"
		   "null\",\"type\":\"chr\",\"major\":1,\"minor\":3,\"mode\":\"0666\"}");
	l = ask(a, "{\"id\":14,\"op\":\"stat\",\"path\":\"/null\"}");
	T_OK(l && strstr(l, "\"type\":\"chr\"") && strstr(l, "\"rdev\":\"1:3\"") &&
		 strstr(l, "\"mode\":\"0666\""),
	     "mknod chr 1:3: %.200s", l ? l : "(none)");
	finish(a);
	(void)pid;
	(void)st;
	free(a);
}

int main(void)
{
	char cmd[600];
	if (access(agent_bin, X_OK)) {
		T_SKIP("run `make agent` first", "agent binary %s", agent_bin);
		return t_done();
	}
	if (!mkdtemp(scratch)) {
		T_OK(0, "mkdtemp");
		return t_done();
	}
	signal(SIGPIPE, SIG_IGN);
	table();
	endings();
	int cnt[2] = {0, 0}, pfd[2];
	fflush(stdout);
	if (pipe(pfd))
		return 1;
	bind_scratch();
	pid_t pid = fork();
	if (pid == 0) {
		/* own mount namespace: nothing leaks into the host */
		switch_root_refusals();
		fflush(stdout);
		cnt[0] = t_n;
		cnt[1] = t_failed;
		if (write(pfd[1], cnt, sizeof(cnt)) < 0) {
		}
		_exit(0);
	}
	close(pfd[1]);
	int st = 0;
	/* the child numbered its points after ours: take over its count */
	if (read(pfd[0], cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt)) {
		t_n = cnt[0];
		t_failed = cnt[1];
	} else {
		T_OK(0, "switch_root child died");
	}
	waitpid(pid, &st, 0);
	if (scratch_bound)
		umount2(scratch, MNT_DETACH);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd)) {
	}
	return t_done();
}
