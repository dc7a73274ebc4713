#!/bin/bash
# timeout: 600
# scenarios/console-setup.yaml: fds 0/1/2 of PID 1 with and without
# /dev/console (kernel-facts.md section 5, oracles 10 and 11).
. "$(dirname "$0")/scenarios_lib.sh"

run_library scenarios/console-setup.yaml
b=console-setup
all_pass 4 $b "$b[builtin-rescues]" "$b[console-is-dir]" "$b[builtin-lacks-it]"
expect_eq "with /dev/console: fd 2 open on 5:1" "$(sv $b '.hello.fds[2].rdev')" 5:1
expect_eq "with /dev/console: argv is [/init]" "$(sv $b '.hello.argv | join(" ")')" /init
expect_eq "built-in default rescues: fd 0 on 5:1" "$(sv "$b[builtin-rescues]" '.hello.fds[0].rdev')" 5:1
expect_eq "built-in default rescues: /root 0700 from default_cpio_list" \
	"$(sv "$b[builtin-rescues]" '[.steps[].reply | select(.mode? == "0700")] | length')" 1
for v in "$b[console-is-dir]" "$b[builtin-lacks-it]"; do
	expect_eq "$v: fds 0-2 closed" "$(sv "$v" '[.hello.fds[].open] | map(tostring) | join(",")')" false,false,false
	console_has "$v" 'Warning: unable to open an initial console\.'
done
expect_eq "console-is-dir: /dev/console is a directory" \
	"$(sv "$b[console-is-dir]" '[.steps[].reply | select(.type? == "dir")] | length')" 1
expect_eq "builtin-lacks-it: the built-in archive's file was read" \
	"$(sv "$b[builtin-lacks-it]" '[.steps[].reply.data?] | index("linked into the kernel\n") != null')" true
no_emulator_left
done_testing
