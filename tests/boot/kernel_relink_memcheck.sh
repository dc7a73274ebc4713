#!/bin/bash
# The relink path under Valgrind memcheck: uninitialised bytes handed to a
# system call are an error. ASan cannot see the bug this guards against
# (the archive written with the kernel config's length: the over-read stays
# inside bl_read_file's 64 KiB-step buffer), memcheck does. A scenario with
# a built-in archive holding a nonce (so this is a real relink every run)
# runs under memcheck, relink and boot; the relink's cache folder is
# removed afterwards.
# timeout: 600
. "$(dirname "$0")/../lib.sh"

# `make check SAN=1` builds ./bootlab with ASan, whose runtime Valgrind
# cannot run under; the plain `make check` runs this test
if ldd "$BOOTLAB" 2>/dev/null | grep -q libasan; then
	skip_unfixable "valgrind cannot run an ASan build (SAN=1)" "relink and boot under memcheck"
	done_testing
	exit
fi

nonce="memcheck $(date +%s.%N) $$ $RANDOM"
cat > "$T_TMP/builtin.yaml" <<YAML
name: memcheck-builtin
arch: x86_64
backend: qemu
kernel:
  build: x86_64
timeout: 60s
archives:
  - name: inside
    builtin: true
    codec: none
    entries:
      - agent: /init
      - dir: /dev
      - nod: /dev/console
        type: c
        major: 5
        minor: 1
      - file: /nonce
        content: "$nonce"
steps:
  - hello: {stage: 1}
    expect: {pid: 1}
  - agent: {op: read, path: /nonce}
    expect: {data: "$nonce"}
  - agent: {op: poweroff}
  - outcome: pass
YAML
valgrind --error-exitcode=99 --leak-check=no --trace-children=no --log-file="$T_TMP/vg.log" \
	"$BOOTLAB" run --report-dir "$T_TMP/r" "$T_TMP/builtin.yaml" > "$T_TMP/out" 2>&1
rc=$?
sed 's/^/# /' "$T_TMP/out" | tail -n 5
grep -A6 'uninitialised\|Invalid' "$T_TMP/vg.log" | head -n 20 | sed 's/^/# /'
expect_eq "relink and boot under memcheck: exit 0 (99: memcheck found errors)" "$rc" 0
expect_match "memcheck: no errors" "$(cat "$T_TMP/vg.log")" 'ERROR SUMMARY: 0 errors'
expect_match "a real relink, not a cache hit" "$(cat "$T_TMP/out")" 'kernel x86_64 relinked in'
rep=$(ls "$T_TMP"/r/2*/report.json)
expect_eq "the relinked kernel boots its built-in agent and reads the nonce" \
	"$(json_get "$rep" '.scenarios[0].outcome')" pass
img=$(json_get "$rep" '.scenarios[0].kernel.image // empty')
case "$img" in */builtin/*/*) rm -rf "$(dirname "$img")" ;; *) not_ok "report names the relinked image ($img)" ;; esac
no_emulator_left
done_testing
