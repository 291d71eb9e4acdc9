// console.test.mjs -- the web console in a real browser: Debian's
// chromium, headless, driven by playwright-core, against a real borad
// that tests/integration/console.sh started.  Each test saves a
// screenshot in BORA_SHOTS.  Any Content-Security-Policy violation or
// script error on a page fails the test that showed the page.
//
// The alarms, messages and workbook tests use the triggers and
// workflows of tests/data/console/paging.yaml.
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

// An alarm as a sender posts it (to the generic source).
async function sendAlarm(body) {
	return api('POST', '/v1/alarms/generic', body);
}

test('alarms show their verdicts and the executions they started',
    () => withPage('alarms', async (page) => {
	const alert = { key: 'console-host-7', name: 'HostDown',
	    severity: 'critical', resource: { host: 'compute-7' },
	    annotations: { summary: 'compute-7 is down' } };
	const first = await sendAlarm(alert);
	const again = await sendAlarm(alert);
	const v = (r) => Object.fromEntries(r.events[0].verdicts.map((x) =>
	    [x.trigger, x]));
	const started = v(first)['paging.host_down'];
	assert.equal(started.verdict, 'started');
	assert.equal(v(again)['paging.host_down'].verdict, 'duplicate');
	await waitState(started.execution_id, ['SUCCESS']);

	// The decision log lists both, with their verdicts.
	await page.goto(`${URL}/#/alarms`);
	const row = page.locator(`#alarms tr[data-id="${first.alarm_id}"]`);
	await row.waitFor({ timeout: WAIT });
	assert.deepEqual(await row.locator('.verdict').evaluateAll((a) =>
	    a.map((x) => x.dataset.verdict).sort()),
	    ['failed', 'started', 'when_false']);
	assert.match(await row.textContent(), /generic.*firing.*decided/);
	assert.deepEqual(await page.locator(
	    `#alarms tr[data-id="${again.alarm_id}"] .verdict`).evaluateAll(
	    (a) => a.map((x) => x.dataset.verdict).sort()),
	    ['duplicate', 'failed', 'when_false']);
	// Filters: a verdict the first did not reach hides it.
	await page.selectOption('select[name="verdict"]', 'duplicate');
	await page.click('form.filters button[type="submit"]');
	await row.waitFor({ state: 'detached', timeout: WAIT });
	assert.equal(await page.locator(
	    `#alarms tr[data-id="${again.alarm_id}"]`).count(), 1);
	await page.selectOption('select[name="verdict"]', 'started');
	await page.selectOption('select[name="status"]', 'firing');
	await page.click('form.filters button[type="submit"]');
	await row.waitFor({ timeout: WAIT });
	assert.equal(await page.locator(
	    `#alarms tr[data-id="${again.alarm_id}"]`).count(), 0);
	await page.selectOption('select[name="status"]', 'resolved');
	await page.click('form.filters button[type="submit"]');
	await row.waitFor({ state: 'detached', timeout: WAIT });

	// One alarm: its event, each trigger's verdict and reason, and the
	// execution it started, which links back to it.
	await page.goto(`${URL}/#/alarms/${first.alarm_id}`);
	await page.locator('#alarm-events').waitFor({ timeout: WAIT });
	assert.match(await page.textContent('#alarm-events h2'), /HostDown/);
	const verdict = (t) => page.locator(
	    `#alarm-events tr[data-trigger="${t}"]`);
	assert.equal(await verdict('paging.host_down').getAttribute(
	    'data-verdict'), 'started');
	assert.equal(await verdict('paging.disk').getAttribute('data-verdict'),
	    'when_false');
	assert.match(await verdict('paging.disk').textContent(), /when false/);
	assert.equal(await verdict('paging.bad_input').getAttribute(
	    'data-verdict'), 'failed');
	assert.match(await verdict('paging.bad_input').textContent(),
	    /attempt to index a nil value/);
	const link = verdict('paging.host_down').locator('a.exec-link');
	assert.equal(await link.getAttribute('href'),
	    '#/executions/' + started.execution_id);
	assert.match(await page.textContent('#alarm-executions'),
	    /paging\.recover.*SUCCESS/);
	await page.screenshot({ path: join(SHOTS, 'alarm.png') });
	// Both themes colour the verdicts (and the choice is put back).
	const colour = () => page.$eval('#alarm-events .v-started',
	    (x) => getComputedStyle(x).backgroundColor);
	const light = await colour();
	await page.click('#theme');
	assert.notEqual(await colour(), light);
	await page.screenshot({ path: join(SHOTS, 'alarm-dark.png') });
	await page.click('#theme');
	assert.equal(await colour(), light);
	await link.click();
	await page.locator('#exec-alarm').waitFor({ timeout: WAIT });
	assert.match(await page.textContent('#exec-alarm'),
	    /from generic, trigger paging\.host_down, key console-host-7/);
	assert.equal(await page.getAttribute('#exec-alarm a', 'href'),
	    '#/alarms/' + first.alarm_id);

	// The duplicate names what holds it.
	await page.goto(`${URL}/#/alarms/${again.alarm_id}`);
	await page.locator('#alarm-events').waitFor({ timeout: WAIT });
	assert.match(await verdict('paging.host_down').textContent(),
	    new RegExp('duplicate.*until resolved.*' + started.execution_id));
}));

test('messages tell why an execution failed, and can be deleted',
    () => withPage('messages', async (page) => {
	const id = await start('paging.broken');
	await waitState(id, ['ERROR']);
	const mine = (await api('GET', '/v2/messages?request_id=' +
	    (await api('GET', '/v2/executions/' + id)).request_id)).messages;
	assert.equal(mine.length, 2, 'one about the execution, one the task');
	const exeMsg = mine.find((m) => m.resource_type === 'execution');
	const taskMsg = mine.find((m) => m.resource_type === 'task');

	await page.goto(`${URL}/#/messages`);
	const row = page.locator(`#messages tr[data-id="${exeMsg.id}"]`);
	await row.waitFor({ timeout: WAIT });
	assert.match(await row.locator('td.text').textContent(),
	    /^Workflow paging\.broken failed in task boom: Fail action/);
	assert.match(await row.textContent(), /ERROR.*BORA-EXE-001/);
	assert.equal(await row.locator('a.resource').getAttribute('href'),
	    '#/executions/' + id);
	// Filter on the event id: the task's message alone.
	await page.fill('input[name="event_id"]', 'BORA-TSK-001');
	await page.fill('input[name="resource_uuid"]', taskMsg.resource_uuid);
	await page.click('form.filters button[type="submit"]');
	await row.waitFor({ state: 'detached', timeout: WAIT });
	assert.equal(await page.locator('#messages tbody tr').count(), 1);
	const trow = page.locator(`#messages tr[data-id="${taskMsg.id}"]`);
	assert.match(await trow.locator('td.text').textContent(),
	    /^Task boom of workflow paging\.broken failed/);
	// A time range that ends before it hides it.
	await page.fill('input[name="before"]', '2000-01-01T00:00');
	await page.click('form.filters button[type="submit"]');
	await trow.waitFor({ state: 'detached', timeout: WAIT });
	await page.fill('input[name="before"]', '');
	await page.click('form.filters button[type="submit"]');
	await trow.waitFor({ timeout: WAIT });
	// The task's message opens its execution with the task selected.
	await trow.locator('a.resource').click();
	await page.locator('#task-panel h2:has-text("boom")').waitFor(
	    { timeout: WAIT });
	assert.match(page.url(), new RegExp(`#/executions/${id}/boom$`));
	assert.equal(await page.locator('.node.selected').getAttribute(
	    'data-key'), 'boom');

	// Delete, after the confirmation.
	await page.goto(`${URL}/#/messages`);
	await row.waitFor({ timeout: WAIT });
	page.once('dialog', (d) => d.accept());
	await row.locator('button:has-text("Delete")').click();
	await row.waitFor({ state: 'detached', timeout: WAIT });
	await assert.rejects(api('GET', '/v2/messages/' + exeMsg.id), /404/);
	await page.reload();
	await page.locator(`#messages tr[data-id="${taskMsg.id}"]`).waitFor(
	    { timeout: WAIT });
	assert.equal(await row.count(), 0, 'it stays deleted');
}));

test('a workbook lists the workflows it defines',
    () => withPage('workbook', async (page) => {
	await page.goto(`${URL}/#/workbooks/paging`);
	const table = page.locator('#workbook-workflows');
	await table.waitFor({ timeout: WAIT });
	assert.deepEqual(await table.locator('tr[data-name]').evaluateAll(
	    (a) => a.map((x) => x.dataset.name)),
	    ['paging.broken', 'paging.recover']);
	await page.goto(`${URL}/#/workbooks/console`);
	await page.locator('#workbook-workflows tr[data-name="console.leaf"]')
	    .waitFor({ timeout: WAIT });
	assert.deepEqual(await table.locator('tr[data-name]').evaluateAll(
	    (a) => a.map((x) => x.dataset.name)), ['console.flow', 'console.leaf']);
	await table.locator('a:has-text("console.flow")').click();
	await page.locator('#start-form').waitFor({ timeout: WAIT });
	assert.match(page.url(), /#\/workflows\/console\.flow$/);
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
