/* placeholder: the stacked reader lands next */
#include "archive.h"

int bl_archive_add_cpio(struct bl_archive *a, const char *cpio_file)
{
	return bl_err("'%s': reading archives is not implemented yet", cpio_file);
}
