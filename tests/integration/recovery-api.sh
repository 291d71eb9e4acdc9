#!/bin/sh
#
# recovery-api.sh -- Masakari's API on borad, as masakari-monitors and
# operators use it: the version document, segments and hosts (created,
# listed, read, changed, deleted, declared in a workbook), and the
# captured masakari-monitors payloads (samples/masakari_*.json) through
# POST /v1/notifications with Masakari's answers: 202, 400 for an
# unknown host or a bad payload, 409 for a duplicate and while the host
# is on maintenance; the status each then reaches (finished, ignored,
# error) with the flow its type and segment call for, and its
# recovery_workflow_details at microversion 1.1.  Credentials: a
# segment's clouds.yaml entry is what its recoveries act with; wrong
# ones fail the recovery clearly, with no secret shown.  With
# keystone-auth, a notification with a token Keystone refuses (or that
# expired, or lacks the role) gets 401 and starts nothing.  A recovery
# that failed runs once more, then its notification is failed.
#
# Environment: BORA, BORAD, BUILDDIR, SRCDIR (see lib.sh).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sim-lib.sh"

SAMPLES=$SRCDIR/tests/data/alarms/samples
VM=5c4b1f7e-2a43-4c36-9d8b-3c8fcb2a9a10

cat >"$TMP/cloud.yaml" <<EOF
service_down_time: 0
keystone:
  users:
    - {name: admin, password: secret, project: admin, roles: [admin]}
    - {name: demo, password: demo, project: demo, roles: [member]}
hosts:
  - {name: compute-1}
  - {name: compute-2}
  - {name: compute-3}
  - {name: compute-4, enabled: false}
servers:
  - {name: web, host: compute-1, count: 2, metadata: {HA_Enabled: "True"}}
  - {id: $VM, name: vm-guest, host: compute-2, vm_state: active,
     metadata: {HA_Enabled: "True"}}
EOF

# clouds.yaml: the simulator right, and wrong.
mkdir -p "$TMP/.config/openstack"
cat >"$TMP/.config/openstack/clouds.yaml" <<EOF
clouds:
  sim:
    auth:
      auth_url: $SIM/identity
      username: admin
      password: secret
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
  wrong:
    auth:
      auth_url: $SIM/identity
      username: admin
      password: not-the-pw-4321
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
EOF

sim_start --delay 0 --scenario "$TMP/cloud.yaml" || exit 1
borad_recovery --masakari-duplicate-interval 180s \
    --masakari-retry-interval 1s || exit 1

# mk METHOD PATH [JSON]: a Masakari call, microversion 1.2.
mk()
{
	if [ -n "${3:-}" ]; then
		api "$1" "$2" -H 'OpenStack-API-Version: instance-ha 1.2' \
		    -H 'Content-Type: application/json' --data-binary "$3"
	else
		api "$1" "$2" -H 'OpenStack-API-Version: instance-ha 1.2'
	fi
}

# notify FILE: POST a sample's body as masakari-monitors sends it.
notify()
{
	api POST /v1/notifications -H 'Content-Type: application/json' \
	    -H 'X-Auth-Token: gAAAAAB-masakari-monitor-token' \
	    --data-binary "@$1"
}

# body SAMPLE [JQ]: a sample's body, changed by JQ, in $TMP/note.json.
body()
{
	jq -c ".body | ${2:-.}" "$SAMPLES/$1.json" >"$TMP/note.json"
}

# status_of UUID STATUS...: wait (30 s) until the notification is in
# one of the statuses; ok or not.
status_of()
{
	_u=$1
	shift
	_i=0
	while [ $_i -lt 300 ]; do
		_s=$(curl -s "$URL/v1/notifications/$_u" |
		    jq -r .notification.status)
		for _w in "$@"; do
			if [ "$_s" = "$_w" ]; then
				ok "notification ends $_s"
				return 0
			fi
		done
		sleep 0.1
		_i=$((_i + 1))
	done
	not_ok "notification ends $*" "it is $_s: $(curl -s \
	    "$URL/v1/notifications/$_u" | jq -c .notification.status_reason)"
	return 1
}

# --- versions -----------------------------------------------------------
api GET /v1
expect "GET /v1: Masakari's version document" 200 \
    '.version.id == "v1.0" and .version.version == "1.2" and
     .version.min_version == "1.0" and .version.status == "CURRENT"'
api GET /v1/segments -H 'OpenStack-API-Version: instance-ha 1.9'
expect "an unknown microversion is 406" 406 \
    '.notAcceptable.message | contains("Minimum is 1.0 and maximum is 1.2")'
api GET /v1/segments -H 'OpenStack-API-Version: instance-ha 1.1'
check "the microversion is echoed" grep -qi \
    '^OpenStack-API-Version: instance-ha 1.1' "$TMP/headers"

# --- segments -------------------------------------------------------------
mk POST /v1/segments '{"segment": {"name": "seg", "recovery_method":
    "reserved_host", "service_type": "COMPUTE", "description": "rack 1",
    "options": {"wait_period_after_service_update": 0, "verify_interval":
    0.1}, "cloud": "sim"}}'
expect "create a segment" 201 '.segment.name == "seg" and
    .segment.recovery_method == "reserved_host" and .segment.enabled == true
    and (.segment.uuid | length) == 36'
SEG=$(jb .segment.uuid)
mk POST /v1/segments '{"segment": {"name": "seg", "recovery_method": "auto",
    "service_type": "COMPUTE"}}'
expect "a segment name is taken: 409" 409 \
    '.conflictingRequest.message == "Failover segment with name seg already exists."'
mk POST /v1/segments '{"segment": {"name": "s2", "recovery_method": "fast",
    "service_type": "COMPUTE"}}'
expect "an unknown recovery method: 400 naming it" 400 \
    '.badRequest.message | contains("recovery_method") and contains("fast")'
mk POST /v1/segments '{"segment": {"name": "s2", "service_type": "COMPUTE"}}'
expect "a missing field: 400" 400 \
    '.badRequest.message | contains("recovery_method")'
mk POST /v1/segments '{"segment": {"name": "s2", "recovery_method": "auto",
    "service_type": "COMPUTE", "options": {"wait_period": 3}}}'
expect "an unknown option: 400" 400 '.badRequest.message | contains("wait_period")'
mk POST /v1/segments '{"segment": {"name": "off", "recovery_method": "auto",
    "service_type": "COMPUTE", "enabled": false}}'
expect "a disabled segment (1.2)" 201 '.segment.enabled == false'
OFF=$(jb .segment.uuid)
mk GET /v1/segments
expect "list segments" 200 '.segments | length == 2'
api GET "/v1/segments/$SEG"
expect "get a segment (1.0: no enabled)" 200 \
    '.segment.uuid != null and (.segment | has("enabled") | not)'
mk PUT "/v1/segments/$SEG" '{"segment": {"description": "rack one"}}'
expect "update a segment" 200 '.segment.description == "rack one"'
mk GET /v1/segments/00000000-0000-4000-8000-000000000000
expect "an unknown segment: 404" 404 '.itemNotFound.code == 404'
mk GET "/v1/segments?recovery_method=auto"
expect "segments filtered" 200 '[.segments[].name] == ["off"]'

# --- hosts ----------------------------------------------------------------
for h in compute-1 compute-2 compute-3; do
	mk POST "/v1/segments/$SEG/hosts" "{\"host\": {\"name\": \"$h\",
	    \"type\": \"COMPUTE\", \"control_attributes\": \"SSH\"}}"
	expect "add host $h" 201 ".host.name == \"$h\" and
	    .host.failover_segment_id == \"$SEG\" and .host.reserved == false"
done
mk POST "/v1/segments/$SEG/hosts" '{"host": {"name": "compute-4", "type":
    "COMPUTE", "control_attributes": "SSH", "reserved": true}}'
expect "add a reserved host" 201 '.host.reserved == true'
mk POST "/v1/segments/$SEG/hosts" '{"host": {"name": "compute-4", "type":
    "COMPUTE", "control_attributes": "SSH"}}'
expect "a host name is taken: 409" 409 \
    '.conflictingRequest.message == "Host with name compute-4 already exists."'
mk POST "/v1/segments/$SEG/hosts" '{"host": {"name": "bad host", "type":
    "COMPUTE", "control_attributes": "SSH"}}'
expect "a bad host name: 400" 400 '.badRequest.message | contains("name")'
mk POST "/v1/segments/$OFF/hosts" '{"host": {"name": "compute-9", "type":
    "COMPUTE", "control_attributes": "SSH"}}'
expect "a host of the disabled segment" 201
mk GET "/v1/segments/$SEG/hosts"
expect "list hosts, with their segment" 200 '(.hosts | length) == 4 and
    .hosts[0].failover_segment.uuid != null'
H3=$(jq -r '.hosts[] | select(.name == "compute-3") | .uuid' "$TMP/body")
mk GET "/v1/segments/$SEG/hosts?reserved=true"
expect "hosts filtered" 200 '[.hosts[].name] == ["compute-4"]'
mk PUT "/v1/segments/$SEG/hosts/$H3" '{"host": {"on_maintenance": "true"}}'
expect "put a host on maintenance" 200 '.host.on_maintenance == true'
mk PUT "/v1/segments/$SEG/hosts/$H3" '{"host": {"on_maintenance": false}}'
expect "and off it" 200 '.host.on_maintenance == false'
mk GET "/v1/segments/$OFF/hosts/$H3"
expect "a host of another segment: 404" 404

# --- the payloads of masakari-monitors ---------------------------------------
# A VM of compute-2 (LIFECYCLE/STOPPED_FAILED): the instance flow.
body masakari_notification_vm_lifecycle
notify "$TMP/note.json"
expect "VM notification: 202 as Masakari answers" 202 \
    '.notification.status == "new" and .notification.type == "VM" and
     (.notification.notification_uuid | length) == 36 and .notification.id > 0'
N_VM=$(jb .notification.notification_uuid)
status_of "$N_VM" finished
notify "$TMP/note.json"
expect "the same again: 409 duplicate" 409 '.conflictingRequest.message ==
    "Notification received from host compute-2 of type '"'VM'"' is duplicate."'
body masakari_notification_vm_lifecycle \
    '.notification.generated_time = "2026-11-23T01:20:00.000000"'
notify "$TMP/note.json"
expect "the same 4 minutes later: a new one" 202
N_VM2=$(jb .notification.notification_uuid)
status_of "$N_VM2" finished error
body masakari_notification_vm_qemu_agent
notify "$TMP/note.json"
expect "guest agent error of the same VM: another payload, accepted" 202
status_of "$(jb .notification.notification_uuid)" finished error
body masakari_notification_vm_lifecycle \
    '.notification.payload.vir_domain_event = "STOPPED_SHUTDOWN"'
notify "$TMP/note.json"
expect "a VM event the engine does not act on: 202" 202
status_of "$(jb .notification.notification_uuid)" ignored
body masakari_notification_vm_lifecycle \
    '.notification.payload.instance_uuid = "00000000-0000-4000-8000-000000000000" |
     .notification.payload.event = "IO_ERROR" |
     .notification.payload.vir_domain_event = "IO_ERROR_REPORT"'
notify "$TMP/note.json"
expect "a VM Nova does not know" 202
N_ERR=$(jb .notification.notification_uuid)
status_of "$N_ERR" error
status_of "$N_ERR" failed
check "an error is recovered once more, then failed (Masakari's periodic task)" \
    test "$(curl -s "$URL/v2/executions?workflow_name=masakari.instance_failure" |
    jq "[.executions[] | select(.params | fromjson | .notification_uuid ==
    \"$N_ERR\")] | length")" -eq 2

# The process monitor: nova-compute of compute-3 stopped.
body masakari_notification_process
notify "$TMP/note.json"
expect "PROCESS notification: 202" 202
N_P=$(jb .notification.notification_uuid)
status_of "$N_P" finished
mk GET "/v1/segments/$SEG/hosts/$H3"
expect "the host is on maintenance" 200 '.host.on_maintenance == true'
body masakari_notification_process \
    '.notification.generated_time = "2026-11-23T09:00:00.000000"'
notify "$TMP/note.json"
expect "anything from it now: 409 maintenance" 409
check "in Masakari's words" sh -c "jq -e '.conflictingRequest.message ==
    \"Notification received from host compute-3 of type '\''PROCESS'\'' is \
ignored as the host is already under maintenance.\"' $TMP/body"
check "the process recovery disabled compute-3's service" sh -c \
    "curl -s $SIM/_sim/state | jq -e '.hosts[] | select(.name ==
    \"compute-3\") | .status == \"disabled\"'"

# The host monitor: compute-1 left the cluster, powered off.
sim_host compute-1 '{"alive": false}'
body masakari_notification_compute_host
notify "$TMP/note.json"
expect "COMPUTE_HOST notification: 202" 202
N_H=$(jb .notification.notification_uuid)
status_of "$N_H" finished
check "its servers run on the reserved host" sh -c "curl -s $SIM/_sim/state |
    jq -e '[.servers[] | select(.name | startswith(\"web\")) | .host] |
    unique == [\"compute-4\"]'"
mk GET "/v1/segments/$SEG/hosts?reserved=true"
expect "the reserved host is taken (not reserved any more)" 200 \
    '.hosts | length == 0'
notify "$TMP/note.json"
expect "the same again: 409 (maintenance)" 409 \
    '.conflictingRequest.message | contains("already under maintenance")'
check "the recovery acted with the segment's credentials" sh -c \
    "curl -s $URL/v2/executions/\$(curl -s $URL/v1/notifications/$N_H |
    jq -r .notification.execution_id) | jq -e '.params | fromjson |
    .cloud == \"sim\"'"

api GET "/v1/notifications/$N_H" -H 'OpenStack-API-Version: instance-ha 1.1'
expect "1.1: recovery_workflow_details in Masakari's shape" 200 \
    '[.notification.recovery_workflow_details[] | .name] ==
     ["DisableComputeServiceTask", "PrepareHAEnabledInstancesTask",
      "EvacuateInstancesTask"] and
     all(.notification.recovery_workflow_details[];
       .state == "SUCCESS" and .progress == 1 and
       all(.progress_details[]; (.timestamp | test("^[0-9-]{10} [0-9:.]{15}$"))
         and (.progress | type) == "string"))'
check "its last message" sh -c "jq -e '.notification.recovery_workflow_details[2]
    .progress_details[-1] == {timestamp: .notification.recovery_workflow_details[2]
    .progress_details[-1].timestamp, message: \"Evacuation process completed!\",
    progress: \"1.0\"}' $TMP/body"
api GET "/v1/notifications/$N_H"
expect "1.0: no details" 200 '.notification | has("recovery_workflow_details") | not'

# COMPUTE_HOST that Masakari does not act on.
body masakari_notification_compute_host \
    '.notification.hostname = "compute-2" | .notification.payload.host_status = "UNKNOWN"'
notify "$TMP/note.json"
expect "host_status UNKNOWN: 202" 202
status_of "$(jb .notification.notification_uuid)" ignored
body masakari_notification_compute_host \
    '.notification.hostname = "compute-2" | .notification.payload.event = "STARTED"'
notify "$TMP/note.json"
expect "a host STARTED: 202" 202
status_of "$(jb .notification.notification_uuid)" finished
body masakari_notification_compute_host '.notification.hostname = "compute-9"'
notify "$TMP/note.json"
expect "a host of a disabled segment: 202" 202
status_of "$(jb .notification.notification_uuid)" ignored

# Masakari's 400s.
body masakari_notification_compute_host '.notification.hostname = "nowhere"'
notify "$TMP/note.json"
expect "an unknown host: 400" 400 \
    '.badRequest.message == "Host with name nowhere could not be found."'
body masakari_notification_compute_host '.notification.payload.extra = "x"'
notify "$TMP/note.json"
expect "an unknown payload key: 400" 400 '.badRequest.message | contains("extra")'
body masakari_notification_compute_host 'del(.notification.payload.event)'
notify "$TMP/note.json"
expect "a missing payload key: 400" 400 '.badRequest.message | contains("event")'
body masakari_notification_compute_host '.notification.type = "DISK"'
notify "$TMP/note.json"
expect "an unknown type: 400" 400 '.badRequest.message | contains("type")'
body masakari_notification_compute_host '.notification.generated_time = "yesterday"'
notify "$TMP/note.json"
expect "a bad time: 400" 400 '.badRequest.message | contains("generated_time")'
api POST /v1/notifications -H 'Content-Type: application/json' -d '{"x": 1}'
expect "no notification: 400" 400
check "none of them was stored" test "$(curl -s "$URL/v1/notifications" |
    jq '.notifications | length')" -eq 10

# Lists, the project's path, 404.
api GET "/v1/notifications?status=ignored&type=VM"
expect "notifications filtered by status and type" 200 \
    '.notifications | length == 1'
api GET "/v1/notifications?sort_key=generated_time&sort_dir=asc&limit=2"
expect "sorted and limited" 200 '.notifications | length == 2'
api GET "/v1/0f1e2d3c4b5a69788796a5b4c3d2e1f0/notifications/$N_H"
expect "under /v1/{project_id} as Keystone catalogs write it" 200 \
    ".notification.notification_uuid == \"$N_H\""
api GET /v1/notifications/00000000-0000-4000-8000-000000000000
expect "an unknown notification: 404" 404

# In use: a segment with a host being recovered cannot be deleted.
mk DELETE "/v1/segments/$OFF"
expect "delete a segment and its hosts" 204
mk GET "/v1/segments/$OFF"
expect "it is gone" 404

# --- declared in a workbook ---------------------------------------------
cat >"$TMP/workflows/segs.yaml" <<'EOF'
version: '2.0'
name: racks
segments:
  rack2:
    recovery_method: auto_priority
    hosts:
      compute-20: {}
      compute-21: {reserved: true}
EOF
_i=0
while [ $_i -lt 50 ] && ! curl -s "$URL/v1/segments" |
    jq -e '.segments[] | select(.name == "rack2")' >/dev/null; do
	sleep 0.1
	_i=$((_i + 1))
done
mk GET /v1/segments
expect "a segment declared in a workbook" 200 '.segments[] |
    select(.name == "rack2") | .recovery_method == "auto_priority" and
    .source == "workbook:racks"'
rm "$TMP/workflows/segs.yaml"
_i=0
while [ $_i -lt 50 ] && curl -s "$URL/v1/segments" |
    jq -e '.segments[] | select(.name == "rack2")' >/dev/null; do
	sleep 0.1
	_i=$((_i + 1))
done
mk GET /v1/segments
expect "its file gone, it is gone" 200 '[.segments[].name] == ["seg"]'
printf 'version: "2.0"\nname: bad\nsegments:\n  s:\n    recovery_method: fast\n' \
    >"$TMP/bad.yaml"
"$BORA" validate "$TMP/bad.yaml" >"$TMP/bad.out" 2>&1
check "a bad declaration names its place" grep -q \
    "bad.yaml:5:22: unknown recovery method 'fast'" "$TMP/bad.out"

# --- credentials ----------------------------------------------------------
mk POST /v1/segments '{"segment": {"name": "wrong", "recovery_method": "auto",
    "service_type": "COMPUTE", "cloud": "wrong"}}'
WRONG=$(jb .segment.uuid)
mk POST "/v1/segments/$WRONG/hosts" '{"host": {"name": "compute-2", "type":
    "COMPUTE", "control_attributes": "SSH"}}'
expect "compute-2 is taken by segment seg" 409
mk POST "/v1/segments/$WRONG/hosts" '{"host": {"name": "compute-5", "type":
    "COMPUTE", "control_attributes": "SSH"}}'
body masakari_notification_process '.notification.hostname = "compute-5"'
notify "$TMP/note.json"
N_W=$(jb .notification.notification_uuid)
status_of "$N_W" error
X=$(curl -s "$URL/v1/notifications/$N_W" | jq -r .notification.execution_id)
curl -s "$URL/v2/executions/$X" >"$TMP/wrong.json"
check "wrong credentials: the recovery fails saying Keystone refused them" \
    grep -q "Keystone refused.*user 'admin'.*401 Unauthorized" "$TMP/wrong.json"
check "no password in the notification, execution, store or log" sh -c \
    "! grep -a -q -e not-the-pw-4321 -e gAAAAAB $TMP/wrong.json \
    $TMP/bora.db* $TMP/borad.log $SIM_LOG"
check "the monitor's token is stored nowhere" sh -c "! grep -a -q \
    masakari-monitor-token $TMP/bora.db* $TMP/borad.log"
# An execution's params name its credentials, for its sub-workflows too.
for c in wrong sim; do
	api_json POST /v2/executions "{\"workflow_name\":
	    \"masakari.process_failure\", \"input\": {\"host_name\":
	    \"compute-1\", \"process_name\": \"nova-compute\",
	    \"verify_interval\": 0.1}, \"params\": {\"cloud\": \"$c\"}}"
	expect "an execution acting as cloud '$c'" 201
	wait_state "$(jb .id)" SUCCESS ERROR
	eval "STATE_$c=\$(curl -s \"$URL/v2/executions/$(jb .id)\" | jq -r .state)"
done
check "params.cloud: wrong credentials fail it, the right ones work" \
    test "$STATE_wrong $STATE_sim" = "ERROR SUCCESS"

# --- keystone-auth -----------------------------------------------------------
borad_stop
borad_recovery --keystone-auth || exit 1
token()
{
	curl -s -i -X POST "$SIM/identity/v3/auth/tokens" \
	    -H 'Content-Type: application/json' -d "{\"auth\": {\"identity\":
	    {\"methods\": [\"password\"], \"password\": {\"user\": {\"name\":
	    \"$1\", \"domain\": {\"name\": \"Default\"}, \"password\": \"$2\"}}},
	    \"scope\": {\"project\": {\"name\": \"$1\", \"domain\": {\"name\":
	    \"Default\"}}}}}" | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p' |
	    tr -d '\r'
}
ADMIN=$(token admin secret)
DEMO=$(token demo demo)
N0=$(curl -s -H "X-Auth-Token: $ADMIN" "$URL/v1/notifications" |
    jq '.notifications | length')
body masakari_notification_vm_lifecycle \
    '.notification.generated_time = "2026-11-24T00:00:00.000000"'
notify "$TMP/note.json"
expect "keystone-auth: a token Keystone does not know is 401" 401
api POST /v1/notifications -H 'Content-Type: application/json' \
    -H "X-Auth-Token: $DEMO" --data-binary "@$TMP/note.json"
expect "a valid token without the admin role is 401" 401
api POST /v1/notifications -H 'Content-Type: application/json' \
    --data-binary "@$TMP/note.json"
expect "no token is 401" 401
check "none of them stored or started anything" test "$(curl -s \
    -H "X-Auth-Token: $ADMIN" "$URL/v1/notifications" |
    jq '.notifications | length')" -eq "$N0"
api POST /v1/notifications -H 'Content-Type: application/json' \
    -H "X-Auth-Token: $ADMIN" --data-binary "@$TMP/note.json"
expect "an admin token Keystone vouches for is accepted" 202
api GET /v2/executions -H "X-Auth-Token: $ADMIN"
expect "on the Mistral API too (Vitrage's notifier)" 200
# Tokens the simulator stops honouring after 2 s: cached until then.
printf 'keystone:\n  token_expires_after: 2\n' >"$TMP/short.yaml"
sim_start --delay 0 --scenario "$TMP/short.yaml" || exit 1
SHORT=$(token admin secret)
api GET /v1/segments -H "X-Auth-Token: $SHORT"
expect "a fresh token" 200
sleep 2.5
api GET /v1/segments -H "X-Auth-Token: $SHORT"
check "while cached, Keystone is not asked again" test "$(jq -r \
    'select(.path == "/identity/v3/auth/tokens" and .method == "GET" and
    .status != 401) | .status' "$SIM_LOG" | wc -l)" -eq 1
cat >"$TMP/short.yaml" <<'EOF'
keystone:
  token_ttl: 1
EOF
sim_start --delay 0 --scenario "$TMP/short.yaml" || exit 1
EXPIRING=$(token admin secret)
sleep 1.5
api POST /v1/notifications -H 'Content-Type: application/json' \
    -H "X-Auth-Token: $EXPIRING" --data-binary "@$TMP/note.json"
expect "an expired token is 401" 401

finish
