#!/bin/bash
# An erase (overwrite) cancelled midway: the job fails as cancelled, the
# agent stops and says what the disk holds (zeros over its first part, the
# rest untouched), and the disk agrees; the job's events say it too:
# rackd's note at the cancel (the method, its last progress) and the
# agent's own last word, taken after the cancel for a bounded grace
# (tests/integration/erase_qemu.sh, its "cancel" case).
ERASE_CASES=cancel exec bash "$(dirname "$0")/erase_qemu.sh"
