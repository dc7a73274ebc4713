#!/bin/sh
# How tests/data/md/*.sb were made (not run by the suite): Debian's mdadm
# creates one RAID1 array per metadata version in a one-shot QEMU TCG guest
# (Debian cloud kernel + md-mod/raid1 modules, busybox-static, mdadm and its
# libraries in the initramfs); the host then cuts the 4 KiB superblock block
# of member 0 out of each image. Needs: qemu-system-x86, busybox-static,
# mdadm, linux-image-cloud-amd64. Usage: tests/data/md/make-golden.sh [OUTDIR]
set -eu
out=$(cd "${1:-$(dirname "$0")}" && pwd)
kver=$(ls /lib/modules | grep cloud-amd64 | sort | tail -n1)
kernel=/boot/vmlinuz-$kver
mods=/lib/modules/$kver/kernel
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
r=$w/root
mkdir -p $r/bin $r/sbin $r/dev $r/proc $r/sys $r/run/mdadm $r/lib/x86_64-linux-gnu $r/lib64 $r/m
cp /bin/busybox $r/bin/busybox
for a in sh mount insmod sleep poweroff cat mkdir; do ln -s busybox $r/bin/$a; done
cp /usr/sbin/mdadm $r/sbin/
cp /lib/x86_64-linux-gnu/libudev.so.1 /lib/x86_64-linux-gnu/libc.so.6 $r/lib/x86_64-linux-gnu/
cp /lib64/ld-linux-x86-64.so.2 $r/lib64/
for m in virtio/virtio_ring virtio/virtio virtio/virtio_pci_modern_dev virtio/virtio_pci_legacy_dev \
	virtio/virtio_pci block/virtio_blk md/md-mod md/raid1; do
	cp $mods/drivers/$m.ko $r/m/
done
cat > $r/init <<'EOI'
#!/bin/sh
mount -t devtmpfs dev /dev; mount -t proc proc /proc; mount -t sysfs sys /sys
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk md-mod raid1; do
	insmod /m/$m.ko
done
sleep 1
c="--run --assume-clean --level=1 --raid-devices=2 --bitmap=none"
mdadm --create /dev/md0 $c --metadata=0.90 /dev/vda /dev/vdb
mdadm --create /dev/md1 $c --metadata=1.0 --name=md1 /dev/vdc /dev/vdd
mdadm --create /dev/md2 $c --metadata=1.2 --name=md2 /dev/vde /dev/vdf
cat /proc/mdstat
mdadm --stop /dev/md0 /dev/md1 /dev/md2
echo GOLDEN-DONE
poweroff -f
EOI
chmod 755 $r/init
(cd $r && find . | cpio -o -H newc --quiet | gzip -1) > $w/initrd.gz
drives=
for i in 0 1 2 3 4 5; do
	truncate -s 24M $w/m$i.img
	drives="$drives -drive file=$w/m$i.img,format=raw,if=virtio"
done
timeout 300 qemu-system-x86_64 -M q35 -m 256 -nographic -no-reboot -kernel $kernel \
	-initrd $w/initrd.gz -append "console=ttyS0 panic=-1 quiet" $drives | tee $w/console.log
grep -q GOLDEN-DONE $w/console.log
# 0.90: last 64K-aligned 64K block; 1.0: 8-12K from the end, 4K aligned; 1.2: at 4K
size=$((24 * 1024 * 1024 / 512))
dd if=$w/m0.img of=$out/mdadm-0.90.sb bs=512 skip=$(( (size & ~127) - 128 )) count=8 status=none
dd if=$w/m2.img of=$out/mdadm-1.0.sb bs=512 skip=$(( (size - 16) & ~7 )) count=8 status=none
dd if=$w/m4.img of=$out/mdadm-1.2.sb bs=512 skip=8 count=8 status=none
for f in 0 2 4; do mdadm --examine $w/m$f.img; done | sed "s|^$w/|member |" > $out/mdadm-examine.txt
echo "written: $out/mdadm-{0.90,1.0,1.2}.sb"
