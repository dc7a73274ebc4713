/* The LUKS layer of a root stack, written by cryptsetup itself: LUKS2
 * (luks) or LUKS1 (luks1) over the device below, the key (a passphrase's
 * bytes or a key file's) in the builder's archive, opened as
 * /dev/mapper/BL_STACK_CRYPT. The key derivation is made cheap: argon2id
 * with 32 MiB and 4 iterations for LUKS2, PBKDF2-SHA256 with 1000
 * iterations (cryptsetup's least) for LUKS1. The initramfs under test
 * unlocks it under TCG in well under a second, where cryptsetup's
 * benchmarked default would take seconds per boot. */
#include "builder/internal.h"

#include <stdlib.h>

/* the key's path in the builder guest */
#define KEY "/etc/bootlab-key"
/* libdevmapper without udev in the builder guest */
#define DM_ENV "export DM_DISABLE_UDEV=1\n"

void bu_luks_create(struct bu_script *s, enum bl_layer l)
{
	struct strbuf sh = STRBUF_INIT;
	const char *dev = s->devs.v[0];
	sb_adds(&sh, DM_ENV "mkdir -p /run/cryptsetup\n");
	sb_addf(
	    &sh, "cryptsetup luksFormat --batch-mode %s --uuid %s --key-file " KEY " %s\n",
	    l == BL_LAYER_LUKS1
		? "--type luks1 --pbkdf pbkdf2 --hash sha256 --pbkdf-force-iterations 1000"
		: "--type luks2 --pbkdf argon2id --pbkdf-memory 32768 --pbkdf-force-iterations 4",
	    s->luks_uuid, dev);
	sb_addf(&sh, "cryptsetup open --key-file " KEY " %s " BL_STACK_CRYPT "\n", dev);
	bu_add(s, xasprintf("%s: cryptsetup luksFormat, open", bl_layer_name(l)),
	       sb_detach(&sh, NULL));
	sl_pushf(&s->below_luks, "%s", dev);
	sl_release(&s->devs);
	sl_push(&s->devs, "/dev/mapper/" BL_STACK_CRYPT);
}

void bu_luks_stop(struct bu_script *s, enum bl_layer l)
{
	bu_add(s, xasprintf("%s: cryptsetup close", bl_layer_name(l)),
	       xstrdup(DM_ENV "cryptsetup close " BL_STACK_CRYPT "\n"));
}

void bu_luks_report(struct bu_script *s, enum bl_layer l)
{
	char *sh = xasprintf(DM_ENV "cryptsetup luksDump %s\n", s->below_luks.v[0]);
	bu_add(s, xasprintf("%s: cryptsetup luksDump", bl_layer_name(l)), sh);
}
