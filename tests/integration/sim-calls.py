#!/usr/bin/env python3
#
# sim-calls.py -- what a recovery did, in words a person can compare with
# MASAKARI_FLOWS.md: the Nova calls of a `bora sim` JSON log, and the
# progress messages of an execution's events, with servers and compute
# services named instead of their ids.
#
#   sim-calls.py calls LOG [--by-server]
#	One call a line: "METHOD /path?query BODY", a failed one ending
#	in "-> STATUS".  A run of the same line (polling) is one line.
#	A call refused for its token (401, sent again with a new one)
#	is left out: the simulator restarted under borad.
#	--by-server: the calls on no server first, then each server's
#	under "== NAME", servers by name.
#   sim-calls.py progress EVENTS LOG
#	The progress messages of EVENTS (GET /v2/executions/ID/events
#	with include_children=true) as "VALUE MESSAGE", VALUE with one
#	decimal, ids named from LOG.

import json
import re
import sys


def learn(log):
    """Names of servers and hosts of services, and the calls, from LOG."""
    names, services, calls = {}, {}, []
    with open(log) as f:
        for line in f:
            c = json.loads(line)
            path = c.get('path', '')
            if not path.startswith('/compute/v2.1'):
                continue
            resp = c.get('response')
            if isinstance(resp, dict):
                for s in resp.get('servers') or []:
                    names[s['id']] = s['name']
                s = resp.get('server')
                if isinstance(s, dict) and 'id' in s:
                    names[s['id']] = s['name']
                for sv in resp.get('services') or []:
                    services[str(sv['id'])] = sv['host']
                sv = resp.get('service')
                if isinstance(sv, dict) and 'id' in sv:
                    services[str(sv['id'])] = sv['host']
            if c.get('status') != 401:
                calls.append(c)
    return names, services, calls


def name_ids(text, names):
    for i, n in names.items():
        text = text.replace(i, n)
    return text


def show(c, names, services):
    """One call as a line, and the server it concerns (or None)."""
    path = c['path'][len('/compute/v2.1'):]
    server = None
    m = re.match(r'^/servers/([^/]+)', path)
    if m and m.group(1) != 'detail':
        server = names.get(m.group(1), m.group(1))
    m = re.match(r'^/os-services/([^/]+)$', path)
    if m:
        path = '/os-services/' + services.get(m.group(1), m.group(1))
    path = name_ids(path, names)
    q = c.get('query') or {}
    if q:
        path += '?' + '&'.join('%s=%s' % (k, q[k]) for k in sorted(q))
    line = c['method'] + ' ' + path
    if c.get('body') is not None:
        line += ' ' + json.dumps(c['body'], sort_keys=True,
                                 separators=(',', ':'))
    if c.get('status', 200) >= 400:
        line += ' -> %d' % c['status']
    return line, server


def squeeze(lines):
    out = []
    for l in lines:
        if not out or out[-1] != l:
            out.append(l)
    return out


def calls(log, by_server):
    names, services, cs = learn(log)
    shown = [show(c, names, services) for c in cs]
    if not by_server:
        print('\n'.join(squeeze([l for l, _ in shown])))
        return
    print('\n'.join(squeeze([l for l, s in shown if s is None])))
    for s in sorted({s for _, s in shown if s is not None}):
        print('== ' + s)
        print('\n'.join(squeeze([l for l, x in shown if x == s])))


def progress(events, log):
    names, _, _ = learn(log)
    with open(events) as f:
        evs = json.load(f)['events']
    for e in evs:
        if e.get('kind') != 'progress':
            continue
        p = e.get('progress')
        print('%.1f %s' % (p if p is not None else -1,
                           name_ids(e.get('message') or '', names)))


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'calls':
        calls(sys.argv[2], '--by-server' in sys.argv[3:])
    elif len(sys.argv) == 4 and sys.argv[1] == 'progress':
        progress(sys.argv[2], sys.argv[3])
    else:
        sys.exit('usage: sim-calls.py calls LOG [--by-server] | '
                 'progress EVENTS LOG')
