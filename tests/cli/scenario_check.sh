#!/bin/bash
# bootlab scenario check|show: every shipped scenario is valid; bad files
# exit 2 with FILE:LINE:COL: message (each bad file reported, not just the
# first); `bootlab run` refuses the same file before booting anything;
# show prints the expanded plans; --arch/--backend filter a matrix; what
# would fail at once at run time (kernel fragment, kernel image, expect
# values that never match) is found by check; a file's errors come together.
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

# what `run` would only find when it prepares or checks a reply
# refused NAME FILE MESSAGE: check says exactly FILE:MESSAGE
refused() { expect_eq "$1" "$("$BOOTLAB" scenario check "$D/bad/$2.yaml" 2>&1)" "$D/bad/$2.yaml:$3"; }
refused "unknown kernel fragment: its place and a suggestion" kernel-fragment-unknown \
	"3:10: unknown kernel fragment 'x86-64' (did you mean 'x86_64'?)"
refused "missing kernel image: its path and why" kernel-image-missing \
	"3:10: kernel image '$(realpath $D/bad)/no-such-vmlinuz' cannot be read: No such file or directory"
refused "expect: text for a boolean field is refused" expect-bool-text \
	"5:19: 'fds.0.open' is true or false, so 'yes' never equals it (yes, no, on and off are text in YAML 1.2)"
refused "expect: a field the reply never has gets a suggestion" expect-unknown-field \
	"4:14: the reply to 'read' has no field 'dat' (did you mean 'data'?)"
refused "a tab in indentation is called a tab" yaml-tab \
	"4:1: bad YAML: a tab in indentation (YAML indents with spaces)"

# every error of a file, each at its place; at most 20 of them
"$BOOTLAB" scenario check $D/bad/many-errors.yaml 2>"$T_TMP/err"; rc=$?
expect_eq "all errors of a file, one FILE:LINE:COL line each, exit 2" \
	"$rc $(grep -c "^$D/bad/many-errors\.yaml:[0-9]*:[0-9]*: " "$T_TMP/err") $(wc -l < "$T_TMP/err")" "2 7 7"
{ printf 'name: many\narchives:\n  - entries:\n'
  for i in $(seq 25); do printf '      - dir: d%s\n' "$i"; done
  printf 'steps:\n  - console: x\n'; } > "$T_TMP/many.yaml"
"$BOOTLAB" scenario check "$T_TMP/many.yaml" 2>"$T_TMP/err"
expect_eq "at most 20 errors, then how many more" \
	"$(grep -c "dir 'd[0-9]*' must be absolute" "$T_TMP/err") $(tail -n 1 "$T_TMP/err")" \
	"20 $T_TMP/many.yaml:1:1: 5 more errors not shown"
printf 'name: mv\nmatrix: {arch: [x86_64]}\nmemory: lots\nsteps:\n  - helo:\n' > "$T_TMP/mv.yaml"
"$BOOTLAB" scenario check "$T_TMP/mv.yaml" 2>"$T_TMP/err"
expect_eq "each error of a variant names the variant" \
	"$(grep -c " (in variant 'mv\[arch=x86_64\]')$" "$T_TMP/err")" 2

out=$(printf 'name: piped\nsteps:\n  - console: login\n' | "$BOOTLAB" scenario check /dev/stdin 2>&1); rc=$?
expect_eq "a pipe is read" "$rc" 0
# deep flow nesting is refused before libyaml builds the document: its
# scanner is quadratic in the depth (50 kB of '[' took 34 s, 1 MB hours)
head -c 1000000 /dev/zero | tr '\0' '[' > "$T_TMP/deep.yaml"
out=$(timeout 20 "$BOOTLAB" scenario check "$T_TMP/deep.yaml" 2>&1); rc=$?
expect_eq "1 MB of '[': refused at once, exit 2" "$rc" 2
expect_eq "names where the 65th level starts" "$out" "$T_TMP/deep.yaml:1:65: nested deeper than 64 levels"
{ printf 'name: deep
steps:
  - console: '; for i in $(seq 1 61); do printf "{a: "; done
  printf x; for i in $(seq 1 61); do printf '}'; done; echo; } > "$T_TMP/d64.yaml"
out=$("$BOOTLAB" scenario check "$T_TMP/d64.yaml" 2>&1)
expect_match "64 levels (root, steps, a step, 61 flow mappings) load: the field's own check speaks" "$out" "'console' must be text"
out=$("$BOOTLAB" scenario frob x.yaml 2>&1); rc=$?
expect_eq "unknown subcommand exits 2" "$rc" 2
# patterns that each compile within the 1 s limit still share one budget
# of 5 s of CPU per process (harness/util/regex.c): 200 of them, ~0.04 s
# each in the plain build (and twice that: the parent compiles each
# again), must not make a file take half a minute to load; each ends in
# its own number, as a pattern seen before is not tried again
loop=$(printf '(^|a)+%.0s' $(seq 10))
{ echo "name: budget"; echo "steps:"; for i in $(seq 200); do echo "  - console: '$loop$i'"; done; } >"$T_TMP/budget.yaml"
t0=$(date +%s.%N)
"$BOOTLAB" scenario check "$T_TMP/budget.yaml" >/dev/null 2>"$T_TMP/err"; rc=$?
echo "# 200 costly patterns: refused after $(echo "$(date +%s.%N) - $t0" | bc) s"
expect_eq "many costly patterns: refused, exit 2" "$rc" 2
expect_match "once the budget is used up, the patterns after are not tried" "$(cat "$T_TMP/err")" \
	"^$T_TMP/budget.yaml:[0-9]+:14: bad regex '\(\^\|a\)\+.*' for 'console': too hard to compile: not tried: the patterns before it used up the 5000 ms of CPU one bootlab process may spend compiling patterns\$"
done_testing
