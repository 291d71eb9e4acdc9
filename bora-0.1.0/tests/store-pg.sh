#!/bin/sh
#
# store-pg.sh -- the store on PostgreSQL: the shared store unit tests with
# BORA_TEST_DB set to a PostgreSQL database, then the PostgreSQL-only
# tests (claims racing, cluster-wide locks, NOTIFY, a server stopped
# mid-use, lost commits, newer schemas).
#
# Uses BORA_TEST_PGURL when set; otherwise tests/pg-env.sh starts a
# throwaway cluster.  Without PostgreSQL the test is skipped (77), or
# fails under CI=true.

: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILDDIR:=$SRCDIR}"

. "$SRCDIR/tests/pg-env.sh"

status=0
for t in test-store test-store-pg; do
	bin=$BUILDDIR/tests/unit/$t
	if [ ! -x "$bin" ]; then
		echo "store-pg.sh: $bin not built" >&2
		status=1
		continue
	fi
	echo "== $t on $BORA_TEST_PGURL"
	if ! BORA_TEST_DB=$BORA_TEST_PGURL "$bin"; then
		echo "store-pg.sh: $t failed" >&2
		status=1
	fi
done
exit $status
