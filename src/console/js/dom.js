// dom.js -- building the page without innerHTML: every text from the
// API goes in as a text node, so nothing it holds can run or style.

const SVGNS = 'http://www.w3.org/2000/svg';

function fill(el, attrs, kids) {
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k.startsWith('on') && typeof v === 'function')
			el.addEventListener(k.slice(2), v);
		else if (k === 'dataset')
			Object.assign(el.dataset, v);
		else
			el.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of kids.flat(Infinity)) {
		if (c === undefined || c === null || c === false)
			continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

// h('div', {class: 'x', onclick: f}, 'text', child...)
export function h(tag, attrs, ...kids) {
	return fill(document.createElement(tag), attrs, kids);
}

// s('rect', {x: 1}) -- an SVG element.
export function s(tag, attrs, ...kids) {
	return fill(document.createElementNS(SVGNS, tag), attrs, kids);
}

// Replace the children of el (null and false children are skipped).
export function setKids(el, ...kids) {
	return fill(clear(el), {}, kids);
}

export function clear(el) {
	while (el.firstChild)
		el.removeChild(el.firstChild);
	return el;
}

// "2026-12-01 22:09:13" (UTC, as the API gives) to a local time text.
export function when(t) {
	if (!t)
		return '-';
	const d = new Date(t.replace(' ', 'T') + 'Z');
	return isNaN(d) ? t : d.toLocaleString();
}

export function duration(a, b) {
	if (!a)
		return '-';
	const t0 = Date.parse(a.replace(' ', 'T') + 'Z');
	const t1 = b ? Date.parse(b.replace(' ', 'T') + 'Z') : Date.now();
	let s = Math.max(0, Math.round((t1 - t0) / 1000));
	if (s < 60)
		return s + 's';
	const m = Math.floor(s / 60);
	s %= 60;
	return m < 60 ? `${m}m${s}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

export function stateBadge(st) {
	return h('span', { class: 'state st-' + String(st || 'none').toLowerCase() },
	    st || '-');
}

// Pretty JSON of a value the API sends as a JSON text or a value.
export function pretty(v) {
	if (typeof v === 'string') {
		try {
			v = JSON.parse(v);
		} catch (e) {
			return v;
		}
	}
	return JSON.stringify(v, null, 2);
}

export function jsonBlock(title, v) {
	return h('details', { class: 'json', open: true }, h('summary', {}, title),
	    h('pre', {}, pretty(v)));
}

export function shorten(t, n) {
	t = String(t || '');
	return t.length > n ? t.slice(0, n - 1) + '\u2026' : t;
}

// Collapse calls of f within ms into one, run at the end.
export function debounce(f, ms) {
	let timer = null;
	return (...a) => {
		clearTimeout(timer);
		timer = setTimeout(() => f(...a), ms);
	};
}
