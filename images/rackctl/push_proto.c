/* images/rackctl/push_proto.c — the push protocol of rackctl push, for
 * one rack:
 *
 *   POST /api/v1/images/NAME/versions/VERSION   the manifest; the rack
 *        answers the chunks it lacks, or that it has the image committed
 *   PUT  /api/v1/chunks/HASH                    each of those (push_xfer.c)
 *   POST .../commit                             the rack checks it has every
 *        chunk and commits; a 409 with "missing" sends us round again
 *
 * in at most PUSH_ROUNDS_MAX rounds. The first round also asks the rack
 * which versions it holds, to send chunks as patches (patch.c).
 */
#include "images/rackctl/rackctl.h"

#include <stdlib.h>
#include <string.h>

#include "images/manifest.h"
#include "images/store.h"

/* Posts the manifest: PUSH_STEP_NEXT with the missing chunks in *items
 * (*n of them), PUSH_STEP_COMMITTED if the rack has the image already,
 * PUSH_STEP_FAILED. */
static enum push_step
post_manifest(
    struct push *p, struct push_target *t, struct push_item **items, size_t *n)
{
	struct http_reply r;
	char e[RACKCTL_ERR_MAX];
	json_t *o = NULL, *missing, *h;
	size_t i;

	*items = NULL;
	*n = 0;
	push_set_state(p, t, PUSH_MANIFEST);
	if (rackctl_request(&t->rack, "POST", p->api_path, "application/json",
		p->manifest_json, p->manifest_len, p->retries, &r) < 0) {
		rackctl_reply_free(&r);
		return push_fail(
		    p, t, "%s", rackctl_reply_error(&r, e, sizeof e));
	}
	pthread_mutex_lock(&p->lock);
	t->manifest_bytes += p->manifest_len;
	pthread_mutex_unlock(&p->lock);
	if (r.status != 200) {
		push_fail(p, t, "manifest refused: %s",
		    rackctl_reply_error(&r, e, sizeof e));
		rackctl_reply_free(&r);
		return PUSH_STEP_FAILED;
	}
	o = rackctl_reply_json(&r);
	rackctl_reply_free(&r);
	const char *state = json_string_value(json_object_get(o, "state"));
	missing = json_object_get(o, "missing");
	if (!state || !json_is_array(missing)) {
		json_decref(o);
		return push_fail(p, t,
		    "the rack's answer to the manifest is not understood");
	}
	if (strcmp(state, "committed") == 0) {
		json_decref(o);
		return PUSH_STEP_COMMITTED;
	}
	size_t cnt = json_array_size(missing);
	if (cnt > p->m->nchunks) {
		json_decref(o);
		return push_fail(
		    p, t, "the rack asks for more chunks than the image has");
	}
	*items = calloc(cnt ? cnt : 1, sizeof **items);
	if (!*items) {
		json_decref(o);
		return push_fail(p, t, "out of memory");
	}
	json_array_foreach(missing, i, h)
	{
		const char *hex = json_string_value(h);
		struct push_item *it = &(*items)[*n];
		if (!hex || !hash_hex_valid(hex)) {
			json_decref(o);
			return push_fail(p, t,
			    "the rack asks for a chunk that is not a hash");
		}
		if (store_chunk_size(p->st, hex, &it->size) < 0) {
			json_decref(o);
			return push_fail(p, t,
			    "chunk %s is not in the local store (rackctl image "
			    "verify)",
			    hex);
		}
		memcpy(it->hash, hex, HASH_HEX_LEN + 1);
		(*n)++;
	}
	pthread_mutex_lock(&p->lock);
	if (t->state != PUSH_FAILED && !t->counted) {
		t->missing = cnt;
		t->counted = true;
	}
	t->bytes_total = t->bytes_done;
	for (i = 0; i < *n; i++)
		t->bytes_total += (*items)[i].size;
	pthread_mutex_unlock(&p->lock);
	json_decref(o);
	return PUSH_STEP_NEXT;
}

/* PUSH_STEP_COMMITTED, PUSH_STEP_AGAIN when chunks went missing (go
 * round again), or PUSH_STEP_FAILED. */
static enum push_step
commit(struct push *p, struct push_target *t)
{
	struct http_reply r;
	char path[URL_PATH_MAX + 16], e[RACKCTL_ERR_MAX];

	push_set_state(p, t, PUSH_COMMIT);
	snprintf(path, sizeof path, "%s/commit", p->api_path);
	if (rackctl_request(
		&t->rack, "POST", path, NULL, NULL, 0, p->retries, &r) < 0) {
		rackctl_reply_free(&r);
		return push_fail(
		    p, t, "commit: %s", rackctl_reply_error(&r, e, sizeof e));
	}
	enum push_step rc = PUSH_STEP_COMMITTED;
	if (r.status == 409) {
		json_t *o = rackctl_reply_json(&r);
		rc = json_is_array(json_object_get(o, "missing"))
		    ? PUSH_STEP_AGAIN : push_fail(p, t, "commit refused: %s",
			  rackctl_reply_error(&r, e, sizeof e));
		json_decref(o);
	} else if (r.status != 200 && r.status != 201)
		rc = push_fail(p, t, "commit refused: %s",
		    rackctl_reply_error(&r, e, sizeof e));
	rackctl_reply_free(&r);
	return rc;
}

void
push_rack(struct push *p, struct push_target *t)
{
	for (int round = 0;; round++) {
		struct push_item *items;
		size_t n;
		if (round == PUSH_ROUNDS_MAX) {
			push_fail(p, t,
			    "chunks kept going missing on the rack after %d "
			    "rounds",
			    PUSH_ROUNDS_MAX);
			break;
		}
		enum push_step r = post_manifest(p, t, &items, &n);
		if (r == PUSH_STEP_COMMITTED) {
			pthread_mutex_lock(&p->lock);
			t->already = round == 0;
			t->state = PUSH_DONE;
			pthread_mutex_unlock(&p->lock);
			break;
		}
		if (r == PUSH_STEP_FAILED) {
			free(items);
			break;
		}
		if (n && p->patch && !t->base_looked) {
			t->base = patch_base_find(
			    p->st, &t->rack, p->m, p->level, p->retries);
			t->base_looked = true;
		}
		r = n ? push_upload(p, t, items, n) : PUSH_STEP_NEXT;
		free(items);
		if (r == PUSH_STEP_AGAIN)
			continue;
		if (r == PUSH_STEP_FAILED)
			break;
		r = commit(p, t);
		if (r == PUSH_STEP_COMMITTED) {
			push_set_state(p, t, PUSH_DONE);
			break;
		}
		if (r == PUSH_STEP_FAILED)
			break;
	}
	patch_base_free(t->base);
	t->base = NULL;
}
