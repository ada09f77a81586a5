#!/bin/bash
# A UEFI server with the network first in its boot order, reimaged over
# IPMI with no hand on it: ipmi_reimage_qemu.sh with FIRMWARE=uefi (OVMF,
# boot_type efi, a BMC whose boot device rules the VM's boot order). The
# agent's reboot after done must reach the disk with no network boot in
# between: rackd sets the disk as the next boot device as soon as the
# clone environment reports, long before that reboot.
FIRMWARE=uefi NO_DISKLESS=1 exec bash "$(dirname "$0")/ipmi_reimage_qemu.sh"
