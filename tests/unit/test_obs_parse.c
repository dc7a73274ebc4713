/* The observer's "observe" messages parsed (harness/session/obs_parse.c):
 * the mount, module and block events as the observer sends them, and
 * hostile messages, each dropped with a message naming what was wrong. */
#include "session/session.h"
#include "t.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define MNT                                                                                        \
	"\"mnt_id\":21,\"parent_id\":1,\"target\":\"/mnt/root\",\"source\":\"/dev/vda\","          \
	"\"fstype\":\"ext4\",\"options\":\"ro,relatime\",\"fs_options\":\"ro\""

/* a message, and the error it gives (NULL: it is taken) */
static const struct {
	const char *msg, *err;
} cases[] = {
    {"{\"event\":\"mount\",\"t_ns\":5," MNT "}", NULL},
    {"{\"event\":\"mount\",\"t_ns\":5,\"initial\":true," MNT "}", NULL},
    {"{\"event\":\"umount\",\"t_ns\":5," MNT "}", NULL},
    {"{\"event\":\"move\",\"t_ns\":5,\"from\":\"/root\"," MNT "}", NULL},
    {"{\"event\":\"remount\",\"t_ns\":5," MNT "}", NULL},
    {"{\"event\":\"module\",\"t_ns\":5,\"name\":\"virtio_blk\"}", NULL},
    {"{\"event\":\"block\",\"t_ns\":5,\"action\":\"add\",\"devname\":\"vda1\","
     "\"devtype\":\"partition\",\"devpath\":\"/devices/virtio1/block/vda/vda1\"}",
     NULL},
    {"{\"event\":\"block\",\"t_ns\":5,\"action\":\"remove\",\"devname\":\"md127\","
     "\"devtype\":\"disk\",\"devpath\":\"/devices/virtual/block/md127\"}",
     NULL},
    {"{\"event\":\"block\",\"t_ns\":5,\"action\":\"change\",\"devname\":\"loop0\","
     "\"devtype\":\"disk\",\"devpath\":\"/devices/virtual/block/loop0\"}",
     NULL},
    {"{\"event\":\"module\",\"t_ns\":5,\"name\":\"loop\",\"action\":\"remove\"}", NULL},
    {"{\"event\":\"reboot\",\"t_ns\":5}", "field 'event': missing, or not an event"},
    {"{\"event\":\"module\",\"t_ns\":5,\"name\":\"loop\",\"action\":\"change\"}",
     "field 'action': not one of the values"},
    {"{\"event\":\"module\",\"t_ns\":-1,\"name\":\"x\"}", "field 't_ns': not an integer >= 0"},
    {"{\"event\":\"module\",\"t_ns\":5,\"name\":\"../../etc\"}",
     "field 'name': a byte 0x2e not allowed"},
    {"{\"event\":\"module\",\"t_ns\":5,\"name\":\"\"}", "field 'name': empty"},
    {"{\"event\":\"module\",\"t_ns\":5,\"name\":7}", "field 'name': not a string"},
    {"{\"event\":\"module\",\"t_ns\":5,\"name\":\"a\\u0000b\"}", "field 'name': holds a NUL byte"},
    {"{\"event\":\"module\",\"t_ns\":5,\"initial\":true,\"name\":\"x\"}",
     "field 'initial': a module event is never there at start"},
    {"{\"event\":\"mount\",\"t_ns\":5,\"mnt_id\":-3,\"parent_id\":1}",
     "field 'mnt_id': -3 is not in [0, 2147483647]"},
    {"{\"event\":\"mount\",\"t_ns\":5,\"mnt_id\":3}", "field 'parent_id': missing"},
    {"{\"event\":\"mount\",\"t_ns\":5,\"from\":\"/x\"," MNT "}", "field 'from': only a move"},
    {"{\"event\":\"move\",\"t_ns\":5," MNT "}", "field 'from': missing"},
    {"{\"event\":\"mount\",\"t_ns\":5,\"mnt_id\":1,\"parent_id\":1,\"target\":\"rel\","
     "\"source\":\"s\",\"fstype\":\"ext4\",\"options\":\"\",\"fs_options\":\"\"}",
     "field 'target': not an absolute path"},
    {"{\"event\":\"mount\",\"t_ns\":5,\"mnt_id\":1,\"parent_id\":1,\"target\":\"/\","
     "\"source\":\"s\",\"fstype\":\"<b>\",\"options\":\"\",\"fs_options\":\"\"}",
     "field 'fstype': a byte 0x3c not allowed"},
    {"{\"event\":\"block\",\"t_ns\":5,\"action\":\"resize\",\"devname\":\"vda\","
     "\"devtype\":\"disk\",\"devpath\":\"/d\"}",
     "field 'action': not one of the values"},
    {"{\"event\":\"block\",\"t_ns\":5,\"action\":\"add\",\"devname\":\"vda\","
     "\"devtype\":\"cdrom\",\"devpath\":\"/d\"}",
     "field 'devtype': not one of the values"},
    {"{\"event\":\"exec\",\"t_ns\":5,\"pid\":0,\"argv\":[]}", "field 'pid': 0 is not in [1, "},
    {"{\"event\":\"exec\",\"t_ns\":5,\"pid\":4,\"argv\":[\"a\",3]}", "field 'argv': not a string"},
    {"{\"event\":\"exit\",\"t_ns\":5,\"pid\":4,\"status\":256}", "field 'status': 256 is not"},
    {"{\"event\":\"exit\",\"t_ns\":5,\"pid\":4,\"signal\":99}", "field 'signal': 99 is not"},
    {"{\"event\":\"exit\",\"t_ns\":5,\"pid\":4}", "field 'status': missing"},
};

static void check_fields(const struct bl_observed *o)
{
	const struct bl_obs_event *m = &o->ev[1], *mv = &o->ev[3], *mod = &o->ev[5],
				  *blk = &o->ev[6];
	T_OK(m->kind == BL_OBS_MOUNT && m->initial && m->mnt.id == 21 && m->mnt.parent == 1,
	     "an initial mount: its ids");
	T_EQ_STR(m->mnt.target, "/mnt/root", "... its mount point");
	T_OK(!strcmp(m->mnt.source, "/dev/vda") && !strcmp(m->mnt.fstype, "ext4") &&
		 !strcmp(m->mnt.options, "ro,relatime") && !strcmp(m->mnt.fs_options, "ro"),
	     "... its source, type and options");
	T_OK(mv->kind == BL_OBS_MOVE && mv->mnt.from && !strcmp(mv->mnt.from, "/root"),
	     "a move: where from");
	T_OK(mod->kind == BL_OBS_MODULE && !strcmp(mod->dev.name, "virtio_blk") &&
		 mod->dev.action == BL_OBS_ADD,
	     "a module: its name, loaded (no action: a report before unloads were seen)");
	T_OK(blk->kind == BL_OBS_BLOCK && blk->dev.action == BL_OBS_ADD &&
		 blk->dev.type == BL_OBS_PARTITION && !strcmp(blk->dev.name, "vda1"),
	     "a block device added: name and type");
	T_OK(o->ev[7].dev.action == BL_OBS_REMOVE && o->ev[7].dev.type == BL_OBS_DISK,
	     "a block device removed");
	T_OK(o->ev[8].dev.action == BL_OBS_CHANGE && !strcmp(o->ev[8].dev.name, "loop0"),
	     "a block device changed");
	T_OK(o->ev[9].kind == BL_OBS_MODULE && o->ev[9].dev.action == BL_OBS_REMOVE &&
		 !strcmp(o->ev[9].dev.name, "loop"),
	     "a module unloaded");
	T_EQ_INT(o->nsys, 10, "all of them counted as mount, module and block events");
}

/* a flood of module events stops at BL_OBS_SYS_MAX; process events go on */
static void check_cap(void)
{
	struct bl_observed o = {.on = true};
	json_t *mod = json_loads("{\"event\":\"module\",\"t_ns\":1,\"name\":\"m\"}", 0, NULL);
	json_t *ex =
	    json_loads("{\"event\":\"exec\",\"t_ns\":1,\"pid\":2,\"argv\":[\"x\"]}", 0, NULL);
	for (int i = 0; i < BL_OBS_SYS_MAX + 10; i++)
		bl_obs_add(&o, mod, 0);
	T_OK(o.n == BL_OBS_SYS_MAX && o.dropped == 10, "module events past the cap dropped");
	T_OK(o.dropped_why && strstr(o.dropped_why, "more than 2000 mount, module and block"),
	     "... and why: '%s'", o.dropped_why ? o.dropped_why : "");
	T_EQ_INT(bl_obs_add(&o, ex, 0), 0, "an exec is still taken");
	json_decref(mod);
	json_decref(ex);
	bl_obs_release(&o);
}

int main(void)
{
	struct bl_observed o = {.on = true};
	for (size_t i = 0; i < BL_ARRAY_SIZE(cases); i++) {
		json_t *m = json_loads(cases[i].msg, JSON_ALLOW_NUL, NULL);
		int rc = bl_obs_add(&o, m, 0);
		if (!cases[i].err)
			T_EQ_INT(rc, 0, "taken: %s", cases[i].msg);
		else
			T_OK(rc < 0 && strstr(bl_errmsg(), cases[i].err), "dropped: %s: '%s'",
			     cases[i].msg, bl_errmsg());
		json_decref(m);
	}
	T_EQ_INT(o.dropped, BL_ARRAY_SIZE(cases) - o.n, "every bad message counted as dropped");
	T_OK(o.dropped_why && strstr(o.dropped_why, "field 'event'"), "the first one's error kept");
	check_fields(&o);
	bl_obs_release(&o);
	check_cap();
	return t_done();
}
