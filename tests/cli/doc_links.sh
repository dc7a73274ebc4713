#!/bin/bash
# Every Markdown file a tracked file names (comments in C, shell, YAML,
# Makefiles and configs; the docs themselves) is in the repository, every
# "<doc>.md section N" and "<doc>.md#anchor" it cites exists, and nothing
# points at the notes folder beside the repository. One test point per
# file with references (tests/tools/doc-links), then the same checker on a
# small repository with references of each kind, good and bad, to show
# that it finds the bad ones.
# timeout: 60
. "$(dirname "$0")/../lib.sh"

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	skip "not a git work tree" "documents named in tracked files exist"
	done_testing
	exit
fi

out=$(tests/tools/doc-links . 2>&1)
rc=$?
while IFS= read -r l; do
	case "$l" in
	"ok "*) ok "${l#ok }" ;;
	"bad "*) not_ok "${l#bad }" ;;
	*) not_ok "doc-links: $l" ;;
	esac
done <<<"$out"
expect_eq "doc-links exits 0 on the repository" "$rc" 0
n=$(grep -c '^ok ' <<<"$out")
check "doc-links found references in the repository ($n files)" test "$n" -gt 20

# The checker must be able to fail: a repository with good and bad
# references of each kind. The names are put together here, so that this
# file itself names no missing document.
r="$T_TMP/repo"
mkdir -p "$r/docs" "$r/src"
md=md
up=..
printf '# Facts\n<a id="one"></a>\n## 1. One\n### 1.2 Two\n' >"$r/docs/facts.$md"
printf '%s\n' "See facts.$md section 1 and [the facts](facts.$md#one), docs/facts.$md" \
	"sections 1 and 1.2, and [two](facts.$md#12-two)." >"$r/docs/good.$md"
printf '%s\n' "See facts.$md section 1, and missing.$md." \
	"Also facts.$md section 3 and facts.$md#nowhere." >"$r/docs/guide.$md"
printf '%s\n' "/* the facts (docs/facts.$md" \
	" * section 1.2), the guide (docs/guide.$md#one-more) */" >"$r/src/anchor.c"
printf '%s\n' "/* the guide (docs/guide.$md), not docs/gone.$md;" \
	" * the notes in $up/shared/notes.txt */" >"$r/src/main.c"
printf '%s\n' "# docs/facts.$md section 2; facts.$md is not at the top" >"$r/src/run.sh"
git -C "$r" init -q && git -C "$r" add -A
got=$(tests/tools/doc-links "$r" 2>&1)
rc=$?
expect_eq "bad references: exit 1" "$rc" 1
want="bad docs/guide.$md:1: missing.$md: no such file in the repository
bad docs/guide.$md:2: facts.$md#nowhere: docs/facts.$md has no anchor #nowhere
bad docs/guide.$md:2: facts.$md section 3: docs/facts.$md has no section 3
bad src/anchor.c:2: docs/guide.$md#one-more: docs/guide.$md has no anchor #one-more
bad src/main.c:1: docs/gone.$md: no such file in the repository
bad src/main.c:2: $up/shared/: a path outside the repository
bad src/run.sh:1: docs/facts.$md section 2: docs/facts.$md has no section 2
bad src/run.sh:1: facts.$md: no such file in the repository"
expect_eq "bad references: each one named, with file and line" \
	"$(grep '^bad ' <<<"$got" | sort)" "$(sort <<<"$want")"
expect_eq "good references: relative to a Markdown file's folder, sections, anchors" \
	"$(grep '^ok docs/good' <<<"$got")" "ok docs/good.$md: 7 references"
done_testing
