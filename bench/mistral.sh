#!/bin/bash
#
# mistral.sh -- bora and the real OpenStack Mistral 15, side by side, in
# one run, on the comparison shapes of ../shared/peers/mistral/workflows:
# (a) a 50-task chain of std.noop, (b) with-items over 1000 items, (c) 20
# concurrent 5-task executions, (d) std.fail retried 3 times with delay 0.
# Not a test: it prints figures.  Mistral is started from Debian's
# packages by the peer's run_mistral.sh (needs python3-mistral and
# python3-psycopg2, and root for its PostgreSQL cluster).
#
#   BORAD=./src/borad bench/mistral.sh [peer]
#	The peer's own script (bench_mistral.sh: curl, a poll every 0.1 s)
#	against Mistral and against borad, both on PostgreSQL.  borad's
#	wall times are then bounds set by the poll; its CPU columns tell
#	the engines apart more finely.
#
#   BORAD=./src/borad bench/mistral.sh time
#	The timing mode: each shape through the API by bench/mistral-
#	time.py, ONE persistent HTTP connection polling every POLL_MS
#	(default 1 ms) from just before the POST until the first GET that
#	shows a final state; borad on SQLite and on PostgreSQL (durable
#	commits), then Mistral on both, and a table bora vs Mistral per
#	shape and store with the ratio, against the goals (>= 500x Mistral
#	on every shape; the 50-task chain <= 5 ms on PostgreSQL).  Mistral
#	is polled every MISTRAL_POLL_MS (default 100 ms, as in its recorded
#	figures: each GET costs it about 5 ms of CPU on the one hub that
#	also runs its engine, so a 1 ms poll would slow it down), after it
#	has gone idle between runs.  When Mistral cannot start, its
#	recorded figures (../shared/peers/mistral/RESULTS.md) are printed
#	instead, labelled as such.
#
# Environment: BORAD, PEERS (../shared/peers/mistral), REPS (peer mode,
# default 1), and for the timing mode STORES ("sqlite pg"),
# MISTRAL_STORES ("pg sqlite"; empty: use the recorded figures), REPS_BORA
# (11, median printed, after one warm-up), REPS_MISTRAL (1, after one
# warm-up), POLL_MS, MISTRAL_POLL_MS, N_ITEMS (1000), N_CONC (20).
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$here/.." && pwd)
BORAD=${BORAD:-./src/borad}
PEERS=${PEERS:-$SRCDIR/../shared/peers/mistral}
# A worktree one level deeper than the main checkout.
[ -d "$PEERS" ] || [ ! -d "$SRCDIR/../../shared/peers/mistral" ] ||
    PEERS=$(cd "$SRCDIR/../../shared/peers/mistral" && pwd)
REPS=${REPS:-1}
export RUN_DIR=${RUN_DIR:-/tmp/bora-bench-mistral}
mode=${1:-peer}

case $mode in peer|time) ;; *)
	echo "usage: bench/mistral.sh [peer|time]" >&2; exit 2 ;;
esac
case $BORAD in /*) ;; *) BORAD=$(pwd)/$BORAD ;; esac
[ -x "$PEERS/run_mistral.sh" ] || { echo "bench: no $PEERS" >&2; exit 1; }
[ -x "$BORAD" ] || { echo "bench: $BORAD is not built" >&2; exit 1; }

wf=$(mktemp -d "${TMPDIR:-/tmp}/bora-bench.XXXXXX") || exit 1
pid=
cleanup()
{
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$wf"
	type pg_env_stop >/dev/null 2>&1 && pg_env_stop
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp "$PEERS"/workflows/{seq50,withitems1000,seq5,retry}.yaml "$wf/" ||
    exit 1

# free_port: a TCP port nobody listens on.
free_port()
{
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# borad_start DB: borad on that store, the shapes in its folder.
borad_start()
{
	port=$(free_port)
	"$BORAD" -d --db "$1" --listen "127.0.0.1:$port" \
	    --workflows "$wf" >>"$wf/borad.log" 2>&1 &
	pid=$!
	i=0
	until curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "bench: borad not ready" >&2; exit 1; }
		sleep 0.1
	done
}

borad_stop()
{
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}

if [ "$mode" = peer ]; then
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
	borad_start "$BORA_TEST_PGURL"
	(cd "$PEERS" && MISTRAL_PID=$pid REPS=$REPS IDLE_SECS=0 \
	    MISTRAL_URL=http://127.0.0.1:$port/v2 RUN_DIR=$wf \
	    ./bench_mistral.sh 2>&1 | grep -E '^(RESULT|server pid|after:)')
	exit 0
fi

# ---- timing mode ----------------------------------------------------------
STORES=${STORES-sqlite pg}
MISTRAL_STORES=${MISTRAL_STORES-pg sqlite}
REPS_BORA=${REPS_BORA:-11}
REPS_MISTRAL=${REPS_MISTRAL:-1}
POLL_MS=${POLL_MS:-1}
MISTRAL_POLL_MS=${MISTRAL_POLL_MS:-100}
N_ITEMS=${N_ITEMS:-1000}
N_CONC=${N_CONC:-20}
out=$wf/times
: >"$out"
timer()
{
	python3 "$here/mistral-time.py" --items "$N_ITEMS" --conc "$N_CONC" \
	    "$@" | tee -a "$out"
}

echo "# bench/mistral.sh time, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc)" \
    "cores, load: $(uptime | sed 's/.*load/load/')"
for s in $STORES; do
	case $s in
	sqlite)	db=sqlite:$wf/bora.db ;;
	pg)	[ -n "${BORA_TEST_PGURL:-}" ] || . "$SRCDIR/tests/pg-env.sh"
		db=$BORA_TEST_PGURL ;;
	*)	echo "bench: unknown store $s" >&2; exit 1 ;;
	esac
	echo "=== borad ($s), poll every $POLL_MS ms"
	borad_start "$db"
	timer --url "http://127.0.0.1:$port/v2" --label "bora-$s" \
	    --pid "$pid" --poll-ms "$POLL_MS" --reps "$REPS_BORA" || exit 1
	echo "borad rss after: $(awk '/^VmRSS/{print $2}' /proc/$pid/status) kB"
	borad_stop
done

# mistral_upload URL FILE: create the workflow, or update it.
mistral_upload()
{
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H 'Content-Type: text/plain' --data-binary @"$2" "$1/workflows")
	[ "$code" = 409 ] && code=$(curl -s -o /dev/null -w '%{http_code}' \
	    -X PUT -H 'Content-Type: text/plain' --data-binary @"$2" \
	    "$1/workflows")
	[ "${code#2}" != "$code" ]
}

ran_mistral=
for s in $MISTRAL_STORES; do
	echo "=== Mistral 15 ($s), poll every $MISTRAL_POLL_MS ms"
	mdir=$RUN_DIR-$s
	mport=$(free_port)
	menv="RUN_DIR=$mdir MISTRAL_DB=$s MISTRAL_PORT=$mport"
	if ! (cd "$PEERS" && env $menv ./run_mistral.sh start \
	    >"$mdir.start.log" 2>&1); then
		echo "bench: Mistral ($s) did not start:" \
		    "$(tail -3 "$mdir.start.log")" >&2
		(cd "$PEERS" && env $menv ./run_mistral.sh stop >/dev/null 2>&1)
		continue
	fi
	murl=http://127.0.0.1:$mport/v2
	mpid=$(cat "$mdir/mistral.pid")
	ok=1
	for f in "$wf"/*.yaml; do
		mistral_upload "$murl" "$f" || { ok=; break; }
	done
	if [ -n "$ok" ]; then
		echo "mistral rss idle: $(awk '/^VmRSS/{print $2}' /proc/$mpid/status) kB"
		timer --url "$murl" --label "mistral-$s" --pid "$mpid" \
		    --poll-ms "$MISTRAL_POLL_MS" --reps "$REPS_MISTRAL" \
		    --quiesce && ran_mistral="$ran_mistral $s"
	else
		echo "bench: uploading $f to Mistral ($s) failed" >&2
	fi
	(cd "$PEERS" && env $menv ./run_mistral.sh stop >/dev/null 2>&1)
done

# Mistral's recorded figures (median of 3, REPS=3 of bench_mistral.sh,
# 2026-11-23), for a store it could not be run on here.
for s in pg sqlite; do
	case " $ran_mistral " in *" $s "*) continue ;; esac
	case $s in
	pg)	set -- 3900 15850 5030 3060 ;;
	sqlite)	set -- 5880 26900 4250 7140 ;;
	esac
	for c in a_seq50_noop b_withitems c_concurrent_seq5 d_retry3_delay0; do
		echo "TIME mistral-$s-recorded $c median_ms=$1 min_ms=$1"
		shift
	done >>"$out"
done

echo
echo "== bora vs Mistral 15, ms (median, min in brackets, of REPS_BORA;" \
    "Mistral: median of REPS_MISTRAL); ratio = Mistral / bora medians"
[ "${ran_mistral# }" = "pg sqlite" ] || [ "${ran_mistral# }" = "sqlite pg" ] ||
    echo "   (\"recorded\": Mistral's figures from $PEERS/RESULTS.md," \
	"median of 3, 2026-11-23, not this run)"
awk -v items="$N_ITEMS" -v conc="$N_CONC" '
$1 == "TIME" {
	lab = $2; c = $3
	for (i = 4; i <= NF; i++) {
		split($i, kv, "=")
		v[lab, c, kv[1]] = kv[2]
	}
	labs[lab] = 1; cs[c] = 1
}
function fig(lab, c) {
	if (v[lab, c, "median_ms"] == "")
		return "-"
	if (lab ~ /recorded/ || v[lab, c, "reps"] == 1)
		return sprintf("%.0f", v[lab, c, "median_ms"])
	return sprintf("%.2f (%.2f)", v[lab, c, "median_ms"], v[lab, c, "min_ms"])
}
function mlab(s,	l) {
	l = "mistral-" s
	return (l in labs) ? l : l "-recorded"
}
function ratio(s, c,	b, m) {
	b = v["bora-" s, c, "median_ms"]; m = v[mlab(s), c, "median_ms"]
	if (b == "" || m == "" || b == 0)
		return "-"
	return sprintf("%.0fx", m / b)
}
END {
	name["a_seq50_noop"] = "(a) 50-task chain"
	name["b_withitems"] = "(b) with-items " items
	name["c_concurrent_seq5"] = "(c) " conc " x 5-task at once"
	name["d_retry3_delay0"] = "(d) retry x3 delay 0"
	printf "%-26s %16s %16s %12s %12s %8s %8s\n", "shape", "bora sqlite",
	    "bora pg", mlab("sqlite") == "mistral-sqlite" ? "mistral sql" : "mist sql rec",
	    mlab("pg") == "mistral-pg" ? "mistral pg" : "mist pg rec",
	    "x sqlite", "x pg"
	n = split("a_seq50_noop b_withitems c_concurrent_seq5 d_retry3_delay0", order)
	for (i = 1; i <= n; i++) {
		c = order[i]
		printf "%-26s %16s %16s %12s %12s %8s %8s\n", name[c],
		    fig("bora-sqlite", c), fig("bora-pg", c),
		    fig(mlab("sqlite"), c), fig(mlab("pg"), c),
		    ratio("sqlite", c), ratio("pg", c)
	}
	print "goals: >= 500x Mistral on every shape; (a) <= 5 ms on PostgreSQL"
}' "$out"
