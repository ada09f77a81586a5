#!/bin/bash
# Erase of a SATA disk (QEMU ahci + ide-hd) with method auto: the job's
# events say ATA secure erase was not used and why (QEMU's disk has no
# Security feature set), the discard that erased it, and the disk reads
# zeros (tests/integration/erase_qemu.sh, its "sata" case).
ERASE_CASES=sata exec bash "$(dirname "$0")/erase_qemu.sh"
