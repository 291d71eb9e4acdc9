#!/bin/sh
#
# data-dirs.sh -- borad started as the README says, from the build tree
# and without "make install" ("./src/borad -d --db sqlite:x.db
# --workflows workflows"), finds the Lua library, and a workflow using
# default() from it succeeds; bora run finds the same library.  A copy
# of borad elsewhere finds a library beside it.  With no library found,
# or a --lua folder that does not exist, borad and borad -n refuse to
# start and say why.

. "$(dirname "$0")/lib.sh"

: "${BORA:=$BUILDDIR/src/bora}"
[ -x "$BORA" ] || skip "$BORA is not built"

# The test is about defaults: no BORA_* setting may leak in.
for _v in $(env | sed -n 's/^\(BORA_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$_v"
done

cat >"$TMP/default.yaml" <<'EOF'
version: '2.0'
uses_default:
  input:
    - name: null
  tasks:
    greet:
      action: std.echo output=<% 'hello ' .. default(_.name, 'world') %>
      publish:
        greeting: <% task().result %>
  output:
    greeting: <% _.greeting %>
EOF

# The README's command runs in the build tree (the source tree when the
# build is in place; its workflows/ folder is the source tree's).
if [ -d "$BUILDDIR/workflows" ]; then
	WFARG=workflows
else
	WFARG=$SRCDIR/workflows
fi

# start_in DIR BORAD ARGS...: start a borad from DIR, wait for /readyz.
start_in()
{
	_dir=$1
	_bin=$2
	shift 2
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	(cd "$_dir" && exec "$_bin" -d --listen "127.0.0.1:$PORT" "$@") \
	    >>"$TMP/borad.log" 2>&1 &
	BORAD_PID=$!
	borad_wait
}

# run_default [NAME]: run uses_default; print its state and greeting.
run_default()
{
	if [ -n "${1:-}" ]; then
		_in="{\"name\":\"$1\"}"
	else
		_in="{}"
	fi
	_id=$(curl -s -H 'Content-Type: application/json' -d \
	    "{\"workflow_name\":\"uses_default\",\"input\":$_in}" \
	    "$URL/v2/executions" | jq -r .id)
	wait_state "$_id" SUCCESS ERROR >/dev/null
	curl -s "$URL/v2/executions/$_id" | jq -r \
	    '.state + " " + (.output | fromjson | .greeting // "") + " " +
	    (.state_info // "")'
}

# ---- from the build tree, as the README says ----------------------

if start_in "$BUILDDIR" ./src/borad --db "sqlite:$TMP/x.db" \
    --workflows "$WFARG"; then
	ok "borad starts from the build tree without make install"
else
	not_ok "borad starts from the build tree without make install"
	finish
fi
if grep -q "no Lua library" "$TMP/borad.log"; then
	not_ok "borad finds the Lua library" "$(grep -m1 "no Lua" \
	    "$TMP/borad.log")"
else
	ok "borad finds the Lua library"
fi
api_text POST /v2/workflows "$TMP/default.yaml"
expect "a workflow using default() is created" 201
check "the shipped examples are loaded" curl -sf "$URL/v2/workflows/hello"
out=$(run_default)
check "default() from the Lua library: SUCCESS ($out)" \
    test "$out" = "SUCCESS hello world "
out=$(run_default bora)
check "default() keeps a given value ($out)" test "$out" = "SUCCESS hello bora "
borad_stop
check "borad stops with status 0" test $? -eq 0

out=$(cd "$BUILDDIR" && ./src/borad -n --workflows "$WFARG" 2>&1)
check "borad -n from the build tree: configuration OK" \
    test "$(echo "$out" | tail -1)" = "configuration OK"
out=$(cd "$BUILDDIR" && ./src/bora run --db "sqlite:$TMP/run.db" \
    "$TMP/default.yaml" -f json 2>&1)
check "bora run finds the same library" test "$(echo "$out" | \
    jq -r '.state + " " + .output.greeting')" = "SUCCESS hello world"

# A second run of unchanged files saves no new definition versions; a
# changed file is saved as a new version of its definition.
ndefs()
{
	sqlite3 "$TMP/run.db" "SELECT count(*) FROM definitions"
}
n1=$(ndefs)
out=$(cd "$BUILDDIR" && ./src/bora run --db "sqlite:$TMP/run.db" \
    "$TMP/default.yaml" -f json 2>&1)
check "bora run again: SUCCESS" test "$(echo "$out" | jq -r .state)" = \
    SUCCESS
check "unchanged files are not saved again ($n1, then $(ndefs))" \
    test "$(ndefs)" -eq "$n1"
printf '\n# changed\n' >>"$TMP/default.yaml"
out=$(cd "$BUILDDIR" && ./src/bora run --db "sqlite:$TMP/run.db" \
    "$TMP/default.yaml" -f json 2>&1)
check "bora run of a changed file: SUCCESS" \
    test "$(echo "$out" | jq -r .state)" = SUCCESS
check "a changed file is saved as a new version ($n1, then $(ndefs))" \
    test "$(ndefs)" -eq $((n1 + 1))

# ---- a copy of borad elsewhere ------------------------------------

mkdir -p "$TMP/bin" "$TMP/wf"
cp "$BUILDDIR/src/borad" "$TMP/bin/borad"

# With nothing beside it, the library is the installed one, if any.
"$TMP/bin/borad" -n --workflows "$TMP/wf" >"$TMP/out" 2>&1
rc=$?
if [ -d "${PKGDATADIR:-/nonexistent}/lua" ]; then
	check "borad -n uses the installed library" test "$rc" -eq 0
else
	check "borad -n: no library found is an error" test "$rc" -ne 0
	check "borad -n says where it looked" grep -q \
	    "^borad: lua: no Lua library found: none in the build tree, beside the program or at .*/lua; name one with --lua DIR$" \
	    "$TMP/out"
	# (124: it started, and timeout stopped it.)
	timeout 20 "$TMP/bin/borad" -d --workflows "$TMP/wf" \
	    --db "sqlite:$TMP/y.db" --listen "127.0.0.1:$(free_port)" \
	    >"$TMP/out" 2>&1
	rc=$?
	check "borad refuses to start without a library ($rc)" \
	    test "$rc" -eq 1
	check "borad says why" grep -q "^borad: lua: no Lua library found" \
	    "$TMP/out"
fi

# A --lua folder that does not exist is an error too.
"$TMP/bin/borad" -n --workflows "$TMP/wf" --lua "$TMP/no-such" \
    >"$TMP/out" 2>&1
rc=$?
check "borad -n: a missing --lua folder is an error" test "$rc" -ne 0
check "the error names the folder" grep -q \
    "^borad: lua: no Lua library at $TMP/no-such: No such file or directory" \
    "$TMP/out"

# A library beside the program is found.
mkdir -p "$TMP/bin/lua"
cat "$SRCDIR/lua/"*.lua >"$TMP/bin/lua/bora.lua"
cat >>"$TMP/bin/lua/bora.lua" <<'EOF'

function beside() return 'beside' end
EOF
sed "s/default(_.name, 'world')/default(_.name, beside())/" \
    "$TMP/default.yaml" >"$TMP/wf/default.yaml"
if start_in "$TMP" "$TMP/bin/borad" --db "sqlite:$TMP/z.db" \
    --workflows "$TMP/wf"; then
	ok "a copy of borad with a library beside it starts"
	out=$(run_default)
	check "its library is the one beside it ($out)" \
	    test "$out" = "SUCCESS hello beside "
else
	not_ok "a copy of borad with a library beside it starts"
fi

finish
