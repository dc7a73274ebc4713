#!/bin/bash
# timeout: 400
# Module unloads and block devices' `change` in stage 1 (docs/observe.md,
# "Mounts, modules, block devices"), observed in a real boot: Debian's
# cloud kernel (loop and virtio_blk are modules there; the observer's
# segment loads the agent port's virtio modules before /init) and a
# busybox /init that loads loop (one device), attaches a file to loop0 and
# detaches it (the kernel sends `change` for loop0 each time), unloads
# loop (loop0 goes, then the module), loads virtio_blk (vda comes) and
# switches to the root disk. The report's timeline has, in this order:
# block loop0 add, module loop add, block loop0 change, block loop0
# remove, module loop remove, block vda add, module virtio_blk add.
. "$(dirname "$0")/../lib.sh"

ck=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
kv=${ck#/boot/vmlinuz-}
mods=/lib/modules/$kv/kernel/drivers/block
if [ -z "$ck" ] || [ ! -f "$mods/loop.ko" ] || [ ! -f "$mods/virtio_blk.ko" ]; then
	skip "no Debian cloud kernel with loop.ko and virtio_blk.ko" "module unload and block change observed"
	done_testing
	exit
fi
busybox_initrd "$T_TMP/init.cpio.gz" <<'EOF2'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc none /proc
mount -t sysfs none /sys
mount -t devtmpfs none /dev
mkdir -p /tmp
mount -t tmpfs none /tmp
# by path: exec'd (busybox sh runs some applets in a fork without exec)
/bin/insmod /mod/loop.ko max_loop=1
dd if=/dev/zero of=/tmp/img bs=1024 count=1024 2>/dev/null
/bin/losetup /dev/loop0 /tmp/img
/bin/losetup -d /dev/loop0
/bin/rmmod loop
/bin/insmod /mod/virtio_blk.ko
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.2; done
mount -o ro /dev/vda /mnt/root || exit 1
umount /sys
umount /proc
exec switch_root /mnt/root /sbin/init
EOF2
# the modules as a second segment of the project's initramfs
mkdir -p "$T_TMP/mods/mod"
cp "$mods/loop.ko" "$mods/virtio_blk.ko" "$T_TMP/mods/mod/"
(cd "$T_TMP/mods" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$T_TMP/mods.cpio"

out=$("$BOOTLAB" gate --observe --kernel "$ck" --initramfs "$T_TMP/init.cpio.gz" --initramfs "$T_TMP/mods.cpio" \
	--report-dir "$T_TMP/r" 2>&1); rc=$?
[ $rc -eq 0 ] || echo "$out" | tail -n 30 | sed 's/^/# /'
expect_eq "observed gate, loop loaded and unloaded, virtio_blk loaded: exit 0" "$rc" 0
j=$(ls "$T_TMP"/r/*/report.json | head -1)
sys=$(json_get "$j" '[.scenarios[0].observed.events[] | select((.event == "module" or .event == "block") and (.initial | not)) |
	"\(.event) \(.name // .devname) \(.action)"] | join(",")')
echo "# $sys"
expect_eq "loop0 came, loop loaded, loop0 changed, loop0 went, loop unloaded, vda came, virtio_blk loaded" \
	"$(sed -E 's/(block loop0 change,)+/block loop0 change,/' <<<"$sys")" \
	"block loop0 add,module loop add,block loop0 change,block loop0 remove,module loop remove,block vda add,module virtio_blk add"
expect_match "loop0 changed after losetup's exec, went with the module after rmmod's" \
	"$(json_get "$j" '.scenarios[0].observed.events | map(if .event == "exec" then "exec " + (.argv | join(" ")) else .event + " " + (.name // .devname // "") + " " + (.action // "") end) | join(",")')" \
	'exec /bin/losetup /dev/loop0 /tmp/img,.*block loop0 change,.*exec /bin/rmmod loop,.*block loop0 remove,module loop remove'
expect_eq "rmmod exited 0" \
	"$(json_get "$j" '.scenarios[0].observed.events as $e | [$e[] | select(.event == "exec" and .argv[0] == "/bin/rmmod")][0].pid as $p | [$e[] | select(.event == "exit" and .pid == $p)][0].status')" 0
H=$(dirname "$j")/index.html
expect_match "index.html: the unload and the change are marks with their hover text" \
	"$(xmllint --html --xpath '//g[starts-with(@class,"obs-sys ")]/title/text()' "$H" 2>/dev/null | tr '\n' ',')" \
	'block loop0 \(disk\) changed.*module loop unloaded'
no_emulator_left
done_testing
