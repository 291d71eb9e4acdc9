#!/bin/bash
#
# mistral.sh -- bora and the real OpenStack Mistral 15, side by side, in
# one run: the same benchmark script (../shared/peers/mistral/
# bench_mistral.sh: a 50-task chain, with-items over 1000 items, 20
# concurrent 5-task executions, 3 retries with delay 0) against Mistral
# started from Debian's packages and against borad, both on PostgreSQL.
# Not a test.  Needs python3-mistral (see run_mistral.sh) and PostgreSQL.
#
#   BORAD=./src/borad bench/mistral.sh
#
# Wall times are measured by polling every 0.1 s, so borad's are upper
# bounds; the CPU columns tell the engines apart more finely.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$here/.." && pwd)
BORAD=${BORAD:-./src/borad}
PEERS=${PEERS:-$SRCDIR/../shared/peers/mistral}
REPS=${REPS:-1}
export RUN_DIR=${RUN_DIR:-/tmp/bora-bench-mistral}

[ -x "$PEERS/run_mistral.sh" ] || { echo "bench: no $PEERS" >&2; exit 1; }
[ -x "$BORAD" ] || { echo "bench: $BORAD is not built" >&2; exit 1; }

echo "=== Mistral 15 (PostgreSQL)"
(cd "$PEERS" && ./run_mistral.sh start >"$RUN_DIR.start.log" 2>&1) || {
	echo "bench: Mistral did not start; see $RUN_DIR.start.log" >&2
	exit 1
}
(cd "$PEERS" && REPS=$REPS IDLE_SECS=0 ./bench_mistral.sh 2>&1 |
    grep -E '^(RESULT|server pid|after:)')
(cd "$PEERS" && ./run_mistral.sh stop >/dev/null 2>&1)

echo "=== borad (PostgreSQL)"
. "$SRCDIR/tests/pg-env.sh"
wf=$(mktemp -d "${TMPDIR:-/tmp}/bora-bench.XXXXXX")
port=18989
"$BORAD" -d --db "$BORA_TEST_PGURL" --listen "127.0.0.1:$port" \
    --workflows "$wf" >"$wf/borad.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$wf"' EXIT
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "bench: borad not ready" >&2; exit 1; }
	sleep 0.1
done
(cd "$PEERS" && MISTRAL_PID=$pid REPS=$REPS IDLE_SECS=0 \
    MISTRAL_URL=http://127.0.0.1:$port/v2 RUN_DIR=$wf \
    ./bench_mistral.sh 2>&1 | grep -E '^(RESULT|server pid|after:)')
