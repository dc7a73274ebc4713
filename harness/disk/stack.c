/*
 * Root stack grammar: "LAYER+...+FS", block layers bottom-up, a filesystem
 * last, each block layer at most once (docs/root-stacks.md).
 */
#include "disk/stack.h"

#include <string.h>

#include "util/util.h"

static const char *const layer_names[] = {
    [BL_LAYER_RAID1] = "raid1",
    [BL_LAYER_LVM] = "lvm",
    [BL_LAYER_LUKS] = "luks",
    [BL_LAYER_EXT4] = "ext4",
};

const char *bl_layer_name(enum bl_layer l)
{
	return layer_names[l];
}

static bool is_fs(enum bl_layer l)
{
	return l == BL_LAYER_EXT4;
}

static int layer_parse(const char *w, size_t len, enum bl_layer *l)
{
	for (size_t i = 0; i < BL_ARRAY_SIZE(layer_names); i++)
		if (strlen(layer_names[i]) == len && !strncmp(w, layer_names[i], len)) {
			*l = (enum bl_layer)i;
			return 0;
		}
	return bl_err("unknown layer '%.*s' (known: raid1, lvm, luks, ext4)", (int)len, w);
}

/* L may stand at position S->n: a block layer below the top, each once */
static int layer_fits(const struct bl_stack *s, enum bl_layer l, bool last)
{
	if (is_fs(l) != last)
		return bl_err(last ? "the top layer '%s' is not a filesystem (ext4)"
				   : "filesystem '%s' below the top",
			      bl_layer_name(l));
	for (size_t i = 0; i < s->n; i++)
		if (s->layer[i] == l)
			return bl_err("layer '%s' twice", bl_layer_name(l));
	if (l == BL_LAYER_RAID1 && s->n)
		return bl_err("raid1 above %s (md over one %s device) is not a stack bootlab "
			      "builds: raid1 goes on the disks, at the bottom",
			      bl_layer_name(s->layer[s->n - 1]), bl_layer_name(s->layer[s->n - 1]));
	return 0;
}

int bl_stack_parse(const char *spec, struct bl_stack *s)
{
	memset(s, 0, sizeof(*s));
	if (!*spec)
		return bl_err("empty root stack");
	for (const char *w = spec;;) {
		const char *end = strchr(w, '+');
		size_t len = end ? (size_t)(end - w) : strlen(w);
		enum bl_layer l = BL_LAYER_EXT4;
		if (!len)
			return bl_err("empty layer in '%s'", spec);
		if (s->n == BL_STACK_MAX)
			return bl_err("more than %d layers in '%s'", BL_STACK_MAX, spec);
		if (layer_parse(w, len, &l) < 0 || layer_fits(s, l, !end) < 0)
			return bl_err_prefix("root stack '%s'", spec);
		s->layer[s->n++] = l;
		if (!end)
			return 0;
		w = end + 1;
	}
}

int bl_root_by_parse(const char *word, enum bl_root_by *by)
{
	static const char *const names[] = {
	    [BL_ROOT_BY_PATH] = "path", [BL_ROOT_BY_UUID] = "uuid", [BL_ROOT_BY_LABEL] = "label"};
	for (size_t i = 0; i < BL_ARRAY_SIZE(names); i++)
		if (!strcmp(word, names[i])) {
			*by = (enum bl_root_by)i;
			return 0;
		}
	return bl_err("'%s' is not path, uuid or label", word);
}
