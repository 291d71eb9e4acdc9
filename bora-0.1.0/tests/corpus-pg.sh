#!/bin/sh
#
# corpus-pg.sh -- the workflow corpus (tests/corpus.sh) with every case
# on one PostgreSQL database instead of a SQLite file per case: the same
# cases must give the same results on both stores.
#
# Uses BORA_TEST_PGURL when set; otherwise tests/pg-env.sh starts a
# throwaway cluster.  Without PostgreSQL the test is skipped (77), or
# fails under CI=true.  Arguments restrict the run to those cases.

: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILDDIR:=$(pwd)}"
: "${BORA:=$BUILDDIR/src/bora}"

. "$SRCDIR/tests/pg-env.sh"

echo "# corpus on $BORA_TEST_PGURL"
export BORA SRCDIR
BORA_DB=$BORA_TEST_PGURL sh "$SRCDIR/tests/corpus.sh" "$@"
