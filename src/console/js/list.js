// list.js -- what the list views share: the time filter of the API
// (created_at=gte:...&created_at=lt:..., repeated as the lists of the
// decision log and of messages take it) and pages by marker, with
// Newer / Older buttons.

import { h, clear } from './dom.js';

// "2026-12-01T10:00" (local, from datetime-local) to the API's UTC text.
export function utc(local) {
	if (!local)
		return '';
	return new Date(local).toISOString().slice(0, 19).replace('T', ' ');
}

// The filter values of a time range between two datetime-local texts
// (either may be empty), for qs() to repeat.
export function timeRange(after, before) {
	const r = [];
	if (after)
		r.push('gte:' + utc(after));
	if (before)
		r.push('lt:' + utc(before));
	return r;
}

// The "Received after / before" inputs of a filter form.
export function timeInputs(label) {
	return [h('label', {}, label + ' after ', h('input', { name: 'after',
	    type: 'datetime-local' })),
	    h('label', {}, 'before ', h('input', { name: 'before',
		type: 'datetime-local' }))];
}

// Pages of a list by marker: pager.marker is the one to ask with;
// show(list, next) draws the buttons, which call load() again.
export class Pager {
	constructor(load) {
		this.el = h('div', { class: 'pager' });
		this.load = load;
		this.markers = [];	// markers of the pages before this one
		this.marker = '';
	}

	reset() {
		this.markers.length = 0;
		this.marker = '';
	}

	show(list, next) {
		clear(this.el);
		if (this.markers.length)
			this.el.append(h('button', { type: 'button', class: 'newer',
			    onclick: () => {
				this.marker = this.markers.pop();
				this.load();
			} }, '\u2190 Newer'));
		if (next && list.length)
			this.el.append(h('button', { type: 'button', class: 'older',
			    onclick: () => {
				this.markers.push(this.marker);
				this.marker = list[list.length - 1].id;
				this.load();
			} }, 'Older \u2192'));
	}
}
