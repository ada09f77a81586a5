#!/usr/bin/env python3
"""dhcp_renew.py ADDR SERVER MAC COUNT SECONDS: renews a DHCP lease in a
tight loop, as a client in the RENEWING state does (RFC 2131 4.3.2): a
DHCPREQUEST with ciaddr = ADDR, unicast from ADDR:68 to SERVER:67, and
waits for the server's DHCPACK (or DHCPNAK) on ADDR:68, at most 1 s. Stops
after COUNT requests or SECONDS, whichever comes first. The client id is
01+MAC, as busybox udhcpc sends it, so the server sees the same client.

Prints "acks naks timeouts seconds" on stdout.
"""
import os
import socket
import struct
import sys
import time


def request(xid, ciaddr, mac):
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0,
                      ciaddr, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                      mac + b"\0" * 10, b"", b"")
    opts = (b"\x63\x82\x53\x63"		# magic cookie
            + b"\x35\x01\x03"		# DHCPREQUEST
            + b"\x3d\x07\x01" + mac	# client id
            + b"\x37\x03\x01\x03\x06"	# subnet, router, DNS
            + b"\xff")
    return hdr + opts


def reply_type(pkt, xid):
    if len(pkt) < 240 or struct.unpack("!I", pkt[4:8])[0] != xid:
        return None
    i = 240
    while i + 1 < len(pkt) and pkt[i] != 255:
        if pkt[i] == 0:
            i += 1
            continue
        if pkt[i] == 53 and pkt[i + 1] == 1:
            return pkt[i + 2]
        i += 2 + pkt[i + 1]
    return None


def main():
    if len(sys.argv) != 6:
        sys.stderr.write(__doc__)
        return 2
    addr, server = sys.argv[1], sys.argv[2]
    mac = bytes.fromhex(sys.argv[3].replace(":", ""))
    count, seconds = int(sys.argv[4]), float(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 68))
    ciaddr = socket.inet_aton(addr)
    acks = naks = timeouts = 0
    xid = struct.unpack("!I", os.urandom(4))[0]
    start = time.monotonic()
    end = start + seconds
    for _ in range(count):
        now = time.monotonic()
        if now >= end:
            break
        xid = (xid + 1) & 0xffffffff
        s.sendto(request(xid, ciaddr, mac), (server, 67))
        deadline = min(now + 1.0, end + 1.0)
        kind = None
        while kind is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                pkt = s.recv(2048)
            except socket.timeout:
                break
            kind = reply_type(pkt, xid)
        if kind == 5:
            acks += 1
        elif kind == 6:
            naks += 1
        else:
            timeouts += 1
    print(acks, naks, timeouts, "%.3f" % (time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
