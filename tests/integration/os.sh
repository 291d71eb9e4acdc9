#!/bin/sh
#
# os.sh -- os.request against the simulated cloud (bora sim): workflows
# run with `bora run` and by borad, credentials from the OS_* variables,
# clouds.yaml and borad.conf; one token per credential, renewed before
# it expires and once after a 401; microversion headers; Retry-After;
# wrong credentials; no token nor password in any output, store or log;
# and the simulator's JSON log lines.
#
# Environment: BORA, BORAD, BUILDDIR, SRCDIR (see lib.sh).

. "$(dirname "$0")/lib.sh"
: "${BORA:=$BUILDDIR/src/bora}"
[ -x "$BORA" ] || skip "$BORA is not built"

SIM_PID=
SIM=
SIM_LOG=
NSIM=0
PASSWORD=secret

# sim_stop: SIGTERM the simulator and wait for it.
sim_stop()
{
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
		SIM_PID=
	fi
}

# sim_start [ARGS...]: start bora sim on a free port, log in $SIM_LOG.
sim_start()
{
	sim_stop
	NSIM=$((NSIM + 1))
	SIM_LOG=$TMP/sim-$NSIM.log
	rm -f "$TMP/sim.port"
	"$BORA" sim --listen 127.0.0.1:0 --port-file "$TMP/sim.port" \
	    --log "$SIM_LOG" "$@" 2>>"$TMP/sim.err" &
	SIM_PID=$!
	_i=0
	while [ ! -s "$TMP/sim.port" ] && [ $_i -lt 100 ]; do
		if ! kill -0 "$SIM_PID" 2>/dev/null; then
			sed 's/^/# sim: /' "$TMP/sim.err"
			SIM_PID=
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	SIM=http://127.0.0.1:$(cat "$TMP/sim.port")
}

cleanup_os()
{
	sim_stop
	cleanup
}
trap cleanup_os EXIT

# A clean OpenStack environment: no OS_* variable, no clouds.yaml.
for v in $(env | sed -n 's/^\(OS_[A-Z_]*\)=.*/\1/p'); do
	unset "$v"
done
export HOME="$TMP"
cd "$TMP" || exit 1

# run NAME FILE [ARGS...]: bora run with the sim's credentials; JSON out.
run()
{
	_name=$1
	shift
	OS_AUTH_URL=$SIM/identity OS_USERNAME=admin OS_PASSWORD=$PASSWORD \
	    OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default \
	    "$BORA" run -q -f json --db "sqlite:$TMP/run.db" "$@" \
	    >"$TMP/$_name.json" 2>"$TMP/$_name.err"
}

# state NAME: the execution state of a run.
state()
{
	jq -r .state "$TMP/$1.json" 2>/dev/null
}

# calls PATTERN: lines of the sim log whose method+path match.
calls()
{
	jq -r '.method + " " + .path' "$SIM_LOG" | grep -c -- "$1"
}

# secret_free WHAT SECRET FILE...: no token nor SECRET in the files.
secret_free()
{
	_what=$1
	_secret=$2
	shift 2
	_hits=$(grep -a -l -e gAAAAAB -e "$_secret" "$@" 2>/dev/null |
	    tr '\n' ' ')
	if [ -n "$_hits" ]; then
		not_ok "$_what" "a token or secret in $_hits"
	else
		ok "$_what"
	fi
}

cat >"$TMP/three.yaml" <<'EOF'
version: '2.0'
three:
  tasks:
    list:
      action: os.request service=compute path=/servers/detail microversion="2.53"
      input:
        query: {all_tenants: "True", host: compute-1}
      publish:
        n: "<% #task().result.content.servers %>"
        version: <% task().result.headers["OpenStack-API-Version"] %>
      on-success: get
    get:
      action: os.request service=compute path=/servers/11111111-1111-4111-8111-111111111111
      publish:
        locked: <% task().result.content.server.locked %>
      on-success: services
    services:
      action: os.request service=compute path=/os-services microversion="2.53"
      input:
        query: {host: compute-1, binary: nova-compute}
      publish:
        state: <% task().result.content.services[1].state %>
  output:
    n: <% _.n %>
    version: <% _.version %>
    locked: <% _.locked %>
    state: <% _.state %>
EOF

# --- the simulator itself -------------------------------------------
check "bora sim --help" sh -c "'$BORA' sim --help | grep -q -- --scenario"
"$BORA" sim --listen nonsense >/dev/null 2>"$TMP/bad.err"
check "bora sim: a bad --listen is a usage error" \
    grep -q "want HOST:PORT" "$TMP/bad.err"
printf 'hosts:\n  - name: a\n    alvie: false\n' >"$TMP/bad.yaml"
"$BORA" sim --scenario "$TMP/bad.yaml" >/dev/null 2>"$TMP/bad.err"
check "bora sim: a bad scenario names the place" grep -q \
    "bad.yaml: hosts\[0\]: unknown key 'alvie' (did you mean 'alive'?)" \
    "$TMP/bad.err"

# --- one token, reused; microversions ------------------------------
sim_start --delay 0 || exit 1
run three three.yaml
if [ "$(state three)" = SUCCESS ]; then
	ok "three calls succeed"
else
	not_ok "three calls succeed" "$(cat "$TMP/three.err")"
fi
check "the results are Nova's" sh -c "jq -e '.output == {\"n\": 3, \
\"version\": \"compute 2.53\", \"locked\": null, \"state\": \"up\"}' \
$TMP/three.json"
check "one token for three calls" test "$(calls 'POST /identity/v3/auth/tokens')" -eq 1
check "every Nova call carries that token" test "$(jq -r \
    'select(.path | startswith("/compute")) | .token' "$SIM_LOG" |
    sort -u | wc -l)" -eq 1
check "microversion headers sent (both)" sh -c "jq -e -s '[.[] | \
select(.path == \"/compute/v2.1/os-services\") | .headers | \
del(.[\"x-openstack-request-id\"])] == [{\"openstack-api-version\": \
\"compute 2.53\", \"x-openstack-nova-api-version\": \"2.53\"}]' $SIM_LOG"
check "no microversion header when none is asked" sh -c "jq -e -s '[.[] | \
select(.path | startswith(\"/compute/v2.1/servers/1\")) | .headers | \
has(\"openstack-api-version\")] == [false]' $SIM_LOG"
check "a request id per call (req-UUID)" sh -c "jq -r -s '.[] | \
select(.path | startswith(\"/compute\")) | .headers[\"x-openstack-request-id\"]' \
$SIM_LOG | grep -c '^req-[0-9a-f-]\{36\}$' | grep -qx 3"
check "the sim log is JSON lines with the call's fields" sh -c "jq -e -s \
'length == 4 and all(.[]; has(\"time\") and has(\"method\") and has(\"path\") \
and has(\"query\") and has(\"status\") and has(\"ms\") and has(\"response\"))' \
$SIM_LOG"
check "the sim log masks the password" sh -c "jq -e -s \
'.[0].body.auth.identity.password.user.password == \"***\"' $SIM_LOG"

# --- expected codes, errors in Nova's words -------------------------
cat >"$TMP/missing.yaml" <<'EOF'
version: '2.0'
missing:
  input: [expected: null]
  tasks:
    get:
      action: os.request service=compute path=/servers/nope expected=<% _.expected %>
      publish:
        status: <% task().result.status %>
  output:
    status: <% _.status %>
EOF
run missing missing.yaml -i expected=404
check "an expected 404 succeeds" sh -c "jq -e '.output.status == 404' \
$TMP/missing.json"
run missing2 missing.yaml
check "an unexpected 404 fails the task in Nova's words" sh -c "jq -e \
'.tasks[0].state_info | contains(\"os.request compute GET /servers/nope: \
404 Not Found: Instance nope could not be found.\")' $TMP/missing2.json"
check "the failed result has the status and request id" sh -c "jq -e \
'.tasks[0].result.status == 404 and (.tasks[0].result.request_id | \
startswith(\"req-\"))' $TMP/missing2.json"
check "the token header is masked in results" sh -c "! grep -q gAAAAAB \
$TMP/three.json $TMP/missing.json $TMP/missing2.json"

# --- wrong credentials ----------------------------------------------
PASSWORD=wrong-pw-1234
run wrong three.yaml
PASSWORD=secret
check "wrong credentials fail the task" test "$(state wrong)" = ERROR
jq -r '.tasks[0].state_info' "$TMP/wrong.json" >"$TMP/wrong.info"
check "with Keystone's refusal, naming who" grep -qF "os.request compute \
GET /servers/detail: Keystone refused the OS_* environment (user 'admin', \
project 'admin'): 401 Unauthorized: The request you have made requires \
authentication." "$TMP/wrong.info"
secret_free "no wrong password in output, store or logs" wrong-pw-1234 \
    "$TMP/wrong.json" "$TMP/wrong.err" "$TMP/run.db" "$SIM_LOG"
sim_stop

# --- Retry-After and 401 --------------------------------------------
cat >"$TMP/faults.yaml" <<'EOF'
faults:
  - {path: /compute/v2.1/os-services, status: 503, retry_after: 1, times: 1}
  - {path: /compute/v2.1/servers/detail, status: 401, times: 1}
  - {path: /compute/v2.1/os-aggregates, status: 429, retry_after: 0.1, times: 0}
  - {path: /compute/v2.1/os-hypervisors, status: 401, times: 2}
EOF
cat >"$TMP/one.yaml" <<'EOF'
version: '2.0'
one:
  input: [path]
  tasks:
    call:
      action: os.request service=compute path=<% _.path %>
      publish:
        status: <% task().result.status %>
  output:
    status: <% _.status %>
EOF
sim_start --delay 0 --scenario "$TMP/faults.yaml" || exit 1
run ra one.yaml -i path=/os-services
check "a 503 with Retry-After is sent again and succeeds" sh -c \
    "jq -e '.output.status == 200' $TMP/ra.json"
check "after the delay it asked for" python3 -c "
import json, datetime, sys
t = [json.loads(l)['time'] for l in open('$SIM_LOG')
     if '/os-services' in l]
d = [datetime.datetime.strptime(x, '%Y-%m-%dT%H:%M:%S.%fZ') for x in t]
sys.exit(0 if len(d) == 2 and (d[1] - d[0]).total_seconds() >= 0.95 else 1)"
run ra2 one.yaml -i path=/os-aggregates
check "Retry-After is followed at most three times" test \
    "$(calls 'GET /compute/v2.1/os-aggregates')" -eq 4
check "then the task fails with the 429" sh -c "jq -e '.tasks[0].state_info \
| contains(\": 429 Too Many Requests\")' $TMP/ra2.json"
N0=$(calls 'POST /identity/v3/auth/tokens')
run unauth one.yaml -i path=/servers/detail
check "a 401 is retried once with a new token" sh -c \
    "jq -e '.output.status == 200' $TMP/unauth.json"
# Each bora run is a process: its first token, then one after the 401.
check "one new token for it" test \
    "$(calls 'POST /identity/v3/auth/tokens')" -eq $((N0 + 2))
check "the retry carries the new token" test "$(jq -r \
    'select(.path == "/compute/v2.1/servers/detail") | .token' "$SIM_LOG" |
    sort -u | wc -l)" -eq 2
N0=$(calls 'POST /identity/v3/auth/tokens')
run unauth2 one.yaml -i path=/os-hypervisors
check "a second 401 fails the task" sh -c "jq -e '.tasks[0].state_info | \
contains(\"401 Unauthorized\") and contains(\"refused again with a new \
token\")' $TMP/unauth2.json"
check "after exactly one more token" test \
    "$(calls 'POST /identity/v3/auth/tokens')" -eq $((N0 + 2))
check "and exactly two calls" test "$(calls 'GET /compute/v2.1/os-hypervisors')" -eq 2
sim_stop

# --- tokens that expire mid-flow ------------------------------------
cat >"$TMP/slow.yaml" <<'EOF'
version: '2.0'
slow:
  tasks:
    a:
      action: os.request service=compute path=/os-services
      on-success: b
    b:
      action: os.request service=compute path=/os-services
      wait-before: 1.6
      on-success: c
    c:
      action: os.request service=compute path=/os-services
      wait-before: 1.6
      on-success: d
    d:
      action: os.request service=compute path=/os-services
EOF
printf 'keystone: {token_ttl: 3}\n' >"$TMP/ttl.yaml"
sim_start --delay 0 --scenario "$TMP/ttl.yaml" || exit 1
run ttl slow.yaml
check "a flow outliving its token succeeds" test "$(state ttl)" = SUCCESS
check "the token is renewed exactly once, before it expires" test \
    "$(calls 'POST /identity/v3/auth/tokens')" -eq 2
check "with no call refused on the way" sh -c "jq -e -s \
'all(.[]; .status < 400)' $SIM_LOG"
check "two tokens were used, in order" test "$(jq -r \
    'select(.path == "/compute/v2.1/os-services") | .token' "$SIM_LOG" |
    uniq | wc -l)" -eq 2
sim_stop

printf 'keystone: {token_ttl: 3600, token_expires_after: 2}\n' \
    >"$TMP/dies.yaml"
sim_start --delay 0 --scenario "$TMP/dies.yaml" || exit 1
run dies slow.yaml
check "a token that dies early (401 mid-flow) is replaced" test \
    "$(state dies)" = SUCCESS
check "once" test "$(calls 'POST /identity/v3/auth/tokens')" -eq 2
check "after one refused call" test "$(jq -r 'select(.status == 401) |
    .path' "$SIM_LOG" | wc -l)" -eq 1
secret_free "no token in outputs, store or logs" gAAAAAB "$TMP"/*.json \
    "$TMP"/*.err "$TMP/run.db" "$TMP"/sim-*.log
sim_stop

# --- waiting holds no engine thread ----------------------------------
cat >"$TMP/many.yaml" <<'EOF'
version: '2.0'
many:
  tasks:
    calls:
      with-items: i in <% {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20} %>
      concurrency: 20
      action: os.request service=compute path=/os-services
EOF
printf 'latency: 1\n' >"$TMP/latency.yaml"
sim_start --delay 0 --scenario "$TMP/latency.yaml" || exit 1
T0=$(date +%s)
run many many.yaml
T1=$(date +%s)
check "20 calls of 1 s each all succeed" test "$(state many)" = SUCCESS
check "side by side: well under the 20 s they take in a row" \
    test $((T1 - T0)) -lt 10
check "and all on one token, asked for once" test \
    "$(calls 'POST /identity/v3/auth/tokens')" -eq 1
sim_stop

# --- the shipped catalogs (actions/) --------------------------------
export BORA_ACTIONS_DIR="$SRCDIR/actions"
check "the catalogs are valid" "$BORA" validate "$SRCDIR"/actions/*.yaml
cat >"$TMP/hostdown.yaml" <<'EOF'
service_down_time: 60
delays: {evacuate: 0.5}
hosts:
  - {name: compute-1, alive: false}
  - {name: compute-2}
  - {name: compute-3}
aggregates:
  - {id: 7, name: agg-ha, hosts: [compute-1, compute-2]}
servers:
  - {id: 11111111-1111-4111-8111-111111111111, name: vm-a, host: compute-1}
  - {name: vm-b, host: compute-1, vm_state: stopped}
EOF
cat >"$TMP/evac.yaml" <<'EOF'
version: '2.0'
evac:
  input: [host, target, token]
  tasks:
    service:
      action: nova.services_list host=<% _.host %>
      publish:
        service_id: <% task().result[1].id %>
      on-success: too_early
    too_early:
      action: nova.server_evacuate server_id=11111111-1111-4111-8111-111111111111
      publish-on-error:
        early: <% task().result.message %>
      on-error: disable
    disable:
      action: nova.service_disable service_id=<% _.service_id %>
      on-success: force_down
    force_down:
      action: nova.service_force_down service_id=<% _.service_id %>
      on-success: servers
    servers:
      action: nova.servers_list host=<% _.host %>
      publish:
        ids: <% map(task().result, function(s) return s.id end) %>
      on-success: evacuate
    evacuate:
      with-items: id in <% _.ids %>
      action: nova.server_evacuate server_id=<% _.id %> host=<% _.target %>
      on-success: wait
    wait:
      action: nova.servers_list host=<% _.host %>
      retry:
        count: 50
        delay: 0.2
        continue-on: "<% #task().result > 0 %>"
      on-success: aggregate
    aggregate:
      action: nova.aggregate_add_host aggregate_id=7 host=<% _.target %>
      publish:
        added: <% task().result.added %>
      on-success: again
    again:
      action: nova.aggregate_add_host aggregate_id=7 host=<% _.target %>
      publish:
        added_again: <% task().result.added %>
      on-success: moved
    moved:
      action: nova.servers_list host=<% _.target %>
      publish:
        moved: <% map(task().result, function(s) return s.name .. ':' .. s['OS-EXT-STS:vm_state'] end) %>
      on-success: check
    check:
      action: keystone.token_check token=<% _.token %>
      publish:
        checked: <% task().result.user.name %>
  output:
    early: <% _.early %>
    added: <% _.added %>
    added_again: <% _.added_again %>
    moved: <% sorted(_.moved) %>
    checked: <% _.checked %>
EOF
sim_start --scenario "$TMP/hostdown.yaml" || exit 1
TOKEN=$(curl -si -X POST "$SIM/identity/v3/auth/tokens" -d '{"auth":
    {"identity": {"methods": ["password"], "password": {"user": {"name":
    "demo", "domain": {"id": "default"}, "password": "demo"}}}}}' |
    sed -n 's/^X-Subject-Token: *\([^[:space:]]*\).*/\1/p')
# The token checked is the task's input: a store of its own.
run evac evac.yaml -i host=compute-1 -i target=compute-3 -i token="$TOKEN" \
    --db "sqlite:$TMP/evac.db"
if jq -e '.output == {"early": "os.request compute POST /servers/11111111-1111-4111-8111-111111111111/action: 400 Bad Request: Compute service of compute-1 is still in use.",
    "added": true, "added_again": false, "moved": ["vm-a:active",
    "vm-b:stopped"], "checked": "demo"}' "$TMP/evac.json" >/dev/null; then
	ok "a host evacuation with the nova and keystone catalogs"
else
	not_ok "a host evacuation with the nova and keystone catalogs" \
	    "$(jq -c '.output, [.tasks[] | .state_info]' "$TMP/evac.json")" \
	    "$(cat "$TMP/evac.err")"
fi
jq -r '.method + " " + (.path | sub("/compute/v2.1"; "") |
    sub("/[0-9a-f-]{36}"; "/ID")) + " " + (.status | tostring)' "$SIM_LOG" |
    uniq >"$TMP/evac.calls"
cat >"$TMP/evac.want" <<'EOF'
POST /identity/v3/auth/tokens 201
GET /os-services 200
POST /servers/ID/action 400
PUT /os-services/ID 200
GET /servers/detail 200
POST /servers/ID/action 200
GET /servers/detail 200
POST /os-aggregates/7/action 200
POST /os-aggregates/7/action 409
GET /servers/detail 200
GET /identity/v3/auth/tokens 200
EOF
check "the calls the cloud saw, in order" cmp "$TMP/evac.calls" \
    "$TMP/evac.want"
sim_stop
unset BORA_ACTIONS_DIR

# --- clouds.yaml, application credentials, per-action cloud ---------
cat >"$TMP/app.yaml" <<'EOF'
keystone:
  users:
    - {name: admin, password: borad-pw-5678, project: admin, roles: [admin]}
    - {name: demo, password: demo, project: demo}
  application_credentials:
    - {id: app-1, name: bora, secret: app-s3cret, user: admin}
hosts:
  - name: compute-1
servers:
  - {name: vm, host: compute-1, count: 3, project: demo}
EOF
sim_start --delay 0 --scenario "$TMP/app.yaml" || exit 1
cat >"$TMP/clouds.yaml" <<EOF
clouds:
  simapp:
    auth_type: v3applicationcredential
    auth:
      auth_url: $SIM/identity
      application_credential_id: app-1
      application_credential_secret: app-s3cret
    region_name: RegionOne
  simdemo:
    auth:
      auth_url: $SIM/identity/v3
      username: demo
      password: demo
      project_name: demo
      user_domain_name: default
      project_domain_name: default
EOF
cat >"$TMP/who.yaml" <<'EOF'
version: '2.0'
who:
  tasks:
    mine:
      action: os.request service=compute path=/servers cloud=simdemo
      publish:
        demo_sees: "<% #task().result.content.servers %>"
      on-success: admin
    admin:
      action: os.request service=compute path=/servers
      publish:
        admin_sees: "<% #task().result.content.servers %>"
  output:
    demo_sees: <% _.demo_sees %>
    admin_sees: <% _.admin_sees %>
EOF
OS_CLOUD=simapp "$BORA" run -q -f json --db "sqlite:$TMP/run.db" who.yaml \
    >"$TMP/who.json" 2>"$TMP/who.err"
check "OS_CLOUD (an application credential) and a cloud per action" sh -c \
    "jq -e '.output == {\"demo_sees\": 3, \"admin_sees\": 0}' $TMP/who.json"
check "the application credential was used" sh -c "jq -e -s '[.[] | \
select(.path == \"/identity/v3/auth/tokens\") | \
.body.auth.identity.methods[0]] | sort == [\"application_credential\", \
\"password\"]' $SIM_LOG"
OS_CLOUD=nope "$BORA" run -q -f json --db "sqlite:$TMP/run.db" who.yaml \
    >"$TMP/nope.json" 2>"$TMP/nope.err"
jq -r '.state_info' "$TMP/nope.json" >"$TMP/nope.info"
check "an unknown cloud names the clouds there are" grep -qF \
    "clouds.yaml: no cloud 'nope' under clouds: (it has simapp, simdemo)" \
    "$TMP/nope.info"
secret_free "no application credential secret anywhere" app-s3cret \
    "$TMP/who.json" \
    "$TMP/who.err" "$TMP/nope.json" "$TMP/run.db" "$SIM_LOG"

# --- borad with its credentials in borad.conf -----------------------
cat >"$TMP/borad.conf" <<EOF
os-auth-url: $SIM/identity
os-username: admin
os-password: borad-pw-5678
os-project-name: admin
EOF
"$BORAD" -n -f "$TMP/borad.conf" --workflows "$TMP/workflows" \
    --actions "$TMP/actions" --lua "$TMP/lua" >"$TMP/n.out" 2>&1
check "borad -n accepts the os-* options" grep -q "configuration OK" \
    "$TMP/n.out"
printf 'os-auth-url: %s/identity\n' "$SIM" >"$TMP/half.conf"
"$BORAD" -n -f "$TMP/half.conf" --workflows "$TMP/workflows" \
    --actions "$TMP/actions" --lua "$TMP/lua" >"$TMP/n.out" 2>&1
check "an incomplete credential stops borad at start" grep -q \
    "borad.conf: no username nor user_id" "$TMP/n.out"
cp "$TMP/one.yaml" "$TMP/workflows/one.yaml"
if borad_start -f "$TMP/borad.conf" -vv --actions "$SRCDIR/actions"; then
	check "borad lists the catalogs' actions" sh -c "curl -sf \
$URL/v2/actions/nova.server_evacuate | jq -e '.input == \
\"server_id, host, microversion, cloud\" and .base == \"os.request\"'"
	ID=$(curl -sf -X POST "$URL/v2/executions" -H 'Content-Type: application/json' \
	    -d '{"workflow_name": "one", "input": "{\"path\": \"/os-hypervisors\"}"}' |
	    jq -r .id)
	_i=0
	while [ $_i -lt 100 ]; do
		ST=$(curl -sf "$URL/v2/executions/$ID" | jq -r .state)
		[ "$ST" = SUCCESS ] || [ "$ST" = ERROR ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	check "borad runs os.request with borad.conf's credentials" \
	    test "$ST" = SUCCESS
	curl -sf "$URL/v2/executions/$ID" >"$TMP/borad-exec.json"
	curl -sf "$URL/v2/tasks?workflow_execution_id=$ID" >"$TMP/borad-tasks.json"
	borad_stop
	check "borad -vv printed its configuration" grep -q "os-password" \
	    "$TMP/borad.log"
	secret_free "borad logs no password nor token" borad-pw-5678 \
	    "$TMP/borad.log" "$TMP/borad-exec.json" "$TMP/borad-tasks.json" \
	    "$TMP/bora.db" "$SIM_LOG"
else
	not_ok "borad starts with os-* options" "$(tail "$TMP/borad.log")"
fi
sim_stop

echo "1..$NCHECK"
[ "$FAILED" -eq 0 ]
