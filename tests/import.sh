#!/bin/sh
#
# import.sh -- `bora import` on the Mistral workbooks of tests/data/import:
# each NAME.yaml (YAQL or Jinja) must convert to exactly NAME.out, report
# exactly NAME.err (absent: nothing) with exit 1 when it reports and 0
# when not, and, when NAME.expect exists, the converted file must pass
# `bora validate` and run to what NAME.expect says (tests/corpus.sh's
# format).  Then the options: --check, -o DIR, --in-place, standard
# output, and the exit status 2 of bad usage and bad files.
#
# Environment: BORA (default ./src/bora), SRCDIR (default .).
#

BORA=${BORA:-./src/bora}
SRCDIR=${SRCDIR:-.}

case $BORA in
/*) ;;
*) BORA=$(pwd)/$BORA ;;
esac
case $SRCDIR in
/*) ;;
*) SRCDIR=$(pwd)/$SRCDIR ;;
esac
DATA=$SRCDIR/tests/data/import

if [ ! -x "$BORA" ]; then
	echo "import.sh: $BORA is not executable" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-import.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

pass=0
fail=0

ok() {
	echo "ok $1"
	pass=$((pass + 1))
}

nok() {
	echo "FAIL $1: $2"
	fail=$((fail + 1))
}

# The conversions, their reports, and what the converted files do.
mkdir "$tmp/run"
for f in "$DATA"/*.yaml; do
	name=${f##*/}
	name=${name%.yaml}
	want_rc=0
	[ -s "$DATA/$name.err" ] && want_rc=1
	(cd "$DATA" && exec "$BORA" import -q "$name.yaml") \
	    >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	if [ $rc -ne $want_rc ]; then
		nok "$name" "exit status $rc, expected $want_rc:" \
		    "$(head -c 300 "$tmp/$name.err" | tr '\n' ' ')"
		continue
	fi
	if ! diff -u "$DATA/$name.out" "$tmp/$name.out" >"$tmp/$name.diff"
	then
		nok "$name" "converted text differs: $(head -n 20 \
		    "$tmp/$name.diff" | tr '\n' ' ')"
		continue
	fi
	if [ -f "$DATA/$name.err" ]; then
		diff -u "$DATA/$name.err" "$tmp/$name.err" >"$tmp/$name.diff"
	else
		diff -u /dev/null "$tmp/$name.err" >"$tmp/$name.diff"
	fi
	if [ $? -ne 0 ]; then
		nok "$name" "report differs: $(head -n 20 "$tmp/$name.diff" |
		    tr '\n' ' ')"
		continue
	fi
	if [ -f "$DATA/$name.expect" ]; then
		if ! "$BORA" validate "$tmp/$name.out" >"$tmp/$name.val" 2>&1
		then
			nok "$name" "bora validate: $(head -n 5 \
			    "$tmp/$name.val" | tr '\n' ' ')"
			continue
		fi
		cp "$tmp/$name.out" "$tmp/run/$name.yaml"
		cp "$DATA/$name.expect" "$tmp/run/$name.expect"
	fi
	ok "import $name"
done

# The converted workbooks run as they ran in Mistral.
if CORPUS_DIR=$tmp/run sh "$SRCDIR/tests/corpus.sh" >"$tmp/corpus.log" 2>&1
then
	ok "converted workbooks run to their expected outcomes"
else
	nok "run" "$(grep -v '^ok ' "$tmp/corpus.log" | head -n 10 |
	    tr '\n' ' ')"
fi

# --check reports and writes nothing; exit 1 when something is left.
cp "$DATA/flagged.yaml" "$DATA/recover_yaql.yaml" "$tmp/"
(cd "$tmp" && "$BORA" import --check flagged.yaml recover_yaql.yaml) \
    >"$tmp/check.out" 2>"$tmp/check.err"
rc=$?
if [ $rc -eq 1 ] && cmp -s "$tmp/flagged.yaml" "$DATA/flagged.yaml" &&
    grep -q '^flagged.yaml:11:16: cannot translate' "$tmp/check.err" &&
    grep -q '^flagged.yaml: 14 of 15 expressions left unchanged' \
    "$tmp/check.out" &&
    grep -q '^recover_yaql.yaml: 12 expressions translated' \
    "$tmp/check.out"; then
	ok "--check reports without writing"
else
	nok "--check" "exit $rc: $(cat "$tmp/check.out" "$tmp/check.err" |
	    head -n 5 | tr '\n' ' ')"
fi
if "$BORA" import --check "$DATA/evacuate_yaql.yaml" >/dev/null 2>&1; then
	ok "--check exits 0 when everything translates"
else
	nok "--check" "exit $? on a file that translates"
fi

# -o DIR writes each file there under its name.
if "$BORA" import -q -o "$tmp/outdir" "$DATA/evacuate_yaql.yaml" \
    "$DATA/quoting.yaml" 2>"$tmp/o.err" &&
    cmp -s "$tmp/outdir/evacuate_yaql.yaml" "$DATA/evacuate_yaql.out" &&
    cmp -s "$tmp/outdir/quoting.yaml" "$DATA/quoting.out"; then
	ok "-o DIR"
else
	nok "-o DIR" "$(head -c 300 "$tmp/o.err")"
fi

# --in-place replaces the file, keeping its mode.
cp "$DATA/recover_yaql.yaml" "$tmp/inplace.yaml"
chmod 640 "$tmp/inplace.yaml"
if "$BORA" import -q --in-place "$tmp/inplace.yaml" 2>"$tmp/i.err" &&
    cmp -s "$tmp/inplace.yaml" "$DATA/recover_yaql.out" &&
    [ "$(stat -c %a "$tmp/inplace.yaml")" = 640 ] &&
    [ -z "$(ls "$tmp" | grep 'inplace.yaml.')" ]; then
	ok "--in-place"
else
	nok "--in-place" "$(head -c 300 "$tmp/i.err")"
fi

# Bad usage and bad files: exit 2, nothing written.
check_usage() {
	what=$1
	shift
	"$BORA" import "$@" >"$tmp/u.out" 2>"$tmp/u.err"
	rc=$?
	if [ $rc -eq 2 ] && [ -s "$tmp/u.err" ]; then
		ok "exit 2: $what"
	else
		nok "exit 2: $what" "exit $rc"
	fi
}
check_usage "no file"
check_usage "-o with --in-place" -o "$tmp/x" --in-place "$DATA/quoting.yaml"
check_usage "several files to stdout" "$DATA/quoting.yaml" \
    "$DATA/flagged.yaml"
check_usage "unknown option" --frobnicate "$DATA/quoting.yaml"
check_usage "missing file" "$tmp/does-not-exist.yaml"
printf 'a: [1, 2\nb: <%% $.x %%>\n' >"$tmp/bad.yaml"
check_usage "invalid YAML" "$tmp/bad.yaml"
if grep -q 'bad.yaml:' "$tmp/u.err"; then
	ok "invalid YAML is reported with its file"
else
	nok "invalid YAML" "$(cat "$tmp/u.err")"
fi

# --help.
if "$BORA" import --help | grep -q -- '--in-place'; then
	ok "--help"
else
	nok "--help" "no --in-place in the help"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
