// layout.test.mjs -- the console's layered layout (src/console/js/
// layout.js) under Node.js: every node placed once, no two nodes of a
// layer overlapping, edges going down (cycles drawn with their edge
// turned back), long edges bent around other nodes, and the same
// answer for the same graph.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const { layout } = await import(join(here, '../../src/console/js/layout.js'));

const W = 180, H = 48;

function graph(n, edges) {
	const nodes = Array.from({ length: n }, (v, i) => ({ id: 't' + i,
	    width: W, height: H }));
	return { nodes, edges: edges.map(([a, b]) => ({ from: 't' + a,
	    to: 't' + b })) };
}

function check(g, r) {
	assert.equal(r.nodes.size, g.nodes.length);
	const rows = new Map();
	for (const [id, p] of r.nodes) {
		assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y), id);
		assert.ok(p.x - p.width / 2 >= 0 && p.x + p.width / 2 <= r.width,
		    `${id} inside the width`);
		if (!rows.has(p.y))
			rows.set(p.y, []);
		rows.get(p.y).push(p);
	}
	for (const row of rows.values()) {
		row.sort((a, b) => a.x - b.x);
		for (let i = 1; i < row.length; i++)
			assert.ok(row[i].x - row[i - 1].x >= W, 'no overlap in a layer');
	}
	for (const e of r.edges) {
		const p = e.points;
		assert.ok(p.length >= 2);
		const down = p[p.length - 1].y > p[0].y;
		assert.equal(down, !e.reversed, 'edges go down unless turned back');
	}
}

test('a chain is one column', () => {
	const g = graph(50, Array.from({ length: 49 }, (v, i) => [i, i + 1]));
	const r = layout(g.nodes, g.edges);
	check(g, r);
	const xs = new Set([...r.nodes.values()].map((p) => p.x));
	assert.equal(xs.size, 1);
});

test('a fan-out and join: branches side by side, the join below', () => {
	const e = [];
	for (let i = 1; i <= 10; i++)
		e.push([0, i], [i, 11]);
	const g = graph(12, e);
	const r = layout(g.nodes, g.edges);
	check(g, r);
	const y = (i) => r.nodes.get('t' + i).y;
	assert.ok(y(0) < y(1) && y(1) < y(11));
	for (let i = 2; i <= 10; i++)
		assert.equal(y(i), y(1));
	// The start and the join are centred over the branches.
	const x1 = r.nodes.get('t1').x, x10 = r.nodes.get('t10').x;
	assert.ok(Math.abs(r.nodes.get('t0').x - (x1 + x10) / 2) < 1);
});

test('a cycle is drawn with one edge turned back', () => {
	const g = graph(4, [[0, 1], [1, 2], [2, 3], [3, 1]]);
	const r = layout(g.nodes, g.edges);
	check(g, r);
	assert.equal(r.edges.filter((e) => e.reversed).length, 1);
});

test('a long edge bends through its own points', () => {
	const g = graph(5, [[0, 1], [1, 2], [2, 3], [0, 3], [3, 4]]);
	const r = layout(g.nodes, g.edges);
	check(g, r);
	const long = r.edges.find((e) => e.edge.from === 't0' && e.edge.to === 't3');
	assert.equal(long.points.length, 4, 'two bends for two skipped layers');
});

test('self loops and edges to unknown nodes are left out', () => {
	const g = graph(2, [[0, 1], [1, 1]]);
	g.edges.push({ from: 't0', to: 'nowhere' });
	const r = layout(g.nodes, g.edges);
	assert.equal(r.edges.length, 1);
});

test('the same graph gets the same layout; 2000 nodes are placed', () => {
	let seed = 7;
	const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
	const e = [];
	for (let i = 1; i < 2000; i++) {
		e.push([Math.floor(rnd() * i), i]);
		if (rnd() < 0.4)
			e.push([Math.floor(rnd() * i), i]);
	}
	const g = graph(2000, e);
	const a = layout(g.nodes, g.edges), b = layout(g.nodes, g.edges);
	check(g, a);
	assert.deepEqual([...a.nodes.entries()], [...b.nodes.entries()]);
});

test('an empty graph', () => {
	const r = layout([], []);
	assert.equal(r.nodes.size, 0);
	assert.ok(r.width >= 0 && r.height >= 0);
});
