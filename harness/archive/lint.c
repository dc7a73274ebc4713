/* Lint: the pitfalls of the kernel docs and the Gentoo/klibc guides, checked
 * on the rootfs an initrd leaves behind (every segment, later entries win). */
#include "archive.h"

#include <elf.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct node {
	char *path;  /* normalized */
	size_t last; /* index of the entry the kernel keeps */
	size_t first;
	uint64_t segmask; /* segments holding it (first 64) */
	size_t nseg;
};

struct view {
	const struct bl_initrd *rd;
	const struct bl_initrd *builtin; /* the kernel's built-in archive, NULL when unknown */
	struct node *v;
	size_t n;
	struct bl_lint *out;
	struct strlist libdirs;
	struct strlist checked; /* ELF objects already checked */
};

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->path, ((const struct node *)b)->path);
}

static void add(struct bl_lint *l, enum bl_lint_severity sev, const char *code, const char *path,
		const char *fmt, ...) BL_PRINTF(5, 6);
static void add(struct bl_lint *l, enum bl_lint_severity sev, const char *code, const char *path,
		const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb = STRBUF_INIT;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	BL_GROW(l->v, l->n, l->alloc);
	struct bl_lint_finding *f = &l->v[l->n++];
	f->severity = sev;
	f->code = xstrdup(code);
	f->path = path ? xasprintf("/%s", path) : NULL;
	f->message = sb_detach(&sb, NULL);
}

void bl_lint_release(struct bl_lint *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].code);
		free(l->v[i].path);
		free(l->v[i].message);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int bl_lint_keep(void *ctx, const struct bl_cpio_entry *e, const unsigned char *head, size_t n)
{
	(void)ctx;
	if (!S_ISREG(e->mode))
		return 0;
	return e->filesize <= 64 * 1024 || (n >= SELFMAG && !memcmp(head, ELFMAG, SELFMAG)) ||
	       (n >= 2 && head[0] == '#' && head[1] == '!');
}

const char *bl_lint_severity_name(enum bl_lint_severity s)
{
	return s == BL_LINT_ERROR ? "error" : s == BL_LINT_WARNING ? "warning" : "info";
}

static struct node *find(struct view *w, const char *path)
{
	struct node key = {.path = (char *)path};
	return bsearch(&key, w->v, w->n, sizeof(*w->v), cmp_node);
}

static const struct bl_cpio_entry *ent(struct view *w, const struct node *n)
{
	return &w->rd->entries[n->last];
}

/* Resolve path inside the archive, following symlinks in every component
 * (and in the last one when follow). Returns the node or NULL. */
static struct node *resolve(struct view *w, const char *path, int follow)
{
	char *cur = bl_archive_normalize(path);
	struct node *hit = NULL;
	for (int hops = 0; hops < 40; hops++) {
		/* find the first component that is a symlink */
		size_t len = strlen(cur);
		int changed = 0;
		for (size_t i = 0; i <= len && !changed; i++) {
			if (i < len && cur[i] != '/')
				continue;
			char saved = cur[i];
			cur[i] = 0;
			struct node *n = *cur ? find(w, cur) : NULL;
			cur[i] = saved;
			if (!*cur)
				break;
			if (!n) {
				free(cur);
				return NULL;
			}
			const struct bl_cpio_entry *e = ent(w, n);
			if (!S_ISLNK(e->mode) || (i == len && !follow)) {
				if (i == len)
					hit = n;
				continue;
			}
			char *target = xstrndup((const char *)e->data, e->filesize);
			char *base;
			if (target[0] == '/') {
				base = xstrdup("");
			} else {
				base = xstrndup(cur, i);
				char *slash = strrchr(base, '/');
				if (slash)
					*slash = 0;
				else
					*base = 0;
			}
			/* resolve '..' textually against base */
			struct strbuf sb = STRBUF_INIT;
			sb_addf(&sb, "%s/%s%s", base, target, cur + i);
			char *norm = bl_archive_normalize(sb.buf);
			sb_release(&sb);
			struct strlist parts = STRLIST_INIT;
			char *save = NULL;
			for (char *c = strtok_r(norm, "/", &save); c;
			     c = strtok_r(NULL, "/", &save)) {
				if (!strcmp(c, "..")) {
					if (parts.n)
						free(parts.v[--parts.n]);
				} else {
					sl_push(&parts, c);
				}
			}
			struct strbuf nb = STRBUF_INIT;
			for (size_t k = 0; k < parts.n; k++)
				sb_addf(&nb, "%s%s", k ? "/" : "", parts.v[k]);
			sl_release(&parts);
			free(norm);
			free(base);
			free(target);
			free(cur);
			cur = nb.len ? sb_detach(&nb, NULL) : (sb_release(&nb), xstrdup(""));
			changed = 1;
		}
		if (!changed) {
			free(cur);
			return hit;
		}
	}
	free(cur);
	return NULL;
}

/* ---- ELF: interpreter and DT_NEEDED ---- */

struct elfinfo {
	int is_elf, is_64, dynamic;
	char *interp, *soname;
	struct strlist needed, rpath, runpath;
};

static void elf_release(struct elfinfo *ei)
{
	free(ei->interp);
	free(ei->soname);
	sl_release(&ei->needed);
	sl_release(&ei->rpath);
	sl_release(&ei->runpath);
}

static void split_path(struct strlist *sl, const char *str)
{
	char *save = NULL, *copy = xstrdup(str);
	for (char *c = strtok_r(copy, ":", &save); c; c = strtok_r(NULL, ":", &save))
		sl_push(sl, c);
	free(copy);
}

static int elf_parse(const unsigned char *d, size_t n, struct elfinfo *ei)
{
	memset(ei, 0, sizeof(*ei));
	if (n < EI_NIDENT || memcmp(d, ELFMAG, SELFMAG))
		return 0;
	ei->is_elf = 1;
	ei->is_64 = d[EI_CLASS] == ELFCLASS64;
	if (d[EI_DATA] != ELFDATA2LSB)
		return 0; /* big-endian: not checked */
	uint64_t phoff, phnum, phentsize;
	if (ei->is_64) {
		if (n < sizeof(Elf64_Ehdr))
			return 0;
		Elf64_Ehdr h;
		memcpy(&h, d, sizeof(h)); /* entries are only 4-aligned */
		phoff = h.e_phoff, phnum = h.e_phnum, phentsize = h.e_phentsize;
		if (phentsize < sizeof(Elf64_Phdr))
			return 0;
	} else {
		if (n < sizeof(Elf32_Ehdr))
			return 0;
		Elf32_Ehdr h;
		memcpy(&h, d, sizeof(h));
		phoff = h.e_phoff, phnum = h.e_phnum, phentsize = h.e_phentsize;
		if (phentsize < sizeof(Elf32_Phdr))
			return 0;
	}
	if (phoff > n || phnum > (n - phoff) / phentsize)
		return 0;
	struct {
		uint64_t vaddr, off, filesz;
	} loads[16];
	size_t nloads = 0;
	uint64_t dyn_off = 0, dyn_size = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		uint64_t o = phoff + i * phentsize, type, off, filesz, vaddr;
		if (ei->is_64) {
			Elf64_Phdr p;
			memcpy(&p, d + o, sizeof(p));
			type = p.p_type, off = p.p_offset, filesz = p.p_filesz, vaddr = p.p_vaddr;
		} else {
			Elf32_Phdr p;
			memcpy(&p, d + o, sizeof(p));
			type = p.p_type, off = p.p_offset, filesz = p.p_filesz, vaddr = p.p_vaddr;
		}
		if (off > n || filesz > n - off)
			continue;
		if (type == PT_INTERP && filesz)
			ei->interp =
			    xstrndup((const char *)d + off, strnlen((const char *)d + off, filesz));
		else if (type == PT_DYNAMIC)
			dyn_off = off, dyn_size = filesz, ei->dynamic = 1;
		else if (type == PT_LOAD && nloads < BL_ARRAY_SIZE(loads)) {
			loads[nloads].vaddr = vaddr, loads[nloads].off = off;
			loads[nloads++].filesz = filesz;
		}
	}
	if (!dyn_size)
		return 0;
	size_t dsz = ei->is_64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	uint64_t strtab = 0, strsz = 0;
	struct {
		int64_t tag;
		uint64_t val;
	} dyn[512];
	size_t ndyn = 0;
	for (uint64_t o = dyn_off; o + dsz <= dyn_off + dyn_size && ndyn < BL_ARRAY_SIZE(dyn);
	     o += dsz) {
		int64_t tag;
		uint64_t val;
		if (ei->is_64) {
			Elf64_Dyn x;
			memcpy(&x, d + o, sizeof(x));
			tag = x.d_tag, val = x.d_un.d_val;
		} else {
			Elf32_Dyn x;
			memcpy(&x, d + o, sizeof(x));
			tag = x.d_tag, val = x.d_un.d_val;
		}
		if (tag == DT_NULL)
			break;
		if (tag == DT_STRTAB)
			strtab = val;
		else if (tag == DT_STRSZ)
			strsz = val;
		dyn[ndyn].tag = tag, dyn[ndyn++].val = val;
	}
	/* DT_STRTAB is a virtual address: map it through PT_LOAD */
	uint64_t stroff = UINT64_MAX;
	for (size_t i = 0; i < nloads; i++)
		if (strtab >= loads[i].vaddr && strtab < loads[i].vaddr + loads[i].filesz)
			stroff = loads[i].off + (strtab - loads[i].vaddr);
	if (stroff == UINT64_MAX || stroff >= n)
		return 0;
	if (!strsz || strsz > n - stroff)
		strsz = n - stroff;
	for (size_t i = 0; i < ndyn; i++) {
		if (dyn[i].val >= strsz)
			continue;
		const char *s = (const char *)d + stroff + dyn[i].val;
		size_t max = strsz - dyn[i].val;
		char *str = xstrndup(s, strnlen(s, max));
		if (dyn[i].tag == DT_NEEDED)
			sl_push(&ei->needed, str);
		else if (dyn[i].tag == DT_RUNPATH)
			split_path(&ei->runpath, str);
		else if (dyn[i].tag == DT_RPATH)
			split_path(&ei->rpath, str);
		else if (dyn[i].tag == DT_SONAME && !ei->soname) {
			ei->soname = str;
			continue;
		}
		free(str);
	}
	return 0;
}

static const unsigned char *content(struct view *w, const struct node *n, size_t *len)
{
	return bl_initrd_content(w->rd, ent(w, n), len);
}

/* ld.so.conf inside the archive (include globs and .d files), plus the
 * defaults the glibc and musl loaders search */
static void collect_libdirs(struct view *w)
{
	static const char *const defaults[] = {
	    "lib",
	    "usr/lib",
	    "lib64",
	    "usr/lib64",
	    "lib/x86_64-linux-gnu",
	    "usr/lib/x86_64-linux-gnu",
	    "lib/aarch64-linux-gnu",
	    "usr/lib/aarch64-linux-gnu",
	    "usr/local/lib",
	};
	struct strlist confs = STRLIST_INIT;
	sl_push(&confs, "etc/ld.so.conf");
	for (size_t c = 0; c < confs.n && c < 64; c++) {
		struct node *n = resolve(w, confs.v[c], 1);
		if (!n || !S_ISREG(ent(w, n)->mode))
			continue;
		size_t len;
		const unsigned char *d = content(w, n, &len);
		char *text = xstrndup((const char *)d, len), *save = NULL;
		for (char *line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			while (*line == ' ' || *line == '\t')
				line++;
			char *hash = strchr(line, '#');
			if (hash)
				*hash = 0;
			size_t l = strlen(line);
			while (l &&
			       (line[l - 1] == ' ' || line[l - 1] == '\t' || line[l - 1] == '\r'))
				line[--l] = 0;
			if (!l)
				continue;
			if (!strncmp(line, "include", 7) && (line[7] == ' ' || line[7] == '\t')) {
				char *pat =
				    bl_archive_normalize(line + 8 + strspn(line + 8, " \t"));
				for (size_t k = 0; k < w->n; k++)
					if (!fnmatch(pat, w->v[k].path, FNM_PATHNAME))
						sl_push(&confs, w->v[k].path);
				free(pat);
			} else if (line[0] == '/') {
				char *dir = bl_archive_normalize(line);
				sl_push(&w->libdirs, dir);
				free(dir);
			}
		}
		free(text);
	}
	sl_release(&confs);
	for (size_t i = 0; i < BL_ARRAY_SIZE(defaults); i++)
		sl_push(&w->libdirs, defaults[i]);
}

static int already(struct strlist *sl, const char *s)
{
	for (size_t i = 0; i < sl->n; i++)
		if (!strcmp(sl->v[i], s))
			return 1;
	sl_push(sl, s);
	return 0;
}

/* One program's objects in the dynamic loader's order (glibc's
 * _dl_map_object_deps): breadth first from the program. A DT_NEEDED name
 * an object already loaded answers to (a name it was loaded by, or its
 * DT_SONAME) is not searched again, so systemd's libsystemd-core finds
 * libsystemd-shared through the RUNPATH of the systemd binary that loaded
 * both. */
struct obj {
	struct node *n;
	struct elfinfo ei;
	char *origin;	      /* its folder, for $ORIGIN */
	struct strlist names; /* names it answers to */
	size_t parent;	      /* the object that needed it; SIZE_MAX for the program */
};

struct loadlist {
	struct obj *v;
	size_t n, alloc;
};

#define LOAD_MAX 512

static void load_add(struct view *w, struct loadlist *l, struct node *n, const char *name,
		     size_t parent)
{
	BL_GROW(l->v, l->n, l->alloc);
	struct obj *o = &l->v[l->n++];
	*o = (struct obj){.n = n, .parent = parent};
	size_t len;
	const unsigned char *d = content(w, n, &len);
	elf_parse(d, len, &o->ei);
	o->origin = xstrdup(n->path);
	char *slash = strrchr(o->origin, '/');
	*(slash ? slash : o->origin) = 0;
	if (name)
		sl_push(&o->names, name);
	if (o->ei.soname)
		sl_push(&o->names, o->ei.soname);
}

static void load_release(struct loadlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		elf_release(&l->v[i].ei);
		free(l->v[i].origin);
		sl_release(&l->v[i].names);
	}
	free(l->v);
}

/* the loaded object that answers to NAME, or is the file N, or NULL */
static struct obj *loaded(struct loadlist *l, const char *name, const struct node *n)
{
	for (size_t i = 0; i < l->n; i++) {
		if (n && l->v[i].n == n)
			return &l->v[i];
		for (size_t k = 0; name && k < l->v[i].names.n; k++)
			if (!strcmp(l->v[i].names.v[k], name))
				return &l->v[i];
	}
	return NULL;
}

static struct node *search(struct view *w, const struct strlist *dirs, const char *origin,
			   const char *name)
{
	for (size_t i = 0; i < dirs->n; i++) {
		struct strbuf sb = STRBUF_INIT;
		const char *rp = dirs->v[i];
		if (!strncmp(rp, "$ORIGIN", 7))
			sb_addf(&sb, "%s%s/%s", origin, rp + 7, name);
		else
			sb_addf(&sb, "%s/%s", rp, name);
		struct node *n = resolve(w, sb.buf, 1);
		sb_release(&sb);
		if (n)
			return n;
	}
	return NULL;
}

/* where the loader finds NAME for object I: without a DT_RUNPATH, its
 * DT_RPATH and those of the objects that loaded it; its DT_RUNPATH; then
 * the library folders */
static struct node *find_lib(struct view *w, const struct loadlist *l, size_t i, const char *name)
{
	if (strchr(name, '/'))
		return resolve(w, name, 1);
	const struct obj *o = &l->v[i];
	struct node *n = NULL;
	for (size_t k = i; !o->ei.runpath.n && !n && k != SIZE_MAX; k = l->v[k].parent)
		n = search(w, &l->v[k].ei.rpath, l->v[k].origin, name);
	if (!n)
		n = search(w, &o->ei.runpath, o->origin, name);
	for (size_t k = 0; !n && k < w->libdirs.n; k++) {
		char *p = xasprintf("%s/%s", w->libdirs.v[k], name);
		n = resolve(w, p, 1);
		free(p);
		if (n && !S_ISREG(ent(w, n)->mode))
			n = NULL;
	}
	return n;
}

static void missing_lib(struct view *w, const struct loadlist *l, size_t i, const char *who,
			const char *name)
{
	const char *path = l->v[i].n->path;
	char *key = xasprintf("%s needs %s", path, name);
	if (!already(&w->checked, key)) {
		char *lw = i ? xasprintf("library '/%s'", path) : NULL;
		add(w->out, BL_LINT_ERROR, "missing-library", path,
		    "%s needs '%s' (DT_NEEDED), which is in none of the archive's library "
		    "folders: the dynamic loader will fail",
		    i ? lw : who, name);
		free(lw);
	}
	free(key);
}

static void check_elf(struct view *w, const char *path, const char *who)
{
	struct node *n = resolve(w, path, 1);
	if (!n || already(&w->checked, n->path))
		return;
	struct loadlist l = {0};
	load_add(w, &l, n, NULL, SIZE_MAX);
	if (l.v[0].ei.interp && !resolve(w, l.v[0].ei.interp, 1))
		add(w->out, BL_LINT_ERROR, "missing-elf-interpreter", n->path,
		    "%s is dynamically linked but its ELF interpreter '%s' is not in the "
		    "archive: exec fails with error -2 (ENOENT)",
		    who, l.v[0].ei.interp);
	for (size_t i = 0; i < l.n && l.n < LOAD_MAX; i++)
		for (size_t k = 0; k < l.v[i].ei.needed.n; k++) {
			const char *name = l.v[i].ei.needed.v[k];
			if (loaded(&l, name, NULL))
				continue;
			struct node *lib = find_lib(w, &l, i, name);
			struct obj *same = lib ? loaded(&l, NULL, lib) : NULL;
			if (!lib)
				missing_lib(w, &l, i, who, name);
			else if (same)
				sl_push(&same->names, name);
			else
				load_add(w, &l, lib, name, i);
		}
	load_release(&l);
}

/* ---- the checks ---- */

static const char *fallbacks(struct view *w, struct strbuf *sb)
{
	static const char *const fb[] = {"sbin/init", "etc/init", "bin/init", "bin/sh"};
	for (size_t i = 0; i < BL_ARRAY_SIZE(fb); i++) {
		struct node *n = resolve(w, fb[i], 1);
		if (n && S_ISREG(ent(w, n)->mode) && (ent(w, n)->mode & 0111))
			sb_addf(sb, "%s/%s", sb->len ? ", " : "", fb[i]);
	}
	return sb->len ? sb->buf : NULL;
}

/* the program a '#!' line names (caller frees), and in *arg the first word
 * after it (caller frees) */
static char *shebang(const unsigned char *d, size_t len, char **arg)
{
	size_t end = 2;
	while (end < len && end < 256 && d[end] != '\n')
		end++;
	char *line = xstrndup((const char *)d + 2, end - 2);
	char *p = line + strspn(line, " \t");
	char *rest = p + strcspn(p, " \t\r");
	char *a = rest + strspn(rest, " \t");
	a[strcspn(a, " \t\r")] = 0;
	*arg = xstrdup(a);
	*rest = 0;
	char *interp = xstrdup(p);
	free(line);
	return interp;
}

/* sh, ash, bash or dash, or busybox running one of them */
static int is_shell(const char *interp, const char *arg)
{
	static const char *const shells[] = {"sh", "ash", "bash", "dash"};
	const char *b = strrchr(interp, '/');
	b = b ? b + 1 : interp;
	if (!strcmp(b, "busybox"))
		b = arg;
	for (size_t i = 0; i < BL_ARRAY_SIZE(shells); i++)
		if (!strcmp(b, shells[i]))
			return 1;
	return 0;
}

/* only the script's last SCRIPT_TAIL bytes are searched for a top-level exec */
#define SCRIPT_TAIL 65536

static size_t blanks(const unsigned char *d, size_t from, size_t end)
{
	while (from < end && (d[from] == ' ' || d[from] == '\t' || d[from] == '\r'))
		from++;
	return from;
}

/* the start of the line that ends at end (exclusive), not before lo */
static size_t line_start(const unsigned char *d, size_t lo, size_t end)
{
	while (end > lo && d[end - 1] != '\n')
		end--;
	return end;
}

/* whether the line ending at end (exclusive) ends with a '\' continuation */
static int continued(const unsigned char *d, size_t lo, size_t end)
{
	while (end > lo && (d[end - 1] == '\r' || d[end - 1] == ' ' || d[end - 1] == '\t'))
		end--;
	return end > lo && d[end - 1] == '\\';
}

/* the offset of the last command in the script d[0..len): trailing blank
 * lines and comments skipped, lines continued with '\' joined; len when
 * there is none (the '#!' line is a comment) */
static size_t last_command(const unsigned char *d, size_t len)
{
	/* the whole script, not a tail window: a line cut by a window would be
	 * judged (comment or command) by a byte from its middle; each byte is
	 * stepped over once or twice, so this stays linear */
	size_t lo = 0;
	for (size_t e = len;; e--) {
		size_t s = line_start(d, lo, e), f = blanks(d, s, e);
		if (f < e && d[f] != '#') {
			while (s > lo && continued(d, lo, s - 1))
				s = line_start(d, lo, s - 1);
			return blanks(d, s, e);
		}
		if (s <= lo)
			return len;
		e = s; /* the loop's e-- steps over the '\n' */
	}
}

/* whether the command at d[f..len) is 'exec' with a program (not only
 * redirections, which leave the shell running) */
static int exec_command(const unsigned char *d, size_t f, size_t len)
{
	if (len - f < 6 || memcmp(d + f, "exec", 4) || (d[f + 4] != ' ' && d[f + 4] != '\t'))
		return 0;
	size_t a = blanks(d, f + 4, len);
	return a < len && !strchr("\n#;<>&|0123456789", d[a]);
}

/* whether a line of the script's tail starts with 'exec COMMAND', not
 * indented (so not in a function or an if): what follows it runs only when
 * that exec fails (initramfs-tools' /init ends with such a fallback) */
static int top_level_exec(const unsigned char *d, size_t len)
{
	size_t lo = len > SCRIPT_TAIL ? len - SCRIPT_TAIL : 0;
	for (size_t s = lo; s < len; s++)
		if ((s == 0 || d[s - 1] == '\n') && exec_command(d, s, len))
			return 1;
	return 0;
}

/* a shell script /init must end by exec'ing what stays PID 1 */
static void check_exec(struct view *w, const unsigned char *d, size_t len)
{
	size_t f = last_command(d, len);
	if (exec_command(d, f, len) || top_level_exec(d, len))
		return;
	char shown[64];
	size_t n = 0;
	for (size_t i = f; i < len && d[i] != '\n' && n < sizeof(shown) - 1; i++)
		shown[n++] = d[i] >= 0x20 && d[i] < 0x7f ? (char)d[i] : '?';
	shown[n] = 0;
	add(w->out, BL_LINT_WARNING, "init-no-exec", "init",
	    "/init is a shell script whose last command %s%s%s is not 'exec ...': when the "
	    "script ends, PID 1 exits and the kernel panics 'Attempted to kill init!'; end it "
	    "with 'exec switch_root NEWROOT /sbin/init' (or exec what should stay PID 1)",
	    n ? "('" : "(none", shown, n ? "')" : ")");
}

static void check_script(struct view *w, const unsigned char *d, size_t len)
{
	char *arg, *p = shebang(d, len, &arg);
	if (!*p) {
		add(w->out, BL_LINT_ERROR, "init-interpreter-missing", "init",
		    "/init starts with '#!' but names no interpreter: exec fails with "
		    "error -8");
	} else if (!resolve(w, p, 1)) {
		add(w->out, BL_LINT_ERROR, "init-interpreter-missing", "init",
		    "/init is a script for '%s', which is not in the archive: 'Failed to "
		    "execute "
		    "/init (error -2)'",
		    p);
	} else {
		char *who = xasprintf("'%s' (the interpreter of /init)", p);
		check_elf(w, p, who);
		free(who);
		if (is_shell(p, arg))
			check_exec(w, d, len);
	}
	free(arg);
	free(p);
}

static void check_init(struct view *w)
{
	struct node *link = find(w, "init");
	struct node *n = resolve(w, "init", 1);
	struct strbuf fb = STRBUF_INIT;

	if (!n) {
		if (link && S_ISLNK(ent(w, link)->mode))
			add(w->out, BL_LINT_ERROR, "no-init", "init",
			    "/init is a symlink to '%.*s', which is not in the archive: the kernel "
			    "finds no /init and runs prepare_namespace(); without root= it panics "
			    "'VFS: Unable to mount root fs on unknown-block(0,0)' (rdinit= names "
			    "another program in the archive)",
			    (int)ent(w, link)->filesize, (const char *)ent(w, link)->data);
		else
			add(w->out, BL_LINT_ERROR, "no-init", NULL,
			    "no /init: the kernel does not run anything from this archive but "
			    "calls "
			    "prepare_namespace() to mount root=; without root= it panics 'VFS: "
			    "Unable "
			    "to mount root fs on unknown-block(0,0)'. Add /init, or boot with "
			    "rdinit=/path/in/archive");
		return;
	}
	const struct bl_cpio_entry *e = ent(w, n);
	if (!S_ISREG(e->mode)) {
		add(w->out, BL_LINT_ERROR, "init-not-executable", "init",
		    "/init is not a regular file (mode %o)", e->mode);
		return;
	}
	if (!(e->mode & 0111)) {
		const char *f = fallbacks(w, &fb);
		add(w->out, BL_LINT_ERROR, "init-not-executable", "init",
		    "/init has mode %04o, no execute bit: 'Failed to execute /init (error -13)', "
		    "then "
		    "the kernel tries /sbin/init, /etc/init, /bin/init, /bin/sh%s%s%s",
		    e->mode & 07777,
		    f ? " (present: " : " (none present: 'No working init found' panic", f ? f : "",
		    ")");
		sb_release(&fb);
		return;
	}
	size_t len;
	const unsigned char *d = content(w, n, &len);
	if (len >= 2 && d[0] == '#' && d[1] == '!') {
		check_script(w, d, len);
	} else if (len >= 4 && !memcmp(d, ELFMAG, SELFMAG)) {
		check_elf(w, "init", "/init");
	} else {
		add(w->out, BL_LINT_ERROR, "init-not-executable", "init",
		    "/init is neither an ELF binary nor a '#!' script: 'Failed to execute /init "
		    "(error -8)'");
	}
}

/* whether the kernel's built-in archive leaves path as an entry of type
 * fmt (S_IFCHR, S_IFDIR): then the user's archive need not have it */
static int builtin_has(const struct view *w, const char *path, uint32_t fmt)
{
	const struct bl_cpio_entry *e = w->builtin ? bl_initrd_lookup(w->builtin, path) : NULL;
	return e && (e->mode & S_IFMT) == fmt;
}

static void check_console(struct view *w)
{
	struct node *n = find(w, "dev/console");
	if (!n && builtin_has(w, "dev/console", S_IFCHR))
		return; /* the kernel's built-in archive provides it */
	if (!n) {
		add(w->out, BL_LINT_WARNING, "no-dev-console", NULL,
		    "no /dev/console: %s the kernel prints 'Warning: unable to open an initial "
		    "console.' and /init starts with fds 0-2 closed",
		    w->builtin ? "the kernel's built-in archive does not provide it either, so"
			       : "unless the kernel's built-in archive provides it (it does when "
				 "CONFIG_INITRAMFS_SOURCE is empty, as in distribution kernels)");
		return;
	}
	const struct bl_cpio_entry *e = ent(w, n);
	if (S_ISCHR(e->mode))
		return;
	if (S_ISREG(e->mode))
		add(w->out, BL_LINT_WARNING, "no-dev-console", "dev/console",
		    "/dev/console is a regular file: /init's fds 0-2 are that file, not a console");
	else
		add(w->out, BL_LINT_ERROR, "no-dev-console", "dev/console",
		    "/dev/console is not a character device: 'Warning: unable to open an initial "
		    "console.' and /init starts with fds 0-2 closed");
}

/* path's parent folder (path cut at slash) is in no archive: an error, or
 * information for /dev and /root when the kernel is not known (its default
 * built-in archive makes them) */
static void parent_missing(struct view *w, char *path, char *slash)
{
	int dflt = !w->builtin && (!strcmp(path, "dev") || !strcmp(path, "root"));
	*slash = '/';
	add(w->out, dflt ? BL_LINT_INFO : BL_LINT_ERROR, "parent-missing", path,
	    "its parent folder is not in the archive%s: the kernel creates no parents and drops "
	    "the entry silently%s",
	    w->builtin ? " nor in the kernel's built-in archive" : "",
	    dflt ? " (unless the kernel's built-in default archive made it)" : "");
}

static void check_parents(struct view *w)
{
	const struct bl_initrd *rd = w->rd;
	struct strlist seen = STRLIST_INIT; /* one finding per missing parent */
	for (size_t i = 0; i < rd->n_entries; i++) {
		char *p = bl_archive_normalize(rd->entries[i].name);
		char *slash = strrchr(p, '/');
		if (slash) {
			*slash = 0;
			struct node *par = find(w, p);
			if (!par && !already(&seen, p) && !builtin_has(w, p, S_IFDIR)) {
				parent_missing(w, p, slash);
			} else if (par && par->first > i) {
				*slash = '/';
				add(w->out, BL_LINT_ERROR, "parent-after-child", p,
				    "its parent folder comes later in the archive (the 'find "
				    "-depth' "
				    "mistake): the kernel drops the entry silently; list parents "
				    "first");
			}
		}
		free(p);
	}
	sl_release(&seen);
}

static void check_size(struct view *w, uint64_t ram)
{
	uint64_t total = 0;
	for (size_t i = 0; i < w->n; i++) {
		const struct bl_cpio_entry *e = ent(w, &w->v[i]);
		if (S_ISREG(e->mode))
			total += e->filesize;
	}
	if (ram && total > ram / 2)
		add(w->out, BL_LINT_ERROR, "too-big", NULL,
		    "unpacks to %llu bytes, more than half of %llu bytes of RAM (the rootfs tmpfs "
		    "limit): unpacking fails with 'write error' (ENOSPC)",
		    (unsigned long long)total, (unsigned long long)ram);
}

static void check_duplicates(struct view *w)
{
	const struct bl_initrd *rd = w->rd;
	for (size_t i = 0; i < w->n; i++) {
		struct node *n = &w->v[i];
		if (n->nseg < 2)
			continue;
		struct strbuf segs = STRBUF_INIT;
		for (size_t s = 0; s < rd->n_segments && s < 64; s++)
			if (n->segmask & (1ull << s))
				sb_addf(&segs, "%s%zu", segs.len ? ", " : "", s);
		const struct bl_cpio_entry *e = ent(w, n), *f = &rd->entries[n->first];
		/* docs/kernel-behaviour.md section 3: the outcomes that are not
		 * simply "later wins" */
		int children_before = 0;
		size_t plen = strlen(n->path);
		for (size_t k = i + 1; k < w->n; k++) {
			if (strncmp(w->v[k].path, n->path, plen) ||
			    (plen && w->v[k].path[plen] != '/'))
				break;
			if (w->v[k].first < n->last)
				children_before = 1;
		}
		if (S_ISDIR(f->mode) && !S_ISDIR(e->mode) && children_before)
			add(w->out, BL_LINT_WARNING, "duplicate-path", n->path,
			    "in segments %s: a non-empty folder (segment %zu) can not be replaced: "
			    "rmdir fails, the folder stays and segment %zu's %s is dropped "
			    "silently",
			    segs.buf, f->segment, e->segment,
			    S_ISLNK(e->mode) ? "symlink" : "entry");
		else if ((S_ISCHR(f->mode) || S_ISBLK(f->mode)) &&
			 !((f->mode ^ e->mode) & S_IFMT) &&
			 (f->rdevmajor != e->rdevmajor || f->rdevminor != e->rdevminor))
			add(w->out, BL_LINT_WARNING, "duplicate-path", n->path,
			    "in segments %s: the node already exists, so it keeps rdev %u:%u from "
			    "segment %zu (not %u:%u); only mode, owner and mtime change",
			    segs.buf, f->rdevmajor, f->rdevminor, f->segment, e->rdevmajor,
			    e->rdevminor);
		else if (S_ISDIR(e->mode))
			add(w->out, BL_LINT_INFO, "duplicate-path", n->path,
			    "folder in segments %s: they merge; mode and owner come from segment "
			    "%zu, "
			    "the mtime from the earliest",
			    segs.buf, e->segment);
		else
			add(w->out, BL_LINT_INFO, "duplicate-path", n->path,
			    "in segments %s: segment %zu's entry wins (a later archive overwrites)",
			    segs.buf, e->segment);
		sb_release(&segs);
	}
}

int bl_lint_run(const struct bl_initrd *rd, const struct bl_lint_opts *o, struct bl_lint *out)
{
	struct view w = {.rd = rd, .builtin = o->builtin, .out = out};
	/* one node per normalized path, the last entry wins */
	struct node *all = xcalloc(rd->n_entries ? rd->n_entries : 1, sizeof(*all));
	for (size_t i = 0; i < rd->n_entries; i++) {
		all[i].path = bl_archive_normalize(rd->entries[i].name);
		all[i].first = all[i].last = i;
	}
	qsort(all, rd->n_entries, sizeof(*all), cmp_node);
	size_t n = 0;
	for (size_t i = 0; i < rd->n_entries;) {
		size_t j = i;
		struct node m = all[i];
		m.first = SIZE_MAX, m.last = 0, m.segmask = 0, m.nseg = 0;
		for (; j < rd->n_entries && !strcmp(all[j].path, m.path); j++) {
			size_t idx = all[j].first;
			if (idx < m.first)
				m.first = idx;
			if (idx >= m.last)
				m.last = idx;
			size_t s = rd->entries[idx].segment;
			if (s < 64 && !(m.segmask & (1ull << s))) {
				m.segmask |= 1ull << s;
				m.nseg++;
			}
			if (j != i)
				free(all[j].path);
		}
		all[n++] = m;
		i = j;
	}
	w.v = all;
	w.n = n;
	collect_libdirs(&w);
	check_init(&w);
	check_console(&w);
	check_parents(&w);
	check_size(&w, o->ram_bytes);
	check_duplicates(&w);
	for (size_t i = 0; i < n; i++)
		free(all[i].path);
	free(all);
	sl_release(&w.libdirs);
	sl_release(&w.checked);
	return 0;
}
