// messages.js -- what users are told (GET /v2/messages): filters on
// level, event id, resource and time, pages; each message links to
// what it is about, and can be deleted (DELETE /v2/messages/{id}).

import { h, clear, when } from '../dom.js';
import { get, del, qs } from '../api.js';
import { Pager, timeRange, timeInputs } from '../list.js';

const PAGE = 50;
const LEVELS = ['ERROR', 'WARNING'];
// The resource types of the catalog (src/msg/msg.c) and their pages.
const RESOURCES = {
	execution: (id) => '#/executions/' + id,
	task: (id) => '#/tasks/' + id,
	alarm: (id) => '#/alarms/' + id,
	trigger: null,
	notification: null,
};

function resource(m) {
	if (!m.resource_type)
		return '';
	const page = RESOURCES[m.resource_type];
	const id = m.resource_uuid || '';
	return [m.resource_type + ' ', page && id ?
	    h('a', { class: 'resource mono', href: page(encodeURIComponent(id)) },
		id.slice(0, 8)) : h('span', { class: 'mono' }, id)];
}

export async function render(root, args, ctx) {
	const f = { level: '', event_id: '', resource_type: '',
	    resource_uuid: '', after: '', before: '' };
	const table = h('table', { class: 'list', id: 'messages' });
	const pager = new Pager(() => load());
	const form = h('form', { class: 'filters', onsubmit: (ev) => {
		ev.preventDefault();
		const el = ev.target.elements;
		for (const k of Object.keys(f))
			f[k] = el[k].value.trim();
		pager.reset();
		load();
	} },
	    h('label', {}, 'Level ', h('select', { name: 'level' },
		h('option', { value: '' }, 'any'),
		LEVELS.map((l) => h('option', { value: l }, l)))),
	    h('label', {}, 'Event ', h('input', { name: 'event_id',
		placeholder: 'BORA-EXE-001', size: 14 })),
	    h('label', {}, 'Resource ', h('select', { name: 'resource_type' },
		h('option', { value: '' }, 'any'),
		Object.keys(RESOURCES).map((r) => h('option', { value: r }, r)))),
	    h('input', { name: 'resource_uuid', placeholder: 'resource id',
		size: 38 }),
	    timeInputs('Created'),
	    h('button', { type: 'submit' }, 'Filter'));
	root.append(h('h1', {}, 'Messages'),
	    h('p', { class: 'muted' }, 'What users are told when work fails.'),
	    form, table, pager.el);

	async function remove(m, tr, btn) {
		if (!window.confirm('Delete this message?'))
			return;
		btn.disabled = true;
		try {
			await del('/v2/messages/' + encodeURIComponent(m.id));
			tr.remove();
		} catch (e) {
			ctx.setStatus(String(e.message || e), 'error');
			btn.disabled = false;
		}
	}

	function row(m) {
		const btn = h('button', { type: 'button', class: 'danger small',
		    title: 'Delete this message' }, 'Delete');
		const tr = h('tr', { class: 'lvl-' + String(m.message_level || '')
		    .toLowerCase(), dataset: { id: m.id } },
		    h('td', {}, when(m.created_at)),
		    h('td', {}, h('span', { class: 'level' }, m.message_level || '')),
		    h('td', { class: 'mono' }, m.event_id || ''),
		    h('td', { class: 'text' }, m.user_message || ''),
		    h('td', {}, resource(m)),
		    h('td', { class: 'mono' }, m.request_id || ''),
		    h('td', {}, when(m.expires_at)),
		    h('td', {}, btn));
		btn.addEventListener('click', () => remove(m, tr, btn));
		return tr;
	}

	async function load() {
		const data = await get('/v2/messages' + qs({ limit: PAGE,
		    sort_keys: 'created_at', sort_dirs: 'desc',
		    marker: pager.marker, message_level: f.level,
		    event_id: f.event_id, resource_type: f.resource_type,
		    resource_uuid: f.resource_uuid,
		    created_at: timeRange(f.after, f.before) }));
		const list = data.messages || [];
		clear(table).append(h('thead', {}, h('tr', {},
		    ['Created', 'Level', 'Event', 'Message', 'About', 'Request',
			'Expires', ''].map((t) => h('th', {}, t)))),
		    h('tbody', {}, list.map(row), list.length ? null :
			h('tr', {}, h('td', { colspan: 8, class: 'muted' },
			    'No messages.'))));
		pager.show(list, data.next);
	}
	await load();
}
