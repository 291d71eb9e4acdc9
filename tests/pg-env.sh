# pg-env.sh -- source me: a throwaway PostgreSQL cluster for tests.
#
# When BORA_TEST_PGURL is set, that database is used as is.  Otherwise
# initdb a cluster in a temporary directory, start it listening only on a
# Unix socket in that directory, create database "bora", export
# BORA_TEST_PGURL=postgresql:///bora?host=DIR&port=PORT&user=USER and stop
# and remove everything when the sourcing shell exits.  Also exported:
# BORA_TEST_PGDIR (the directory), BORA_TEST_PGCTL (pg_ctl), and
# BORA_TEST_PG_STOP / BORA_TEST_PG_START / BORA_TEST_PG_RESTART (shell
# commands that stop, start and restart -m immediate the server, for
# restart tests).  Without PostgreSQL the test is skipped (exit 77),
# except under CI=true where a missing server is a failure.  The EXIT
# trap of the sourcing shell is taken for the cleanup.

pg_env_fail() {
	echo "pg-env.sh: $*" >&2
	if [ "${CI:-}" = true ]; then
		exit 1
	fi
	exit 77
}

# Run a command as the cluster's owner.
pg_env_run() {
	if [ -n "$pg_env_user" ]; then
		runuser -u "$pg_env_user" -- "$@"
	else
		"$@"
	fi
}

# Stop and remove the cluster.
pg_env_stop() {
	if [ -n "${BORA_TEST_PGDIR:-}" ] && [ -d "$BORA_TEST_PGDIR" ]; then
		pg_env_run "$BORA_TEST_PGCTL" -D "$BORA_TEST_PGDIR/data" \
		    -m immediate -w stop >/dev/null 2>&1
		rm -rf "$BORA_TEST_PGDIR"
	fi
}

if [ -z "${BORA_TEST_PGURL:-}" ]; then
	pg_env_bin=
	# The newest installed server first.
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null |
	    sort -t/ -k4 -n -r) /usr/local/pgsql/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			pg_env_bin=$d
			break
		fi
	done
	if [ -z "$pg_env_bin" ]; then
		if command -v initdb >/dev/null 2>&1 &&
		    command -v pg_ctl >/dev/null 2>&1; then
			pg_env_bin=$(dirname "$(command -v initdb)")
		else
			pg_env_fail "PostgreSQL (initdb, pg_ctl) not found"
		fi
	fi

	pg_env_user=
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 ||
		    pg_env_fail "running as root without a postgres user"
		pg_env_user=postgres
	fi

	BORA_TEST_PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/bora-pg.XXXXXX") ||
	    pg_env_fail "mktemp failed"
	BORA_TEST_PGCTL=$pg_env_bin/pg_ctl
	export BORA_TEST_PGDIR BORA_TEST_PGCTL
	trap pg_env_stop EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	chmod 755 "$BORA_TEST_PGDIR"
	[ -n "$pg_env_user" ] && chown "$pg_env_user" "$BORA_TEST_PGDIR"

	pg_env_dbuser=bora
	if ! pg_env_run "$pg_env_bin/initdb" -D "$BORA_TEST_PGDIR/data" \
	    -U "$pg_env_dbuser" --auth=trust -E UTF8 --no-locale --no-sync \
	    >"$BORA_TEST_PGDIR/initdb.log" 2>&1; then
		cat "$BORA_TEST_PGDIR/initdb.log" >&2
		pg_env_fail "initdb failed"
	fi

	# A free port: the socket lives in our own directory, so any port
	# number works unless a lock file in it says otherwise.
	pg_env_port=$(( 20000 + $$ % 20000 ))
	pg_env_ok=
	for pg_env_try in 1 2 3 4 5; do
		pg_env_opts="-c listen_addresses='' -k $BORA_TEST_PGDIR"
		pg_env_opts="$pg_env_opts -p $pg_env_port -c fsync=on"
		pg_env_opts="$pg_env_opts -c max_connections=100"
		if pg_env_run "$BORA_TEST_PGCTL" -D "$BORA_TEST_PGDIR/data" \
		    -l "$BORA_TEST_PGDIR/log" -w -t 30 -o "$pg_env_opts" \
		    start >/dev/null 2>&1; then
			pg_env_ok=1
			break
		fi
		pg_env_port=$((pg_env_port + 1))
	done
	if [ -z "$pg_env_ok" ]; then
		cat "$BORA_TEST_PGDIR/log" >&2
		pg_env_fail "pg_ctl start failed"
	fi
	BORA_TEST_PGPORT=$pg_env_port
	export BORA_TEST_PGPORT
	if ! pg_env_run "$pg_env_bin/psql" -X -q -h "$BORA_TEST_PGDIR" \
	    -p "$pg_env_port" -U "$pg_env_dbuser" -d postgres \
	    -c 'CREATE DATABASE bora' >/dev/null; then
		pg_env_fail "CREATE DATABASE failed"
	fi
	BORA_TEST_PGURL="postgresql:///bora?host=$BORA_TEST_PGDIR"
	BORA_TEST_PGURL="$BORA_TEST_PGURL&port=$pg_env_port&user=$pg_env_dbuser"
	export BORA_TEST_PGURL

	# Shell commands that stop and start this server (restart tests).
	pg_env_as=
	[ -n "$pg_env_user" ] && pg_env_as="runuser -u $pg_env_user -- "
	pg_env_ctl="${pg_env_as}$BORA_TEST_PGCTL -D $BORA_TEST_PGDIR/data"
	BORA_TEST_PG_STOP="$pg_env_ctl -m fast -w stop >/dev/null"
	BORA_TEST_PG_START="$pg_env_ctl -l $BORA_TEST_PGDIR/log -w -t 30"
	BORA_TEST_PG_START="$BORA_TEST_PG_START -o \"$pg_env_opts\""
	BORA_TEST_PG_START="$BORA_TEST_PG_START start >/dev/null"
	# A crash-like restart: every backend killed, recovery from the log.
	BORA_TEST_PG_RESTART="$pg_env_ctl -l $BORA_TEST_PGDIR/log -m immediate"
	BORA_TEST_PG_RESTART="$BORA_TEST_PG_RESTART -w -t 30 restart >/dev/null"
	export BORA_TEST_PG_STOP BORA_TEST_PG_START BORA_TEST_PG_RESTART
fi
