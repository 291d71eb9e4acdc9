#!/bin/sh
#
# recovery-flows.sh -- the shipped flows against the simulated cloud:
# for Masakari's host, instance and process failure flows and each of
# their recovery methods and options that change them, the Nova calls
# (in order, per server) and the progress messages (with their values)
# are those MASAKARI_FLOWS.md lists; where bora does better than
# Masakari (force_down), the difference is the one documented.  Also
# evacuate_host and migrate_server.
#
# Servers are evacuated one at a time (host_failure_recovery_threads 1)
# so that messages come in one order.
#
# Environment: BORA, BORAD, BUILDDIR, SRCDIR (see lib.sh).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sim-lib.sh"

A=11111111-1111-4111-8111-111111111111
B=22222222-2222-4222-8222-222222222222
C=33333333-3333-4333-8333-333333333333

# The cloud of Masakari's traces: three servers on compute-1 (active and
# HA-enabled, stopped, error and HA-enabled), compute-3 and compute-4
# kept aside as reserved hosts (their services disabled), compute-5
# empty; the instance and process flows use compute-2's servers.
cat >"$TMP/cloud.yaml" <<EOF
service_down_time: 0
hosts:
  - {name: compute-1}
  - {name: compute-2}
  - {name: compute-3, enabled: false}
  - {name: compute-4, enabled: false}
  - {name: compute-5}
aggregates:
  - {id: 1, name: agg-ha, hosts: [compute-1, compute-2]}
servers:
  - {id: $A, name: vm-ha-active, host: compute-1, vm_state: active,
     metadata: {HA_Enabled: "True"}}
  - {id: $B, name: vm-stopped, host: compute-1, vm_state: stopped,
     power_state: 4}
  - {id: $C, name: vm-error, host: compute-1, vm_state: error,
     metadata: {HA_Enabled: "True"}}
  - {id: 44444444-4444-4444-8444-444444444444, name: vm-ha, host: compute-2,
     vm_state: active, metadata: {HA_Enabled: "yes"}}
  - {id: 55555555-5555-4555-8555-555555555555, name: vm-plain,
     host: compute-2, vm_state: active}
  - {id: 66666666-6666-4666-8666-666666666666, name: vm-paused,
     host: compute-2, vm_state: paused, metadata: {HA_Enabled: "True"}}
  - {id: 77777777-7777-4777-8777-777777777777, name: vm-resized,
     host: compute-2, vm_state: resized, metadata: {HA_Enabled: "True"}}
EOF

# The reserved hosts are hosts of a segment (declared in a workbook).
cat >"$TMP/workflows/segments.yaml" <<'EOF'
version: '2.0'
name: cloud
segments:
  seg:
    recovery_method: auto
    hosts:
      compute-1: {}
      compute-2: {}
      compute-3: {reserved: true}
      compute-4: {reserved: true}
      compute-5: {}
EOF

# host_input JSON-MEMBERS: a host failure of compute-1, Masakari's
# waits made short, one server at a time.
host_input()
{
	echo "{\"host_name\": \"compute-1\", \
\"wait_period_after_service_update\": 0, \"verify_interval\": 0.1, \
\"host_failure_recovery_threads\": 1${1:+, $1}}"
}

# reserve HOST...: make the hosts reserved again (a recovery took them).
reserve()
{
	_seg=$(curl -s "$URL/v1/segments" | jq -r '.segments[0].uuid')
	for _h in "$@"; do
		_id=$(curl -s "$URL/v1/segments/$_seg/hosts" |
		    jq -r ".hosts[] | select(.name == \"$_h\") | .uuid")
		curl -s -o /dev/null -X PUT "$URL/v1/segments/$_seg/hosts/$_id" \
		    -H 'Content-Type: application/json' \
		    -d '{"host": {"reserved": true}}'
	done
}

# reserved HOST: print whether the host is reserved.
reserved()
{
	_seg=$(curl -s "$URL/v1/segments" | jq -r '.segments[0].uuid')
	curl -s "$URL/v1/segments/$_seg/hosts" |
	    jq -r ".hosts[] | select(.name == \"$1\") | .reserved"
}

# fresh: the cloud as it was, compute-1 dead.
fresh()
{
	sim_start --delay 0 --scenario "$TMP/cloud.yaml" "$@" || exit 1
	sim_host compute-1 '{"alive": false}'
	: >"$SIM_LOG"
}

sim_start --delay 0 --scenario "$TMP/cloud.yaml" || exit 1
borad_recovery || exit 1

# --- host failure, auto, as Masakari does it (no force_down) ----------
fresh
run_flow masakari.host_failure "$(host_input '"force_down": false')"
check "status finished" sh -c "curl -s $URL/v2/executions/$EX |
    jq -e '.output | fromjson | .status == \"finished\"'"
calls_are "auto: Masakari's Nova calls, per server" --by-server <<'EOF'
GET /os-services?binary=nova-compute&host=compute-1
PUT /os-services/compute-1 {"disabled_reason":"Masakari detected host failed.","status":"disabled"}
GET /servers/detail?all_tenants=True&host=compute-1
== vm-error
GET /servers/vm-error
POST /servers/vm-error/action {"lock":null}
POST /servers/vm-error/action {"evacuate":{}}
GET /servers/vm-error
POST /servers/vm-error/action {"os-stop":null}
GET /servers/vm-error
POST /servers/vm-error/action {"os-resetState":{"state":"error"}}
POST /servers/vm-error/action {"unlock":null}
== vm-ha-active
GET /servers/vm-ha-active
POST /servers/vm-ha-active/action {"lock":null}
POST /servers/vm-ha-active/action {"evacuate":{}}
GET /servers/vm-ha-active
POST /servers/vm-ha-active/action {"unlock":null}
== vm-stopped
GET /servers/vm-stopped
POST /servers/vm-stopped/action {"lock":null}
POST /servers/vm-stopped/action {"evacuate":{}}
GET /servers/vm-stopped
POST /servers/vm-stopped/action {"unlock":null}
EOF
progress_is "auto: Masakari's progress messages and values" <<'EOF'
0.0 Disabling compute service on host: 'compute-1'
1.0 Disabled compute service on host: 'compute-1'
0.0 Preparing instances for evacuation
0.3 Total instances running on failed host 'compute-1' is 3
0.6 Total HA Enabled instances count: '2'
0.7 Total Non-HA Enabled instances count: '1'
0.8 All instances (HA Enabled/Non-HA Enabled) should be considered for evacuation. Total count is: '3'
1.0 Instances to be evacuated are: 'vm-ha-active,vm-error,vm-stopped'
0.0 Start evacuation of instances from failed host 'compute-1', instance uuids are: 'vm-ha-active,vm-error,vm-stopped'
0.5 Evacuation of instance started: 'vm-ha-active'
0.5 Evacuation of instance started: 'vm-error'
0.5 Evacuation of instance started: 'vm-stopped'
0.7 Successfully evacuate instances 'vm-ha-active,vm-stopped,vm-error' from host 'compute-1'
1.0 Evacuation process completed!
EOF
check "the servers end as Masakari leaves them (active, stopped, stopped+error)" \
    sh -c "curl -s $SIM/_sim/state | jq -e '[.servers[] |
    select(.host != \"compute-1\" and (.name | startswith(\"vm-\")) and
    (.name == \"vm-ha-active\" or .name == \"vm-stopped\" or
    .name == \"vm-error\")) | .name + \"=\" + .vm_state + \"/\" +
    (.power_state | tostring)] | sort ==
    [\"vm-error=error/4\", \"vm-ha-active=active/1\", \"vm-stopped=stopped/4\"]'"
check "the servers are unlocked" sh -c "curl -s $SIM/_sim/state |
    jq -e '[.servers[] | select(.locked)] | length == 0'"

# --- the same with bora's force_down (the default) ---------------------
fresh
run_flow masakari.host_failure "$(host_input)"
calls_are "force_down: the service is marked down instead of a wait" <<'EOF'
GET /os-services?binary=nova-compute&host=compute-1
PUT /os-services/compute-1 {"disabled_reason":"Masakari detected host failed.","status":"disabled"}
PUT /os-services/compute-1 {"forced_down":true}
GET /servers/detail?all_tenants=True&host=compute-1
GET /servers/vm-ha-active
POST /servers/vm-ha-active/action {"lock":null}
POST /servers/vm-ha-active/action {"evacuate":{}}
GET /servers/vm-ha-active
POST /servers/vm-ha-active/action {"unlock":null}
GET /servers/vm-error
POST /servers/vm-error/action {"lock":null}
POST /servers/vm-error/action {"evacuate":{}}
GET /servers/vm-error
POST /servers/vm-error/action {"os-stop":null}
GET /servers/vm-error
POST /servers/vm-error/action {"os-resetState":{"state":"error"}}
POST /servers/vm-error/action {"unlock":null}
GET /servers/vm-stopped
POST /servers/vm-stopped/action {"lock":null}
POST /servers/vm-stopped/action {"evacuate":{}}
GET /servers/vm-stopped
POST /servers/vm-stopped/action {"unlock":null}
EOF

# --- options: HA-enabled servers only, error ones ignored --------------
fresh
run_flow masakari.host_failure "$(host_input '"evacuate_all_instances":
    false, "ignore_instances_in_error_state": true')"
progress_is "evacuate_all_instances false, ignore_instances_in_error_state true" <<'EOF'
0.0 Disabling compute service on host: 'compute-1'
1.0 Disabled compute service on host: 'compute-1'
0.0 Preparing instances for evacuation
0.3 Total instances running on failed host 'compute-1' is 3
0.4 Ignoring recovery of HA_Enabled instance 'vm-error' as it is in 'error' state.
0.6 Total HA Enabled instances count: '1'
1.0 Instances to be evacuated are: 'vm-ha-active'
0.0 Start evacuation of instances from failed host 'compute-1', instance uuids are: 'vm-ha-active'
0.5 Evacuation of instance started: 'vm-ha-active'
0.7 Successfully evacuate instances 'vm-ha-active' from host 'compute-1'
1.0 Evacuation process completed!
EOF
check "only the HA-enabled server was evacuated" test "$($CALLS calls \
    "$SIM_LOG" | grep -c evacuate)" -eq 1

# --- options: the reason the compute service is disabled for -----------
fresh
run_flow masakari.host_failure "$(host_input '"service_disable_reason":
    "fenced by rack-a PDU"')"
check "service_disable_reason is what the service is disabled with" sh -c \
    "$CALLS calls $SIM_LOG | grep -qx 'PUT /os-services/compute-1 \
{\"disabled_reason\":\"fenced by rack-a PDU\",\"status\":\"disabled\"}'"

# --- options: another metadata key -------------------------------------
fresh
run_flow masakari.host_failure "$(host_input '"evacuate_all_instances":
    false, "ha_enabled_instance_metadata_key": "Other"')"
check "ha_enabled_instance_metadata_key: no server has Other" sh -c \
    "$CALLS progress $TMP/events.json $SIM_LOG | grep -qx \"1.0 Skipped host \
'compute-1' recovery as no instances needs to be evacuated\""

# --- nothing to evacuate -----------------------------------------------
fresh
sim_host compute-5 '{"alive": false}'
run_flow masakari.host_failure "{\"host_name\": \"compute-5\", \
\"wait_period_after_service_update\": 0}"
check "status skipped" sh -c "curl -s $URL/v2/executions/$EX |
    jq -e '.output | fromjson | .status == \"skipped\"'"
calls_are "no servers: the service only" <<'EOF'
GET /os-services?binary=nova-compute&host=compute-5
PUT /os-services/compute-5 {"disabled_reason":"Masakari detected host failed.","status":"disabled"}
PUT /os-services/compute-5 {"forced_down":true}
GET /servers/detail?all_tenants=True&host=compute-5
EOF
progress_is "no servers: Masakari's skip" <<'EOF'
0.0 Disabling compute service on host: 'compute-5'
1.0 Disabled compute service on host: 'compute-5'
0.0 Preparing instances for evacuation
0.3 Total instances running on failed host 'compute-5' is 0
0.6 Total HA Enabled instances count: '0'
0.7 Total Non-HA Enabled instances count: '0'
0.8 All instances (HA Enabled/Non-HA Enabled) should be considered for evacuation. Total count is: '0'
1.0 Skipped host 'compute-5' recovery as no instances needs to be evacuated
EOF

# --- Nova still sees the service up ------------------------------------
fresh
sim_host compute-1 '{"alive": false, "report_up_for": 3600}'
run_flow masakari.host_failure "$(host_input '"force_down": false')" ERROR
calls_are "service still up: each evacuation refused (400)" --by-server <<'EOF'
GET /os-services?binary=nova-compute&host=compute-1
PUT /os-services/compute-1 {"disabled_reason":"Masakari detected host failed.","status":"disabled"}
GET /servers/detail?all_tenants=True&host=compute-1
== vm-error
GET /servers/vm-error
POST /servers/vm-error/action {"lock":null}
POST /servers/vm-error/action {"evacuate":{}} -> 400
POST /servers/vm-error/action {"unlock":null}
== vm-ha-active
GET /servers/vm-ha-active
POST /servers/vm-ha-active/action {"lock":null}
POST /servers/vm-ha-active/action {"evacuate":{}} -> 400
POST /servers/vm-ha-active/action {"unlock":null}
== vm-stopped
GET /servers/vm-stopped
POST /servers/vm-stopped/action {"lock":null}
POST /servers/vm-stopped/action {"evacuate":{}} -> 400
POST /servers/vm-stopped/action {"unlock":null}
EOF
check "and the host flow fails naming them" sh -c "$CALLS progress \
    $TMP/events.json $SIM_LOG | tail -1 | grep -qx \"0.7 Failed to evacuate \
instances 'vm-ha-active,vm-error,vm-stopped' from host 'compute-1'\""
fresh
sim_host compute-1 '{"alive": false, "report_up_for": 3600}'
run_flow masakari.host_failure "$(host_input)"
check "with force_down the same failure recovers" test "$($CALLS calls \
    "$SIM_LOG" | grep -c 'evacuate.*-> 400')" -eq 0

# --- reserved_host, added to the failed host's aggregate ---------------
fresh
run_flow masakari.host_failure "$(host_input '"recovery_method":
    "reserved_host", "reserved_host_list": ["compute-3"],
    "add_reserved_host_to_aggregate": true, "force_down": false')"
calls_are "reserved_host: Masakari's calls" --by-server <<'EOF'
GET /os-services?binary=nova-compute&host=compute-1
PUT /os-services/compute-1 {"disabled_reason":"Masakari detected host failed.","status":"disabled"}
GET /servers/detail?all_tenants=True&host=compute-1
GET /os-aggregates
POST /os-aggregates/1/action {"add_host":{"host":"compute-3"}}
GET /os-services?binary=nova-compute&host=compute-3
PUT /os-services/compute-3 {"status":"enabled"}
== vm-error
GET /servers/vm-error
POST /servers/vm-error/action {"lock":null}
POST /servers/vm-error/action {"evacuate":{"host":"compute-3"}}
GET /servers/vm-error
POST /servers/vm-error/action {"os-stop":null}
GET /servers/vm-error
POST /servers/vm-error/action {"os-resetState":{"state":"error"}}
POST /servers/vm-error/action {"unlock":null}
== vm-ha-active
GET /servers/vm-ha-active
POST /servers/vm-ha-active/action {"lock":null}
POST /servers/vm-ha-active/action {"evacuate":{"host":"compute-3"}}
GET /servers/vm-ha-active
POST /servers/vm-ha-active/action {"unlock":null}
== vm-stopped
GET /servers/vm-stopped
POST /servers/vm-stopped/action {"lock":null}
POST /servers/vm-stopped/action {"evacuate":{"host":"compute-3"}}
GET /servers/vm-stopped
POST /servers/vm-stopped/action {"unlock":null}
EOF
progress_is "reserved_host: Masakari's messages" <<'EOF'
0.0 Disabling compute service on host: 'compute-1'
1.0 Disabled compute service on host: 'compute-1'
0.0 Preparing instances for evacuation
0.3 Total instances running on failed host 'compute-1' is 3
0.6 Total HA Enabled instances count: '2'
0.7 Total Non-HA Enabled instances count: '1'
0.8 All instances (HA Enabled/Non-HA Enabled) should be considered for evacuation. Total count is: '3'
1.0 Instances to be evacuated are: 'vm-ha-active,vm-error,vm-stopped'
0.0 Start evacuation of instances from failed host 'compute-1', instance uuids are: 'vm-ha-active,vm-error,vm-stopped'
0.1 Enabling reserved host: 'compute-3'
0.2 Add host compute-3 to aggregate agg-ha
0.3 Added host compute-3 to aggregate agg-ha
0.5 Evacuation of instance started: 'vm-ha-active'
0.5 Evacuation of instance started: 'vm-error'
0.5 Evacuation of instance started: 'vm-stopped'
0.7 Successfully evacuate instances 'vm-ha-active,vm-stopped,vm-error' from host 'compute-1'
1.0 Evacuation process completed!
EOF
check "the reserved host taken is no longer reserved" test \
    "$(reserved compute-3)" = false
check "compute-4 still is" test "$(reserved compute-4)" = true

# Already in the aggregate: Masakari's 409 message, and on.
reserve compute-3
sed 's/hosts: \[compute-1, compute-2\]/hosts: [compute-1, compute-2, compute-3]/' \
    "$TMP/cloud.yaml" >"$TMP/agg.yaml"
sim_start --delay 0 --scenario "$TMP/agg.yaml" || exit 1
sim_host compute-1 '{"alive": false}'
: >"$SIM_LOG"
run_flow masakari.host_failure "$(host_input '"recovery_method":
    "reserved_host", "reserved_host_list": ["compute-3"],
    "add_reserved_host_to_aggregate": true')"
check "already in the aggregate: Masakari's message" sh -c "$CALLS progress \
    $TMP/events.json $SIM_LOG | grep -qx \"1.0 Host 'compute-3' already has \
been added to aggregate 'agg-ha'.\""
reserve compute-3

# --- reserved_host, the first reserved host fails its rebuilds ---------
fresh
sim_host compute-3 '{"fail_incoming": true}'
run_flow masakari.host_failure "$(host_input '"recovery_method":
    "reserved_host", "reserved_host_list": ["compute-3", "compute-4"]')"
check "retried on the next reserved host" sh -c "$CALLS calls $SIM_LOG |
    grep -c 'evacuate\":{\"host\":\"compute-4\"}' | grep -qx 3"
check "every host tried is no longer reserved (Masakari's update_host)" \
    sh -c "test $(reserved compute-3) = false && test $(reserved compute-4) = false"
check "the servers listed again for the second host" test "$($CALLS calls \
    "$SIM_LOG" | grep -c '^GET /servers/detail')" -eq 2
reserve compute-3 compute-4

# --- reserved_host with no reserved host: error before any call -------
fresh
run_flow masakari.host_failure "$(host_input '"recovery_method":
    "reserved_host", "reserved_host_list": []')" ERROR
check "no reserved host: Masakari's error, no Nova call" sh -c "
    curl -s $URL/v2/executions/$EX | jq -e '.state_info | contains(\"No \
reserved_hosts available for evacuation.\")' && test ! -s $SIM_LOG"

# --- rh_priority with no reserved host: auto ---------------------------
fresh
run_flow masakari.host_failure "$(host_input '"recovery_method":
    "rh_priority", "reserved_host_list": []')"
check "rh_priority falls back to auto" test "$($CALLS calls "$SIM_LOG" |
    grep -c 'evacuate":{}')" -eq 3

# --- auto_priority: no host for the scheduler, then a reserved one -----
sim_start --delay 0 --scenario "$TMP/cloud.yaml" || exit 1
sim_host compute-1 '{"alive": false}'
sim_host compute-2 '{"enabled": false}'
sim_host compute-5 '{"enabled": false}'
: >"$SIM_LOG"
run_flow masakari.host_failure "$(host_input '"recovery_method":
    "auto_priority", "reserved_host_list": ["compute-4"]')"
check "auto_priority: auto failed (no valid host), then reserved_host" sh -c \
    "$CALLS calls $SIM_LOG | grep -c 'evacuate\":{}' | grep -qx 3 &&
    $CALLS calls $SIM_LOG | grep -c 'evacuate\":{\"host\":\"compute-4\"}' |
    grep -qx 3"
check "the servers end on compute-4, stopped and in error (as Masakari)" \
    sh -c "curl -s $SIM/_sim/state | jq -e '[.servers[] | select(.name ==
    \"vm-ha-active\" or .name == \"vm-stopped\" or .name == \"vm-error\") |
    .host + \"/\" + .vm_state] | unique == [\"compute-4/error\"]'"
reserve compute-4

# --- a server its owner locked is not locked nor unlocked --------------
sed 's/vm_state: active,$/vm_state: active, locked: true,/' \
    "$TMP/cloud.yaml" >"$TMP/locked.yaml"
sim_start --delay 0 --scenario "$TMP/locked.yaml" || exit 1
sim_host compute-1 '{"alive": false}'
: >"$SIM_LOG"
run_flow masakari.host_failure "$(host_input)"
check "a locked server: no lock nor unlock" sh -c "! $CALLS calls $SIM_LOG |
    grep -q 'vm-ha-active/action {\"\\(un\\)\\?lock\"'"
check "and it stays locked" sh -c "curl -s $SIM/_sim/state | jq -e \
    '.servers[] | select(.name == \"vm-ha-active\") | .locked'"

# --- instance failure ---------------------------------------------------
fresh
run_flow masakari.instance_failure "{\"instance_uuid\": \
\"44444444-4444-4444-8444-444444444444\", \"verify_interval\": 0.1}"
calls_are "instance: stop, start, confirm" <<'EOF'
GET /servers/vm-ha
POST /servers/vm-ha/action {"os-stop":null}
GET /servers/vm-ha
POST /servers/vm-ha/action {"os-start":null}
GET /servers/vm-ha
EOF
progress_is "instance: Masakari's messages" <<'EOF'
0.0 Stopping instance: vm-ha
1.0 Stopped instance: 'vm-ha'
0.0 Starting instance: 'vm-ha'
1.0 Instance started: 'vm-ha'
0.0 Confirming instance 'vm-ha' vm_state is ACTIVE
1.0 Confirmed instance 'vm-ha' vm_state is ACTIVE
EOF
check "the server stayed on its host" sh -c "curl -s $SIM/_sim/state |
    jq -e '.servers[] | select(.name == \"vm-ha\") | .host == \"compute-2\"
    and .vm_state == \"active\"'"

run_flow masakari.instance_failure "{\"instance_uuid\": \
\"55555555-5555-4555-8555-555555555555\"}"
progress_is "instance not HA-enabled: skipped" <<'EOF'
1.0 Skipping recovery for instance: vm-plain as it is not Ha_Enabled
EOF
check "status finished" sh -c "curl -s $URL/v2/executions/$EX |
    jq -e '.output | fromjson | .status == \"finished\"'"

: >"$SIM_LOG"
run_flow masakari.instance_failure "{\"instance_uuid\": \
\"55555555-5555-4555-8555-555555555555\", \"process_all_instances\": true, \
\"verify_interval\": 0.1}"
check "process_all_instances: recovered all the same" test "$($CALLS calls \
    "$SIM_LOG" | grep -c 'os-st')" -eq 2

: >"$SIM_LOG"
run_flow masakari.instance_failure "{\"instance_uuid\": \
\"66666666-6666-4666-8666-666666666666\"}"
progress_is "instance paused: ignored" <<'EOF'
1.0 Recovery of instance 'vm-paused' is ignored as it is in 'paused' state.
EOF
check "status ignored" sh -c "curl -s $URL/v2/executions/$EX |
    jq -e '.output | fromjson | .status == \"ignored\"'"

: >"$SIM_LOG"
run_flow masakari.instance_failure "{\"instance_uuid\": \
\"77777777-7777-4777-8777-777777777777\", \"verify_interval\": 0.1}"
check "instance resized: set active, then stopped" sh -c "$CALLS calls \
    $SIM_LOG | head -3 | tail -2 | tr '\n' '|' | grep -qx \
    'POST /servers/vm-resized/action {\"os-resetState\":{\"state\":\"active\"}}|POST /servers/vm-resized/action {\"os-stop\":null}|'"

# --- process failure ----------------------------------------------------
: >"$SIM_LOG"
run_flow masakari.process_failure "{\"host_name\": \"compute-2\", \
\"process_name\": \"nova-compute\", \"verify_interval\": 0.1}"
calls_are "process: disable the compute service, confirm" <<'EOF'
GET /os-services?binary=nova-compute&host=compute-2
PUT /os-services/compute-2 {"disabled_reason":"Masakari detected process failed.","status":"disabled"}
GET /os-services?binary=nova-compute&host=compute-2
EOF
progress_is "process: Masakari's messages" <<'EOF'
0.0 Disabling compute service on host: 'compute-2'
1.0 Disabled compute service on host: 'compute-2'
0.0 Confirming compute service is disabled on host: 'compute-2'
1.0 Confirmed compute service is disabled on host: 'compute-2'
EOF
: >"$SIM_LOG"
run_flow masakari.process_failure "{\"host_name\": \"compute-2\", \
\"process_name\": \"nova-compute\", \"verify_interval\": 0.1}"
progress_is "process already disabled: Masakari's skip message" <<'EOF'
0.0 Disabling compute service on host: 'compute-2'
1.0 Skipping recovery for process nova-compute as it is already disabled
0.0 Confirming compute service is disabled on host: 'compute-2'
1.0 Confirmed compute service is disabled on host: 'compute-2'
EOF
: >"$SIM_LOG"
run_flow masakari.process_failure "{\"host_name\": \"compute-2\", \
\"process_name\": \"sshd\"}"
check "another process: skipped without a Nova call" test ! -s "$SIM_LOG"

# --- bora's own: evacuate_host and migrate_server ----------------------
fresh
run_flow evacuate_host "{\"host\": \"compute-1\", \"target\": \"compute-4\", \
\"verify_interval\": 0.1}"
check "evacuate_host: every server to the target" sh -c "curl -s \
    $SIM/_sim/state | jq -e '[.servers[] | select(.name == \"vm-ha-active\"
    or .name == \"vm-stopped\" or .name == \"vm-error\") | .host] | unique ==
    [\"compute-4\"]'"
check "its output names them" sh -c "curl -s $URL/v2/executions/$EX |
    jq -e '.output | fromjson | .evacuated | length == 3'"

fresh
run_flow migrate_server "{\"vm_id\": \"44444444-4444-4444-8444-444444444444\", \
\"poll_delay\": 0.1}"
calls_are "migrate_server: migrate, poll, confirm, verify" <<'EOF'
GET /servers/vm-ha
POST /servers/vm-ha/action {"migrate":null}
GET /servers/vm-ha
POST /servers/vm-ha/action {"confirmResize":null}
GET /servers/vm-ha
EOF
check "the server runs elsewhere" sh -c "curl -s $URL/v2/executions/$EX |
    jq -e '.output | fromjson | .host != .old_host and .status == \"ACTIVE\"'"

finish
