// workbooks.js -- the workbooks in force; one workbook: the workflows
// it defines and its source.

import { h, when } from '../dom.js';
import { get, qs } from '../api.js';
import { loadErrors } from './workflows.js';

async function one(root, name) {
	const [wb, wfs] = await Promise.all([
		get('/v2/workbooks/' + encodeURIComponent(name)),
		get('/v2/workflows' + qs({ workbook: name, sort_keys: 'name',
		    sort_dirs: 'asc' })),
	]);
	// The workbook's own namespace: a namesake elsewhere is not its.
	const list = (wfs.workflows || []).filter((w) =>
	    (w.namespace || '') === (wb.namespace || ''));
	root.append(h('h1', {}, wb.name),
	    h('p', { class: 'muted' }, `version ${wb.version}` +
		(wb.source ? `, from ${wb.source}` : '') +
		`, updated ${when(wb.updated_at || wb.created_at)}`),
	    h('h2', {}, 'Workflows'),
	    list.length ? h('table', { class: 'list', id: 'workbook-workflows' },
		h('tr', {}, ['Name', 'Input', 'Tags'].map((t) => h('th', {}, t))),
		list.map((w) => h('tr', { dataset: { name: w.name } },
		    h('td', {}, h('a', { href: '#/workflows/' +
			encodeURIComponent(w.name) }, w.name)),
		    h('td', { class: 'mono' }, w.input || ''),
		    h('td', {}, (w.tags || []).join(', '))))) :
		h('p', { class: 'muted' }, 'It defines no workflow.'),
	    h('h2', {}, 'Source'),
	    h('pre', { class: 'source', id: 'source' }, wb.definition));
}

export async function render(root, args) {
	if (args[0])
		return one(root, args[0]);
	const [data, errs] = await Promise.all([get('/v2/workbooks'),
	    loadErrors()]);
	const list = data.workbooks || [];
	root.append(h('h1', {}, 'Workbooks'), errs || '',
	    h('table', { class: 'list', id: 'workbooks' },
		h('tr', {}, ['Name', 'Version', 'Source', 'Updated'].map((t) =>
		    h('th', {}, t))),
		list.map((w) => h('tr', {},
		    h('td', {}, h('a', { href: '#/workbooks/' +
			encodeURIComponent(w.name) }, w.name)),
		    h('td', {}, String(w.version || '')),
		    h('td', { class: 'mono' }, w.source || ''),
		    h('td', {}, when(w.updated_at || w.created_at))))),
	    list.length ? '' : h('p', { class: 'muted' }, 'No workbooks.'));
}
