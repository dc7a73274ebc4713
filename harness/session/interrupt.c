/* Ctrl-C for every session of the process: a flag and a self-pipe. The
 * byte a handler writes is never read, so the pipe's read end stays
 * readable and every poll loop that has it in its set (each boot slot's
 * thread) wakes at once, and again on every later round. */
#include "session/session.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static atomic_int interrupted;
/* -1 until made; a handler that runs before then only sets the flag */
static atomic_int pipe_rd = -1, pipe_wr = -1;
static pthread_once_t pipe_once = PTHREAD_ONCE_INIT;

static void pipe_make(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		bl_debug("interrupt: no self-pipe: %s; Ctrl-C waits for the next wake-up",
			 strerror(errno));
		return;
	}
	atomic_store(&pipe_wr, p[1]);
	atomic_store(&pipe_rd, p[0]);
}

int bl_session_interrupt_fd(void)
{
	pthread_once(&pipe_once, pipe_make);
	return atomic_load(&pipe_rd);
}

void bl_session_interrupt(void)
{
	int saved = errno;
	atomic_store(&interrupted, 1);
	int fd = atomic_load(&pipe_wr);
	if (fd >= 0 && write(fd, "!", 1) < 0) {
		/* full: it is readable all the same */
	}
	errno = saved;
}

bool bl_session_interrupted(void)
{
	return atomic_load(&interrupted) != 0;
}

static void on_signal(int sig)
{
	(void)sig;
	bl_session_interrupt();
}

void bl_session_catch_signals(void)
{
	/* the pipe first, so the handler always has it */
	bl_session_interrupt_fd();
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
