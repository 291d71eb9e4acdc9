#!/bin/sh
#
# exec-state.sh -- PUT /v2/executions/ID with a state: the changes
# Mistral allows answer as in Mistral; any state asked of a finished
# execution is 409 with the reason, also when the execution ends
# between the request and the engine's turn to apply it.

. "$(dirname "$0")/lib.sh"

cp "$DATA/hello.yaml" "$DATA/fail_wf.yaml" "$DATA/sleep_wf.yaml" \
    "$TMP/workflows/"
borad_start || { not_ok "borad starts"; finish; }
ok "borad starts"

# ---- finished executions -------------------------------------------------
api_json POST /v2/executions '{"workflow_name":"hello"}'
HX=$(jb .id)
check "hello ends in SUCCESS" wait_state "$HX" SUCCESS
for st in RUNNING PAUSED CANCELLED ERROR SUCCESS; do
	api_json PUT "/v2/executions/$HX" "{\"state\":\"$st\"}"
	expect "$st on a SUCCESS execution is 409 with the reason" 409 \
	    ".faultstring == \"Execution $HX is already SUCCESS: a finished execution cannot be set to $st\""
done
api_json PUT "/v2/executions/$HX" \
    '{"state":"RUNNING","description":"not this"}'
expect "a refused state change changes nothing else" 409
api GET "/v2/executions/$HX"
expect "the description stayed" 200 '.description != "not this"'
api_json PUT "/v2/executions/$HX" '{"description":"done and dusted"}'
expect "a finished execution's description may change (as in Mistral)" \
    200 '.description == "done and dusted" and .state == "SUCCESS"'

api_json POST /v2/executions '{"workflow_name":"fail_wf"}'
FX=$(jb .id)
check "fail_wf ends in ERROR" wait_state "$FX" ERROR
api_json PUT "/v2/executions/$FX" '{"state":"RUNNING"}'
expect "RUNNING on an ERROR execution is 409, naming the task re-run" 409 \
    '.faultstring | test("already ERROR: a finished execution cannot be set to RUNNING \\(re-run a failed task")'
api_json PUT "/v2/executions/$FX" '{"state":"PAUSED"}'
expect "PAUSED on an ERROR execution is 409" 409 \
    '.faultstring | test("already ERROR")'
api GET "/v2/executions/$FX"
expect "the execution is still in ERROR" 200 '.state == "ERROR"'

# ---- what Mistral allows -------------------------------------------------
api_json POST /v2/executions \
    '{"workflow_name":"sleep_wf","input":{"seconds":30}}'
SX=$(jb .id)
check "sleep_wf runs" wait_state "$SX" RUNNING
api_json PUT "/v2/executions/$SX" '{"state":"RUNNING"}'
expect "RUNNING on a running execution is 200 and changes nothing" 200 \
    '.state == "RUNNING"'
api_json PUT "/v2/executions/$SX" '{"state":"PAUSED"}'
expect "pause" 200 '.state == "PAUSED"'
api_json PUT "/v2/executions/$SX" '{"state":"PAUSED"}'
expect "PAUSED on a paused execution is 200" 200 '.state == "PAUSED"'
api_json PUT "/v2/executions/$SX" '{"state":"RUNNING"}'
expect "resume" 200 '.state == "RUNNING"'
api_json PUT "/v2/executions/$SX" '{"state":"CANCELLED"}'
expect "cancel" 200 '.state == "CANCELLED"'
api_json PUT "/v2/executions/$SX" '{"state":"RUNNING"}'
expect "RUNNING on the cancelled execution is 409" 409 \
    '.faultstring | test("already CANCELLED")'
api_json PUT "/v2/executions/$SX" '{"state":"BOGUS"}'
expect "an unknown state is 400" 400 '.faultstring | test("BOGUS")'

# ---- a state asked while the execution ends ------------------------------
# hello ends a few milliseconds after it starts: a change asked at once
# often reaches the engine after the end.  Every answer must be the
# change done (200 in the state asked) or 409 with the reason, never 200
# with the execution ended otherwise and nothing done.
cat >"$TMP/race.py" <<'EOF'
import http.client, json, sys
port, state, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
def call(method, path, body):
    c.request(method, path, body=json.dumps(body),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, json.loads(r.read())
done = refused = bad = 0
for i in range(n):
    st, ex = call("POST", "/v2/executions", {"workflow_name": "hello"})
    st, b = call("PUT", "/v2/executions/" + ex["id"], {"state": state})
    if st == 200 and b.get("state") == state:
        done += 1
    elif st == 409 and "SUCCESS" in b.get("faultstring", ""):
        refused += 1
    else:
        bad += 1
        print("bad:", st, json.dumps(b)[:200], file=sys.stderr)
print(done, refused, bad)
EOF
for st in PAUSED CANCELLED; do
	set -- $(python3 "$TMP/race.py" "$PORT" "$st" 60 2>>"$TMP/race.err")
	check "$st right after the start: $1 done, $2 refused, ${3:-?} wrong" \
	    test "${3:-1}" -eq 0
done
[ -s "$TMP/race.err" ] && sed 's/^/# /' "$TMP/race.err" | head -5

finish
