// workflows.js -- the workflows in force, the files that failed to
// load (with every error), and one workflow: its planned graph, its
// source, its executions, and a form to start one.

import { h, clear, when, stateBadge } from '../dom.js';
import { get, api, qs } from '../api.js';
import { GraphView } from '../graph.js';

// Files of the watched folders that failed to load (from /readyz).
export async function loadErrors() {
	const r = await fetch('/readyz', { cache: 'no-store' });
	const body = await r.json().catch(() => ({}));
	const errs = body.definition_errors || [];
	if (!errs.length)
		return null;
	return h('section', { class: 'card error', id: 'load-errors' },
	    h('h2', {}, 'Definitions that failed to load'),
	    h('p', {}, 'The previous version of each stays in force.'),
	    errs.map((f) => h('div', {}, h('h3', { class: 'mono' }, f.file),
		h('pre', {}, (f.errors || []).join('\n')))));
}

export async function render(root, args) {
	if (args[0])
		return one(root, args[0]);
	const [data, errs] = await Promise.all([
		get('/v2/workflows' + qs({ sort_keys: 'name', sort_dirs: 'asc' })),
		loadErrors(),
	]);
	const list = data.workflows || [];
	root.append(h('h1', {}, 'Workflows'), errs || '',
	    h('table', { class: 'list', id: 'workflows' },
		h('tr', {}, ['Name', 'Input', 'Tags', 'Updated'].map((t) =>
		    h('th', {}, t))),
		list.map((w) => h('tr', { dataset: { name: w.name } },
		    h('td', {}, h('a', { href: '#/workflows/' +
			encodeURIComponent(w.name) }, w.name)),
		    h('td', { class: 'mono' }, w.input || ''),
		    h('td', {}, (w.tags || []).join(', ')),
		    h('td', {}, when(w.updated_at || w.created_at))))),
	    list.length ? '' : h('p', { class: 'muted' }, 'No workflows.'));
}

async function one(root, name) {
	const enc = encodeURIComponent(name);
	const [wf, g, ex] = await Promise.all([
		get('/v2/workflows/' + enc),
		get(`/v2/workflows/${enc}/graph`),
		get('/v2/executions' + qs({ workflow_name: name, limit: 20,
		    sort_keys: 'created_at', sort_dirs: 'desc' })),
	]);
	const msg = h('span', { class: 'muted' });
	const start = h('form', { class: 'start', id: 'start-form',
	    onsubmit: async (ev) => {
		ev.preventDefault();
		let input;
		try {
			input = JSON.parse(ev.target.elements.input.value || '{}');
		} catch (e) {
			msg.textContent = 'Input is not JSON: ' + e.message;
			return;
		}
		try {
			const e = await api('POST', '/v2/executions',
			    { workflow_name: name, input });
			location.hash = '#/executions/' + e.id;
		} catch (e) {
			msg.textContent = e.message;
		}
	} },
	    h('label', {}, 'Input (JSON) ', h('input', { name: 'input', size: 50,
		value: '{}' })),
	    h('button', { type: 'submit' }, 'Start'), msg);
	const gbox = h('section', { class: 'gbox tall' });
	root.append(h('h1', {}, name),
	    h('p', { class: 'muted' }, `${g.type} workflow, ` +
		`${g.definition.name} version ${g.definition.version}` +
		(g.definition.source ? ` (${g.definition.source})` : '')),
	    start, gbox,
	    h('h2', {}, 'Recent executions'),
	    h('table', { class: 'list' }, (ex.executions || []).map((e) =>
		h('tr', {}, h('td', {}, h('a', { href: '#/executions/' + e.id },
		    e.id)), h('td', {}, stateBadge(e.state)),
		    h('td', {}, when(e.created_at))))),
	    h('h2', {}, 'Source'), h('pre', { class: 'source', id: 'source' },
		wf.definition || ''));
	const gv = new GraphView(gbox, {
		onToggle: async (m, node) => {
			if (m.open[node.id])
				delete m.open[node.id];
			else
				m.open[node.id] = { graph: await get('/v2/workflows/' +
				    encodeURIComponent(node.workflow) + '/graph'),
				    tasks: null, open: {} };
			gv.setModel(model);
		},
	});
	const model = { graph: g, tasks: null, open: {} };
	gv.setModel(model);
}
