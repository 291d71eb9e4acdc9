// executions.js -- the list of executions: filters by state, workflow
// and creation time, find by id, pages, and rows that change state
// live.

import { h, clear, when, duration, stateBadge, shorten, debounce } from '../dom.js';
import { get, qs } from '../api.js';
import { subscribe } from '../live.js';
import { utc, Pager } from '../list.js';

const STATES = ['', 'RUNNING', 'PAUSED', 'SUCCESS', 'ERROR', 'CANCELLED',
    'IDLE'];
const PAGE = 50;

export async function render(root, args, ctx) {
	const f = { state: '', workflow: '', after: '', before: '' };
	const rows = new Map();

	const table = h('table', { class: 'list', id: 'executions' });
	const pager = new Pager(() => load());
	const form = h('form', { class: 'filters', onsubmit: (ev) => {
		ev.preventDefault();
		const el = ev.target.elements;
		if (el.find.value.trim()) {
			location.hash = '#/executions/' +
			    encodeURIComponent(el.find.value.trim());
			return;
		}
		f.state = el.state.value;
		f.workflow = el.workflow.value.trim();
		f.after = el.after.value;
		f.before = el.before.value;
		pager.reset();
		load();
	} },
	    h('label', {}, 'State ', h('select', { name: 'state' },
		STATES.map((s) => h('option', { value: s }, s || 'any')))),
	    h('label', {}, 'Workflow ', h('input', { name: 'workflow',
		placeholder: 'name' })),
	    h('label', {}, 'Created after ', h('input', { name: 'after',
		type: 'datetime-local' })),
	    h('label', {}, 'before ', h('input', { name: 'before',
		type: 'datetime-local' })),
	    h('button', { type: 'submit' }, 'Filter'),
	    h('label', {}, 'Find ', h('input', { name: 'find',
		placeholder: 'execution id', size: 38 })));
	root.append(h('h1', {}, 'Executions'), form, table, pager.el);

	function row(e) {
		const tr = h('tr', { dataset: { id: e.id, state: e.state } },
		    h('td', {}, h('a', { href: '#/executions/' + e.id },
			e.id.slice(0, 8))),
		    h('td', {}, h('a', { href: '#/workflows/' +
			encodeURIComponent(e.workflow_name) }, e.workflow_name)),
		    h('td', { class: 'st' }, stateBadge(e.state)),
		    h('td', {}, when(e.created_at)),
		    h('td', { class: 'dur' }, duration(e.created_at,
			/RUNNING|PAUSED|IDLE/.test(e.state) ? null : e.updated_at)),
		    h('td', { class: 'info' }, shorten(e.state_info, 90)),
		    h('td', {}, e.task_execution_id ? 'sub-workflow' :
			shorten(e.description, 40)));
		return tr;
	}

	async function load() {
		const q = { limit: PAGE, sort_keys: 'created_at', sort_dirs: 'desc',
		    marker: pager.marker };
		if (f.state)
			q.state = f.state;
		if (f.workflow)
			q.workflow_name = f.workflow;
		if (f.after && f.before) {
			// One filter per field: the later bound is checked here.
			q.created_at = 'gte:' + utc(f.after);
		} else if (f.after)
			q.created_at = 'gte:' + utc(f.after);
		else if (f.before)
			q.created_at = 'lte:' + utc(f.before);
		const data = await get('/v2/executions' + qs(q));
		let list = data.executions || [];
		if (f.after && f.before)
			list = list.filter((e) => e.created_at <= utc(f.before));
		clear(table).append(h('thead', {}, h('tr', {},
		    ['Id', 'Workflow', 'State', 'Created', 'Duration',
			'State info', 'Description'].map((t) => h('th', {}, t)))));
		const body = h('tbody');
		rows.clear();
		for (const e of list) {
			const tr = row(e);
			rows.set(e.id, tr);
			body.append(tr);
		}
		if (!list.length)
			body.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' },
			    'No executions.')));
		table.append(body);
		pager.show(list, data.next);
	}

	const reload = debounce(() => load().catch(() => {}), 300);
	const close = subscribe({}, {
		status: (st) => ctx.setStatus(st, st),
		execution: (e) => {
			const tr = rows.get(e.id);
			if (tr) {
				const old = tr;
				const nw = row(Object.assign({ workflow_name: '' }, e));
				rows.set(e.id, nw);
				old.replaceWith(nw);
			} else if (!pager.marker)
				reload();
		},
		reset: reload,
	});
	await load();
	return close;
}
