/* One boot's poll loop over the console, the agent channel, the
 * emulator's exit, Ctrl-C and deadlines; the steps (steps.c) wait on it
 * through sess_wait(). Every wait has an absolute deadline on
 * CLOCK_MONOTONIC; the emulator is always stopped and reaped before
 * sess_close() returns. */
#include "session/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 65536
/* After a panic line: with panic=0 the guest spins forever, so the boot
 * ends at the "---[ end Kernel panic" trailer or after PANIC_HANG_MS; with
 * panic=-1 or panic=N the emulator exits by itself (-no-reboot), which we
 * wait for (N s plus PANIC_EXIT_MS), so its own exit is what the report
 * shows. */
#define PANIC_HANG_MS 1500
#define PANIC_EXIT_MS 10000
/* After "reboot: Restarting system", "Power down" or "System halted" the
 * emulator has this long to go by itself: a short time when the agent was
 * asked to power off, longer when the guest went down on its own, so the
 * report shows the emulator's own exit where it has one (-no-reboot). A
 * halted microvm never exits, a UML reboot would boot again. */
#define DOWN_NS 100000000LL
#define UNASKED_DOWN_NS 1000000000LL
/* ... unless its backend exits by itself on a power-off (UML): then its
 * exit is awaited this long. UML's power-off stops every host process of
 * the guest first, which takes more than DOWN_NS on a loaded host, and a
 * SIGTERM in the middle of it makes UML abort (SIGABRT). */
#define EXITS_DOWN_NS 10000000000LL
/* bootlab boot, kernel told to be quiet: when held input goes anyway */
#define QUIET_SEND_NS 5000000000LL
/* bootlab boot: stdin held at most; more waits in stdin's own pipe */
#define STDIN_HELD_MAX (1u << 20)
#define OBS_DROPS_LOGGED 10 /* observe messages dropped that the console log names */

int64_t sess_since(struct sess *s)
{
	return bl_now_ns() - s->t0;
}

void sess_phase(struct sess *s, enum bl_phase_id p, double guest_s)
{
	struct bl_phase *ph = &s->r->phases[p];
	if (ph->seen)
		return;
	ph->seen = true;
	ph->host_ns = sess_since(s);
	ph->guest_s = guest_s;
	free(s->r->last_phase);
	s->r->last_phase = xstrdup(bl_phase_name(p));
}

static void add_event(struct sess *s, const struct bl_classified *c, const char *line,
		      double guest_s)
{
	struct bl_result *r = s->r;
	if (r->nevents >= SESS_EVENTS_MAX) {
		r->truncated.events++;
		return;
	}
	BL_GROW(r->events, r->nevents, r->aevents);
	struct bl_event *e = &r->events[r->nevents++];
	e->host_ns = sess_since(s);
	e->guest_s = guest_s;
	e->c = *c;
	e->line = xstrndup(line, SESS_EVENT_LINE_MAX);
}

static void tail_push(struct sess *s, const char *line)
{
	if (s->ntail == SESS_TAIL_LINES) {
		free(s->tail[0]);
		memmove(s->tail, s->tail + 1, (SESS_TAIL_LINES - 1) * sizeof(char *));
		s->ntail--;
	}
	s->tail[s->ntail++] = xstrdup(line);
	s->ncon++;
}

static void handle_agent_line(struct sess *s, const char *line, bool via_console);

/* One line into the console log, at most SESS_LOG_MAX_BYTES in all; the
 * first line past that is a marker saying the log was cut, the rest is
 * counted (r->truncated.log_bytes) and a last marker says how much. */
static void BL_PRINTF(2, 3) log_line(struct sess *s, const char *fmt, ...)
{
	if (!s->log)
		return;
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	size_t n = sb.len;
	if (s->log_bytes + n <= SESS_LOG_MAX_BYTES) {
		fwrite(sb.buf, 1, n, s->log);
		s->log_bytes += n;
	} else {
		if (!s->r->truncated.log_bytes)
			fprintf(s->log,
				"%10.6f  [bootlab] console log truncated: more than %u bytes, the "
				"rest is not kept\n",
				bl_ns_to_s(sess_since(s)), SESS_LOG_MAX_BYTES);
		s->r->truncated.log_bytes += n;
	}
	sb_release(&sb);
}

/* the closing marker of a cut log */
static void log_close(struct sess *s)
{
	if (!s->log)
		return;
	if (s->r->truncated.log_bytes)
		fprintf(s->log, "%10.6f  [bootlab] console log truncated: %llu bytes not kept\n",
			bl_ns_to_s(sess_since(s)), s->r->truncated.log_bytes);
	fclose(s->log);
	s->log = NULL;
}

/* a console line for console-wait steps; the oldest lines go (read or
 * not) once they hold more than SESS_LINES_MAX_BYTES */
static void lines_push(struct sess *s, const char *line)
{
	sl_push(&s->lines, line);
	s->lines_bytes += strlen(line) + 1;
	if (s->lines_bytes <= SESS_LINES_MAX_BYTES)
		return;
	size_t k = 0;
	while (k + 1 < s->lines.n && s->lines_bytes > SESS_LINES_MAX_BYTES / 2) {
		s->lines_bytes -= strlen(s->lines.v[k]) + 1;
		free(s->lines.v[k++]);
	}
	memmove(s->lines.v, s->lines.v + k, (s->lines.n - k + 1) * sizeof(char *));
	s->lines.n -= k;
	if (s->line_cursor < k)
		s->r->truncated.lines += k - s->line_cursor;
	s->line_cursor = s->line_cursor > k ? s->line_cursor - k : 0;
}

/* the last two lines the guest's programs (not the kernel: no printk
 * time) printed before now, oldest first, or NULL */
static char *last_user_lines(const struct sess *s)
{
	const char *pick[2];
	int n = 0;
	for (size_t i = s->ntail; i-- > 0 && n < 2;) {
		double t;
		if (bl_printk_split(s->tail[i], &t) == s->tail[i] && t < 0 && *s->tail[i])
			pick[n++] = s->tail[i];
	}
	if (!n)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	for (int i = n - 1; i >= 0; i--) {
		sb_add_quoted(&sb, pick[i]);
		if (i)
			sb_adds(&sb, " / ");
	}
	return sb_detach(&sb, NULL);
}

/* The kernel says it resets or halts: no need to wait for the emulator
 * for long (libvirt takes seconds to notice a reset). A restart the agent
 * was not asked for is the boot's outcome (steps.c), with the guest's
 * last words: an initramfs that "panics" in a shell function and reboots
 * says why just before. */
static void going_down(struct sess *s, bool restart)
{
	s->down_ns = bl_now_ns();
	s->down_grace_ns = s->poweroff_requested ? DOWN_NS : UNASKED_DOWN_NS;
	if (!restart && s->m.ops && s->m.ops->exits_when_off)
		s->down_grace_ns = EXITS_DOWN_NS;
	if (!restart || s->poweroff_requested)
		return;
	s->unasked_restart = true;
	s->restart_words = last_user_lines(s);
}

/* The agent's last-resort channel, framed lines on the console: taken
 * when they carry this boot's nonce and are a hello saying "console", or
 * follow one, and no hello came on the agent port (which only the agent
 * holds open). Any other line is console output like the rest. */
static bool framed_line(struct sess *s, const char *line)
{
	size_t fl = strlen(s->frame);
	if (s->port_hello || strncmp(line, s->frame, fl))
		return false;
	json_t *msg = json_loads(line + fl, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	const char *type = json_string_value(json_object_get(msg, "type"));
	const char *chan = json_string_value(json_object_get(msg, "channel"));
	bool hello = type && !strcmp(type, "hello") && chan && !strcmp(chan, "console");
	json_decref(msg);
	if (!hello && !s->agent_via_console)
		return false;
	handle_agent_line(s, line + fl, true);
	return true;
}

static void console_text(struct sess *s, char *line);

static void handle_console_line(struct sess *s, char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		line[--n] = 0;
	if (framed_line(s, line))
		return;
	int64_t t = sess_since(s);
	log_line(s, "%10.6f  %s\n", bl_ns_to_s(t), line);
	lines_push(s, line);
	tail_push(s, line);
	/* the kernel writes to the port directly, the guest's programs through
	 * the tty's buffer: a printk record can start in the middle of their
	 * line ("-c DEV\tReopen stdio to[    0.29] Kernel panic - ...") */
	if (s->kp)
		bl_kparser_feed(s->kp, line);
	const char *cut = bl_printk_embedded(line);
	if (cut) {
		char *rec = line + (cut - line);
		char c0 = *rec;
		*rec = 0;
		console_text(s, line);
		*rec = c0;
		line = rec;
	}
	console_text(s, line);
}

/* a line of the guest's programs: the first emergency-shell banner and
 * the first unit systemd gave up on, which a timeout's reason quotes */
static void userland_line(struct sess *s, const char *line)
{
	if (!s->shell_line && bl_console_shell_banner(line))
		s->shell_line = xstrdup(line);
	if (!s->unit_failure)
		s->unit_failure = bl_console_unit_failure(line);
}

/* one console line (or the part of it before or from a printk record):
 * the kernel's reports, phases and events */
static void console_text(struct sess *s, char *line)
{
	double guest_s;
	const char *text = bl_printk_split(line, &guest_s);
	/* a line of the guest's programs (no printk time after the kernel's
	 * had one: UML prints its own lines first) is not the kernel's: an
	 * `echo "Kernel panic - not syncing: x" > /dev/console` is no panic
	 * (docs/kernel-reports.md, "What a guest can fake") */
	if (guest_s < 0 && s->printk_seen) {
		if (*line)
			s->guest_reads = true;
		userland_line(s, line);
		return;
	}
	s->printk_seen |= guest_s >= 0;
	struct bl_classified c;
	bl_classify_console(&s->console_ctx, text, &c);
	if (c.type == BL_EV_NONE)
		return;
	if (c.type == BL_EV_RUN_INIT) {
		sess_phase(s, BL_PH_RUN_INIT, guest_s);
		s->guest_reads = true; /* its console is open: input is kept */
	}
	if (c.type == BL_EV_PANIC && !s->panic_seen) {
		s->panic_seen = true;
		s->panic_ns = bl_now_ns();
		s->r->panic_seen = true;
		s->r->panic = c;
		s->r->panic_line = xstrdup(text);
	}
	if (c.type == BL_EV_PANIC_END && !s->panic_end) {
		s->panic_end = true;
		s->panic_end_ns = bl_now_ns();
	}
	if ((c.type == BL_EV_RESTART || c.type == BL_EV_SYSTEM_HALTED) && !s->down_ns)
		going_down(s, c.type == BL_EV_RESTART);
	add_event(s, &c, text, guest_s);
}

static void handle_hello(struct sess *s, json_t *msg, bool via_console)
{
	json_int_t stage = json_integer_value(json_object_get(msg, "stage"));
	json_int_t bt = json_integer_value(json_object_get(msg, "boottime_ns"));
	double guest = bt > 0 ? (double)bt / 1e9 : -1;
	json_t **slot = stage >= 2 ? &s->r->hello2 : &s->r->hello;
	/* the agent speaks where its hello came from from now on */
	s->agent_via_console = via_console;
	s->port_hello |= !via_console;
	json_decref(*slot);
	*slot = json_incref(msg);
	sess_phase(s, stage >= 2 ? BL_PH_HELLO2 : BL_PH_HELLO, guest);
}

/* the agent read the printk clock at a CLOCK_BOOTTIME instant */
static void handle_clock(struct sess *s, json_t *msg)
{
	json_int_t bt = json_integer_value(json_object_get(msg, "boottime_ns"));
	json_t *pkv = json_object_get(msg, "printk_ns");
	json_int_t pk = json_integer_value(pkv);
	/* 0 is a reading: a jiffy clock (UML) says 0 for its first tick */
	if (bt <= 0 || !json_is_integer(pkv) || pk < 0 || s->clock_known)
		return;
	s->clock_known = true;
	s->clock_offset_ns = (int64_t)(pk - bt);
}

/* The hellos' times are the agent's CLOCK_BOOTTIME, the console's the
 * printk clock (they differ by tens of ms): on the console's clock when
 * the agent measured the offset, else none, never both on one axis
 * uncorrected. */
static void hellos_on_printk_clock(struct sess *s)
{
	static const enum bl_phase_id agent_clock[] = {BL_PH_HELLO, BL_PH_HELLO2};
	struct bl_phase *h = &s->r->phases[BL_PH_HELLO];
	bool timed = s->clock_known && h->seen && h->guest_s >= 0;
	s->r->observed.clock_known = s->clock_known;
	s->r->observed.clock_ns = s->clock_offset_ns;
	for (size_t i = 0; i < BL_ARRAY_SIZE(agent_clock); i++) {
		struct bl_phase *ph = &s->r->phases[agent_clock[i]];
		if (!ph->seen || ph->guest_s < 0)
			continue;
		ph->guest_s = s->clock_known ? ph->guest_s + (double)s->clock_offset_ns / 1e9 : -1;
	}
	/* The agent runs after "Run /init" was printed. A printk clock that
	 * ticks in jiffies (UML's) stamps that line and the agent's clock
	 * reading with the start of their tick, so the hello can land up to a
	 * tick before it: it is put at run-init then (docs/protocol.md). */
	const struct bl_phase *ri = &s->r->phases[BL_PH_RUN_INIT];
	if (timed && ri->seen && ri->guest_s >= 0 && h->seen && h->guest_s < ri->guest_s)
		h->guest_s = ri->guest_s;
}

/* the position of ID among the requests sent and not answered, or -1 */
static ssize_t outstanding_find(const struct sess *s, json_int_t id)
{
	for (size_t i = 0; i < s->noutstanding; i++)
		if (s->outstanding[i] == id)
			return (ssize_t)i;
	return -1;
}

/* A null id answers a line the agent could not parse (EINVAL) or that was
 * too long (EMSGSIZE), as an error (docs/protocol.md): the oldest request
 * not answered yet, since replies come in request order. */
static ssize_t null_id_request(const struct sess *s, json_t *msg)
{
	json_int_t e = json_integer_value(json_object_get(msg, "errno"));
	if (!s->noutstanding || !json_is_false(json_object_get(msg, "ok")) || (e != 22 && e != 90))
		return -1;
	return 0;
}

/* A reply is kept only for a request sent and not answered yet; anything
 * else (an id nobody asked for, a second reply) is counted and dropped. */
static void handle_reply(struct sess *s, json_t *msg, json_t *id)
{
	ssize_t i = -1;
	if (json_is_integer(id))
		i = outstanding_find(s, json_integer_value(id));
	else if (json_is_null(id))
		i = null_id_request(s, msg);
	if (i < 0) {
		s->r->truncated.replies++;
		return;
	}
	char key[32];
	snprintf(key, sizeof(key), "%d", s->outstanding[i]);
	json_object_set(s->replies, key, msg);
	memmove(s->outstanding + i, s->outstanding + i + 1,
		(s->noutstanding - (size_t)i - 1) * sizeof(int));
	s->noutstanding--;
}

static void handle_agent_line(struct sess *s, const char *line, bool via_console)
{
	json_error_t jerr;
	json_t *msg = json_loads(line, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!msg || !json_is_object(msg)) {
		bl_debug("agent: malformed line '%s'", line);
		json_decref(msg);
		return;
	}
	const char *type = json_string_value(json_object_get(msg, "type"));
	json_t *id = json_object_get(msg, "id");
	if (type && !strcmp(type, "hello")) {
		handle_hello(s, msg, via_console);
	} else if (type && !strcmp(type, "observe") && s->r->observed.on) {
		if (bl_obs_add(&s->r->observed, msg, s->ncon) < 0 &&
		    s->r->observed.dropped <= OBS_DROPS_LOGGED)
			log_line(s, "%10.6f  [bootlab] observe message dropped: %s\n",
				 bl_ns_to_s(sess_since(s)), bl_errmsg());
	} else if (type && !strcmp(type, "clock")) {
		handle_clock(s, msg);
	} else if (type && !strcmp(type, "log")) {
		const char *m = json_string_value(json_object_get(msg, "message"));
		log_line(s, "%10.6f  [agent] %s\n", bl_ns_to_s(sess_since(s)), m ? m : "");
	} else {
		handle_reply(s, msg, id);
	}
	json_decref(msg);
}

/* split complete lines out of BUF, hand each to FN */
static void drain_lines(struct sess *s, struct strbuf *buf, void (*fn)(struct sess *, char *))
{
	size_t start = 0;
	for (size_t i = 0; i < buf->len; i++) {
		if (buf->buf[i] != '\n')
			continue;
		buf->buf[i] = 0;
		fn(s, buf->buf + start);
		start = i + 1;
	}
	if (start) {
		memmove(buf->buf, buf->buf + start, buf->len - start);
		buf->len -= start;
		buf->buf[buf->len] = 0;
	}
	if (buf->len > MAX_LINE) { /* a line without end: take it as it is */
		fn(s, buf->buf);
		sb_reset(buf);
	}
}

static void agent_line_cb(struct sess *s, char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\r'))
		line[--n] = 0;
	if (n)
		handle_agent_line(s, line, false);
}

int sess_read(int fd, struct strbuf *sb, bool *eof)
{
	char buf[16384];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		*eof = true;
		return -1;
	}
	if (n == 0) {
		*eof = true;
		return 0;
	}
	sb_add(sb, buf, (size_t)n);
	return (int)n;
}

void sess_end_machine(struct sess *s)
{
	if (s->ended)
		return;
	bl_machine_stop(&s->m, s->opts->kill_grace_ms > 0 ? s->opts->kill_grace_ms : 2000);
	s->ended = true;
	sess_phase(s, BL_PH_END, -1);
}

/* ---- one round of the loop ---- */

/* what one poll watches; each index -1 when not in the set */
struct pollset {
	struct pollfd p[7];
	int np;
	int istop, icon, iag, ierr, iscript, iin;
	bool pidfd; /* the emulator's exit wakes the poll */
};

static int pollset_add(struct pollset *ps, int fd)
{
	ps->p[ps->np] = (struct pollfd){.fd = fd, .events = POLLIN};
	return ps->np++;
}

static void pollset_fill(struct sess *s, struct pollset *ps)
{
	*ps = (struct pollset){
	    .istop = -1, .icon = -1, .iag = -1, .ierr = -1, .iscript = -1, .iin = -1};
	/* Ctrl-C wakes every loop at once; once it came, the waits stop */
	int stop = bl_session_interrupt_fd();
	if (stop >= 0 && !bl_session_interrupted())
		ps->istop = pollset_add(ps, stop);
	if (s->ended)
		return;
	if (s->m.console_fd >= 0 && !s->con_eof)
		ps->icon = pollset_add(ps, s->m.console_fd);
	if (s->m.agent_fd >= 0 && !s->ag_eof)
		ps->iag = pollset_add(ps, s->m.agent_fd);
	if (s->m.stderr_fd >= 0)
		ps->ierr = pollset_add(ps, s->m.stderr_fd);
	if (s->script_fd >= 0)
		ps->iscript = pollset_add(ps, s->script_fd);
	if (s->script_pidfd > 0)
		pollset_add(ps, s->script_pidfd);
	if (s->opts->interactive && !s->stdin_eof && s->stdin_held.len < STDIN_HELD_MAX)
		ps->iin = pollset_add(ps, 0);
	/* the emulator's exit wakes the poll at once (machine.h) */
	if (s->m.pidfd > 0 && !s->m.exited) {
		pollset_add(ps, s->m.pidfd);
		ps->pidfd = true;
	}
}

#define QMP_OPEN_MS 5000
#define QMP_HOTPLUG_MS 5000

int sess_qmp(struct sess *s)
{
	if (!s->qmp_open && bl_qmp_open(&s->qmp, s->m.qmp_fd, QMP_OPEN_MS) < 0)
		return -1;
	s->qmp_open = true;
	return 0;
}

/* when the next disk is due to be hot-plugged (absolute ns), or INT64_MAX */
static int64_t late_next(const struct sess *s)
{
	int64_t next = INT64_MAX;
	for (size_t i = 0; i < s->nlate; i++)
		if (s->late_ms[i] > 0 && !s->plugged[i] &&
		    s->t0 + (int64_t)s->late_ms[i] * 1000000 < next)
			next = s->t0 + (int64_t)s->late_ms[i] * 1000000;
	return next;
}

/* the disks due by now plugged in (QMP device_add), each recorded in the
 * result; one QEMU refuses is recorded with its reason and a warning */
static void hotplug_due(struct sess *s)
{
	for (size_t i = 0; i < s->nlate && !s->ended && !s->frozen; i++) {
		if (s->plugged[i] || s->late_ms[i] <= 0 ||
		    sess_since(s) < (int64_t)s->late_ms[i] * 1000000)
			continue;
		s->plugged[i] = true;
		struct bl_result *r = s->r;
		r->hotplugs = xrealloc(r->hotplugs, (r->nhotplugs + 1) * sizeof(*r->hotplugs));
		struct bl_hotplug *h = &r->hotplugs[r->nhotplugs++];
		*h = (struct bl_hotplug){.disk = xstrdup(s->late_disk[i]),
					 .at_s = (double)sess_since(s) / 1e9};
		if (sess_qmp(s) < 0 || bl_qemu_hotplug(&s->qmp, i, QMP_HOTPLUG_MS) < 0) {
			h->error = xstrdup(bl_errmsg());
			bl_warn("'%s': disk '%s' was not hot-plugged: %s", s->sc->name, h->disk,
				h->error);
		}
		log_line(s, "bootlab: disk %s hot-plugged at %.3f s%s%s", h->disk, h->at_s,
			 h->error ? ": " : "", h->error ? h->error : "");
	}
}

/* how long this round may sleep, in ms: until UNTIL or the loop's own
 * deadlines (the panic's grace, a powered-off guest's last words) */
/* bootlab gate only: when a gate stops waiting for a guest whose
 * initramfs started its emergency shell (0: never). Nobody types into a
 * gate's console, so once the shell has been quiet for SESS_SHELL_QUIET_NS the
 * boot cannot go on; a run's steps may mean to type there, and --freeze
 * holds the guest until its deadline to be looked at. */
static int64_t shell_stop_ns(const struct sess *s)
{
	if (!s->sc->gate || !s->shell_line || s->freeze_on || s->r->hello2)
		return 0;
	return s->con_last_ns + SESS_SHELL_QUIET_NS;
}

static int wake_ms(struct sess *s, int64_t until, const struct pollset *ps)
{
	int64_t now = bl_now_ns();
	int64_t wake = until;
	if (shell_stop_ns(s) && shell_stop_ns(s) < wake)
		wake = shell_stop_ns(s);
	if (s->panic_seen && s->panic_ns + s->panic_grace_ns < wake)
		wake = s->panic_ns + s->panic_grace_ns;
	if (s->freeze_on && s->panic_end && s->panic_end_ns + SESS_FREEZE_AFTER_PANIC_NS < wake)
		wake = s->panic_end_ns + SESS_FREEZE_AFTER_PANIC_NS;
	if (s->stdin_held.len && !s->guest_reads && s->quiet_send_ns && s->quiet_send_ns < wake)
		wake = s->quiet_send_ns;
	if (s->down_ns && s->down_ns + s->down_grace_ns < wake)
		wake = s->down_ns + s->down_grace_ns;
	if (late_next(s) < wake)
		wake = late_next(s);
	int ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
	/* nothing wakes us when the emulator exits: look every 20 ms once its
	 * channels are closed, every 200 ms (libvirt) while they are open */
	bool channels = ps->np > (ps->istop >= 0);
	if (!s->ended && !ps->pidfd && (s->con_eof || !channels) && ms > 20)
		ms = 20;
	if (!s->ended && !ps->pidfd && ms > 200)
		ms = 200;
	return ms;
}

static bool fd_ready(const struct pollset *ps, int i)
{
	return i >= 0 && (ps->p[i].revents & (POLLIN | POLLHUP | POLLERR));
}

static void on_console(struct sess *s)
{
	size_t before = s->con.len;
	int n = sess_read(s->m.console_fd, &s->con, &s->con_eof);
	if (n <= 0)
		return;
	s->con_last_ns = bl_now_ns();
	sess_phase(s, BL_PH_CONSOLE, -1);
	/* bootlab boot: the bytes as they come (prompts have no newline) */
	if (s->opts->echo_console && write(1, s->con.buf + before, (size_t)n) < 0)
		bl_debug("console: stdout write failed");
	if (s->script_fd >= 0 && write(s->script_fd, s->con.buf + before, (size_t)n) < 0)
		bl_debug("expect script: write failed");
	drain_lines(s, &s->con, handle_console_line);
}

static void on_stderr(struct sess *s)
{
	bool eof = false;
	sess_read(s->m.stderr_fd, &s->emu_err, &eof);
	if (eof) {
		close(s->m.stderr_fd);
		s->m.stderr_fd = -1;
	}
}

/* the expect script's output goes to the console */
static void on_script(struct sess *s)
{
	char buf[4096];
	ssize_t n = read(s->script_fd, buf, sizeof(buf));
	if (n > 0 && s->m.console_fd >= 0) {
		if (write(s->m.console_fd, buf, (size_t)n) < 0)
			bl_debug("console: write failed");
	} else if (n <= 0) {
		close(s->script_fd);
		s->script_fd = -1;
	}
}

/* bootlab boot: what stdin gave, once the guest can read it. Bytes that
 * reach a serial port before the kernel opens its tty are lost (the
 * UART's FIFO is cleared on open), so input waits for "Run /init" or the
 * first line of the guest's programs; the console's tty buffers it after
 * that. A quiet kernel does not print "Run /init": then it goes after
 * QUIET_SEND_NS at the latest. */
static void stdin_flush(struct sess *s)
{
	if (s->quiet_send_ns && bl_now_ns() >= s->quiet_send_ns)
		s->guest_reads = true;
	if (!s->guest_reads || !s->stdin_held.len || s->m.console_fd < 0)
		return;
	ssize_t n = write(s->m.console_fd, s->stdin_held.buf, s->stdin_held.len);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			sb_reset(&s->stdin_held); /* the console is gone */
		return;
	}
	memmove(s->stdin_held.buf, s->stdin_held.buf + n, s->stdin_held.len - (size_t)n);
	s->stdin_held.len -= (size_t)n;
	s->stdin_held.buf[s->stdin_held.len] = 0;
}

/* bootlab boot: the terminal's keys go to the console */
static void on_stdin(struct sess *s)
{
	char buf[1024];
	ssize_t n = read(0, buf, sizeof(buf));
	if (n <= 0) {
		if (!(n < 0 && errno == EINTR))
			s->stdin_eof = true; /* the guest goes on without input */
		return;
	}
	/* Ctrl-] ends the boot, as in telnet */
	char *esc = memchr(buf, 0x1d, (size_t)n);
	if (esc) {
		n = esc - buf;
		bl_session_interrupt();
	}
	if (n > 0 && s->stdin_held.len < STDIN_HELD_MAX)
		sb_add(&s->stdin_held, buf, (size_t)n);
	stdin_flush(s);
}

/* what is still buffered in FD, without waiting, at most 50 reads */
static void drain_fd(struct sess *s, int fd, struct strbuf *sb, bool *eof,
		     void (*fn)(struct sess *, char *))
{
	for (int i = 0; i < 50 && fd >= 0 && !*eof; i++) {
		struct pollfd q = {.fd = fd, .events = POLLIN};
		if (poll(&q, 1, 0) <= 0 || sess_read(fd, sb, eof) <= 0)
			break;
		drain_lines(s, sb, fn);
	}
}

/* the emulator is gone: collect what its channels still hold */
static void collect_after_exit(struct sess *s)
{
	drain_fd(s, s->m.console_fd, &s->con, &s->con_eof, handle_console_line);
	drain_fd(s, s->m.agent_fd, &s->ag, &s->ag_eof, agent_line_cb);
	if (s->m.stderr_fd >= 0) {
		bool eof = false;
		struct pollfd q = {.fd = s->m.stderr_fd, .events = POLLIN};
		while (poll(&q, 1, 0) > 0 && sess_read(s->m.stderr_fd, &s->emu_err, &eof) > 0)
			;
	}
	if (s->con.len) {
		char *rest = xstrdup(s->con.buf);
		sb_reset(&s->con);
		handle_console_line(s, rest);
		free(rest);
	}
	s->r->emulator_status = s->m.status;
	sess_end_machine(s);
}

/* A panic with panic=0 hangs the guest: end it as a panic, not a timeout,
 * at its trailer or after its grace; --freeze stops it there instead, a
 * moment after the trailer so that its last bytes are out */
static void panic_hang(struct sess *s)
{
	if (s->ended || s->frozen || !s->panic_seen)
		return;
	int64_t now = bl_now_ns();
	bool over = now >= s->panic_ns + s->panic_grace_ns;
	if (s->freeze_on) {
		bool due = s->panic_end && now >= s->panic_end_ns + SESS_FREEZE_AFTER_PANIC_NS;
		if ((due || over) && sess_freeze(s, "panic") < 0)
			sess_end_machine(s);
		return;
	}
	if (s->panic_end || over)
		sess_end_machine(s);
}

/* One round of the loop: wait until something happens or UNTIL (absolute
 * ns), then process it. */
static void sess_pump(struct sess *s, int64_t until)
{
	struct pollset ps;
	pollset_fill(s, &ps);
	int ms = wake_ms(s, until, &ps);
	int r = ps.np ? poll(ps.p, (nfds_t)ps.np, ms) : (usleep((useconds_t)ms * 1000), 0);
	if (r > 0) {
		if (fd_ready(&ps, ps.icon))
			on_console(s);
		if (fd_ready(&ps, ps.iag)) {
			sess_read(s->m.agent_fd, &s->ag, &s->ag_eof);
			drain_lines(s, &s->ag, agent_line_cb);
		}
		if (fd_ready(&ps, ps.ierr))
			on_stderr(s);
		if (fd_ready(&ps, ps.iscript))
			on_script(s);
		if (fd_ready(&ps, ps.iin))
			on_stdin(s);
	}
	stdin_flush(s);
	if (!s->ended && bl_machine_poll_exit(&s->m))
		collect_after_exit(s);
	/* after "reboot: Restarting system" the emulator has nothing left to say */
	if (!s->ended && s->down_ns && bl_now_ns() >= s->down_ns + s->down_grace_ns)
		sess_end_machine(s);
	panic_hang(s);
	hotplug_due(s);
}

enum bl_stop sess_blocked(struct sess *s, bool panic_ok)
{
	if (bl_session_interrupted())
		return BL_STOP_INTERRUPTED;
	if (s->panic_seen && !panic_ok)
		return BL_STOP_PANIC;
	if (s->ended)
		return BL_STOP_ENDED;
	if (bl_now_ns() >= s->boot_deadline)
		return BL_STOP_DEADLINE;
	if (shell_stop_ns(s) && bl_now_ns() >= shell_stop_ns(s))
		return BL_STOP_SHELL;
	return BL_STOP_DONE;
}

enum bl_stop sess_wait(struct sess *s, int64_t deadline, bool panic_ok,
		       bool (*ready)(struct sess *s, void *arg), void *arg)
{
	for (;;) {
		if (ready(s, arg))
			return BL_STOP_DONE;
		enum bl_stop why = sess_blocked(s, panic_ok);
		if (why != BL_STOP_DONE)
			return why;
		if (bl_now_ns() >= deadline)
			return BL_STOP_STEP_TIMEOUT;
		sess_pump(s, deadline);
	}
}

bool sess_ended(struct sess *s, void *arg)
{
	return s->ended || s->frozen; /* a frozen guest does nothing more */
}

/* ---- agent requests ---- */

int sess_send(struct sess *s, const json_t *req_template, int *id_out)
{
	json_t *req = json_deep_copy(req_template);
	int id = ++s->next_id;
	json_object_set_new(req, "id", json_integer(id));
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	int fd = s->agent_via_console ? s->m.console_fd : s->m.agent_fd;
	BL_GROW(s->outstanding, s->noutstanding, s->aoutstanding);
	s->outstanding[s->noutstanding++] = id;
	struct strbuf line = STRBUF_INIT;
	if (s->agent_via_console)
		sb_adds(&line, SESS_FRAME);
	sb_adds(&line, text);
	sb_addc(&line, '\n');
	free(text);
	size_t off = 0;
	int rc = 0;
	while (off < line.len) {
		ssize_t n = write(fd, line.buf + off, line.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = bl_err_errno("cannot send to the agent");
			break;
		}
		off += (size_t)n;
	}
	sb_release(&line);
	*id_out = id;
	return rc;
}

json_t *sess_take_reply(struct sess *s, int id)
{
	char key[32];
	snprintf(key, sizeof(key), "%d", id);
	json_t *r = json_object_get(s->replies, key);
	if (!r)
		return NULL;
	json_incref(r);
	json_object_del(s->replies, key);
	return r;
}

/* ---- start and end ---- */

static void sigpipe_ignore(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sigaction(SIGPIPE, &sa, NULL);
}

/* how long a panicked guest may still run: panic= (the plan's, as the
 * kernel takes it) decides what a panic does */
static int64_t panic_grace(int panic)
{
	if (panic == 0)
		return PANIC_HANG_MS * 1000000LL;
	return ((panic > 0 ? (int64_t)panic * 1000 : 0) + PANIC_EXIT_MS) * 1000000LL;
}

/* the kernel will not print "Run /init as init process" (KERN_INFO) */
static bool quiet_kernel(const struct bl_cmdline *c)
{
	const char *lv = bl_cmdline_get(c, "loglevel");
	return bl_cmdline_has(c, "quiet") || (lv && atoi(lv) < 7);
}

static char *safe_name(const char *name)
{
	char *s = xstrdup(name);
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			*p = *p == '=' ? '-' : '_';
	return s;
}

/* the result before the boot: one skipped entry per step, no phase */
static void result_init(struct bl_result *r, const struct bl_scenario *sc,
			const struct bl_prepared *prep)
{
	r->sc = sc;
	r->emulator_status = -1;
	r->start_wall = (int64_t)time(NULL);
	r->nsteps = sc->nsteps;
	r->steps = xcalloc(sc->nsteps ? sc->nsteps : 1, sizeof(*r->steps));
	for (size_t i = 0; i < sc->nsteps; i++) {
		const struct bl_step *st = &sc->steps[i];
		r->steps[i].name = xstrdup(st->name ? st->name : bl_step_kind_name(st->kind));
		r->steps[i].kind = bl_step_kind_name(st->kind);
		r->steps[i].skipped = true;
	}
	for (int p = 0; p < BL_PH_COUNT; p++)
		r->phases[p].guest_s = -1;
	r->kernel_image = xstrdup(prep->kernel);
	r->initrd = prep->initrd ? xstrdup(prep->initrd) : NULL;
	r->observed.on = sc->observe;
}

/* the console log, NAME[.aN][.rM].console.log in the report folder */
static void log_open(struct sess *s)
{
	const struct bl_session_opts *opts = s->opts;
	if (!opts->report_dir)
		return;
	char *sn = safe_name(s->sc->name);
	char att[24] = "", rep[24] = "";
	if (opts->attempt > 1)
		snprintf(att, sizeof(att), ".a%d", opts->attempt);
	if (opts->run_index > 0)
		snprintf(rep, sizeof(rep), ".r%d", opts->run_index);
	s->r->console_log = xasprintf("%s/%s%s%s.console.log", opts->report_dir, sn, att, rep);
	free(sn);
	s->log = fopen(s->r->console_log, "w");
	if (s->log) /* line by line: `tail -f` shows a running boot */
		setvbuf(s->log, NULL, _IOLBF, 0);
}

/* A nonce for this boot on the kernel command line (bootlab.nonce=): the
 * agent puts it in its framed console lines, so that the guest's programs
 * do not frame lines by chance or replay another boot's (docs/protocol.md,
 * "What a guest can fake"). */
static void frame_nonce(struct sess *s, struct bl_cmdline *c)
{
	unsigned char b[8];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		uint64_t v = (uint64_t)bl_now_ns() ^ ((uint64_t)getpid() << 32);
		memcpy(b, &v, sizeof(b));
	}
	char hex[2 * sizeof(b) + 1];
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	bl_cmdline_set(c, "bootlab.nonce", hex);
	snprintf(s->frame, sizeof(s->frame), "%s%s ", SESS_FRAME, hex);
}

int sess_open(struct sess *s, const struct bl_scenario *sc, const struct bl_prepared *prep,
	      const struct bl_session_opts *opts, struct bl_result *r)
{
	*s = (struct sess){.sc = sc, .opts = opts, .r = r, .script_fd = -1, .script_pidfd = -1};
	s->kp = bl_kparser_new();
	s->replies = json_object();
	sigpipe_ignore();
	result_init(r, sc, prep);
	log_open(s);
	struct bl_machine_plan plan = prep->plan;
	plan.connect = opts->connect;
	plan.interactive = opts->interactive;
	bl_cmdline_copy(&plan.cmdline, &prep->plan.cmdline);
	frame_nonce(s, &plan.cmdline);
	s->freeze_on = opts->freeze && opts->freeze->on;
	s->t0 = bl_now_ns();
	int started =
	    s->freeze_on && sess_freeze_plan(s, &plan) < 0 ? -1 : bl_machine_start(&plan, &s->m);
	/* read the command line before it is released */
	bool quiet = quiet_kernel(&plan.cmdline);
	bl_cmdline_release(&plan.cmdline);
	if (started < 0) {
		r->outcome =
		    bl_err_last_kind() == BL_EK_INFRA ? BL_OUT_EMU_ERROR : BL_OUT_SETUP_ERROR;
		r->reason = xstrdup(bl_errmsg());
		return -1;
	}
	r->emulator_command = xstrdup(s->m.command);
	r->emulator_argv = s->m.argv; /* moved */
	s->m.argv = (struct strlist)STRLIST_INIT;
	r->emulator_cpu = s->m.cpu_pin;
	r->emulator_uploaded = s->m.uploaded_bytes + 1;
	if (bl_start_ns > 0 && s->t0 > bl_start_ns)
		r->spawn_ns = s->t0 - bl_start_ns;
	s->panic_grace_ns = panic_grace(plan.panic);
	if (opts->interactive && quiet)
		s->quiet_send_ns = s->t0 + QUIET_SEND_NS;
	/* UML ends every panic in SIGABRT whatever panic= says
	 * (docs/kernel-behaviour.md section 6): wait for that, it is what the
	 * report should show */
	if (sc->backend && !strcmp(sc->backend, "uml") &&
	    s->panic_grace_ns < PANIC_EXIT_MS * 1000000LL)
		s->panic_grace_ns = PANIC_EXIT_MS * 1000000LL;
	r->kernel_cmdline = xstrdup(s->m.full_cmdline ? s->m.full_cmdline : "");
	if (bl_machine_has_late(&prep->plan)) {
		s->late_disk = prep->plan.disks;
		s->late_ms = prep->plan.disk_late_ms;
		s->nlate = prep->plan.ndisks;
		s->plugged = xcalloc(s->nlate, sizeof(bool));
	}
	sess_phase(s, BL_PH_SPAWN, -1);
	s->boot_deadline = s->t0 + (int64_t)(sc->timeout_ms > 0 ? sc->timeout_ms : 60000) * 1000000;
	return 0;
}

void sess_take_kreports(struct sess *s)
{
	if (!s->kp)
		return;
	bl_kparser_finish(s->kp);
	size_t n;
	const struct bl_kreport *v = bl_kparser_reports(s->kp, &n);
	s->r->kreports = xcalloc(n ? n : 1, sizeof(*s->r->kreports));
	for (size_t i = 0; i < n; i++)
		bl_kreport_copy(&s->r->kreports[i], &v[i]);
	s->r->nkreports = n;
	bl_kparser_free(s->kp);
	s->kp = NULL;
}

void sess_close(struct sess *s)
{
	struct bl_result *r = s->r;
	sess_end_machine(s);
	if (s->m.exited)
		r->emulator_status = s->m.status;
	r->duration_ns = bl_now_ns() - s->t0;
	hellos_on_printk_clock(s);
	r->emulator_stderr = sb_detach(&s->emu_err, NULL);
	r->tail = xcalloc(s->ntail + 1, sizeof(char *));
	for (size_t i = 0; i < s->ntail; i++)
		r->tail[i] = s->tail[i];
	log_close(s);
	free(s->m.command);
	sl_release(&s->m.argv);
	free(s->m.full_cmdline);
	sb_release(&s->con);
	sb_release(&s->ag);
	sl_release(&s->lines);
	json_decref(s->replies);
	free(s->outstanding);
	free(s->restart_words);
	free(s->shell_line);
	free(s->unit_failure);
	sb_release(&s->stdin_held);
	bl_kparser_free(s->kp);
	bl_qmp_release(&s->qmp);
	free(s->plugged);
	free(s->frz.dump);
}
