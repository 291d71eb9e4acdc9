// workbooks.js -- the workbooks in force and their source.

import { h, when } from '../dom.js';
import { get } from '../api.js';
import { loadErrors } from './workflows.js';

export async function render(root, args) {
	if (args[0]) {
		const wb = await get('/v2/workbooks/' + encodeURIComponent(args[0]));
		root.append(h('h1', {}, wb.name),
		    h('p', { class: 'muted' }, `version ${wb.version}` +
			(wb.source ? `, from ${wb.source}` : '') +
			`, updated ${when(wb.updated_at || wb.created_at)}`),
		    h('pre', { class: 'source', id: 'source' }, wb.definition));
		return;
	}
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
