#!/bin/sh
#
# disk-full.sh -- the embedded store runs out of space: borad on SQLite
# keeps serving, a write that does not fit is answered 503 with
# Retry-After and says there is no space left, reads still answer,
# nothing already committed is lost (every execution accepted exists and
# ends SUCCESS, those in flight included), and work resumes by itself
# when space returns.
#
# The database lives on a 3 MB tmpfs when this user can mount one (then
# space returns by remounting it larger); otherwise borad's file size
# limit (RLIMIT_FSIZE, set with prlimit(1) on the running process) plays
# the full disk, and raising the limit returns the space.
#
# Environment: BORAD, SRCDIR, BUILDDIR; DISK_FULL_RLIMIT=1 takes the
# file size limit even where a tmpfs can be mounted.

. "$(dirname "$0")/lib.sh"

need prlimit
mkdir -p "$TMP/db"
MOUNTED=
if [ -z "${DISK_FULL_RLIMIT:-}" ] &&
    mount -t tmpfs -o size=3m tmpfs "$TMP/db" 2>/dev/null; then
	MOUNTED=1
fi
disk_cleanup()
{
	borad_stop
	[ -n "$MOUNTED" ] && umount "$TMP/db"
	cleanup
}
trap disk_cleanup EXIT

cat >"$TMP/workflows/nap.yaml" <<'EOF'
version: '2.0'
nap:
  tasks:
    t1:
      action: std.noop
      on-success: t2
    t2:
      action: std.sleep seconds=0.5
      on-success: t3
    t3:
      action: std.echo output=done
      publish:
        out: <% task().result %>
  output:
    out: <% _.out %>
EOF

BORAD_DB=sqlite:$TMP/db/bora.db
borad_start || { not_ok "borad starts"; finish; }
if [ -n "$MOUNTED" ]; then
	echo "# the database on a 3 MB tmpfs"
else
	# What is written so far, plus 1.5 MB; SIGXFSZ is ignored by borad.
	lim=$(( $(du -cb "$TMP"/db/bora.db* | tail -n 1 | cut -f 1) +
	    1572864 ))
	prlimit --pid "$BORAD_PID" --fsize=$lim: ||
	    { not_ok "prlimit on borad"; finish; }
	echo "# no tmpfs here: borad's file size limit is $lim bytes"
fi
ok "borad on SQLite is ready"

# Post executions (each with a 2 KB description, to fill the disk
# sooner) until one is refused.
desc=$(head -c 1500 /dev/zero | tr '\0' x)
: >"$TMP/accepted"
refused=
i=0
while [ $i -lt 5000 ]; do
	api_json POST /v2/executions \
	    "{\"workflow_name\": \"nap\", \"description\": \"$desc\"}"
	if [ "$STATUS" = 201 ]; then
		jb .id >>"$TMP/accepted"
	else
		refused=$STATUS
		break
	fi
	i=$((i + 1))
done
naccepted=$(wc -l <"$TMP/accepted")
echo "# $naccepted executions accepted before the disk was full"
if [ "$refused" = 503 ]; then
	ok "a start that does not fit is refused with 503"
else
	not_ok "a start that does not fit is refused with 503" \
	    "got ${refused:-nothing} after $naccepted"
fi
check "the answer says to retry (Retry-After)" \
    grep -qi '^Retry-After: [0-9]' "$TMP/headers"
if jq -e '.faultstring | test("no space left")' "$TMP/body" >/dev/null; then
	ok "the answer says there is no space left"
else
	not_ok "the answer says there is no space left" "$(cat "$TMP/body")"
fi
api GET "/v2/executions?limit=5"
expect "reads still answer while the disk is full" 200
api GET /healthz
expect "/healthz stays 200" 200
sleep 1
if kill -0 "$BORAD_PID" 2>/dev/null; then
	ok "borad keeps running on a full disk"
else
	not_ok "borad keeps running on a full disk"
	finish
fi
if grep -q "no space left" "$TMP/borad.log"; then
	ok "the log says there is no space left"
else
	not_ok "the log says there is no space left"
fi

# Space returns.
if [ -n "$MOUNTED" ]; then
	mount -o remount,size=64m "$TMP/db"
else
	prlimit --pid "$BORAD_PID" --fsize=unlimited:
fi
api_json POST /v2/executions '{"workflow_name": "nap"}'
if expect "a start is accepted once space returns" 201; then
	jb .id >>"$TMP/accepted"
fi
# Every accepted execution ends SUCCESS, those whose steps waited for
# space included.
left=
n=0
while [ $n -lt 150 ]; do
	left=$(while read -r id; do
		curl -s "$URL/v2/executions/$id" | jq -r .state
	done <"$TMP/accepted" | grep -vc SUCCESS)
	[ "$left" = 0 ] && break
	sleep 0.2
	n=$((n + 1))
done
check "every execution accepted exists and ends SUCCESS ($left not)" \
    test "$left" = 0
api GET "/v2/executions/$(head -n 1 "$TMP/accepted")"
expect "the first one has its output" 200 '.output | fromjson | .out == "done"'
finish
