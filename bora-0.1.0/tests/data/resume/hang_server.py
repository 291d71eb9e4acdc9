#!/usr/bin/env python3
#
# hang_server.py -- a local HTTP server for the crash-recovery test.
#
# It prints the port it listens on (first line of stdout), "PID <pid>",
# then one line "REQUEST <n> <method> <path>" per request as it arrives.  The first
# request never gets an answer (the connection is held open forever);
# every later request gets 200 with a small JSON body.
#
# usage: hang_server.py [PORT]   (0 or none: any free port)
#

import http.server
import json
import os
import sys
import threading
import time

lock = threading.Lock()
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        global count
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)
        with lock:
            count += 1
            n = count
            print("REQUEST %d %s %s" % (n, self.command, self.path),
                  flush=True)
        if n == 1:
            while True:
                time.sleep(3600)
        body = json.dumps({"ok": True, "request": n}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = handle_any
    do_POST = handle_any
    do_PUT = handle_any
    do_DELETE = handle_any

    def log_message(self, fmt, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = Server(("127.0.0.1", port), Handler)
    print(srv.server_address[1], flush=True)
    print("PID %d" % os.getpid(), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
