#!/bin/bash
# bootlab scenario check|show: every shipped scenario is valid; bad files
# exit 2 with FILE:LINE:COL: message (each bad file reported, not just the
# first); `bootlab run` refuses the same file before booting anything;
# show prints the expanded plans; --arch/--backend filter a matrix.
. "$(dirname "$0")/../lib.sh"
D=tests/data/scenario

out=$("$BOOTLAB" scenario check scenarios/*.yaml 2>&1); rc=$?
expect_eq "shipped scenarios are valid" "$rc" 0
expect_match "one line per file" "$out" "scenarios/smoke\.yaml: ok, 3 variants: smoke\\[arch=x86_64,backend=qemu\\]"

out=$("$BOOTLAB" scenario check $D/bad/uml-aarch64.yaml $D/good/smoke.yaml $D/bad/unknown-key.yaml 2>"$T_TMP/err"); rc=$?
err=$(cat "$T_TMP/err")
expect_eq "bad files exit 2" "$rc" 2
expect_eq "first bad file on stderr" "$(sed -n 1p "$T_TMP/err")" \
	"$D/bad/uml-aarch64.yaml:3:10: backend 'uml' runs x86_64 only, not arch 'aarch64'"
expect_eq "second bad file on stderr" "$(sed -n 2p "$T_TMP/err")" \
	"$D/bad/unknown-key.yaml:2:1: unknown key 'stpes' in scenario (did you mean 'steps'?)"
expect_match "the good file between them is checked" "$out" "good/smoke\.yaml: ok"

out=$("$BOOTLAB" run --report-dir "$T_TMP/r" $D/bad/hardlink-later.yaml 2>&1); rc=$?
expect_eq "run refuses a bad scenario with 2" "$rc" 2
expect_match "run names file, line and column" "$out" \
	"hardlink-later\.yaml:6:17: hardlink target '/etc/motd' is not a file earlier in archive 'main'"
check "run wrote nothing for a bad scenario" test ! -e "$T_TMP/r"

"$BOOTLAB" scenario show $D/good/matrix.yaml > "$T_TMP/m.json"; rc=$?
expect_eq "show exits 0" "$rc" 0
expect_eq "matrix: three variants" "$(jq length "$T_TMP/m.json")" 3
expect_eq "matrix names" "$(jq -r '[.[].name] | join(" ")' "$T_TMP/m.json")" \
	"mx[arch=x86_64,backend=qemu] mx[arch=x86_64,backend=uml] mx[arch=aarch64,backend=qemu]"
"$BOOTLAB" scenario show --arch aarch64 $D/good/matrix.yaml > "$T_TMP/a.json"
expect_eq "--arch filters the matrix" "$(jq -r '[.[].name] | join(" ")' "$T_TMP/a.json")" \
	"mx[arch=aarch64,backend=qemu]"
out=$("$BOOTLAB" scenario check --arch aarch64 --backend uml $D/good/matrix.yaml 2>&1); rc=$?
expect_eq "impossible override exits 2" "$rc" 2
expect_match "impossible override names the variant" "$out" "in variant 'mx\[arch=aarch64,backend=uml\]'"

"$BOOTLAB" scenario show $D/good/smoke.yaml > "$T_TMP/s.json"
expect_eq "plan: nod" "$(jq -r '.[0].archives[0].entries[2] | "\(.kind) \(.path) \(.type) \(.major):\(.minor) \(.mode)"' "$T_TMP/s.json")" \
	"nod /dev/console c 5:1 0600"
expect_eq "plan: request" "$(jq -c '.[0].steps[1].request' "$T_TMP/s.json")" '{"op":"stat","path":"/etc/motd"}'
expect_eq "plan: position" "$(jq -r '.[0].steps[2].at' "$T_TMP/s.json")" "$D/good/smoke.yaml:41:5"
expect_eq "plan: panic" "$(jq -c '.[0].steps[5] | [.reason, .status]' "$T_TMP/s.json")" '["kill-init",3]'

out=$(printf 'name: piped\nsteps:\n  - console: login\n' | "$BOOTLAB" scenario check /dev/stdin 2>&1); rc=$?
expect_eq "a pipe is read" "$rc" 0
out=$("$BOOTLAB" scenario frob x.yaml 2>&1); rc=$?
expect_eq "unknown subcommand exits 2" "$rc" 2
done_testing
