/* Internal to policy/ban*.c: the ban file as a store (ban-store.c), on
 * which the public operations of ban.h (ban.c) are built.  Not part of
 * the module's interface.  Functions return 0 or a negative errno. */
#ifndef SSHAND_POLICY_BAN_STORE_H
#define SSHAND_POLICY_BAN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/ban-format.h"
#include "policy/ban.h"

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
	bool readonly;			/* ban_open_readonly: no create, repair or migration */
	bool damaged;			/* found damaged, not yet reported */
	bool created;			/* made by this open, not yet reported */
	uint32_t migrated_from;		/* a format version migrated, not yet reported */
};

/* The two candidate buckets of one key, as read under the lock. */
struct ban_pair {
	struct netaddr key;		/* as the file stores it */
	unsigned prefix;
	uint32_t bucket[2];
	struct ban_slot s[2][BAN_BUCKET_SLOTS];
	struct ban_slot_state st[2][BAN_BUCKET_SLOTS];
	int fb, fi;			/* where the key is, fb = -1 if absent */
	bool damaged;
};

static inline uint32_t
ban_sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* Opens b->path into b->f (creating an initialised file if there is
 * none), validates it and migrates it to b->want's geometry if needed.
 * b->path, b->p and b->want are set; b->f.fd is -1. */
int ban_store_attach(struct ban_store *b);

/* Takes the OFD lock (F_RDLCK or F_WRLCK) and validates the file,
 * following it if another process replaced it.  With repair, a damaged
 * file is rebuilt empty (b->damaged set), and the lock held is then the
 * exclusive one whatever type asked. */
int ban_store_lock(struct ban_store *b, short type, bool repair);
void ban_store_unlock(struct ban_store *b);

/* An empty table of geometry g, with a fresh key; under the exclusive
 * lock. */
int ban_file_init(int fd, struct ban_geom *g);
/* A new file beside path (PATH.tmp.XXXXXX), to be initialised and then
 * linked or renamed into place. */
int ban_file_tmp_create(const char *path, char **ret_name, int *ret_fd);

/* Replaces the file by one of b->want's geometry and this version,
 * carrying the live entries over (ban-migrate.c).  Called with the
 * exclusive lock held on the old file; processes waiting on it find it
 * unlinked and follow the path.  b->f is the new file after, not
 * locked. */
int ban_store_migrate(struct ban_store *b);

/* Locks the file (type; a damaged file is rebuilt) and reads the two
 * buckets of a's key, as this file stores it, into a new pair.  On
 * success the lock is held and *ret is the caller's to free; on failure
 * neither. */
int ban_store_load(struct ban_store *b, short type, const struct netaddr *a,
    struct ban_pair **ret);

/* Reads the two buckets of key k (normalised) into p, finding k. */
int ban_pair_load(const struct ban_file *f, const struct netaddr *k,
    unsigned prefix, struct ban_pair *p);
uint64_t ban_pair_idx(const struct ban_pair *p, int j, int i);
/* Where a new key goes: a free slot, else the least harmful entry to
 * forget of the 16. */
void ban_pair_choose(const struct ban_params *prm, const struct ban_pair *p,
    int64_t now, int *ret_j, int *ret_i);

/* Publishes e (NULL: frees the slot) over slot idx's stale copy; old and
 * st are the slot as read.  Under the exclusive lock. */
int ban_slot_publish(const struct ban_file *f, uint64_t idx,
    const struct ban_slot *old, const struct ban_slot_state *st,
    const struct ban_entry *e);

/* Calls fn for every slot of the file; stops at its first non-zero. */
int ban_file_scan(const struct ban_file *f,
    int (*fn)(uint64_t idx, const struct ban_slot *, const struct ban_slot_state *, void *),
    void *userdata);

/* ban_file_scan under the lock (ban_store_lock's type and repair). */
int ban_store_walk(struct ban_store *b, short type, bool repair,
    int (*fn)(uint64_t idx, const struct ban_slot *, const struct ban_slot_state *, void *),
    void *userdata);

/* An entry nobody needs any more (purge drops it, eviction prefers it). */
bool ban_reclaimable(const struct ban_params *p, const struct ban_entry *e,
    int64_t now);

#endif
