#!/bin/bash
# ci/install-deps with every package present: it writes no temporary file
# (an earlier version wrote /tmp/.bootlab-have.PID, a name another user
# could plant) and never calls apt. Run in a private mount namespace where
# apt-get is /bin/false, so nothing is ever installed from here.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

# in_ns RO: ci/install-deps in a mount namespace of its own, apt-get
# replaced by /bin/false; RO=1 makes /tmp a read-only tmpfs; the
# arguments after RO are install-deps'
in_ns() {
	unshare -m --propagation private sh -c '
		mount --bind /bin/false "$(command -v apt-get)" || exit 99
		if [ "$1" = 1 ]; then mount -t tmpfs -o ro bootlab-ro /tmp || exit 99; fi
		shift; exec sh ci/install-deps "$@"' in-ns "$@" 2>&1
}
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	skip "needs root and unshare -m" "install-deps"; done_testing; exit
fi
out=$(in_ns 0); rc=$?
if [ $rc -ne 0 ]; then
	skip "not every package is installed (exit $rc: $(echo "$out" | head -c 200))" "install-deps"
	done_testing; exit
fi
expect_eq "everything installed: silent" "$out" ""
out=$(in_ns 1); rc=$?
expect_eq "with /tmp read-only: exit 0, apt never called" "$rc" 0
expect_eq "with /tmp read-only: silent" "$out" ""
out=$(in_ns 0 --first); rc=$?
expect_eq "--first (make demo's first list), all present: exit 0, silent" "$rc:$out" "0:"
out=$(in_ns 0 --bogus); rc=$?
expect_eq "an unknown option: usage, exit 2" "$rc:$out" "2:usage: ci/install-deps [--first]"
done_testing
