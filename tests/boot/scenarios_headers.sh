#!/bin/bash
# timeout: 60
# Every library scenario says in its header what it pins and where from
# (a docs/kernel-behaviour.md section and a kernel file:function) and which
# machines it runs on, and loads cleanly with all its variants. No boots.
. "$(dirname "$0")/scenarios_lib.sh"

for f in console-setup overwrite-order compression switch-root panic-on-exit init-selection own-initramfs raid-gentoo; do
	y=scenarios/$f.yaml
	head=$(sed -n '/^[^#]/q;p' "$y")
	expect_match "$f: header names what it pins" "$head" '^# Pins: '
	expect_match "$f: header cites docs/kernel-behaviour.md sections" "$head" \
		'docs/kernel-behaviour\.md section'
	expect_match "$f: header cites a kernel file:function" "$head" '[a-z_/]+\.c:[a-z_]+'
	expect_match "$f: header says which machines and why" "$head" '^# Machine: '
	out=$("$BOOTLAB" scenario check "$y" 2>&1)
	expect_match "$f: loads with its variants" "$out" "^$y: ok, [0-9]+ variants?"
done
done_testing
