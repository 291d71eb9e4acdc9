#!/bin/sh
#
# reload.sh -- watched definition folders of a real borad: a new file
# appears in the workflow list, an edited file changes the next
# execution, a broken edit keeps the previous version and is reported,
# a removed file removes its workflow, SIGHUP rescans, a restart adds no
# versions, and "borad -n" checks every file.

. "$(dirname "$0")/lib.sh"

WF=$TMP/workflows

# wait_for CMD...: retry for 5 s.
wait_for()
{
	_i=0
	while [ $_i -lt 50 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

listed()
{
	curl -sf "$URL/v2/workflows/$1" >/dev/null
}

not_listed()
{
	! listed "$1"
}

has_errors()
{
	curl -s "$URL/readyz" | jq -e \
	    ".definition_errors | map(.file) | index(\"$1\") != null"
}

no_errors()
{
	curl -s "$URL/readyz" | jq -e '.definition_errors == []'
}

# run_output WF: start WF, wait, print its output's "g".
run_output()
{
	_id=$(curl -s -H 'Content-Type: application/json' -d \
	    "{\"workflow_name\":\"$1\",\"input\":{\"name\":\"x\"}}" \
	    "$URL/v2/executions" | jq -r .id)
	wait_state "$_id" SUCCESS ERROR >/dev/null
	curl -s "$URL/v2/executions/$_id" | jq -r '.output | fromjson | .g'
}

# --help and a bad flag, then -n before anything runs.
if "$BORAD" --help >"$TMP/out" 2>&1 && grep -q -- "--workflows" "$TMP/out"; then
	ok "borad --help lists the options and exits 0"
else
	not_ok "borad --help lists the options and exits 0" "$(head -3 "$TMP/out")"
fi
if "$BORAD" --no-such-flag >"$TMP/out" 2>&1; then
	not_ok "borad refuses an unknown flag"
else
	ok "borad refuses an unknown flag"
fi
# -n before anything runs.
cp "$DATA/hello.yaml" "$WF/hello.yaml"
if "$BORAD" -n --workflows "$WF" --actions "$TMP/actions" \
    --lua "$TMP/lua" >"$TMP/out" 2>&1 && grep -q "configuration OK" \
    "$TMP/out"; then
	ok "borad -n: configuration OK"
else
	not_ok "borad -n: configuration OK" "$(cat "$TMP/out")"
fi
cp "$DATA/invalid.yaml" "$WF/invalid.yaml"
if "$BORAD" -n --workflows "$WF" --actions "$TMP/actions" \
    --lua "$TMP/lua" >"$TMP/out" 2>&1; then
	not_ok "borad -n fails on an invalid file"
else
	ok "borad -n fails on an invalid file"
fi
check "borad -n names file:line:col" grep -q "invalid.yaml:[0-9]*:[0-9]*:" \
    "$TMP/out"
rm -f "$WF/invalid.yaml"
if "$BORAD" -n --workflows "$WF" --listen nonsense >"$TMP/out" 2>&1; then
	not_ok "borad -n fails on a bad listen address"
else
	ok "borad -n fails on a bad listen address"
fi
printf 'listen: 127.0.0.1:1\nnot-an-option: 3\n' >"$TMP/bad.conf"
if "$BORAD" -n -f "$TMP/bad.conf" >"$TMP/out" 2>&1; then
	not_ok "an unknown option in -f is an error"
else
	ok "an unknown option in -f is an error"
fi
check "the config error names file:line:col" \
    grep -q "bad.conf:2:1: unknown option 'not-an-option'" "$TMP/out"

borad_start || { not_ok "borad starts"; finish; }
ok "borad starts with a watched folder"
check "the file's workflow is listed at start" listed hello
check "no load errors" no_errors
check "the workflow runs" test "$(run_output hello)" = "Hello x"

# A new file appears.
sed 's/^hello:/hello2:/' "$DATA/hello.yaml" >"$WF/.hello2.tmp"
mv "$WF/.hello2.tmp" "$WF/hello2.yaml"
check "a new file's workflow is listed" wait_for listed hello2

# An edit changes the next execution.
sed 's/"Hello "/"Bonjour "/' "$DATA/hello.yaml" >"$WF/hello.yaml"
check "an edit is loaded" wait_for sh -c \
    "curl -s $URL/v2/workflows/hello | grep -q Bonjour"
check "the next execution uses the edit" test "$(run_output hello)" = \
    "Bonjour x"

# A broken edit keeps the previous version and is reported.
printf 'version: "2.0"\nhello:\n  tasks:\n    t1:\n      action: std.echo\n      on-success: missing_task\n' \
    >"$WF/hello.yaml"
check "a broken edit is reported" wait_for has_errors "$WF/hello.yaml"
check "the error says where" sh -c "curl -s $URL/readyz | jq -r \
    '.definition_errors[0].errors[0]' | grep -q 'hello.yaml:[0-9]*:[0-9]*:'"
check "the previous version stays in force" test "$(run_output hello)" = \
    "Bonjour x"
check "the log reports it" grep -q "not loaded; the previous version" \
    "$TMP/borad.log"
api GET /metrics
check "/metrics counts the broken file" grep -q '^bora_definition_errors 1' \
    "$TMP/body"

# The fix clears the error.
cp "$DATA/hello.yaml" "$WF/hello.yaml"
check "a fix clears the error" wait_for no_errors
check "the fixed version runs" test "$(run_output hello)" = "Hello x"

# A removed file removes its workflow.
rm "$WF/hello2.yaml"
check "a removed file's workflow is gone" wait_for not_listed hello2

# Workbooks in the workflows folder, catalogs in the actions folder.
cp "$DATA/workbook.yaml" "$WF/wb.yaml"
check "a workbook file is loaded as a workbook" wait_for sh -c \
    "curl -sf $URL/v2/workbooks/contract_wb"
cp "$DATA/adhoc_actions.yaml" "$TMP/actions/text.yaml"
check "an actions file is loaded" wait_for sh -c \
    "curl -sf $URL/v2/actions/text.shout"
mkdir "$WF/sub"
sed 's/^hello:/hello_sub:/' "$DATA/hello.yaml" >"$WF/sub/hs.yaml"
check "a new subfolder is watched" wait_for listed hello_sub

# SIGHUP rescans and the daemon stays up.
kill -HUP "$BORAD_PID"
sleep 0.5
check "SIGHUP: still ready" curl -sf "$URL/readyz"
check "SIGHUP: still listed" listed hello
check "SIGHUP is logged" grep -q "reloading" "$TMP/borad.log"

# A restart re-reads unchanged files without new versions.
V1=$(curl -s "$URL/v2/workbooks/contract_wb" | jq -r .version)
borad_stop
borad_start || not_ok "borad restarts"
V2=$(curl -s "$URL/v2/workbooks/contract_wb" | jq -r .version)
check "a restart adds no version ($V1 = $V2)" test "$V1" = "$V2"
check "the workflow is still there" listed hello

# A file removed while borad was down is removed at start.
borad_stop
rm "$WF/sub/hs.yaml"
borad_start || not_ok "borad restarts"
check "a file removed while down is gone" not_listed hello_sub

finish
