#!/bin/sh
#
# corpus.sh -- run every workflow of tests/data/valid with `bora run` and
# compare what it prints with the case's expectations.
#
# Each case is NAME.yaml plus NAME.expect, a JSON object of which only
# the listed keys are checked:
#   args                extra arguments after the file (workflow name,
#                       -i k=v, --input JSON, --task T)
#   exit                exit status of bora run
#   stderr_contains     text that stderr must contain
#   state               execution state
#   state_info_contains / state_info_excludes   text in the execution's
#                       state_info / text that must not be there
#   output              the execution output, compared as JSON
#   tasks               {name: {count, state, result, published,
#                       state_info_contains, result_contains}}; count is
#                       the number of task rows with that name, the other
#                       keys are checked on the last such row
#   task_order          names in the order their rows appear (rows of
#                       other tasks are ignored)
#   min_elapsed_ms      least wall time of the whole bora run
#   max_elapsed_ms      most wall time of the whole bora run, less the
#                       time a run of default_noop takes just before it
#                       (start, store, exit: what load slows down)
#   max_task_ms         most time any task took, as the engine measured
#                       it (duration_ms: its retries and waits included)
#   assert              jq expressions that must be true over the output
#
# Environment: BORA (the bora binary, default ./src/bora), SRCDIR (the
# source tree, default .), BORA_DB (a store URL shared by every case;
# by default each case gets its own SQLite file), CORPUS_DIR (the cases,
# default tests/data/valid).  Arguments, when
# given, restrict the run to those case names.
#

BORA=${BORA:-./src/bora}
SRCDIR=${SRCDIR:-.}
CASEDIR=${CORPUS_DIR:-$SRCDIR/tests/data/valid}
TIMEOUT=${CORPUS_TIMEOUT:-60}

case $BORA in
/*) ;;
*) BORA=$(pwd)/$BORA ;;
esac
case $CASEDIR in
/*) ;;
*) CASEDIR=$(pwd)/$CASEDIR ;;
esac

if ! command -v jq >/dev/null 2>&1; then
	echo "corpus.sh: jq is needed" >&2
	exit 99
fi
if [ ! -x "$BORA" ]; then
	echo "corpus.sh: $BORA is not executable" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-corpus.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Milliseconds since the epoch (GNU date; whole seconds elsewhere).
now_ms() {
	_t=$(date +%s%N)
	case $_t in
	*N) echo $(($(date +%s) * 1000)) ;;
	*) echo $((_t / 1000000)) ;;
	esac
}

# The checks, as one jq program printing one line per failed check.
CHECKS='
def has_key($k): $e | has($k);
def contains_text($s; $t): ($s // "" | tostring) | contains($t);
($out | type) as $otype |
(
  (if has_key("exit") and $rc != $e.exit then
     "exit status \($rc), expected \($e.exit)" else empty end),
  (if has_key("stderr_contains") and
      (contains_text($err; $e.stderr_contains) | not) then
     "stderr does not contain \($e.stderr_contains | tojson)" else empty end),
  (if has_key("min_elapsed_ms") and $ms < $e.min_elapsed_ms then
     "took \($ms) ms, expected at least \($e.min_elapsed_ms)" else empty end),
  (if has_key("max_elapsed_ms") and $ms - $base > $e.max_elapsed_ms then
     "took \($ms) ms, \($base) ms of them the run itself, expected at most \($e.max_elapsed_ms)" else empty end),
  (if has_key("max_task_ms") and $otype == "object" and
      ([$out.tasks[]?.duration_ms // 0] | max // 0) > $e.max_task_ms then
     "a task took \([$out.tasks[]?.duration_ms // 0] | max) ms, expected at most \($e.max_task_ms)" else empty end),
  (if ([ "state", "state_info_contains", "state_info_excludes", "output",
         "tasks", "task_order", "assert" ] | any(has_key(.))) then
     (if $otype != "object" then
        "stdout is not a JSON object"
      else
        (if has_key("state") and $out.state != $e.state then
           "state \($out.state), expected \($e.state) (state_info: \($out.state_info | tojson))"
         else empty end),
        (if has_key("state_info_contains") and
            (contains_text($out.state_info; $e.state_info_contains) | not) then
           "state_info \($out.state_info | tojson) does not contain \($e.state_info_contains | tojson)"
         else empty end),
        (if has_key("state_info_excludes") and
            contains_text($out.state_info; $e.state_info_excludes) then
           "state_info \($out.state_info | tojson) contains \($e.state_info_excludes | tojson)"
         else empty end),
        (if has_key("output") and $out.output != $e.output then
           "output \($out.output | tojson), expected \($e.output | tojson)"
         else empty end),
        (if has_key("task_order") then
           ($e.task_order) as $want |
           [ $out.tasks[]?.name | select(. as $n | any($want[]; . == $n)) ] as $got |
           if $got != $want then
             "task order \($got | tojson), expected \($want | tojson)"
           else empty end
         else empty end),
        (if has_key("tasks") then
           $e.tasks | to_entries[] | .key as $n | .value as $x |
           [ $out.tasks[]? | select(.name == $n) ] as $rows |
           (if ($x | has("count")) and ($rows | length) != $x.count then
              "task \($n): \($rows | length) rows, expected \($x.count)"
            else empty end),
           (if ($rows | length) == 0 then
              (if ($x | del(.count) | length) > 0 then
                 "task \($n) never ran" else empty end)
            else
              $rows[-1] as $r |
              (if ($x | has("state")) and $r.state != $x.state then
                 "task \($n): state \($r.state), expected \($x.state) (state_info: \($r.state_info | tojson))"
               else empty end),
              (if ($x | has("result")) and $r.result != $x.result then
                 "task \($n): result \($r.result | tojson), expected \($x.result | tojson)"
               else empty end),
              (if ($x | has("published")) and $r.published != $x.published then
                 "task \($n): published \($r.published | tojson), expected \($x.published | tojson)"
               else empty end),
              (if ($x | has("state_info_contains")) and
                  (contains_text($r.state_info; $x.state_info_contains) | not) then
                 "task \($n): state_info \($r.state_info | tojson) does not contain \($x.state_info_contains | tojson)"
               else empty end),
              (if ($x | has("result_contains")) and
                  (contains_text($r.result | tojson; $x.result_contains) | not) then
                 "task \($n): result \($r.result | tojson) does not contain \($x.result_contains | tojson)"
               else empty end)
            end)
         else empty end)
      end)
   else empty end)
)
'

pass=0
fail=0
failed=

# Run one case; prints "ok NAME" or "FAIL NAME: why".
run_case() {
	name=$1
	yaml=$CASEDIR/$name.yaml
	expect=$CASEDIR/$name.expect
	dir=$tmp/$name
	mkdir -p "$dir"

	if [ ! -f "$expect" ]; then
		echo "FAIL $name: no $name.expect"
		return 1
	fi
	if ! jq -e 'type == "object"' "$expect" >/dev/null 2>&1; then
		echo "FAIL $name: $name.expect is not a JSON object"
		return 1
	fi

	eval "set -- $(jq -r '(.args // []) | map(tostring) | @sh' "$expect")"
	db=${BORA_DB:-sqlite:$dir/$name.db}

	# What a run costs without its workflow, when the case bounds time.
	base=0
	if jq -e 'has("max_elapsed_ms")' "$expect" >/dev/null; then
		start=$(now_ms)
		(cd "$dir" && exec timeout "$TIMEOUT" "$BORA" run \
		    "$CASEDIR/default_noop.yaml" -f json \
		    --db "${BORA_DB:-sqlite:$dir/base.db}") >/dev/null 2>&1
		base=$(($(now_ms) - start))
	fi

	start=$(now_ms)
	(cd "$dir" && exec timeout "$TIMEOUT" "$BORA" run "$yaml" "$@" \
	    -f json --db "$db") >"$dir/stdout" 2>"$dir/stderr"
	rc=$?
	ms=$(($(now_ms) - start))

	if [ $rc -eq 124 ]; then
		echo "FAIL $name: no answer after ${TIMEOUT}s"
		return 1
	fi
	if [ $rc -ge 128 ]; then
		echo "FAIL $name: bora run died with status $rc:" \
		    "$(tail -n 3 "$dir/stderr" | tr '\n' ' ')"
		return 1
	fi

	if jq -e . "$dir/stdout" >/dev/null 2>&1; then
		out=$dir/stdout
	else
		echo null >"$dir/null.json"
		out=$dir/null.json
	fi

	jq -n -r --slurpfile e "$expect" --slurpfile o "$out" \
	    --rawfile err "$dir/stderr" --argjson rc "$rc" --argjson ms "$ms" \
	    --argjson base "$base" \
	    "\$e[0] as \$e | \$o[0] as \$out | $CHECKS" >"$dir/why" 2>&1 ||
		echo "jq failed on the checks" >>"$dir/why"

	n=$(jq -r '(.assert // []) | length' "$expect")
	i=0
	while [ "$i" -lt "$n" ]; do
		a=$(jq -r ".assert[$i]" "$expect")
		if ! jq -e "$a" "$out" >/dev/null 2>&1; then
			echo "assertion failed: $a" >>"$dir/why"
		fi
		i=$((i + 1))
	done

	if [ -s "$dir/why" ]; then
		why=$(head -n 5 "$dir/why" | sed 's/$/;/' | tr '\n' ' ')
		if [ -s "$dir/stderr" ]; then
			why="$why stderr: $(head -c 300 "$dir/stderr" | tr '\n' ' ')"
		fi
		echo "FAIL $name: $why"
		return 1
	fi
	echo "ok $name"
	return 0
}

if [ $# -gt 0 ]; then
	names=$*
else
	names=
	for f in "$CASEDIR"/*.yaml; do
		n=${f##*/}
		names="$names ${n%.yaml}"
	done
fi

for name in $names; do
	if run_case "$name"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed="$failed $name"
	fi
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ] || echo "failed:$failed"
[ $fail -eq 0 ]
