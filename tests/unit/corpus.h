/* Real logs with what they should give: each DIR/NAME.log beside a
 * DIR/NAME.expect. t_corpus calls FN(NAME.log, log text, expected text,
 * ARG) for each pair both of which could be read (FN may change the log
 * text in place) and returns how many there were. */
#ifndef BL_T_CORPUS_H
#define BL_T_CORPUS_H
#include "util/util.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

typedef void (*t_corpus_fn)(const char *name, char *log, const char *want, void *arg);

static inline size_t t_corpus(const char *dir, t_corpus_fn fn, void *arg)
{
	DIR *d = opendir(dir);
	size_t nlogs = 0;
	for (struct dirent *de; d && (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".log"))
			continue;
		char *log = xasprintf("%s/%s", dir, de->d_name);
		char *exp = xasprintf("%s/%.*s.expect", dir, (int)(l - 4), de->d_name);
		char *data = NULL, *want = NULL;
		size_t n, wn;
		if (bl_read_file(log, &data, &n) == 0 && bl_read_file(exp, &want, &wn) == 0) {
			fn(de->d_name, data, want, arg);
			nlogs++;
		}
		free(data);
		free(want);
		free(log);
		free(exp);
	}
	if (d)
		closedir(d);
	return nlogs;
}
#endif
