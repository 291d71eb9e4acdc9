#!/bin/sh
#
# std-actions.sh -- the std actions that talk to other programs, run by
# a real borad against real peers started here on 127.0.0.1:
#
#   std.mistral_http  a local HTTP server receives the request with the
#                     Mistral-* headers; curl then PUTs the result to
#                     the callback URL it was given, which completes the
#                     task and the execution.
#   std.email         two SMTP receivers (smtpd.py): one without TLS, one
#                     with STARTTLS on a certificate made here by openssl
#                     and a login; what they receive is checked header by
#                     header, and a password never goes out in clear.
#   std.ssh           OpenSSH's sshd on a local port with keys made here by
#                     ssh-keygen: key files and key text (with a
#                     passphrase), host lists, known_hosts checks, exit
#                     statuses, timeouts and output limits, and commands
#                     that wait while other actions go on.
#
# sshd runs as the user running the test, who is the one logging in; as
# root it needs /run/sshd, which is made if missing.
# Environment: BORAD, SRCDIR, BUILDDIR (see lib.sh).  A missing tool
# skips (77), or fails under CI=true.

. "$(dirname "$0")/lib.sh"
need openssl ssh-keygen ssh-keyscan
SSHD=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || skip "sshd is not installed (openssh-server)"

PEER_PIDS=

# Stop the peers started here, then borad.
peers_cleanup()
{
	for _p in $PEER_PIDS; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	cleanup
}
trap peers_cleanup EXIT

# wait_file FILE PATTERN: poll (10 s) until FILE has a line matching.
wait_file()
{
	_i=0
	while [ $_i -lt 100 ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# ---- a local HTTP server that records what it receives ---------------
# Each request is one JSON line in $TMP/http.log: method, path, headers,
# body.  It answers 200 {"accepted": true}.
HTTP_PORT=$(free_port)
python3 - "$HTTP_PORT" "$TMP/http.log" >"$TMP/http.err" 2>&1 <<'PY' &
import http.server, json, sys

port, log = int(sys.argv[1]), sys.argv[2]

class H(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                "headers": dict(self.headers), "body": body}) + "\n")
        out = b'{"accepted": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PUT = handle_one
    def log_message(self, *a):
        pass

http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
PEER_PIDS="$PEER_PIDS $!"

borad_start || { not_ok "borad starts"; finish; }
ok "borad started"

# ---- std.mistral_http: the callback completes the action -------------
cat >"$TMP/callback.yaml" <<'YAML'
version: '2.0'
callback_wf:
  input:
    - url
  tasks:
    call:
      action: std.mistral_http
      input:
        url: <% _.url %>
        method: POST
        json: {ask: "status"}
      publish:
        answer: <% task().result %>
      on-success: after
    after:
      action: std.echo output=<% _.answer.answer + 1 %>
      publish:
        next: <% task().result %>
  output:
    answer: <% _.answer %>
    next: <% _.next %>
YAML
api_text POST /v2/workflows "$TMP/callback.yaml"
expect "std.mistral_http: workflow created" 201

start_cb()
{
	api_json POST /v2/executions "{\"workflow_name\": \"callback_wf\",
	    \"input\": \"{\\\"url\\\": \\\"http://127.0.0.1:$HTTP_PORT/$1\\\"}\"}"
	X=$(jb .id)
}

start_cb ask1
expect "std.mistral_http: execution started" 201
if wait_file "$TMP/http.log" '"path": "/ask1"'; then
	ok "std.mistral_http: the request reached the remote side"
else
	not_ok "std.mistral_http: the request reached the remote side" \
	    "$(cat "$TMP/http.err")"
fi
grep '"path": "/ask1"' "$TMP/http.log" | tail -1 >"$TMP/req1.json"
hdr()
{
	jq -r --arg h "$1" '.headers | to_entries[] |
	    select((.key | ascii_downcase) == ($h | ascii_downcase)) | .value' \
	    "$TMP/req1.json"
}
CB=$(hdr Mistral-Callback-URL)
AID=$(hdr Mistral-Action-Execution-Id)
TID=$(hdr Mistral-Task-Id)
api GET "/v2/executions/$X/tasks"
expect "std.mistral_http: the task waits for the callback" 200 \
    ".tasks[0].name == \"call\" and .tasks[0].state == \"RUNNING\""
check "std.mistral_http: Mistral-Task-Id is the task's id" \
    test "$TID" = "$(jb '.tasks[0].id')"
check "std.mistral_http: Mistral-Workflow-Name" \
    test "$(hdr Mistral-Workflow-Name)" = callback_wf
check "std.mistral_http: Mistral-Workflow-Execution-Id" \
    test "$(hdr Mistral-Workflow-Execution-Id)" = "$X"
check "std.mistral_http: Mistral-Callback-URL is the full URL of the PUT" \
    test "$CB" = "$URL/v2/action_executions/$AID"
check "std.mistral_http: the body was sent" \
    test "$(jq -r .body "$TMP/req1.json")" = '{"ask":"status"}'
api GET "/v2/action_executions/$AID"
expect "std.mistral_http: the action execution is RUNNING" 200 \
    '.state == "RUNNING" and .name == "std.mistral_http"'

# The remote side answers later, as Mistral's contract says.
sleep 0.5
api GET "/v2/executions/$X"
expect "std.mistral_http: still RUNNING until the callback" 200 \
    '.state == "RUNNING"'
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -X PUT \
    -H 'Content-Type: application/json' \
    --data-binary '{"state": "SUCCESS", "output": {"answer": 41}}' "$CB")
expect "std.mistral_http: curl PUTs the result to the callback URL" 200 \
    ".id == \"$AID\""
if wait_state "$X" SUCCESS ERROR; then
	api GET "/v2/executions/$X"
	expect "std.mistral_http: the callback completed the execution" 200 \
	    '.state == "SUCCESS" and (.output | fromjson) ==
	    {"answer": {"answer": 41}, "next": 42}'
else
	not_ok "std.mistral_http: the callback completed the execution"
fi

# An error through the callback fails the task with its text.
start_cb ask2
wait_file "$TMP/http.log" '"path": "/ask2"'
CB2=$(grep '"path": "/ask2"' "$TMP/http.log" | tail -1 | jq -r '.headers |
    to_entries[] | select((.key | ascii_downcase) ==
    "mistral-callback-url") | .value')
curl -s -o "$TMP/body" -X PUT -H 'Content-Type: application/json' \
    --data-binary '{"state": "ERROR", "output": "remote check failed"}' "$CB2"
if wait_state "$X" ERROR SUCCESS; then
	api GET "/v2/executions/$X/tasks"
	expect "std.mistral_http: an ERROR callback fails the task with its text" \
	    200 '.tasks[0].state == "ERROR" and
	    (.tasks[0].state_info | contains("remote check failed"))'
else
	not_ok "std.mistral_http: an ERROR callback fails the task"
fi

# A remote side that refuses the request fails the action at once.
api_json POST /v2/executions "{\"workflow_name\": \"callback_wf\",
    \"input\": \"{\\\"url\\\": \\\"http://127.0.0.1:1/x\\\"}\"}"
X=$(jb .id)
if wait_state "$X" ERROR SUCCESS; then
	ok "std.mistral_http: a request that cannot be sent fails at once"
else
	not_ok "std.mistral_http: a request that cannot be sent fails at once"
fi

# ---- std.email ---------------------------------------------------------
# actrun NAME INPUT-JSON: run one action through borad's API and wait for
# it; the action execution is in $TMP/body.
actrun()
{
	api_json POST /v2/action_executions "$(jq -n --arg n "$1" \
	    --arg i "$2" '{name: $n, input: $i}')"
}

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/smtp.key" \
    -out "$TMP/smtp.crt" >"$TMP/openssl.log" 2>&1 ||
    not_ok "openssl makes a certificate" "$(cat "$TMP/openssl.log")"
SMTP_PLAIN=$(free_port)
python3 "$SRCDIR/tests/integration/smtpd.py" "$SMTP_PLAIN" \
    "$TMP/smtp-plain.log" >"$TMP/smtpd-plain.err" 2>&1 &
PEER_PIDS="$PEER_PIDS $!"
SMTP_TLS=$(free_port)
python3 "$SRCDIR/tests/integration/smtpd.py" "$SMTP_TLS" "$TMP/smtp-tls.log" \
    "$TMP/smtp.crt" "$TMP/smtp.key" ops@example.org s3cret \
    >"$TMP/smtpd-tls.err" 2>&1 &
PEER_PIDS="$PEER_PIDS $!"
for p in $SMTP_PLAIN $SMTP_TLS; do
	i=0
	while [ $i -lt 50 ] && ! python3 -c "import socket, sys
socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$p" \
	    2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
done

# mail LOG: the last message a receiver logged.
mail()
{
	grep '"event": "mail"' "$1" 2>/dev/null | tail -1 >"$TMP/mail.json"
	[ -s "$TMP/mail.json" ] || echo '{}' >"$TMP/mail.json"
}
# mq JQ-TEST: the test holds on the last message taken by mail.
mq()
{
	jq -e "$1" "$TMP/mail.json" >/dev/null 2>&1
}

SUBJ='Relance — hôte compute-3 (été)'
actrun std.email "$(jq -n --arg s "$SUBJ" --arg srv "127.0.0.1:$SMTP_PLAIN" '{
    from_addr: "Bora Ops <ops@example.org>",
    to_addrs: ["Équipe Nuit <night@example.org>", "oncall@example.org"],
    cc_addrs: "lead@example.org, audit@example.org",
    bcc_addrs: ["archive@example.org"],
    reply_to: "noc@example.org",
    smtp_server: $srv, subject: $s,
    body: "Bonjour,\nle nœud compute-3 est reparti.\n.\nFin.\n"}')"
expect "std.email: a text mail is sent without TLS or password" 201 \
    '.state == "SUCCESS"'
mail "$TMP/smtp-plain.log"
check "std.email: envelope sender and every recipient, Bcc included" mq \
    '.mail_from == "ops@example.org" and .rcpts == ["night@example.org",
    "oncall@example.org", "lead@example.org", "audit@example.org",
    "archive@example.org"]'
check "std.email: To, Cc and Reply-To headers; no Bcc header" mq \
    '(.to | contains("night@example.org")) and (.to |
    contains("Équipe Nuit")) and (.to | contains("oncall@example.org"))
    and .cc == "lead@example.org, audit@example.org" and .bcc == null and
    .reply_to == "noc@example.org" and .from == "Bora Ops <ops@example.org>"'
check "std.email: a UTF-8 subject reads back the same" mq \
    ".subject == \"$SUBJ\""
check "std.email: the UTF-8 body reads back the same, lone dot included" mq \
    '.text == "Bonjour,\nle nœud compute-3 est reparti.\n.\nFin.\n"'
check "std.email: Date and Message-ID are set" mq \
    '(.date | length) > 0 and (.message_id | test("^<.+@example.org>$"))'
check "std.email: no TLS and no login without a password" mq \
    '.tls == false and .auth_user == null and .types ==
    ["multipart/mixed", "text/plain"]'

actrun std.email "$(jq -n --arg srv "smtp://127.0.0.1:$SMTP_PLAIN" '{
    from_addr: "ops@example.org", to_addrs: "night@example.org",
    smtp_server: $srv, subject: "html", body: "plain text",
    html_body: "<p>rich <b>text</b></p>"}')"
expect "std.email: a mail with html_body is sent" 201 '.state == "SUCCESS"'
mail "$TMP/smtp-plain.log"
check "std.email: text and HTML as multipart/alternative" mq \
    '.types == ["multipart/mixed", "multipart/alternative", "text/plain",
    "text/html"] and (.text | startswith("plain text")) and
    (.html | startswith("<p>rich <b>text</b></p>"))'

actrun std.email "$(jq -n --arg srv "127.0.0.1:$SMTP_PLAIN" '{
    from_addr: "ops@example.org", to_addrs: ["night@example.org"],
    smtp_server: $srv, smtp_password: "s3cret", body: "x"}')"
expect "std.email: a password to a server without STARTTLS fails" 201 \
    '.state == "ERROR" and (.output | contains("std.email via smtp://"))'
if grep -q '"event": "auth"' "$TMP/smtp-plain.log"; then
	not_ok "std.email: the password was not sent in clear" \
	    "$(grep auth "$TMP/smtp-plain.log")"
else
	ok "std.email: the password was not sent in clear"
fi

actrun std.email "$(jq -n --arg srv "127.0.0.1:$SMTP_TLS" \
    --arg ca "$TMP/smtp.crt" '{
    from_addr: "ops@example.org", to_addrs: ["night@example.org"],
    smtp_server: $srv, smtp_password: "s3cret", subject: "tls",
    body: "over TLS", verify: $ca}')"
expect "std.email: STARTTLS and login with smtp_password" 201 \
    '.state == "SUCCESS"'
mail "$TMP/smtp-tls.log"
check "std.email: the mail went over TLS, logged in as from_addr" mq \
    '.tls == true and .auth_user == "ops@example.org" and
    .subject == "tls"'
check "std.email: the login happened after STARTTLS" \
    grep -q '"event": "auth", "tls": true, "user": "ops@example.org", "ok": true' \
    "$TMP/smtp-tls.log"

actrun std.email "$(jq -n --arg srv "127.0.0.1:$SMTP_TLS" '{
    from_addr: "ops@example.org", to_addrs: ["night@example.org"],
    smtp_server: $srv, smtp_password: "s3cret", body: "x"}')"
expect "std.email: the server certificate is checked by default" 201 \
    '.state == "ERROR" and (.output | test("certificate"; "i"))'

actrun std.email "$(jq -n --arg srv "127.0.0.1:$SMTP_TLS" \
    --arg ca "$TMP/smtp.crt" '{
    from_addr: "ops@example.org", to_addrs: ["night@example.org"],
    smtp_server: $srv, smtp_password: "wrong", body: "x", verify: $ca}')"
expect "std.email: a refused login fails the action" 201 \
    '.state == "ERROR" and (.output | test("Login denied|535|auth"; "i"))'

actrun std.email "$(jq -n --arg srv "127.0.0.1:$SMTP_PLAIN" '{
    from_addr: "ops@example.org", to_addrs: ["night@example.org"],
    smtp_server: $srv, subject: "hi\r\nBcc: evil@example.org"}')"
expect "std.email: a line break in a header is refused" 201 \
    '.state == "ERROR" and (.output | contains("subject\u0027 must be one line"))'
actrun std.email "$(jq -n --arg srv "127.0.0.1:$SMTP_PLAIN" '{
    from_addr: "ops@example.org", to_addrs: [], smtp_server: $srv}')"
expect "std.email: no recipient is refused" 201 \
    '.state == "ERROR" and (.output | contains("to_addrs"))'
actrun std.email "$(jq -n --arg srv "127.0.0.1:$SMTP_PLAIN" '{
    from_addr: "nobody", to_addrs: ["a@example.org"], smtp_server: $srv}')"
expect "std.email: a sender that is not an address is refused" 201 \
    '.state == "ERROR" and (.output | contains("from_addr"))'

cat >"$TMP/mailwf.yaml" <<YAML
version: '2.0'
mail_wf:
  input:
    - host
  tasks:
    notify:
      action: std.email
      input:
        from_addr: ops@example.org
        to_addrs: [night@example.org]
        smtp_server: 127.0.0.1:$SMTP_PLAIN
        subject: <% 'host ' .. _.host .. ' recovered' %>
        body: <% 'Evacuation of ' .. _.host .. ' done.' %>
YAML
api_text POST /v2/workflows "$TMP/mailwf.yaml"
api_json POST /v2/executions '{"workflow_name": "mail_wf",
    "input": "{\"host\": \"compute-7\"}"}'
X=$(jb .id)
if wait_state "$X" SUCCESS ERROR && mail "$TMP/smtp-plain.log" &&
    mq '.subject == "host compute-7 recovered" and
    (.text | startswith("Evacuation of compute-7 done."))'; then
	ok "std.email: a workflow task sends its mail"
else
	not_ok "std.email: a workflow task sends its mail" \
	    "$(curl -s "$URL/v2/executions/$X/tasks")"
fi

# ---- std.ssh -----------------------------------------------------------
ME=$(id -un)
SSH_PORT=$(free_port)
mkdir -p "$TMP/ssh"
ssh-keygen -q -t ed25519 -N '' -C host -f "$TMP/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -C other -f "$TMP/ssh/other_key"
ssh-keygen -q -t ed25519 -N '' -C client -f "$TMP/ssh/id_plain"
ssh-keygen -q -t ed25519 -N 'k3y-pass' -C client2 -f "$TMP/ssh/id_pass"
cat "$TMP/ssh/id_plain.pub" "$TMP/ssh/id_pass.pub" >"$TMP/ssh/authorized_keys"
cat >"$TMP/ssh/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $TMP/ssh/host_key
PidFile $TMP/ssh/sshd.pid
AuthorizedKeysFile $TMP/ssh/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin yes
MaxStartups 50
CONF
[ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
"$SSHD" -D -e -f "$TMP/ssh/sshd_config" >"$TMP/sshd.log" 2>&1 &
PEER_PIDS="$PEER_PIDS $!"
i=0
while [ $i -lt 50 ]; do
	ssh-keyscan -p "$SSH_PORT" -t ed25519 127.0.0.1 localhost \
	    >"$TMP/ssh/known_hosts" 2>/dev/null
	[ "$(wc -l <"$TMP/ssh/known_hosts")" -eq 2 ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ "$(wc -l <"$TMP/ssh/known_hosts")" -eq 2 ]; then
	ok "std.ssh: sshd listens on 127.0.0.1:$SSH_PORT"
else
	not_ok "std.ssh: sshd listens on 127.0.0.1:$SSH_PORT" \
	    "$(cat "$TMP/sshd.log")"
fi
: >"$TMP/ssh/known_hosts.empty"
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" \
    "$(cut -d' ' -f1,2 "$TMP/ssh/other_key.pub")" >"$TMP/ssh/known_hosts.bad"

# ssh_in CMD [JQ-EXTRA]: std.ssh input for the test sshd with the plain
# key; JQ-EXTRA (a jq object) is merged over it.
ssh_in()
{
	jq -n --arg cmd "$1" --arg me "$ME" --argjson port "$SSH_PORT" \
	    --arg key "$TMP/ssh/id_plain" --arg kh "$TMP/ssh/known_hosts" \
	    "{cmd: \$cmd, host: \"127.0.0.1\", port: \$port, username: \$me,
	    private_key_filename: \$key, known_hosts: \$kh} + (${2:-{\}})"
}

actrun std.ssh "$(ssh_in 'echo hello; echo to-stderr >&2; printf "%s" "$USER"')"
expect "std.ssh: a key file logs in; the result is stdout" 201 \
    ".state == \"SUCCESS\" and (.output | fromjson) ==
    {\"result\": \"hello\\n$ME\"}"

actrun std.ssh "$(ssh_in 'echo with-key-text' "$(jq -n \
    --rawfile k "$TMP/ssh/id_pass" '{private_key_filename: null,
    private_key: $k, password: "k3y-pass"}')")"
expect "std.ssh: a key given as text, its passphrase as password" 201 \
    '.state == "SUCCESS" and (.output | fromjson).result ==
    "with-key-text\n"'

actrun std.ssh "$(ssh_in 'echo x' "$(jq -n \
    --rawfile k "$TMP/ssh/id_pass" '{private_key_filename: null,
    private_key: $k, password: "wrong"}')")"
expect "std.ssh: a wrong passphrase is a clear error" 201 \
    '.state == "ERROR" and (.output | contains("cannot read the private key"))'

actrun std.ssh "$(ssh_in 'hostname >/dev/null; echo "$SSH_CONNECTION" |
    cut -d" " -f3' '{host: ["127.0.0.1", "localhost"]}')"
expect "std.ssh: a list of hosts gives a list of stdouts" 201 \
    '.state == "SUCCESS" and (.output | fromjson).result ==
    ["127.0.0.1\n", "127.0.0.1\n"]'

actrun std.ssh "$(ssh_in 'echo partial; echo "disk full" >&2; exit 3')"
expect "std.ssh: a non-zero exit fails with the status and stderr" 201 \
    '.state == "ERROR" and
    (.output | contains("exited with status 3: disk full"))'

actrun std.ssh "$(ssh_in 'echo x' "{\"known_hosts\":
    \"$TMP/ssh/known_hosts.empty\"}")"
expect "std.ssh: an unknown host key is refused by default" 201 \
    '.state == "ERROR" and (.output | contains("not trusted: it is not in"))
    and (.output | contains("ssh-keyscan"))'
actrun std.ssh "$(ssh_in 'echo x' "{\"known_hosts\":
    \"$TMP/ssh/known_hosts.bad\"}")"
expect "std.ssh: a changed host key is refused" 201 \
    '.state == "ERROR" and (.output | contains("does not match"))'
actrun std.ssh "$(ssh_in 'echo unchecked' "{\"known_hosts\":
    \"$TMP/ssh/known_hosts.empty\", \"host_key_check\": false}")"
expect "std.ssh: host_key_check false accepts any key" 201 \
    '.state == "SUCCESS" and (.output | fromjson).result == "unchecked\n"'

actrun std.ssh "$(ssh_in 'echo x' '{private_key_filename: null,
    password: "not-the-password"}')"
expect "std.ssh: a refused password is a clear error" 201 \
    '.state == "ERROR" and
    (.output | contains("refused the login with the password"))'

t0=$(date +%s%N)
actrun std.ssh "$(ssh_in 'sleep 30' '{timeout: 1}')"
t1=$(date +%s%N)
expect "std.ssh: a command past its timeout fails" 201 \
    '.state == "ERROR" and (.output | contains("did not end within 1 s"))'
check "std.ssh: ... and fails on time ($(( (t1 - t0) / 1000000 )) ms)" \
    test $(( (t1 - t0) / 1000000 )) -lt 15000

actrun std.ssh "$(ssh_in 'head -c 5000 /dev/zero | tr "\\0" a' \
    '{max_output: 1000}')"
expect "std.ssh: output past max_output fails the action" 201 \
    '.state == "ERROR" and
    (.output | contains("more than 1000 bytes on stdout"))'

actrun std.ssh "$(ssh_in 'echo x' '{port: 1}')"
expect "std.ssh: a closed port is a clear error" 201 \
    '.state == "ERROR" and (.output |
    contains("cannot connect to 127.0.0.1 port 1: Connection refused"))'
actrun std.ssh "$(ssh_in 'echo x' '{private_key_filename: "../etc/x"}')"
expect "std.ssh: a key file name with .. is refused" 201 \
    '.state == "ERROR" and (.output | contains("must not contain"))'

# Commands that wait hold nothing: two 3 s commands run side by side
# while an HTTP action completes at once.
cat >"$TMP/sshwf.yaml" <<YAML
version: '2.0'
ssh_wf:
  tasks:
    remote:
      with-items: i in <% {1, 2} %>
      action: std.ssh
      input:
        cmd: <% 'date +%s%N; sleep 3; date +%s%N; echo done-' .. _.i %>
        host: 127.0.0.1
        port: $SSH_PORT
        username: $ME
        private_key_filename: $TMP/ssh/id_plain
        known_hosts: $TMP/ssh/known_hosts
      publish:
        outs: <% task().result %>
  output:
    outs: <% _.outs %>
YAML
api_text POST /v2/workflows "$TMP/sshwf.yaml"
expect "std.ssh: workflow created" 201
api_json POST /v2/executions '{"workflow_name": "ssh_wf"}'
X=$(jb .id)
i=0
while [ $i -lt 100 ] && ! grep -q "Accepted publickey" "$TMP/sshd.log"; do
	sleep 0.05
	i=$((i + 1))
done
sleep 0.3
t0=$(date +%s%N)
actrun std.http "{\"url\": \"http://127.0.0.1:$HTTP_PORT/during-ssh\"}"
t1=$(date +%s%N)
api GET "/v2/executions/$X"
if jq -e '.state == "RUNNING"' "$TMP/body" >/dev/null &&
    [ $(( (t1 - t0) / 1000000 )) -lt 1500 ]; then
	ok "std.ssh: an HTTP action completes while ssh commands run ($(( (t1 - t0) / 1000000 )) ms)"
else
	not_ok "std.ssh: an HTTP action completes while ssh commands run" \
	    "$(( (t1 - t0) / 1000000 )) ms, execution $(jb .state)"
fi
if wait_state "$X" SUCCESS ERROR; then
	api GET "/v2/executions/$X"
	expect "std.ssh: both commands ran, in the order of the items" 200 \
	    '.state == "SUCCESS" and ((.output | fromjson).outs |
	    map(split("\n")[2])) == ["done-1", "done-2"]'
	# Each printed when it started and ended (this host's clock): the
	# two intervals overlap only if they ran side by side.
	expect "std.ssh: the two commands ran side by side" 200 \
	    '(.output | fromjson).outs | map(split("\n")[0:2] |
	    map(tonumber)) | .[0][0] < .[1][1] and .[1][0] < .[0][1]'
else
	not_ok "std.ssh: the two commands ran side by side"
fi

finish
