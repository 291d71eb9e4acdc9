#!/usr/bin/env python3
"""smtpd.py -- a small SMTP receiver for the tests of std.email.

    smtpd.py PORT LOG [CERT KEY USER PASSWORD]

Listens on 127.0.0.1:PORT.  With CERT and KEY it offers STARTTLS; it
always offers AUTH PLAIN and LOGIN (checked against USER and PASSWORD),
so that a client which would log in without TLS can be caught.  Each
event is one JSON line in LOG: {"event": "auth", "tls", "user", "ok"}
for a login, and {"event": "mail", "tls", "auth_user", "mail_from",
"rcpts", "subject", "from", "to", "cc", "bcc", "reply_to", "types",
"text", "html"} for a message, its headers decoded.
"""
import base64
import email
import email.policy
import json
import socket
import ssl
import sys
import threading

PORT, LOG = int(sys.argv[1]), sys.argv[2]
CERT, KEY, USER, PASSWORD = (sys.argv[3:7] + [None] * 4)[:4]
lock = threading.Lock()


def log(obj):
    with lock, open(LOG, "a") as f:
        f.write(json.dumps(obj) + "\n")


class Session:
    def __init__(self, conn):
        self.conn = conn
        self.f = conn.makefile("rb")
        self.tls = False
        self.user = None
        self.mail_from = None
        self.rcpts = []

    def send(self, line):
        self.conn.sendall((line + "\r\n").encode())

    def line(self):
        data = self.f.readline()
        if not data:
            raise EOFError
        return data.decode("utf-8", "replace").rstrip("\r\n")

    def auth(self, user, password):
        ok = user == USER and password == PASSWORD
        log({"event": "auth", "tls": self.tls, "user": user, "ok": ok})
        if ok:
            self.user = user
            self.send("235 2.7.0 Authentication successful")
        else:
            self.send("535 5.7.8 Authentication failed")

    def data(self):
        self.send("354 End data with <CR><LF>.<CR><LF>")
        lines = []
        while True:
            raw = self.f.readline()
            if not raw:
                raise EOFError
            if raw in (b".\r\n", b".\n"):
                break
            if raw.startswith(b".."):
                raw = raw[1:]
            lines.append(raw)
        msg = email.message_from_bytes(b"".join(lines),
                                       policy=email.policy.default)
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        log({"event": "mail", "tls": self.tls, "auth_user": self.user,
             "mail_from": self.mail_from, "rcpts": self.rcpts,
             "subject": msg["subject"] and str(msg["subject"]),
             "from": msg["from"] and str(msg["from"]),
             "to": msg["to"] and str(msg["to"]),
             "cc": msg["cc"] and str(msg["cc"]),
             "bcc": msg["bcc"] and str(msg["bcc"]),
             "reply_to": msg["reply-to"] and str(msg["reply-to"]),
             "message_id": msg["message-id"] and str(msg["message-id"]),
             "date": msg["date"] and str(msg["date"]),
             "types": [p.get_content_type() for p in msg.walk()],
             "text": text and text.get_content(),
             "html": html and html.get_content()})
        self.mail_from, self.rcpts = None, []
        self.send("250 2.0.0 Ok: queued")

    def run(self):
        self.send("220 127.0.0.1 ESMTP test")
        while True:
            cmd = self.line()
            verb = cmd.split(" ", 1)[0].upper()
            arg = cmd[len(verb) + 1:]
            if verb == "EHLO":
                ext = ["127.0.0.1"]
                if CERT and not self.tls:
                    ext.append("STARTTLS")
                ext += ["AUTH PLAIN LOGIN", "8BITMIME"]
                for i, e in enumerate(ext):
                    self.send(("250 " if i == len(ext) - 1 else "250-") + e)
            elif verb == "HELO":
                self.send("250 127.0.0.1")
            elif verb == "STARTTLS" and CERT and not self.tls:
                self.send("220 2.0.0 Ready to start TLS")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(CERT, KEY)
                self.conn = ctx.wrap_socket(self.conn, server_side=True)
                self.f = self.conn.makefile("rb")
                self.tls = True
            elif verb == "AUTH":
                parts = arg.split(" ")
                mech = parts[0].upper()
                if mech == "PLAIN":
                    if len(parts) > 1:
                        blob = parts[1]
                    else:
                        self.send("334 ")
                        blob = self.line()
                    _, user, password = base64.b64decode(blob).decode() \
                        .split("\0")
                    self.auth(user, password)
                elif mech == "LOGIN":
                    if len(parts) > 1:
                        user = base64.b64decode(parts[1]).decode()
                    else:
                        self.send("334 VXNlcm5hbWU6")
                        user = base64.b64decode(self.line()).decode()
                    self.send("334 UGFzc3dvcmQ6")
                    password = base64.b64decode(self.line()).decode()
                    self.auth(user, password)
                else:
                    self.send("504 5.5.4 Unrecognized authentication type")
            elif verb == "MAIL":
                self.mail_from = arg[arg.find("<") + 1:arg.find(">")]
                self.send("250 2.1.0 Ok")
            elif verb == "RCPT":
                self.rcpts.append(arg[arg.find("<") + 1:arg.find(">")])
                self.send("250 2.1.5 Ok")
            elif verb == "DATA":
                self.data()
            elif verb in ("RSET", "NOOP"):
                self.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye")
                return
            else:
                self.send("502 5.5.2 Error: command not recognized")


def serve(conn):
    try:
        Session(conn).run()
    except (EOFError, OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", PORT))
srv.listen(16)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
