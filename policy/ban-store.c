/* The ban file as a store: opening (creating, rebuilding, migrating to
 * new geometry), locking, and reading and writing slots.  The public
 * operations on it are in ban.c.
 *
 * File format (version 2, host byte order; the file never leaves the host)
 *
 *   offset 0     header, 64 bytes used of a 4096-byte page:
 *                  magic "SSHANDBF", version u32 = 2, header_size u32 = 4096,
 *                  slot_size u32 = 128, bucket_slots u32 = 8, nbuckets u32,
 *                  ipv6_prefix u32, key[16] (random per file), reserved u64 = 0,
 *                  check u64 = SipHash-2-4 (fixed key) of the 56 bytes before
 *   offset 4096  nbuckets buckets of 8 slots of 128 bytes: the file size is
 *                exactly 4096 + nbuckets * 1024, anything else is damage.
 *
 *   A slot is two 64-byte copies:
 *                  seq u32 (0: unpublished), check u32, family u8 (0 free,
 *                  4, 6), prefix u8, pad[2], failures u32, addr[16],
 *                  total u32, bans u32, window_start i64, last_failure i64,
 *                  banned_until i64
 *   check = low 32 bits of SipHash-2-4 (file key) of (slot index u64, copy
 *   with check = 0).  A copy is valid if seq != 0, the check matches and
 *   its fields are well-formed; the slot's state is its valid copy with the
 *   newest seq (serial-number order); none valid = free.  A copy with
 *   seq != 0 that does not validate is damage: it is dropped, not trusted,
 *   and ban_verify reports it.
 *   failures and total are fixed-point, in 1/1000 of a failed login
 *   (BAN_FAIL_UNIT), so that a connection that never tried to log in can
 *   cost a small fraction of one.
 *
 * Versions: version 1 had this layout with failures in quarters.  A
 * process that finds a version 1 header (a file left by an earlier
 * sshand, or rebuilt by one of its handlers still running after an
 * upgrade) migrates it under the exclusive lock, as for new geometry
 * (below), scaling the counts, and reports it (ban_take_migrated).  A
 * sound header of a newer version is never rebuilt: the operations fail
 * with -EPROTONOSUPPORT and the caller fails open.
 *
 * Hashing: a key (family, address masked to ipv6_prefix, v4-mapped folded
 * to v4) hashes with the file's key to two buckets; the entry lives in one
 * of their 16 slots, so a lookup reads two 1 KiB buckets whatever the table
 * size, and there are no probe chains: freeing a slot is one slot write.
 * nbuckets = ceil((max_entries * 3/2 + 1) / 8): load at most 2/3.
 *
 * Updates: under an exclusive fcntl OFD lock on the whole file (shared for
 * reads), the writer writes the stale copy with seq = 0 and the new check,
 * then writes its seq (4 aligned bytes): killed before, the copy is
 * unpublished and the other copy, the previous state, stands; killed after,
 * the update is complete.  Each operation, under its lock, rereads the
 * header and fstat()s the file, so a file rebuilt or replaced by another
 * process is noticed: a damaged header or wrong size is rebuilt in place
 * (empty, fresh key: fail open); a file replaced by rename (st_nlink 0:
 * migration to new geometry) is reopened.  New files are initialised under
 * a temporary name and link()ed into place, so a file at the path is never
 * legitimately empty.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/ban-store.h"

#define LOCK_TRIES	8
#define SCAN_BUCKETS	64	/* 64 KiB per read when walking the file */

enum io_op { IO_READ, IO_WRITE, IO_RANDOM };

/* All len bytes, whatever signals interrupt: pread, pwrite at off, or
 * getrandom.  A read that ends early (file truncated under us) or a call
 * that makes no progress is -EBADMSG. */
static int
io_full(enum io_op op, int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		char *at = (char *)buf + done;
		size_t left = len - done;
		off_t pos = (off_t)(off + done);
		ssize_t n = op == IO_READ ? pread(fd, at, left, pos) :
		    op == IO_WRITE ? pwrite(fd, at, left, pos) :
		    getrandom(at, left, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG;
		done += (size_t)n;
	}
	return 0;
}

static int
ofd_lock(int fd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, F_OFD_SETLKW, &fl) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void
ofd_unlock(int fd)
{
	(void)ofd_lock(fd, F_UNLCK);
}

/* Empty table of geometry g (its key refreshed), header written last so a
 * writer killed half-way leaves a file that is detected as damaged. */
int
ban_file_init(int fd, struct ban_geom *g)
{
	struct ban_header h;
	int r;

	r = io_full(IO_RANDOM, -1, g->key, sizeof(g->key), 0);
	if (r < 0)
		return r;
	g->version = BAN_VERSION;
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)ban_file_size(g)) < 0)
		return -errno;
	ban_header_encode(g, &h);
	return io_full(IO_WRITE, fd, &h, sizeof(h), 0);
}

/* Header and size of an open file: 0, -EBADMSG if damaged. */
static int
file_validate(struct ban_file *f, const struct stat *st)
{
	struct ban_header h;
	struct ban_geom g;
	int r;

	if (st->st_size < (off_t)BAN_HEADER_SIZE)
		return -EBADMSG;
	r = io_full(IO_READ, f->fd, &h, sizeof(h), 0);
	if (r < 0)
		return r;
	r = ban_header_decode(&h, &g);
	if (r < 0)
		return r;
	if ((uint64_t)st->st_size != ban_file_size(&g))
		return -EBADMSG;
	f->g = g;
	return 0;
}

int
ban_file_tmp_create(const char *path, char **ret_name, int *ret_fd)
{
	char *name;
	int fd;

	if (asprintf(&name, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;

		free(name);
		return r;
	}
	*ret_name = name;
	*ret_fd = fd;
	return 0;
}

/* Opens the file at b->path into b->f.fd, creating an initialised one if
 * there is none. */
static int
store_open_fd(struct ban_store *b)
{
	for (int tries = 0; tries < LOCK_TRIES; tries++) {
		struct ban_geom g = b->want;
		struct stat st;
		char *tmp;
		int fd, r;

		fd = open(b->path, (b->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC |
		    O_NOFOLLOW | O_NOCTTY);
		if (fd >= 0) {
			if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
				r = S_ISREG(st.st_mode) ? -errno : -EINVAL;
				close(fd);
				return r;
			}
			if (b->f.fd >= 0)
				close(b->f.fd);
			b->f.fd = fd;
			return 0;
		}
		if (errno != ENOENT || b->readonly)
			return -errno;
		r = ban_file_tmp_create(b->path, &tmp, &fd);
		if (r < 0)
			return r;
		r = ban_file_init(fd, &g);
		if (r == 0 && link(tmp, b->path) < 0)
			r = errno == EEXIST ? 1 : -errno;	/* lost a race: open theirs */
		unlink(tmp);
		free(tmp);
		if (r != 0) {
			close(fd);
			if (r < 0)
				return r;
			continue;
		}
		if (b->f.fd >= 0)
			close(b->f.fd);
		b->f.fd = fd;
		b->created = true;
		return 0;
	}
	return -EAGAIN;
}


/* Takes the lock and validates the file.  With repair, a damaged file is
 * rebuilt and a version 1 file migrated (returning with the exclusive
 * lock held whatever type asked). */
int
ban_store_lock(struct ban_store *b, short type, bool repair)
{
	/* A reader without write access must not even try. */
	repair = repair && !b->readonly;
	for (int tries = 0; tries < LOCK_TRIES; tries++) {
		struct stat st;
		int r;

		r = ofd_lock(b->f.fd, type);
		if (r < 0)
			return r;
		if (fstat(b->f.fd, &st) < 0) {
			r = -errno;
			ofd_unlock(b->f.fd);
			return r;
		}
		if (st.st_nlink == 0) {
			/* Replaced by a migration (or removed): follow the path. */
			ofd_unlock(b->f.fd);
			r = store_open_fd(b);
			if (r < 0)
				return r;
			continue;
		}
		r = file_validate(&b->f, &st);
		if (r == 0 && b->f.g.version == BAN_VERSION)
			return 0;
		if (r == 0) {
			/* An older format: its counts mean something else. */
			uint32_t from = b->f.g.version;

			if (!repair) {
				ofd_unlock(b->f.fd);
				return -EBADMSG;
			}
			if (type != F_WRLCK) {
				ofd_unlock(b->f.fd);
				type = F_WRLCK;
				continue;
			}
			/* The old file's lock goes with it; the new file is
			 * locked and validated on the next round. */
			r = ban_store_migrate(b);
			if (r < 0) {
				ofd_unlock(b->f.fd);
				return r;
			}
			b->migrated_from = from;
			continue;
		}
		if (r != -EBADMSG || !repair) {
			ofd_unlock(b->f.fd);
			return r;
		}
		if (type != F_WRLCK) {
			/* Validate again under the exclusive lock: another
			 * process may be rebuilding it right now. */
			ofd_unlock(b->f.fd);
			type = F_WRLCK;
			continue;
		}
		b->f.g = b->want;
		r = ban_file_init(b->f.fd, &b->f.g);
		if (r < 0) {
			ofd_unlock(b->f.fd);
			return r;
		}
		b->damaged = true;
		return 0;
	}
	return -EAGAIN;
}

void
ban_store_unlock(struct ban_store *b)
{
	ofd_unlock(b->f.fd);
}

static uint64_t
slot_offset(uint64_t idx)
{
	return BAN_HEADER_SIZE + idx * BAN_SLOT_SIZE;
}

/* Publishes e (NULL: frees the slot) over the slot's stale copy. */
int
ban_slot_publish(const struct ban_file *f, uint64_t idx, const struct ban_slot *old,
    const struct ban_slot_state *st, const struct ban_entry *e)
{
	int t = st->newest == 0 ? 1 : 0;
	uint32_t seq = st->seq + 1;
	struct ban_copy c, draft;
	uint64_t off;
	int r;

	if (seq == 0)
		seq = 1;
	ban_copy_encode(&f->g, idx, e, seq, &c);
	draft = c;
	draft.seq = 0;
	off = slot_offset(idx) + (uint64_t)t * BAN_COPY_SIZE;
	r = io_full(IO_WRITE, f->fd, &draft, sizeof(draft), off);
	if (r < 0)
		return r;
	r = io_full(IO_WRITE, f->fd, &c.seq, sizeof(c.seq), off);
	if (r < 0)
		return r;
	if (st->newest < 0 && old->c[1 - t].seq != 0) {
		/* Neither copy was valid: clear the damaged one too. */
		struct ban_copy zero;

		memset(&zero, 0, sizeof(zero));
		r = io_full(IO_WRITE, f->fd, &zero, sizeof(zero),
		    slot_offset(idx) + (uint64_t)(1 - t) * BAN_COPY_SIZE);
	}
	return r;
}

static bool
same_key(const struct ban_entry *e, const struct netaddr *k, unsigned prefix)
{
	return e->key.family == k->family && e->prefix == prefix &&
	    memcmp(e->key.a, k->a, 16) == 0;
}

int
ban_pair_load(const struct ban_file *f, const struct netaddr *k, unsigned prefix,
    struct ban_pair *p)
{
	ban_buckets(&f->g, k, p->bucket);
	p->key = *k;
	p->prefix = prefix;
	p->fb = p->fi = -1;
	p->damaged = false;
	for (int j = 0; j < 2; j++) {
		int r = io_full(IO_READ, f->fd, p->s[j], BAN_BUCKET_SIZE,
		    BAN_HEADER_SIZE + (uint64_t)p->bucket[j] * BAN_BUCKET_SIZE);

		if (r < 0)
			return r;
		for (unsigned i = 0; i < BAN_BUCKET_SLOTS; i++) {
			uint64_t idx = (uint64_t)p->bucket[j] * BAN_BUCKET_SLOTS + i;
			struct ban_slot_state *st = &p->st[j][i];

			ban_slot_resolve(&f->g, idx, &p->s[j][i], st);
			if (st->damaged)
				p->damaged = true;
			if (st->used && p->fb < 0 && same_key(&st->e, k, prefix)) {
				p->fb = j;
				p->fi = (int)i;
			}
		}
	}
	return 0;
}

uint64_t
ban_pair_idx(const struct ban_pair *p, int j, int i)
{
	return (uint64_t)p->bucket[j] * BAN_BUCKET_SLOTS + (uint64_t)i;
}

/* An entry nobody needs any more: not banned, its window over, and, for a
 * repeat offender, remembered for ban_time_max after its last ban so the
 * next ban still grows. */
bool
ban_reclaimable(const struct ban_params *p, const struct ban_entry *e, int64_t now)
{
	if (e->banned_until > now)
		return false;
	if (now - e->last_failure < (int64_t)p->find_time && e->failures > 0)
		return false;
	if (e->bans > 0 && now - e->banned_until < (int64_t)p->ban_time_max)
		return false;
	return true;
}

/* Orders eviction candidates: smaller is less harmful to forget. */
static int
harm_cmp(const struct ban_params *p, const struct ban_entry *a,
    const struct ban_entry *b, int64_t now)
{
	int ra = !ban_reclaimable(p, a, now), rb = !ban_reclaimable(p, b, now);
	int ba = a->banned_until > now, bb = b->banned_until > now;

	if (ra != rb)
		return ra - rb;
	if (ba != bb)
		return ba - bb;
	if (ba && a->banned_until != b->banned_until)
		return a->banned_until < b->banned_until ? -1 : 1;
	if (a->bans != b->bans)
		return a->bans < b->bans ? -1 : 1;
	if (a->failures != b->failures)
		return a->failures < b->failures ? -1 : 1;
	if (a->last_failure != b->last_failure)
		return a->last_failure < b->last_failure ? -1 : 1;
	return 0;
}

/* Where a new key goes: a free slot in the emptier bucket, else the least
 * harmful entry of the 16 (the only places the key may live). */
void
ban_pair_choose(const struct ban_params *prm, const struct ban_pair *p, int64_t now,
    int *ret_j, int *ret_i)
{
	unsigned used[2] = { 0, 0 };
	int bj = -1, bi = -1;

	for (int j = 0; j < 2; j++)
		for (unsigned i = 0; i < BAN_BUCKET_SLOTS; i++)
			used[j] += p->st[j][i].used;
	for (int n = 0; n < 2; n++) {
		int j = (used[1] < used[0]) ? 1 - n : n;

		for (unsigned i = 0; i < BAN_BUCKET_SLOTS; i++)
			if (!p->st[j][i].used) {
				*ret_j = j;
				*ret_i = (int)i;
				return;
			}
	}
	for (int j = 0; j < 2; j++)
		for (int i = 0; i < (int)BAN_BUCKET_SLOTS; i++)
			if (bj < 0 || harm_cmp(prm, &p->st[j][i].e,
			    &p->st[bj][bi].e, now) < 0) {
				bj = j;
				bi = i;
			}
	*ret_j = bj;
	*ret_i = bi;
}

/* The key of a as stored in this file (the file's ipv6_prefix wins over
 * the caller's params: all processes must agree on keys). */
static int
store_key(const struct ban_store *b, const struct netaddr *a,
    struct netaddr *ret, unsigned *ret_prefix)
{
	return ban_normalise(a, b->f.g.ipv6_prefix, ret, ret_prefix);
}

/* Locks the file (type, a damaged one rebuilt) and reads the buckets of
 * a's key into a new pair.  On success the lock is held and *ret is the
 * caller's to free; on failure neither. */
int
ban_store_load(struct ban_store *b, short type, const struct netaddr *a,
    struct ban_pair **ret)
{
	struct netaddr k;
	unsigned prefix;
	struct ban_pair *p;
	int r;

	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = ban_store_lock(b, type, true);
	if (r < 0) {
		free(p);
		return r;
	}
	r = store_key(b, a, &k, &prefix);
	if (r == 0)
		r = ban_pair_load(&b->f, &k, prefix, p);
	if (r < 0) {
		ban_store_unlock(b);
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/* Walks every slot in chunks; fn returns non-zero to stop. */
int
ban_file_scan(const struct ban_file *f,
    int (*fn)(uint64_t idx, const struct ban_slot *, const struct ban_slot_state *, void *),
    void *userdata)
{
	struct ban_slot *buf;
	int r = 0;

	buf = malloc((size_t)SCAN_BUCKETS * BAN_BUCKET_SIZE);
	if (!buf)
		return -ENOMEM;
	for (uint64_t b0 = 0; b0 < f->g.nbuckets && r == 0; b0 += SCAN_BUCKETS) {
		uint64_t nb = f->g.nbuckets - b0 < SCAN_BUCKETS ? f->g.nbuckets - b0 : SCAN_BUCKETS;
		uint64_t nslots = nb * BAN_BUCKET_SLOTS;

		r = io_full(IO_READ, f->fd, buf, nb * BAN_BUCKET_SIZE,
		    BAN_HEADER_SIZE + b0 * BAN_BUCKET_SIZE);
		for (uint64_t s = 0; s < nslots && r == 0; s++) {
			uint64_t idx = b0 * BAN_BUCKET_SLOTS + s;
			struct ban_slot_state st;

			ban_slot_resolve(&f->g, idx, &buf[s], &st);
			r = fn(idx, &buf[s], &st, userdata);
		}
	}
	free(buf);
	return r;
}

int
ban_store_walk(struct ban_store *b, short type, bool repair,
    int (*fn)(uint64_t idx, const struct ban_slot *, const struct ban_slot_state *, void *),
    void *userdata)
{
	int r;

	r = ban_store_lock(b, type, repair);
	if (r < 0)
		return r;
	r = ban_file_scan(&b->f, fn, userdata);
	ban_store_unlock(b);
	return r;
}

/* Opens (creating if need be) and validates the file at b->path, and
 * migrates it to b->want's geometry if it has another; a readonly store
 * only opens it. */
int
ban_store_attach(struct ban_store *b)
{
	int r;

	r = store_open_fd(b);
	if (r < 0 || b->readonly)
		return r;	/* a reader takes the file's geometry, and is
				 * told of damage at each use */
	r = ban_store_lock(b, F_RDLCK, true);
	if (r < 0)
		return r;
	if (b->f.g.nbuckets != b->want.nbuckets ||
	    b->f.g.ipv6_prefix != b->want.ipv6_prefix) {
		/* Checked again under the exclusive lock: another process
		 * may have migrated it meanwhile. */
		ban_store_unlock(b);
		r = ban_store_lock(b, F_WRLCK, true);
		if (r < 0)
			return r;
		if (b->f.g.nbuckets != b->want.nbuckets ||
		    b->f.g.ipv6_prefix != b->want.ipv6_prefix)
			r = ban_store_migrate(b);
	}
	ban_store_unlock(b);
	return r;
}
