// console.test.mjs -- the web console in a real browser: Debian's
// chromium, headless, driven by playwright-core, against a real borad
// that tests/integration/console.sh started.  Each test saves a
// screenshot in BORA_SHOTS.  Any Content-Security-Policy violation or
// script error on a page fails the test that showed the page.
//
// Environment: BORA_URL, BORA_SUITE (main | auth), BORA_TOKEN (auth),
// BORA_SHOTS (screenshot folder), BORA_TESTS_DIR (the folder whose
// node_modules holds playwright-core), CHROMIUM (/usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(join(process.env.BORA_TESTS_DIR ||
    new URL('.', import.meta.url).pathname, 'package.json'));
const { chromium } = require('playwright-core');

const URL = process.env.BORA_URL;
const SUITE = process.env.BORA_SUITE || 'main';
const TOKEN = process.env.BORA_TOKEN || '';
const SHOTS = process.env.BORA_SHOTS;
const WAIT = 15000;

let browser, profile;

// A fresh profile (--user-data-dir) in a temporary folder.
before(async () => {
	profile = mkdtempSync(join(tmpdir(), 'bora-chromium-'));
	browser = await chromium.launchPersistentContext(profile, {
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		viewport: { width: 1400, height: 900 },
		args: ['--headless', '--no-sandbox', '--disable-gpu',
		    '--disable-quic', '--no-first-run',
		    '--disable-background-networking',
		    '--disable-component-update', '--disable-sync'],
	});
});

after(async () => {
	if (browser)
		await browser.close();
	rmSync(profile, { recursive: true, force: true });
});

// The REST API, as a test client.
async function api(method, path, body) {
	const hd = { Accept: 'application/json' };
	if (TOKEN)
		hd.Authorization = 'Bearer ' + TOKEN;
	if (body !== undefined)
		hd['Content-Type'] = 'application/json';
	const r = await fetch(URL + path, { method, headers: hd,
	    body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await r.text();
	if (!r.ok)
		throw new Error(`${method} ${path}: ${r.status} ${text}`);
	return text ? JSON.parse(text) : null;
}

async function start(workflow, input) {
	return (await api('POST', '/v2/executions', { workflow_name: workflow,
	    input: input || {} })).id;
}

async function waitState(id, states) {
	const until = Date.now() + WAIT;
	for (;;) {
		const e = await api('GET', '/v2/executions/' + id);
		if (states.includes(e.state))
			return e;
		if (Date.now() > until)
			throw new Error(`execution ${id} is ${e.state}, not ${states}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

// A page that records script errors and CSP violations; the test body
// gets it, and a screenshot is taken whatever the outcome.
async function withPage(name, body) {
	const page = await browser.newPage();
	const problems = [];
	page.on('pageerror', (e) => problems.push('script error: ' + e.message));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/status of 401/.test(m.text()))
			problems.push('console error: ' + m.text());
	});
	try {
		await body(page);
		assert.deepEqual(problems, [], 'no script error or CSP violation');
	} finally {
		await page.screenshot({ path: join(SHOTS, name + '.png'),
		    fullPage: false }).catch(() => {});
		await page.close();
	}
}

const nodeState = (page, key) => page.getAttribute(
    `.node[data-key="${key}"]`, 'data-state');

if (SUITE === 'main') {

test('the page lists executions', () => withPage('list', async (page) => {
	const a = await start('console.flow');
	const b = await start('live', { seconds: 0 });
	await waitState(a, ['SUCCESS']);
	await waitState(b, ['SUCCESS']);
	await page.goto(URL + '/#/executions');
	for (const id of [a, b]) {
		const row = page.locator(`#executions tr[data-id="${id}"]`);
		await row.waitFor({ timeout: WAIT });
		assert.match(await row.textContent(), /SUCCESS/);
	}
	assert.equal(await page.textContent(
	    `#executions tr[data-id="${a}"] td:nth-child(2)`), 'console.flow');
	// A new execution appears while it runs, and ends, without a reload.
	await page.evaluate(() => { window.boraSamePage = true; });
	const c = await start('live', { seconds: 2 });
	await page.locator(`#executions tr[data-id="${c}"][data-state="RUNNING"]`)
	    .waitFor({ timeout: WAIT });
	await page.locator(`#executions tr[data-id="${c}"][data-state="SUCCESS"]`)
	    .waitFor({ timeout: WAIT });
	assert.equal(await page.evaluate(() => window.boraSamePage), true);
	// Filter by state and workflow.
	await page.fill('input[name="workflow"]', 'live');
	await page.click('form.filters button[type="submit"]');
	await page.locator(`#executions tr[data-id="${a}"]`).waitFor(
	    { state: 'detached', timeout: WAIT });
	assert.equal(await page.locator(`#executions tr[data-id="${b}"]`)
	    .count(), 1);
}));

test('an execution graph has the right nodes, edges and states',
    () => withPage('graph', async (page) => {
	const id = await start('console.flow');
	await waitState(id, ['SUCCESS']);
	const g = await api('GET', `/v2/executions/${id}/graph`);
	const tasks = (await api('GET', `/v2/executions/${id}/tasks`)).tasks;
	await page.goto(`${URL}/#/executions/${id}`);
	await page.locator('.node[data-key="child"]').waitFor({ timeout: WAIT });

	// Nodes: every planned task, started or not, and the fail command.
	const ids = await page.$$eval('svg.graph > .viewport > .nodes > .node',
	    (a) => a.map((n) => n.dataset.id).sort());
	assert.deepEqual(ids, g.nodes.map((n) => n.id).sort());
	for (const t of ['start', 'check_a', 'check_b', 'decide', 'fan',
	    'skipped', 'child'])
		assert.ok(ids.includes(t), t + ' is drawn');
	// Edges with their kinds.
	const edges = await page.$$eval(
	    'svg.graph > .viewport > .edges > path.edge',
	    (a) => a.map((e) => `${e.dataset.from}>${e.dataset.to}:` +
		e.dataset.kind).sort());
	assert.deepEqual(edges, g.edges.map((e) =>
	    `${e.from}>${e.to}:${e.kind}`).sort());
	assert.ok(edges.includes('start>check_a:success'));
	assert.ok(edges.includes('check_b>decide:error'));
	assert.ok(edges.includes('decide>fan:condition'));
	assert.ok(edges.includes('decide>skipped:condition'));
	assert.ok(edges.some((e) => /^skipped>.*:complete$/.test(e)));
	// States: as the API says; the task that never ran is planned.
	for (const t of tasks)
		assert.equal(await nodeState(page, t.name), t.state, t.name);
	assert.equal(await nodeState(page, 'check_b'), 'ERROR');
	assert.equal(await nodeState(page, 'skipped'), 'PLANNED');
	// The retry badge, the join, the with-items counter.
	assert.match(await page.textContent('.node[data-key="check_b"] .badge'),
	    /2\/2/);
	assert.match(await page.textContent('.node[data-key="decide"] .badge'),
	    /join all/);
	assert.match(await page.textContent('.node[data-key="fan"] .items'),
	    /6 done · 0 failed · 0 running of 6/);
	// A sub-workflow opens in place, with its own states.
	await page.click('.node[data-key="child"] .toggle');
	await page.locator('.node[data-key="child>hello"]').waitFor(
	    { timeout: WAIT });
	assert.equal(await nodeState(page, 'child>hello'), 'SUCCESS');
	// The task panel: published values, result, progress events.
	await page.click('.node[data-key="check_b"]');
	await page.locator('#task-events').waitFor({ timeout: WAIT });
	const ev = await page.textContent('#task-events');
	assert.match(ev, /task check_b failed/);
	assert.match(ev, /req-|[0-9a-f]{8}-/);
	assert.match(await page.textContent('#task-panel'),
	    /Fail action expected exception/);
	assert.ok(await page.locator('#btn-rerun').count() === 1,
	    'a failed task can be re-run');
}));

test('a running execution changes state on screen without a reload',
    () => withPage('live', async (page) => {
	const id = await start('live', { seconds: 2 });
	await page.goto(`${URL}/#/executions/${id}`);
	await page.locator('.node[data-key="wait_here"]').waitFor({ timeout: WAIT });
	assert.equal(await nodeState(page, 'wait_here'), 'RUNNING');
	assert.equal(await nodeState(page, 'after'), 'PLANNED');
	await page.evaluate(() => { window.boraSamePage = true; });
	await page.locator('.node[data-key="after"][data-state="SUCCESS"]')
	    .waitFor({ timeout: WAIT });
	await page.locator('#exec-state[data-state="SUCCESS"]')
	    .waitFor({ timeout: WAIT });
	assert.equal(await nodeState(page, 'wait_here'), 'SUCCESS');
	assert.equal(await page.evaluate(() => window.boraSamePage), true,
	    'the page was not reloaded');
}));

test('pause and resume work from the buttons',
    () => withPage('pause-resume', async (page) => {
	const id = await start('pausable', { seconds: 1 });
	await page.goto(`${URL}/#/executions/${id}`);
	await page.click('#btn-pause', { timeout: WAIT });
	await page.locator('#exec-state[data-state="PAUSED"]')
	    .waitFor({ timeout: WAIT });
	assert.equal((await api('GET', '/v2/executions/' + id)).state, 'PAUSED');
	// Paused: nothing goes further.
	await new Promise((r) => setTimeout(r, 1500));
	assert.equal((await api('GET', '/v2/executions/' + id)).state, 'PAUSED');
	assert.notEqual(await nodeState(page, 'three'), 'SUCCESS');
	await page.screenshot({ path: join(SHOTS, 'paused.png') });
	await page.click('#btn-resume', { timeout: WAIT });
	await page.locator('#exec-state[data-state="SUCCESS"]')
	    .waitFor({ timeout: WAIT });
	assert.equal(await nodeState(page, 'three'), 'SUCCESS');
	assert.equal((await api('GET', '/v2/executions/' + id)).state, 'SUCCESS');
}));

test('a with-items task shows its counter',
    () => withPage('with-items', async (page) => {
	const id = await start('items', { delay: 0.3 });
	await page.goto(`${URL}/#/executions/${id}`);
	const items = page.locator('.node[data-key="fan"] .items');
	await items.waitFor({ timeout: WAIT });
	await page.locator('.node[data-key="fan"] .items[data-done="20"]')
	    .waitFor({ timeout: WAIT });
	assert.equal(await items.getAttribute('data-total'), '20');
	assert.equal(await items.textContent(),
	    '20 done · 0 failed · 0 running of 20');
	assert.equal(await page.locator('.node').count(), 1,
	    'twenty items are one node');
}));

test('a 500-task workflow is drawn whole, with pan, zoom and fit',
    () => withPage('big', async (page) => {
	const g = await api('GET', '/v2/workflows/big/graph');
	assert.equal(g.nodes.length, 500);
	await page.goto(`${URL}/#/workflows/big`);
	await page.locator('svg.graph[data-layout-ms]').waitFor({ timeout: WAIT });
	assert.equal(await page.locator('svg.graph .node').count(), 500);
	assert.equal(await page.locator('svg.graph path.edge').count(),
	    g.edges.length);
	const ms = Number(await page.getAttribute('svg.graph', 'data-layout-ms'));
	// A figure, not a check: bench/console.sh measures it.
	console.log(`# layout of ${g.nodes.length} tasks, ${g.edges.length} ` +
	    `edges: ${ms.toFixed(1)} ms`);
	const fit = Number(await page.getAttribute('svg.graph', 'data-scale'));
	assert.ok(fit > 0 && fit < 1, 'fit shrinks a large graph: ' + fit);
	await page.click('.gbar button:has-text("+")');
	assert.ok(Number(await page.getAttribute('svg.graph', 'data-scale')) > fit);
	await page.mouse.move(700, 600);
	await page.mouse.wheel(0, 400);
	await page.click('#fit');
	assert.equal(Number(await page.getAttribute('svg.graph', 'data-scale')),
	    fit);
	assert.equal(await page.locator('svg.minimap rect.m').count(), 500);
	await page.locator('.gbox').scrollIntoViewIfNeeded();
}));

test('workflows show their source and the files that failed to load',
    () => withPage('workflows', async (page) => {
	await page.goto(`${URL}/#/workflows`);
	await page.locator('#load-errors').waitFor({ timeout: WAIT });
	assert.match(await page.textContent('#load-errors'), /broken\.yaml/);
	assert.equal(await page.locator(
	    '#workflows tr[data-name="console.flow"]').count(), 1);
	await page.click('#workflows a:has-text("console.flow")');
	await page.locator('#source').waitFor({ timeout: WAIT });
	assert.match(await page.textContent('#source'), /check_b:/);
	await page.locator('.node[data-key="check_b"]').waitFor({ timeout: WAIT });
	await page.goto(`${URL}/#/workbooks`);
	await page.locator('#workbooks a:has-text("console")').click();
	await page.locator('#source').waitFor({ timeout: WAIT });
	assert.match(await page.textContent('#source'), /name: console/);
}));

test('dark and light themes', () => withPage('dark', async (page) => {
	await page.emulateMedia({ colorScheme: 'light' });
	await page.goto(`${URL}/#/executions`);
	await page.locator('#executions').waitFor({ timeout: WAIT });
	assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
	const light = await page.evaluate(() =>
	    getComputedStyle(document.body).backgroundColor);
	await page.click('#theme');
	assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
	const dark = await page.evaluate(() =>
	    getComputedStyle(document.body).backgroundColor);
	assert.notEqual(dark, light);
	await page.reload();
	await page.locator('#executions').waitFor({ timeout: WAIT });
	assert.equal(await page.getAttribute('html', 'data-theme'), 'dark',
	    'the choice is kept');
}));

}

if (SUITE === 'auth') {

test('without the token the console answers 401 and asks for it',
    () => withPage('auth', async (page) => {
	const r = await page.goto(URL + '/');
	assert.equal(r.status(), 401);
	await page.locator('#token-form').waitFor({ timeout: WAIT });
	await page.fill('#token-form input[name="token"]', 'wrong');
	await page.click('#token-form button');
	await page.locator('#token-form:has-text("refused")')
	    .waitFor({ timeout: WAIT });
	await page.fill('#token-form input[name="token"]', TOKEN);
	await page.click('#token-form button');
	await page.locator('#executions').waitFor({ timeout: WAIT });
	const id = await start('live', { seconds: 0 });
	await page.locator(`#executions tr[data-id="${id}"]`)
	    .waitFor({ timeout: WAIT });
	assert.match(await page.textContent('#live'), /live/,
	    'the stream is authenticated too');
}));

}
