# sshand — see README.md.  `make`, `make test`, `make run`, `make install`, `make bench`.

SHELL   := /bin/bash
.DEFAULT_GOAL := all
CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
LIBEXECDIR ?= $(PREFIX)/lib/sshand
SYSCONFDIR ?= /etc
UNITDIR ?= /etc/systemd/system

# libseccomp is a build-time dependency only: it compiles the filters
# (sandbox/rules.h), and sshand loads the result without it.
PKGS    := libssh libcap-ng libcrypto
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
# -fPIC, not -fPIE: the same objects go into the executables and into
# sshand-net.so and sshand-monitor.so.  Hidden by default; the front's
# objects (below) export what the halves call.
HARDEN  = -fstack-protector-strong -fPIC -fno-strict-aliasing -fvisibility=$(VISIBILITY)
VISIBILITY = hidden
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(HARDEN) -I. $(CFLAGS) $(EXTRA_CFLAGS) $(OBJ_FLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS) $(EXTRA_LDFLAGS)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssh -lcap-ng -lcrypto) -lpam $(SAN_LIBS)
SECCOMP_LIBS = $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)

# The fuzzing build (`make fuzz`, tests/fuzz/) is a sanitizer build by
# clang, every object instrumented for libFuzzer's coverage.
ifeq ($(FUZZ),1)
CC  := clang
SAN := 1
FUZZ_CFLAGS := -fsanitize=fuzzer-no-link
endif
# The sanitizer build lives in its own tree: `make BUILD=build-asan SAN=1`.
ifeq ($(SAN),1)
ALL_CFLAGS  += -O1 -fsanitize=address,undefined $(FUZZ_CFLAGS) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=address,undefined
# GCC 12 ASan intercepts crypt(); libcrypt must be loaded from the start,
# not later by pam_unix, or the interceptor calls a NULL pointer.
SAN_LIBS = -Wl,--no-as-needed -lcrypt -Wl,--as-needed
else
ALL_CFLAGS  += -D_FORTIFY_SOURCE=2
endif

# One folder per program part; each is linked from its own folders (see
# README, "Source layout").  policy/ and sandbox/ are libraries.
POLICY_SRC  := $(wildcard policy/*.c policy/util/*.c)
CTL_SRC     := $(wildcard policy/ctl/*.c)
SANDBOX_SRC := $(wildcard sandbox/*.c)
# sandbox/rules/ runs at build time (and in unit tests), never in sshand.
RULES_SRC   := $(wildcard sandbox/rules/*.c)
FRONT_SRC   := $(wildcard handler/front/*.c)
NET_SRC     := $(wildcard handler/net/*.c)
# The guardian is linked into the monitor's half (see guardian/guardian.h),
# and so is internal-sftp, which runs in the sessions' processes the
# monitor forks (handler/sftp/sftp.h).
MONITOR_SRC := $(wildcard handler/monitor/*.c handler/guardian/*.c handler/sftp/*.c)
# The key holder: forked by the monitor, so linked into its half.
KEYS_SRC    := $(wildcard handler/keys/*.c)
PRIVSEP_SRC := $(wildcard handler/privsep/*.c)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

# sshand is three files (see handler/front/main.c): the front, linked with
# libc only, which turns banned addresses away and forks; sshand-net.so,
# which the network child loads (libssh, OpenSSL); sshand-monitor.so,
# which the monitor loads (PAM, libcap-ng).  The front exports to them
# exactly the functions they call (its own and policy/'s); privsep/ and
# the sandbox library are linked into each half.  The front links the
# sandbox archive too, for what policy/ calls of it (the profile names):
# an archive brings only the members used, and those use libc only.
FRONT_OBJ := $(call obj,$(FRONT_SRC) $(POLICY_SRC))
PART_DIR  ?= $(abspath $(BUILD))
NET_LIBS  = $(shell pkg-config --libs libssh libcrypto libcap-ng 2>/dev/null || echo -lssh -lcrypto -lcap-ng)
MON_LIBS  = $(shell pkg-config --libs libcap-ng libcrypto 2>/dev/null || echo -lcap-ng -lcrypto) -lpam
# Both sides are built from the same headers or refuse each other.
# sandbox.h too: struct settings holds its enum sandbox_profile; and the
# guardian's state, which the front maps and the monitor half fills.
ABI_HDRS  := $(wildcard handler/front/*.h policy/*.h policy/util/*.h) sandbox/sandbox.h \
	handler/guardian/state.h
CORE_ABI  := $(shell cat $(ABI_HDRS) | cksum | cut -d' ' -f1)
ABI_OBJS  := $(call obj,handler/front/main.c handler/net/part.c handler/monitor/part.c)
$(FRONT_OBJ): VISIBILITY = default
$(ABI_OBJS): $(ABI_HDRS)
$(ABI_OBJS): OBJ_FLAGS = -DSSHAND_CORE_ABI=$(CORE_ABI)UL
PARTS := $(BUILD)/sshand-net.so $(BUILD)/sshand-monitor.so
# The network child's stand-in for libgssapi_krb5 (see its source): not a
# half, it calls nothing of the front's.
NOGSS := $(BUILD)/sshand-nogssapi.so

all: $(BUILD)/sshand $(PARTS) $(NOGSS) $(BUILD)/sshandctl

# Flags live in this file: objects are rebuilt when it changes.
$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

archive = rm -f $@ && ar rcs $@ $^
$(BUILD)/libpolicy.a: $(call obj,$(POLICY_SRC))
	$(archive)
$(BUILD)/libsandbox.a: $(call obj,$(SANDBOX_SRC)) $(BUILD)/sandbox/bpf-filters.o
	$(archive)
$(BUILD)/librules.a: $(call obj,$(RULES_SRC))
	$(archive)
# The halves' folders as archives, for the unit tests and test tools.
$(BUILD)/libfront.a: $(call obj,$(FRONT_SRC))
	$(archive)
$(BUILD)/libmonitor.a: $(call obj,$(MONITOR_SRC) $(KEYS_SRC))
	$(archive)
$(BUILD)/libprivsep.a: $(call obj,$(PRIVSEP_SRC))
	$(archive)

# The seccomp filters, compiled from their rules once, here.
$(BUILD)/sandbox/bpfgen: $(BUILD)/sandbox/rules/bpfgen.o $(BUILD)/librules.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(SECCOMP_LIBS) $(SAN_LIBS)
$(BUILD)/sandbox/bpf-filters.c: $(BUILD)/sandbox/bpfgen
	$< > $@.tmp && mv $@.tmp $@
$(BUILD)/sandbox/bpf-filters.o: $(BUILD)/sandbox/bpf-filters.c
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

PART_LDFLAGS = -shared -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS) $(EXTRA_LDFLAGS)
$(BUILD)/sshand-net.so: $(call obj,$(NET_SRC) $(PRIVSEP_SRC)) $(BUILD)/libsandbox.a
	$(CC) $(ALL_CFLAGS) $(PART_LDFLAGS) -o $@ $^ $(NET_LIBS)
$(BUILD)/sshand-monitor.so: $(call obj,$(MONITOR_SRC) $(KEYS_SRC) $(PRIVSEP_SRC)) $(BUILD)/libsandbox.a
	$(CC) $(ALL_CFLAGS) $(PART_LDFLAGS) -o $@ $^ $(MON_LIBS)
# It takes the library's soname, and its symbols the library's version.
# Every GSSAPI function the system's libssh imports must be defined here,
# or the front falls back to Kerberos at every connection: refuse to
# build one that lacks any.
NOGSS_DIR := handler/net/nogssapi
LIBSSH_SO = $(shell $(CC) -print-file-name=libssh.so.4)
$(NOGSS): $(call obj,$(NOGSS_DIR)/nogssapi.c) $(NOGSS_DIR)/nogssapi.map
	$(CC) $(ALL_CFLAGS) $(PART_LDFLAGS) -Wl,-soname,libgssapi_krb5.so.2 \
		-Wl,--version-script=$(NOGSS_DIR)/nogssapi.map -o $@ $<
	@missing=$$(LC_ALL=C comm -23 \
		<(nm -D --undefined-only $(LIBSSH_SO) | awk '/@gssapi_krb5_2_MIT/ {print $$NF}' | LC_ALL=C sort -u) \
		<(nm -D --defined-only $@ | awk '{print $$NF}' | sed 's/@@/@/' | LC_ALL=C sort -u)); \
	if [ -n "$$missing" ]; then echo "$@ lacks what $(LIBSSH_SO) imports:" $$missing >&2; \
		rm -f $@; exit 1; fi
# What the halves leave undefined and the front defines, and the libc
# functions the front defines in front of libc's for the libraries the
# halves load (handler/front/interpose.h).
INTERPOSED := getpid poll recv
$(BUILD)/sshand.dynlist: $(PARTS) $(FRONT_OBJ)
	{ echo '{'; LC_ALL=C comm -12 \
		<({ nm -D --undefined-only $(PARTS) | awk 'NF >= 2 {print $$NF}' | sed 's/@.*//'; \
		    printf '%s\n' $(INTERPOSED); } | LC_ALL=C sort -u) \
		<(nm -g --defined-only $(FRONT_OBJ) | awk 'NF == 3 {print $$3}' | LC_ALL=C sort -u) \
		| sed 's/.*/  &;/'; echo '};'; } > $@.tmp && mv $@.tmp $@
# A front that does not export all of it would fail at every connection,
# at dlopen(): refuse to build one.
check_exports = nm -D --defined-only $(1) | awk '{print $$NF}' | LC_ALL=C sort -u > $(1).exports; \
	missing=$$(sed -n 's/^  \(.*\);$$/\1/p' $(BUILD)/sshand.dynlist | LC_ALL=C comm -23 - $(1).exports); \
	rm -f $(1).exports; \
	if [ -n "$$missing" ]; then echo "$(1) does not export:" $$missing >&2; rm -f $(1); exit 1; fi
# Where the front finds its halves: this build tree, or for `make install`
# LIBEXECDIR; one generated line each, so both fronts share every object.
part_dir_c = @mkdir -p $(@D) && printf 'const char sshand_part_dir[] = "%s";\n' '$(1)' > $@
$(BUILD)/partdir.c: Makefile
	$(call part_dir_c,$(PART_DIR))
$(BUILD)/install/partdir.c: FORCE
	$(call part_dir_c,$(LIBEXECDIR))
$(BUILD)/partdir.o $(BUILD)/install/partdir.o: %.o: %.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(BUILD)/sshand $(BUILD)/install/sshand: %/sshand: %/partdir.o $(FRONT_OBJ) $(BUILD)/libsandbox.a $(BUILD)/sshand.dynlist
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Wl,--dynamic-list=$(BUILD)/sshand.dynlist \
		-o $@ $< $(FRONT_OBJ) $(BUILD)/libsandbox.a $(SAN_LIBS)
	@$(call check_exports,$@)
# sshandctl reads the journal with libsystemd and host keys with libssh
# (ssh-keygen makes them); it needs neither PAM nor libcap-ng.  Only
# sshandctl links libsystemd: the per-connection programs never do.
# It alone links hiredis too, for the fleet store (bans fleet-sync):
# sshand never talks to Redis.
CTL_LIBS  = $(shell pkg-config --libs libsystemd libssh hiredis 2>/dev/null || \
	echo -lsystemd -lssh -lhiredis)
$(BUILD)/sshandctl: $(call obj,$(CTL_SRC)) $(BUILD)/libpolicy.a $(BUILD)/libsandbox.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(CTL_LIBS)

# Unit tests and test tools link the folders they test, as archives.
TEST_LIBS_A = $(BUILD)/libmonitor.a $(BUILD)/libprivsep.a $(BUILD)/libfront.a \
	$(BUILD)/libpolicy.a $(BUILD)/libsandbox.a
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_LIBS_A) $(BUILD)/librules.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) \
		$(LIBS) $(SECCOMP_LIBS) -lcmocka
# The fleet sync's memory (policy/ctl/, not in an archive): linked alone.
$(BUILD)/tests/test_fleet_track: $(call obj,policy/ctl/fleet-track.c)
# The network half has no archive: its libssh hook is linked alone
# (objects go before the archives, which supply what they call).
$(BUILD)/tests/test_libssh_hook: $(call obj,handler/net/libssh-private.c)

# Test helpers built from tests/ (the syscall probe, the ban-file stressor,
# the EVP_DigestVerify shim).
$(BUILD)/tests/probe: tests/probe/probe.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<
# A network child taken over, as an LD_PRELOAD shim (plain flags: a
# preload and the sanitizer runtime do not mix; the test uses the normal
# build only).
$(BUILD)/tests/fakeverify.so: tests/preload/fakeverify.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl
$(BUILD)/tests/%-tool: $(BUILD)/tests/tools/%.o $(TEST_LIBS_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/%-tool,$(wildcard tests/tools/*.c))

# libFuzzer targets (tests/fuzz/fuzz_*.c), built with FUZZ=1 into their
# own tree; each links the archives of what it parses.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(TEST_LIBS_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) \
		$(filter %.a,$^) $(LIBS)
# FUZZ_LIBSSH=DIR: fuzz_preauth against a libssh built for libFuzzer
# (tests/fuzz/build-libssh), so that its coverage guides the fuzzer; in
# a FUZZ_BUILD of its own, as nothing here notices the switch.
ifneq ($(FUZZ_LIBSSH),)
$(BUILD)/tests/fuzz/fuzz_preauth.o: EXTRA_CFLAGS += -I$(FUZZ_LIBSSH)/include
$(BUILD)/fuzz/fuzz_preauth: LIBS := -L$(FUZZ_LIBSSH)/lib -Wl,-rpath,$(FUZZ_LIBSSH)/lib $(LIBS)
endif
# The binary seeds' writer (make fuzz-seeds).
$(BUILD)/fuzz/mkseeds: $(BUILD)/tests/fuzz/mkseeds.o $(TEST_LIBS_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
.SECONDARY: $(call obj,$(FUZZ_SRC) tests/fuzz/mkseeds.c)

unit-bins: $(UNIT_BIN)
test-bins: all $(UNIT_BIN) $(TOOL_BIN) $(if $(wildcard tests/probe/probe.c),$(BUILD)/tests/probe) \
	$(BUILD)/tests/fakeverify.so

deps:
	@tests/deps.sh test

# Builds, unit tests, the fuzzing smoke, the integration suite (in a
# private mount namespace: see tests/integration/run), the Debian package's
# test and a few iterations of every benchmark: tests/suite says in which
# order, which parts run beside the others, and how long each part took.
test: deps
	tests/suite $(BUILD) build-asan

# Each fuzzing target for FUZZ_SECONDS on a copy of its seeds
# (tests/fuzz/corpus/); a crash fails.  fuzz-smoke, in make test: a few
# seconds of each.
fuzz-bins: $(FUZZ_BIN)
fuzz:
	@tests/deps.sh fuzz
	$(MAKE) BUILD=$(FUZZ_BUILD) FUZZ=1 fuzz-bins
	tests/fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS)
fuzz-smoke:
	$(MAKE) BUILD=$(FUZZ_BUILD) FUZZ=1 fuzz-bins
	tests/fuzz/run --smoke $(FUZZ_BUILD)
# Rewrites the binary seeds (privsep messages, ban files) after a format
# change; the others are written by hand (README, "Fuzzing").
fuzz-seeds:
	$(MAKE) BUILD=$(FUZZ_BUILD) FUZZ=1 $(FUZZ_BUILD)/fuzz/mkseeds
	rm -rf tests/fuzz/corpus/privsep tests/fuzz/corpus/banfile
	$(FUZZ_BUILD)/fuzz/mkseeds tests/fuzz/corpus

run: deps all
	@tests/demo/run $(BUILD)

bench: deps all
	@bench/run

bench-smoke: all
	@bench/run --smoke

install: all $(BUILD)/install/sshand
	install -D -m 0755 $(BUILD)/install/sshand $(DESTDIR)$(SBINDIR)/sshand
	install -D -m 0644 $(BUILD)/sshand-net.so $(DESTDIR)$(LIBEXECDIR)/sshand-net.so
	install -D -m 0644 $(BUILD)/sshand-monitor.so $(DESTDIR)$(LIBEXECDIR)/sshand-monitor.so
	install -D -m 0644 $(NOGSS) $(DESTDIR)$(LIBEXECDIR)/sshand-nogssapi.so
	install -D -m 0755 $(BUILD)/sshandctl $(DESTDIR)$(SBINDIR)/sshandctl
	install -D -m 0644 units/sshand.socket $(DESTDIR)$(UNITDIR)/sshand.socket
	sed 's|@SBINDIR@|$(SBINDIR)|g' units/sshand@.service > $(BUILD)/sshand@.service
	install -D -m 0644 $(BUILD)/sshand@.service $(DESTDIR)$(UNITDIR)/sshand@.service
	# Kernel-level drops of banned sources (sshandctl(8), bans nft-sync).
	sed 's|@SBINDIR@|$(SBINDIR)|g' units/sshand-nft.service > $(BUILD)/sshand-nft.service
	install -D -m 0644 $(BUILD)/sshand-nft.service $(DESTDIR)$(UNITDIR)/sshand-nft.service
	install -D -m 0644 units/sshand-nft.path $(DESTDIR)$(UNITDIR)/sshand-nft.path
	install -D -m 0644 units/sshand-nft.timer $(DESTDIR)$(UNITDIR)/sshand-nft.timer
	# One ban list for a fleet through Redis (sshandctl(8), bans fleet-sync).
	sed 's|@SBINDIR@|$(SBINDIR)|g' units/sshand-fleet.service > $(BUILD)/sshand-fleet.service
	install -D -m 0644 $(BUILD)/sshand-fleet.service $(DESTDIR)$(UNITDIR)/sshand-fleet.service
	# A drop-in for hosts where no session needs setuid programs (README).
	install -D -m 0644 units/hardening.conf $(DESTDIR)$(PREFIX)/share/sshand/hardening.conf
	install -D -m 0644 units/pam.sshand $(DESTDIR)$(SYSCONFDIR)/pam.d/sshand
	test -e $(DESTDIR)$(SYSCONFDIR)/sshand/sshand.conf || \
		install -D -m 0644 units/sshand.conf $(DESTDIR)$(SYSCONFDIR)/sshand/sshand.conf
	install -d -m 0555 $(DESTDIR)/var/empty
	install -d -m 0700 $(DESTDIR)/var/lib/sshand
	for m in man/*.[0-9]; do install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	if [ -z "$(DESTDIR)" ]; then \
		getent passwd sshand >/dev/null || useradd --system --no-create-home \
			--home-dir /var/empty --shell /usr/sbin/nologin sshand; \
		$(SBINDIR)/sshandctl hostkeys; \
		systemctl daemon-reload 2>/dev/null || true; \
	fi

clean:
	rm -rf build build-asan build-fuzz

FORCE:

.PHONY: all deps test run bench bench-smoke install clean unit-bins test-bins FORCE \
	fuzz fuzz-bins fuzz-smoke fuzz-seeds
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
