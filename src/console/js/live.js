// live.js -- Server-Sent Events from /v2/stream, read with fetch so
// the bearer token goes in a header (EventSource cannot send one).
// Reconnects after the server's retry delay with Last-Event-ID, so no
// event is missed while the server keeps it; on "reset" the caller
// reloads what it shows.

import { headers } from './api.js';

// subscribe({execution_id}, {hello, execution, task, items, reset,
// status}) -> a function that closes the stream.
export function subscribe(params, on) {
	let closed = false, ctrl = null, last = null, retry = 2000;
	const q = params.execution_id ? '?execution_id=' +
	    encodeURIComponent(params.execution_id) : '';
	const status = (st) => on.status && on.status(st);

	const dispatch = (ev) => {
		if (ev.id !== undefined && ev.id !== '')
			last = ev.id;
		if (ev.retry)
			retry = ev.retry;
		const f = on[ev.event];
		if (!f)
			return;
		let data = null;
		try {
			data = JSON.parse(ev.data || 'null');
		} catch (e) {
			return;
		}
		f(data, ev);
	};

	const run = async () => {
		while (!closed) {
			ctrl = new AbortController();
			try {
				const hd = headers({ Accept: 'text/event-stream' });
				if (last !== null)
					hd['Last-Event-ID'] = last;
				const r = await fetch('/v2/stream' + q, {
				    headers: hd, signal: ctrl.signal, cache: 'no-store' });
				if (r.status === 401) {
					status('unauthorized');
					return;
				}
				if (!r.ok || !r.body)
					throw new Error('stream: ' + r.status);
				status('live');
				await read(r.body.getReader(), dispatch);
			} catch (e) {
				if (closed)
					return;
			}
			status('reconnecting');
			await new Promise((res) => setTimeout(res, retry));
		}
	};
	run();
	return () => {
		closed = true;
		if (ctrl)
			ctrl.abort();
	};
}

// Parse the event stream format: fields up to a blank line.
async function read(reader, dispatch) {
	const dec = new TextDecoder();
	let buf = '', ev = {};
	for (;;) {
		const { value, done } = await reader.read();
		if (done)
			return;
		buf += dec.decode(value, { stream: true });
		let i;
		while ((i = buf.indexOf('\n')) >= 0) {
			const line = buf.slice(0, i).replace(/\r$/, '');
			buf = buf.slice(i + 1);
			if (line === '') {
				if (ev.event || ev.data !== undefined)
					dispatch(Object.assign({ event: 'message' }, ev));
				ev = {};
				continue;
			}
			if (line[0] === ':')
				continue;
			const c = line.indexOf(':');
			const k = c < 0 ? line : line.slice(0, c);
			const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
			if (k === 'data')
				ev.data = ev.data === undefined ? v : ev.data + '\n' + v;
			else if (k === 'retry')
				ev.retry = parseInt(v, 10) || 0;
			else
				ev[k] = v;
		}
	}
}
