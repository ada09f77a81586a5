#!/bin/bash
# tests/integration/concurrency.sh — 200 concurrent keep-alive clients on one
# rackd, all answered: each client opens one connection, waits until all 200
# have had a first answer, then sends several requests over it (API reads, /healthz,
# /metrics, a chunk sent with sendfile, a ranged chunk). Every answer must be
# 200/206 with the right length, over the same connection. Run once with one
# HTTP thread and once with a pool. Then the connection limits: idle_timeout,
# max_connections, and at most EVENTS_CLIENTS_MAX event streams (503 past it).
# Loopback only; bounded in time.
source "$(dirname "$0")/../lib.sh"

[ -x "$RACKD" ] || { echo "build/rackd missing: run make"; exit 1; }
[ -x "$RACKCTL" ] || { echo "build/rackctl missing: run make"; exit 1; }

CLIENTS=200
ROUNDS=4

cat >"$TMP/clients.py" <<'EOF'
import http.client, sys, threading, time

host, port, token, chunk, size, clients, rounds = sys.argv[1:8]
port, size, clients, rounds = int(port), int(size), int(clients), int(rounds)
auth = {"Authorization": "Bearer " + token}
reqs = [
    ("GET", "/healthz", {}, 200, 3),
    ("GET", "/api/v1/nodes", auth, 200, None),
    ("GET", "/api/v1/nodes/usb1", auth, 200, None),
    ("GET", "/chunks/" + chunk, {}, 200, size),
    ("GET", "/chunks/" + chunk, {"Range": "bytes=0-99"}, 206, 100),
    ("GET", "/metrics", {}, 200, None),
]
barrier = threading.Barrier(clients, timeout=30)
lock = threading.Lock()
answers = 0
errors = []


def client(n):
    global answers
    conn = http.client.HTTPConnection(host, port, timeout=20)
    doing = "connect"
    try:
        conn.connect()
        sock = conn.sock
        # one answer each first, so that rackd holds all the connections
        # at once, then all wait for each other before the rest
        doing = "first /healthz"
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        if resp.status != 200 or resp.read() != b"ok\n":
            raise RuntimeError("first /healthz: %d" % resp.status)
        with lock:
            answers += 1
        doing = "barrier"
        barrier.wait()
        for r in range(rounds):
            for m, path, hdrs, want, length in reqs:
                doing = "round %d: %s %s %s" % (r, m, path, hdrs.get("Range", ""))
                conn.request(m, path, headers=hdrs)
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != want:
                    raise RuntimeError("%s %s: %d" % (m, path, resp.status))
                if length is not None and len(body) != length:
                    raise RuntimeError("%s %s: %d bytes, want %d"
                                       % (m, path, len(body), length))
                if resp.will_close or conn.sock is not sock:
                    raise RuntimeError("%s %s: connection not kept alive"
                                       % (m, path))
                with lock:
                    answers += 1
    except Exception as e:      # noqa: BLE001 -- report every failure
        with lock:
            errors.append("client %d, %s: %r" % (n, doing, e))
    finally:
        conn.close()


threads = [threading.Thread(target=client, args=(i,), daemon=True)
           for i in range(clients)]
t0 = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join(max(0.1, 60 - (time.monotonic() - t0)))
alive = sum(t.is_alive() for t in threads)
want = clients * (1 + rounds * len(reqs))
print("answers %d of %d in %.1f s, %d errors, %d clients stuck"
      % (answers, want, time.monotonic() - t0, len(errors), alive))
for e in errors[:10]:
    print(e)
sys.exit(0 if answers == want and not errors and alive == 0 else 1)
EOF

{ head -c 200000 /dev/urandom; } >"$TMP/disk.img"
run_clients() {	# WHAT
	local out
	if out=$(timeout 90 python3 "$TMP/clients.py" 127.0.0.1 "$PORT" "$TOKEN" "$HASH" "$SIZE" \
		"$CLIENTS" "$ROUNDS" 2>&1); then
		ok "$1: $out"
	else
		fail "$1: $out"
	fi
	curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$URL/healthz" | grep -q 200 &&
		ok "$1: rackd answers afterwards" || fail "$1: rackd does not answer afterwards"
}

for threads in 1 4; do
	STATE=$TMP/state$threads
	PORT=$(free_port)
	rackd_start --slots usb1,usb2 --http-threads "$threads"
	"$RACKCTL" image import "$TMP/disk.img" --name test:1 --store "$STATE/store" --chunk-size 64K -q \
		>/dev/null || fail "rackctl image import"
	kill -HUP "$RACKD_PID"
	HASH=$(jq -r '.chunks[0].hash' "$STATE/store/manifests/test/1.json")
	SIZE=$(stat -c %s "$STATE/store/chunks/${HASH:0:2}/$HASH")
	run_clients "$CLIENTS keep-alive clients, http_threads=$threads"
	for ((i = 0; i < 50; i++)); do	# counted when each reply completes
		n=$(curl -s --max-time 5 "$URL/metrics" |
			awk '$1 == "rackd_http_requests_total{route=\"chunk\",status=\"206\"}" { print $2 }')
		[ "$n" = "$((CLIENTS * ROUNDS))" ] && break
		sleep 0.1
	done
	check_eq "$n" "$((CLIENTS * ROUNDS))" "http_threads=$threads: every ranged request counted"
	rackd_stop || fail "rackd did not stop"
done
# ---- limits: idle timeout, most connections, most event streams --------
cat >"$TMP/limits.py" <<'EOF'
import socket, sys, time

port, what = int(sys.argv[1]), sys.argv[2]


def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def ask(s, timeout=5):
    """One GET /healthz; True if answered 200 within timeout."""
    s.settimeout(timeout)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while b"\r\n\r\nok\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return False
            data += chunk
        return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


if what == "idle":              # rackd --idle-timeout 1
    s = conn()
    if not ask(s):
        sys.exit("no first answer")
    t0 = time.monotonic()
    s.settimeout(10)
    try:
        closed = s.recv(1) == b""
    except OSError:
        closed = True
    took = time.monotonic() - t0
    print("idle connection closed after %.1f s" % took)
    sys.exit(0 if closed and 0.5 <= took <= 4 else 1)

if what == "max":               # rackd --max-connections 4
    held = [conn() for _ in range(4)]
    if not all(ask(s) for s in held):
        sys.exit("the first 4 connections were not all answered")
    extra = conn()
    answered = ask(extra, timeout=2)
    print("5th connection answered while 4 are open: %s" % answered)
    for s in held:
        s.close()
    extra.close()
    time.sleep(0.5)
    again = ask(conn())
    print("a new connection after they closed: %s" % again)
    sys.exit(0 if not answered and again else 1)

if what == "events":            # EVENTS_CLIENTS_MAX (128) streams at most
    token = sys.argv[3]
    head = ("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\n\r\n" % token).encode()

    def stream():
        s = conn()
        s.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return s, data.split(b" ", 2)[1] if data.startswith(b"HTTP/") else b"?"

    def event():                # any change: a node's label
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("PATCH", "/api/v1/nodes/usb1", body='{"label":"x%d"}'
                  % time.monotonic_ns(), headers={"Authorization":
                                                  "Bearer " + token})
        c.getresponse().read()
        c.close()

    import http.client
    streams = [stream() for _ in range(128)]
    codes = set(code for _, code in streams)
    s129, code129 = stream()
    print("128 streams: %s; the 129th: %s" % (sorted(codes), code129))
    for s, _ in streams + [(s129, None)]:
        s.close()
    freed = False
    for i in range(5):          # closed streams go at their next write
        event()
        time.sleep(0.3)
        s, code = stream()
        s.close()
        if code == b"200":
            freed = True
            break
    print("a stream again after the others closed: %s" % freed)
    sys.exit(0 if codes == {b"200"} and code129 == b"503" and freed else 1)
EOF
STATE=$TMP/state-idle
PORT=$(free_port)
rackd_start --idle-timeout 1
if out=$(timeout 30 python3 "$TMP/limits.py" "$PORT" idle 2>&1); then ok "idle_timeout: $out"; else fail "idle_timeout: $out"; fi
rackd_stop || fail "rackd did not stop"
STATE=$TMP/state-max
PORT=$(free_port)
rackd_start --max-connections 4
if out=$(timeout 30 python3 "$TMP/limits.py" "$PORT" max 2>&1); then ok "max_connections: $out"; else fail "max_connections: $out"; fi
rackd_stop || fail "rackd did not stop"
STATE=$TMP/state-events
PORT=$(free_port)
rackd_start --slots usb1
if out=$(timeout 60 python3 "$TMP/limits.py" "$PORT" events "$TOKEN" 2>&1); then ok "event streams: $out"
else fail "event streams: $out"; fi
rackd_stop || fail "rackd did not stop"
finish
