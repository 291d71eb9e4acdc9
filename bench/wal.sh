#!/bin/sh
#
# wal.sh -- the SQLite write-ahead log under steady load: EXECS (default
# 20000) executions of bench/seq5.yaml posted to one borad by CLIENTS
# (default 8) clients, while READERS (default 2) clients list executions
# and read them back, as consoles and scripts do.  The size of
# bora.db-wal is sampled every 50 ms.  Prints the database's size, the
# log's largest size and its size once the load is over, then after a
# restart.  Not a test: it prints figures.  Target: the log stays under
# 64 MB whatever the load.
#
# Environment: BORAD (default ./src/borad), EXECS, CLIENTS, READERS,
# KEEP=1 (keep the files).  Use an optimised build without sanitizers.
#

here=$(cd "$(dirname "$0")" && pwd)
BORAD=${BORAD:-./src/borad}
EXECS=${EXECS:-20000}
CLIENTS=${CLIENTS:-8}
READERS=${READERS:-2}

case $BORAD in /*) ;; *) BORAD=$(pwd)/$BORAD ;; esac
if [ ! -x "$BORAD" ]; then
	echo "bench: $BORAD is not executable (set BORAD)" >&2
	exit 1
fi
for t in python3 curl; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "bench: $t is needed" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-wal.XXXXXX") || exit 1
mkdir -p "$tmp/workflows" "$tmp/actions" "$tmp/lua"
cp "$here/seq5.yaml" "$tmp/workflows/"
pid=
bench_exit()
{
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	if [ -n "${KEEP:-}" ]; then
		echo "files kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap bench_exit EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
url=http://127.0.0.1:$port
db=$tmp/bora.db

# up: start borad and wait for it.
up()
{
	"$BORAD" -d --db "sqlite:$db" --listen "127.0.0.1:$port" \
	    --workflows "$tmp/workflows" --actions "$tmp/actions" \
	    --lua "$tmp/lua" >>"$tmp/borad.log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 200 ]; do
		curl -sf -o /dev/null "$url/readyz" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "bench: borad did not start" >&2
	tail "$tmp/borad.log" >&2
	exit 1
}

# down: SIGTERM and wait.
down()
{
	kill -TERM "$pid"
	wait "$pid"
	pid=
}

mb()
{
	awk -v b="$(stat -c %s "$1" 2>/dev/null || echo 0)" \
	    'BEGIN { printf "%.1f MB", b / 1048576 }'
}

up
echo "$EXECS executions of bench_seq5 from $CLIENTS clients, $READERS" \
    "readers, one borad on SQLite"
python3 - "$url" "$db-wal" "$EXECS" "$CLIENTS" "$READERS" <<'EOF'
import http.client, json, os, sys, threading, time

url, wal, count, clients, readers = sys.argv[1], sys.argv[2], \
    int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
host, port = url[len("http://"):].split(":")
lock = threading.Lock()
left = [count]
done = threading.Event()
peak = [0]
ids = []
errors = [0]

def conn():
    return http.client.HTTPConnection(host, int(port), timeout=30)

def poster():
    c = conn()
    body = json.dumps({"workflow_name": "bench_seq5"})
    while True:
        with lock:
            if left[0] == 0:
                return
            left[0] -= 1
        try:
            c.request("POST", "/v2/executions", body,
                {"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            if r.status == 201:
                with lock:
                    ids.append(json.loads(data)["id"])
            else:
                errors[0] += 1
        except (OSError, http.client.HTTPException):
            errors[0] += 1
            c = conn()

def reader():
    c = conn()
    i = 0
    while not done.is_set():
        i += 1
        with lock:
            eid = ids[-1] if ids else None
        path = "/v2/executions?limit=20&sort_keys=created_at" \
            "&sort_dirs=desc" if i % 2 or eid is None else \
            "/v2/executions/%s/tasks" % eid
        try:
            c.request("GET", path)
            c.getresponse().read()
        except (OSError, http.client.HTTPException):
            c = conn()

def sampler():
    while not done.is_set():
        try:
            peak[0] = max(peak[0], os.stat(wal).st_size)
        except OSError:
            pass
        time.sleep(0.05)

t0 = time.time()
ts = [threading.Thread(target=poster) for _ in range(clients)]
rs = [threading.Thread(target=reader) for _ in range(readers)]
sm = threading.Thread(target=sampler)
for t in ts + rs + [sm]:
    t.start()
for t in ts:
    t.join()
# Until every execution is final.
c = conn()
while True:
    c.request("GET", "/v2/executions?state=RUNNING&limit=1&fields=id")
    r = c.getresponse()
    body = json.loads(r.read())
    if not body.get("executions"):
        break
    time.sleep(0.2)
elapsed = time.time() - t0
done.set()
for t in rs + [sm]:
    t.join()
print("  %d posted in %.1f s (%d errors), all final" % (len(ids), elapsed,
    errors[0]))
print("  write-ahead log at its largest: %.1f MB" % (peak[0] / 1048576.0))
EOF
sleep 2
echo "  once idle (2 s): database $(mb "$db"), log $(mb "$db-wal")"
down
echo "  after SIGTERM: database $(mb "$db"), log $(mb "$db-wal")"
up
sleep 1
echo "  after a restart: database $(mb "$db"), log $(mb "$db-wal")"
down
echo "target: the log under 64 MB at its largest"
