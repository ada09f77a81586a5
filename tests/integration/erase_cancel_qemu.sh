#!/bin/bash
# An erase (overwrite) cancelled midway: the job fails as cancelled, the
# agent stops and says what the disk holds (zeros over its first part, the
# rest untouched), and the disk agrees (tests/integration/erase_qemu.sh,
# its "cancel" case).
ERASE_CASES=cancel exec bash "$(dirname "$0")/erase_qemu.sh"
