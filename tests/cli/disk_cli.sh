#!/bin/bash
# bootlab disk build: JSON specs and scenario files (a variant picked by
# name), errors located in the YAML or JSON, usage errors.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
command -v jq >/dev/null || { skip "jq missing" "disk_cli"; done_testing; exit; }
export XDG_CACHE_HOME=$T_TMP/cache

out=$("$BOOTLAB" disk build -o $T_TMP/w scenarios/raid-root.yaml 2>&1); rc=$?
expect_eq "scenario: exit 0" $rc 0
expect_eq "scenario: first variant is metadata 1.2" "$(jq -r '.arrays[0].metadata' <<<"$out")" 1.2
check "scenario: images written" test -s $T_TMP/w/d0.img -a -s $T_TMP/w/d1.img
out=$("$BOOTLAB" disk build --variant meta-0.90 -o $T_TMP/w scenarios/raid-root.yaml 2>&1)
expect_eq "--variant meta-0.90" "$(jq -r '.arrays[0].metadata' <<<"$out")" 0.90
out=$("$BOOTLAB" disk build --variant degraded -o $T_TMP/w scenarios/raid-root.yaml 2>&1)
expect_eq "--variant degraded: d1 absent" "$(jq -r '.disks[1].absent' <<<"$out")" true
out=$("$BOOTLAB" disk build --variant nope -o $T_TMP/w scenarios/raid-root.yaml 2>&1); rc=$?
expect_eq "unknown variant: exit 2" $rc 2
expect_match "unknown variant: says so" "$out" "no variant 'nope'"

cat > $T_TMP/bad.yaml <<'EOY'
name: bad
disks:
  - name: d0
    size: 64M
    table: mbr
    partitions:
      - {size: 8M, type: zz}
steps:
  - console: login
EOY
out=$(XDG_CACHE_HOME=$T_TMP/cache-bad "$BOOTLAB" disk build -o $T_TMP/wb $T_TMP/bad.yaml 2>&1); rc=$?
expect_eq "bad type: exit 2" $rc 2
expect_match "bad type: located in the YAML" "$out" "bad.yaml:7:[0-9]+: disks\[0\]\.partitions\[0\]\.type: unknown partition type 'zz'"
nothing_written "bad type: nothing in the workdir nor the disk cache" $T_TMP/wb $T_TMP/cache-bad/bootlab/disks

out=$("$BOOTLAB" disk build $T_TMP/bad.yaml 2>&1); rc=$?
expect_eq "no -o: usage, exit 2" $rc 2
expect_match "no -o: usage text" "$out" "usage: bootlab disk build"
echo '{"disks": [' > $T_TMP/broken.json
out=$("$BOOTLAB" disk build -o $T_TMP/wb $T_TMP/broken.json 2>&1); rc=$?
expect_eq "broken JSON: exit 2" $rc 2
expect_match "broken JSON: line and column" "$out" "broken\.json:[0-9]+:[0-9]+: bad YAML"
# a JSON spec goes through the scenario loader: the same checks, positions too
echo '{"disks": [{"name": "x", "size": "8M", "table": "mbr",
  "partitions": [{"size": "4M", "type": "zz"}]}]}' > $T_TMP/type.json
out=$("$BOOTLAB" disk build -o $T_TMP/wb $T_TMP/type.json 2>&1); rc=$?
expect_eq "JSON bad type: exit 2" $rc 2
expect_match "JSON bad type: located" "$out" "type\.json:2:41: disks\[0\]\.partitions\[0\]\.type: unknown partition type 'zz'"
echo '{"disks": [], "arrrays": []}' > $T_TMP/key.json
out=$("$BOOTLAB" disk build -o $T_TMP/wb $T_TMP/key.json 2>&1); rc=$?
expect_eq "JSON unknown key: exit 2" $rc 2
expect_match "JSON unknown key: suggests" "$out" "key\.json:1:15: unknown key 'arrrays' in disk spec \(did you mean 'arrays'\?\)"
out=$("$BOOTLAB" disk frobnicate 2>&1); rc=$?
expect_eq "unknown subcommand: exit 2" $rc 2
done_testing
