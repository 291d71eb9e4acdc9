#!/bin/sh
#
# run.sh -- bora's benchmark: Mistral's four comparison shapes, each run
# N times with `bora run` (the whole process: start, parse, store, run,
# print), printing the median wall time and the peak RSS of one process
# next to Mistral 15's figures (../shared/peers/mistral/RESULTS.md) and
# bora's targets.  It builds nothing and is never run by make check.
#
# Environment:
#   BORA     the bora binary (default ./src/bora)
#   N        repetitions per case (default 5), after one warm-up run
#   BORA_DB  a store URL for every case, e.g. postgresql://localhost/bora;
#            by default each case gets a fresh SQLite file
#   CASES    cases to run, among "baseline seq50 withitems seq5x20 retry"
#            (default: all)
#   BENCH_LOG  where bora's stderr goes (default: discarded)
#

BORA=${BORA:-./src/bora}
N=${N:-5}
CASES=${CASES:-baseline seq50 withitems seq5x20 retry}
BENCH_LOG=${BENCH_LOG:-/dev/null}
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$BORA" ]; then
	echo "bench: $BORA is not executable (set BORA)" >&2
	exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "bench: python3 is needed to measure wall time and RSS" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# The with-items input: {"items": [0, ..., 999]}.
python3 -c 'import json; print(json.dumps({"items": list(range(1000))}))' \
    >"$tmp/items.json"

if [ -n "$BORA_DB" ]; then
	store="$BORA_DB"
	mistral_col="Mistral PG"
	pg_only=1
else
	store="SQLite (fresh file per case)"
	mistral_col="Mistral PG / SQLite"
	pg_only=0
fi

# The store URL for one case.
db_for() {
	if [ -n "$BORA_DB" ]; then
		echo "$BORA_DB"
	else
		echo "sqlite:$tmp/$1.db"
	fi
}

# measure CASE EXIT PARALLEL bora-run-arguments...
measure() {
	_case=$1
	_exit=$2
	_par=$3
	shift 3
	(cd "$tmp" && python3 "$here/measure.py" -r "$N" -p "$_par" \
	    -e "$_exit" -l "$BENCH_LOG" -- "$BORA" run "$@" \
	    --db "$(db_for "$_case")")
}

# Mistral's figure: PostgreSQL only, or PostgreSQL / SQLite.
mistral() {
	if [ "$pg_only" = 1 ]; then
		echo "$1"
	else
		echo "$1 / $2"
	fi
}

# Human units: ms with one decimal, RSS in MB.
report() {
	_label=$1
	_line=$2
	_mistral=$3
	_target=$4
	_wall=$(echo "$_line" | sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p')
	_min=$(echo "$_line" | sed -n 's/.*min_ms=\([0-9.]*\).*/\1/p')
	_max=$(echo "$_line" | sed -n 's/.*max_ms=\([0-9.]*\).*/\1/p')
	_rss=$(echo "$_line" | sed -n 's/.*rss_kb=\([0-9]*\).*/\1/p')
	_ok=$(echo "$_line" | sed -n 's/.*ok=\([0-9/]*\).*/\1/p')
	if [ -z "$_wall" ]; then
		printf '%-26s %s\n' "$_label" "failed: $_line"
		return
	fi
	printf '%-26s %9s ms %7s MB  %-9s %-18s %s\n' "$_label" "$_wall" \
	    "$(awk "BEGIN { printf \"%.1f\", $_rss / 1024 }")" "$_ok" \
	    "$_mistral" "$_target"
	printf '%-26s   [%s .. %s ms]\n' "" "$_min" "$_max"
}

echo "bora benchmark: $BORA, store $store, N=$N (median; warm-up run not counted)"
echo "wall time is the whole bora run process; Mistral's is POST to terminal state"
echo
printf '%-26s %12s %10s  %-9s %-18s %s\n' "case" "bora wall" "peak RSS" \
    "ok" "$mistral_col" "target"

for c in $CASES; do
	case $c in
	baseline)
		line=$(measure baseline 0 1 "$here/noop1.yaml" -f json)
		report "(0) 1 noop task: baseline" "$line" "-" "-"
		;;
	seq50)
		line=$(measure seq50 0 1 "$here/seq50.yaml" -f json)
		report "(a) 50-task noop chain" "$line" "$(mistral 3.90s 5.88s)" \
		    "<= 39 ms"
		;;
	withitems)
		line=$(measure withitems 0 1 "$here/withitems1000.yaml" \
		    --input "$(cat "$tmp/items.json")" -f json)
		report "(b) with-items 1000 noop" "$line" "$(mistral 15.85s 26.9s)" \
		    "<= 50 ms"
		;;
	seq5x20)
		line=$(measure seq5x20 0 20 "$here/seq5.yaml" -f json)
		report "(c) 20 x seq5 at once" "$line" "$(mistral 5.03s 4.25s)" \
		    "-"
		;;
	retry)
		line=$(measure retry 1 1 "$here/retry.yaml" -f json)
		report "(d) retry x3 delay 0" "$line" "$(mistral 3.06s 7.14s)" \
		    "<= 5 ms"
		;;
	*)
		echo "bench: unknown case $c" >&2
		;;
	esac
done

echo
echo "Mistral: 15.0.0 all-in-one, 2 vCPU, PostgreSQL 15 (RESULTS.md, median of 3)."
echo "(c) runs 20 bora run processes on one store; RSS is the largest one."
