#!/bin/sh
#
# run.sh -- run libFuzzer targets for FUZZ_SECONDS each, FUZZ_JOBS at a
# time (make fuzz).  Each target tests/fuzz/fuzz-NAME.c names its seed
# files on "FUZZ-SEEDS:" lines, as DIR:SUFFIX (the files of DIR under the
# source tree whose names end in SUFFIX; a .test file of tests/data/expr
# gives one seed per group of three lines), and may have a dictionary
# tests/fuzz/fuzz-NAME.dict.  The corpus grows in
# tests/fuzz/out/NAME/corpus of the build tree, so later runs start
# from what earlier ones found.  Any crash, leak, timeout or
# out-of-memory fails the run; its input is kept in tests/fuzz/out/NAME/
# and printed (base64) with the end of the log.
#
# Usage: run.sh TARGET...   (paths of the built targets)
# Environment: FUZZ_SECONDS (60), FUZZ_JOBS (2), FUZZ_TIMEOUT (seconds
# one input may take, 10), SRCDIR (the source tree).

set -u
: "${FUZZ_SECONDS:=60}"
: "${FUZZ_JOBS:=2}"
: "${FUZZ_TIMEOUT:=10}"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export FUZZ_SECONDS FUZZ_TIMEOUT SRCDIR

# seeds SRC DIR: copy the seed files SRC names into DIR.
seeds()
{
	_src=$1
	_dir=$2
	for _spec in $(sed -n 's/^.*FUZZ-SEEDS://p' "$_src"); do
		for _f in "$SRCDIR/${_spec%%:*}"/*"${_spec#*:}"; do
			[ -f "$_f" ] || continue
			case $_f in
			*.test)
				# Groups of three lines: template, data, result.
				awk -v dir="$_dir" -v base="$(basename "$_f" .test)" '
				    /^#/ || /^$/ { next }
				    { n++; if (n % 3 == 1) { k++; f = dir "/" base "-" k }
				      if (n % 3 != 0) print > f
				      if (n % 3 == 2) close(f) }' "$_f"
				;;
			*)
				cp "$_f" "$_dir/$(echo "$_f" | sed "s|^$SRCDIR/||; s|/|-|g")"
				;;
			esac
		done
	done
}

# one TARGET: run one target; exit status 0 when it found nothing.
one()
{
	_t=$1
	_name=$(basename "$_t" | sed 's/^fuzz-//')
	_src=$SRCDIR/tests/fuzz/fuzz-$_name.c
	_out=tests/fuzz/out/$_name
	mkdir -p "$_out/corpus" "$_out/seeds"
	rm -f "$_out"/seeds/* "$_out"/crash-* "$_out"/leak-* \
	    "$_out"/timeout-* "$_out"/oom-*
	seeds "$_src" "$_out/seeds"
	set -- -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$_out/"
	if [ -f "$SRCDIR/tests/fuzz/fuzz-$_name.dict" ]; then
		set -- "$@" -dict="$SRCDIR/tests/fuzz/fuzz-$_name.dict"
	fi
	echo "fuzz-$_name: $FUZZ_SECONDS s, $(ls "$_out/seeds" | wc -l) seeds," \
	    "$(ls "$_out/corpus" | wc -l) in the corpus"
	if "$_t" "$@" "$_out/corpus" "$_out/seeds" >"$_out/log" 2>&1; then
		echo "fuzz-$_name: ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' \
		    "$_out/log" | sed 's/.*: *//') runs," \
		    "$(ls "$_out/corpus" | wc -l) in the corpus)"
		return 0
	fi
	echo "fuzz-$_name: FAILED; end of $_out/log:"
	tail -60 "$_out/log" | sed 's/^/  /'
	for _a in "$_out"/crash-* "$_out"/leak-* "$_out"/timeout-* \
	    "$_out"/oom-*; do
		[ -f "$_a" ] || continue
		echo "  input $_a (base64):"
		base64 "$_a" | head -40 | sed 's/^/    /'
	done
	return 1
}

if [ "${1:-}" = --one ]; then
	one "$2"
	exit $?
fi
[ $# -gt 0 ] || { echo "usage: run.sh TARGET..." >&2; exit 2; }
mkdir -p tests/fuzz/out
rm -f tests/fuzz/out/failed
for t in "$@"; do
	echo "$t"
done | xargs -P "$FUZZ_JOBS" -I{} sh -c \
    'sh "$0" --one "$1" || touch tests/fuzz/out/failed' "$0" {}
if [ -f tests/fuzz/out/failed ]; then
	echo "make fuzz: some targets failed"
	exit 1
fi
echo "make fuzz: $# targets ran $FUZZ_SECONDS s each with no finding"
