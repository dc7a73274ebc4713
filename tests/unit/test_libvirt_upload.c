/* Which libvirt URIs upload a boot's files into the host's pool
 * (harness/machine/libvirt_pool.c, docs/libvirt.md "Uploading files to
 * the host"): a URI naming a host or a transport other than unix does,
 * a local one does not, and $BOOTLAB_LIBVIRT_UPLOAD overrides both ways. */
#include "machine/libvirt_int.h"
#include "t.h"

#include <stdlib.h>

static void test_auto(void)
{
	unsetenv("BOOTLAB_LIBVIRT_UPLOAD");
	static const struct {
		const char *uri;
		bool up;
	} cases[] = {
	    {"qemu:///system", false},
	    {"qemu:///session", false},
	    {"qemu+unix:///system?socket=/tmp/x/libvirt-sock", false},
	    {"qemu:///embed?root=/tmp/x", false},
	    {"test:///default", false},
	    {"default", false},
	    {"qemu://lab1/system", true},
	    {"qemu+ssh://root@lab1/system", true},
	    {"qemu+ssh:///system", true},
	    {"qemu+tcp://10.0.0.2:16509/system", true},
	    {"qemu+tls://lab1.example/system", true},
	    {"qemu+unixx:///system", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_OK(bl_lv_upload_wanted(cases[i].uri) == cases[i].up, "auto: %s %s", cases[i].uri,
		     cases[i].up ? "uploads" : "reads bootlab's paths");
}

static void test_forced(void)
{
	setenv("BOOTLAB_LIBVIRT_UPLOAD", "1", 1);
	T_OK(bl_lv_upload_wanted("qemu:///system"),
	     "BOOTLAB_LIBVIRT_UPLOAD=1: a local URI uploads");
	setenv("BOOTLAB_LIBVIRT_UPLOAD", "never", 1);
	T_OK(!bl_lv_upload_wanted("qemu+ssh://lab1/system"),
	     "BOOTLAB_LIBVIRT_UPLOAD=never: a remote URI does not");
	setenv("BOOTLAB_LIBVIRT_UPLOAD", "auto", 1);
	T_OK(bl_lv_upload_wanted("qemu+ssh://lab1/system") &&
		 !bl_lv_upload_wanted("qemu:///system"),
	     "BOOTLAB_LIBVIRT_UPLOAD=auto: as unset");
	unsetenv("BOOTLAB_LIBVIRT_UPLOAD");
}

int main(void)
{
	test_auto();
	test_forced();
	return t_done();
}
