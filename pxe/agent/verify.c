/*
 * verify.c — after the data is fsync'ed, every chunk written is read back
 * from the disk and hashed, by a few threads (hashing is the cost). Reads
 * bypass the page cache (O_DIRECT, or dropping the cached pages first
 * where O_DIRECT does not work), so what is checked is what the disk
 * holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "pxe/agent/agent.h"

struct verifier {
	int		 fd, dfd;	/* dfd: O_DIRECT, or -1 */
	const struct manifest *m;
	const uint8_t	*written;
	struct progress	*pr;
	atomic_int	*stop;
	pthread_t	 thr[WORKERS_MAX];
	int		 nthreads, running;
	atomic_size_t	 next;		/* next chunk to take */
	atomic_int	 no_direct;	/* O_DIRECT failed: buffered reads */
	int		 dropped;	/* page cache dropped (under lock) */
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	atomic_int	 failed;
	char		 reason[REASON_MAX + 1];	/* under lock */
};

void
drop_cache(int fd, uint64_t off, uint64_t len)
{
	struct stat st;

	(void)posix_fadvise(fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode))
		(void)ioctl(fd, BLKFLSBUF, 0);
}

/* What a read with O_DIRECT did. */
enum direct_rc {
	DIRECT_ERROR = -1,	/* err says why */
	DIRECT_READ = 0,	/* the chunk is in buf */
	DIRECT_UNUSABLE = 1,	/* O_DIRECT does not work here: read cached */
};

/* Reads the chunk with O_DIRECT. */
static enum direct_rc
read_direct(struct verifier *v, uint8_t *buf, const struct manifest_chunk *c,
    char *err, size_t errlen)
{
	size_t want = ((size_t)c->length + VERIFY_IO_ALIGN - 1) /
	    VERIFY_IO_ALIGN * VERIFY_IO_ALIGN, got = 0;

	while (got < c->length) {
		ssize_t n = pread(v->dfd, buf + got, want - got,
		    (off_t)(c->offset + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && got == 0)
			return DIRECT_UNUSABLE;
		if (n <= 0) {
			snprintf(err, errlen, "cannot read the disk at byte %"
			    PRIu64 ": %s", c->offset + got, n == 0 ?
			    "end of disk" : strerror(errno));
			return DIRECT_ERROR;
		}
		got += (size_t)n;
		if (got % VERIFY_IO_ALIGN != 0 && got < c->length)
			return DIRECT_UNUSABLE;	/* a short unaligned read */
	}
	return DIRECT_READ;
}

static void
fail(struct verifier *v, const char *reason)
{
	pthread_mutex_lock(&v->lock);
	if (!atomic_load(&v->failed)) {
		atomic_store(&v->failed, 1);
		snprintf(v->reason, sizeof(v->reason), "%s", reason);
	}
	pthread_mutex_unlock(&v->lock);
}

static void *
verify_thread(void *arg)
{
	struct verifier *v = arg;
	const struct manifest *m = v->m;
	size_t cap = ((size_t)m->chunk_size + VERIFY_IO_ALIGN - 1) /
	    VERIFY_IO_ALIGN * VERIFY_IO_ALIGN, k;
	uint8_t *buf = NULL, d[HASH_LEN];
	char err[ERR_MAX], msg[REASON_MAX + 1], hex[HASH_HEX_LEN + 1];

	if (posix_memalign((void **)&buf, VERIFY_IO_ALIGN, cap) != 0) {
		buf = NULL;
		fail(v, "out of memory for verification");
		goto out;
	}
	while ((k = atomic_fetch_add(&v->next, 1)) < m->nchunks) {
		const struct manifest_chunk *c = &m->chunks[k];
		enum direct_rc rc = DIRECT_UNUSABLE;

		if (!v->written[k])
			continue;
		if (atomic_load(v->stop) || atomic_load(&v->failed)) {
			fail(v, "stopped");
			break;
		}
		if (v->dfd >= 0 && !atomic_load(&v->no_direct) &&
		    (rc = read_direct(v, buf, c, err, sizeof(err))) ==
		    DIRECT_UNUSABLE)
			atomic_store(&v->no_direct, 1);
		if (rc == DIRECT_UNUSABLE) {
			pthread_mutex_lock(&v->lock);
			if (!v->dropped)
				drop_cache(v->fd, 0, m->size);
			v->dropped = 1;
			pthread_mutex_unlock(&v->lock);
			rc = disk_read(v->fd, buf, c->length, c->offset, err,
			    sizeof(err)) == 0 ? DIRECT_READ : DIRECT_ERROR;
		}
		if (rc != DIRECT_READ) {
			snprintf(msg, sizeof(msg), "verify: %.200s", err);
			fail(v, msg);
			break;
		}
		hash_buffer(m->hash, buf, c->length, d);
		if (memcmp(d, c->hash, HASH_LEN) != 0) {
			hash_to_hex(c->hash, hex);
			snprintf(msg, sizeof(msg), "verify: chunk %zu (%s) at "
			    "byte %" PRIu64 " reads back different from the "
			    "disk", k, hex, c->offset);
			fail(v, msg);
			break;
		}
		atomic_fetch_add(&v->pr->bytes_verified, c->length);
	}
out:
	free(buf);
	pthread_mutex_lock(&v->lock);
	v->running--;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

int
verify_start(int fd, const char *path, const struct manifest *m,
    const uint8_t *written, int threads, struct progress *pr,
    atomic_int *stop, struct verifier **out, char *err, size_t errlen)
{
	struct verifier *v = calloc(1, sizeof(*v));
	struct stat st;
	int bs = 0;

	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	v->fd = fd;
	v->m = m;
	v->written = written;
	v->pr = pr;
	v->stop = stop;
	v->dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	/* O_DIRECT needs reads aligned to the logical block size. */
	if (v->dfd >= 0 && fstat(v->dfd, &st) == 0 && S_ISBLK(st.st_mode) &&
	    (ioctl(v->dfd, BLKSSZGET, &bs) != 0 || bs <= 0 ||
	    bs > VERIFY_IO_ALIGN || VERIFY_IO_ALIGN % bs != 0)) {
		close(v->dfd);
		v->dfd = -1;
	}
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	if (threads < 1)
		threads = 1;
	if (threads > WORKERS_MAX)
		threads = WORKERS_MAX;
	for (int i = 0; i < threads; i++) {
		pthread_mutex_lock(&v->lock);
		v->running++;
		pthread_mutex_unlock(&v->lock);
		if (pthread_create(&v->thr[i], NULL, verify_thread, v) != 0) {
			pthread_mutex_lock(&v->lock);
			v->running--;
			pthread_mutex_unlock(&v->lock);
			if (i == 0) {
				snprintf(err, errlen, "cannot start a thread");
				if (v->dfd >= 0)
					close(v->dfd);
				pthread_cond_destroy(&v->cond);
				pthread_mutex_destroy(&v->lock);
				free(v);
				return -1;
			}
			break;
		}
		v->nthreads++;
	}
	*out = v;
	return 0;
}

bool
verify_wait(struct verifier *v, int64_t ms)
{
	return wait_zero(&v->lock, &v->cond, &v->running, ms);
}

int
verify_join(struct verifier *v, char *reason, size_t len)
{
	int rc;

	for (int i = 0; i < v->nthreads; i++)
		pthread_join(v->thr[i], NULL);
	rc = atomic_load(&v->failed) ? -1 : 0;
	if (rc != 0)
		snprintf(reason, len, "%s", v->reason);
	if (v->dfd >= 0)
		close(v->dfd);
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->lock);
	free(v);
	return rc;
}
