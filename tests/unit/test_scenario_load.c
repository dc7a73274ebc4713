/* The scenario loader, table-driven: every bad file under
 * tests/data/scenario/bad/ with the exact "file:line:col: message" it must
 * give, and good files checked field by field (matrix expansion, extends,
 * variants, overrides, YAML -> JSON). Runs from tests/data/scenario so
 * the file names in messages are short. */
#include "scenario/scenario.h"
#include "util/util.h"

#include "t.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *file;
	const char *msg; /* "@DIR@" stands for the absolute path of bad/ */
} bad[] = {
    {"unknown-key", "2:1: unknown key 'stpes' in scenario (did you mean 'steps'?)"},
    {"unknown-key-nosuggest",
     "2:1: unknown key 'frobnicate' in scenario (known: name, description, extends, arch, "
     "backend, machine, kernel, cmdline, memory, timeout, emulator-args, archives, disks, "
     "arrays, steps, matrix, variants, fail-on, expect-report or observe)"},
    {"observe-not-bool", "2:10: 'observe' must be true or false, not 'sometimes'"},
    {"missing-steps", "1:1: scenario 'x' needs 'steps'"},
    {"empty-steps", "2:8: 'steps' is empty; a scenario needs at least one step"},
    {"steps-not-list", "3:3: 'steps' must be a list, not a mapping"},
    {"bad-arch", "2:7: unknown arch 'arm64' (x86_64 or aarch64)"},
    {"bad-backend", "2:10: unknown backend 'kvm' (qemu, uml or libvirt)"},
    {"uml-aarch64", "3:10: backend 'uml' runs x86_64 only, not arch 'aarch64'"},
    {"machine-mismatch", "3:10: machine 'q35' is not an aarch64 machine (virt)"},
    {"machine-uml", "3:10: 'machine' has no meaning with backend 'uml'"},
    {"bad-name", "1:7: bad name 'my scenario' (up to 64 letters, digits, '.', '_' or '-'; it "
		 "becomes a file name)"},
    {"bad-memory",
     "2:9: bad size 'lots' for 'memory' (bytes, or a number with K, M, G or T like 64M)"},
    {"memory-bytes", "2:9: memory '256' is not a whole number of MiB (a plain number is bytes; "
		     "write 256M)"},
    {"memory-odd", "2:9: memory '1000000000' is not a whole number of MiB (a plain number is "
		   "bytes; write 256M)"},
    {"bad-timeout",
     "2:10: bad duration '10 seconds' for 'timeout' (like 500ms, 10s, 2m, or seconds)"},
    {"zero-timeout", "2:10: duration '0s' for 'timeout' must be at least 1ms"},
    {"long-timeout", "2:10: duration '25h' for 'timeout' is too long (at most 24h)"},
    {"step-timeout", "4:14: bad duration '-1s' for 'timeout' (like 500ms, 10s, 2m, or seconds)"},
    {"kernel-two", "4:3: kernel has both 'build' and 'image'; pick one"},
    {"kernel-none", "3:3: kernel needs one of 'build', 'distro' or 'image'"},
    {"kernel-modules-build", "4:3: 'modules' only applies to a distro kernel"},
    {"kernel-fragment-missing", "3:10: kernel fragment 'fragments/mine.config' not found "
				"(looked for file '@DIR@/fragments/mine.config')"},
    {"kernel-fragment-unknown", "3:10: unknown kernel fragment 'x86-64' (did you mean 'x86_64'?)"},
    {"kernel-image-missing", "3:10: kernel image '@DIR@/no-such-vmlinuz' cannot be read: No such "
			     "file or directory"},
    {"yaml-tag", "3:14: unsupported YAML tag '!regex'"},
    {"kernel-list", "2:9: 'kernel' must be a mapping, not a list"},
    {"builtin-distro", "6:5: builtin archive 'inside' needs a kernel built from kernels/ "
		       "('kernel: {build: ...}'), not 'distro'"},
    {"builtin-second", "7:5: builtin archive 'second' must come first (it is linked into the "
		       "kernel, before every external archive)"},
    {"uml-distro", "4:3: backend 'uml' needs a UML kernel ('build' or 'image: /usr/bin/linux'), "
		   "not a distro kernel"},
    {"archive-dup", "6:11: two archives named 'main' (the first at line 3)"},
    {"archive-noentries", "3:5: archive 'main' needs 'entries' (or 'raw')"},
    {"raw-and-entries", "5:5: archive 'main' has both 'raw' and 'entries'; pick one"},
    {"bad-codec", "4:12: unknown codec 'gz' (did you mean 'xz'?)"},
    {"bad-bool", "4:14: 'corrupt' must be true or false, not 'yes'"},
    {"nod-no-major", "5:9: nod '/dev/console' needs 'major'"},
    {"nod-bad-type", "6:15: unknown type 'char' (c or b)"},
    {"nod-big-major", "7:16: 'major' is out of range: '5000' (at most 4095)"},
    {"hardlink-later", "6:17: hardlink target '/etc/motd' is not a file earlier in archive "
		       "'main'"},
    {"hardlink-other-archive", "10:17: hardlink target '/etc/motd' is not a file earlier in "
			       "archive 'two'"},
    {"bad-mode", "6:15: bad mode '0789' (octal digits like \"0755\")"},
    {"mode-too-big", "6:15: bad mode '17777' (permission bits only, at most 07777)"},
    {"relative-path", "5:14: dir 'dev' must be absolute (start with '/')"},
    {"dotdot-path", "5:14: dir '/dev/../etc' must not contain '..'"},
    {"dup-path", "6:9: '/dev' is already in archive 'main' (line 5)"},
    {"file-no-content", "5:9: file '/etc/motd' needs 'content' or 'source'"},
    {"file-both", "7:9: file '/etc/motd' has both 'content' and 'source'; pick one"},
    {"file-missing-source", "6:17: source 'no-such-file.txt' not found (looked for file "
			    "'@DIR@/no-such-file.txt')"},
    {"entry-two-kinds", "6:9: entry has both 'file' and 'dir'; one per entry"},
    {"entry-typo", "5:9: unknown entry kind 'symlnk' (did you mean 'symlink'?)"},
    {"entry-wrong-key", "6:9: unknown key 'target' in 'dir' entry (known: dir, mode, uid or "
			"gid)"},
    {"symlink-no-target", "5:9: symlink '/bin/sh' needs 'target'"},
    {"modules-no-distro", "5:9: a 'modules' entry needs a distro kernel (kernel: {distro: "
			  "...}), not 'build'"},
    {"step-unknown", "3:5: unknown step 'helo' (did you mean 'hello'?)"},
    {"step-two-kinds", "4:5: step has both 'hello' and 'console'; one per step"},
    {"step-expect-on-console", "4:5: 'expect' does not apply to a 'console' step"},
    {"bad-regex", "3:14: bad regex 'Run (/init' for 'console': Unmatched ( or \\("},
    /* a fuzzed field like this took 1.2 GB in glibc's regcomp */
    {"regex-too-big", "3:14: bad regex '(a{0,30}){30}{30}' for 'console': too big to compile: "
		      "its repetitions expand to more than 2000 positions"},
    /* small, but glibc's closures over empty-matching loops are exponential:
     * 7.5 s, and (^|a)+ written 20 times over 5 s */
    {"regex-too-hard", "3:14: bad regex 'a{0,20}?+{20}' for 'console': too hard to compile: "
		       "compiling it takes more than 1000 ms of CPU (repetitions of what "
		       "matches the empty string)"},
#define LOOP4 "(^|a)+(^|a)+(^|a)+(^|a)+"
    {"regex-anchor-loops", "3:14: bad regex '" LOOP4 LOOP4 LOOP4 LOOP4 LOOP4
			   "' for 'console': too hard to compile: compiling it takes more "
			   "than 1000 ms of CPU (repetitions of what matches the empty "
			   "string)"},
    {"bad-matches", "5:26: bad regex 'a[b' for 'matches': Unmatched [, [^, [:, [., or [="},
    {"regex-backslash-d",
     "3:14: bad regex 'took \\d+ ms' for 'console': '\\d' is not POSIX; write [0-9]"},
    {"bad-assert-op", "5:17: unknown key 'equal' in expectation (did you mean 'equals'?)"},
    {"assert-two-ops", "5:30: expectation for 'cmdline' takes one of equals, matches, exists, "
		       "absent or contains, not two"},
    {"exists-false", "5:23: 'exists: false' is not allowed; write 'absent: true'"},
    {"bad-field", "5:7: bad field path 'fds..0' (like fds.0.rdev)"},
    {"expect-bool-text", "5:19: 'fds.0.open' is true or false, so 'yes' never equals it (yes, no, "
			 "on and off are text in YAML 1.2)"},
    {"expect-type", "4:20: 'size' is a number, so \"6\" never equals it"},
    {"expect-unknown-field", "4:14: the reply to 'read' has no field 'dat' (did you mean 'data'?)"},
    {"expect-contains-field", "5:27: 'entries' holds {name, type}, so "
			      "{\"name\":\"etc\",\"typ\":\"dir\"} is never in it"},
    {"expect-error-reply", "5:14: an error reply to 'stat' has no field 'size' (it has id, ok, "
			   "errno, error or message)"},
    {"expect-list-index", "5:7: 'fds.first.open': a list is indexed by number, not 'first'"},
    {"agent-no-op", "3:12: agent request needs 'op' (like {op: stat, path: /init})"},
    {"agent-bad-op", "3:17: unknown agent op 'stta' (did you mean 'stat'?)"},
    {"agent-id", "3:23: 'id' is chosen by bootlab; leave it out"},
    {"agent-bad-errno",
     "4:12: unknown errno 'ENOTHING' for 'error' (like ENOENT, EINVAL, or true for any)"},
    {"agent-expect-noreply", "4:5: op 'exit' gets no reply, so there is nothing to 'expect'"},
    {"step-after-exit", "4:5: step 2 waits for the agent, but PID 1 exited in step 1"},
    {"step-after-panic", "4:5: step 2 waits for the agent, but the kernel panicked in step 1"},
    {"step-after-outcome", "4:5: no step can follow 'outcome' (step 1): it is the end of the boot"},
    {"empty-step", "3:5: step needs one of hello, console, send, agent, panic, outcome or "
		   "expect-script"},
    {"empty-entry", "4:8: entry needs a kind: agent, dir, nod, file, symlink, hardlink, pipe, "
		    "sock, tree, list, cpio or modules"},
    {"no-agent", "7:5: step 2 talks to the agent, but no archive or disk holds it (add '- "
		 "agent: /init' to an archive's entries)"},
    {"hello-stage", "3:20: 'stage' is out of range: '3' (at most 2)"},
    {"panic-status-signal",
     "3:24: panic has both 'status' and 'signal': init either exits or is killed"},
    {"panic-reason", "3:21: unknown panic reason 'oops' (kill-init, no-init, vfs, requested-init, "
		     "builtin-unpack or other)"},
    {"panic-status-noinit", "3:30: 'status' only applies to reason 'kill-init', not 'no-init'"},
    {"panic-bad-signal", "3:21: unknown signal 'SIGFOO' (like SIGSEGV, SIGKILL or a number)"},
    {"panic-scalar", "3:12: 'panic' must be 'any' or a mapping {reason:, status:, signal:}, "
		     "not 'sometimes'"},
    {"bad-outcome", "3:14: unknown outcome 'passed' (did you mean 'pass'?)"},
    {"expect-script-missing", "3:20: expect-script 'nope.exp' not found (looked for file "
			      "'@DIR@/nope.exp')"},
    {"duplicate-key", "3:1: duplicate key 'arch' (first at line 2)"},
    {"yaml-syntax", "4:1: bad YAML: did not find expected ',' or ']' while parsing a flow "
		    "sequence (line 3)"},
    {"yaml-tab", "4:1: bad YAML: a tab in indentation (YAML indents with spaces)"},
    {"many-errors",
     "2:1: unknown key 'memroy' in scenario (did you mean 'memory'?)\n"
     "bad/many-errors.yaml:3:10: bad duration 'forever' for 'timeout' (like 500ms, 10s, 2m, or "
     "seconds)\n"
     "bad/many-errors.yaml:6:14: dir 'dev' must be absolute (start with '/')\n"
     "bad/many-errors.yaml:7:9: file '/etc/motd' needs 'content' or 'source'\n"
     "bad/many-errors.yaml:9:5: unknown step 'helo' (did you mean 'hello'?)\n"
     "bad/many-errors.yaml:11:20: 'mode' is text, so 755 never equals it\n"
     "bad/many-errors.yaml:11:30: 'uid' is a number, so \"root\" never equals it"},
    {"not-a-map", "1:1: a scenario must be a mapping (name: ..., steps: ...), not a list"},
    {"empty", "1:1: empty scenario file"},
    {"two-docs", "5:1: a scenario file holds one YAML document, this is a second one"},
    {"alias-bomb", "2:10: too many nodes (alias expansion?)"},
    {"emulator-args-map", "2:16: 'emulator-args' must be a list, not a mapping"},
    {"cmdline-list", "2:10: 'cmdline' must be text, not a list"},
    {"disk-dup", "5:11: two disks named 'd0' (the first at line 3)"},
    {"disk-no-size", "3:5: disk 'd0' needs 'size'"},
    {"disk-bad-size",
     "4:11: bad size '64X' for 'size' (bytes, or a number with K, M, G or T like 64M)"},
    {"disk-partition-size",
     "7:15: bad size 'lots' for 'size' (bytes, or a number with K, M, G or T like 64M)"},
    {"disk-partitions-no-table",
     "5:5: disk 'd0' has partitions but no 'table: mbr' or 'table: gpt'"},
    {"disk-fs-list", "5:17: 'filesystem' must be a mapping, not a list"},
    {"disk-tree-missing", "5:36: tree 'no-such-rootfs' not found (looked for folder "
			  "'@DIR@/no-such-rootfs')"},
    {"disk-bad-type", "16:26: disks[0].partitions[0].type: unknown partition type 'nosuchtype' "
		      "(names: linux, raid, swap, lvm, esp, fat32, or a hex byte like fd)"},
    {"disk-array-no-members", "3:5: arrays[0]: array 'md1' has no members (add `raid: {array: "
			      "md1, member: 0}` to a disk or partition)"},
    {"array-no-name", "3:5: array needs 'name' (like md0)"},
    {"extends-missing", "1:10: base scenario 'no-such-base.yaml' not found (looked for "
			"'bad/no-such-base.yaml')"},
    {"extends-cycle-a", "@B@extends-cycle-b.yaml:1:10: extends cycle: extends-cycle-a.yaml -> "
			"extends-cycle-b.yaml -> extends-cycle-a.yaml"},
    {"matrix-bad-dim",
     "4:3: unknown key 'kernel' in matrix (known: arch, backend, machine or exclude)"},
    {"matrix-uml-aarch64", "4:19: backend 'uml' runs x86_64 only, not arch 'aarch64' (in "
			   "variant 'x[arch=aarch64,backend=uml]')"},
    {"matrix-exclude-bad", "5:14: exclude value 'riscv' is not in matrix 'arch'"},
    {"matrix-dup", "3:18: matrix 'arch' lists 'x86_64' twice"},
    {"variant-dup", "5:11: two variants named 'a'"},
    {"variant-set-name",
     "4:11: unknown key 'name' in variant 'set' (known: description, arch, backend, machine, "
     "kernel, cmdline, memory, timeout, emulator-args, archives, disks, arrays, steps, fail-on, "
     "expect-report or observe)"},
    {"fail-on-unknown",
     "3:18: unknown kernel report class 'warnings' (one of: warning, bug, oops, "
     "gpf, kasan, ubsan, kfence, lockdep, rcu-stall, soft-lockup, hard-lockup, "
     "hung-task, oom, scheduling-while-atomic, sleep-in-atomic, list-corruption, "
     "refcount, stack-protector, stack-overflow, panic, module, init; or all, "
     "default, none)"},
    {"expect-report-no-class", "3:16: expect-report needs a 'class'"},
    {"expect-report-bad-title", "3:40: bad regex '(' for 'title': Unmatched ( or \\("},
    {"variant-bad-value", "4:20: bad duration 'forever' for 'timeout' (like 500ms, 10s, 2m, or "
			  "seconds) (in variant 'x[slow]')"},
};

static char *expected(const char *file, const char *msg, const char *dir)
{
	struct strbuf sb = STRBUF_INIT;
	if (strncmp(msg, "@B@", 3))
		sb_addf(&sb, "bad/%s.yaml:", file);
	else
		msg += 3, sb_adds(&sb, "bad/");
	for (const char *p = msg; *p;) {
		if (!strncmp(p, "@DIR@", 5)) {
			sb_adds(&sb, dir);
			p += 5;
		} else {
			sb_addc(&sb, *p++);
		}
	}
	return sb_detach(&sb, NULL);
}

static void test_bad(void)
{
	char *dir = realpath("bad", NULL);
	for (size_t i = 0; i < BL_ARRAY_SIZE(bad); i++) {
		char path[256];
		struct bl_scenario_set set = {0};
		snprintf(path, sizeof(path), "bad/%s.yaml", bad[i].file);
		int rc = bl_scenario_load(path, NULL, &set);
		char *want = expected(bad[i].file, bad[i].msg, dir);
		T_OK(rc == -1 && set.n == 0, "%s is refused", bad[i].file);
		T_EQ_STR(bl_errmsg(), want, "%s message", bad[i].file);
		free(want);
		bl_scenario_set_release(&set);
	}
	free(dir);
}

static struct bl_scenario *load1(const char *file, const struct bl_load_opts *o,
				 struct bl_scenario_set *set)
{
	size_t before = set->n;
	if (bl_scenario_load(file, o, set)) {
		printf("# %s\n", bl_errmsg());
		return NULL;
	}
	return set->n > before ? set->v[before] : NULL;
}

static void test_smoke(void)
{
	struct bl_scenario_set set = {0};
	struct bl_scenario *s = load1("good/smoke.yaml", NULL, &set);
	if (!T_OK(s != NULL, "smoke loads")) {
		bl_scenario_set_release(&set);
		return;
	}
	char *abs = realpath("good/smoke.yaml", NULL);
	T_EQ_STR(s->file, abs, "file is absolute");
	free(abs);
	T_EQ_STR(s->name, "smoke", "name");
	T_OK(s->variant == NULL, "no variant");
	T_OK(strstr(s->description, "virtio-serial") != NULL, "description");
	T_EQ_STR(s->arch, "x86_64", "arch");
	T_EQ_STR(s->backend, "qemu", "backend");
	T_OK(s->machine == NULL, "machine auto");
	T_EQ_STR(s->kernel.kind, "build", "kernel kind");
	T_EQ_STR(s->kernel.config, "x86_64", "kernel config");
	T_EQ_STR(s->cmdline, "bootlab.demo=1", "cmdline");
	T_EQ_INT(s->memory_mb, 256, "memory");
	T_EQ_INT(s->timeout_ms, 60000, "timeout");
	T_OK(s->emulator_args && !strcmp(s->emulator_args[0], "-smp") &&
		 !strcmp(s->emulator_args[1], "1") && !s->emulator_args[2],
	     "emulator-args");
	T_EQ_INT(s->narchives, 1, "one archive");
	struct bl_archive_spec *a = &s->archives[0];
	T_EQ_STR(a->name, "main", "archive name");
	T_EQ_STR(a->codec, "gzip", "codec");
	T_OK(!a->builtin && !a->corrupt && !a->raw, "archive flags");
	T_EQ_INT(a->nentries, 4, "entries");
	T_EQ_INT(a->entries[0].kind, BL_ENT_AGENT, "agent");
	T_EQ_STR(a->entries[0].path, "/init", "agent path");
	T_EQ_INT(a->entries[0].mode, 0755, "agent mode default");
	T_EQ_INT(a->entries[1].kind, BL_ENT_DIR, "dir");
	T_EQ_INT(a->entries[2].kind, BL_ENT_NOD, "nod");
	T_EQ_INT(a->entries[2].devtype, 'c', "nod type");
	T_EQ_INT(a->entries[2].major, 5, "major");
	T_EQ_INT(a->entries[2].minor, 1, "minor");
	T_EQ_INT(a->entries[2].mode, 0600, "nod mode");
	T_EQ_INT(a->entries[3].kind, BL_ENT_FILE, "file");
	T_EQ_INT(a->entries[3].content_len, 6, "content length");
	T_EQ_STR(a->entries[3].content, "hello\n", "content");
	T_EQ_INT(a->entries[3].mode, 0644, "plain 0644 is octal");
	T_EQ_INT(a->entries[3].pos.line, 24, "entry line");
	T_EQ_INT(a->entries[3].pos.col, 9, "entry column");
	T_EQ_STR(a->entries[3].pos.file, "good/smoke.yaml", "entry file");

	T_EQ_INT(s->nsteps, 7, "steps");
	struct bl_step *st = s->steps;
	T_EQ_INT(st[0].kind, BL_STEP_HELLO, "hello");
	T_EQ_INT(st[0].stage, 1, "stage");
	T_EQ_INT(st[0].timeout_ms, 30000, "default step timeout");
	T_EQ_INT(st[0].nasserts, 3, "hello asserts");
	T_EQ_STR(st[0].asserts[0].field, "pid", "assert field");
	T_OK(st[0].asserts[0].op == BL_AS_EQUALS && json_integer_value(st[0].asserts[0].value) == 1,
	     "pid == 1 (integer)");
	T_OK(json_is_string(st[0].asserts[1].value) &&
		 !strcmp(json_string_value(st[0].asserts[1].value), "5:1"),
	     "rdev is a string");
	T_EQ_INT(st[0].asserts[2].op, BL_AS_MATCHES, "matches");
	T_EQ_STR(st[0].asserts[2].regex, "bootlab\\.demo=1", "regex text");
	T_OK(regexec(&st[0].asserts[2].re, "x bootlab.demo=1 y", 0, NULL, 0) == 0 &&
		 regexec(&st[0].asserts[2].re, "bootlabXdemo=1", 0, NULL, 0) != 0,
	     "regex compiled");
	T_EQ_INT(st[1].kind, BL_STEP_AGENT, "agent");
	char *req = json_dumps(st[1].request, JSON_COMPACT | JSON_SORT_KEYS);
	T_EQ_STR(req, "{\"op\":\"stat\",\"path\":\"/etc/motd\"}", "request");
	free(req);
	T_OK(!st[1].no_reply && !st[1].expect_error, "stat wants a reply");
	T_EQ_STR(st[1].name, "2: agent stat /etc/motd", "generated name");
	T_OK(st[2].expect_error, "error expected");
	T_EQ_STR(st[2].expect_errno, "ENOENT", "errno");
	T_EQ_INT(st[3].kind, BL_STEP_CONSOLE_WAIT, "console");
	T_EQ_INT(st[3].timeout_ms, 10000, "step timeout");
	T_OK(regexec(&st[3].re, "[    0.9] Run /init as init process", 0, NULL, 0) == 0,
	     "console regex");
	T_OK(st[4].no_reply, "exit has no reply");
	T_EQ_INT(st[5].kind, BL_STEP_EXPECT_PANIC, "panic");
	T_EQ_STR(st[5].panic_reason, "kill-init", "panic reason");
	T_EQ_INT(st[5].panic_status, 3, "panic status");
	T_EQ_INT(st[5].panic_signal, -1, "panic signal any");
	T_EQ_INT(st[6].kind, BL_STEP_EXPECT_OUTCOME, "outcome");
	T_EQ_STR(st[6].outcome, "panic", "outcome value");
	T_EQ_STR(st[6].name, "ends in a panic", "given name");

	/* the same name twice in one set is refused, and the set is unchanged */
	T_OK(bl_scenario_load("good/smoke.yaml", NULL, &set) == -1 && set.n == 1,
	     "duplicate name refused");
	T_EQ_STR(bl_errmsg(),
		 "good/smoke.yaml:2:1: scenario name 'smoke' is already used by "
		 "'good/smoke.yaml'",
		 "duplicate name message");
	bl_scenario_set_release(&set);
}

static void test_matrix(void)
{
	static const char *const want[] = {"mx[arch=x86_64,backend=qemu]",
					   "mx[arch=x86_64,backend=uml]",
					   "mx[arch=aarch64,backend=qemu]"};
	struct bl_scenario_set set = {0};
	T_OK(load1("good/matrix.yaml", NULL, &set) != NULL, "matrix loads");
	T_EQ_INT(set.n, 3, "2x2 minus one exclude");
	for (size_t i = 0; i < set.n && i < 3; i++) {
		T_EQ_STR(set.v[i]->name, want[i], "variant %zu name", i);
		T_EQ_STR(set.v[i]->base_name, "mx", "base name %zu", i);
	}
	if (set.n == 3) {
		T_EQ_STR(set.v[2]->variant, "arch=aarch64,backend=qemu", "variant text");
		T_EQ_STR(set.v[2]->arch, "aarch64", "variant arch");
		T_EQ_STR(set.v[1]->backend, "uml", "variant backend");
	}
	bl_scenario_set_release(&set);

	/* --arch filters the matrix */
	struct bl_load_opts o = {.arch = "aarch64"};
	T_OK(load1("good/matrix.yaml", &o, &set) != NULL, "matrix with --arch");
	T_EQ_INT(set.n, 1, "--arch aarch64 keeps one");
	if (set.n == 1)
		T_EQ_STR(set.v[0]->name, "mx[arch=aarch64,backend=qemu]", "filtered name");
	bl_scenario_set_release(&set);
	/* --backend libvirt is not in the matrix: it replaces the dimension */
	struct bl_load_opts o2 = {.backend = "libvirt"};
	T_OK(load1("good/matrix.yaml", &o2, &set) != NULL, "matrix with --backend libvirt");
	T_EQ_INT(set.n, 2, "rows collapse to one per arch");
	if (set.n == 2) {
		T_EQ_STR(set.v[0]->name, "mx[arch=x86_64,backend=libvirt]", "collapsed 0");
		T_EQ_STR(set.v[1]->name, "mx[arch=aarch64,backend=libvirt]", "collapsed 1");
	}
	bl_scenario_set_release(&set);
	/* an override that makes an impossible pair is reported */
	struct bl_load_opts o3 = {.arch = "aarch64", .backend = "uml"};
	T_OK(bl_scenario_load("good/matrix.yaml", &o3, &set) == -1 && set.n == 0,
	     "--arch aarch64 --backend uml refused");
	T_EQ_STR(bl_errmsg(),
		 "good/matrix.yaml:5:3: backend 'uml' runs x86_64 only, not arch "
		 "'aarch64' (in variant 'mx[arch=aarch64,backend=uml]')",
		 "override message");
	struct bl_load_opts o4 = {.arch = "riscv"};
	T_OK(bl_scenario_load("good/matrix.yaml", &o4, &set) == -1, "unknown --arch");
	T_EQ_STR(bl_errmsg(), "unknown arch 'riscv' (x86_64 or aarch64)", "--arch message");
	bl_scenario_set_release(&set);
}

static void test_overrides(void)
{
	struct bl_scenario_set set = {0};
	struct bl_load_opts o = {.backend = "uml"};
	struct bl_scenario *s = load1("good/smoke.yaml", &o, &set);
	T_OK(s && !strcmp(s->backend, "uml") && !strcmp(s->name, "smoke"),
	     "--backend replaces a plain scenario's backend");
	bl_scenario_set_release(&set);
	struct bl_load_opts o2 = {.arch = "aarch64"};
	s = load1("good/smoke.yaml", &o2, &set);
	T_OK(s && !strcmp(s->arch, "aarch64"), "--arch replaces arch");
	bl_scenario_set_release(&set);
}

static void test_extends(void)
{
	struct bl_scenario_set set = {0};
	struct bl_scenario *s = load1("good/child.yaml", NULL, &set);
	if (!T_OK(s != NULL, "child loads")) {
		bl_scenario_set_release(&set);
		return;
	}
	T_EQ_STR(s->name, "child", "name is the file stem, not inherited");
	T_EQ_STR(s->description, "shared boot setup", "description inherited");
	T_EQ_INT(s->memory_mb, 128, "memory inherited");
	T_EQ_STR(s->cmdline, "loglevel=7", "cmdline overridden");
	T_EQ_INT(s->narchives, 1, "archives inherited");
	T_EQ_STR(s->archives[0].codec, "zstd", "archive codec");
	char *motd = realpath("good/files/motd.txt", NULL);
	T_EQ_STR(s->archives[0].entries[1].source, motd, "source relative to the base file");
	free(motd);
	T_EQ_STR(s->archives[0].pos.file, "good/base.yaml", "archive position in the base");
	T_EQ_INT(s->archives[0].pos.line, 7, "archive line in the base");
	T_EQ_INT(s->nsteps, 1, "steps from the child");
	bl_scenario_set_release(&set);
}

static void test_variants(void)
{
	struct bl_scenario_set set = {0};
	T_OK(load1("good/variants.yaml", NULL, &set) != NULL, "variants load");
	T_EQ_INT(set.n, 2, "base + one variant");
	if (set.n != 2) {
		bl_scenario_set_release(&set);
		return;
	}
	struct bl_scenario *b = set.v[0], *d = set.v[1];
	T_EQ_STR(b->name, "raidish", "base name");
	T_EQ_STR(d->name, "raidish[degraded]", "variant name");
	T_EQ_STR(d->variant, "degraded", "variant field");
	T_OK(b->cmdline == NULL, "base has no cmdline");
	T_EQ_STR(d->cmdline, "degraded=1", "variant cmdline");
	const struct bl_disk_plan *bp = &b->disks;
	T_EQ_INT(bp->ndisks, 2, "base disks");
	T_OK(!bp->disks[1].absent && d->disks.disks[1].absent, "d1 absent only in the variant");
	T_EQ_INT(bp->disks[0].size, 64 << 20, "disk size");
	T_EQ_INT(bp->disks[0].table, BL_PTABLE_GPT, "table");
	T_EQ_INT(bp->disks[1].table, BL_PTABLE_NONE, "no table");
	const struct bl_disk_part *p = bp->disks[0].parts;
	T_OK(bp->disks[0].nparts == 2 && p[0].size == 32 << 20 && p[1].size == 0,
	     "partitions: sizes parsed, rest is 0");
	char guid[37];
	bl_guid_str(p[0].gpt_type, guid);
	T_OK(p[0].mbr_type == 0xfd && !strcmp(guid, "A19D880F-05FC-4D3B-A006-743F0F84911E"),
	     "linux-raid: MBR fd, the GPT Linux RAID GUID (%s)", guid);
	T_OK(p[0].pos.line == 12 && p[0].pos.col == 9 && p[0].size_pos.col == 16,
	     "partition and size positions");
	if (T_EQ_INT(bp->narrays, 1, "one array")) {
		const struct bl_md_array *a = &bp->arrays[0];
		char *tree = realpath("good/files/rootfs", NULL);
		T_OK(a->fs && !strcmp(a->fs->tree, tree), "tree made absolute");
		free(tree);
		T_OK(a->fs && !strcmp(a->fs->agent, "/sbin/init") && a->fs->type == BL_FS_EXT4,
		     "array filesystem");
		T_OK(a->meta == BL_MD_12 && a->raid_disks == 2 && a->minor == 0,
		     "metadata \"1.2\", 2 devices, md0 -> minor 0");
		T_OK(a->nmembers == 2 && a->members[0].disk == 0 && a->members[0].part == 0 &&
			 a->members[1].disk == 1 && a->members[1].part == -1,
		     "members: d0 partition 1, d1 whole");
		T_OK(a->members[0].pos.line == 12 && a->members[0].pos.col == 45,
		     "a member is where its raid: was written (%d:%d)", a->members[0].pos.line,
		     a->members[0].pos.col);
		T_OK(a->pos.line == 3 && a->pos.col == 5 && !strcmp(a->field, "arrays[0]"),
		     "the array is where arrays: defines it");
	}
	T_OK(bp->disks[1].pos.line == 14 && bp->disks[1].pos.col == 5 &&
		 !strcmp(bp->disks[1].pos.file, "good/variants.yaml"),
	     "disk position");
	T_OK(d->disks.narrays == 1 && d->disks.arrays[0].nmembers == 2,
	     "arrays kept in the variant");
	bl_scenario_set_release(&set);
}

static void test_combo(void)
{
	static const char *const want[] = {"combo[backend=qemu]", "combo[backend=uml]",
					   "combo[quiet,backend=qemu]", "combo[quiet,backend=uml]"};
	struct bl_scenario_set set = {0};
	T_OK(load1("good/combo.yaml", NULL, &set) != NULL, "combo loads");
	T_EQ_INT(set.n, 4, "2 rows x (base + 1 variant)");
	for (size_t i = 0; i < set.n && i < 4; i++)
		T_EQ_STR(set.v[i]->name, want[i], "combo name %zu", i);
	if (set.n == 4)
		T_OK(!set.v[1]->cmdline && !strcmp(set.v[3]->cmdline, "quiet") &&
			 !strcmp(set.v[3]->backend, "uml"),
		     "variant keys and row keys both applied");
	bl_scenario_set_release(&set);

	struct bl_scenario *s = load1("good/sub/grandchild.yaml", NULL, &set);
	if (T_OK(s != NULL, "two levels of extends")) {
		T_EQ_STR(s->name, "grandchild", "own name");
		T_EQ_INT(s->memory_mb, 64, "grandchild memory");
		T_EQ_STR(s->cmdline, "loglevel=7", "child cmdline");
		T_EQ_STR(s->description, "shared boot setup", "base description");
		char *motd = realpath("good/files/motd.txt", NULL);
		T_EQ_STR(s->archives[0].entries[1].source, motd,
			 "base path still relative to base");
		free(motd);
	}
	bl_scenario_set_release(&set);
}

static void test_anchors(void)
{
	struct bl_scenario_set set = {0};
	struct bl_scenario *s = load1("good/anchors.yaml", NULL, &set);
	if (T_OK(s != NULL, "anchors, merge keys and x- keys load")) {
		struct bl_entry *e = s->archives[0].entries + 1;
		T_OK(s->archives[0].nentries == 3 && e[0].kind == BL_ENT_NOD && e[0].major == 5 &&
			 e[0].minor == 1,
		     "alias of a whole entry");
		T_OK(!strcmp(e[1].path, "/dev/tty0") && e[1].major == 5 && e[1].minor == 0 &&
			 e[1].devtype == 'c',
		     "merge key: own keys win, the rest merged");
	}
	bl_scenario_set_release(&set);
}

static void test_values(void)
{
	struct bl_scenario_set set = {0};
	struct bl_scenario *s = load1("good/values.yaml", NULL, &set);
	if (!T_OK(s != NULL, "values loads")) {
		bl_scenario_set_release(&set);
		return;
	}
	T_EQ_STR(s->name, "values", "name defaults to the file stem");
	T_EQ_INT(s->timeout_ms, 1500, "fractional seconds");
	char *frag = realpath("good/files/extra.config", NULL);
	T_EQ_STR(s->kernel.config, frag, "a fragment file, made absolute");
	free(frag);
	struct bl_archive_spec *a = &s->archives[0];
	T_OK(a->builtin, "builtin");
	T_EQ_STR(a->codec, "none", "codec none");
	T_EQ_INT(a->entries[1].devtype, 'b', "block device");
	T_EQ_INT(a->entries[2].content_len, 3, "content with a NUL");
	T_OK(memcmp(a->entries[2].content, "a\0b", 3) == 0, "NUL kept");
	T_EQ_INT(a->entries[2].mode, 0755, "plain 755 is octal");
	T_EQ_INT(a->entries[3].kind, BL_ENT_HARDLINK, "hardlink");
	T_EQ_STR(a->entries[3].target, "/bin/nul", "hardlink target");
	T_EQ_STR(a->entries[4].target, "busybox", "symlink target");
	T_EQ_INT(a->entries[4].mode, 0777, "symlink mode");
	T_EQ_INT(a->entries[5].kind, BL_ENT_PIPE, "pipe");
	T_EQ_INT(a->entries[6].uid, 1000, "uid");
	T_EQ_INT(a->entries[6].gid, 100, "gid");
	T_EQ_INT(a->entries[7].kind, BL_ENT_TREE, "tree");
	T_EQ_STR(a->entries[7].path, "/srv", "tree path");
	T_OK(a->entries[7].source && a->entries[7].source[0] == '/', "tree source absolute");
	T_EQ_STR(s->archives[1].name, "archive2", "default archive name");
	T_OK(s->archives[1].raw && s->archives[1].corrupt && !s->archives[1].codec, "raw archive");

	struct bl_step *st = s->steps;
	char *req = json_dumps(st[0].request, JSON_COMPACT | JSON_SORT_KEYS);
	T_EQ_STR(
	    req,
	    "{\"f\":1.5,\"hex\":16,\"list\":[1,\"a\",\"yes\"],\"mode\":\"0755\",\"n\":12,"
	    "\"neg\":-3,\"nul\":null,\"op\":\"mkdir\",\"path\":\"/x\",\"s\":\"12\",\"t\":true}",
	    "YAML scalars as JSON");
	free(req);
	T_EQ_INT(st[0].timeout_ms, 500, "500ms");
	T_OK(st[1].expect_error && !strcmp(st[1].expect_errno, "EOPNOTSUPP"),
	     "unknown op allowed with EOPNOTSUPP");
	T_OK(st[2].no_reply, "switch_root has no reply");
	T_EQ_INT(st[3].stage, 2, "stage 2");
	T_EQ_INT(st[3].nasserts, 5, "five asserts");
	T_OK(json_is_array(st[3].asserts[0].value), "list equals");
	T_EQ_INT(st[3].asserts[1].op, BL_AS_CONTAINS, "contains");
	T_EQ_INT(st[3].asserts[2].op, BL_AS_ABSENT, "absent");
	T_EQ_INT(st[3].asserts[3].op, BL_AS_EXISTS, "exists");
	T_OK(st[3].asserts[4].op == BL_AS_EQUALS && json_is_object(st[3].asserts[4].value),
	     "equals an object");
	T_EQ_STR(st[4].text, "echo hi\n", "send text");
	T_EQ_INT(st[5].panic_signal, 11, "SEGV is 11");
	T_EQ_STR(st[5].panic_reason, "kill-init", "signal implies kill-init");
	T_OK(st[6].panic_reason == NULL && st[6].panic_status == -1 && st[6].panic_signal == -1,
	     "panic any");
	T_EQ_INT(st[7].kind, BL_STEP_EXPECT_SCRIPT, "expect-script");
	T_EQ_INT(st[7].timeout_ms, 120000, "2m");
	T_OK(st[7].script && st[7].script[0] == '/', "script path absolute");
	bl_scenario_set_release(&set);
}

int main(void)
{
	const char *home = getenv("BOOTLAB_HOME");
	if (chdir(home ? home : ".") || chdir("tests/data/scenario")) {
		printf("not ok 1 - cannot find tests/data/scenario (run from the repo root)\n");
		return 1;
	}
	test_bad();
	test_smoke();
	test_matrix();
	test_overrides();
	test_extends();
	test_variants();
	test_combo();
	test_anchors();
	test_values();
	return t_done();
}
