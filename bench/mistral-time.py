#!/usr/bin/env python3
#
# mistral-time.py -- time the Mistral comparison shapes through a
# Mistral v2 REST API (borad or the real Mistral) with ONE persistent
# HTTP connection that polls every POLL_MS milliseconds.  Used by
# bench/mistral.sh (timing mode); not a test.
#
# usage: mistral-time.py --url http://HOST:PORT/v2 --label NAME
#            [--poll-ms 1] [--reps 5] [--cases "a b c d"] [--items 1000]
#            [--conc 20] [--pid PID] [--quiesce]
#
# The shapes (already defined on the server, from ../shared/peers/
# mistral/workflows): (a) bench_seq50, a 50-task chain of std.noop;
# (b) bench_withitems over --items items; (c) --conc executions of
# bench_seq5 started at once; (d) bench_retry, std.fail retried 3 times
# with delay 0 (ends in ERROR).
#
# Timing: from just before POST /v2/executions until the response of the
# first GET that shows a final state.  The GETs go over one keep-alive
# connection, one every POLL_MS from the POST (a GET slower than that
# delays the next one); poll_period_ms is the real mean period between
# two GETs and get_us the mean time of one.  For (c) the --conc POSTs are written first on
# --conc keep-alive connections opened beforehand, then their answers
# read (so the server may take them at once, as the peer's script does
# with background curls), and the poller lists the executions by their
# description.  The median over --reps is printed, with the minimum, the
# server's CPU (utime+stime of --pid) and the polls' real period.
#
# One line per case, for the caller to parse:
#   TIME <label> <case> median_ms=<> min_ms=<> reps=<> state=<> cpu_ms=<>
#        polls=<> poll_period_ms=<> get_us=<>
#

import argparse
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse

FINAL = ("SUCCESS", "ERROR", "CANCELLED")
SHAPES = {
    "a": ("a_seq50_noop", "bench_seq50", "SUCCESS"),
    "b": ("b_withitems", "bench_withitems", "SUCCESS"),
    "c": ("c_concurrent_seq5", "bench_seq5", "SUCCESS"),
    "d": ("d_retry3_delay0", "bench_retry", "ERROR"),
}


def cpu_ticks(pid):
    """utime + stime of pid in clock ticks; 0 without a pid."""
    if not pid:
        return 0
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


def quiesce(pid, limit=120.0):
    """Wait until pid uses under 5 % of a core over 1 s (Mistral goes
    on working for seconds after an execution is final)."""
    hz = os.sysconf("SC_CLK_TCK")
    end = time.monotonic() + limit
    while pid and time.monotonic() < end:
        a = cpu_ticks(pid)
        time.sleep(1)
        if cpu_ticks(pid) - a < 0.05 * hz:
            return


class Api:
    """One keep-alive connection to the API."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.base = u.path.rstrip("/")
        self.conn = self.connect()
        self.gets = 0
        self.get_s = 0.0
        self.first = self.last = 0.0
        self.errors = 0
        self.last_error = ""

    def connect(self):
        c = http.client.HTTPConnection(self.host, self.port, timeout=120)
        c.connect()
        return c

    def send(self, method, path, body=None, conn=None):
        conn = conn or self.conn
        hdr = {"Connection": "keep-alive"}
        if body is not None:
            body = json.dumps(body).encode()
            hdr["Content-Type"] = "application/json"
        conn.request(method, self.base + path, body=body, headers=hdr)

    def answer(self, conn=None):
        r = (conn or self.conn).getresponse()
        data = r.read()
        if r.status // 100 != 2:
            raise RuntimeError("HTTP %d: %s" % (r.status, data[:300]))
        return json.loads(data) if data else None

    def call(self, method, path, body=None):
        self.send(method, path, body)
        return self.answer()

    def poll(self, path):
        t = time.perf_counter()
        if not self.first:
            self.first = t
        try:
            v = self.call("GET", path)
        except RuntimeError as err:
            # An overloaded server (Mistral's pool of database
            # connections) answers 500 now and then: poll again.
            self.errors += 1
            self.last_error = str(err)
            if self.errors > 1000:
                raise
            v = None
        self.get_s += time.perf_counter() - t
        self.gets += 1
        self.last = t
        return v


def start_body(wf, inp, desc):
    # Mistral's client sends the input as a JSON string.
    return {"workflow_name": wf, "input": json.dumps(inp),
            "description": desc}


def wait_until(api, t0, period, done):
    """Poll done() every period seconds from t0; returns (t_end, value)."""
    n = 1
    while True:
        v = done()
        if v is not None:
            return time.perf_counter(), v
        due = t0 + n * period
        n += 1
        d = due - time.perf_counter()
        if d > 0:
            time.sleep(d)
        else:
            n = int((time.perf_counter() - t0) / period) + 1


def run_single(api, wf, inp, period, tag):
    t0 = time.perf_counter()
    ex = api.call("POST", "/executions", start_body(wf, inp, tag))
    eid = ex["id"]

    def done():
        v = api.poll("/executions/" + eid)
        return v["state"] if v and v["state"] in FINAL else None
    t1, state = wait_until(api, t0, period, done)
    return t1 - t0, state


def run_concurrent(api, wf, n, period, tag):
    conns = [api.connect() for _ in range(n)]
    body = start_body(wf, {}, tag)
    t0 = time.perf_counter()
    for c in conns:
        api.send("POST", "/executions", body, c)
    for c in conns:
        api.answer(c)
    q = "/executions?description=%s&fields=id,state&limit=1000" % tag

    def done():
        v = api.poll(q)
        if v is None:
            return None
        ex = v["executions"]
        fin = [e["state"] for e in ex if e["state"] in FINAL]
        if len(fin) < n:
            return None
        ok = sum(1 for s in fin if s == "SUCCESS")
        return "SUCCESS" if ok == n else "%d/%d-SUCCESS" % (ok, n)
    t1, state = wait_until(api, t0, period, done)
    for c in conns:
        c.close()
    return t1 - t0, state


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--poll-ms", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--cases", default="a b c d")
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--conc", type=int, default=20)
    ap.add_argument("--pid", type=int, default=0)
    ap.add_argument("--quiesce", action="store_true")
    args = ap.parse_args()

    api = Api(args.url)
    period = args.poll_ms / 1000.0
    hz = os.sysconf("SC_CLK_TCK")
    run = 0
    for c in args.cases.split():
        name, wf, want = SHAPES[c]
        walls, cpus, states = [], [], []
        gets0, get_s0, poll_s, spans = api.gets, api.get_s, 0.0, 0
        errors0 = api.errors
        for i in range(args.warmup + args.reps):
            if args.quiesce:
                quiesce(args.pid)
            run += 1
            tag = "bench-%d-%d-%d" % (os.getpid(), int(time.time()), run)
            c0 = cpu_ticks(args.pid)
            g0 = api.gets
            api.first = 0.0
            try:
                if c == "c":
                    wall, state = run_concurrent(api, wf, args.conc,
                                                 period, tag)
                else:
                    inp = {"items": list(range(args.items))} \
                        if c == "b" else {}
                    wall, state = run_single(api, wf, inp, period, tag)
            except (RuntimeError, OSError,
                    http.client.HTTPException) as err:
                print("# %s %s: failed: %s" % (args.label, name, err),
                      flush=True)
                api.conn.close()
                api.conn = api.connect()
                break
            c1 = cpu_ticks(args.pid)
            if i < args.warmup:
                gets0, get_s0 = api.gets, api.get_s
                continue
            if api.gets > g0 + 1:
                poll_s += api.last - api.first
                spans += api.gets - g0 - 1
            walls.append(wall * 1000.0)
            cpus.append((c1 - c0) * 1000.0 / hz)
            states.append(state)
        if not walls:
            continue
        n = api.gets - gets0
        st = states[0] if all(s == states[0] for s in states) else \
            ",".join(states)
        if st != want:
            st += "(want-%s)" % want
        print("TIME %s %s median_ms=%.2f min_ms=%.2f reps=%d state=%s "
              "cpu_ms=%.0f polls=%d poll_period_ms=%.3f get_us=%.0f "
              "errors=%d" % (
                  args.label, name, statistics.median(walls), min(walls),
                  len(walls), st, statistics.median(cpus), n,
                  poll_s * 1000.0 / spans if spans else 0.0,
                  (api.get_s - get_s0) * 1e6 / n if n else 0.0,
                  api.errors - errors0),
              flush=True)
        if api.errors > errors0:
            print("# %s %s: %d polls answered an error, the last: %s" % (
                args.label, name, api.errors - errors0, api.last_error),
                flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
