# rackd — plain Make. `make` builds the programs into build/.
# `make help` lists the targets.

BUILD   := build
CC      ?= cc
# A cross build names its own (make deb ARCH=arm64: aarch64-linux-gnu-*).
PKG_CONFIG ?= pkg-config
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 \
           -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wvla \
           -Wundef -Wcast-align -Wwrite-strings -Wno-unused-parameter
CPPFLAGS += -I. -I$(BUILD)/gen -D_GNU_SOURCE -DRACKD_VERSION='"$(VERSION)"'
ALLCFLAGS = -std=c11 $(WARN) $(CFLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

PKGS       := libmicrohttpd sqlite3 jansson inih libsodium libzstd libarchive libcurl libmnl blkid libsystemd \
              libfreeipmi libipmiconsole hidapi-hidraw ext2fs
LIBS_DB    := $(shell $(PKG_CONFIG) --libs sqlite3 jansson 2>/dev/null)
LIBS_IMG   := $(shell $(PKG_CONFIG) --libs jansson libsodium libzstd libarchive 2>/dev/null)
LIBS_APPL  := $(shell $(PKG_CONFIG) --libs libmicrohttpd jansson inih libsodium libmnl libsystemd \
              libfreeipmi libipmiconsole libcurl hidapi-hidraw 2>/dev/null) -lpthread
LIBS_CTL   := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
LIBS_AGENT := -Wl,--as-needed $(shell $(PKG_CONFIG) --libs libcurl blkid ext2fs com_err 2>/dev/null)

# Libraries: one per folder, each keeping its third-party library inside.
DB_SRC    := $(wildcard db/*.c)
IMG_SRC   := $(wildcard images/*.c)
APPL_SRC  := $(filter-out appliance/main.c,$(wildcard appliance/*.c))
CTL_SRC   := $(wildcard images/rackctl/*.c)
# The node side: libpxe (the rackd client) and the two programs on it.
PXE_SRC   := $(wildcard pxe/lib/*.c)
AGENT_SRC := $(wildcard pxe/agent/*.c)
# An action's flow (erase.c, capture.c) calls main.c's agent_report and
# agent_fail: unit tests link neither.
AGENT_LIB_SRC := $(filter-out pxe/agent/main.c pxe/agent/erase.c \
    pxe/agent/capture.c,$(AGENT_SRC))
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
# rack-agent's files but its main, for its unit tests: an archive, so
# that a test links only the files it uses (an action's file calls
# main.c's agent_report).
LIBAGENT  := $(BUILD)/lib/libagent.a

PROGS     := $(BUILD)/rackd $(if $(CTL_SRC),$(BUILD)/rackctl) \
             $(if $(AGENT_SRC),$(BUILD)/rack-agent) \
             $(if $(DISKLESS_SRC),$(BUILD)/rack-diskless)

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# The integration tests' own programs (tests/integration/*.c).
TEST_PROGS := $(BUILD)/tests/power_run $(BUILD)/tests/relay_board \
              $(BUILD)/tests/hidraw_shim.so

.PHONY: all deps check layers style style-fix test unit integration bench demo pxe \
	clean clean-obj help install deb test-deb test-arm64 webui-vendor FORCE
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
	@echo "make deb ARCH=arm64  rackd and rackctl cross-built for arm64 (build/arm64/deb/)"
	@echo "make test-arm64 the arm64 rackd on an emulated arm64 board (slow: not in make test)"
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
$(LIBAGENT): $(AGENT_LIB_OBJ)
$(LIBDB) $(LIBIMG) $(LIBAPPL) $(LIBPXE) $(LIBAGENT):
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

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

$(BUILD)/tests/test_agent_%: tests/unit/test_agent_%.c $(LIBAGENT) \
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
	@# libcurl (its calls, types and headers) stays in rackctl, the node
	@# side, power_redfish.c and pull_http.c (the rack's own pulls);
	@# libmicrohttpd in http.c.
	@! grep -ln 'curl_\|CURL\|<curl/' images/*.[ch] db/*.[ch] appliance/*.[ch] | \
	  grep -v '^appliance/power_redfish.c$$\|^appliance/pull_http.c$$' || \
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
pxe: $(BUILD)/pxe/initrd.img $(BUILD)/pxe/SHA256SUMS

$(BUILD)/pxe/initrd.img: $(BUILD)/rack-agent $(BUILD)/rack-diskless \
		$(wildcard pxe/initramfs/*)
	@sh tools/deps.sh pxe
	sh pxe/initramfs/build-initramfs.sh

# The UEFI network loaders (Debian's signed GRUB and shim) and their sums.
$(BUILD)/pxe/SHA256SUMS: pxe/initramfs/efi-loaders.sh
	sh pxe/initramfs/efi-loaders.sh

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
UDEVRULESDIR  ?= $(PREFIX)/lib/udev/rules.d

# make install: rackd, rackctl, the dashboard, the clone kernel and
# initramfs and the UEFI loaders (when `make pxe` built them), the man pages, the systemd unit,
# the udev rule of the relay boards (UDEVRULESDIR)
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
	if [ -f $(BUILD)/pxe/SHA256SUMS ]; then \
	    $(INSTALL) -d $(DESTDIR)$(DATADIR)/rackd/pxe && \
	    $(INSTALL) -m 644 $(BUILD)/pxe/grubx64.efi $(BUILD)/pxe/shimx64.efi \
	        $(BUILD)/pxe/SHA256SUMS $(DESTDIR)$(DATADIR)/rackd/pxe/; fi
	$(INSTALL) -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 644 $(BUILD)/rackd.service $(DESTDIR)$(SYSTEMDUNITDIR)/rackd.service
	$(INSTALL) -D -m 644 tools/60-rackd-relay.rules \
	    $(DESTDIR)$(UDEVRULESDIR)/60-rackd-relay.rules
	[ -e $(DESTDIR)$(SYSCONFDIR)/rackd/rackd.conf ] || \
	    $(INSTALL) -m 644 $(BUILD)/rackd.conf $(DESTDIR)$(SYSCONFDIR)/rackd/rackd.conf

# make deb: rackd, rackctl (this machine's architecture) and
# rackd-clone-amd64 (all) into build/deb/, with their .changes, checked by
# lintian, info tags too (its overrides are in debian/*.lintian-overrides,
# each with its reason). RACKD_DEB_VERSION=V builds them as version V.
# make deb ARCH=arm64 (a Debian architecture name): rackd and rackctl
# cross-built for it, as dpkg-buildpackage -aarm64 -B would (the :arm64
# -dev packages of tools/deps.sh arm64), in build/arm64/ and into
# build/arm64/deb/; rackd-clone-amd64, architecture all, comes from the
# native make deb. The libraries whose ARCH packages cannot be installed
# next to the machine's own (FreeIPMI) are unpacked under
# build/arm64-sysroot/ (tools/cross-sysroot.sh) and found there through
# PKG_CONFIG_PATH; the build dependencies are checked without them and
# without nodejs and npm, which run on the build machine (nodejs is
# Multi-Arch: allowed: dpkg would want nodejs:arm64).
DEB_BUILD_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
ifeq ($(filter-out $(DEB_BUILD_ARCH),$(ARCH)),)
DEB_DIR   := $(abspath $(BUILD))/deb
DEB_DEPS  := deb
DEB_ENV   :=
DEB_RULES := debian/rules binary
DEB_CHECK := dpkg-checkbuilddeps
DEB_BUILD_OPT := -b
DEB_CLEAN :=
DEB_SYSROOT_CMD := true
else
DEB_DIR   := $(abspath $(BUILD))/$(ARCH)/deb
DEB_DEPS  := $(ARCH)
DEB_HOST_GNU_TYPE := $(shell dpkg-architecture -a$(ARCH) -qDEB_HOST_GNU_TYPE 2>/dev/null)
DEB_HOST_MULTIARCH := $(shell dpkg-architecture -a$(ARCH) -qDEB_HOST_MULTIARCH 2>/dev/null)
DEB_SYSROOT := $(abspath $(BUILD))/$(ARCH)-sysroot
DEB_SYSROOT_CMD := sh tools/cross-sysroot.sh $(ARCH) $(DEB_SYSROOT)
DEB_ENV   := env CC=$(DEB_HOST_GNU_TYPE)-gcc RACKD_BUILD=$(BUILD)/$(ARCH) \
             RACKD_SYSROOT=$(DEB_SYSROOT) \
             PKG_CONFIG_PATH=$(DEB_SYSROOT)/root/usr/lib/$(DEB_HOST_MULTIARCH)/pkgconfig \
             QEMU_SET_ENV=LD_LIBRARY_PATH=$(DEB_SYSROOT)/root/usr/lib/$(DEB_HOST_MULTIARCH) \
             DEB_BUILD_OPTIONS=nocheck DEB_BUILD_PROFILES=cross \
             dpkg-architecture -a$(ARCH) -f -c
DEB_RULES := debian/rules binary-arch
DEB_CHECK := sed -E '/^[[:space:]]+(libfreeipmi-dev|libipmiconsole-dev|nodejs|npm)([[:space:],]|$$)/d' \
             debian/control >$(DEB_SYSROOT)/control && \
             dpkg-checkbuilddeps -B $(DEB_SYSROOT)/control
DEB_BUILD_OPT := -B
# build/arm64 is the packages' alone: built afresh with their flags.
DEB_CLEAN := $(BUILD)/$(ARCH)
endif
deb:
	@sh tools/deps.sh $(DEB_DEPS)
	$(DEB_SYSROOT_CMD)
	$(DEB_ENV) sh -c "$(DEB_CHECK)"
	rm -rf $(DEB_DIR) $(DEB_CLEAN) && mkdir -p $(DEB_DIR)
	$(DEB_ENV) $(DEB_RULES) RACKD_DEB_DIR=$(DEB_DIR) \
	    $(if $(RACKD_DEB_VERSION),RACKD_DEB_VERSION=$(RACKD_DEB_VERSION))
	$(DEB_ENV) dpkg-genchanges $(DEB_BUILD_OPT) -u$(DEB_DIR) -O$(DEB_DIR)/rackd.changes \
	    $(if $(RACKD_DEB_VERSION),-DVersion=$(RACKD_DEB_VERSION)) >/dev/null
	$(DEB_ENV) debian/rules clean
	lintian --fail-on error,warning,info --display-info --info $(DEB_DIR)/rackd.changes

# make test-deb: the packages installed, started, reloaded, upgraded,
# removed and purged in a Debian 12 root (tests/deb/run.sh).
test-deb:
	@sh tools/deps.sh deb
	bash tests/deb/run.sh

# make test-arm64: the arm64 package installed and started by systemd on a
# Debian 12 arm64 board under qemu-system-aarch64 (tests/deb/arm64.sh).
# Not in make test: software emulation takes minutes.
test-arm64:
	@sh tools/deps.sh arm64-test
	bash tests/deb/arm64.sh

# RACKD_EXEC runs a cross-built rackd (qemu-aarch64-static for arm64).
$(BUILD)/rackd.conf: $(BUILD)/rackd tools/rackd-conf.sh
	RACKD_EXEC='$(RACKD_EXEC)' sh tools/rackd-conf.sh $(BUILD)/rackd >$@.tmp && mv $@.tmp $@

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
