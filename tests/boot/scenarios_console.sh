#!/bin/bash
# timeout: 600
# scenarios/console-setup.yaml: fds 0/1/2 of PID 1 with and without
# /dev/console (docs/kernel-behaviour.md section 5, oracles 10 and 11), on qemu
# x86_64, qemu aarch64 and UML.
. "$(dirname "$0")/scenarios_lib.sh"

run_library scenarios/console-setup.yaml
b=console-setup
names=()
for row in "${ROWS[@]}"; do
	for v in "" builtin-rescues console-is-dir console-is-file builtin-lacks-it; do names+=("$(vname $b "$v" "$row")"); done
done
all_pass 15 "${names[@]}"
for row in "${ROWS[@]}"; do
	n=$(vname $b "" "$row")
	expect_eq "$row: with /dev/console: fd 2 open on 5:1" "$(sv "$n" '.hello.fds[2].rdev')" 5:1
	expect_eq "$row: with /dev/console: argv is [/init]" "$(sv "$n" '.hello.argv | join(" ")')" /init
	expect_eq "$row: arch in hello" "$(sv "$n" '.hello.arch')" "$(echo "$row" | sed 's/arch=\([^,]*\),.*/\1/')"
	n=$(vname $b builtin-rescues "$row")
	expect_eq "$row: built-in default rescues: fd 0 on 5:1" "$(sv "$n" '.hello.fds[0].rdev')" 5:1
	expect_eq "$row: built-in default rescues: /root 0700 from default_cpio_list" \
		"$(sv "$n" '[.steps[].reply | select(.mode? == "0700")] | length')" 1
	for v in console-is-dir builtin-lacks-it; do
		n=$(vname $b $v "$row")
		expect_eq "$n: fds 0-2 closed" "$(sv "$n" '[.hello.fds[].open] | map(tostring) | join(",")')" false,false,false
		console_has "$n" 'Warning: unable to open an initial console\.'
	done
	expect_eq "$row: console-is-dir: /dev/console is a directory" \
		"$(sv "$(vname $b console-is-dir "$row")" '[.steps[].reply | select(.type? == "dir")] | length')" 1
	expect_eq "$row: console-is-file: fds 0-2 on the regular file" \
		"$(sv "$(vname $b console-is-file "$row")" '[.hello.fds[].type] | join(",")')" file,file,file
	expect_eq "$row: builtin-lacks-it: the built-in archive's file was read" \
		"$(sv "$(vname $b builtin-lacks-it "$row")" '[.steps[].reply.data?] | index("linked into the kernel\n") != null')" true
done
expect_eq "UML rows really ran UML" "$(sv "$(vname $b "" "${ROWS[1]}")" '.emulator.command | test("linux")')" true
no_emulator_left
done_testing
