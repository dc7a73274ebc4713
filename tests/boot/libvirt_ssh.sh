#!/bin/bash
# timeout: 900
# A remote libvirt host reached over qemu+ssh:// (docs/libvirt.md, "A host
# over ssh"): this test's own libvirtd (ci/libvirtd) that cannot see
# bootlab's files (BOOTLAB_LIBVIRTD_HIDE: an empty tmpfs over /tmp, the
# home and cache folders, the tree and TMPDIR in its namespace), and a
# real OpenSSH server in that namespace on 127.0.0.1 with its own host key
# and one authorized key (ci/libvirtd ssh). A qemu+ssh URI uploads
# what a boot needs by itself. Checks: the route goes through sshd with
# the key, an unknown host key fails the boot as an infrastructure error
# naming the host and ssh's reason, a changed one whose warning is past
# the 1024 bytes libvirt keeps says the reason was lost, the scenario library's qemu
# x86_64 variants pass there with the same report content as on the qemu
# backend, and a second run of scenarios with disks sends nothing but
# per-boot archives (bytes counted against the pool's new volumes). The failover to
# the local host when this daemon dies: tests/boot/libvirt_failover.sh.
. "$(dirname "$0")/../lib.sh"

cache=${XDG_CACHE_HOME:-$HOME/.cache}/bootlab
export BOOTLAB_LIBVIRTD_HIDE="/tmp:$HOME:$cache:$PWD:$T_TMP"
libvirtd_start || { done_testing; exit 1; }
unset BOOTLAB_LIBVIRT_URI
lv=$BOOTLAB_LIBVIRTD_DIR
pid=$(cat "$lv/libvirtd.pid")
SSH_URI=$(ci/libvirtd ssh 2> "$T_TMP/sshd.err")
expect_eq "an OpenSSH server listens in the daemon's namespace" "$?" 0
[ -n "$SSH_URI" ] || { sed 's/^/#   /' "$T_TMP/sshd.err" "$lv/ssh/sshd.log"; done_testing; exit 1; }
expect_eq "ci/libvirtd ssh again: the same server" "$(ci/libvirtd ssh)" "$SSH_URI"
echo "# $SSH_URI"
all_true "what logs in there sees neither the tree nor the cache" \
	"! nsenter -t $pid -m -- test -e '$PWD/scenarios/smoke.yaml'" \
	"test -d '$cache/kernels' && ! nsenter -t $pid -m -- test -e '$cache/kernels'"
check "virsh reaches the daemon through sshd" virsh -q -c "$SSH_URI" uri
expect_match "sshd took the authorized key for root" "$(cat "$lv/ssh/sshd.log")" \
	"Accepted publickey for root from 127.0.0.1"

# no key known for the host: ssh refuses in two lines, and libvirt
# passes them on (ssh's message has several lines: joined here)
cp "$lv/ssh/known_hosts" "$T_TMP/known_hosts.good"
: > "$lv/ssh/known_hosts"
out=$("$BOOTLAB" run --connect "$SSH_URI" --report-dir "$T_TMP/bad" tests/data/scenarios/smoke-one.yaml 2>&1); rc=$?
out=${out//$'\n'/ }
expect_eq "an unknown host key: exit 3 (infrastructure)" "$rc" 3
expect_match "the refusal names the host and ssh's reason" "$out" \
	"cannot connect to 'qemu\+ssh://root@127.0.0.1:[0-9]+/system.*Host key verification failed"
expect_match "and points at the remote host, not a local daemon" "$out" \
	"Host key verification failed.*\(does .virsh -c URI version. work from here\?\)"

# a changed host key: ssh's warning names known_hosts three times, and
# here that path is long enough to pass the 1024 bytes libvirt keeps of
# ssh's stderr: libvirt loses the reason (EOVERFLOW), bootlab says so
long=$T_TMP/$(printf 'k%.0s' $(seq 200))/$(printf 'h%.0s' $(seq 200))
mkdir -p "$long"
ssh-keygen -q -t ed25519 -N '' -f "$T_TMP/other_key"
sed "s|ssh-ed25519 .*|$(cut -d' ' -f1-2 "$T_TMP/other_key.pub")|" "$T_TMP/known_hosts.good" > "$long/known_hosts"
printf '#!/bin/sh\nexec ssh -F %s -o UserKnownHostsFile=%s "$@"\n' "$lv/ssh/ssh_config" "$long/known_hosts" > "$T_TMP/ssh-long"
chmod +x "$T_TMP/ssh-long"
port=$(echo "$SSH_URI" | sed -E 's|.*:([0-9]+)/system.*|\1|')
expect_match "ssh itself says more than 1 KiB about the changed key" \
	"$("$T_TMP/ssh-long" -p "$port" root@127.0.0.1 true 2>&1 | wc -c | awk '$1 > 1024 {print "long"}')" '^long$'
out=$("$BOOTLAB" run --connect "${SSH_URI%%\?*}?command=$T_TMP/ssh-long" --report-dir "$T_TMP/bad" \
	tests/data/scenarios/smoke-one.yaml 2>&1); rc=$?
out=${out//$'\n'/ }
expect_eq "a changed host key: exit 3 (infrastructure)" "$rc" 3
expect_match "bootlab says ssh's reason was lost, and how to read it" "$out" \
	"cannot connect to 'qemu\+ssh://root@127.0.0.1:[0-9]+/system.*ssh wrote more than the 1024 bytes libvirt keeps.*run ssh to that host by hand"
cp "$T_TMP/known_hosts.good" "$lv/ssh/known_hosts"

# the library, on the qemu backend and over ssh
pool=$lv/lib/bootlab
sent() { json_get "$1" '[.scenarios[].emulator.uploaded_bytes // 0] | add'; }
"$BOOTLAB" run -j 2 --arch x86_64 --backend qemu --report-dir "$T_TMP/q" scenarios/*.yaml > "$T_TMP/q.out" 2>&1
rcq=$?
out=$("$BOOTLAB" run -j 2 --arch x86_64 --backend libvirt --connect "$SSH_URI#2" \
	--report-dir "$T_TMP/l" scenarios/*.yaml 2>&1); rc=$?
echo "$out" | tail -n 3 | sed 's/^/# /'
expect_eq "the library passes on qemu" "$rcq" 0
expect_eq "the library passes over ssh" "$rc" 0
q=$(ls "$T_TMP"/q/2*/report.json); l=$(ls "$T_TMP"/l/2*/report.json)
n=$(json_get "$q" '.scenarios | length')
check "the library has x86_64 qemu variants ($n)" test "$n" -ge 30
expect_eq "as many variants over ssh" "$(json_get "$l" '.scenarios | length')" "$n"
same_report_content "$l" "$q"
expect_eq "every boot ran on the ssh host and uploaded" \
	"$(json_get "$l" "[.scenarios[] | select(.emulator.connect == \"$SSH_URI\" and .emulator.uploaded_bytes != null)] | length")" "$n"
# the pool was empty: the first run sent each volume in it once
first=$(sent "$l")
(cd "$pool" && stat -c '%n %s' -- *) | sort > "$T_TMP/vols1"
expect_eq "the first run sent each volume of the pool once ($first bytes)" \
	"$(awk '$1 !~ /\.ok$/ { s += $2 } END { print s + 0 }' "$T_TMP/vols1")" "$first"
expect_eq "kernels, archives and disks" \
	"$(awk '{ sub(/^[0-9a-f]+\./, "", $1); print $1 }' "$T_TMP/vols1" | sort -u | tr '\n' ' ')" \
	"disk disk.ok initrd initrd.ok kernel kernel.ok "

# a second run (the scenarios with disks, and both kernels): kernels and
# disks are in the pool; what is sent is the size of the archives that
# are new in it, and nothing else is new
again="scenarios/smoke.yaml scenarios/smoke-debian.yaml scenarios/switch-root.yaml scenarios/raid-root.yaml"
out=$("$BOOTLAB" run -j 2 --arch x86_64 --backend libvirt --connect "$SSH_URI#2" \
	--report-dir "$T_TMP/l2" $again 2>&1); rc=$?
expect_eq "those scenarios pass over ssh again" "$rc" 0
expect_eq "with disks on the second run too" \
	"$(json_get "$(ls "$T_TMP"/l2/2*/report.json)" '[.scenarios[].emulator.command | select(test("[1-9][0-9]* disk clones"))] | length > 0')" true
(cd "$pool" && stat -c '%n %s' -- *) | sort > "$T_TMP/vols2"
new=$(comm -13 "$T_TMP/vols1" "$T_TMP/vols2")
second=$(sent "$(ls "$T_TMP"/l2/2*/report.json)")
echo "# sent: first run $first bytes, second run $second; new volumes: $(echo "$new" | grep -c .)"
expect_eq "nothing new in the pool but archives and their markers" \
	"$(echo "$new" | grep . | grep -cvE '^[0-9a-f]{64}\.initrd(\.ok)? ')" 0
expect_eq "the second run sent exactly the new archives' bytes" "$second" \
	"$(echo "$new" | awk '$1 ~ /\.initrd$/ { s += $2 } END { print s + 0 }')"
check "and less than a tenth of the first run" test $((second * 10)) -lt "$first"

expect_eq "no domain left on the host" "$(virsh -c "$SSH_URI" list --all --name 2>/dev/null | grep -c '^bootlab-')" 0
libvirtd_stop
no_emulator_left
expect_eq "no sshd left" "$(pgrep -f -c "sshd -f $lv/ssh/sshd_config")" 0
done_testing
