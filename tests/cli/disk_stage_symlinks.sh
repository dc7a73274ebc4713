#!/bin/bash
# Staging a filesystem (files:, agent:) over a tree: a symlink in the tree
# is never followed out of the staging folder. A link pointing outside
# (absolute, or relative climbing above the root) in a parent component is
# an error naming the entry and the link; a link as the last component is
# replaced; relative links that stay inside are followed. A canary folder
# outside is checksummed before and after every build.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
for t in debugfs mke2fs jq sha256sum; do
	command -v $t >/dev/null || { skip "$t missing" "disk_stage_symlinks"; done_testing; exit; }
done
export XDG_CACHE_HOME=$T_TMP/cache
C=$T_TMP/canary
# a fresh canary for each build, so each case shows its own damage
new_canary() {
	rm -rf $C; mkdir -p $C/victim/deep
	echo "host init" > $C/init
	echo "host file" > $C/victim/deep/f
	chmod 0750 $C
}
canary() { (cd $C && find . -printf '%y %m %s %p %l\n' | sort && find . -type f -exec sha256sum {} + | sort); }
new_canary
before=$(canary)
printf '#!/bin/sh\n' > $T_TMP/agentbin
echo "from the host" > $T_TMP/src.txt
up=../../../../../../../../../../../../../../../../../../../..

# fs NAME FILES-JSON [AGENT]: a one-disk spec over tree NAME
fs() {
	local ag=""
	[ -n "${3:-}" ] && ag=", \"agent\": \"$3\""
	printf '{"disks": [{"name": "d", "size": "8M", "filesystem": {"tree": "%s", "files": %s%s}}]}\n' \
		"$1" "$2" "$ag" > $T_TMP/$1.json
}
# refused NAME WHAT REGEX: the build fails (exit 2) naming the entry and the
# link, nothing is left half-written, and the canary is unchanged
refused() {
	local out rc
	new_canary
	out=$(XDG_CACHE_HOME=$T_TMP/cache-$1 "$BOOTLAB" disk build --agent $T_TMP/agentbin -o $T_TMP/w-$1 $T_TMP/$1.json 2>&1); rc=$?
	expect_eq "$2: exit 2" $rc 2
	expect_match "$2: names the entry and the link" "$out" "$3"
	nothing_written "$2: nothing in the workdir nor the disk cache" $T_TMP/w-$1 $T_TMP/cache-$1/bootlab/disks
	expect_eq "$2: canary unchanged" "$(canary)" "$before"
}

mkdir -p $T_TMP/abs $T_TMP/rel $T_TMP/nest/etc $T_TMP/chain $T_TMP/last
ln -s $C $T_TMP/abs/sbin
ln -s $up$C $T_TMP/rel/sbin
ln -s $C $T_TMP/nest/etc/sub
ln -s bin $T_TMP/chain/sbin
ln -s $C $T_TMP/chain/bin
ln -s $C $T_TMP/last/d

fs abs '[{"path": "/sbin/new", "content": "x"}]'
refused abs "absolute link, files: content" \
	"files \(/sbin/new\): symlink '/sbin' -> '$C' leads out of the filesystem"
fs abs '[{"path": "/sbin/victim", "content": "x"}]'
refused abs "absolute link, files: over a host folder (rm -rf)" "files \(/sbin/victim\): symlink '/sbin'"
fs abs '[]' /sbin/init
refused abs "absolute link, agent" "agent \(/sbin/init\): symlink '/sbin' -> '$C'"
fs abs '[{"path": "/sbin/victim/d", "dir": true, "mode": "0700"}]'
refused abs "absolute link, files: dir" "files \(/sbin/victim/d\): symlink '/sbin'"
fs abs '[{"path": "/sbin/l", "symlink": "x"}]'
refused abs "absolute link, files: symlink" "files \(/sbin/l\): symlink '/sbin'"
fs abs "[{\"path\": \"/sbin/victim/deep/f\", \"source\": \"$T_TMP/src.txt\"}]"
refused abs "absolute link, files: source" "files \(/sbin/victim/deep/f\): symlink '/sbin'"
fs rel '[{"path": "/sbin/victim", "content": "x"}]'
refused rel "relative link climbing out, files: (rm -rf)" \
	"files \(/sbin/victim\): symlink '/sbin' -> '\.\./.*' leads out of the filesystem"
fs rel "[{\"path\": \"/sbin/init\", \"source\": \"$T_TMP/src.txt\"}]"
refused rel "relative link climbing out, files: source" "files \(/sbin/init\): symlink '/sbin'"
fs rel '[]' /sbin/init
refused rel "relative link climbing out, agent" "agent \(/sbin/init\): symlink '/sbin'"
fs nest '[{"path": "/etc/sub/init", "content": "x"}]'
refused nest "absolute link deeper down" "files \(/etc/sub/init\): symlink '/etc/sub' -> '$C'"
fs chain '[]' /sbin/init
refused chain "inside link to an outside link" "agent \(/sbin/init\): symlink '/bin' -> '$C'"

# a link as the last component is replaced, never followed (chmod of a dir: included)
fs last '[{"path": "/d", "dir": true, "mode": "0700"}]'
new_canary
if "$BOOTLAB" disk build -o $T_TMP/w-last $T_TMP/last.json >/dev/null 2>$T_TMP/err; then
	ok "dir: over a link to outside: built"
else
	not_ok "dir: over a link to outside: built"; sed 's/^/#   /' $T_TMP/err
fi
expect_match "dir: over a link: a folder in the image" \
	"$(debugfs -R 'stat /d' $T_TMP/w-last/d.img 2>/dev/null)" "Type: directory +Mode: +0700"
expect_eq "dir: over a link: canary unchanged" "$(canary)" "$before"

# relative links that stay inside are followed, as the guest would (merged /usr)
mkdir -p $T_TMP/usr/usr/sbin $T_TMP/usr/a
ln -s usr/sbin $T_TMP/usr/sbin
ln -s ../usr $T_TMP/usr/a/b
ln -s /lib/systemd/systemd $T_TMP/usr/usr/sbin/init
new_canary
fs usr '[{"path": "/sbin/new", "content": "in\n"}, {"path": "/a/b/sbin/two", "content": "two\n"}]' /sbin/init
if "$BOOTLAB" disk build --agent $T_TMP/agentbin -o $T_TMP/w-usr $T_TMP/usr.json >/dev/null 2>$T_TMP/err; then
	ok "merged /usr: built"
else
	not_ok "merged /usr: built"; sed 's/^/#   /' $T_TMP/err
fi
img=$T_TMP/w-usr/d.img
expect_eq "merged /usr: files: through sbin -> usr/sbin" "$(debugfs -R 'cat /usr/sbin/new' $img 2>/dev/null)" "in"
expect_eq "merged /usr: files: through a/b -> ../usr" "$(debugfs -R 'cat /usr/sbin/two' $img 2>/dev/null)" "two"
expect_match "merged /usr: sbin stays a link" "$(debugfs -R 'stat /sbin' $img 2>/dev/null)" 'Fast link dest: "usr/sbin"'
expect_match "merged /usr: the agent replaced the init link" \
	"$(debugfs -R 'stat /usr/sbin/init' $img 2>/dev/null)" "Type: regular +Mode: +0755"
expect_eq "merged /usr: canary unchanged" "$(canary)" "$before"
done_testing
