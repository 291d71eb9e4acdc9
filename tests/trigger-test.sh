#!/bin/sh
#
# trigger-test.sh -- "bora trigger test" against every alarm sample in
# tests/data/alarms/samples: each body (the captured bytes) goes to the
# sample's source with the triggers of tests/data/alarms/triggers.yaml,
# and the table printed must be tests/data/alarms/trigger-test/NAME.out.
# Then the JSON output, stdin, headers, and every way the command must
# refuse (bad usage, invalid workbook, invalid payload, failing trigger).
# Run by "make check" with $BORA and $SRCDIR set; needs jq.

: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BORA:=$SRCDIR/src/bora}"

if [ ! -x "$BORA" ]; then
	echo "trigger-test.sh: $BORA not found" >&2
	exit 1
fi
if ! command -v jq >/dev/null 2>&1; then
	echo "trigger-test.sh: jq is needed (see .ci/deps)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-trigger.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
data=$SRCDIR/tests/data/alarms
book=$data/triggers.yaml
fail=0
n=0

# The body of a captured sample, byte for byte when it was captured.
body() {
	jq -j 'if .body_raw then .body_raw else (.body | tojson) end' "$1"
}

# ok NAME: count a passed check; bad NAME WHY: a failed one.
ok() {
	n=$((n + 1))
	echo "ok   $1"
}
bad() {
	n=$((n + 1))
	fail=$((fail + 1))
	echo "FAIL $1: $2"
}

# Every sample posted to /v1/alarms/SOURCE.
for s in "$data"/samples/*.json; do
	name=$(basename "$s" .json)
	path=$(jq -r '.http.path // ""' "$s")
	case $path in
	/v1/alarms/*) ;;
	*) continue ;;
	esac
	source=${path#/v1/alarms/}
	source=${source%%\?*}
	body "$s" >"$tmp/body"
	key=$(jq -r '[.http.headers[] | select(.[0] | ascii_downcase ==
	    "idempotency-key") | .[1]][0] // ""' "$s")
	if [ -n "$key" ]; then
		set -- -H "Idempotency-Key: $key"
	else
		set --
	fi
	"$BORA" trigger test "$book" --alarm "$tmp/body" --source "$source" \
	    "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ ! -f "$data/trigger-test/$name.out" ]; then
		bad "$name" "no trigger-test/$name.out"
	elif [ "$rc" -ne 0 ]; then
		bad "$name" "exit status $rc"
		cat "$tmp/err"
	elif ! cmp -s "$tmp/out" "$data/trigger-test/$name.out"; then
		bad "$name" "output differs"
		diff -u "$data/trigger-test/$name.out" "$tmp/out"
	else
		ok "$name"
	fi
done
[ "$n" -ge 11 ] || bad samples "only $n alarm samples found"

# JSON: the verdicts of the Alertmanager group, as borad will log them.
body "$data/samples/alertmanager_webhook.json" >"$tmp/am"
if "$BORA" -f json trigger test "$book" --alarm "$tmp/am" \
    --source alertmanager >"$tmp/json" &&
    [ "$(jq -r '[.events[].verdicts[] | .trigger + "=" + .verdict] |
    join(" ")' "$tmp/json")" = "recovery.host_down=when_false \
recovery.ipmi_power=started recovery.host_down=cancelled \
recovery.ipmi_power=resolved_ignored" ] &&
    [ "$(jq -r '.events[0].verdicts[1].input.message' "$tmp/json")" = \
    "power off on compute-1" ] &&
    [ "$(jq -r '.events[1].alert.raw.fingerprint' "$tmp/json")" = \
    "407df3e2609e3cae" ] &&
    [ "$(jq -r '.not_listening | map(.trigger) | join(" ")' \
    "$tmp/json")" = "recovery.vm_error recovery.aodh_threshold \
recovery.vitrage_host recovery.zabbix_service recovery.generic_any" ]; then
	ok json
else
	bad json "unexpected JSON output"
	cat "$tmp/json"
fi
if "$BORA" trigger test "$book" --alarm "$tmp/am" --source alertmanager \
    -f yaml | grep -q '^ *verdict: started$'; then
	ok yaml
else
	bad yaml "no started verdict in the YAML output"
fi

# The payload from stdin.
if body "$data/samples/zabbix_webhook.json" | "$BORA" trigger test \
    "$book" --alarm - --source zabbix | grep -q 'would start'; then
	ok stdin
else
	bad stdin "nothing would start"
fi

# expect RC STDERR-TEXT ARGS...: exit status and message.
expect() {
	want_rc=$1
	want=$2
	shift 2
	"$BORA" trigger test "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want_rc" ]; then
		bad "$want" "exit status $rc, expected $want_rc"
		cat "$tmp/err"
	elif ! grep -qF -- "$want" "$tmp/err"; then
		bad "$want" "not in the errors"
		cat "$tmp/err"
	else
		ok "$want"
	fi
}

expect 2 "--alarm PAYLOAD is required" "$book" --source generic
expect 2 "--source SOURCE is required" "$book" --alarm "$tmp/am"
expect 2 "no workbook given" --alarm "$tmp/am" --source alertmanager
expect 2 "unknown alarm source 'alertmanger' (did you mean 'alertmanager'?)" \
    "$book" --alarm "$tmp/am" --source alertmanger
expect 2 "-H wants 'Name: value'" "$book" --alarm "$tmp/am" \
    --source alertmanager -H nocolon
printf '{"alerts": [{"status": 1}]}' >"$tmp/bad"
expect 1 "$tmp/bad: \$.alerts[0].status: expected a string, got an integer" \
    "$book" --alarm "$tmp/bad" --source grafana
printf '{"key": "a", "x": "\377"}' >"$tmp/utf8"
expect 1 "$tmp/utf8: invalid JSON at line 1" "$book" --alarm "$tmp/utf8" \
    --source generic
expect 1 "nope.json: No such file or directory" "$book" \
    --alarm "$tmp/nope.json" --source generic
cat >"$tmp/broken.yaml" <<'EOF'
version: '2.0'
name: broken
triggers:
  t:
    source: genric
    workflow: recovery.notify
    on-resolved: later
EOF
expect 1 "broken.yaml:5:13: unknown alarm source 'genric' (did you mean \
'generic'?) (triggers.t.source)" "$tmp/broken.yaml" "$book" \
    --alarm "$tmp/am" --source generic
expect 1 "broken.yaml:7:18: expected ignore, cancel or start" \
    "$tmp/broken.yaml" --alarm "$tmp/am" --source generic
cat >"$tmp/failing.yaml" <<'EOF'
version: '2.0'
name: failing
triggers:
  t:
    source: generic
    workflow: recovery.notify
    input: {message: <% alert.labels.none.deeper %>}
EOF
printf '{"key": "k1"}' >"$tmp/gen"
"$BORA" trigger test "$tmp/failing.yaml" "$book" --alarm "$tmp/gen" \
    --source generic >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q '^failing.t  *failed ' "$tmp/out" &&
    grep -q '^  failing.t: input: expression "<% alert.labels.none.deeper' \
    "$tmp/out" && grep -q '^recovery.generic_any  *would start' "$tmp/out"
then
	ok "a failing trigger"
else
	bad "a failing trigger" "exit status $rc"
	cat "$tmp/out" "$tmp/err"
fi
if "$BORA" trigger test --help | grep -q 'usage: bora trigger test FILE'; then
	ok --help
else
	bad --help "no usage"
fi

echo "$((n - fail))/$n passed"
[ "$fail" -eq 0 ]
