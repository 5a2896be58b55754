/* The ban file: one file shared by every sshand process on the host.
 *
 * File format (version 1, host byte order; the file never leaves the host)
 *
 *   offset 0     header, 64 bytes used of a 4096-byte page:
 *                  magic "SSHANDBF", version u32 = 1, header_size u32 = 4096,
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
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy/ban-format.h"
#include "policy/ban.h"

#define MAX_EXEMPT	1024
#define LOCK_TRIES	8
#define SCAN_BUCKETS	64	/* 64 KiB per read when walking the file */

struct ban_file {
	int fd;
	struct ban_geom g;	/* the file's, valid while locked */
};

struct exempt_net {
	struct netaddr net;
	unsigned len;
};

struct ban_store {
	struct ban_file f;
	char *path;
	struct ban_params p;		/* exempt pointers not kept */
	struct exempt_net *exempt;
	size_t n_exempt;
	struct ban_geom want;
	bool damaged;			/* found damaged, not yet reported */
};

/* The two candidate buckets of one key, as read under the lock. */
struct pair {
	uint32_t bucket[2];
	struct ban_slot s[2][BAN_BUCKET_SLOTS];
	struct ban_slot_state st[2][BAN_BUCKET_SLOTS];
	int fb, fi;			/* where the key is, fb = -1 if absent */
	bool damaged;
};

static int
pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG;	/* truncated under us */
		done += (size_t)n;
	}
	return 0;
}

static int
pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
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

static int
random_key(uint8_t key[16])
{
	size_t done = 0;

	while (done < 16) {
		ssize_t n = getrandom(key + done, 16 - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* Empty table of geometry g (its key refreshed), header written last so a
 * writer killed half-way leaves a file that is detected as damaged. */
static int
file_init(int fd, struct ban_geom *g)
{
	struct ban_header h;
	int r;

	r = random_key(g->key);
	if (r < 0)
		return r;
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)ban_file_size(g)) < 0)
		return -errno;
	ban_header_encode(g, &h);
	return pwrite_full(fd, &h, sizeof(h), 0);
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
	r = pread_full(f->fd, &h, sizeof(h), 0);
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

static int
tmp_create(const char *path, char **ret_name, int *ret_fd)
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

		fd = open(b->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
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
		if (errno != ENOENT)
			return -errno;
		r = tmp_create(b->path, &tmp, &fd);
		if (r < 0)
			return r;
		r = file_init(fd, &g);
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
		return 0;
	}
	return -EAGAIN;
}

/* Takes the lock and validates the file.  With repair, a damaged file is
 * rebuilt (returning with the exclusive lock held whatever type asked). */
static int
store_lock(struct ban_store *b, short type, bool repair)
{
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
		if (r == 0)
			return 0;
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
		r = file_init(b->f.fd, &b->f.g);
		if (r < 0) {
			ofd_unlock(b->f.fd);
			return r;
		}
		b->damaged = true;
		return 0;
	}
	return -EAGAIN;
}

static void
store_unlock(struct ban_store *b)
{
	ofd_unlock(b->f.fd);
}

static uint64_t
slot_offset(uint64_t idx)
{
	return BAN_HEADER_SIZE + idx * BAN_SLOT_SIZE;
}

/* Publishes e (NULL: frees the slot) over the slot's stale copy. */
static int
slot_publish(const struct ban_file *f, uint64_t idx, const struct ban_slot *old,
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
	r = pwrite_full(f->fd, &draft, sizeof(draft), off);
	if (r < 0)
		return r;
	r = pwrite_full(f->fd, &c.seq, sizeof(c.seq), off);
	if (r < 0)
		return r;
	if (st->newest < 0 && old->c[1 - t].seq != 0) {
		/* Neither copy was valid: clear the damaged one too. */
		struct ban_copy zero;

		memset(&zero, 0, sizeof(zero));
		r = pwrite_full(f->fd, &zero, sizeof(zero),
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

static int
pair_load(const struct ban_file *f, const struct netaddr *k, unsigned prefix,
    struct pair *p)
{
	ban_buckets(&f->g, k, p->bucket);
	p->fb = p->fi = -1;
	p->damaged = false;
	for (int j = 0; j < 2; j++) {
		int r = pread_full(f->fd, p->s[j], BAN_BUCKET_SIZE,
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

static uint64_t
pair_idx(const struct pair *p, int j, int i)
{
	return (uint64_t)p->bucket[j] * BAN_BUCKET_SLOTS + (uint64_t)i;
}

/* An entry nobody needs any more: not banned, its window over, and, for a
 * repeat offender, remembered for ban_time_max after its last ban so the
 * next ban still grows. */
static bool
reclaimable(const struct ban_params *p, const struct ban_entry *e, int64_t now)
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
	int ra = !reclaimable(p, a, now), rb = !reclaimable(p, b, now);
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
static void
pair_choose(const struct ban_params *prm, const struct pair *p, int64_t now,
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

static bool
is_exempt(const struct ban_store *b, const struct netaddr *a)
{
	for (size_t i = 0; i < b->n_exempt; i++)
		if (cidr_contains(&b->exempt[i].net, b->exempt[i].len, a))
			return true;
	return false;
}

static uint32_t
sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static int64_t
ban_duration(const struct ban_params *p, uint32_t bans)
{
	uint64_t d = p->ban_time, max = p->ban_time_max;

	if (max < d)
		max = d;
	for (uint32_t i = 1; i < bans && d < max; i++)
		d *= 2;
	return (int64_t)(d < max ? d : max);
}

/* The key of a as stored in this file (the file's ipv6_prefix wins over
 * the caller's params: all processes must agree on keys). */
static int
store_key(const struct ban_store *b, const struct netaddr *a,
    struct netaddr *ret, unsigned *ret_prefix)
{
	return ban_normalise(a, b->f.g.ipv6_prefix, ret, ret_prefix);
}

static void
fresh_entry(struct ban_entry *e, const struct netaddr *k, unsigned prefix)
{
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->prefix = prefix;
}

/* Inserts or replaces e at its key.  Called with the exclusive lock. */
static int
file_put(const struct ban_file *f, const struct ban_params *prm,
    const struct ban_entry *e, int64_t now)
{
	struct pair *p;
	int j, i, r;

	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = pair_load(f, &e->key, e->prefix, p);
	if (r == 0) {
		if (p->fb >= 0) {
			j = p->fb;
			i = p->fi;
		} else
			pair_choose(prm, p, now, &j, &i);
		r = slot_publish(f, pair_idx(p, j, i), &p->s[j][i], &p->st[j][i], e);
	}
	free(p);
	return r;
}

/* Walks every slot in chunks; fn returns non-zero to stop. */
static int
file_scan(const struct ban_file *f,
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

		r = pread_full(f->fd, buf, nb * BAN_BUCKET_SIZE,
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

struct migrate_ctx {
	struct ban_file *to;
	const struct ban_params *p;
	int64_t now;
};

static int
migrate_one(uint64_t idx, const struct ban_slot *s, const struct ban_slot_state *st,
    void *userdata)
{
	struct migrate_ctx *m = userdata;
	struct ban_entry e;
	struct pair *p;
	int r;

	(void)idx, (void)s;
	/* Everything is carried over (even what looks expired: ban_open has
	 * no notion of the caller's clock); purge reclaims it later. */
	if (!st->used)
		return 0;
	e = st->e;
	r = ban_normalise(&st->e.key, m->to->g.ipv6_prefix, &e.key, &e.prefix);
	if (r < 0)
		return 0;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = pair_load(m->to, &e.key, e.prefix, p);
	if (r == 0 && p->fb >= 0) {
		/* Networks merged by a shorter prefix: keep the worst. */
		const struct ban_entry *o = &p->st[p->fb][p->fi].e;

		e.failures = e.failures > o->failures ? e.failures : o->failures;
		e.total_failures = sat_add(e.total_failures, o->total_failures);
		e.bans = e.bans > o->bans ? e.bans : o->bans;
		if (o->banned_until > e.banned_until)
			e.banned_until = o->banned_until;
		if (o->last_failure > e.last_failure)
			e.last_failure = o->last_failure;
	}
	free(p);
	if (r < 0)
		return r;
	r = file_put(m->to, m->p, &e, m->now);
	return r < 0 ? r : 0;
}

/* Replaces the file by one of the wanted geometry, carrying the live
 * entries over.  Called with the exclusive lock held on the old file;
 * processes waiting on it find it unlinked and follow the path. */
static int
store_migrate(struct ban_store *b)
{
	struct migrate_ctx m;
	struct ban_file to;
	char *tmp;
	int r;

	r = tmp_create(b->path, &tmp, &to.fd);
	if (r < 0)
		return r;
	to.g = b->want;
	r = file_init(to.fd, &to.g);
	if (r == 0) {
		m.to = &to;
		m.p = &b->p;
		m.now = time(NULL);
		r = file_scan(&b->f, migrate_one, &m);
	}
	if (r == 0 && rename(tmp, b->path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		close(to.fd);
	} else {
		close(b->f.fd);		/* releases the old lock */
		b->f = to;
	}
	free(tmp);
	return r;
}

void
ban_close(struct ban_store *b)
{
	if (!b)
		return;
	if (b->f.fd >= 0)
		close(b->f.fd);
	free(b->exempt);
	free(b->path);
	free(b);
}

int
ban_open(const char *path, const struct ban_params *p, struct ban_store **ret)
{
	struct ban_store *b;
	int r;

	if (!path || !*path || strlen(path) >= PATH_MAX - 16 || !p || !ret ||
	    p->n_exempt > MAX_EXEMPT || (p->n_exempt && !p->exempt))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->f.fd = -1;
	b->p = *p;
	b->p.exempt = NULL;
	b->p.n_exempt = 0;
	r = ban_geom_for(p, &b->want);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	b->path = strdup(path);
	if (!b->path)
		goto fail;
	if (p->n_exempt) {
		b->exempt = calloc(p->n_exempt, sizeof(*b->exempt));
		if (!b->exempt)
			goto fail;
	}
	for (size_t i = 0; i < p->n_exempt; i++) {
		r = cidr_parse(p->exempt[i], &b->exempt[i].net, &b->exempt[i].len);
		if (r < 0)
			goto fail;
	}
	b->n_exempt = p->n_exempt;

	r = store_open_fd(b);
	if (r < 0)
		goto fail;
	r = store_lock(b, F_RDLCK, true);
	if (r < 0)
		goto fail;
	if (b->f.g.nbuckets != b->want.nbuckets ||
	    b->f.g.ipv6_prefix != b->want.ipv6_prefix) {
		store_unlock(b);
		r = store_lock(b, F_WRLCK, true);
		if (r < 0)
			goto fail;
		if (b->f.g.nbuckets != b->want.nbuckets ||
		    b->f.g.ipv6_prefix != b->want.ipv6_prefix) {
			r = store_migrate(b);
			if (r < 0) {
				store_unlock(b);
				goto fail;
			}
		}
	}
	store_unlock(b);
	*ret = b;
	return 0;
fail:
	ban_close(b);
	return r;
}

bool
ban_take_damaged(struct ban_store *b)
{
	bool d = b && b->damaged;

	if (b)
		b->damaged = false;
	return d;
}

int
ban_check(struct ban_store *b, const struct sockaddr *sa, int64_t now,
    int64_t *ret_until, bool *ret_damaged)
{
	struct netaddr a, full, k;
	unsigned prefix;
	struct pair *p;
	int r;

	if (!b || !sa)
		return -EINVAL;
	r = netaddr_from_sockaddr(sa, &a);
	if (r < 0)
		return r;
	r = ban_normalise(&a, 128, &full, &prefix);
	if (r < 0)
		return r;
	if (is_exempt(b, &full)) {
		if (ret_damaged)
			*ret_damaged = ban_take_damaged(b);
		return 0;
	}
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = store_lock(b, F_RDLCK, true);
	if (r < 0) {
		free(p);
		return r;
	}
	r = store_key(b, &full, &k, &prefix);
	if (r == 0)
		r = pair_load(&b->f, &k, prefix, p);
	store_unlock(b);
	if (r < 0) {
		free(p);
		return r;
	}
	if (p->damaged)
		b->damaged = true;
	r = 0;
	if (p->fb >= 0 && p->st[p->fb][p->fi].e.banned_until > now) {
		if (ret_until)
			*ret_until = p->st[p->fb][p->fi].e.banned_until;
		r = 1;
	}
	if (ret_damaged)
		*ret_damaged = ban_take_damaged(b);
	free(p);
	return r;
}

/* Read-modify-write of one key under the exclusive lock.  update returns
 * <0 to abort, 0 to write e, 1 to write nothing. */
static int
store_update(struct ban_store *b, const struct netaddr *a, int64_t now,
    int (*update)(struct ban_store *, struct ban_entry *, bool found, int64_t now, void *),
    void *userdata)
{
	struct netaddr k;
	unsigned prefix;
	struct ban_entry e;
	struct pair *p;
	int j, i, r;

	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = store_lock(b, F_WRLCK, true);
	if (r < 0) {
		free(p);
		return r;
	}
	r = store_key(b, a, &k, &prefix);
	if (r < 0)
		goto out;
	r = pair_load(&b->f, &k, prefix, p);
	if (r < 0)
		goto out;
	if (p->fb >= 0) {
		j = p->fb;
		i = p->fi;
		e = p->st[j][i].e;
	} else {
		pair_choose(&b->p, p, now, &j, &i);
		fresh_entry(&e, &k, prefix);
	}
	r = update(b, &e, p->fb >= 0, now, userdata);
	if (r == 0)
		r = slot_publish(&b->f, pair_idx(p, j, i), &p->s[j][i], &p->st[j][i],
		    e.key.family ? &e : NULL);
	else if (r > 0)
		r = 0;
out:
	store_unlock(b);
	free(p);
	return r;
}

struct fail_ctx {
	unsigned weight;
	int64_t banned_until;
};

static int
fail_update(struct ban_store *b, struct ban_entry *e, bool found, int64_t now,
    void *userdata)
{
	struct fail_ctx *c = userdata;
	uint64_t limit = (uint64_t)b->p.max_failures * BAN_FAIL_UNIT;

	(void)found;
	e->total_failures = sat_add(e->total_failures, c->weight);
	e->last_failure = now;
	if (e->banned_until > now)
		return 0;	/* a straggler of a banned source */
	if (e->failures == 0 || now < e->window_start ||
	    now - e->window_start >= (int64_t)b->p.find_time) {
		e->failures = 0;
		e->window_start = now;
	}
	e->failures = sat_add(e->failures, c->weight);
	if (e->failures >= limit) {
		int64_t d;

		e->bans = sat_add(e->bans, 1);
		d = ban_duration(&b->p, e->bans);
		e->failures = 0;
		e->window_start = 0;
		if (d > 0) {
			e->banned_until = now + d;
			c->banned_until = e->banned_until;
		}
	}
	return 0;
}

int
ban_record_failure(struct ban_store *b, const struct sockaddr *sa,
    unsigned weight, int64_t now, int64_t *ret_banned_until)
{
	struct fail_ctx c = { .weight = weight, .banned_until = 0 };
	struct netaddr a, full;
	unsigned prefix;
	int r;

	if (!b || !sa || weight == 0 || weight > 64 * BAN_FAIL_UNIT)
		return -EINVAL;
	r = netaddr_from_sockaddr(sa, &a);
	if (r < 0)
		return r;
	r = ban_normalise(&a, 128, &full, &prefix);
	if (r < 0)
		return r;
	if (b->p.max_failures > 0 && !is_exempt(b, &full)) {
		r = store_update(b, &full, now, fail_update, &c);
		if (r < 0)
			return r;
	}
	if (ret_banned_until)
		*ret_banned_until = c.banned_until;
	return 0;
}

struct add_ctx {
	unsigned duration;
};

static int
add_update(struct ban_store *b, struct ban_entry *e, bool found, int64_t now,
    void *userdata)
{
	struct add_ctx *c = userdata;
	int64_t d;

	(void)found;
	e->bans = sat_add(e->bans, 1);
	d = c->duration ? (int64_t)c->duration : ban_duration(&b->p, e->bans);
	if (d <= 0)
		d = 1;
	e->banned_until = now + d;
	e->failures = 0;
	e->window_start = 0;
	return 0;
}

int
ban_add(struct ban_store *b, const struct netaddr *a, unsigned duration, int64_t now)
{
	struct add_ctx c = { .duration = duration };
	struct netaddr full;
	unsigned prefix;
	int r;

	if (!b || !a)
		return -EINVAL;
	r = ban_normalise(a, 128, &full, &prefix);
	if (r < 0)
		return r;
	if (is_exempt(b, &full))
		return -EPERM;
	return store_update(b, &full, now, add_update, &c);
}

static int
remove_update(struct ban_store *b, struct ban_entry *e, bool found, int64_t now,
    void *userdata)
{
	(void)b, (void)now, (void)userdata;
	if (!found)
		return -ENOENT;
	memset(e, 0, sizeof(*e));	/* family 0: publish a free slot */
	return 0;
}

int
ban_remove(struct ban_store *b, const struct netaddr *a)
{
	struct netaddr full;
	unsigned prefix;
	int r;

	if (!b || !a)
		return -EINVAL;
	r = ban_normalise(a, 128, &full, &prefix);
	if (r < 0)
		return r;
	return store_update(b, &full, 0, remove_update, NULL);
}

int
ban_lookup(struct ban_store *b, const struct netaddr *a, struct ban_entry *ret)
{
	struct netaddr full, k;
	unsigned prefix;
	struct pair *p;
	int r;

	if (!b || !a || !ret)
		return -EINVAL;
	r = ban_normalise(a, 128, &full, &prefix);
	if (r < 0)
		return r;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = store_lock(b, F_RDLCK, true);
	if (r < 0) {
		free(p);
		return r;
	}
	r = store_key(b, &full, &k, &prefix);
	if (r == 0)
		r = pair_load(&b->f, &k, prefix, p);
	store_unlock(b);
	if (r == 0 && p->damaged)
		b->damaged = true;
	if (r == 0 && p->fb < 0)
		r = -ENOENT;
	if (r == 0)
		*ret = p->st[p->fb][p->fi].e;
	free(p);
	return r;
}

struct foreach_ctx {
	int (*fn)(const struct ban_entry *, void *);
	void *userdata;
};

static int
foreach_one(uint64_t idx, const struct ban_slot *s, const struct ban_slot_state *st,
    void *userdata)
{
	struct foreach_ctx *c = userdata;

	(void)idx, (void)s;
	return st->used ? c->fn(&st->e, c->userdata) : 0;
}

int
ban_foreach(struct ban_store *b, int (*fn)(const struct ban_entry *, void *), void *userdata)
{
	struct foreach_ctx c = { .fn = fn, .userdata = userdata };
	int r;

	if (!b || !fn)
		return -EINVAL;
	r = store_lock(b, F_RDLCK, true);
	if (r < 0)
		return r;
	r = file_scan(&b->f, foreach_one, &c);
	store_unlock(b);
	return r;
}

struct purge_ctx {
	struct ban_store *b;
	int64_t now;
	bool all;
	int count;
};

static int
purge_one(uint64_t idx, const struct ban_slot *s, const struct ban_slot_state *st,
    void *userdata)
{
	struct purge_ctx *c = userdata;

	if (st->used && !c->all && !reclaimable(&c->b->p, &st->e, c->now)) {
		/* Kept: rewriting it replaces a damaged stale copy. */
		return st->damaged ? slot_publish(&c->b->f, idx, s, st, &st->e) : 0;
	}
	if (st->used && c->count < INT_MAX)
		c->count++;
	if (c->all || (!st->used && !st->damaged))
		return 0;
	return slot_publish(&c->b->f, idx, s, st, NULL);
}

int
ban_purge(struct ban_store *b, int64_t now, bool all)
{
	struct purge_ctx c = { .b = b, .now = now, .all = all, .count = 0 };
	int r;

	if (!b)
		return -EINVAL;
	r = store_lock(b, F_WRLCK, true);
	if (r < 0)
		return r;
	r = file_scan(&b->f, purge_one, &c);
	/* Everything: a fresh empty table is quicker than a million slot
	 * writes, and a crash half-way is seen as damage and rebuilt. */
	if (r == 0 && all) {
		b->f.g = b->want;
		r = file_init(b->f.fd, &b->f.g);
	}
	store_unlock(b);
	return r < 0 ? r : c.count;
}

struct verify_ctx {
	const struct ban_geom *g;
	bool bad;
};

static int
verify_one(uint64_t idx, const struct ban_slot *s, const struct ban_slot_state *st,
    void *userdata)
{
	struct verify_ctx *c = userdata;
	uint32_t bk[2];

	(void)s;
	if (st->damaged)
		c->bad = true;
	if (!st->used)
		return 0;
	if (st->e.key.family == AF_INET6 && st->e.prefix != c->g->ipv6_prefix)
		c->bad = true;
	ban_buckets(c->g, &st->e.key, bk);
	if (idx / BAN_BUCKET_SLOTS != bk[0] && idx / BAN_BUCKET_SLOTS != bk[1])
		c->bad = true;
	return 0;
}

int
ban_verify(struct ban_store *b)
{
	struct verify_ctx c = { .bad = false };
	int r;

	if (!b)
		return -EINVAL;
	r = store_lock(b, F_RDLCK, false);
	if (r < 0)
		return r;
	c.g = &b->f.g;
	r = file_scan(&b->f, verify_one, &c);
	store_unlock(b);
	if (r < 0)
		return r;
	return c.bad ? -EBADMSG : 0;
}

int
ban_addr_parse(const char *s, struct netaddr *ret)
{
	unsigned len;

	return cidr_parse(s, ret, &len);
}

int
ban_entry_format_addr(const struct ban_entry *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (!e || !buf)
		return -EINVAL;
	if (!inet_ntop(e->key.family, e->key.a, a, sizeof(a)))
		return -errno;
	if (e->key.family == AF_INET6)
		n = snprintf(buf, len, "%s/%u", a, e->prefix);
	else
		n = snprintf(buf, len, "%s", a);
	return n < 0 || (size_t)n >= len ? -ENOBUFS : 0;
}
