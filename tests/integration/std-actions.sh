#!/bin/sh
#
# std-actions.sh -- the std actions that talk to other programs, run by
# a real borad against real peers started here on 127.0.0.1:
#
#   std.mistral_http  a local HTTP server receives the request with the
#                     Mistral-* headers; curl then PUTs the result to
#                     the callback URL it was given, which completes the
#                     task and the execution.
#
# Environment: BORAD, SRCDIR, BUILDDIR (see lib.sh).  A missing tool
# skips (77), or fails under CI=true.

. "$(dirname "$0")/lib.sh"

PEER_PIDS=

# Stop the peers started here, then borad.
peers_cleanup()
{
	for _p in $PEER_PIDS; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	cleanup
}
trap peers_cleanup EXIT

# wait_file FILE PATTERN: poll (10 s) until FILE has a line matching.
wait_file()
{
	_i=0
	while [ $_i -lt 100 ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# ---- a local HTTP server that records what it receives ---------------
# Each request is one JSON line in $TMP/http.log: method, path, headers,
# body.  It answers 200 {"accepted": true}.
HTTP_PORT=$(free_port)
python3 - "$HTTP_PORT" "$TMP/http.log" >"$TMP/http.err" 2>&1 <<'PY' &
import http.server, json, sys

port, log = int(sys.argv[1]), sys.argv[2]

class H(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                "headers": dict(self.headers), "body": body}) + "\n")
        out = b'{"accepted": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PUT = handle_one
    def log_message(self, *a):
        pass

http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
PEER_PIDS="$PEER_PIDS $!"

borad_start || { not_ok "borad starts"; finish; }
ok "borad started"

# ---- std.mistral_http: the callback completes the action -------------
cat >"$TMP/callback.yaml" <<'YAML'
version: '2.0'
callback_wf:
  input:
    - url
  tasks:
    call:
      action: std.mistral_http
      input:
        url: <% _.url %>
        method: POST
        json: {ask: "status"}
      publish:
        answer: <% task().result %>
      on-success: after
    after:
      action: std.echo output=<% _.answer.answer + 1 %>
      publish:
        next: <% task().result %>
  output:
    answer: <% _.answer %>
    next: <% _.next %>
YAML
api_text POST /v2/workflows "$TMP/callback.yaml"
expect "std.mistral_http: workflow created" 201

start_cb()
{
	api_json POST /v2/executions "{\"workflow_name\": \"callback_wf\",
	    \"input\": \"{\\\"url\\\": \\\"http://127.0.0.1:$HTTP_PORT/$1\\\"}\"}"
	X=$(jb .id)
}

start_cb ask1
expect "std.mistral_http: execution started" 201
if wait_file "$TMP/http.log" '"path": "/ask1"'; then
	ok "std.mistral_http: the request reached the remote side"
else
	not_ok "std.mistral_http: the request reached the remote side" \
	    "$(cat "$TMP/http.err")"
fi
grep '"path": "/ask1"' "$TMP/http.log" | tail -1 >"$TMP/req1.json"
hdr()
{
	jq -r --arg h "$1" '.headers | to_entries[] |
	    select((.key | ascii_downcase) == ($h | ascii_downcase)) | .value' \
	    "$TMP/req1.json"
}
CB=$(hdr Mistral-Callback-URL)
AID=$(hdr Mistral-Action-Execution-Id)
TID=$(hdr Mistral-Task-Id)
api GET "/v2/executions/$X/tasks"
expect "std.mistral_http: the task waits for the callback" 200 \
    ".tasks[0].name == \"call\" and .tasks[0].state == \"RUNNING\""
check "std.mistral_http: Mistral-Task-Id is the task's id" \
    test "$TID" = "$(jb '.tasks[0].id')"
check "std.mistral_http: Mistral-Workflow-Name" \
    test "$(hdr Mistral-Workflow-Name)" = callback_wf
check "std.mistral_http: Mistral-Workflow-Execution-Id" \
    test "$(hdr Mistral-Workflow-Execution-Id)" = "$X"
check "std.mistral_http: Mistral-Callback-URL is the full URL of the PUT" \
    test "$CB" = "$URL/v2/action_executions/$AID"
check "std.mistral_http: the body was sent" \
    test "$(jq -r .body "$TMP/req1.json")" = '{"ask":"status"}'
api GET "/v2/action_executions/$AID"
expect "std.mistral_http: the action execution is RUNNING" 200 \
    '.state == "RUNNING" and .name == "std.mistral_http"'

# The remote side answers later, as Mistral's contract says.
sleep 0.5
api GET "/v2/executions/$X"
expect "std.mistral_http: still RUNNING until the callback" 200 \
    '.state == "RUNNING"'
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -X PUT \
    -H 'Content-Type: application/json' \
    --data-binary '{"state": "SUCCESS", "output": {"answer": 41}}' "$CB")
expect "std.mistral_http: curl PUTs the result to the callback URL" 200 \
    ".id == \"$AID\""
if wait_state "$X" SUCCESS ERROR; then
	api GET "/v2/executions/$X"
	expect "std.mistral_http: the callback completed the execution" 200 \
	    '.state == "SUCCESS" and (.output | fromjson) ==
	    {"answer": {"answer": 41}, "next": 42}'
else
	not_ok "std.mistral_http: the callback completed the execution"
fi

# An error through the callback fails the task with its text.
start_cb ask2
wait_file "$TMP/http.log" '"path": "/ask2"'
CB2=$(grep '"path": "/ask2"' "$TMP/http.log" | tail -1 | jq -r '.headers |
    to_entries[] | select((.key | ascii_downcase) ==
    "mistral-callback-url") | .value')
curl -s -o "$TMP/body" -X PUT -H 'Content-Type: application/json' \
    --data-binary '{"state": "ERROR", "output": "remote check failed"}' "$CB2"
if wait_state "$X" ERROR SUCCESS; then
	api GET "/v2/executions/$X/tasks"
	expect "std.mistral_http: an ERROR callback fails the task with its text" \
	    200 '.tasks[0].state == "ERROR" and
	    (.tasks[0].state_info | contains("remote check failed"))'
else
	not_ok "std.mistral_http: an ERROR callback fails the task"
fi

# A remote side that refuses the request fails the action at once.
api_json POST /v2/executions "{\"workflow_name\": \"callback_wf\",
    \"input\": \"{\\\"url\\\": \\\"http://127.0.0.1:1/x\\\"}\"}"
X=$(jb .id)
if wait_state "$X" ERROR SUCCESS; then
	ok "std.mistral_http: a request that cannot be sent fails at once"
else
	not_ok "std.mistral_http: a request that cannot be sent fails at once"
fi

finish
