#!/bin/sh
#
# invalid.sh -- "bora validate" on the corpus of invalid workflows: each
# tests/data/invalid/NAME.yaml must fail (exit 1) with exactly the
# errors in NAME.err on stderr; each tests/data/invalid-ok/*.yaml must
# pass (exit 0).  Run by "make check" with $BORA and $SRCDIR set.

: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BORA:=$SRCDIR/src/bora}"

if [ ! -x "$BORA" ]; then
	echo "invalid.sh: $BORA not found" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-invalid.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
n=0

cd "$SRCDIR/tests/data/invalid" || exit 1
for y in *.yaml; do
	name=${y%.yaml}
	n=$((n + 1))
	if [ ! -f "$name.err" ]; then
		echo "FAIL $name: no $name.err"
		fail=$((fail + 1))
		continue
	fi
	"$BORA" validate "$y" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 1 ]; then
		echo "FAIL $name: exit status $rc, expected 1"
		cat "$tmp/err"
		fail=$((fail + 1))
	elif ! cmp -s "$tmp/err" "$name.err"; then
		echo "FAIL $name: errors differ"
		diff -u "$name.err" "$tmp/err"
		fail=$((fail + 1))
	else
		echo "ok   $name"
	fi
done

cd "$SRCDIR/tests/data/invalid-ok" || exit 1
for y in *.yaml; do
	name=${y%.yaml}
	n=$((n + 1))
	"$BORA" validate "$y" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ "$(cat "$tmp/out")" != "$y: OK" ]; then
		echo "FAIL $name: valid file rejected (exit status $rc)"
		cat "$tmp/err"
		fail=$((fail + 1))
	else
		echo "ok   $name (valid)"
	fi
done

# Usage errors exit 2; --help exits 0.
n=$((n + 2))
"$BORA" validate >/dev/null 2>&1
if [ $? -ne 2 ]; then
	echo "FAIL usage: no file did not exit 2"
	fail=$((fail + 1))
else
	echo "ok   usage"
fi
if ! "$BORA" validate --help >/dev/null 2>&1; then
	echo "FAIL --help did not exit 0"
	fail=$((fail + 1))
else
	echo "ok   --help"
fi

echo "$((n - fail))/$n passed"
[ "$fail" -eq 0 ]
