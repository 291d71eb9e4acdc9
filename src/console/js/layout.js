// layout.js -- a layered (Sugiyama) layout of a directed graph, fast
// enough for workflows of thousands of tasks: cycles broken by a depth
// first search, ranks by longest path, long edges split into dummy
// nodes, layers ordered by barycenter sweeps, and x coordinates placed
// by isotonic regression (the closest positions to the neighbours'
// that keep the order and the spacing).  Everything is linear or
// n log n per sweep; no library needed.
//
// layout(nodes, edges, opts)
//   nodes: [{id, width, height}]   edges: [{from, to}]
//   opts:  {nodesep, ranksep, edgesep, margin, sweeps}
// returns {nodes: Map(id -> {x, y, width, height}) (x, y: centre),
//          edges: [{edge, points: [{x, y}, ...]}], width, height}

const DEFAULTS = { nodesep: 28, ranksep: 56, edgesep: 12, margin: 16,
	sweeps: 4, maxDummies: 40000 };

export function layout(nodes, edges, options) {
	const o = Object.assign({}, DEFAULTS, options || {});
	const n = nodes.length;
	const index = new Map();
	nodes.forEach((v, i) => index.set(v.id, i));

	// Edges by index; self loops and dangling edges are drawn apart.
	const es = [];
	for (const e of edges) {
		const a = index.get(e.from), b = index.get(e.to);
		if (a === undefined || b === undefined || a === b)
			continue;
		es.push({ e, a, b, rev: false });
	}
	const out = Array.from({ length: n }, () => []);
	for (const x of es)
		out[x.a].push(x);

	// 1. Break cycles: edges to a node on the DFS stack are reversed.
	const mark = new Uint8Array(n);	// 0 new, 1 on stack, 2 done
	const indeg = new Uint32Array(n);
	for (const x of es)
		indeg[x.b]++;
	const roots = [];
	for (let i = 0; i < n; i++)
		if (indeg[i] === 0)
			roots.push(i);
	for (let i = 0; i < n; i++)
		roots.push(i);
	for (const r of roots) {
		if (mark[r])
			continue;
		const stack = [[r, 0]];
		mark[r] = 1;
		while (stack.length) {
			const top = stack[stack.length - 1];
			const v = top[0];
			if (top[1] < out[v].length) {
				const x = out[v][top[1]++];
				if (mark[x.b] === 1)
					x.rev = true;
				else if (mark[x.b] === 0) {
					mark[x.b] = 1;
					stack.push([x.b, 0]);
				}
			} else {
				mark[v] = 2;
				stack.pop();
			}
		}
	}
	const succ = Array.from({ length: n }, () => []);
	const pred = Array.from({ length: n }, () => []);
	for (const x of es) {
		const s = x.rev ? x.b : x.a, t = x.rev ? x.a : x.b;
		x.s = s;
		x.t = t;
		succ[s].push(t);
		pred[t].push(s);
	}

	// 2. Ranks: longest path from the sources (Kahn's order).
	const rank = new Int32Array(n);
	const deg = new Uint32Array(n);
	for (let i = 0; i < n; i++)
		deg[i] = pred[i].length;
	const queue = [];
	for (let i = 0; i < n; i++)
		if (deg[i] === 0)
			queue.push(i);
	for (let q = 0; q < queue.length; q++) {
		const v = queue[q];
		for (const w of succ[v]) {
			if (rank[v] + 1 > rank[w])
				rank[w] = rank[v] + 1;
			if (--deg[w] === 0)
				queue.push(w);
		}
	}
	// Pull nodes without predecessors down next to their successors.
	for (let q = queue.length - 1; q >= 0; q--) {
		const v = queue[q];
		if (pred[v].length === 0 && succ[v].length > 0) {
			let m = Infinity;
			for (const w of succ[v])
				m = Math.min(m, rank[w]);
			rank[v] = m - 1;
		}
	}

	// 3. Dummy nodes for edges longer than one rank.
	const width = nodes.map((v) => v.width);
	const height = nodes.map((v) => v.height);
	const rankOf = Array.from(rank);
	let total = n, dummies = 0;
	for (const x of es) {
		const span = rankOf[x.t] - rankOf[x.s];
		x.chain = [x.s];
		if (span > 1 && dummies + span - 1 <= o.maxDummies) {
			for (let r = rankOf[x.s] + 1; r < rankOf[x.t]; r++) {
				rankOf.push(r);
				width.push(o.edgesep);
				height.push(0);
				x.chain.push(total++);
				dummies++;
			}
		}
		x.chain.push(x.t);
	}
	const up = Array.from({ length: total }, () => []);
	const down = Array.from({ length: total }, () => []);
	for (const x of es) {
		for (let i = 1; i < x.chain.length; i++) {
			down[x.chain[i - 1]].push(x.chain[i]);
			up[x.chain[i]].push(x.chain[i - 1]);
		}
	}

	// 4. Layers, first in depth-first order, then barycenter sweeps.
	let maxRank = 0;
	for (let i = 0; i < total; i++)
		maxRank = Math.max(maxRank, rankOf[i]);
	const layers = Array.from({ length: maxRank + 1 }, () => []);
	const seen = new Uint8Array(total);
	const visit = (start) => {
		const st = [start];
		while (st.length) {
			const v = st.pop();
			if (seen[v])
				continue;
			seen[v] = 1;
			layers[rankOf[v]].push(v);
			for (let i = down[v].length - 1; i >= 0; i--)
				if (!seen[down[v][i]])
					st.push(down[v][i]);
		}
	};
	for (let i = 0; i < n; i++)
		if (pred[i].length === 0)
			visit(i);
	for (let i = 0; i < total; i++)
		visit(i);
	const pos = new Float64Array(total);
	const setPos = (layer) => layer.forEach((v, i) => { pos[v] = i; });
	layers.forEach(setPos);
	const sweep = (layer, nbrs) => {
		const key = new Float64Array(layer.length);
		layer.forEach((v, i) => {
			const a = nbrs[v];
			if (a.length === 0) {
				key[i] = pos[v];
				return;
			}
			let s = 0;
			for (const w of a)
				s += pos[w];
			key[i] = s / a.length;
		});
		const idx = layer.map((v, i) => i);
		idx.sort((i, j) => key[i] - key[j] || i - j);
		const sorted = idx.map((i) => layer[i]);
		for (let i = 0; i < layer.length; i++)
			layer[i] = sorted[i];
		setPos(layer);
	};
	for (let it = 0; it < o.sweeps; it++) {
		for (let r = 1; r <= maxRank; r++)
			sweep(layers[r], up);
		for (let r = maxRank - 1; r >= 0; r--)
			sweep(layers[r], down);
	}

	// 5. x: closest to the neighbours' mean, order and gaps kept.
	const x = new Float64Array(total);
	for (const layer of layers) {
		let cx = 0;
		layer.forEach((v, i) => {
			if (i > 0)
				cx += (width[layer[i - 1]] + width[v]) / 2 +
				    o.nodesep;
			x[v] = cx;
		});
	}
	const place = (layer, nbrs) => {
		const m = layer.length;
		if (m === 0)
			return;
		const off = new Float64Array(m);
		for (let i = 1; i < m; i++)
			off[i] = off[i - 1] + (width[layer[i - 1]] +
			    width[layer[i]]) / 2 + (width[layer[i]] ===
			    o.edgesep && width[layer[i - 1]] === o.edgesep ?
			    o.edgesep / 2 : o.nodesep);
		// Isotonic regression (pool adjacent violators), weighted.
		const val = [], wt = [], cnt = [];
		for (let i = 0; i < m; i++) {
			const v = layer[i], a = nbrs[v];
			let d = x[v], w = 0.05;
			if (a.length) {
				let s = 0;
				for (const u of a)
					s += x[u];
				d = s / a.length;
				w = a.length;
			}
			let cv = d - off[i], cw = w, cc = 1;
			while (val.length && val[val.length - 1] > cv) {
				const pv = val.pop(), pw = wt.pop();
				cc += cnt.pop();
				cv = (pv * pw + cv * cw) / (pw + cw);
				cw += pw;
			}
			val.push(cv);
			wt.push(cw);
			cnt.push(cc);
		}
		let i = 0;
		for (let b = 0; b < val.length; b++)
			for (let k = 0; k < cnt[b]; k++, i++)
				x[layer[i]] = val[b] + off[i];
	};
	for (let it = 0; it < o.sweeps; it++) {
		for (let r = 1; r <= maxRank; r++)
			place(layers[r], up);
		for (let r = maxRank - 1; r >= 0; r--)
			place(layers[r], down);
	}

	// 6. y by rank; normalise to the margin.
	const y = new Float64Array(total);
	let cy = o.margin, minX = Infinity, maxX = -Infinity;
	for (const layer of layers) {
		let h = 0;
		for (const v of layer)
			h = Math.max(h, height[v]);
		for (const v of layer)
			y[v] = cy + h / 2;
		cy += h + o.ranksep;
	}
	for (let i = 0; i < total; i++) {
		minX = Math.min(minX, x[i] - width[i] / 2);
		maxX = Math.max(maxX, x[i] + width[i] / 2);
	}
	if (total === 0)
		minX = maxX = 0;
	const dx = o.margin - minX;
	const res = new Map();
	nodes.forEach((v, i) => res.set(v.id, { x: x[i] + dx, y: y[i],
	    width: v.width, height: v.height }));
	const paths = es.map((e) => {
		const pts = e.chain.map((v) => ({ x: x[v] + dx, y: y[v] }));
		const s = pts[0], t = pts[pts.length - 1];
		s.y += height[e.s] / 2;
		t.y -= height[e.t] / 2;
		if (e.rev)
			pts.reverse();
		return { edge: e.e, points: pts, reversed: e.rev };
	});
	return { nodes: res, edges: paths, width: maxX - minX + 2 * o.margin,
	    height: cy - o.ranksep + o.margin };
}
