#!/usr/bin/env python3
#
# notify-receiver.py -- a webhook receiver for the notification tests:
# every POST is appended to LOG as a JSON line {path, key, event,
# execution, attempt, ts, sig, verified, body}, then answered.
#
# Usage: notify-receiver.py PORT LOG [SECRET]
#
# With SECRET, verified says whether X-Bora-Signature is
# sha256=hex(HMAC-SHA256(SECRET, "X-Bora-Timestamp:BODY")).  A path
# under /fail is answered 500 unless the file LOG.heal exists; with the
# file LOG.slow, each answer waits that many seconds first.

import hashlib
import hmac
import http.server
import json
import os
import socketserver
import sys
import threading
import time

PORT, LOG = int(sys.argv[1]), sys.argv[2]
SECRET = sys.argv[3].encode() if len(sys.argv) > 3 else None
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ts = self.headers.get("X-Bora-Timestamp")
        sig = self.headers.get("X-Bora-Signature")
        ok = None
        if SECRET is not None:
            want = "sha256=" + hmac.new(SECRET, (ts or "").encode() + b":" +
                                        raw, hashlib.sha256).hexdigest()
            ok = sig is not None and hmac.compare_digest(sig, want)
        try:
            slow = float(open(LOG + ".slow").read().strip() or 0)
        except OSError:
            slow = 0
        if slow > 0:
            time.sleep(slow)
        fail = self.path.startswith("/fail") and \
            not os.path.exists(LOG + ".heal")
        line = json.dumps({
            "path": self.path, "key": self.headers.get("Idempotency-Key"),
            "event": self.headers.get("X-Bora-Event"),
            "execution": self.headers.get("X-Bora-Execution"),
            "attempt": self.headers.get("X-Bora-Attempt"),
            "custom": self.headers.get("X-Custom"), "ts": ts, "sig": sig,
            "verified": ok, "status": 500 if fail else 200,
            "body": json.loads(raw or b"null")})
        with lock:
            with open(LOG, "a") as f:
                f.write(line + "\n")
        self.send_response(500 if fail else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
