#!/bin/sh
#
# recovery-pg.sh -- two engines on one PostgreSQL database race for the
# reserved hosts: two host failures of one segment notified at the same
# moment, one to each borad.  With one reserved host left one recovery
# takes it and the other ends in error saying none is free; with two,
# each takes its own.  The named locks and the guarded update that
# marks a host taken are the database's, so this holds across engines.
#
# Starts its own throwaway cluster (tests/pg-env.sh).  Environment:
# BORA, BORAD, SRCDIR, BUILDDIR.

. "$(dirname "$0")/multi-lib.sh"
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/recovery-lib.sh"
trap 'sim_stop; multi_cleanup' EXIT

two_hosts_cloud "$TMP/cloud.yaml" 3

sim_start --delay 0 --scenario "$TMP/cloud.yaml" || exit 1
SHIPPED="--workflows $SRCDIR/workflows --actions $SRCDIR/actions --lua $SRCDIR/lua"
engine_start 1 $SHIPPED || { not_ok "borad 1 starts"; finish; }
engine_start 2 $SHIPPED || { not_ok "borad 2 starts"; finish; }
ok "two borad processes on one database"
URL=$URL_1

for round in 1 2 3; do
	sim_start --delay 0 --scenario "$TMP/cloud.yaml" || exit 1
	segment_make reserved_host compute-3
	two_failures "$URL_1" "$URL_2"
	reserved_race 1
done
sim_start --delay 0 --scenario "$TMP/cloud.yaml" || exit 1
segment_make reserved_host compute-3 compute-4
two_failures "$URL_1" "$URL_2"
reserved_race 2

echo "# executions by engine: $(sql "SELECT owner || '=' || count(*) FROM
    executions GROUP BY owner" | tr '\n' ' ')"
check "no lock is left behind" test "$(sql 'SELECT count(*) FROM locks')" -eq 0

for n in 1 2; do
	sanitizer_check "$TMP/borad-$n.log"
done
echo "# $NAME: $NCHECK checks, $FAILED failed"
[ "$FAILED" -eq 0 ]
