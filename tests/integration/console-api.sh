#!/bin/sh
#
# console-api.sh -- what the console needs from a real borad, driven
# with curl: the static files and their headers (Content-Type, ETag and
# 304, Content-Security-Policy, nosniff), GET / for browsers and for
# API clients, the task graph of a workflow and of an execution, the
# event stream (events, Last-Event-ID, filters, bad input), many open
# streams holding no thread, and the token on all of it.

. "$(dirname "$0")/lib.sh"

cp "$SRCDIR"/tests/data/console/console.yaml "$SRCDIR"/tests/data/console/live.yaml \
    "$TMP/workflows/"
borad_start || { not_ok "borad starts"; finish; }
ok "borad starts"

# hdr NAME: the value of header NAME in the last answer.
hdr()
{
	tr -d '\r' <"$TMP/headers" | sed -n "s/^$1: //Ip" | head -1
}

# ---- static files ------------------------------------------------------
api GET / -H 'Accept: text/html,application/xhtml+xml,*/*;q=0.8'
if [ "$STATUS" = 200 ] && grep -q '<script type="module" src="/console/js/app.js">' \
    "$TMP/body"; then
	ok "GET / for a browser is the console page"
else
	not_ok "GET / for a browser is the console page" "status $STATUS"
fi
check "page: text/html" test "$(hdr Content-Type)" = "text/html; charset=utf-8"
csp=$(hdr Content-Security-Policy)
check "page: CSP allows scripts from this origin only" \
    sh -c "echo \"$csp\" | grep -q \"script-src 'self';\""
check "page: CSP allows no inline style" \
    sh -c "echo \"$csp\" | grep -q \"style-src 'self';\" && ! echo \"$csp\" | grep -q unsafe"
check "page: CSP: default-src 'none', no framing" \
    sh -c "echo \"$csp\" | grep -q \"default-src 'none'\" && echo \"$csp\" | grep -q \"frame-ancestors 'none'\""
check "page: X-Content-Type-Options: nosniff" test "$(hdr X-Content-Type-Options)" = nosniff
check "page: revalidated (Cache-Control: no-cache)" test "$(hdr Cache-Control)" = no-cache
etag=$(hdr ETag)
check "page: an ETag" test -n "$etag"
check "page: no inline script" sh -c "! grep -q '<script>' '$TMP/body' && \
    ! grep -qi ' on[a-z]*=' '$TMP/body' && ! grep -q 'style=' '$TMP/body'"
rm -f "$TMP/body"
api GET / -H 'Accept: text/html' -H "If-None-Match: $etag"
check "If-None-Match with the ETag: 304" test "$STATUS" = 304
check "304 has no body" test ! -s "$TMP/body"
check "304 keeps the ETag" test "$(hdr ETag)" = "$etag"
api GET /
expect "GET / for an API client still lists versions" 200 '.versions[0].id == "v2.0"'
api GET /console/js/app.js
check "JavaScript module: 200" test "$STATUS" = 200
check "JavaScript module: text/javascript" \
    test "$(hdr Content-Type)" = "text/javascript; charset=utf-8"
check "JavaScript module: nosniff" test "$(hdr X-Content-Type-Options)" = nosniff
check "JavaScript module: the file's bytes" cmp "$TMP/body" "$SRCDIR/src/console/js/app.js"
api GET /console/css/console.css
check "stylesheet: text/css" test "$(hdr Content-Type)" = "text/css; charset=utf-8"
api GET /console/js/views/execution.js
check "a view module (three segments)" test "$STATUS" = 200
api GET /console/js/nothing.js
expect "an unknown console file is 404" 404 '.faultstring | test("No such console file")'
api GET /console/../api.c
check "no way out of the console's files" test "$STATUS" = 404
for f in $(cd "$SRCDIR/src/console" && ls js/*.js js/views/*.js); do
	if grep -q '\.innerHTML\|[^a-z]eval(\|new Function' "$SRCDIR/src/console/$f"; then
		not_ok "$f builds the page without innerHTML or eval"
	fi
done
ok "console modules use no innerHTML, eval or new Function"

# ---- graphs ------------------------------------------------------------
api GET /v2/workflows/console.flow/graph
expect "workflow graph" 200 '.name == "console.flow" and .type == "direct"
    and (.nodes | length) == 8 and .definition.version == 1'
expect "graph: every task, start marked" 200 \
    '([.nodes[] | select(.kind == "task") | .id] | sort) ==
     ["check_a","check_b","child","decide","fan","skipped","start"]
     and ([.nodes[] | select(.start) | .id] == ["start"])'
expect "graph: with-items, retry, join, sub-workflow" 200 '
    (.nodes[] | select(.id == "fan") | .with_items == ["n in <% _.numbers %>"]
	and .concurrency == 2) and
    (.nodes[] | select(.id == "check_b") | .retry.count == 2) and
    (.nodes[] | select(.id == "decide") | .join == "all") and
    (.nodes[] | select(.id == "child") | .type == "workflow" and .workflow == "leaf")'
expect "graph: edge kinds and condition labels" 200 '
    ([.edges[] | "\(.from)>\(.to):\(.kind)"] | index("start>check_a:success") != null) and
    ([.edges[] | "\(.from)>\(.to):\(.kind)"] | index("check_b>decide:error") != null) and
    (.edges[] | select(.to == "fan") | .kind == "condition" and .on == "success"
	and .label == "<% _.host ~= nil %>")'
expect "graph: an engine command is a node of its own" 200 '
    (.nodes[] | select(.kind == "command") | .name) == "fail" and
    (.edges[] | select(.from == "skipped") | .kind == "complete")'
api GET /v2/workflows/no_such_wf/graph
expect "graph of an unknown workflow is 404" 404 '.faultstring | test("not found")'

api_json POST /v2/executions '{"workflow_name": "console.flow"}'
expect "start console.flow" 201
ex=$(jb .id)
check "console.flow succeeds" wait_state "$ex" SUCCESS
api GET "/v2/executions/$ex/graph"
expect "execution graph: the definition and the execution" 200 \
    ".execution.id == \"$ex\" and .execution.state == \"SUCCESS\" and
     (.nodes | length) == 8"
expect "execution graph: task states; an unreached task has none" 200 '
    .tasks.start.state == "SUCCESS" and .tasks.check_b.state == "ERROR" and
    .tasks.check_b.retry_no == 2 and .tasks.skipped == null'
expect "execution graph: the with-items counter" 200 '
    .tasks.fan.items == {"total": 6, "done": 6, "failed": 0, "running": 0,
	"attempt": 0} and .tasks.fan.items_total == 6'
expect "execution graph: the sub-workflow execution" 200 '
    (.tasks.child.executions | length) == 1 and
    .tasks.child.executions[0].workflow_name == "console.leaf"'
child=$(jb '.tasks.child.executions[0].id')
api GET "/v2/executions/$child/graph"
expect "a sub-workflow execution has its graph" 200 \
    '.name == "console.leaf" and .tasks.hello.state == "SUCCESS"'
api GET /v2/executions/00000000-0000-4000-8000-000000000000/graph
expect "graph of an unknown execution is 404" 404

# ---- event stream ------------------------------------------------------
api GET /v2/stream?execution_id=nope
expect "stream: a bad execution_id is 400" 400 '.faultstring | test("UUID")'
id=$(python3 -c 'import uuid; print(uuid.uuid4())')
curl -sN -D "$TMP/sse.h" --max-time 6 "$URL/v2/stream?execution_id=$id" \
    >"$TMP/sse" 2>/dev/null &
sse=$!
curl -sN --max-time 6 "$URL/v2/stream" >"$TMP/sse-all" 2>/dev/null &
sse_all=$!
sleep 0.5
api_json POST /v2/executions "{\"id\": \"$id\", \"workflow_name\": \"live\",
    \"input\": {\"seconds\": 0.3}}"
expect "start live with a known id" 201
check "live succeeds" wait_state "$id" SUCCESS
sleep 0.5
kill "$sse" "$sse_all" 2>/dev/null
wait "$sse" "$sse_all" 2>/dev/null
check "stream: text/event-stream" grep -qi '^Content-Type: text/event-stream' "$TMP/sse.h"
check "stream: not cached" grep -qi '^Cache-Control: no-store' "$TMP/sse.h"
check "stream: hello first" sh -c "head -3 '$TMP/sse' | grep -q 'event: hello'"
check "stream: the task went RUNNING then SUCCESS" python3 - "$TMP/sse" <<'EOF'
import json, sys
evs, ev = [], {}
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    if not line:
        if ev: evs.append(ev)
        ev = {}
    elif ':' in line and not line.startswith(':'):
        k, v = line.split(':', 1)
        ev[k] = v.lstrip(' ')
tasks = [(e['event'], json.loads(e['data'])) for e in evs if e.get('event') in ('task', 'execution')]
states = [(d.get('name'), d['state']) for k, d in tasks if k == 'task']
assert ('wait_here', 'RUNNING') in states and ('wait_here', 'SUCCESS') in states, states
assert states.index(('wait_here', 'RUNNING')) < states.index(('wait_here', 'SUCCESS'))
assert ('after', 'SUCCESS') in states, states
assert any(k == 'execution' and d['state'] == 'SUCCESS' for k, d in tasks)
ids = [int(e['id']) for e in evs if 'id' in e]
assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
EOF
check "stream: the unfiltered stream has executions, not tasks" sh -c \
    "grep -q 'event: execution' '$TMP/sse-all' && ! grep -q 'event: task' '$TMP/sse-all'"
first=$(sed -n 's/^id: //p' "$TMP/sse" | head -1)
curl -sN --max-time 1 -H "Last-Event-ID: $first" \
    "$URL/v2/stream?execution_id=$id" >"$TMP/sse-again" 2>/dev/null
check "stream: Last-Event-ID replays what came after it" sh -c \
    "grep -q 'event: execution' '$TMP/sse-again' && ! grep -q '^id: $first\$' '$TMP/sse-again'"

curl -sN --max-time 1 -H "Last-Event-ID: 999999" \
    "$URL/v2/stream?execution_id=$id" >"$TMP/sse-old" 2>/dev/null
check "stream: an id from before a restart gets a reset" \
    grep -q 'event: reset' "$TMP/sse-old"

# Many open streams: each waits as a suspended connection, so the
# daemon's threads do not grow with them and the API still answers.
threads=$(ps -o nlwp= -p "$BORAD_PID" | tr -d ' ')
pids=
i=0
while [ $i -lt 100 ]; do
	curl -sN --max-time 20 "$URL/v2/stream" >/dev/null 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
sleep 2
threads2=$(ps -o nlwp= -p "$BORAD_PID" | tr -d ' ')
check "100 open streams add no thread ($threads -> $threads2)" test "$threads2" -le "$threads"
cpu1=$(awk '{print $14 + $15}' "/proc/$BORAD_PID/stat")
sleep 2
cpu2=$(awk '{print $14 + $15}' "/proc/$BORAD_PID/stat")
check "100 idle streams cost no CPU ($((cpu2 - cpu1)) ticks in 2 s)" \
    test $((cpu2 - cpu1)) -le 20
api_json POST /v2/executions '{"workflow_name": "live", "input": {"seconds": 0}}'
expect "the API answers with 100 streams open" 201
kill $pids 2>/dev/null
wait $pids 2>/dev/null

# ---- the token -----------------------------------------------------------
borad_stop
borad_start --api-token s3cret || { not_ok "borad starts with a token"; finish; }
api GET / -H 'Accept: text/html'
check "with a token: the page is 401 without it" test "$STATUS" = 401
check "401 says Bearer" sh -c "tr -d '\r' <'$TMP/headers' | grep -qi '^WWW-Authenticate: Bearer'"
check "401 carries the page, which asks for the token" \
    grep -q 'src="/console/js/app.js"' "$TMP/body"
api GET / -H 'Accept: text/html' -H 'Authorization: Bearer s3cret'
check "with the token: 200" test "$STATUS" = 200
api GET / -H 'Accept: text/html' -H 'Authorization: Bearer wrong'
check "a wrong token: 401" test "$STATUS" = 401
api GET /console/js/app.js
check "scripts hold no data and stay public" test "$STATUS" = 200
api GET /v2/stream
check "stream without the token: 401" test "$STATUS" = 401
api GET /v2/workflows/console.flow/graph
check "graph without the token: 401" test "$STATUS" = 401
curl -sN --max-time 1 -H 'Authorization: Bearer s3cret' "$URL/v2/stream" \
    >"$TMP/sse-tok" 2>/dev/null
check "stream with the token" grep -q 'event: hello' "$TMP/sse-tok"
finish
