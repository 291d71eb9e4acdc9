// execution.js -- one execution: its header (state, input, output,
// pause / resume / cancel), the whole planned graph of its workflow
// with the tasks' states, and a task panel (published values, result,
// state_info, action executions, progress events, re-run).  Updates
// arrive live from the stream of this execution and its sub-workflows.

import { h, clear, setKids, when, duration, stateBadge, jsonBlock, debounce }
    from '../dom.js';
import { get, put, qs } from '../api.js';
import { subscribe } from '../live.js';
import { GraphView } from '../graph.js';

const MAX_ROWS = 200;
const QUIET = 10000;

// The alarm that started execution e (params.alarm), or null.
function startedBy(e) {
	let p = e.params;
	if (typeof p === 'string') {
		try {
			p = JSON.parse(p);
		} catch (x) {
			p = null;
		}
	}
	const a = p && p.alarm;
	if (a && typeof a.id === 'string')
		return a;
	return e.alarm_id ? { id: e.alarm_id } : null;
}

// #/executions/ID[/TASK]: TASK, when given, is selected at once.
export async function render(root, args, ctx) {
	const id = args[0];
	let model = null, selected = null;
	const head = h('section', { class: 'card exec-head', id: 'exec-head' });
	const gbox = h('section', { class: 'gbox' });
	const panel = h('aside', { class: 'panel', id: 'task-panel' },
	    h('p', { class: 'muted' }, 'Select a task to see its details.'));
	root.append(head, h('div', { class: 'exec-body' }, gbox, panel));

	const gv = new GraphView(gbox, {
		onSelect: (m, node, t) => {
			selected = { model: m, node };
			showTask();
		},
		onToggle: (m, node) => toggle(m, node).catch(report),
	});

	function report(e) {
		ctx.setStatus(String(e.message || e), 'error');
	}

	async function loadModel(execId) {
		const g = await get(`/v2/executions/${encodeURIComponent(execId)}/graph`);
		return { graph: g, tasks: g.tasks || {}, execution: g.execution,
		    open: {} };
	}

	// Open a sub-workflow in place (its latest execution, or its plan).
	async function toggle(m, node) {
		if (m.open[node.id]) {
			delete m.open[node.id];
			gv.setModel(model);
			return;
		}
		const t = m.tasks[node.id];
		const kids = t && t.executions;
		let sub;
		if (kids && kids.length)
			sub = await loadModel(kids[kids.length - 1].id);
		else {
			const g = await get(`/v2/workflows/${encodeURIComponent(node.workflow)}/graph`);
			sub = { graph: g, tasks: {}, execution: null, open: {} };
		}
		m.open[node.id] = sub;
		gv.setModel(model);
	}

	// Reload every model shown (after a reset), keeping what is open.
	async function reloadAll() {
		const again = async (old) => {
			const m = old.execution ? await loadModel(old.execution.id) : old;
			for (const [k, sub] of Object.entries(old.open || {})) {
				const t = m.tasks[k];
				const kids = t && t.executions;
				if (!sub.execution && kids && kids.length)
					m.open[k] = await loadModel(kids[kids.length - 1].id);
				else
					m.open[k] = await again(sub);
			}
			return m;
		};
		model = await again(model);
		drawHead();
		gv.setModel(model);
		showTask();
	}

	function button(label, state, cls) {
		return h('button', { type: 'button', class: cls, id: 'btn-' +
		    label.toLowerCase(), onclick: async (ev) => {
			ev.target.disabled = true;
			try {
				const e = await put(`/v2/executions/${id}`, { state });
				Object.assign(model.execution, e);
				drawHead();
			} catch (e) {
				report(e);
				ev.target.disabled = false;
			}
		} }, label);
	}

	function drawHead() {
		const e = model.execution;
		const st = e.state;
		const alarm = startedBy(e);
		setKids(head,
		    h('div', { class: 'row' },
			h('h1', {}, h('a', { href: '#/workflows/' +
			    encodeURIComponent(e.workflow_name) }, e.workflow_name)),
			h('span', { id: 'exec-state', dataset: { state: st } },
			    stateBadge(st)),
			h('span', { class: 'spacer' }),
			st === 'RUNNING' ? button('Pause', 'PAUSED') : null,
			st === 'PAUSED' ? button('Resume', 'RUNNING') : null,
			/RUNNING|PAUSED|IDLE/.test(st) ?
			    button('Cancel', 'CANCELLED', 'danger') : null),
		    h('dl', { class: 'facts' },
			h('dt', {}, 'Execution'), h('dd', { class: 'mono' }, e.id),
			h('dt', {}, 'Created'), h('dd', {}, when(e.created_at)),
			h('dt', {}, 'Updated'), h('dd', {}, when(e.updated_at)),
			h('dt', {}, 'Duration'), h('dd', {}, duration(e.created_at,
			    /RUNNING|PAUSED|IDLE/.test(st) ? null : e.updated_at)),
			e.task_execution_id ? [h('dt', {}, 'Parent'), h('dd', {},
			    h('a', { href: '#/executions/' + e.root_execution_id },
				'root execution'))] : null,
			alarm ? [h('dt', {}, 'Alarm'), h('dd', { id: 'exec-alarm' },
			    h('a', { href: '#/alarms/' + encodeURIComponent(alarm.id) },
				alarm.id.slice(0, 8)), ` from ${alarm.source || '?'}` +
			    (alarm.trigger ? `, trigger ${alarm.trigger}` : '') +
			    (alarm.key ? `, key ${alarm.key}` : ''))] : null,
			e.description ? [h('dt', {}, 'Description'),
			    h('dd', {}, e.description)] : null,
			model.graph.definition ? [h('dt', {}, 'Definition'),
			    h('dd', {}, `${model.graph.definition.name} v` +
				model.graph.definition.version)] : null),
		    e.state_info ? h('pre', { class: 'state-info' }, e.state_info) :
			null,
		    h('div', { class: 'io' }, jsonBlock('Input', e.input),
			e.output !== undefined ? jsonBlock('Output', e.output) : null));
	}

	// The task panel of the selected node.
	async function showTask() {
		if (!selected)
			return;
		const m = selected.model;
		const node = selected.node;
		const t = m.tasks && m.tasks[node.id];
		const my = selected;
		clear(panel).append(h('h2', {}, node.name),
		    h('p', {}, node.kind === 'command' ? 'Engine command: ' +
			node.name : node.type === 'workflow' ? 'Sub-workflow ' +
			node.workflow : 'Action ' + node.action));
		if (node.kind === 'command')
			return;
		if (!t) {
			panel.append(h('p', { class: 'muted' },
			    'Not started in this execution.'));
			return;
		}
		const facts = h('dl', { class: 'facts' },
		    h('dt', {}, 'State'), h('dd', {}, stateBadge(t.state)),
		    h('dt', {}, 'Started'), h('dd', {}, when(t.started_at)),
		    h('dt', {}, 'Duration'), h('dd', {}, duration(t.started_at,
			t.finished_at)),
		    h('dt', {}, 'Retries'), h('dd', {}, String(t.retry_no || 0)),
		    t.runs > 1 ? [h('dt', {}, 'Runs'), h('dd', {}, String(t.runs))] :
			null,
		    t.items ? [h('dt', {}, 'Items'), h('dd', {},
			`${t.items.done} done, ${t.items.failed} failed, ` +
			`${t.items.running} running of ${t.items.total}`)] : null);
		panel.append(facts);
		if (t.state_info)
			panel.append(h('pre', { class: 'state-info' }, t.state_info));
		if (t.state === 'ERROR') {
			const rerun = (reset) => async (ev) => {
				ev.target.disabled = true;
				try {
					await put(`/v2/tasks/${t.id}`, { state: 'RUNNING', reset });
				} catch (e) {
					report(e);
				}
			};
			panel.append(h('div', { class: 'row' },
			    h('button', { type: 'button', id: 'btn-rerun',
				onclick: rerun(true) }, 'Re-run task'),
			    node.with_items ? h('button', { type: 'button',
				onclick: rerun(false) }, 'Re-run failed items') : null));
		}
		if (t.executions && t.executions.length)
			panel.append(h('p', {}, 'Sub-workflow: ', t.executions.map((c) =>
			    h('a', { href: '#/executions/' + c.id }, c.id.slice(0, 8) +
				' ' + c.state + ' '))));
		const [task, acts, evs] = await Promise.all([
			get(`/v2/tasks/${t.id}`),
			get(`/v2/tasks/${t.id}/action_executions` + qs({ limit: MAX_ROWS })),
			get(`/v2/executions/${t.workflow_execution_id}/events`),
		]);
		if (selected !== my)
			return;
		const actions = (acts.action_executions || []).sort((a, b) =>
		    a.attempt - b.attempt || (a.item ?? 0) - (b.item ?? 0));
		const lastAct = actions[actions.length - 1];
		if (lastAct)
			panel.append(jsonBlock(lastAct.item === undefined ? 'Input' :
			    `Input (item ${lastAct.item})`, lastAct.input));
		panel.append(jsonBlock('Published', task.published),
		    jsonBlock('Result', task.result));
		panel.append(h('h3', {}, 'Action executions'), actions.length ?
		    h('table', { class: 'list small', id: 'action-executions' },
			h('tr', {}, ['Action', 'Attempt', 'Item', 'State', 'State info']
			    .map((x) => h('th', {}, x))),
			actions.map((a) => h('tr', {}, h('td', {}, a.name),
			    h('td', {}, a.attempt), h('td', {}, a.item ?? ''),
			    h('td', {}, stateBadge(a.state)),
			    h('td', { class: 'info' }, a.state_info || '')))) :
		    h('p', { class: 'muted' }, 'None.'));
		if (actions.length >= MAX_ROWS)
			panel.append(h('p', { class: 'muted' },
			    `The first ${MAX_ROWS} are shown.`));
		// Progress events, as Masakari's per-task tables.
		let list = (evs.events || []).filter((x) => x.task_id === t.id);
		const more = list.length > MAX_ROWS;
		if (more)
			list = list.slice(-MAX_ROWS);
		panel.append(h('h3', {}, 'Progress'), h('table',
		    { class: 'list small', id: 'task-events' },
		    h('tr', {}, ['Request ID', 'Action', 'Start Time', 'Progress',
			'Message'].map((x) => h('th', {}, x))),
		    list.map((x) => h('tr', { class: 'lvl-' + x.level },
			h('td', { class: 'mono' }, x.request_id || ''),
			h('td', {}, x.task_name),
			h('td', {}, when(x.time)),
			h('td', {}, x.progress === null ? '' :
			    Math.round(x.progress * 100) + '%'),
			h('td', {}, x.message)))));
		if (more)
			panel.append(h('p', { class: 'muted' },
			    `The last ${MAX_ROWS} events are shown.`));
	}

	model = await loadModel(id);
	drawHead();
	gv.setModel(model);
	const pre = args[1] && gv.els.get(args[1]);
	if (pre) {
		gv.select(args[1]);
		selected = { model, node: pre.node };
		showTask().catch(report);
	}

	// Another borad on the same PostgreSQL may run this execution; its
	// transitions do not reach this daemon's stream: after QUIET ms
	// without an event, read the graph again.
	const ready = await fetch('/readyz', { cache: 'no-store' })
	    .then((r) => r.json()).catch(() => ({}));
	let lastEvent = Date.now();
	const quiet = ready.backend === 'postgresql' ? setInterval(() => {
		if (/RUNNING|PAUSED|IDLE/.test(model.execution.state) &&
		    Date.now() - lastEvent > QUIET) {
			lastEvent = Date.now();
			reloadAll().catch(report);
		}
	}, 1000) : null;

	const refreshTask = debounce(() => showTask().catch(report), 400);
	const needReload = debounce(() => reloadAll().catch(report), 300);
	const close = subscribe({ execution_id: model.execution.root_execution_id ||
	    id }, {
		status: (st) => ctx.setStatus(st, st),
		hello: () => {},
		execution: (e) => {
			lastEvent = Date.now();
			if (e.id === id) {
				Object.assign(model.execution, e);
				drawHead();
			}
			const m = gv.models.get(e.id);
			if (m && m !== model) {
				Object.assign(m.execution, e);
				gv.setModel(model);
			}
		},
		task: (t) => {
			lastEvent = Date.now();
			const known = gv.models.has(t.workflow_execution_id);
			if (!known)
				return;
			const m = gv.models.get(t.workflow_execution_id);
			const before = m.tasks[t.name];
			gv.updateTask(t.workflow_execution_id, t);
			// A sub-workflow task that started a child: learn its id;
			// a with-items task that ended: its last counts.
			if (t.type === 'WORKFLOW' && (!before || before.id !== t.id ||
			    !(before.executions || []).length))
				needReload();
			else if (t.items_total !== undefined &&
			    !/RUNNING|DELAYED|WAITING|IDLE/.test(t.state))
				needReload();
			if (selected && selected.model === m &&
			    selected.node.id === t.name)
				refreshTask();
		},
		items: (x) => {
			gv.updateItems(x.workflow_execution_id, x.name, x.items);
			if (selected && selected.node.id === x.name)
				refreshTask();
		},
		reset: needReload,
	});
	return () => {
		close();
		clearInterval(quiet);
	};
}

