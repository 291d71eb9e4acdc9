# mistral-lib.sh -- shared by the tests that drive borad with the real
# OpenStack client (python3-mistralclient): sourced after lib.sh, once
# borad runs on $URL.  The client talks to the endpoint with no
# Keystone: none of the OS_* variables that would make it ask one.

need mistral
unset OS_AUTH_URL OS_PASSWORD OS_AUTH_TOKEN OS_USERNAME OS_PROJECT_NAME \
    OS_CLOUD OS_MISTRAL_URL

# M ARGS...: the client against borad.
M()
{
	mistral --os-mistral-url "$URL/v2" "$@"
}

# mcheck NAME ARGS...: the command succeeds; its output is in $TMP/out.
mcheck()
{
	_n=$1
	shift
	if M "$@" >"$TMP/out" 2>&1; then
		ok "$_n"
	else
		not_ok "$_n" "$(head -c 400 "$TMP/out")"
	fi
}

# mfail NAME PATTERN ARGS...: the command fails and says PATTERN.
mfail()
{
	_n=$1
	_p=$2
	shift 2
	if M "$@" >"$TMP/out" 2>&1; then
		not_ok "$_n" "it succeeded: $(head -c 300 "$TMP/out")"
	elif grep -Eq "$_p" "$TMP/out"; then
		ok "$_n"
	else
		not_ok "$_n" "$(head -c 400 "$TMP/out")"
	fi
}

# jcheck NAME FILTER: the jq test holds on the last output.
jcheck()
{
	if jq -e "$2" "$TMP/out" >/dev/null 2>&1; then
		ok "$1"
	else
		not_ok "$1" "'$2' fails on: $(head -c 300 "$TMP/out")"
	fi
}
