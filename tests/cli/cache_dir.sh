#!/bin/bash
# The cache folder (bl_cache_dir): $XDG_CACHE_HOME/bootlab, else the home's
# .cache/bootlab, the home from $HOME or, when HOME is unset, from the
# password database, never a shared /tmp/.cache; a cache folder another
# user owns, or that others may write, is refused with its name.
. "$(dirname "$0")/../lib.sh"

C=$T_TMP/xdg
mkdir -p "$C/bootlab"
out=$(XDG_CACHE_HOME=$C "$BOOTLAB" kernel list 2>&1); rc=$?
expect_eq "a cache folder of our own is used" "$rc" 0
chmod 0777 "$C/bootlab"
out=$(XDG_CACHE_HOME=$C "$BOOTLAB" kernel list 2>&1); rc=$?
expect_eq "a cache folder others may write: exit 3" "$rc" 3
expect_match "it names the folder and its mode" "$out" "cache folder '$C/bootlab' is writable by other users \(mode 0777\)"
chmod 0755 "$C/bootlab"
if [ "$(id -u)" = 0 ]; then
	chown nobody "$C/bootlab"
	out=$(XDG_CACHE_HOME=$C "$BOOTLAB" kernel list 2>&1); rc=$?
	expect_eq "another user's cache folder: exit 3" "$rc" 3
	expect_match "it names the folder and its owner" "$out" "cache folder '$C/bootlab' belongs to uid $(id -u nobody), not to this user"
	chown root "$C/bootlab"
else
	skip "chown needs root" "another user's cache folder"
fi
mkdir -p "$T_TMP/x2"; ln -s "$C/bootlab" "$T_TMP/x2/bootlab"
out=$(XDG_CACHE_HOME=$T_TMP/x2 "$BOOTLAB" kernel list 2>&1); rc=$?
expect_match "a symlink as the cache folder is refused" "$rc $out" "^3 .*'$T_TMP/x2/bootlab' is not a folder"

# HOME unset: the password database's home, not /tmp/.cache (seen in a
# private mount namespace whose /tmp is empty)
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	home=$(getent passwd "$(id -u)" | cut -d: -f6)
	# bootlab is run through an fd opened before the mount: a clone under
	# /tmp (ci/check-cold's) would be hidden by the empty /tmp
	out=$(unshare -m --propagation private sh -c '
		exec 3<"$1"
		mount -t tmpfs bootlab-tmp /tmp || exit 99
		env -u HOME -u XDG_CACHE_HOME /proc/self/fd/3 kernel list >/dev/null 2>&1 || echo "exit $?"
		[ -e /tmp/.cache ] && echo "/tmp/.cache made"
		[ -d "$2/.cache/bootlab" ] && echo home' sh "$BOOTLAB" "$home" 2>&1)
	expect_eq "HOME unset: the cache is in $home, nothing in /tmp" "$out" "home"
else
	skip "needs root and unshare -m" "HOME unset"
fi
done_testing
