# lib.sh -- shared helpers of the borad integration tests, sourced by
# api.sh, api-pg.sh, mistral-cli.sh and reload.sh: start the real borad
# on a free port with a temporary SQLite store and temporary watched
# folders, wait for /readyz, stop it; curl wrappers; one line per check.
#
# Environment: BORAD (the daemon), SRCDIR (the source tree, for
# tests/data/api), BUILDDIR.  BORAD_DB, when set, is the store URL
# instead of a SQLite file in the temporary directory.  CI=true turns
# a missing tool into a failure instead of a skip (77).

: "${BUILDDIR:=$(pwd)}"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BORAD:=$BUILDDIR/src/borad}"
DATA=$SRCDIR/tests/data/api

NAME=$(basename "$0" .sh)
FAILED=0
NCHECK=0
BORAD_PID=
PORT=
URL=

# skip WHY: exit 77, or fail under CI.
skip()
{
	if [ "${CI:-}" = true ]; then
		echo "FAIL - $NAME: $1 (CI=true: not skipping)"
		exit 1
	fi
	echo "SKIP - $NAME: $1"
	exit 77
}

# need TOOL...: every tool must be on PATH.
need()
{
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
	done
}

[ -x "$BORAD" ] || skip "$BORAD is not built"
need curl jq python3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bora-$NAME.XXXXXX")
mkdir -p "$TMP/workflows" "$TMP/actions" "$TMP/lua"

cleanup()
{
	borad_stop
	if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$TMP"
	else
		echo "# logs and files kept in $TMP"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ok NAME / not_ok NAME DETAIL: one line per check.
ok()
{
	NCHECK=$((NCHECK + 1))
	echo "ok $NCHECK - $1"
}

not_ok()
{
	NCHECK=$((NCHECK + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $NCHECK - $1${2:+: $2}"
}

# check NAME COMMAND...: ok when the command succeeds.
check()
{
	_n=$1
	shift
	if "$@" >/dev/null 2>&1; then
		ok "$_n"
	else
		not_ok "$_n" "$*"
	fi
}

# free_port: print a TCP port nobody listens on now.
free_port()
{
	python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# borad_start [ARGS...]: start borad, wait for /readyz.
borad_start()
{
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	"$BORAD" -d --db "${BORAD_DB:-sqlite:$TMP/bora.db}" --listen "127.0.0.1:$PORT" \
	    --workflows "$TMP/workflows" --actions "$TMP/actions" \
	    --lua "$TMP/lua" --grace 2s "$@" >>"$TMP/borad.log" 2>&1 &
	BORAD_PID=$!
	borad_wait
}

# borad_wait: wait for /readyz of the borad just started (BORAD_PID, URL).
borad_wait()
{
	_i=0
	while [ $_i -lt 100 ]; do
		if curl -sf -o /dev/null "$URL/readyz"; then
			return 0
		fi
		if ! kill -0 "$BORAD_PID" 2>/dev/null; then
			echo "# borad exited; log:"
			sed 's/^/# /' "$TMP/borad.log"
			BORAD_PID=
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "# borad not ready after 10 s"
	return 1
}

# borad_stop: SIGTERM and wait; returns borad's exit status.
borad_stop()
{
	_rc=0
	if [ -n "$BORAD_PID" ]; then
		kill -TERM "$BORAD_PID" 2>/dev/null
		wait "$BORAD_PID" 2>/dev/null || _rc=$?
		BORAD_PID=
	fi
	return $_rc
}

# api METHOD PATH [CURL-ARGS...]: sets STATUS; the body is in $TMP/body
# and the headers in $TMP/headers.
api()
{
	_m=$1
	_p=$2
	shift 2
	STATUS=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' \
	    -X "$_m" "$@" "$URL$_p")
}

# api_json METHOD PATH JSON: a JSON request.
api_json()
{
	api "$1" "$2" -H 'Content-Type: application/json' --data-binary "$3"
}

# api_text METHOD PATH FILE: a YAML upload.
api_text()
{
	api "$1" "$2" -H 'Content-Type: text/plain' --data-binary "@$3"
}

# jb FILTER: jq over the last body (raw output).
jb()
{
	jq -r "$1" "$TMP/body"
}

# expect NAME CODE [JQ-TEST]: the last answer had status CODE and the
# jq test (if any) holds on its body.
expect()
{
	if [ "$STATUS" != "$2" ]; then
		not_ok "$1" "status $STATUS, expected $2: $(head -c 300 \
		    "$TMP/body")"
		return 1
	fi
	if [ -n "${3:-}" ] && ! jq -e "$3" "$TMP/body" >/dev/null 2>&1; then
		not_ok "$1" "body fails '$3': $(head -c 300 "$TMP/body")"
		return 1
	fi
	ok "$1"
}

# wait_state EXEC_ID STATE...: poll until the execution is in one of the
# states (10 s).
wait_state()
{
	_id=$1
	shift
	_i=0
	while [ $_i -lt 100 ]; do
		_s=$(curl -s "$URL/v2/executions/$_id" | jq -r .state)
		for _want in "$@"; do
			[ "$_s" = "$_want" ] && return 0
		done
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "# execution $_id is $_s, not $*"
	return 1
}

# sanitizer_check LOG: fail when an ASan/LSan/UBSan report is in LOG.
sanitizer_check()
{
	if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1" \
	    2>/dev/null; then
		not_ok "no sanitizer report in $(basename "$1")" \
		    "$(grep -E -m1 'Sanitizer|runtime error:' "$1")"
	else
		ok "no sanitizer report in $(basename "$1")"
	fi
}

# finish: stop borad (it must exit 0 with no sanitizer report), then
# the exit status of the script.
finish()
{
	if [ -n "$BORAD_PID" ]; then
		borad_stop
		_rc=$?
		check "borad exits with status 0 ($_rc)" test "$_rc" -eq 0
	fi
	sanitizer_check "$TMP/borad.log"
	echo "# $NAME: $NCHECK checks, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}

# wait_until SECONDS COMMAND...: run COMMAND every tenth of a second
# until it succeeds; 1 when SECONDS pass first.
wait_until()
{
	_wu_end=$(( $(date +%s) + $1 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$_wu_end" ] && return 1
		sleep 0.1
	done
	return 0
}

# yields SECONDS VALUE COMMAND...: wait until COMMAND prints VALUE.
yields()
{
	_y_secs=$1
	shift
	wait_until "$_y_secs" prints "$@"
}

# prints VALUE COMMAND...: COMMAND prints VALUE.
prints()
{
	_p_want=$1
	shift
	[ "$("$@" 2>/dev/null)" = "$_p_want" ]
}
