// graph.js -- draws a workflow's planned task graph in SVG with the
// state of an execution over it: nodes coloured by state, edges by
// transition kind (condition labels on the edge), with-items as one node
// with a done/failed/running of N counter, retries and loops as badges,
// joins marked, sub-workflows opened in place (their graph drawn inside
// the node).  Pan with the mouse, zoom with the wheel, fit to the
// screen, and a minimap of the whole graph.
//
// A model is {graph: {nodes, edges}, tasks: {name: brief task},
// execution, open: {nodeId: model}}; live changes go through
// updateTask(), which touches only the node concerned.

import { h, s, clear, shorten } from './dom.js';
import { layout } from './layout.js';

const NODE_W = 196, NODE_H = 50, ITEMS_H = 68, CMD_W = 78, CMD_H = 26;
const PAD = 14, HEAD = 30;
const KINDS = ['success', 'error', 'complete', 'condition', 'requires'];

function nodeState(node, t) {
	if (node.kind === 'command')
		return 'COMMAND';
	return t ? t.state : 'PLANNED';
}

export class GraphView {
	constructor(container, opts) {
		this.opts = opts || {};
		this.root = container;
		this.view = { k: 1, x: 0, y: 0 };
		this.els = new Map();		// key -> {g, node, model}
		this.models = new Map();	// execution id -> model
		this.svg = s('svg', { class: 'graph', id: 'graph' });
		this.defs = s('defs', {}, KINDS.map((k) => s('marker', {
			id: 'arr-' + k, viewBox: '0 0 10 10', refX: 9, refY: 5,
			markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
		    s('path', { d: 'M0,0L10,5L0,10z', class: 'mk k-' + k }))));
		this.vp = s('g', { class: 'viewport' });
		this.svg.append(this.defs, this.vp);
		this.mini = s('svg', { class: 'minimap', id: 'minimap' });
		this.info = h('span', { class: 'ginfo', id: 'layout-info' });
		const bar = h('div', { class: 'gbar' },
		    h('button', { type: 'button', id: 'fit', onclick: () => this.fit() },
			'Fit'),
		    h('button', { type: 'button', onclick: () => this.zoom(1.25) }, '+'),
		    h('button', { type: 'button', onclick: () => this.zoom(0.8) },
			'\u2212'),
		    h('button', { type: 'button', onclick: () => this.zoomTo(1) },
			'1:1'),
		    this.info,
		    h('span', { class: 'legend' }, ['planned', 'waiting', 'running',
			'paused', 'success', 'error'].map((x) =>
			h('span', { class: 'lg-' + x }, x))));
		clear(container).append(bar, h('div', { class: 'gwrap' }, this.svg,
		    this.mini));
		this.panZoom();
	}

	// Lay out and draw a model (a new one or after opening a node).
	setModel(model) {
		this.model = model;
		const t0 = performance.now();
		this.sizes(model);
		const ms = performance.now() - t0;
		this.layoutMs = ms;
		this.svg.dataset.layoutMs = ms.toFixed(1);
		clear(this.vp);
		this.els.clear();
		this.models.clear();
		this.draw(model, this.vp, '');
		const n = countNodes(model);
		this.info.textContent = `${n} nodes laid out in ${ms.toFixed(0)} ms`;
		this.drawMini();
		if (!this.placed) {
			this.placed = true;
			this.fit();
		} else
			this.apply();
	}

	// Sizes bottom-up: an open sub-workflow is as big as its graph.
	sizes(model) {
		const nodes = model.graph.nodes.map((n) => {
			let w = NODE_W, ht = NODE_H;
			if (n.kind === 'command') {
				w = CMD_W;
				ht = CMD_H;
			} else if (n.with_items)
				ht = ITEMS_H;
			const sub = model.open && model.open[n.id];
			if (sub) {
				this.sizes(sub);
				w = Math.max(NODE_W, sub.lay.width + 2 * PAD);
				ht = sub.lay.height + HEAD + PAD;
			}
			return { id: n.id, width: w, height: ht };
		});
		model.lay = layout(nodes, model.graph.edges);
	}

	draw(model, parent, prefix) {
		if (model.execution)
			this.models.set(model.execution.id, model);
		model.prefix = prefix;
		const lay = model.lay;
		const eg = s('g', { class: 'edges' });
		const ng = s('g', { class: 'nodes' });
		for (const p of lay.edges) {
			const e = p.edge;
			const kind = KINDS.includes(e.kind) ? e.kind : 'success';
			const d = pathOf(p.points);
			const path = s('path', { d, class: 'edge k-' + kind,
			    'marker-end': `url(#arr-${kind})`,
			    dataset: { from: e.from, to: e.to, kind } });
			eg.append(path);
			if (kind === 'condition' || e.kind === 'error' ||
			    e.kind === 'complete') {
				const m = p.points[Math.floor(p.points.length / 2)];
				const a = p.points[Math.max(0, Math.floor(p.points.length / 2) - 1)];
				const lx = (m.x + a.x) / 2, ly = (m.y + a.y) / 2;
				const label = kind === 'condition' ?
				    (e.on !== 'success' ? e.on + ': ' : '') +
				    String(e.label || '').replace(/^<%\s*|\s*%>$/g, '') :
				    e.kind;
				eg.append(s('text', { x: lx + 4, y: ly, class: 'elabel k-' + kind },
				    shorten(label, 30), s('title', {}, e.label)));
			}
		}
		for (const n of model.graph.nodes) {
			const pos = lay.nodes.get(n.id);
			const g = s('g', { class: 'node n-' + (n.kind || 'task'),
			    transform: `translate(${pos.x - pos.width / 2},${pos.y - pos.height / 2})`,
			    dataset: { id: n.id, key: prefix + n.id } });
			const el = { g, node: n, model, pos };
			this.els.set(prefix + n.id, el);
			this.fillNode(el);
			g.addEventListener('click', (ev) => {
				ev.stopPropagation();
				if (ev.target.closest('.toggle')) {
					if (this.opts.onToggle)
						this.opts.onToggle(model, n);
					return;
				}
				this.select(prefix + n.id);
				if (this.opts.onSelect)
					this.opts.onSelect(model, n, model.tasks &&
					    model.tasks[n.id]);
			});
			ng.append(g);
			const sub = model.open && model.open[n.id];
			if (sub) {
				const inner = s('g', { class: 'sub',
				    transform: `translate(${PAD},${HEAD})` });
				g.append(inner);
				this.draw(sub, inner, prefix + n.id + '>');
			}
		}
		parent.append(eg, ng);
	}

	// The content of one node from its definition and task brief.
	fillNode(el) {
		const { g, node: n, model, pos } = el;
		const t = model.tasks ? model.tasks[n.id] : null;
		const st = nodeState(n, t);
		g.dataset.state = st;
		clear(g);
		if (n.kind === 'command') {
			g.append(s('rect', { class: 'box', width: pos.width,
			    height: pos.height, rx: pos.height / 2 }),
			    s('text', { x: pos.width / 2, y: 17, class: 'cmd' }, n.name),
			    s('title', {}, n.message || n.name));
			return;
		}
		const open = model.open && model.open[n.id];
		g.append(s('rect', { class: 'box', width: pos.width,
		    height: pos.height, rx: 6 }));
		if (n.start)
			g.append(s('rect', { class: 'startmark', width: 4,
			    height: pos.height, rx: 2 }));
		g.append(s('text', { x: 10, y: 19, class: 'name' },
		    shorten(n.name, 24)));
		const what = n.type === 'workflow' ? '\u21b3 ' + n.workflow :
		    n.action;
		if (!open)
			g.append(s('text', { x: 10, y: 37, class: 'sub' },
			    shorten(what, 28)));
		else
			g.append(s('text', { x: 10 + 0, y: 19, dx: Math.min(180,
			    n.name.length * 7.5 + 10), class: 'sub' },
			    shorten(what + (open.execution ? '  ' +
			    open.execution.state : ''), 40)));
		const tip = [n.name, what, 'state: ' + st];
		if (t && t.state_info)
			tip.push(t.state_info);
		g.append(s('title', {}, tip.join('\n')));
		// Badges, right to left along the top edge.
		let bx = pos.width - 6;
		const badge = (text, cls, title) => {
			const w = text.length * 6.6 + 10;
			bx -= w;
			g.append(s('g', { class: 'badge ' + cls,
			    transform: `translate(${bx},-9)` },
			    s('rect', { width: w, height: 16, rx: 8 }),
			    s('text', { x: w / 2, y: 12 }, text),
			    s('title', {}, title)));
			bx -= 4;
		};
		if (n.retry) {
			const c = typeof n.retry.count === 'number' ?
			    n.retry.count : '?';
			const r = t ? t.retry_no || 0 : 0;
			if (r > 0 || !t)
				badge(`\u21bb ${r}/${c}`, r > 0 ? 'retried' : 'plan',
				    `retries used ${r} of ${c}`);
		}
		if (n.join !== undefined)
			badge('join ' + n.join, 'join', 'join: ' + n.join);
		if (t && t.runs > 1)
			badge('\u00d7' + t.runs, 'runs', `run ${t.runs} times (loop)`);
		if (n.type === 'workflow')
			g.append(s('g', { class: 'toggle', transform:
			    `translate(${pos.width - 22},${open ? 6 : 24})` },
			    s('rect', { width: 16, height: 16, rx: 3 }),
			    s('text', { x: 8, y: 12 }, open ? '\u2212' : '+'),
			    s('title', {}, open ? 'Close the sub-workflow' :
				'Open the sub-workflow in place')));
		if (n.with_items) {
			const it = (t && t.items) || null;
			const tot = it ? it.total : (t && t.items_total) || 0;
			const txt = it ? `${it.done} done \u00b7 ${it.failed} failed \u00b7 ` +
			    `${it.running} running of ${tot}` : (t ? `of ${tot || '?'} items` :
			    'with-items');
			const bw = pos.width - 20;
			const f = (v) => tot ? bw * Math.min(1, v / tot) : 0;
			g.append(s('g', { class: 'items', transform: 'translate(10,46)',
			    dataset: it ? { total: tot, done: it.done, failed: it.failed,
				running: it.running } : {} },
			    s('rect', { class: 'bar', width: bw, height: 5, rx: 2 }),
			    s('rect', { class: 'bar-done', width: f(it ? it.done : 0),
				height: 5, rx: 2 }),
			    s('rect', { class: 'bar-failed', x: f(it ? it.done : 0),
				width: f(it ? it.failed : 0), height: 5 }),
			    s('text', { x: 0, y: 17, class: 'count' }, txt)));
		}
	}

	// A task changed (live): redraw its node only.
	updateTask(execId, brief) {
		const model = this.models.get(execId);
		if (!model)
			return false;
		model.tasks = model.tasks || {};
		const old = model.tasks[brief.name];
		const t = Object.assign({}, old || {}, brief);
		if (old && old.id !== brief.id)
			t.runs = (old.runs || 1) + 1;
		if (old && old.items && !brief.items)
			t.items = old.items;
		model.tasks[brief.name] = t;
		const el = this.els.get(model.prefix + brief.name);
		if (el) {
			this.fillNode(el);
			this.drawMini();
		}
		return !!el;
	}

	updateItems(execId, name, items) {
		const model = this.models.get(execId);
		if (!model || !model.tasks || !model.tasks[name])
			return;
		model.tasks[name].items = items;
		const el = this.els.get(model.prefix + name);
		if (el)
			this.fillNode(el);
	}

	select(key) {
		for (const e of this.vp.querySelectorAll('.node.selected'))
			e.classList.remove('selected');
		const el = this.els.get(key);
		if (el)
			el.g.classList.add('selected');
	}

	// ---- pan, zoom, fit, minimap -------------------------------------

	apply() {
		const v = this.view;
		this.vp.setAttribute('transform', `translate(${v.x},${v.y}) scale(${v.k})`);
		this.svg.dataset.scale = v.k.toFixed(3);
		this.drawViewport();
	}

	fit() {
		const lay = this.model && this.model.lay;
		const r = this.svg.getBoundingClientRect();
		if (!lay || !r.width || !r.height)
			return;
		const k = Math.min(1, r.width / lay.width, r.height / lay.height);
		this.view.k = Math.max(0.02, k);
		this.view.x = (r.width - lay.width * this.view.k) / 2;
		this.view.y = Math.max(0, (r.height - lay.height * this.view.k) / 2);
		this.apply();
	}

	zoom(f, cx, cy) {
		const r = this.svg.getBoundingClientRect();
		if (cx === undefined) {
			cx = r.width / 2;
			cy = r.height / 2;
		}
		const k = Math.min(4, Math.max(0.02, this.view.k * f));
		this.view.x = cx - (cx - this.view.x) * (k / this.view.k);
		this.view.y = cy - (cy - this.view.y) * (k / this.view.k);
		this.view.k = k;
		this.apply();
	}

	zoomTo(k) {
		this.zoom(k / this.view.k);
	}

	panZoom() {
		let drag = null;
		this.svg.addEventListener('wheel', (ev) => {
			ev.preventDefault();
			const r = this.svg.getBoundingClientRect();
			this.zoom(Math.exp(-ev.deltaY * 0.0015), ev.clientX - r.left,
			    ev.clientY - r.top);
		}, { passive: false });
		this.svg.addEventListener('pointerdown', (ev) => {
			if (ev.target.closest('.node'))
				return;
			drag = { x: ev.clientX, y: ev.clientY, vx: this.view.x,
			    vy: this.view.y };
			this.svg.setPointerCapture(ev.pointerId);
			this.svg.classList.add('dragging');
		});
		this.svg.addEventListener('pointermove', (ev) => {
			if (!drag)
				return;
			this.view.x = drag.vx + ev.clientX - drag.x;
			this.view.y = drag.vy + ev.clientY - drag.y;
			this.apply();
		});
		const end = () => {
			drag = null;
			this.svg.classList.remove('dragging');
		};
		this.svg.addEventListener('pointerup', end);
		this.svg.addEventListener('pointercancel', end);
		// The minimap: press or drag to centre the view there.
		const go = (ev) => {
			const lay = this.model && this.model.lay;
			const r = this.mini.getBoundingClientRect();
			if (!lay || !r.width)
				return;
			const sc = Math.max(lay.width / r.width, lay.height / r.height);
			const ox = (r.width * sc - lay.width) / 2;
			const oy = (r.height * sc - lay.height) / 2;
			const gx = (ev.clientX - r.left) * sc - ox;
			const gy = (ev.clientY - r.top) * sc - oy;
			const sr = this.svg.getBoundingClientRect();
			this.view.x = sr.width / 2 - gx * this.view.k;
			this.view.y = sr.height / 2 - gy * this.view.k;
			this.apply();
		};
		let mdrag = false;
		this.mini.addEventListener('pointerdown', (ev) => {
			mdrag = true;
			this.mini.setPointerCapture(ev.pointerId);
			go(ev);
		});
		this.mini.addEventListener('pointermove', (ev) => mdrag && go(ev));
		this.mini.addEventListener('pointerup', () => { mdrag = false; });
		window.addEventListener('resize', () => this.apply());
	}

	drawMini() {
		const lay = this.model && this.model.lay;
		if (!lay)
			return;
		clear(this.mini);
		this.mini.setAttribute('viewBox', `0 0 ${lay.width} ${lay.height}`);
		const g = s('g', {});
		for (const n of this.model.graph.nodes) {
			const p = lay.nodes.get(n.id);
			const t = this.model.tasks && this.model.tasks[n.id];
			g.append(s('rect', { x: p.x - p.width / 2, y: p.y - p.height / 2,
			    width: p.width, height: p.height,
			    class: 'm st-' + nodeState(n, t).toLowerCase() }));
		}
		this.vpRect = s('rect', { class: 'mview' });
		this.mini.append(g, this.vpRect);
		this.drawViewport();
	}

	drawViewport() {
		if (!this.vpRect)
			return;
		const r = this.svg.getBoundingClientRect();
		const v = this.view;
		this.vpRect.setAttribute('x', -v.x / v.k);
		this.vpRect.setAttribute('y', -v.y / v.k);
		this.vpRect.setAttribute('width', Math.max(1, r.width / v.k));
		this.vpRect.setAttribute('height', Math.max(1, r.height / v.k));
	}
}

function countNodes(m) {
	let n = m.graph.nodes.length;
	for (const k of Object.keys(m.open || {}))
		n += countNodes(m.open[k]);
	return n;
}

// A smooth path through the points (quadratic joins at the bends).
function pathOf(pts) {
	if (pts.length === 2)
		return `M${pts[0].x},${pts[0].y}L${pts[1].x},${pts[1].y}`;
	let d = `M${pts[0].x},${pts[0].y}`;
	for (let i = 1; i < pts.length - 1; i++) {
		const p = pts[i], q = pts[i + 1];
		d += `Q${p.x},${p.y} ${(p.x + q.x) / 2},${(p.y + q.y) / 2}`;
	}
	const z = pts[pts.length - 1];
	return d + `L${z.x},${z.y}`;
}
