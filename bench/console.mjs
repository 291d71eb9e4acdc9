// console.mjs -- the browser half of bench/console.sh (see there).

import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.env.BORA_TESTS_DIR, 'package.json'));
const { chromium } = require('playwright-core');
const URL = process.env.BORA_URL;
const RUNS = Number(process.env.RUNS || 5);

async function api(method, path, body) {
	const r = await fetch(URL + path, { method, body: body && JSON.stringify(body),
	    headers: { 'Content-Type': 'application/json' } });
	return r.json();
}

async function waitState(id, st) {
	for (;;) {
		const e = await api('GET', '/v2/executions/' + id);
		if (st.includes(e.state))
			return e;
		await new Promise((r) => setTimeout(r, 50));
	}
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking',
	'--disable-component-update', '--disable-sync'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });

console.log('== layout of large graphs (ms, in the page)');
for (const n of [500, 1000, 2000]) {
	const t = [];
	let edges = 0, load = 0;
	for (let i = 0; i < RUNS; i++) {
		const t0 = Date.now();
		await page.goto(`${URL}/#/workflows/big${n}`);
		await page.reload();
		await page.locator('svg.graph[data-layout-ms]').waitFor();
		load = Date.now() - t0;
		t.push(Number(await page.getAttribute('svg.graph', 'data-layout-ms')));
		edges = await page.locator('svg.graph path.edge').count();
	}
	t.sort((a, b) => a - b);
	console.log(`${n} tasks, ${edges} edges: layout best ${t[0].toFixed(1)} ms, ` +
	    `median ${t[Math.floor(t.length / 2)].toFixed(1)} ms; page drawn in ${load} ms`);
}

console.log('== with-items over 10,000 items');
const numbers = Array.from({ length: 10000 }, (v, i) => i);
let e = await api('POST', '/v2/executions', { workflow_name: 'items',
    input: { numbers, delay: 0 } });
if (!e.id) {
	console.log('the items workflow is missing:', JSON.stringify(e));
} else {
	const t0 = Date.now();
	await waitState(e.id, ['SUCCESS', 'ERROR']);
	console.log(`execution: ${Date.now() - t0} ms`);
	const t1 = Date.now();
	await page.goto(`${URL}/#/executions/${e.id}`);
	await page.locator('.node[data-key="fan"] .items[data-done="10000"]').waitFor();
	console.log(`page with its counter (one node, ${await page.locator('.node').count()}` +
	    ` drawn): ${Date.now() - t1} ms; ` +
	    await page.textContent('.node[data-key="fan"] .items'));
}

console.log('== transition to screen');
const d = [];
for (let i = 0; i < 5; i++) {
	e = await api('POST', '/v2/executions', { workflow_name: 'live',
	    input: { seconds: 1 } });
	await page.goto(`${URL}/#/executions/${e.id}`);
	await page.locator('.node[data-key="wait_here"][data-state="RUNNING"]').waitFor();
	const h = await page.waitForFunction(() => {
		const n = document.querySelector('.node[data-key="after"]');
		return n && n.dataset.state !== 'PLANNED' ? performance.now() +
		    performance.timeOrigin : false;
	}, null, { polling: 'raf', timeout: 10000 });
	const seen = await h.jsonValue();
	const tasks = (await api('GET', `/v2/executions/${e.id}/tasks`)).tasks;
	const after = tasks.find((t) => t.name === 'after');
	// created_at has whole seconds only: use the event's time_ms.
	const evs = (await api('GET', `/v2/executions/${e.id}/events`)).events;
	const created = evs.find((x) => x.task_id === after.id).time_ms;
	d.push(seen - created);
}
d.sort((a, b) => a - b);
console.log(`task created -> node on screen: median ${d[2].toFixed(0)} ms, ` +
    `max ${d[4].toFixed(0)} ms`);
await browser.close();
