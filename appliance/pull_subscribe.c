/*
 * pull_subscribe.c — image_subscribe: every image_subscribe_interval a
 * thread of its own (never two at once), with the configuration as it was
 * then, reads BASE/manifests/<name>/index.json of each subscribed name
 * from the sources in turn and starts, one at a time and only inside
 * image_subscribe_window, a pull (pull_start) of each matching version
 * the rack lacks, waiting for each to end before the next.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "appliance/pull_int.h"

static int64_t sub_next;	/* ms: when the next round runs */

/* What a round of the subscription works from: the configuration as it
 * was when the round began. */
struct sub {
	char		*pat[SLOTS_MAX];
	size_t		 npat;
	char		*src[PULL_SOURCES_MAX];
	size_t		 nsrc;
};

/* Inside image_subscribe_window now (local time)? */
static int
window_open(void)
{
	struct tm tm;
	time_t t = time(NULL);
	int from, to, open = 1;

	conf_rdlock();
	if (conf.image_subscribe_window[0] != '\0' &&
	    config_parse_window(conf.image_subscribe_window, &from, &to) == 0 &&
	    localtime_r(&t, &tm) != NULL)
		open = config_window_open(from, to, tm.tm_hour * 60 +
		    tm.tm_min);
	conf_unlock();
	return open;
}

/* The versions name's index.json lists, from the first source that has
 * it; NULL (logged) if none. */
static json_t *
fetch_index(const struct sub *sb, struct pull_conn *c, const char *name)
{
	char path[URL_MAX], url[URL_MAX], err[ERR_MAX] = "no source";
	json_t *v = NULL;

	snprintf(path, sizeof(path), "manifests/%s/index.json", name);
	for (size_t i = 0; i < sb->nsrc && v == NULL; i++) {
		struct pull_sink s = { .fd = -1, .max = MANIFEST_MAX_BYTES };

		if (pull_url_join(sb->src[i], path, url, sizeof(url)) == 0 &&
		    pull_get(c, url, &s, err, sizeof(err)) == PULL_FETCH_OK)
			v = pull_index_parse(s.buf ? s.buf : "", s.len, name,
			    err, sizeof(err));
		free(s.buf);
	}
	if (v == NULL)
		log_warnx("image_subscribe %s: %s", name, err);
	return v;
}

/* The pull id ended (or rackd stops). */
static void
wait_pull(int64_t id)
{
	for (;;) {
		int run = 0;

		pthread_mutex_lock(&pull_lock);
		for (size_t i = 0; i < PULLS_MAX; i++)
			if (pull_entries[i].id == id)
				run = pull_running(&pull_entries[i]);
		run = run && !pull_stopping;
		pthread_mutex_unlock(&pull_lock);
		if (!run)
			return;
		usleep(200 * 1000);
	}
}

/* One version: pulled if it matches, the rack lacks it and the window is
 * open. 0 to go on, -1 to end the round. */
static int
subscribe_version(const struct sub *sb, const char *name, const char *ver)
{
	char ref[IMAGE_REF_MAX + 1], kind[16], why[ERR_MAX];
	int64_t id;
	int match = 0, rc;

	for (size_t i = 0; i < sb->npat; i++)
		match |= pull_pattern_match(sb->pat[i], name, ver);
	snprintf(ref, sizeof(ref), "%s:%s", name, ver);
	if (!match || catalog_image_kind(ref, kind, sizeof(kind)) == 0)
		return 0;
	if (!window_open())
		return -1;
	log_info("image_subscribe: %s is new", ref);
	rc = pull_start(name, ver, &id, why, sizeof(why));
	if (rc != 0) {
		log_warnx("image_subscribe: pull of %s: %s", ref, why);
		return -1;
	}
	wait_pull(id);
	return __atomic_load_n(&pull_stopping, __ATOMIC_ACQUIRE) ? -1 : 0;
}

static void *
subscribe_main(void *arg)
{
	struct sub *sb = arg;
	struct pull_conn *c = pull_conn_new();

	for (size_t i = 0; c != NULL && i < sb->npat && window_open(); i++) {
		char name[IMAGE_NAME_MAX + 1];
		size_t n = strcspn(sb->pat[i], ":"), k;
		json_t *v, *x;
		int seen = 0;

		snprintf(name, sizeof(name), "%.*s", (int)n, sb->pat[i]);
		for (size_t j = 0; j < i; j++)
			seen |= strncmp(sb->pat[j], name, n) == 0 &&
			    (sb->pat[j][n] == ':' || sb->pat[j][n] == '\0');
		if (seen || (v = fetch_index(sb, c, name)) == NULL)
			continue;	/* the name done already, no index */
		json_array_foreach(v, k, x)
			if (subscribe_version(sb, name,
			    json_string_value(x)) != 0)
				break;
		json_decref(v);
	}
	if (c != NULL)
		pull_conn_free(c);
	for (size_t i = 0; i < sb->npat; i++)
		free(sb->pat[i]);
	for (size_t i = 0; i < sb->nsrc; i++)
		free(sb->src[i]);
	free(sb);
	pthread_mutex_lock(&pull_lock);
	pull_sub_live = 0;
	pthread_cond_broadcast(&pull_idle);
	pthread_mutex_unlock(&pull_lock);
	return NULL;
}

void
pull_subscribe_tick(void)
{
	struct sub *sb;
	pthread_attr_t attr;
	pthread_t th;
	int64_t now = mono_ms();
	int ok;

	pthread_mutex_lock(&pull_lock);
	ok = !pull_sub_live && !pull_stopping && now >= sub_next;
	pthread_mutex_unlock(&pull_lock);
	if (!ok || (sb = calloc(1, sizeof(*sb))) == NULL)
		return;
	conf_rdlock();
	for (int i = 0; i < conf.image_subscribe.n; i++)
		if ((sb->pat[sb->npat] = strdup(conf.image_subscribe.v[i])) !=
		    NULL)
			sb->npat++;
	for (int i = 0; i < conf.image_sources.n && sb->nsrc <
	    PULL_SOURCES_MAX; i++)
		if ((sb->src[sb->nsrc] = strdup(conf.image_sources.v[i])) !=
		    NULL)
			sb->nsrc++;
	now += (int64_t)conf.image_subscribe_interval * 1000;
	conf_unlock();
	pthread_mutex_lock(&pull_lock);
	sub_next = now;
	ok = sb->npat > 0 && sb->nsrc > 0;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (ok && pthread_create(&th, &attr, subscribe_main, sb) == 0) {
		pull_sub_live = 1;
		sb = NULL;	/* the thread's now */
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_unlock(&pull_lock);
	if (sb != NULL) {
		for (size_t i = 0; i < sb->npat; i++)
			free(sb->pat[i]);
		for (size_t i = 0; i < sb->nsrc; i++)
			free(sb->src[i]);
		free(sb);
	}
}
