/* Kernel values: the arch names users type, config queries, releasing a
 * struct bl_kernel. Built kernels come from make.c (through the cache),
 * distro kernels from distro.c and fetch.c. */
#include "kernel.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

const char *bl_kernel_arch_name(const char *arch)
{
	if (!arch)
		return NULL;
	if (!strcmp(arch, "x86_64") || !strcmp(arch, "amd64") || !strcmp(arch, "x86"))
		return "x86_64";
	if (!strcmp(arch, "aarch64") || !strcmp(arch, "arm64"))
		return "aarch64";
	if (!strcmp(arch, "um") || !strcmp(arch, "uml"))
		return "um";
	return NULL;
}

void bl_kernel_release(struct bl_kernel *k)
{
	if (!k)
		return;
	free(k->arch);
	free(k->flavor);
	free(k->image);
	free(k->config);
	free(k->version);
	free(k->modules_dir);
	free(k->build_dir);
	free(k->bzimage);
	memset(k, 0, sizeof(*k));
}

int bl_kernel_config(const struct bl_kernel *k, const char *option)
{
	if (!k || !k->config || !option)
		return 0;
	char *data;
	size_t len;
	if (bl_read_file(k->config, &data, &len) < 0)
		return 0;
	const char *name = strncmp(option, "CONFIG_", 7) ? option : option + 7;
	size_t nl = strlen(name);
	int r = 0;
	/* line by line: a strstr over the whole ~35 KB .config cost ~0.3 ms,
	 * on every boot's way to its emulator */
	for (const char *p = data, *end = data + len, *e; p < end; p = e + 1) {
		e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			e = end;
		if ((size_t)(e - p) == 7 + nl + 2 && !memcmp(p, "CONFIG_", 7) &&
		    !memcmp(p + 7, name, nl) && p[7 + nl] == '=' &&
		    (p[8 + nl] == 'y' || p[8 + nl] == 'm')) {
			r = p[8 + nl];
			break;
		}
	}
	free(data);
	return r;
}
