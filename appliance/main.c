/*
 * main.c — rackd, the rack controller: read the configuration, open the
 * state, start the HTTP server, then run the event loop until SIGTERM.
 * SIGHUP rereads the configuration.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "db/db.h"

#ifndef RACKD_VERSION
#define RACKD_VERSION "0.1"
#endif

static int saved_argc;
static char **saved_argv;

static void
db_error(const char *msg)
{
	log_warnx("%s", msg);
}

static void
ensure_slots(void)
{
	for (int i = 0; i < conf.slots.n; i++)
		if (db_node_ensure(conf.slots.v[i]) == 1) {
			log_info("slot %s added from the configuration",
			    conf.slots.v[i]);
			nodes_publish(conf.slots.v[i]);
		}
}

static void
reload(void)
{
	struct config next;
	char err[CONFIG_ERR_MAX];

	log_info("reloading the configuration");
	if (config_load(&next, saved_argc, saved_argv, err, sizeof(err)) != 0 ||
	    power_config_check(&next, err, sizeof(err)) != 0) {
		log_warnx("reload failed, keeping the running configuration: "
		    "%s", err);
		config_free(&next);
		return;
	}
	conf_wrlock();
	config_apply_reload(&conf, &next);
	conf_unlock();
	config_free(&next);
	power_config_use(conf.power);
	console_reload();
	log_set_verbose(conf.verbose);
	auth_reload();
	session_reload();
	ensure_slots();
	catalog_scan();
	dnsmasq_changed();
}

static void
on_signal(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: shutting down", (int)si.ssi_signo);
			loop_stop();
			break;
		case SIGHUP:
			reload();
			break;
		default:
			break;
		}
	}
}

static void
on_tick(void *arg)
{
	jobs_tick();
	push_expire();
	power_poll_tick();
	pull_subscribe_tick();
}

static void
on_heartbeat(void *arg)
{
	events_heartbeat();
}

static int
setup_signals(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Block before any thread starts, so that all of them inherit it. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return -1;
	return loop_add_fd(fd, EPOLLIN, on_signal, NULL);
}

int
main(int argc, char **argv)
{
	char err[CONFIG_ERR_MAX], path[PATH_MAX_RACKD];

	saved_argc = argc;
	saved_argv = argv;
	if (config_load(&conf, argc, argv, err, sizeof(err)) != 0 ||
	    power_config_check(&conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "rackd: %s\n", err);
		return 1;
	}
	if (conf.show_help) {
		config_usage(stdout, "rackd");
		return 0;
	}
	if (conf.show_version) {
		printf("rackd %s\n", RACKD_VERSION);
		return 0;
	}
	if (conf.check_only) {
		printf("configuration OK\n");
		return 0;
	}

	umask(027);
	log_init(conf.foreground, conf.verbose, "rackd");
	if (!conf.foreground && daemon(1, 0) != 0)
		fatal("daemon");
	if (loop_init() != 0 || setup_signals() != 0)
		fatal("event loop");
	/* The helper that keeps root starts before any thread. */
	if (statedir_open(conf.state_dir, err, sizeof(err)) != 0 ||
	    priv_start(err, sizeof(err)) != 0)
		fatalx("%s", err);
	/* Opened while root: served even if rackd's user cannot reach them. */
	served_dir(conf.webui_dir);
	served_dir(conf.pxe_dir);
	if (priv_drop(err, sizeof(err)) != 0)
		fatalx("%s", err);
	db_set_error_hook(db_error);
	if (statedir_path(path, sizeof(path), "rackd.db") != 0)
		fatalx("state dir path too long");
	if (db_open(path, 0, err, sizeof(err)) != 0)
		fatalx("database: %s", err);
	if (auth_init(err, sizeof(err)) != 0 ||
	    session_init(err, sizeof(err)) != 0 ||
	    power_init(err, sizeof(err)) != 0)
		fatalx("%s", err);
	power_config_use(conf.power);
	if (catalog_open(err, sizeof(err)) != 0)
		fatalx("image store: %s", err);
	if (pull_init() != 0)
		fatalx("pull: the HTTP client failed to start");
	if (events_init() != 0)
		fatalx("events: out of memory");
	catalog_scan();
	ensure_slots();
	jobs_recover();
	if (pull_recover() != 0)
		fatalx("pulls: the database could not be read");
	/* The gadget before HTTP: once /healthz answers, it is bound. */
	if (conf.gadget.n > 0 && priv_gadget_setup(err, sizeof(err)) != 0)
		fatalx("gadget: %s", err);
	if (http_start(&rackd_routes, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (dnsmasq_init(err, sizeof(err)) != 0 ||
	    links_init(err, sizeof(err)) != 0 ||
	    console_init(err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (loop_every(1000, on_tick, NULL) != 0 ||
	    loop_every(HEARTBEAT_SECONDS * 1000, on_heartbeat, NULL) != 0)
		fatal("timers");
	log_info("rackd %s ready (state in %s)", RACKD_VERSION, conf.state_dir);
	notify_ready(RACKD_VERSION);

	loop_run();
	notify_stopping();

	dnsmasq_stop();
	links_close();
	if (conf.gadget.n > 0)
		priv_gadget_teardown();
	events_shutdown();	/* the event streams end, then the server */
	console_shutdown();
	http_stop();
	console_close();
	pull_stop();
	catalog_close();
	db_close();
	priv_stop();
	config_free(&conf);
	log_info("stopped");
	return 0;
}
