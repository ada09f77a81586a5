# rackd — plain Make. `make` builds the programs into build/.
# `make help` lists the targets.

BUILD   := build
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 \
           -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wvla \
           -Wundef -Wcast-align -Wwrite-strings -Wno-unused-parameter
CPPFLAGS += -I. -I$(BUILD)/gen -D_GNU_SOURCE -DRACKD_VERSION='"$(VERSION)"'
ALLCFLAGS = -std=c11 $(WARN) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

PKGS       := libmicrohttpd sqlite3 jansson inih libsodium libzstd libarchive libcurl libmnl blkid libsystemd \
              libfreeipmi hidapi-hidraw
LIBS_DB    := $(shell pkg-config --libs sqlite3 jansson 2>/dev/null)
LIBS_IMG   := $(shell pkg-config --libs jansson libsodium libzstd libarchive 2>/dev/null)
LIBS_APPL  := $(shell pkg-config --libs libmicrohttpd jansson inih libsodium libmnl libsystemd \
              libfreeipmi libcurl hidapi-hidraw 2>/dev/null) -lpthread
LIBS_CTL   := $(shell pkg-config --libs libcurl 2>/dev/null)
LIBS_AGENT := -Wl,--as-needed $(shell pkg-config --libs libcurl blkid 2>/dev/null)

# Libraries: one per folder, each keeping its third-party library inside.
DB_SRC    := $(wildcard db/*.c)
IMG_SRC   := $(wildcard images/*.c)
APPL_SRC  := $(filter-out appliance/main.c,$(wildcard appliance/*.c))
CTL_SRC   := $(wildcard images/rackctl/*.c)
# The node side: libpxe (the rackd client) and the two programs on it.
PXE_SRC   := $(wildcard pxe/lib/*.c)
AGENT_SRC := $(wildcard pxe/agent/*.c)
AGENT_LIB_SRC := $(filter-out pxe/agent/main.c,$(AGENT_SRC))
DISKLESS_SRC := $(wildcard pxe/diskless/*.c)
DISKLESS_OBJ := $(DISKLESS_SRC:%.c=$(BUILD)/obj/%.o)

DB_OBJ    := $(DB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/schema_sql.o
IMG_OBJ   := $(IMG_SRC:%.c=$(BUILD)/obj/%.o)
APPL_OBJ  := $(APPL_SRC:%.c=$(BUILD)/obj/%.o)
CTL_OBJ   := $(CTL_SRC:%.c=$(BUILD)/obj/%.o)
PXE_OBJ   := $(PXE_SRC:%.c=$(BUILD)/obj/%.o)
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/obj/%.o)
AGENT_LIB_OBJ := $(AGENT_LIB_SRC:%.c=$(BUILD)/obj/%.o)

LIBDB     := $(BUILD)/lib/libdb.a
LIBIMG    := $(BUILD)/lib/libimages.a
LIBAPPL   := $(BUILD)/lib/libappliance.a
LIBPXE    := $(BUILD)/lib/libpxe.a

PROGS     := $(BUILD)/rackd $(if $(CTL_SRC),$(BUILD)/rackctl) \
             $(if $(AGENT_SRC),$(BUILD)/rack-agent) \
             $(if $(DISKLESS_SRC),$(BUILD)/rack-diskless)

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# The integration tests' own programs (tests/integration/*.c).
TEST_PROGS := $(BUILD)/tests/power_run $(BUILD)/tests/relay_board \
              $(BUILD)/tests/hidraw_shim.so

.PHONY: all deps check layers style style-fix test unit integration bench demo pxe \
	clean clean-obj help install deb test-deb test-s3 webui-vendor FORCE
TEST_PROGS := $(BUILD)/tests/power_run $(BUILD)/tests/relay_board \
	$(BUILD)/tests/hidraw_shim.so
all: $(PROGS) webui-vendor $(TEST_PROGS)

# The dashboard's third-party files (xterm.js), from npm at the versions
# webui-vendor/package-lock.json pins, into webui/vendor/.
WEBUI_VENDOR := webui/vendor/xterm/xterm.js
webui-vendor: $(WEBUI_VENDOR)
$(WEBUI_VENDOR): webui-vendor/package.json webui-vendor/package-lock.json \
		tools/webui-vendor.sh
	sh tools/webui-vendor.sh

help:
	@echo "make            build build/rackd (and build/rackctl)"
	@echo "make deps       install the Debian packages the project needs"
	@echo "make check      warnings as errors, cppcheck, layers and style"
	@echo "make layers     check that appliance/ keeps its layers (tools/layers.txt)"
	@echo "make style      check the C style of docs/style.md (tools/style.sh)"
	@echo "make style-fix FILES=\"...\"  reformat files with clang-format, then check"
	@echo "make test       deps, build, unit and integration tests"
	@echo "make bench      benchmarks (long; prints figures)"
	@echo "make demo       a simulated rack in a namespace (IPMI, consoles), URL and token"
	@echo "make unit       unit tests only; make integration: integration only"
	@echo "make pxe        build the clone kernel and initramfs into build/pxe/"
	@echo "make asan       build/asan with ASan and UBSan; unit and fast integration tests"
	@echo "make fuzz       the libFuzzer drivers of tests/fuzz/, FUZZ_TIME s each (60)"
	@echo "make install    install under PREFIX (/usr/local), staged in DESTDIR"
	@echo "make deb        the Debian packages into build/deb/, checked by lintian"
	@echo "make test-deb   install, upgrade and purge them in a Debian 12 root"
	@echo "make test-s3    rackctl publish to an S3 API server (needs python3 moto, boto3)"
	@echo "make clean      remove build/"

deps:
	@sh tools/deps.sh all

$(BUILD)/gen/schema_sql.c: db/schema.sql
	@mkdir -p $(dir $@)
	cd db && xxd -i schema.sql > $(abspath $@).tmp && mv $(abspath $@).tmp $(abspath $@)

$(BUILD)/obj/gen/schema_sql.o: $(BUILD)/gen/schema_sql.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -MMD -MP -c $< -o $@

$(LIBDB): $(DB_OBJ)
$(LIBIMG): $(IMG_OBJ)
$(LIBAPPL): $(APPL_OBJ)
$(LIBPXE): $(PXE_OBJ)
$(LIBDB) $(LIBIMG) $(LIBAPPL) $(LIBPXE):
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/rackd: $(BUILD)/obj/appliance/main.o $(LIBAPPL) $(LIBIMG) $(LIBDB)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_APPL) $(LIBS_IMG) $(LIBS_DB)

$(BUILD)/rackctl: $(CTL_OBJ) $(LIBIMG)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_CTL) $(LIBS_IMG)

$(BUILD)/rack-agent: $(AGENT_OBJ) $(LIBPXE) $(LIBIMG)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_AGENT) $(LIBS_IMG)

$(BUILD)/rack-diskless: $(DISKLESS_OBJ) $(LIBPXE) $(LIBIMG)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_AGENT) $(LIBS_IMG)

# Unit tests link only the library of the folder they test:
# test_db_*.c (db/), test_images_*.c (images/), test_appliance_*.c (all of
# rackd), test_pxe_*.c (libpxe), test_agent_*.c and test_diskless_*.c (the
# program's files but its main, and libpxe), test_rackctl_*.c (rackctl's
# files but its main). TEST_DEPS: a test is rebuilt when a header it
# includes (tests/unit/unit.h, ...) changes.
TEST_DEPS = -MMD -MP -MT $@ -MF $@.d
$(BUILD)/tests/test_db_%: tests/unit/test_db_%.c $(LIBDB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(TEST_DEPS) -o $@ $^ $(LIBS_DB) -lcmocka

$(BUILD)/tests/test_images_%: tests/unit/test_images_%.c $(LIBIMG)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(TEST_DEPS) -o $@ $^ $(LIBS_IMG) -lcmocka

$(BUILD)/tests/test_pxe_%: tests/unit/test_pxe_%.c $(LIBPXE) $(LIBIMG)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(TEST_DEPS) -o $@ $^ $(LIBS_AGENT) $(LIBS_IMG) -lcmocka

$(BUILD)/tests/test_agent_%: tests/unit/test_agent_%.c $(AGENT_LIB_OBJ) \
		$(LIBPXE) $(LIBIMG)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(TEST_DEPS) -o $@ $^ $(LIBS_AGENT) $(LIBS_IMG) -lcmocka

$(BUILD)/tests/test_diskless_%: tests/unit/test_diskless_%.c \
		$(filter-out %/main.o,$(DISKLESS_OBJ)) $(LIBPXE) $(LIBIMG)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(TEST_DEPS) -o $@ $^ $(LIBS_AGENT) $(LIBS_IMG) -lcmocka

$(BUILD)/tests/test_rackctl_%: tests/unit/test_rackctl_%.c \
		$(filter-out %/main.o,$(CTL_OBJ)) $(LIBIMG)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(TEST_DEPS) -o $@ $^ $(LIBS_CTL) $(LIBS_IMG) -lcmocka

$(BUILD)/tests/test_appliance_%: tests/unit/test_appliance_%.c \
		$(LIBAPPL) $(LIBIMG) $(LIBDB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(TEST_DEPS) -o $@ $^ $(LIBS_APPL) $(LIBS_IMG) $(LIBS_DB) -lcmocka

# tests/integration/power_run.c: one op of a power method, run without
# rackd by the integration tests; `make all` builds it.
$(BUILD)/tests/power_run: tests/integration/power_run.c \
		$(LIBAPPL) $(LIBIMG) $(LIBDB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(TEST_DEPS) -o $@ $(filter %.c %.a,$^) \
	    $(LIBS_APPL) $(LIBS_IMG) $(LIBS_DB)

# relay_board: a USB HID relay board made with the kernel's uhid, or
# answering hidraw_shim (an LD_PRELOAD stand-in for hidraw where the
# kernel has no uhid).
$(BUILD)/tests/relay_board: tests/integration/relay_board.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(TEST_DEPS) -o $@ $<

$(BUILD)/tests/hidraw_shim.so: tests/integration/hidraw_shim.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(TEST_DEPS) -fPIC -shared -o $@ $< -ldl

# A fresh build in its own folder (every file compiled with the warnings),
# then cppcheck, the layers of appliance/ and the style.
check:
	@sh tools/deps.sh test
	rm -rf $(BUILD)/check
	$(MAKE) BUILD=$(BUILD)/check all $(UNIT_BIN:$(BUILD)/%=$(BUILD)/check/%)
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem --include=/usr/include/jansson.h \
	  -I. appliance db images pxe tests/unit
	sh tools/layers.sh -o $(BUILD)/check/obj/appliance
	$(MAKE) style
	@# libcurl stays in rackctl, the node side, power_redfish.c and
	@# pull.c (the rack's own pulls); libmicrohttpd in http.c.
	@! grep -ln 'curl' images/*.[ch] db/*.[ch] appliance/*.[ch] | \
	  grep -v '^appliance/power_redfish.c$$\|^appliance/pull.c$$' || \
	  { echo "check: libcurl named outside images/rackctl/ and pxe/"; exit 1; }
	@! grep -ln 'MHD_\|<microhttpd.h>' appliance/*.[ch] | grep -v '^appliance/http.c$$' || \
	  { echo "check: libmicrohttpd named outside appliance/http.c"; exit 1; }
	@! grep -ln '<sqlite3.h>' appliance/*.[ch] images/*.[ch] images/rackctl/*.[ch] pxe/*/*.[ch] || \
	  { echo "check: sqlite3 included outside db/"; exit 1; }
	@! grep -ln '<archive.h>' appliance/*.[ch] db/*.[ch] images/rackctl/*.[ch] pxe/*/*.[ch] || \
	  { echo "check: libarchive included outside images/"; exit 1; }

# appliance/'s files may use only their own layer or lower ones
# (tools/layers.txt); the graph comes from the object files.
layers: all
	sh tools/layers.sh -o $(BUILD)/obj/appliance

# The C style of docs/style.md; tools/style.sh is the judge, style-fix
# (clang-format with .clang-format, then tools/style-fix.sh's own passes)
# only a help to get there.
style:
	sh tools/style.sh

style-fix:
	@test -n "$(FILES)" || { echo 'usage: make style-fix FILES="a.c b.h"' >&2; exit 2; }
	sh tools/style-fix.sh $(FILES)

clean-obj:
	rm -rf $(BUILD)/obj $(BUILD)/lib

unit: $(UNIT_BIN)
	@TESTS=unit/ sh tests/run-all.sh $(UNIT_BIN)

integration: all
	@TESTS=integration/ sh tests/run-all.sh

test:
	@sh tools/deps.sh test
	$(MAKE) all pxe $(UNIT_BIN)
	@sh tests/run-all.sh $(UNIT_BIN)

bench:
	@sh tools/deps.sh bench
	$(MAKE) all
	@sh tests/bench/run.sh

demo:
	@sh tools/deps.sh test
	$(MAKE) all pxe
	@bash tools/demo.sh

# The clone kernel and initramfs (Debian's kernel package, busybox,
# rack-agent, rack-diskless); rebuilt when a program or a file of
# pxe/initramfs/ changes.
pxe: $(BUILD)/pxe/initrd.img

$(BUILD)/pxe/initrd.img: $(BUILD)/rack-agent $(BUILD)/rack-diskless \
		$(wildcard pxe/initramfs/*)
	@sh tools/deps.sh pxe
	sh pxe/initramfs/build-initramfs.sh

clean:
	rm -rf $(BUILD)

# The installed layout (make install, make deb): see appliance/layout.c.
# build/gen/prefix.h holds PREFIX and is rewritten only when it changes, so
# that rackd is rebuilt for another PREFIX.
PREFIX        ?= /usr/local
SBINDIR       ?= $(PREFIX)/sbin
BINDIR        ?= $(PREFIX)/bin
DATADIR       ?= $(PREFIX)/share
MANDIR        ?= $(DATADIR)/man
SYSCONFDIR    ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

# make install: rackd, rackctl, the dashboard, the clone kernel and
# initramfs (when `make pxe` built them), the man pages, the systemd unit
# and /etc/rackd/rackd.conf (made from `rackd --help`; an existing one is
# kept). DESTDIR stages it all, as packages do.
INSTALL ?= install
install: all $(BUILD)/rackd.conf $(BUILD)/rackd.service
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(DATADIR)/rackd $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/rackd
	$(INSTALL) -d -m 711 $(DESTDIR)/var/lib/rackd
	$(INSTALL) -m 755 $(BUILD)/rackd $(DESTDIR)$(SBINDIR)/rackd
	if [ -x $(BUILD)/rackctl ]; then \
	    $(INSTALL) -m 755 $(BUILD)/rackctl $(DESTDIR)$(BINDIR)/rackctl; fi
	cd webui && find . -type f | while read -r f; do \
	    $(INSTALL) -D -m 644 "$$f" "$(DESTDIR)$(DATADIR)/rackd/webui/$$f" || exit 1; done
	if [ -f $(BUILD)/pxe/vmlinuz ] && [ -f $(BUILD)/pxe/initrd.img ]; then \
	    $(INSTALL) -d $(DESTDIR)$(DATADIR)/rackd/pxe && \
	    $(INSTALL) -m 644 $(BUILD)/pxe/vmlinuz $(BUILD)/pxe/initrd.img \
	        $(DESTDIR)$(DATADIR)/rackd/pxe/; fi
	$(INSTALL) -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 644 $(BUILD)/rackd.service $(DESTDIR)$(SYSTEMDUNITDIR)/rackd.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/rackd/rackd.conf ] || \
	    $(INSTALL) -m 644 $(BUILD)/rackd.conf $(DESTDIR)$(SYSCONFDIR)/rackd/rackd.conf

# make deb: rackd, rackctl (this machine's architecture) and
# rackd-clone-amd64 (all) into build/deb/, with their .changes, checked by
# lintian (its overrides are in debian/*.lintian-overrides, each with its
# reason). RACKD_DEB_VERSION=V builds them as version V.
DEB_DIR := $(abspath $(BUILD))/deb
deb:
	@sh tools/deps.sh deb
	dpkg-checkbuilddeps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	debian/rules binary RACKD_DEB_DIR=$(DEB_DIR) \
	    $(if $(RACKD_DEB_VERSION),RACKD_DEB_VERSION=$(RACKD_DEB_VERSION))
	dpkg-genchanges -b -u$(DEB_DIR) -O$(DEB_DIR)/rackd.changes \
	    $(if $(RACKD_DEB_VERSION),-DVersion=$(RACKD_DEB_VERSION)) >/dev/null
	debian/rules clean
	lintian --fail-on error,warning,info --info $(DEB_DIR)/rackd.changes

# make test-deb: the packages installed, started, reloaded, upgraded,
# removed and purged in a Debian 12 root (tests/deb/run.sh).
# make test-s3: rackctl publish to moto's S3 server (SigV4 checked). Not in
# make test: moto is not packaged in Debian 12 (pip install moto[server]).
test-s3: all
	bash tests/s3/publish_s3.sh

test-deb:
	@sh tools/deps.sh deb
	bash tests/deb/run.sh

$(BUILD)/rackd.conf: $(BUILD)/rackd tools/rackd-conf.sh
	sh tools/rackd-conf.sh $(BUILD)/rackd >$@.tmp && mv $@.tmp $@

$(BUILD)/rackd.service: tools/rackd.service.in FORCE
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    tools/rackd.service.in >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/prefix.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define RACKD_PREFIX "$(PREFIX)"' >$@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/obj/appliance/layout.o: $(BUILD)/gen/prefix.h
# Likewise the files that print VERSION are rebuilt when it changes (a
# package's version, a new commit).
$(BUILD)/gen/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(patsubst %.c,$(BUILD)/obj/%.o,$(shell grep -rl --include='*.c' RACKD_VERSION \
    appliance db images pxe 2>/dev/null)): $(BUILD)/gen/version.stamp
FORCE:

include tests/fuzz/fuzz.mk

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)
