#!/bin/bash
# --arch/--backend overrides and variants that pin their own machine.
. "$(dirname "$0")/../lib.sh"

list() { "$BOOTLAB" run --list "$@" tests/data/scenarios/pinned.yaml 2>&1 | tr '\n' ' '; }
expect_eq "no override: every variant" "$(list)" "pinned pinned[on-uml] pinned[on-arm] pinned[plain] "
expect_eq "--backend libvirt leaves out the uml-pinned variant" "$(list --backend libvirt)" "pinned pinned[on-arm] pinned[plain] "
expect_eq "--backend uml on the arm64-pinned variant is still an error" "$(list --backend uml)" \
	"bootlab run: tests/data/scenarios/pinned.yaml:5:10: backend 'uml' runs x86_64 only, not arch 'aarch64' (in variant 'pinned[on-arm]') "
expect_eq "--arch aarch64 --backend qemu" "$(list --arch aarch64 --backend qemu)" "pinned pinned[on-arm] pinned[plain] "
expect_eq "--arch x86_64 --backend libvirt" "$(list --arch x86_64 --backend libvirt)" "pinned pinned[plain] "
done_testing
