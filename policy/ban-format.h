/* The on-disk format of the ban file: header, slots, checksums, keys.
 * Internal to policy/ban*.c; the layout is described at the top of
 * ban-store.c.
 * Pure functions: no I/O. */
#ifndef SSHAND_POLICY_BAN_FORMAT_H
#define SSHAND_POLICY_BAN_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ban.h"

#define BAN_MAGIC		"SSHANDBF"
/* Version 2 counts failures in 1/1000 (BAN_FAIL_UNIT); version 1 counted
 * them in quarters.  A version 1 file is migrated (ban-store.c); a newer
 * one is left alone. */
#define BAN_VERSION		BAN_FILE_VERSION
#define BAN_VERSION_V1		1u
#define BAN_V1_FAIL_UNIT	4u
#define BAN_HEADER_SIZE		4096u	/* slots start page-aligned */
#define BAN_COPY_SIZE		64u
#define BAN_SLOT_SIZE		(2 * BAN_COPY_SIZE)
#define BAN_BUCKET_SLOTS	8u
#define BAN_BUCKET_SIZE		(BAN_BUCKET_SLOTS * BAN_SLOT_SIZE)
/* 16M entries (BanMaxEntries's bound): a 3 GB file.  Beyond that the
 * design wants a real store. */
#define BAN_MAX_ENTRIES_LIMIT	(1u << 24)

/* What a reader needs from the header to find anything. */
struct ban_geom {
	uint32_t nbuckets;
	uint32_t ipv6_prefix;
	uint32_t version;	/* BAN_VERSION, or BAN_VERSION_V1 (to migrate) */
	uint8_t key[16];	/* per-file SipHash key: buckets and slot checks */
};

struct ban_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint32_t slot_size;
	uint32_t bucket_slots;
	uint32_t nbuckets;
	uint32_t ipv6_prefix;
	uint8_t key[16];
	uint64_t reserved;
	uint64_t check;		/* SipHash (fixed key) of the bytes before it */
};

/* One copy of a slot.  Host byte order: the file never leaves the host. */
struct ban_copy {
	uint32_t seq;		/* 0: never published (or being written) */
	uint32_t check;		/* SipHash (file key) of slot index + copy */
	uint8_t family;		/* 0 free, 4 or 6 */
	uint8_t prefix;
	uint8_t pad[2];
	uint32_t failures;
	uint8_t addr[16];
	uint32_t total;
	uint32_t bans;
	int64_t window_start;
	int64_t last_failure;
	int64_t banned_until;
};

struct ban_slot {
	struct ban_copy c[2];
};

/* A slot as a reader sees it. */
struct ban_slot_state {
	bool used;		/* holds an entry */
	bool damaged;		/* a published copy failed its check */
	int newest;		/* copy index of the state, -1 if none valid */
	uint32_t seq;		/* seq of the newest valid copy, 0 if none */
	struct ban_entry e;
};

uint64_t ban_siphash(const uint8_t key[16], const void *data, size_t len);

int ban_geom_for(const struct ban_params *p, struct ban_geom *ret);
uint64_t ban_file_size(const struct ban_geom *g);
/* A header of this version (g->version is not looked at). */
void ban_header_encode(const struct ban_geom *g, struct ban_header *ret);
/* Recomputes h's check after a change (tests write old and newer
 * versions with it). */
void ban_header_seal(struct ban_header *h);
/* 0 for a header of this version or of version 1 (ret->version says
 * which), -EPROTONOSUPPORT for a sound header of a newer version (not
 * ours to rebuild), -EBADMSG for anything else. */
int ban_header_decode(const struct ban_header *h, struct ban_geom *ret);

/* The two candidate buckets of a (normalised) key; they differ if
 * nbuckets > 1. */
void ban_buckets(const struct ban_geom *g, const struct netaddr *k, uint32_t ret[2]);

void ban_slot_resolve(const struct ban_geom *g, uint64_t idx,
    const struct ban_slot *s, struct ban_slot_state *ret);
/* The copy that publishes e (NULL: a free slot) as sequence seq. */
void ban_copy_encode(const struct ban_geom *g, uint64_t idx,
    const struct ban_entry *e, uint32_t seq, struct ban_copy *ret);

/* v4-mapped IPv6 becomes IPv4; IPv6 is masked to v6prefix bits. */
int ban_normalise(const struct netaddr *in, unsigned v6prefix,
    struct netaddr *ret, unsigned *ret_prefix);

#endif
