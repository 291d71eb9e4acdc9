// views.js -- the console's views: one line each, one module each.
// A module exports render(root, args, ctx) and may return a function
// that stops it (closes its streams) when the user leaves the view.
// #/NAME opens module with args []; #/NAME/ARG1/... opens item (or
// module when there is none) with args [ARG1, ...].  A view with
// hidden set has no tab (others link to it).

export const views = [
	{ name: 'executions', title: 'Executions', module: './views/executions.js',
	  item: './views/execution.js' },
	{ name: 'workflows', title: 'Workflows', module: './views/workflows.js' },
	{ name: 'workbooks', title: 'Workbooks', module: './views/workbooks.js' },
	{ name: 'alarms', title: 'Alarms', module: './views/alarms.js' },
	{ name: 'messages', title: 'Messages', module: './views/messages.js' },
	{ name: 'tasks', title: 'Task', module: './views/task.js', hidden: true },
];

export const home = 'executions';
