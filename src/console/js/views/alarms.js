// alarms.js -- the decision log (GET /v1/alarms): filters by source,
// status, verdict and time of receipt, pages; and one alarm
// (GET /v1/alarms/{id}): its events, every trigger's verdict with its
// reason, and the executions it started.

import { h, clear, when, stateBadge, shorten, jsonBlock, pretty }
    from '../dom.js';
import { get, qs } from '../api.js';
import { Pager, timeRange, timeInputs } from '../list.js';

const PAGE = 50;
const SOURCES = ['alertmanager', 'aodh', 'generic', 'grafana', 'vitrage',
    'zabbix'];
const STATUSES = ['firing', 'resolved'];
// The verdicts of src/alarms/alarms-match.c, and how they read.
const VERDICTS = {
	started: 'started',
	duplicate: 'duplicate',
	when_false: 'when false',
	limited: 'limited',
	resolved_ignored: 'resolved (ignored)',
	cancelled: 'cancelled',
	failed: 'failed',
};

export function verdictBadge(v) {
	return h('span', { class: 'verdict v-' + v, dataset: { verdict: v } },
	    VERDICTS[v] || v);
}

function statusBadge(st) {
	return st ? h('span', { class: 'alarm-status as-' + st }, st) :
	    h('span', { class: 'muted' }, '-');
}

function options(list, labels) {
	return [h('option', { value: '' }, 'any'), list.map((x) =>
	    h('option', { value: x }, labels ? labels[x] : x))];
}

export async function render(root, args) {
	if (args[0])
		return one(root, args[0]);
	const f = { source: '', status: '', verdict: '', after: '', before: '' };
	const table = h('table', { class: 'list', id: 'alarms' });
	const pager = new Pager(() => load());
	const form = h('form', { class: 'filters', onsubmit: (ev) => {
		ev.preventDefault();
		const el = ev.target.elements;
		if (el.find.value.trim()) {
			location.hash = '#/alarms/' +
			    encodeURIComponent(el.find.value.trim());
			return;
		}
		for (const k of Object.keys(f))
			f[k] = el[k].value;
		pager.reset();
		load();
	} },
	    h('label', {}, 'Source ', h('select', { name: 'source' },
		options(SOURCES))),
	    h('label', {}, 'Status ', h('select', { name: 'status' },
		options(STATUSES))),
	    h('label', {}, 'Verdict ', h('select', { name: 'verdict' },
		options(Object.keys(VERDICTS), VERDICTS))),
	    timeInputs('Received'),
	    h('button', { type: 'submit' }, 'Filter'),
	    h('label', {}, 'Find ', h('input', { name: 'find',
		placeholder: 'alarm id', size: 38 })));
	root.append(h('h1', {}, 'Alarms'),
	    h('p', { class: 'muted' }, 'Every alarm received, what each ' +
		'trigger decided, and the executions started.'),
	    form, table, pager.el);

	async function load() {
		const data = await get('/v1/alarms' + qs({ limit: PAGE,
		    sort_keys: 'created_at', sort_dirs: 'desc',
		    marker: pager.marker, source: f.source, status: f.status,
		    verdict: f.verdict, created_at: timeRange(f.after, f.before) }));
		const list = data.alarms || [];
		clear(table).append(h('thead', {}, h('tr', {},
		    ['Id', 'Received', 'Source', 'Status', 'State', 'Events',
			'Verdicts', 'Error'].map((t) => h('th', {}, t)))));
		table.append(h('tbody', {}, list.map((a) =>
		    h('tr', { dataset: { id: a.id } },
			h('td', {}, h('a', { href: '#/alarms/' + a.id },
			    a.id.slice(0, 8))),
			h('td', {}, when(a.created_at)),
			h('td', {}, a.source),
			h('td', {}, statusBadge(a.status)),
			h('td', {}, a.state),
			h('td', {}, String(a.event_count)),
			h('td', { class: 'verdicts' }, (a.verdicts || [])
			    .map(verdictBadge)),
			h('td', { class: 'info' }, shorten(a.error, 90)))),
		    list.length ? null : h('tr', {}, h('td', { colspan: 8,
			class: 'muted' }, 'No alarms.'))));
		pager.show(list, data.next);
	}
	await load();
}

// One trigger's verdict on one event.
function verdictRow(d, execs) {
	const ex = d.execution_id ? execs.get(d.execution_id) : null;
	return h('tr', { dataset: { trigger: d.trigger, verdict: d.verdict } },
	    h('td', { class: 'mono' }, d.trigger),
	    h('td', {}, verdictBadge(d.verdict)),
	    h('td', {}, d.workflow ? h('a', { href: '#/workflows/' +
		encodeURIComponent(d.workflow) }, d.workflow) : ''),
	    h('td', { class: 'mono' }, d.key || ''),
	    h('td', {}, d.execution_id ? [h('a', { class: 'exec-link',
		href: '#/executions/' + d.execution_id },
		d.execution_id.slice(0, 8)), ' ',
		ex ? stateBadge(ex.state) : null] : ''),
	    h('td', {}, d.until ? (d.until === 'resolved' ? 'until resolved' :
		when(d.until)) : ''),
	    h('td', { class: 'info reason' }, d.reason || '',
		d.limit_by ? ` (by ${d.limit_by})` : '',
		d.input ? h('details', {}, h('summary', {}, 'input'),
		    h('pre', {}, pretty(d.input))) : null));
}

function event(ev, execs) {
	const r = ev.resource || {};
	const res = [r.kind, r.id, r.host && r.host !== r.id ? 'on ' + r.host :
	    null].filter(Boolean).join(' ');
	return h('section', { class: 'card alarm-event', dataset: { seq: ev.seq } },
	    h('div', { class: 'row' },
		h('h2', {}, ev.name || ev.key),
		statusBadge(ev.status),
		ev.severity ? h('span', { class: 'muted' }, ev.severity) : null),
	    h('dl', { class: 'facts' },
		h('dt', {}, 'Key'), h('dd', { class: 'mono' }, ev.key),
		h('dt', {}, 'Source'), h('dd', {}, ev.source),
		res ? [h('dt', {}, 'Resource'), h('dd', {}, res)] : null,
		ev.starts_at ? [h('dt', {}, 'Starts at'),
		    h('dd', {}, ev.starts_at)] : null),
	    h('table', { class: 'list small verdict-table' },
		h('tr', {}, ['Trigger', 'Verdict', 'Workflow', 'Key', 'Execution',
		    'Held', 'Reason'].map((t) => h('th', {}, t))),
		ev.verdicts.map((d) => verdictRow(d, execs))),
	    ev.verdicts.length ? null : h('p', { class: 'muted' },
		'No trigger listens to this event.'),
	    h('div', { class: 'io' },
		Object.keys(ev.labels || {}).length ?
		    jsonBlock('Labels', ev.labels) : null,
		Object.keys(ev.annotations || {}).length ?
		    jsonBlock('Annotations', ev.annotations) : null));
}

async function one(root, id) {
	const a = await get('/v1/alarms/' + encodeURIComponent(id));
	const execs = new Map((a.executions || []).map((e) => [e.id, e]));
	root.append(h('section', { class: 'card', id: 'alarm-head' },
	    h('div', { class: 'row' },
		h('h1', {}, 'Alarm from ' + a.source),
		statusBadge(a.status),
		h('span', { class: 'muted' }, a.state),
		h('span', { class: 'verdicts' }, (a.verdicts || [])
		    .map(verdictBadge))),
	    h('dl', { class: 'facts' },
		h('dt', {}, 'Alarm'), h('dd', { class: 'mono' }, a.id),
		h('dt', {}, 'Received'), h('dd', {}, when(a.received_at) +
		    (a.remote ? ' from ' + a.remote : '') + ' on ' + a.route),
		h('dt', {}, 'Decided'), h('dd', {}, when(a.decided_at)),
		a.request_id ? [h('dt', {}, 'Request id'),
		    h('dd', { class: 'mono' }, a.request_id)] : null,
		a.replay_of ? [h('dt', {}, 'Replay of'), h('dd', {},
		    h('a', { href: '#/alarms/' + a.replay_of }, a.replay_of))] :
		    null,
		h('dt', {}, 'Triggers'), h('dd', {}, 'version ' +
		    a.triggers_version)),
	    a.error ? h('pre', { class: 'state-info' }, a.error) : null),
	    h('h2', {}, 'Executions started'),
	    execs.size ? h('table', { class: 'list', id: 'alarm-executions' },
		[...execs.values()].map((e) => h('tr', { dataset: { id: e.id } },
		    h('td', {}, e.state === 'DELETED' ? e.id :
			h('a', { href: '#/executions/' + e.id }, e.id)),
		    h('td', {}, e.workflow_name || ''),
		    h('td', {}, stateBadge(e.state)),
		    h('td', {}, when(e.created_at)),
		    h('td', { class: 'info' }, shorten(e.state_info, 90))))) :
		h('p', { class: 'muted' }, 'None.'),
	    h('h2', {}, `Events (${(a.events || []).length})`),
	    h('div', { id: 'alarm-events' }, (a.events || []).map((ev) =>
		event(ev, execs))),
	    h('details', { class: 'json' }, h('summary', {}, 'Request'),
		h('pre', {}, pretty(a.headers)),
		h('pre', { id: 'alarm-body' }, a.encoding === 'text' ?
		    pretty(a.body) : `(${a.encoding}) ${a.body || ''}`)));
}
