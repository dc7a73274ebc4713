/* modules.c: load kernel modules with finit_module, or init_module where
 * the kernel has no finit_module. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"

int ia_module_load(const char *path, const char **via)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;
	struct stat st;
	char *buf;
	*via = "finit_module";
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0) == 0) {
		close(fd);
		return 0;
	}
	e = errno;
	if (e != ENOSYS) {
		close(fd);
		return -e;
	}
	*via = "init_module";
	if (fstat(fd, &st) || !(buf = malloc((size_t)st.st_size + 1))) {
		e = errno;
		close(fd);
		return -e;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return -e;
		}
		got += (size_t)n;
	}
	close(fd);
	e = syscall(SYS_init_module, buf, got, "") ? errno : 0;
	free(buf);
	return -e;
}

int ia_op_modules(struct ia_req *r, struct ia_json *j)
{
	struct ia_str *p;
	size_t n;
	int rc = ia_arg_arr(r, "paths", &p, &n);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return ia_fail(EINVAL, "missing argument 'paths'");
	ia_json_arr(j, "results");
	for (size_t i = 0; i < n; i++) {
		const char *via;
		int e = ia_module_load(ia_path(p[i].s), &via);
		ia_json_obj(j, NULL);
		ia_json_str(j, "path", p[i].s);
		ia_json_bool(j, "ok", e == 0);
		if (e)
			ia_json_errno(j, -e);
		ia_json_str(j, "via", via);
		ia_json_end(j, '}');
	}
	ia_json_end(j, ']');
	return 0;
}

void ia_modules_boot(void)
{
	FILE *f;
	char line[256];
	if (!ia.modlist[0])
		return;
	if (!(f = fopen(ia.modlist, "re"))) {
		ia.modlist_err = errno;
		return;
	}
	while (fgets(line, sizeof(line), f) && ia.nmods < 64) {
		size_t l = strlen(line);
		while (l && (line[l - 1] == '\n' || line[l - 1] == ' ' || line[l - 1] == '\r'))
			line[--l] = 0;
		if (!l || line[0] == '#')
			continue;
		snprintf(ia.mods[ia.nmods].path, sizeof(ia.mods[0].path), "%s", line);
		ia.mods[ia.nmods].err = -ia_module_load(line, &ia.mods[ia.nmods].via);
		ia.nmods++;
	}
	fclose(f);
}
