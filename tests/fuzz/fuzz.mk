# tests/fuzz/fuzz.mk — the sanitizer builds, included by the Makefile.
#
# make asan: every program and unit test built with AddressSanitizer and
# UBSan into build/asan, then the unit tests and the fast integration
# tests run on that build (tests/sanitize.sh collects the reports of every
# process and fails the test on any; tests/sanitize_selftest.sh first shows
# that it does).
#
# make fuzz: one libFuzzer driver per parser of hostile input
# (tests/fuzz/fuzz_<folder>_<file>.c), each linked with the real library
# of its folder (rackctl: its files but main) built with clang's fuzzer instrumentation into build/fuzz;
# each runs FUZZ_TIME seconds from its seed corpus (tests/fuzz/corpus/)
# and a crash fails the target (tests/fuzz/run.sh).

SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer
# -O2: gcc's -Wformat-truncation (with -Werror) judges as the normal build.
ASAN_CFLAGS := -O2 -g $(SAN_FLAGS)
# The integration tests that need no QEMU or browser: each takes 1-60 s
# under the sanitizers; about 9 minutes in all with the unit tests.
ASAN_TESTS  := api api_jobs api_chunks session docs push push_patch \
               push_faults push_sign push_delete push_rack rootfs_import \
               agent agent_restart diskless links lifecycle concurrency \
               faults gadget power_redfish pull_cache publish_resume \
               capture capture_faults power_command power_wol power_relay \
               console publish_s3 pull_restart pull_subscribe secureboot_tftp

FUZZ_CC     := clang
# clang warns of two things gcc (the project's compiler) does not: casts
# to a stricter alignment on x86 and vfprintf in the log wrappers.
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link $(SAN_FLAGS) \
               -Wno-cast-align -Wno-format-nonliteral
FUZZ_TIME   ?= 60
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES  := $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_BIN    := $(FUZZ_NAMES:%=$(BUILD)/bin/%)
FUZZ_LINK    = $(CC) $(CPPFLAGS) $(ALLCFLAGS) -fsanitize=fuzzer $(FUZZ_DEF) \
               -o $@ $(filter %.c %.o %.a,$^)

.PHONY: asan asan-build fuzz fuzz-build fuzz-drivers fuzz-selftest

asan-build:
	@sh tools/deps.sh fuzz
	$(MAKE) BUILD=$(BUILD)/asan CFLAGS="$(ASAN_CFLAGS)" all \
	    $(UNIT_BIN:$(BUILD)/%=$(BUILD)/asan/%)

asan: asan-build
	@sh tests/sanitize_selftest.sh $(CC) $(ASAN_CFLAGS)
	@RACKD_BUILD=$(BUILD)/asan TEST_WRAP="sh tests/sanitize.sh" \
	    TESTS="unit/ $(ASAN_TESTS:%=integration/%/)" \
	    sh tests/run-all.sh $(UNIT_BIN:$(BUILD)/%=$(BUILD)/asan/%)

fuzz-build:
	@sh tools/deps.sh fuzz
	$(MAKE) BUILD=$(BUILD)/fuzz CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" \
	    fuzz-drivers

# The harness's own test runs first: it takes a few seconds.
fuzz: fuzz-selftest
	@FUZZ_TIME=$(FUZZ_TIME) sh tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_NAMES)

# The harness's own test: a driver with a check that an input breaks must
# make tests/fuzz/run.sh fail and keep that input (tests/fuzz/selftest.sh).
fuzz-selftest: fuzz-build
	$(MAKE) BUILD=$(BUILD)/fuzz CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" \
	    $(BUILD)/fuzz/selftest/bin/fuzz_images_manifest
	@sh tests/fuzz/selftest.sh $(BUILD)/fuzz

# Inside the sub-make (BUILD is build/fuzz, CC is clang).
fuzz-drivers: $(FUZZ_BIN)

$(BUILD)/bin/fuzz_images_%: tests/fuzz/fuzz_images_%.c tests/fuzz/fuzz.h \
		$(LIBIMG)
	@mkdir -p $(dir $@)
	$(FUZZ_LINK) $(LIBS_IMG)

# rack-agent's FAT parser: a file of pxe/agent/ on its own (no libraries).
$(BUILD)/bin/fuzz_pxe_capture_fat: tests/fuzz/fuzz_pxe_capture_fat.c \
		tests/fuzz/fuzz.h $(BUILD)/obj/pxe/agent/capture_fat.o
	@mkdir -p $(dir $@)
	$(FUZZ_LINK)

$(BUILD)/bin/fuzz_pxe_%: tests/fuzz/fuzz_pxe_%.c tests/fuzz/fuzz.h \
		$(LIBPXE) $(LIBIMG)
	@mkdir -p $(dir $@)
	$(FUZZ_LINK) $(LIBS_AGENT) $(LIBS_IMG)

$(BUILD)/bin/fuzz_appliance_%: tests/fuzz/fuzz_appliance_%.c \
		tests/fuzz/fuzz.h $(LIBAPPL) $(LIBIMG) $(LIBDB)
	@mkdir -p $(dir $@)
	$(FUZZ_LINK) $(LIBS_APPL) $(LIBS_IMG) $(LIBS_DB)

$(BUILD)/bin/fuzz_rackctl_%: tests/fuzz/fuzz_rackctl_%.c tests/fuzz/fuzz.h \
		$(filter-out %/main.o,$(CTL_OBJ)) $(LIBIMG)
	@mkdir -p $(dir $@)
	$(FUZZ_LINK) $(LIBS_CTL) $(LIBS_IMG)

$(BUILD)/selftest/bin/fuzz_images_manifest: FUZZ_DEF := -DFUZZ_SELFTEST
$(BUILD)/selftest/bin/fuzz_images_manifest: tests/fuzz/fuzz_images_manifest.c \
		tests/fuzz/fuzz.h $(LIBIMG)
	@mkdir -p $(dir $@)
	$(FUZZ_LINK) $(LIBS_IMG)
