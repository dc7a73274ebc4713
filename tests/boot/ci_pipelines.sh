#!/bin/bash
# ci/examples/github-actions-shards.yml and gitlab-ci-shards.yml, run
# locally by tests/tools/ci-local: every job's shell steps in order, 3
# shards, each shard's report handed to the merge job as the CI hands
# artifacts. The merged report must hold the variants and outcomes of one
# unsharded run. Real UML boots of a small scenario set (the agent's
# hello); installing packages and building are the two steps not run (the
# tree's bootlab stands in for the build).
. "$(dirname "$0")/../lib.sh"
CI_LOCAL="$BOOTLAB_HOME/tests/tools/ci-local"
B="$T_TMP/checkout"
mkdir -p "$B/scenarios"
ln -s "$BOOTLAB" "$B/bootlab"
ln -s "$BOOTLAB_HOME/kernels" "$B/kernels"
for n in a b c d e; do
	cat > "$B/scenarios/mini-$n.yaml" <<YAML
name: mini-$n
backend: uml
timeout: 30s
archives:
  - name: main
    codec: none
    entries:
      - agent: /init
steps:
  - hello:
      stage: 1
  - agent: {op: poweroff}
YAML
done
# one variant more that the filter leaves out
sed 's/^name: mini-a/name: other/' "$B/scenarios/mini-a.yaml" > "$B/scenarios/other.yaml"
RUN_ARGS="-j2 --retry 1 --filter ^mini-"
"$BOOTLAB" run --report-dir "$T_TMP/single" $RUN_ARGS "$B"/scenarios/*.yaml > "$T_TMP/single.out" 2>&1
expect_eq "the unsharded run passes" "$?" 0
single=$(jq -r '.scenarios[] | "\(.name) \(.outcome)"' "$T_TMP"/single/latest/report.json | sort)
expect_eq "the filter leaves five variants" "$(printf '%s\n' "$single" | wc -l)" 5

for p in github-actions-shards gitlab-ci-shards; do
	W="$T_TMP/$p"
	out=$("$CI_LOCAL" "$BOOTLAB_HOME/ci/examples/$p.yml" "$B" "$W" \
		--skip 'ci/install-deps' --skip 'make -j' \
		--set "RUN_ARGS=$RUN_ARGS" --set "XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}" 2>&1); rc=$?
	printf '%s\n' "$out" | grep '^# \(step\|skipped\|uses\)' | sed "s/^/# $p: /"
	expect_eq "$p: every job's steps pass" "$rc" 0
	m=$(ls -d "$W"/jobs/merge-1/merged 2>/dev/null)
	check "$p: the merge job wrote merged/report.json" test -s "$m/report.json"
	shards=$(ls -d "$W"/jobs/shard-*/shard-reports/*/[0-9]*/ 2>/dev/null | wc -l)
	expect_eq "$p: three shard jobs each wrote a report" "$shards" 3
	expect_eq "$p: merged variants and outcomes equal the unsharded run's" \
		"$(jq -r '.scenarios[] | "\(.name) \(.outcome)"' "$m/report.json" | sort)" "$single"
	expect_eq "$p: the merged report names three shards" \
		"$(jq -r '[.merged_from[].shard] | sort | join(" ")' "$m/report.json")" "1/3 2/3 3/3"
	check "$p: merged junit.xml is valid JUnit" xmllint --noout --schema "$BOOTLAB_HOME/tests/data/junit.xsd" "$m/junit.xml"
	expect_match "$p: the merge printed run's summary line" "$out" "^5 of 5 passed; report: merged/report.json$"
done
no_emulator_left
done_testing
