#!/bin/bash
# timeout: 400
# The stage-1 timeline of observed boots (docs/observe.md, "The timeline"),
# from two real `bootlab gate --observe` boots of a busybox /init with
# bootlab's x86_64 kernel on QEMU. The init runs a program whose argv is
# hostile markup, a program that fails, and /bin/sleep for the time its
# command line says (0.2 s in A, 1.2 s in B), then switches to the root.
# - index.html: a bar per program under the kernel phases with the argv
#   escaped in its hover text, failed ones marked, a mark per mount, the
#   root change marked;
# - bootlab compare A B: the stage-1 programs by argv[0], sleep's time
#   about 1 s longer in B, the failed program counted, the root change.
. "$(dirname "$0")/../lib.sh"

K=$("$BOOTLAB" kernel build --arch x86_64 -q) || K=
check "the project's x86_64 kernel is built" test -f "$K"
busybox_initrd "$T_TMP/init.cpio.gz" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc none /proc
nap=0.2
for w in $(cat /proc/cmdline); do case "$w" in obs.nap=*) nap=${w#obs.nap=} ;; esac; done
/bin/true '<script>alert("x&y")</script>' "it's"
/bin/false || :
/bin/sleep "$nap"
mount -t devtmpfs none /dev
mount -o ro /dev/vda /mnt/root || exit 1
umount /proc
exec switch_root /mnt/root /sbin/init
EOF

# gate NAME NAP: an observed gate boot into $T_TMP/NAME
gate() {
	"$BOOTLAB" gate --observe --kernel "$K" --initramfs "$T_TMP/init.cpio.gz" --cmdline "obs.nap=$2" \
		--report-dir "$T_TMP/$1" >"$T_TMP/$1.out" 2>&1 || sed 's/^/# /' "$T_TMP/$1.out" | tail -n 20
	readlink -f "$T_TMP/$1/latest"
}
A=$(gate a 0.2)
B=$(gate b 1.2)
check "both observed gates pass" test "$(jq -r '.summary.pass' "$A/report.json" "$B/report.json" | sort -u)" = 1

H="$A/index.html"
x() { xmllint --html --xpath "$1" "$H" 2>/dev/null; }
expect_eq "index.html: one stage-1 group, as many bars as report.json has execs" \
	"$(x 'string(//g[@class="stage1"]/@data-programs)') $(x 'count(//g[@class="stage1"]/g[starts-with(@class,"proc ")])')" \
	"$(jq '[.scenarios[0].observed.events[] | select(.event == "exec")] | length' "$A/report.json" | sed 's/.*/& &/')"
expect_eq "the hostile argv is the bar's hover text, decoded as the guest gave it" \
	"$(x 'string(//g[starts-with(@class,"proc ")]/title[starts-with(., "/bin/true")])' | sed 's/ (pid.*//')" \
	"/bin/true <script>alert(\"x&y\")</script> it's"
check "... and escaped in the file: no markup of the guest's" grep -qF '/bin/true &lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; it&#39;s' "$H"
no_match "no <script> element anywhere in index.html" '<script' "$H"
expect_eq "the failing /bin/false bar is marked failed, exited 1" \
	"$(x 'string(//g[title[starts-with(., "/bin/false")]]/@class)') $(x 'string(//g/title[starts-with(., "/bin/false")])' | grep -o 'exited [0-9]*')" \
	"proc failed exited 1"
expect_eq "the sleep bar is marked ok, exited 0" \
	"$(x 'string(//g[title[starts-with(., "/bin/sleep")]]/@class)')" "proc ok"
# its span on the guest clock is the nap it was told
span() { xmllint --html --xpath "string(//g[title[starts-with(., \"/bin/sleep\")]]/@data-$2-s)" "$1/index.html" 2>/dev/null; }
check "A's sleep bar spans 0.2 s to 0.7 s of guest time" \
	awk -v s="$(span "$A" start)" -v e="$(span "$A" end)" 'BEGIN { d = e - s; exit !(d >= 0.2 && d < 0.7) }'
width() { xmllint --html --xpath "string(//g[title[starts-with(., \"/bin/sleep\")]]/rect/@width)" "$1/index.html" 2>/dev/null; }
check "B's sleep bar is drawn wider than A's" awk -v a="$(width "$A")" -v b="$(width "$B")" 'BEGIN { exit !(b > a) }'
check "the bars lie under the kernel phases" awk -v p="$(x 'string((//g[@class="phase"]/circle/@cy)[last()])')" \
	-v b="$(x 'string((//g[starts-with(@class,"proc ")]/rect/@y)[1])')" 'BEGIN { exit !(b > p + 20) }'
expect_eq "index.html: a mark per mount, unmount or move of stage 1 (not the ones there at start)" \
	"$(x 'count(//g[starts-with(@class,"obs-sys ")])')" \
	"$(jq '[.scenarios[0].observed.events[] | select((.event | test("^(mount|umount|move|remount|module|block)$")) and (.initial | not))] | length' "$A/report.json")"
expect_match "... the first one's hover text: proc mounted on /proc, its options and guest time" \
	"$(x 'string(//g[@class="obs-sys obs-mount"]/title)')" '^mount none \(proc\) on /proc \(rw,relatime\) at guest [0-9.]+ s$'
expect_match "the root change is marked, with the program PID 1 exec'd on the new root" \
	"$(x 'string(//g[@class="obs-mark obs-switch-root"]/title)')" "^root changed at guest [0-9.]+ s: PID 1 exec'd /sbin/init$"

out=$("$BOOTLAB" compare "$A" "$B" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "compare of two observed runs: exit 0" "$rc" 0
sleep_row=$(grep -E '^  /bin/sleep ' <<<"$out")
check "compare: /bin/sleep took about 1 s longer in B (runs 1 -> 1)" \
	awk -v r="$sleep_row" 'BEGIN { split(r, f, " "); d = f[4] + 0; exit !(d > 0.7 && d < 1.6 && r ~ /runs 1 -> 1$/) }'
expect_match "compare: the failing program is counted on both sides" "$out" '^  /bin/false .* runs 1 -> 1, failed 1 -> 1$'
expect_match "compare: the root change's guest time, later in B" "$out" '^  root change +[0-9.]+ +[0-9.]+ +\+[0-9.]+ '
expect_match "compare: PID 1's /init (argv[0] /bin/busybox, its interpreter) and busybox --install" "$out" \
	'^  /bin/busybox .* runs 2 -> 2$'
no_emulator_left
done_testing
