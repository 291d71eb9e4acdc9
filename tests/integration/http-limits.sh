#!/bin/sh
#
# http-limits.sh -- a real borad under oversized requests and floods of
# slow connections:
#  - 1,000 query parameters, a long request target, too many or too big
#    header fields get a prompt 414 or 431 with a JSON faultstring, and
#    the daemon keeps answering;
#  - a request whose headers or body dribble in is cut off at
#    http-request-timeout, however steadily it dribbles;
#  - while one address floods more slow connections than its limit, and
#    keeps reconnecting, /healthz answers 200 to another client and to
#    the flooding address itself (the reserve), other routes answer that
#    address 503 with the reason, and another client is served;
#  - with the server at http-max-connections, /healthz still answers.

. "$(dirname "$0")/lib.sh"

cp "$DATA/hello.yaml" "$TMP/workflows/"

# One HTTP exchange over a raw socket.  raw NAME PYTHON-BYTES-EXPR
# [SOURCE-ADDRESS]: the request is the value of the expression; prints
# "STATUS MILLISECONDS CONTENT-TYPE" and leaves the body in $TMP/body.
cat >"$TMP/raw.py" <<'EOF'
import socket, sys, time
port, expr, src, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
req = eval(expr)
s = socket.socket()
s.bind((src, 0))
s.settimeout(20)
s.connect(("127.0.0.1", port))
t = time.monotonic()
buf = b""
try:
    s.sendall(req)
except OSError:
    pass
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
        head, sep, body = buf.partition(b"\r\n\r\n")
        if sep:
            cl = [l for l in head.split(b"\r\n")
                  if l.lower().startswith(b"content-length:")]
            if cl and len(body) >= int(cl[0].split(b":")[1]):
                break
except OSError:
    pass
ms = int((time.monotonic() - t) * 1000)
head, _, body = buf.partition(b"\r\n\r\n")
lines = head.split(b"\r\n")
status = lines[0].split(b" ")[1].decode() if len(lines[0].split(b" ")) > 1 else "none"
ctype = "none"
for l in lines[1:]:
    if l.lower().startswith(b"content-type:"):
        ctype = l.split(b":", 1)[1].strip().decode()
open(out, "wb").write(body)
print(status, ms, ctype)
EOF

raw()
{
	RAW=$(python3 "$TMP/raw.py" "$PORT" "$2" "${3:-127.0.0.1}" \
	    "$TMP/body")
	set -- $RAW
	STATUS=$1
	RAW_MS=$2
	RAW_TYPE=$3
}

# expect_fast NAME CODE JQ: like expect, and answered within 2 s.
expect_fast()
{
	if [ "$RAW_MS" -gt 2000 ]; then
		not_ok "$1" "answered after $RAW_MS ms"
		return
	fi
	expect "$1 (in $RAW_MS ms)" "$2" "$3"
}

borad_start --http-max-client-connections 8 --http-reserve-connections 2 \
    --http-request-timeout 3s || { not_ok "borad starts"; finish; }
ok "borad starts"

# ---- oversized requests ------------------------------------------------
# The default http-max-header of 64k allows a 16k request target with
# 256 query parameters, and 16k of headers in 256 fields.
GET='lambda t, h=b"": b"GET " + t + b" HTTP/1.1\r\nHost: x\r\n" + h + b"\r\n"'

raw 1000-args "($GET)(b\"/v2/executions?\" + b\"&\".join(b\"p%d=v%d\" % (i, i) for i in range(1000)))"
expect_fast "1,000 query parameters get 414" 414 \
    '.faultstring == "Query string of 1000 parameters is over the limit of 256"'
api GET /healthz
expect "then /healthz answers" 200

# The same through curl, which waits for the answer as a client does.
q=$(python3 -c 'print("&".join("p%d=v%d" % (i, i) for i in range(1000)))')
R=$(curl -s -o "$TMP/body" -m 20 -w '%{http_code} %{time_total}' \
    "$URL/v2/executions?$q")
STATUS=${R% *}
RAW_MS=$(echo "${R#* }" | awk '{ printf "%d", $1 * 1000 }')
expect_fast "curl with 1,000 query parameters gets 414" 414 \
    '.faultstring | test("1000 parameters")'

raw 256-args "($GET)(b\"/v2/workflows?\" + b\"&\".join(b\"limit=%d\" % (i + 1) for i in range(256)))"
expect_fast "256 query parameters are within the limit" 200 '.workflows'
raw empty-args "($GET)(b\"/healthz?\" + b\"&\" * 8000)"
expect_fast "8,001 empty query parameters get 414" 414 \
    '.faultstring | test("8001 parameters")'
raw long-path "($GET)(b\"/\" + b\"a\" * 20000)"
expect_fast "a 20,001-byte request target gets 414" 414 \
    '.faultstring == "Request-URI of 20001 bytes is longer than the limit of 16384 bytes"'
raw long-line "($GET)(b\"/\" + b\"a\" * 60000)"
expect_fast "a 60,001-byte request target gets 414" 414 \
    '.faultstring | test("60001 bytes")'
raw many-fields "($GET)(b\"/healthz\", b\"\".join(b\"X-F%d: v\r\n\" % i for i in range(300)))"
expect_fast "301 header fields get 431" 431 \
    '.faultstring | test("in 301 fields are over the limit of 16384 bytes and 256 fields")'
raw big-field "($GET)(b\"/healthz\", b\"X-Big: \" + b\"a\" * 40000 + b\"\r\n\")"
expect_fast "a 40,000-byte header field gets 431" 431 \
    '.faultstring | test("40018 bytes in 2 fields")'
check "414 and 431 answers are JSON" test "$RAW_TYPE" = application/json
# Beyond the connection's memory libmicrohttpd answers by itself, at once.
raw huge-line "($GET)(b\"/\" + b\"a\" * 100000)"
check "a 100,001-byte request target gets 414 at once ($RAW_MS ms)" \
    test "$STATUS" = 414 -a "$RAW_MS" -lt 2000
raw huge-fields "($GET)(b\"/healthz\", b\"a:\r\n\" * 5000)"
check "5,000 header fields get 431 at once ($RAW_MS ms)" \
    test "$STATUS" = 431 -a "$RAW_MS" -lt 2000
raw cookies "($GET)(b\"/healthz\", b\"Cookie: \" + b\"a;\" * 8000 + b\"\r\n\")"
check "8,000 cookies get 431 at once ($RAW_MS ms)" \
    test "$STATUS" = 431 -a "$RAW_MS" -lt 2000
api GET /healthz
expect "after all that /healthz answers" 200
api GET /metrics
check "and /metrics counts the 414 answers" \
    grep -q 'code="414"' "$TMP/body"

# ---- slow requests -----------------------------------------------------
# A header line, or a body byte, every half second: libmicrohttpd's idle
# timeout never fires, http-request-timeout (3 s) does.
cat >"$TMP/dribble.py" <<'EOF'
import socket, sys, time
port, what = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
t = time.monotonic()
if what == "headers":
    s.sendall(b"GET /v2/workflows HTTP/1.1\r\nHost: x\r\n")
else:
    s.sendall(b"POST /v2/executions HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
s.settimeout(0.5)
i = 0
while time.monotonic() - t < 20:
    try:
        if s.recv(4096) == b"":
            break
    except socket.timeout:
        pass
    except OSError:
        break
    try:
        s.sendall(b"X-Slow-%d: %d\r\n" % (i, i) if what == "headers" else b" ")
    except OSError:
        break
    i += 1
print(int((time.monotonic() - t) * 1000))
EOF
ms=$(python3 "$TMP/dribble.py" "$PORT" headers)
check "headers dribbled in are cut off at http-request-timeout ($ms ms)" \
    test "$ms" -ge 2500 -a "$ms" -lt 6000
ms=$(python3 "$TMP/dribble.py" "$PORT" body)
check "a body dribbled in is cut off at http-request-timeout ($ms ms)" \
    test "$ms" -ge 2500 -a "$ms" -lt 6000

# ---- a flood of slow connections ---------------------------------------
# flood.py PORT SOURCE N SECONDS: N connections from SOURCE, each sending
# a request line at once and then a header line a second, reconnecting
# when the server closes one; prints how many it opened and the longest
# time one of them was kept.
cat >"$TMP/flood.py" <<'EOF'
import socket, sys, time
port, src, n, secs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
conns, opened, longest = {}, 0, 0.0
def connect(i):
    global opened
    s = socket.socket()
    s.setblocking(False)
    s.bind((src, 0))
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    conns[i] = [s, 0, time.monotonic()]
    opened += 1
def lost(i):
    global longest
    s, k, t = conns.pop(i)
    longest = max(longest, time.monotonic() - t)
    s.close()
    connect(i)
for i in range(n):
    connect(i)
start = last = time.monotonic()
while time.monotonic() - start < secs:
    tick = time.monotonic() - last >= 1
    if tick:
        last = time.monotonic()
    for i in list(conns):
        s, k, t = conns[i]
        try:
            if s.recv(4096) == b"":
                lost(i)
                continue
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            lost(i)
            continue
        if tick or k == 0:
            try:
                s.send(b"GET /v2/workflows HTTP/1.1\r\nHost: x\r\n" if k == 0
                       else b"X-Slow-%d: %d\r\n" % (k, k))
                conns[i][1] += 1
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                lost(i)
    time.sleep(0.05)
print(opened, int(longest * 1000))
EOF

# call NAME CODE SOURCE PATH [JQ]: a GET from SOURCE answered CODE
# within 2 s.
call()
{
	STATUS=$(curl -s -o "$TMP/body" -m 2 --interface "$3" \
	    -w '%{http_code}' "$URL$4")
	expect "$1" "$2" "${5:-}"
}

# refused NAME SOURCE PATH JQ: a GET from SOURCE answered 503 (the flood
# may have let a slot go for a moment: five tries).
refused()
{
	_t=0
	while [ $_t -lt 5 ]; do
		STATUS=$(curl -s -o "$TMP/body" -m 2 --interface "$2" \
		    -w '%{http_code}' "$URL$3")
		[ "$STATUS" = 503 ] && break
		_t=$((_t + 1))
		sleep 0.1
	done
	expect "$1" 503 "$4"
}

python3 "$TMP/flood.py" "$PORT" 127.0.0.1 40 9 >"$TMP/flood.out" &
FLOOD=$!
sleep 1.5
for round in 1 2 3; do
	call "flood, round $round: /healthz from another client" 200 \
	    127.0.0.2 /healthz
	call "flood, round $round: /v2/workflows from another client" 200 \
	    127.0.0.2 /v2/workflows
	call "flood, round $round: /healthz from the flooding address" 200 \
	    127.0.0.1 /healthz
	call "flood, round $round: /readyz from the flooding address" 200 \
	    127.0.0.1 /readyz
	refused "flood, round $round: other routes from it get 503" \
	    127.0.0.1 /v2/workflows \
	    '.faultstring | test("127.0.0.1 holds 8 connections")'
	sleep 1.5
done
wait $FLOOD
set -- $(cat "$TMP/flood.out")
check "the flood opened more than 40 connections ($1)" test "$1" -gt 40
check "none of them was kept past the request timeout ($2 ms)" \
    test "$2" -lt 5000
check "the log tells of the cut-off connections" \
    grep -q 'no whole request within 3000 ms (http-request-timeout)' \
    "$TMP/borad.log"
api GET /healthz
expect "after the flood /healthz answers" 200
borad_stop
check "borad exits with status 0" test $? -eq 0

# ---- the server at its limit -------------------------------------------
borad_start --http-max-connections 6 --http-max-client-connections 0 \
    --http-reserve-connections 2 --http-request-timeout 3s ||
    { not_ok "borad starts again"; finish; }
python3 "$TMP/flood.py" "$PORT" 127.0.0.3 5 5 >/dev/null &
F1=$!
python3 "$TMP/flood.py" "$PORT" 127.0.0.4 5 5 >/dev/null &
F2=$!
sleep 1.5
call "server full: /healthz from a third client" 200 127.0.0.2 /healthz
refused "server full: other routes get 503" 127.0.0.2 /v2/workflows \
    '.faultstring | test("the server holds 6 connections")'
wait $F1 $F2
call "the flood over, other routes are served again" 200 127.0.0.2 \
    /v2/workflows

finish
