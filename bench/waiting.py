#!/usr/bin/env python3
#
# waiting.py -- scale of waiting work: N executions, each waiting on a
# timer (wait-before, or std.sleep) or on an async action's callback
# (std.async_noop), in one borad.  Driven by bench/waiting.sh; not a
# test, it prints figures.
#
#  1. Post N executions through the API (CLIENTS keep-alive clients),
#     each {"delay": DELAY} (the timer's seconds).
#  2. Wait until all N wait (a timer row of wait-before, or a RUNNING
#     action row), or until none more has begun for STALL seconds;
#     print borad's RSS then.
#  3. kill -9 borad and start it again: time until the API answers
#     (/readyz) and until the engine has loaded its work (every waiting
#     execution's lease is free or held by the new borad).
#  4. Timers: wait until all are final; lateness of each = when its
#     wait task ended - (the task's start + DELAY), and - (execution
#     created + DELAY), p50/p99/max.
#     Async: send every callback (PUT /v2/action_executions/ID) and time
#     until all are final.
#
# The store is read directly (python's sqlite3, or psql) for the counts
# and times, in ms since the epoch as bora writes them.
#

import argparse
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

WF = {"timer": "bench_wait_timer", "sleep": "bench_wait_sleep",
      "async": "bench_wait_async"}


class Store:
    def __init__(self, url, psql):
        self.url, self.psql = url, psql
        if url.startswith("sqlite:"):
            self.path = url[len("sqlite:"):]

    def q(self, sql):
        if self.url.startswith("sqlite:"):
            c = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True,
                                timeout=30)
            try:
                return c.execute(sql).fetchall()
            finally:
                c.close()
        out = subprocess.run([self.psql, "-X", "-q", "-A", "-t", "-F", "|",
                              "-d", self.url, "-c", sql], check=True, capture_output=True,
                             text=True).stdout
        return [tuple(int(x) if x.lstrip("-").isdigit() else x
                      for x in line.split("|"))
                for line in out.splitlines() if line]

    def one(self, sql):
        r = self.q(sql)
        return r[0][0] if r else None


def rss_kb(pid, key="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


class Borad:
    def __init__(self, args):
        self.a = args
        self.p = None
        self.port = args.port

    def start(self):
        a = self.a
        log = open(a.log, "ab")
        self.p = subprocess.Popen(
            [a.borad, "-d", "--db", a.db, "--listen",
             "127.0.0.1:%d" % self.port, "--workflows", a.workflows],
            stdout=log, stderr=log)
        return self.p.pid

    def ready(self, limit=600.0):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if self.p.poll() is not None:
                sys.exit("bench: borad exited (%d); see %s" %
                         (self.p.returncode, self.a.log))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=5)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()

    def stop(self):
        """SIGTERM; seconds until it exited (killed after 120 s)."""
        t = time.monotonic()
        if self.p and self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(120)
            except subprocess.TimeoutExpired:
                print("bench: borad did not stop in 120 s; killed")
                self.p.kill()
                self.p.wait()
        return time.monotonic() - t


def parallel(n, clients, port, fn):
    """Run fn(conn, i) for i in 0..n-1 over clients keep-alive
    connections; returns (seconds, errors)."""
    lock = threading.Lock()
    nxt = [0]
    errors = [0]

    def conn():
        return http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def worker():
        c = conn()
        while True:
            with lock:
                i = nxt[0]
                if i >= n:
                    return
                nxt[0] += 1
            try:
                if not fn(c, i):
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                c = conn()

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.monotonic() - t0, errors[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--borad", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--psql", default="psql")
    ap.add_argument("--workflows", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--kind", choices=sorted(WF), default="timer")
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--stall", type=float, default=30)
    args = ap.parse_args()

    st = Store(args.db, args.psql)
    b = Borad(args)
    pid = b.start()
    if not b.ready(60):
        sys.exit("bench: borad not ready")
    n, kind = args.n, args.kind
    # The timers must outlast posting, the RSS reading and the restart.
    delay = args.delay or max(120, n / 200.0 + 60)
    body = json.dumps({"workflow_name": WF[kind],
                       "input": {"delay": delay}})
    print("%d executions of %s (%s, delay %.0f s), %d clients, store %s" %
          (n, WF[kind], kind, delay, args.clients,
           args.db.split(":", 1)[0]), flush=True)

    def post(c, i):
        c.request("POST", "/v2/executions", body,
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status == 201

    t0 = time.monotonic()
    secs, errs = parallel(n, args.clients, b.port, post)
    print("posted:            %d in %.1f s (%.0f/s), %d errors" %
          (n - errs, secs, (n - errs) / secs, errs), flush=True)

    if kind == "timer":
        waiting_q = "SELECT count(*) FROM work"
    else:
        waiting_q = "SELECT count(*) FROM action_executions " \
            "WHERE state = 'RUNNING'"
    last, last_t = -1, time.monotonic()
    while True:
        w = st.one(waiting_q)
        if w >= n - errs:
            break
        if w != last:
            last, last_t = w, time.monotonic()
        elif time.monotonic() - last_t > args.stall:
            break
        time.sleep(0.5)
    t_wait = time.monotonic() - t0
    print("waiting:           %d of %d, %.1f s after the first post%s" % (
        w, n - errs, t_wait, "" if w >= n - errs else
        " (no more for %.0f s)" % args.stall), flush=True)
    print("borad RSS waiting: %.1f MB (peak %.1f MB), CPU so far %.1f s" %
          (rss_kb(pid) / 1024.0, rss_kb(pid, "VmHWM") / 1024.0,
           cpu_s(pid)), flush=True)
    loaded_before = None
    if os.path.exists("/proc/%d" % pid):
        loaded_before = st.one(
            "SELECT count(*) FROM executions WHERE owner IS NOT NULL "
            "AND state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED')")

    # Restart after a kill -9.
    b.kill9()
    t1 = time.monotonic()
    pid = b.start()
    b.ready()
    t_api = time.monotonic() - t1
    # Loaded: no unfinished execution is still held by the dead borad.
    me = "%%:%d:%%" % pid
    while True:
        stale = st.one(
            "SELECT count(*) FROM executions WHERE state NOT IN "
            "('SUCCESS', 'ERROR', 'CANCELLED') AND owner IS NOT NULL "
            "AND owner NOT LIKE '%s'" % me)
        if not stale:
            break
        time.sleep(0.05)
    t_load = time.monotonic() - t1
    held = st.one("SELECT count(*) FROM executions WHERE owner LIKE '%s' "
                  "AND state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED')" % me)
    print("restart (kill -9): API answers after %.2f s, work taken over "
          "after %.2f s (held before %s, by the new borad now %d)" %
          (t_api, t_load, loaded_before, held), flush=True)
    print("borad RSS after restart: %.1f MB, start-up CPU %.2f s" %
          (rss_kb(pid) / 1024.0, cpu_s(pid)), flush=True)

    if kind == "async":
        ids = [r[0] for r in st.q(
            "SELECT id FROM action_executions WHERE state = 'RUNNING'")]
        cb = json.dumps({"state": "SUCCESS", "output": "{}"})

        def put(c, i):
            c.request("PUT", "/v2/action_executions/" + ids[i], cb,
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            return r.status == 200
        t2 = time.monotonic()
        secs, errs = parallel(len(ids), args.clients, b.port, put)
        print("callbacks:         %d in %.1f s (%.0f/s), %d errors" %
              (len(ids) - errs, secs, (len(ids) - errs) / secs, errs),
              flush=True)
    else:
        t2 = time.monotonic()
    # Until all are final (at most delay + 30 min).
    end = time.monotonic() + delay + 1800
    while time.monotonic() < end:
        left = st.one("SELECT count(*) FROM executions WHERE state NOT IN "
                      "('SUCCESS', 'ERROR', 'CANCELLED')")
        if left == 0:
            break
        time.sleep(1)
    done = st.one("SELECT count(*) FROM executions WHERE state = 'SUCCESS'")
    print("final:             %d SUCCESS, %d not final, %.1f s after the "
          "restart" % (done, left, time.monotonic() - t1), flush=True)
    if kind == "async":
        print("all final %.1f s after the first callback" %
              (time.monotonic() - t2))
    else:
        rows = st.q("SELECT t.updated_at, t.created_at, x.created_at "
                    "FROM tasks t JOIN executions x ON x.id = "
                    "t.execution_id WHERE t.state = 'SUCCESS'")
        ms = int(delay * 1000)
        for what, v in (
                ("timer lateness", [r[0] - r[1] - ms for r in rows]),
                ("  from the POST", [r[0] - r[2] - ms for r in rows]),
                ("begun after POST", [r[1] - r[2] for r in rows])):
            print("%-18s p50 %.0f ms, p99 %.0f ms, max %.0f ms" % (
                what + ":", pct(v, 50), pct(v, 99), max(v) if v else 0),
                flush=True)
        print("  (%d timers; lateness: the task's end - (its start + "
              "delay); from the POST: - (the execution's creation + "
              "delay))" % len(rows), flush=True)
    print("borad RSS at the end: %.1f MB (peak %.1f MB)" % (
        rss_kb(pid) / 1024.0, rss_kb(pid, "VmHWM") / 1024.0))
    print("SIGTERM to exit:   %.2f s" % b.stop())
    return 0


if __name__ == "__main__":
    sys.exit(main())
