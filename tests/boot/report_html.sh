#!/bin/bash
# timeout: 400
# index.html: a passing boot and a panicking one, run with -j 2 and
# --repeat 2, rendered by headless Chromium. The rendered DOM must name
# both variants with their verdicts, give each a timeline with its phases
# (host and guest clock), the failure's reason and console tail, and load
# nothing from outside.
. "$(dirname "$0")/../lib.sh"

if ! command -v chromium >/dev/null; then skip "no chromium (ci/install-deps)" "index.html renders"; done_testing; exit; fi
out=$("$BOOTLAB" run -j 2 --repeat 2 --report-dir "$T_TMP/r" tests/data/scenarios/smoke-one.yaml tests/data/scenarios/rdinit-missing.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "run exits 1 (one variant panics)" "$rc" 1
dir=$(ls -d "$T_TMP"/r/*/ | head -1)
html="$dir/index.html"
check "index.html written" test -s "$html"
expect_eq "no script, stylesheet link or image in the page" "$(grep -ciE '<script|<link|<img|<iframe|url\(' "$html")" 0

# chromium puts its singleton socket under $TMPDIR, and a unix socket's
# path has at most 107 bytes: under a deep clone (ci/check-cold's
# /tmp/bootlab-cold.*/clone/tests/out/tmp/...) it aborted with "Socket path
# too long". Its own short scratch folder, removed at the end.
CHROME_TMP=$(mktemp -d /tmp/blchrome.XXXXXX)
trap 'rm -rf "$T_TMP" "$CHROME_TMP"' EXIT
chrome() {
	TMPDIR="$CHROME_TMP" timeout 90 chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$CHROME_TMP/u.XXXXXX")" "$@" 2>>"$T_TMP/chrome.err"
}
chrome --dump-dom "file://$html" > "$T_TMP/dom.html"
check "chromium dumped the rendered DOM" test -s "$T_TMP/dom.html"
facts=$("$BOOTLAB_HOME/tests/tools/html-dom" "$T_TMP/dom.html")
echo "$facts" | head -n 60 | sed 's/^/# dom: /'
expect_match "section for smoke, outcome pass" "$facts" '^section smoke pass$'
expect_eq "the failing card comes first (smoke ran first)" "$(grep -m1 '^section ' <<<"$facts")" \
	"section rdinit-missing panic"
expect_match "section for rdinit-missing, outcome panic" "$facts" '^section rdinit-missing panic$'
expect_eq "one verdict row per variant" "$(echo "$facts" | grep -c '^verdict-row$')" 2
expect_eq "a timeline per variant" "$(echo "$facts" | grep -c '^timeline ')" 2
for ph in spawn first-console run-init agent-hello end; do
	expect_match "smoke timeline has phase $ph" "$facts" "^phase smoke $ph [0-9.]+ "
done
expect_match "agent-hello shows the guest clock" "$facts" '^phase smoke agent-hello [0-9.]+ [0-9]+\.[0-9]+$'
expect_match "spawn has no guest time" "$facts" '^phase smoke spawn [0-9.]+ -$'
expect_match "panic marked on the failing timeline" "$facts" '^event rdinit-missing panic$'
expect_match "failing step drawn" "$facts" '^step rdinit-missing fail$'
expect_match "smoke steps drawn as passing" "$facts" '^step smoke pass$'
expect_match "console tail of the failure shown" "$facts" '^tail rdinit-missing [1-9][0-9]*$'
expect_eq "nothing loaded from outside" "$(echo "$facts" | grep -c '^external')" 0
# phase times in the page are the report's (shown run of smoke: the last)
j="$dir/report.json"
want=$(jq -r '.scenarios[] | select(.name=="smoke") | .phases[] | select(.name=="agent-hello") | .host_s' "$j")
got=$(echo "$facts" | awk '$1=="phase" && $2=="smoke" && $3=="agent-hello" {print $4}')
check "agent-hello host time matches report.json ($got vs $want)" \
	awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(d < 0.000002 && d > -0.000002) }'
expect_match "reason in the page" "$(cat "$T_TMP/dom.html")" 'kernel panic: unable to mount root fs'
expect_match "repetition table in the page" "$(cat "$T_TMP/dom.html")" '2 of 2'

chrome --window-size=1100,1600 --screenshot="$T_TMP/shot.png" "file://$html" >/dev/null
# PNG signature, then the IHDR width and height (big-endian)
expect_eq "screenshot is a 1100x1600 PNG" "$(od -An -tx1 -N24 "$T_TMP/shot.png" | tr -d ' \n')" \
	"89504e470d0a1a0a0000000d494844520000044c00000640"
no_emulator_left
expect_eq "no chromium left behind" "$(pgrep -f -- "$CHROME_TMP" | wc -l)" 0
done_testing
