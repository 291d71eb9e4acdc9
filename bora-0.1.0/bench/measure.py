#!/usr/bin/env python3
#
# measure.py -- run a command REPS times (PARALLEL copies at once per
# rep) and print the median wall time of the whole rep and the peak RSS
# of one process, measured with wait4(2), so no GNU time is needed.
#
# usage: measure.py [-r REPS] [-p PARALLEL] [-e EXIT] [-w WARMUP] -- CMD...
# Prints one line: "wall_ms=<median> min_ms=<min> max_ms=<max> rss_kb=<max>
# ok=<reps with every exit status as expected>/<reps>".
# "{i}" in CMD is replaced by the copy's index (0..PARALLEL-1).
#

import argparse
import os
import statistics
import subprocess
import sys
import time


def run_rep(cmd, parallel, want_exit, log):
    """One rep: start the copies, wait for all; (wall ms, rss KB, ok)."""
    procs = {}
    start = time.monotonic()
    for i in range(parallel):
        argv = [a.replace("{i}", str(i)) for a in cmd]
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
        procs[p.pid] = p
    rss = 0
    ok = True
    while procs:
        pid, status, ru = os.wait4(-1, 0)
        if pid not in procs:
            continue
        del procs[pid]
        rss = max(rss, ru.ru_maxrss)
        code = os.waitstatus_to_exitcode(status)
        if code != want_exit:
            ok = False
    wall = (time.monotonic() - start) * 1000.0
    return wall, rss, ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-r", "--reps", type=int, default=5)
    ap.add_argument("-p", "--parallel", type=int, default=1)
    ap.add_argument("-e", "--exit", type=int, default=0)
    ap.add_argument("-w", "--warmup", type=int, default=1)
    ap.add_argument("-l", "--log", default=os.devnull)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command")

    with open(args.log, "ab") as log:
        for _ in range(args.warmup):
            run_rep(cmd, args.parallel, args.exit, log)
        walls, rsss, oks = [], [], 0
        for _ in range(args.reps):
            wall, rss, ok = run_rep(cmd, args.parallel, args.exit, log)
            walls.append(wall)
            rsss.append(rss)
            oks += ok
    print("wall_ms=%.1f min_ms=%.1f max_ms=%.1f rss_kb=%d ok=%d/%d" % (
        statistics.median(walls), min(walls), max(walls), max(rsss),
        oks, args.reps))
    return 0 if oks == args.reps else 1


if __name__ == "__main__":
    sys.exit(main())
