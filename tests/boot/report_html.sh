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

# chromium is the test's tool, not what is tested: twice in cold runs of the
# whole suite it aborted (SIGABRT) at start and left its zygotes behind, so
# an abort is shown, its processes ended and the call made once more
chrome_once() {
	local d rc
	d=$(mktemp -d "$T_TMP/chrome.XXXXXX")
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$d" "$@" 2>>"$T_TMP/chrome.err"
	rc=$?
	pkill -KILL -f -- "--user-data-dir=$d" 2>/dev/null
	return $rc
}
chrome() {
	chrome_once "$@" && return 0
	local rc=$?
	[ "$rc" -gt 128 ] && [ "$rc" != 124 ] || return "$rc"
	echo "# chromium died of signal $((rc - 128)), once more; its stderr ends:"
	tail -n 5 "$T_TMP/chrome.err" | sed 's/^/#   /'
	chrome_once "$@"
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
done_testing
