/* MBR and GPT partition tables. GPT: protective MBR, primary header at
 * LBA 1 with 128 entries of 128 bytes from LBA 2, the same entries before
 * the backup header in the last LBA, CRC32s over header and entries
 * (UEFI spec 2.x, chapter 5). */
#include "disk.h"
#include "util/util.h"

#include <ctype.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GPT_ENTRIES 128
#define GPT_ENTRY_SIZE 128
#define GPT_ENTRY_SECTORS (GPT_ENTRIES * GPT_ENTRY_SIZE / 512) /* 32 */

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/* CHS for an LBA with the usual 255 heads x 63 sectors, saturating */
static void chs(uint8_t out[3], uint64_t lba)
{
	uint64_t c = lba / (255 * 63), h = (lba / 63) % 255, s = lba % 63 + 1;
	if (c > 1023) {
		c = 1023;
		h = 254;
		s = 63;
	}
	out[0] = (uint8_t)h;
	out[1] = (uint8_t)(s | ((c >> 2) & 0xc0));
	out[2] = (uint8_t)(c & 0xff);
}

static void mbr_entry(uint8_t *e, uint8_t status, uint8_t type, uint64_t start, uint64_t n)
{
	e[0] = status;
	chs(e + 1, start);
	e[4] = type;
	chs(e + 5, start + n - 1);
	put32(e + 8, (uint32_t)start);
	put32(e + 12, (uint32_t)(n > 0xffffffffULL ? 0xffffffffULL : n));
}

int bl_ptable_write_mbr(int fd, uint64_t disk_sectors, uint32_t signature,
			const struct bl_part_entry *p, size_t n)
{
	uint8_t mbr[512] = {0};
	if (n > 4)
		return bl_err("an MBR holds at most 4 partitions, not %zu", n);
	if (disk_sectors > 0xffffffffULL)
		return bl_err("disk too large for an MBR (max 2 TiB)");
	put32(mbr + 440, signature);
	for (size_t i = 0; i < n; i++)
		mbr_entry(mbr + 446 + 16 * i, p[i].bootable ? 0x80 : 0, p[i].mbr_type, p[i].start,
			  p[i].sectors);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	return bl_pwrite_all(fd, mbr, sizeof(mbr), 0);
}

static void gpt_header(uint8_t *h, uint64_t my, uint64_t alt, uint64_t first, uint64_t last,
		       const uint8_t guid[16], uint64_t entries_lba, uint32_t entries_crc)
{
	memset(h, 0, 512);
	memcpy(h, "EFI PART", 8);
	put32(h + 8, 0x00010000);
	put32(h + 12, 92);
	put64(h + 24, my);
	put64(h + 32, alt);
	put64(h + 40, first);
	put64(h + 48, last);
	memcpy(h + 56, guid, 16);
	put64(h + 72, entries_lba);
	put32(h + 80, GPT_ENTRIES);
	put32(h + 84, GPT_ENTRY_SIZE);
	put32(h + 88, entries_crc);
	put32(h + 16, (uint32_t)crc32(0, h, 92));
}

int bl_ptable_write_gpt(int fd, uint64_t disk_sectors, const uint8_t disk_guid[16],
			const struct bl_part_entry *p, size_t n)
{
	if (n > GPT_ENTRIES)
		return bl_err("a GPT holds at most %d partitions", GPT_ENTRIES);
	if (disk_sectors < 2 * (1 + GPT_ENTRY_SECTORS) + 2)
		return bl_err("disk too small for a GPT");
	uint64_t last_lba = disk_sectors - 1;
	uint64_t first_usable = 2 + GPT_ENTRY_SECTORS;
	uint64_t last_usable = last_lba - 1 - GPT_ENTRY_SECTORS;

	uint8_t mbr[512] = {0};
	uint64_t pn = disk_sectors - 1;
	mbr_entry(mbr + 446, 0, 0xee, 1, pn);
	/* protective entry: CHS start 0/0/2, end saturated, per the spec */
	mbr[447] = 0;
	mbr[448] = 2;
	mbr[449] = 0;
	mbr[451] = mbr[452] = mbr[453] = 0xff;
	mbr[510] = 0x55;
	mbr[511] = 0xaa;

	uint8_t *ents = xcalloc(GPT_ENTRIES, GPT_ENTRY_SIZE);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = ents + i * GPT_ENTRY_SIZE;
		if (p[i].start < first_usable || p[i].start + p[i].sectors - 1 > last_usable) {
			free(ents);
			return bl_err("partition %zu outside the GPT's usable sectors %llu-%llu",
				      i + 1, (unsigned long long)first_usable,
				      (unsigned long long)last_usable);
		}
		memcpy(e, p[i].gpt_type, 16);
		memcpy(e + 16, p[i].gpt_guid, 16);
		put64(e + 32, p[i].start);
		put64(e + 40, p[i].start + p[i].sectors - 1);
		put64(e + 48, p[i].bootable ? 4 : 0); /* bit 2: legacy BIOS bootable */
		for (size_t k = 0; p[i].name && p[i].name[k] && k < 36; k++)
			put16(e + 56 + 2 * k, (uint8_t)p[i].name[k]);
	}
	uint32_t ecrc = (uint32_t)crc32(0, ents, GPT_ENTRIES * GPT_ENTRY_SIZE);
	uint8_t prim[512], back[512];
	gpt_header(prim, 1, last_lba, first_usable, last_usable, disk_guid, 2, ecrc);
	gpt_header(back, last_lba, 1, first_usable, last_usable, disk_guid,
		   last_lba - GPT_ENTRY_SECTORS, ecrc);
	int r = bl_pwrite_all(fd, mbr, 512, 0);
	if (!r)
		r = bl_pwrite_all(fd, prim, 512, 512);
	if (!r)
		r = bl_pwrite_all(fd, ents, GPT_ENTRIES * GPT_ENTRY_SIZE, 2 * 512);
	if (!r)
		r = bl_pwrite_all(fd, ents, GPT_ENTRIES * GPT_ENTRY_SIZE,
				  (last_lba - GPT_ENTRY_SECTORS) * 512);
	if (!r)
		r = bl_pwrite_all(fd, back, 512, last_lba * 512);
	free(ents);
	return r;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* text order: 8-4-4-4-12 hex digits; the first three groups are stored
 * little-endian, the last two as written */
static const int guid_order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

int bl_guid_parse(const char *s, uint8_t out[16])
{
	uint8_t b[16];
	int k = 0;
	if (strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return -1;
	for (int i = 0; i < 36;) {
		if (s[i] == '-') {
			i++;
			continue;
		}
		int h = hexval(s[i]), l = hexval(s[i + 1]);
		if (h < 0 || l < 0 || k >= 16)
			return -1;
		b[k++] = (uint8_t)(h << 4 | l);
		i += 2;
	}
	if (k != 16)
		return -1;
	for (int i = 0; i < 16; i++)
		out[guid_order[i]] = b[i];
	return 0;
}

void bl_guid_str(const uint8_t g[16], char out[37])
{
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		o += sprintf(o, "%02X", g[guid_order[i]]);
	}
}

/* ---- partition types by name ---- */

static const struct ptype {
	const char *name;
	uint8_t mbr; /* 0: GPT only */
	const char *guid;
} ptypes[] = {
    {"linux", 0x83, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"},
    {"raid", 0xfd, "A19D880F-05FC-4D3B-A006-743F0F84911E"},
    {"swap", 0x82, "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"},
    {"lvm", 0x8e, "E6D6D379-F507-44C2-A23C-238F2A3DF928"},
    {"esp", 0xef, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"},
    {"fat32", 0x0c, "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"},
    {"bios", 0, "21686148-6449-6E6F-744E-656564454649"},
    {"home", 0, "933AC7E1-2EB4-4F13-B844-0E14E2AEF915"},
    {"root-x86-64", 0, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"},
    {"root-arm64", 0, "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"},
};

static const struct {
	const char *alias, *name;
} ptype_aliases[] = {
    {"linux-raid", "raid"}, {"linux-swap", "swap"}, {"linux-lvm", "lvm"},
    {"efi", "esp"},	    {"bios-boot", "bios"},  {"linux-home", "home"},
};

/* an MBR type byte in hex like fdisk: fd, 0xfd, 83; -1 if S is not one */
static int hex_byte(const char *s)
{
	char *end;
	if (!strncasecmp(s, "0x", 2))
		s += 2;
	unsigned long b = strtoul(s, &end, 16);
	return *s && !*end && strlen(s) <= 2 && b > 0 ? (int)b : -1;
}

static int ptype_unknown(const char *s, enum bl_ptable t)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < BL_ARRAY_SIZE(ptypes); i++)
		if (t == BL_PTABLE_GPT || ptypes[i].mbr)
			sb_addf(&sb, "%s, ", ptypes[i].name);
	bl_err("unknown partition type '%s' (names: %sor %s)", s, sb_str(&sb),
	       t == BL_PTABLE_GPT ? "a GUID" : "a hex byte like fd");
	sb_release(&sb);
	return -1;
}

int bl_ptype_parse(const char *s, enum bl_ptable t, uint8_t *mbr, uint8_t gpt[16])
{
	for (size_t i = 0; i < BL_ARRAY_SIZE(ptype_aliases); i++)
		if (!strcasecmp(s, ptype_aliases[i].alias))
			s = ptype_aliases[i].name;
	for (size_t i = 0; i < BL_ARRAY_SIZE(ptypes); i++) {
		if (strcasecmp(s, ptypes[i].name))
			continue;
		if (t == BL_PTABLE_MBR && !ptypes[i].mbr)
			return bl_err("partition type '%s' exists only in a GPT", s);
		*mbr = ptypes[i].mbr;
		return bl_guid_parse(ptypes[i].guid, gpt);
	}
	if (t == BL_PTABLE_GPT && bl_guid_parse(s, gpt) == 0)
		return 0;
	int b = hex_byte(s);
	if (b > 0 && t == BL_PTABLE_MBR) {
		*mbr = (uint8_t)b;
		return 0;
	}
	/* in a GPT, the MBR codes of known types stand for their GUIDs */
	for (size_t i = 0; b > 0 && i < BL_ARRAY_SIZE(ptypes); i++)
		if (ptypes[i].mbr == b)
			return bl_guid_parse(ptypes[i].guid, gpt);
	return ptype_unknown(s, t);
}
