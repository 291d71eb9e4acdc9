#!/bin/sh
#
# examples.sh -- check the shipped example workflows: every
# workflows/examples/*.yaml must pass `bora validate`, and those that
# need no network must run to SUCCESS with `bora run`.
#
# A file says how to run it with one comment line:
#   # run: ARGS       run as `bora run FILE ARGS` (ARGS may be empty)
#   # run: no ...     validate only (needs network or a server)
# Without that line the file is run with no arguments.
#
# Environment: BORA (default ./src/bora), SRCDIR (default .), BORA_DB.
#

BORA=${BORA:-./src/bora}
SRCDIR=${SRCDIR:-.}
DIR=$SRCDIR/workflows/examples
TIMEOUT=${EXAMPLES_TIMEOUT:-60}

case $BORA in
/*) ;;
*) BORA=$(pwd)/$BORA ;;
esac
case $DIR in
/*) ;;
*) DIR=$(pwd)/$DIR ;;
esac

if ! command -v jq >/dev/null 2>&1; then
	echo "examples.sh: jq is needed" >&2
	exit 99
fi
if [ ! -x "$BORA" ]; then
	echo "examples.sh: $BORA is not executable" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-examples.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

pass=0
fail=0

for f in "$DIR"/*.yaml; do
	name=${f##*/}
	name=${name%.yaml}

	if ! "$BORA" validate "$f" >"$tmp/$name.validate" 2>&1; then
		echo "FAIL $name: bora validate:" \
		    "$(head -n 5 "$tmp/$name.validate" | tr '\n' ' ')"
		fail=$((fail + 1))
		continue
	fi

	line=$(sed -n 's/^# run:[[:space:]]*//p' "$f" | head -n 1)
	case $line in
	no|no[[:space:]]*)
		echo "ok $name (validated; not run: ${line#no})"
		pass=$((pass + 1))
		continue
		;;
	esac

	# The arguments are written as on a shell command line.
	eval "set -- $line"
	db=${BORA_DB:-sqlite:$tmp/$name.db}
	(cd "$tmp" && exec timeout "$TIMEOUT" "$BORA" run "$f" "$@" \
	    -f json --db "$db") >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	state=$(jq -r '.state // empty' "$tmp/$name.out" 2>/dev/null)
	if [ $rc -ne 0 ] || [ "$state" != SUCCESS ]; then
		echo "FAIL $name: bora run exit $rc, state '$state':" \
		    "$(head -c 300 "$tmp/$name.err" | tr '\n' ' ')"
		fail=$((fail + 1))
		continue
	fi
	echo "ok $name"
	pass=$((pass + 1))
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
