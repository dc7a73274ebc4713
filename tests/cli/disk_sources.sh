#!/bin/bash
# Filesystem content from an existing archive (cpio:, any codec, made by GNU
# cpio) and from a gen_init_cpio list (list:), with tree: and files: laid
# over them; read back with debugfs (content, modes, owners, symlinks).
# timeout: 120
. "$(dirname "$0")/../lib.sh"
for t in cpio gzip debugfs e2fsck jq; do
	command -v $t >/dev/null || { skip "$t missing" "disk_sources"; done_testing; exit; }
done
export XDG_CACHE_HOME=$T_TMP/cache
mkdir -p $T_TMP/a/etc $T_TMP/a/bin $T_TMP/over/etc
echo "from cpio" > $T_TMP/a/etc/a.txt
echo "will be replaced" > $T_TMP/a/etc/b.txt
printf '#!/bin/sh\n' > $T_TMP/a/bin/tool; chmod 0750 $T_TMP/a/bin/tool
ln -s a.txt $T_TMP/a/etc/link
echo "from tree" > $T_TMP/over/etc/b.txt
(cd $T_TMP/a && find . | cpio -o -H newc --quiet -R 0:0 | gzip -9) > $T_TMP/a.cpio.gz
echo "listed file" > $T_TMP/host.txt
cat > $T_TMP/l.list <<EOL
dir /etc 0755 0 0
file /etc/listed $T_TMP/host.txt 0600 12 34
slink /etc/ln listed 0777 0 0
dir /var 0700 0 0
EOL
cat > $T_TMP/spec.json <<'EOJ'
{"disks": [
  {"name": "c", "size": "8M", "filesystem": {"cpio": "a.cpio.gz", "tree": "over",
     "files": [{"path": "/etc/inline", "content": "inline\n", "mode": "0640"}]}},
  {"name": "l", "size": "8M", "filesystem": {"list": "l.list"}}]}
EOJ
if ! "$BOOTLAB" disk build -o $T_TMP/w $T_TMP/spec.json > $T_TMP/sum.json 2> $T_TMP/err; then
	not_ok "build"; sed 's/^/#   /' $T_TMP/err; done_testing; exit
fi
ok "build"
c=$T_TMP/w/c.img l=$T_TMP/w/l.img
check "cpio fs: e2fsck clean" e2fsck -fn $c
expect_eq "cpio: file" "$(debugfs -R 'cat /etc/a.txt' $c 2>/dev/null)" "from cpio"
expect_eq "tree over cpio" "$(debugfs -R 'cat /etc/b.txt' $c 2>/dev/null)" "from tree"
expect_eq "files over both" "$(debugfs -R 'cat /etc/inline' $c 2>/dev/null)" "inline"
expect_match "cpio: mode 0750 kept" "$(debugfs -R 'stat /bin/tool' $c 2>/dev/null)" "Mode: +0750"
expect_match "cpio: symlink" "$(debugfs -R 'stat /etc/link' $c 2>/dev/null)" 'Fast link dest: "a.txt"'
expect_match "files: mode 0640" "$(debugfs -R 'stat /etc/inline' $c 2>/dev/null)" "Mode: +0640"
check "list fs: e2fsck clean" e2fsck -fn $l
expect_eq "list: file" "$(debugfs -R 'cat /etc/listed' $l 2>/dev/null)" "listed file"
st=$(debugfs -R 'stat /etc/listed' $l 2>/dev/null)
expect_match "list: mode 0600" "$st" "Mode: +0600"
expect_match "list: owner 12:34" "$st" "User: +12 +Group: +34"
expect_match "list: dir mode 0700" "$(debugfs -R 'stat /var' $l 2>/dev/null)" "Mode: +0700"
expect_match "list: symlink" "$(debugfs -R 'stat /etc/ln' $l 2>/dev/null)" 'Fast link dest: "listed"'
# the cache key follows the files a list names
k1=$(json_get $T_TMP/sum.json '.disks[1].cache')
echo "listed file, changed" > $T_TMP/host.txt
"$BOOTLAB" disk build -o $T_TMP/w2 $T_TMP/spec.json > $T_TMP/sum2.json
check "changing a listed host file changes the cache key" test "$k1" != "$(json_get $T_TMP/sum2.json '.disks[1].cache')"
expect_eq "and the content" "$(debugfs -R 'cat /etc/listed' $T_TMP/w2/l.img 2>/dev/null)" "listed file, changed"
# bad sources name their field
echo '{"disks": [{"name": "x", "size": "8M", "filesystem": {"cpio": "nope.cpio"}}]}' > $T_TMP/bad.json
out=$("$BOOTLAB" disk build -o $T_TMP/wb $T_TMP/bad.json 2>&1); rc=$?
expect_eq "missing cpio: exit 2" $rc 2
expect_match "missing cpio: names the field" "$out" "disks\[0\]\.filesystem\.cpio: '.*nope.cpio' is not a file"
printf 'junk that is not cpio' > $T_TMP/junk.cpio
echo '{"disks": [{"name": "x", "size": "8M", "filesystem": {"cpio": "junk.cpio"}}]}' > $T_TMP/bad.json
# its own cache: the build fails in the cache's stage folder
out=$(XDG_CACHE_HOME=$T_TMP/cache-junk "$BOOTLAB" disk build -o $T_TMP/wb $T_TMP/bad.json 2>&1); rc=$?
expect_eq "junk cpio: exit 2" $rc 2
expect_match "junk cpio: names the field" "$out" "disks\[0\]\.filesystem\.cpio"
nothing_written "junk cpio: nothing in the workdir nor the disk cache" $T_TMP/wb $T_TMP/cache-junk/bootlab/disks
done_testing
