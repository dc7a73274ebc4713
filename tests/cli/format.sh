#!/bin/bash
# Every tracked C file is as the checked-in .clang-format lays it out
# (`make format` applies it): one test point per folder, naming the files
# that drifted. Then the same check on a scratch copy with a badly laid
# out file, to show that it finds drift.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	skip "not a git work tree" "C files formatted"
	done_testing
	exit
fi

# drifted FILE...: the files clang-format would change (it names each
# in a "FILE:LINE:COL: warning: code should be clang-formatted" line)
drifted() {
	clang-format --dry-run "$@" 2>&1 | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning: .*/\1/p' | sort -u
}

mapfile -t files < <(git ls-files '*.c' '*.h')
check "tracked C files found (${#files[@]})" test "${#files[@]}" -gt 50
for d in $(printf '%s\n' "${files[@]}" | xargs -n1 dirname | sort -u); do
	in_dir=()
	for f in "${files[@]}"; do [ "$(dirname "$f")" = "$d" ] && in_dir+=("$f"); done
	expect_eq "$d: ${#in_dir[@]} files formatted (make format)" "$(drifted "${in_dir[@]}")" ""
done

# the check must be able to fail
mkdir -p "$T_TMP/scratch"
cp .clang-format "$T_TMP/scratch/"
printf 'int main(void) { if (1) return 0; return 1; }\n' >"$T_TMP/scratch/bad.c"
printf 'int main(void)\n{\n\treturn 0;\n}\n' >"$T_TMP/scratch/good.c"
expect_eq "a badly laid out file is found, a good one is not" \
	"$(cd "$T_TMP/scratch" && drifted bad.c good.c)" "bad.c"
done_testing
