/*
 * loop.c — the main thread's event loop: epoll over a few descriptors,
 * signals through signalfd (no handlers at all), periodic timers through
 * timerfd. Small on purpose: a handful of fds and timers.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "appliance/rackd.h"


struct watch {
	int		 fd;
	loop_fd_fn	 fn;
	loop_timer_fn	 timer_fn;
	void		*arg;
};

static int epfd = -1;
static int running;
static struct watch watches[LOOP_FDS_MAX];

int
loop_init(void)
{
	for (int i = 0; i < LOOP_FDS_MAX; i++)
		watches[i].fd = -1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -1 : 0;
}

static struct watch *
watch_slot(void)
{
	for (int i = 0; i < LOOP_FDS_MAX; i++)
		if (watches[i].fd < 0)
			return &watches[i];
	errno = ENOSPC;
	return NULL;
}

int
loop_add_fd(int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events };
	struct watch *w = watch_slot();

	if (w == NULL)
		return -1;
	ev.data.ptr = w;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -1;
	w->fd = fd;
	w->fn = fn;
	w->timer_fn = NULL;
	w->arg = arg;
	return 0;
}

void
loop_del_fd(int fd)
{
	for (int i = 0; i < LOOP_FDS_MAX; i++)
		if (watches[i].fd == fd) {
			epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
			watches[i].fd = -1;
		}
}

static void
timer_fired(int fd, uint32_t events, void *arg)
{
	struct watch *w = arg;
	uint64_t ticks;

	if (read(fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	w->timer_fn(w->arg);
}

int
loop_every(int ms, loop_timer_fn fn, void *arg)
{
	struct itimerspec its = {
		.it_interval = { ms / 1000, (ms % 1000) * 1000000L },
		.it_value = { ms / 1000, (ms % 1000) * 1000000L },
	};
	struct watch *w;
	int fd;

	if ((fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
	    TFD_NONBLOCK)) < 0)
		return -1;
	if (timerfd_settime(fd, 0, &its, NULL) != 0 ||
	    (w = watch_slot()) == NULL) {
		close(fd);
		return -1;
	}
	if (loop_add_fd(fd, EPOLLIN, timer_fired, w) != 0) {
		close(fd);
		return -1;
	}
	/* loop_add_fd took this same free slot: give it the timer. */
	w->timer_fn = fn;
	w->arg = arg;
	w->fn = timer_fired;
	return 0;
}

/* A one-shot timer, armed (again) with loop_timer_arm; its handle. */
int
loop_timer_new(loop_timer_fn fn, void *arg)
{
	struct watch *w;
	int fd;

	if ((fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
	    TFD_NONBLOCK)) < 0)
		return -1;
	if ((w = watch_slot()) == NULL ||
	    loop_add_fd(fd, EPOLLIN, timer_fired, w) != 0) {
		close(fd);
		return -1;
	}
	w->timer_fn = fn;
	w->arg = arg;
	return fd;
}

void
loop_timer_arm(int t, int ms)
{
	struct itimerspec its = {
		.it_value = { ms / 1000, (ms % 1000) * 1000000L + (ms == 0) },
	};

	timerfd_settime(t, 0, &its, NULL);
}

int
loop_run(void)
{
	struct epoll_event evs[LOOP_FDS_MAX];

	running = 1;
	while (running) {
		int n = epoll_wait(epfd, evs, LOOP_FDS_MAX, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait");
			return -1;
		}
		for (int i = 0; i < n && running; i++) {
			struct watch *w = evs[i].data.ptr;
			if (w->fd < 0)
				continue;
			if (w->timer_fn != NULL)
				timer_fired(w->fd, evs[i].events, w);
			else
				w->fn(w->fd, evs[i].events, w->arg);
		}
	}
	return 0;
}

void
loop_stop(void)
{
	running = 0;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
