#!/bin/bash
# timeout: 400
# A guest forging bootlab's evidence (tests/data/scenarios/guest-forgery.yaml,
# docs/protocol.md "What a guest can fake"): a framed console hello without
# the boot's nonce, framed lines with the nonce after the agent's hello came
# on its port, a reply with id null and ok true. Each is ignored; the agent's
# console channel (framed lines with the nonce after a console hello) and a
# null-id error reply (the protocol's own case) still work.
. "$(dirname "$0")/scenarios_lib.sh"

run_library tests/data/scenarios/guest-forgery.yaml
f=guest-forgery
expect_eq "bootlab run exits 1 (null-id-ok must fail)" "$RC" 1
expect_eq "5 variants in the report" "$(jq '.scenarios | length' "$R")" 5
for v in $f "$f[nonce-after-port-hello]" "$f[console-channel]" "$f[null-id-error]"; do
	expect_eq "$v: outcome pass" "$(sv "$v" .outcome)" pass
	expect_eq "$v: no step failed or skipped" \
		"$(sv "$v" '[.steps[] | select(.result != "pass")] | length')" 0
done

# no nonce: the forged hello is console output, the agent's hello is the one
expect_match "no nonce: the hello came on the port" "$(sv $f .hello.channel)" '^virtio:'
expect_eq "no nonce: the hello is not the forged one" "$(sv $f .hello.forged)" null
console_has $f '@@BL1@@ \{"v":1,"type":"hello".*"forged":true'

# the nonce, after the port's hello: no stage-2 hello, no forged reply
v="$f[nonce-after-port-hello]"
expect_eq "nonce after port hello: no forged stage-2 hello" "$(sv "$v" .hello2)" null
expect_eq "nonce after port hello: stat / reply is the agent's" "$(step "$v" 4 .forged)" null
console_has "$v" '@@BL1@@ [0-9a-f]{16} \{"id":2,"ok":true,"forged":true\}'

# the console channel: framed with the nonce, after a console hello
v="$f[console-channel]"
expect_eq "console channel: hello says console" "$(sv "$v" .hello.channel)" console
expect_eq "console channel: ENOENT came back framed" "$(step "$v" 2 .error)" ENOENT
expect_eq "console channel: stat reply came back framed" "$(step "$v" 3 .type)" chr
nonce=$(sv "$v" .kernel.cmdline | sed -n 's/.*bootlab\.nonce=\([0-9a-f]*\).*/\1/p')
expect_match "the nonce is on the kernel command line" "$nonce" '^[0-9a-f]{16}$'

# id null: ok true answers nothing; an EINVAL error answers the request
v="$f[null-id-ok]"
expect_eq "null id, ok true: the stat step fails" "$(sv "$v" '.steps[1].result')" fail
expect_eq "null id, ok true: counted as dropped" "$(sv "$v" .truncated.agent_lines)" 1
expect_match "null id, ok true: the reason names it" "$(sv "$v" .reason)" \
	'bootlab dropped guest output: 1 agent lines answering no request dropped'
expect_eq "null id, EINVAL: the step saw the error" "$(step "$f[null-id-error]" 2 .error)" EINVAL
expect_eq "null id, EINVAL: nothing dropped" "$(sv "$f[null-id-error]" .truncated)" null
no_emulator_left
done_testing
