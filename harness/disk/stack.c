/*
 * Root stack grammar: "LAYER+...+FS", block layers bottom-up, a filesystem
 * last, each block layer at most once (docs/root-stacks.md).
 */
#include "disk/stack.h"

#include <ctype.h>
#include <string.h>

#include "util/util.h"

static const struct {
	const char *name;
	enum bl_layer_kind kind;
} layers[] = {
    [BL_LAYER_RAID1] = {"raid1", BL_KIND_MD},
    [BL_LAYER_RAID5] = {"raid5", BL_KIND_MD},
    [BL_LAYER_RAID10] = {"raid10", BL_KIND_MD},
    [BL_LAYER_LVM] = {"lvm", BL_KIND_LVM},
    [BL_LAYER_LVM_THIN] = {"lvm-thin", BL_KIND_LVM},
    [BL_LAYER_LUKS] = {"luks", BL_KIND_LUKS},
    [BL_LAYER_LUKS1] = {"luks1", BL_KIND_LUKS},
    [BL_LAYER_EXT4] = {"ext4", BL_KIND_FS},
    [BL_LAYER_XFS] = {"xfs", BL_KIND_FS},
};

static const char *const kind_names[] = {[BL_KIND_MD] = "md",
					 [BL_KIND_LVM] = "lvm",
					 [BL_KIND_LUKS] = "luks",
					 [BL_KIND_FS] = "filesystem"};

const char *bl_layer_name(enum bl_layer l)
{
	return layers[l].name;
}

enum bl_layer_kind bl_layer_kind(enum bl_layer l)
{
	return layers[l].kind;
}

bool bl_stack_has_kind(const struct bl_stack *s, enum bl_layer_kind k)
{
	for (size_t i = 0; i < s->n; i++)
		if (bl_layer_kind(s->layer[i]) == k)
			return true;
	return false;
}

bool bl_stack_redundant(const struct bl_stack *s)
{
	return bl_stack_has_kind(s, BL_KIND_MD);
}

static int layer_parse(const char *w, size_t len, enum bl_layer *l)
{
	struct strbuf known = STRBUF_INIT;
	for (size_t i = 0; i < BL_ARRAY_SIZE(layers); i++) {
		if (strlen(layers[i].name) == len && !strncmp(w, layers[i].name, len)) {
			*l = (enum bl_layer)i;
			sb_release(&known);
			return 0;
		}
		sb_addf(&known, "%s%s", i ? ", " : "", layers[i].name);
	}
	bl_err("unknown layer '%.*s' (known: %s)", (int)len, w, sb_str(&known));
	sb_release(&known);
	return -1;
}

/* L may stand at position S->n: a block layer below the top, one of each
 * kind, md on the disks */
static int layer_fits(const struct bl_stack *s, enum bl_layer l, bool last)
{
	enum bl_layer_kind k = bl_layer_kind(l);
	if ((k == BL_KIND_FS) != last)
		return bl_err(last ? "the top layer '%s' is not a filesystem (ext4, xfs)"
				   : "filesystem '%s' below the top",
			      bl_layer_name(l));
	for (size_t i = 0; i < s->n; i++)
		if (s->layer[i] == l)
			return bl_err("layer '%s' twice", bl_layer_name(l));
		else if (bl_layer_kind(s->layer[i]) == k)
			return bl_err("layers '%s' and '%s': one %s layer in a stack",
				      bl_layer_name(s->layer[i]), bl_layer_name(l), kind_names[k]);
	if (k == BL_KIND_MD && s->n)
		return bl_err("%s above %s (md over one %s device) is not a stack bootlab "
			      "builds: %s goes on the disks, at the bottom",
			      bl_layer_name(l), bl_layer_name(s->layer[s->n - 1]),
			      bl_layer_name(s->layer[s->n - 1]), bl_layer_name(l));
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

/* the forms a UUID is written in: groups of hex digits and a separator */
static const struct {
	char sep;
	size_t n;
	size_t group[5];
} uuid_forms[] = {{'-', 5, {8, 4, 4, 4, 12}}, {':', 4, {8, 8, 8, 8}}};

/* U in form F: its 32 hex digits in lower case into HEX */
static bool uuid_in_form(const char *u, size_t f, char hex[33])
{
	size_t n = 0;
	for (size_t g = 0; g < uuid_forms[f].n; g++) {
		if (g && *u++ != uuid_forms[f].sep)
			return false;
		for (size_t k = 0; k < uuid_forms[f].group[g]; k++, u++) {
			if (!isxdigit((unsigned char)*u))
				return false;
			hex[n++] = (char)tolower((unsigned char)*u);
		}
	}
	hex[n] = 0;
	return !*u;
}

/* U as 8-4-4-4-12 or (MD) also 8:8:8:8, its hex digits into HEX */
static int uuid_hex(const char *u, bool md, char hex[33])
{
	if (uuid_in_form(u, 0, hex) || (md && uuid_in_form(u, 1, hex)))
		return 0;
	return bl_err("'%s' is not a UUID (32 hex digits as 8-4-4-4-12%s)", u,
		      md ? ", or mdadm's 8:8:8:8" : "");
}

int bl_stack_id_parse(const char *arg, struct bl_stack_ids *ids)
{
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : 0;
	char *slot = !eq				    ? NULL
		     : len == 2 && !strncmp(arg, "md", 2)   ? ids->array
		     : len == 4 && !strncmp(arg, "luks", 4) ? ids->luks
		     : len == 4 && !strncmp(arg, "root", 4) ? ids->root
							    : NULL;
	char hex[33];
	if (!slot)
		return bl_err("'%s': want NAME=UUID, NAME one of md, luks, root", arg);
	if (*slot)
		return bl_err("'%.*s' given twice", (int)len, arg);
	if (uuid_hex(eq + 1, slot == ids->array, hex) < 0)
		return bl_err_prefix("%.*s", (int)len, arg);
	if (slot == ids->array)
		snprintf(slot, 40, "%.8s:%.8s:%.8s:%.8s", hex, hex + 8, hex + 16, hex + 24);
	else
		snprintf(slot, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
			 hex + 20);
	return 0;
}
