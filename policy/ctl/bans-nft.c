/* sshandctl bans nft-sync: puts the ban file's banned sources into an
 * nftables set, so that the kernel drops their packets to the SSH port:
 * no SYN-ACK, no sshand process.  Run by sshand-nft.service (the only
 * unit with CAP_NET_ADMIN) whenever the file changes; sshand itself never
 * touches nftables.
 *
 * One `nft -f -` transaction declares the table, its two sets and its
 * chain (a no-op when they exist), flushes the sets and the chain and
 * fills them again: idempotent, and atomic for the kernel, so a source
 * is never let through half-way.  Each element's timeout is its ban's
 * remaining time: an expired ban leaves the set by itself, with no run.
 * The file is only read (never created, rebuilt or migrated); a file that
 * cannot be read leaves the sets as they were, since flushing them would
 * let every banned source back in. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/ban.h"
#include "policy/ctl/ctl.h"

#define NAME_MAX_LEN	64	/* nft's identifiers */
#define PORTS_MAX	16
#define ELEMS_PER_LINE	256

struct nft_opts {
	const char *table, *set4, *set6, *hook, *nft, *ports;
	bool dry_run;
	int json;
};

struct nft_elem {
	struct netaddr key;
	unsigned prefix;
	int64_t remaining;	/* s */
};

struct nft_collect {
	const struct ban_store *b;
	int64_t now;
	struct nft_elem *v;
	size_t n, cap, exempt;
};

static void
nft_usage(FILE *f)
{
	fprintf(f,
	    "usage: sshandctl bans nft-sync [--table NAME] [--set4 NAME] [--set6 NAME]\n"
	    "           [--port PORT[,PORT...]] [--hook input|prerouting] [--nft PATH]\n"
	    "           [--dry-run]\n"
	    "  defaults: table inet sshand, sets banned4 and banned6, port 22,\n"
	    "  hook input\n");
}

/* Goes into the script verbatim: letters, digits and '_' only. */
static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* "22" or "22,2222": numbers 1..65535, at most PORTS_MAX. */
static bool
valid_ports(const char *s)
{
	unsigned n = 0;

	for (;;) {
		char *end;
		unsigned long v;

		if (!isdigit((unsigned char)*s))
			return false;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || v == 0 || v > 65535 || ++n > PORTS_MAX)
			return false;
		if (*end == '\0')
			return true;
		if (*end != ',')
			return false;
		s = end + 1;
	}
}

static int
parse_opts(int argc, char **argv, struct nft_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char **val = NULL;

		if (strcmp(argv[i], "--dry-run") == 0) {
			o->dry_run = true;
			continue;
		}
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
		if (strcmp(argv[i], "--table") == 0)
			val = &o->table;
		else if (strcmp(argv[i], "--set4") == 0)
			val = &o->set4;
		else if (strcmp(argv[i], "--set6") == 0)
			val = &o->set6;
		else if (strcmp(argv[i], "--hook") == 0)
			val = &o->hook;
		else if (strcmp(argv[i], "--nft") == 0)
			val = &o->nft;
		else if (strcmp(argv[i], "--port") == 0)
			val = &o->ports;
		if (!val || i + 1 >= argc) {
			fprintf(stderr, "sshandctl bans nft-sync: bad argument %s\n", argv[i]);
			return -1;
		}
		*val = argv[++i];
	}
	if (!valid_name(o->table) || !valid_name(o->set4) || !valid_name(o->set6) ||
	    strcmp(o->set4, o->set6) == 0) {
		fprintf(stderr, "sshandctl bans nft-sync: table and set names are letters, "
		    "digits and _ (the two sets distinct)\n");
		return -1;
	}
	if (strcmp(o->hook, "input") && strcmp(o->hook, "prerouting")) {
		fprintf(stderr, "sshandctl bans nft-sync: --hook input or prerouting\n");
		return -1;
	}
	if (!valid_ports(o->ports)) {
		fprintf(stderr, "sshandctl bans nft-sync: bad --port %s "
		    "(e.g. 22 or 22,2222)\n", o->ports);
		return -1;
	}
	return 0;
}

/* Banned entries only, less those BanExempt covers even in part: the
 * file may hold a ban made before the exemption, and sshand lets an
 * exempt source in whatever the file says. */
static int
collect_banned(const struct ban_entry *e, void *userdata)
{
	struct nft_collect *c = userdata;
	int r;

	if (e->banned_until <= c->now)
		return 0;
	r = ban_exempt_overlaps(c->b, &e->key, e->prefix);
	if (r != 0) {
		if (r > 0)
			c->exempt++;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct nft_elem *v = reallocarray(c->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n].key = e->key;
	c->v[c->n].prefix = e->prefix;
	c->v[c->n].remaining = e->banned_until - c->now;
	c->n++;
	return 0;
}

static int
elem_cmp(const void *pa, const void *pb)
{
	const struct nft_elem *a = pa, *b = pb;

	if (a->key.family != b->key.family)
		return a->key.family < b->key.family ? -1 : 1;
	return memcmp(a->key.a, b->key.a, sizeof(a->key.a));
}

/* One "add element" per ELEMS_PER_LINE elements of one family. */
static void
write_elems(FILE *f, const struct nft_opts *o, const struct nft_collect *c,
    int family, size_t *ret_count)
{
	const char *set = family == AF_INET ? o->set4 : o->set6;
	size_t on_line = 0, count = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct nft_elem *e = &c->v[i];
		char a[INET6_ADDRSTRLEN];

		/* The same key twice would be an error for nft: keep one. */
		if (e->key.family != family ||
		    (i + 1 < c->n && elem_cmp(e, &c->v[i + 1]) == 0) ||
		    !inet_ntop(family, e->key.a, a, sizeof(a)))
			continue;
		fprintf(f, "%s", on_line ? ", " : "");
		if (!on_line)
			fprintf(f, "add element inet %s %s { ", o->table, set);
		if (family == AF_INET6)
			fprintf(f, "%s/%u", a, e->prefix);
		else
			fprintf(f, "%s", a);
		fprintf(f, " timeout %" PRId64 "s", e->remaining);
		count++;
		if (++on_line == ELEMS_PER_LINE) {
			fprintf(f, " }\n");
			on_line = 0;
		}
	}
	if (on_line)
		fprintf(f, " }\n");
	*ret_count = count;
}

static int
write_script(FILE *f, const struct nft_opts *o, struct nft_collect *c,
    size_t *ret_n4, size_t *ret_n6)
{
	const char *t = o->table, *ch = o->hook;

	/* Equal keys adjacent, the longest ban of them last (kept). */
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), elem_cmp);
	for (size_t i = 0; i + 1 < c->n; i++)
		if (elem_cmp(&c->v[i], &c->v[i + 1]) == 0 &&
		    c->v[i].remaining > c->v[i + 1].remaining)
			c->v[i + 1].remaining = c->v[i].remaining;
	fprintf(f, "table inet %s {\n"
	    "\tset %s { type ipv4_addr; flags interval, timeout; }\n"
	    "\tset %s { type ipv6_addr; flags interval, timeout; }\n"
	    "\tchain %s { type filter hook %s priority filter - 10; policy accept; }\n"
	    "}\n", t, o->set4, o->set6, ch, ch);
	fprintf(f, "flush chain inet %s %s\n", t, ch);
	fprintf(f, "flush set inet %s %s\nflush set inet %s %s\n", t, o->set4, t, o->set6);
	/* Drop, not reject: the port must look closed (no SYN-ACK, no RST
	 * telling the scanner that something listens). */
	fprintf(f, "add rule inet %s %s tcp dport { %s } ip saddr @%s drop\n",
	    t, ch, o->ports, o->set4);
	fprintf(f, "add rule inet %s %s tcp dport { %s } ip6 saddr @%s drop\n",
	    t, ch, o->ports, o->set6);
	write_elems(f, o, c, AF_INET, ret_n4);
	write_elems(f, o, c, AF_INET6, ret_n6);
	return ferror(f) ? -EIO : 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* `nft -f -` with the script on its stdin; its messages go to ours. */
static int
run_nft(const char *nft, const char *script, size_t len)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int p[2], st, r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		if (dup2(p[0], STDIN_FILENO) < 0)
			_exit(127);
		execlp(nft, nft, "-f", "-", (char *)NULL);
		fprintf(stderr, "sshandctl: cannot run %s: %s (Debian package nftables)\n",
		    nft, strerror(errno));
		_exit(127);
	}
	close(p[0]);
	/* nft may die before reading it all: an error below, not a signal. */
	sigaction(SIGPIPE, &ign, &old);
	r = write_all(p[1], script, len);
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return r == -EPIPE ? -EIO : r;
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 127 ? -ENOENT : -EIO;
	return -EINTR;
}

/* Reads the banned entries: -ENOENT for no file (nothing banned yet). */
static int
read_bans(const char *path, const struct ban_params *p, struct nft_collect *c)
{
	struct ban_store *b = NULL;
	int r;

	r = ban_open_readonly(path, p, &b);
	if (r < 0)
		return r;
	c->b = b;
	r = ban_foreach(b, collect_banned, c);
	c->b = NULL;
	ban_close(b);
	return r;
}

int
bans_nft_sync(const struct ctl_opts *co, const char *path, const struct ban_params *p,
    int argc, char **argv)
{
	struct nft_opts o = { .table = "sshand", .set4 = "banned4", .set6 = "banned6",
	    .hook = "input", .nft = "nft", .ports = "22", .json = co->json };
	struct nft_collect c = { .now = (int64_t)time(NULL) };
	char *script = NULL;
	size_t len = 0, n4 = 0, n6 = 0;
	FILE *f;
	int r, ret = 1;

	r = parse_opts(argc, argv, &o);
	if (r != 0) {
		nft_usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	r = read_bans(path, p, &c);
	if (r == -ENOENT) {
		fprintf(stderr, "sshandctl: %s: no ban file yet: nothing banned\n", path);
		c.n = 0;
	} else if (r < 0) {
		fprintf(stderr, "sshandctl: %s: %s%s; the nftables sets are left as they "
		    "were\n", path, strerror(-r), r == -EBADMSG ? " (damaged, or of an "
		    "older format: sshand rebuilds or migrates it at its next connection)" : "");
		goto out;
	}
	f = open_memstream(&script, &len);
	if (!f) {
		fprintf(stderr, "sshandctl: %s\n", strerror(errno));
		goto out;
	}
	r = write_script(f, &o, &c, &n4, &n6);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r < 0) {
		fprintf(stderr, "sshandctl: %s\n", strerror(-r));
		goto out;
	}
	if (o.dry_run) {
		fwrite(script, 1, len, stdout);
		ret = 0;
		goto out;
	}
	r = run_nft(o.nft, script, len);
	if (r < 0) {
		fprintf(stderr, "sshandctl: %s failed%s: the nftables sets are left as "
		    "they were\n", o.nft, r == -ENOENT ? " (not installed?)" : "");
		goto out;
	}
	if (o.json)
		printf("{\"table\":\"inet %s\",\"ipv4\":%zu,\"ipv6\":%zu,\"exempt\":%zu}\n",
		    o.table, n4, n6, c.exempt);
	else
		printf("inet %s: %zu IPv4 and %zu IPv6 banned source(s) dropped on port %s"
		    "%s\n", o.table, n4, n6, o.ports, c.exempt ? " (some left out: BanExempt)" : "");
	ret = 0;
out:
	free(script);
	free(c.v);
	return ret;
}
