// views.js -- the console's views: one line each, one module each.
// A module exports render(root, args, ctx) and may return a function
// that stops it (closes its streams) when the user leaves the view.
// #/NAME opens module with args []; #/NAME/ARG1/... opens item (or
// module when there is none) with args [ARG1, ...].
// Alarms and user messages get their line (and module) when the API
// has them.

export const views = [
	{ name: 'executions', title: 'Executions', module: './views/executions.js',
	  item: './views/execution.js' },
	{ name: 'workflows', title: 'Workflows', module: './views/workflows.js' },
	{ name: 'workbooks', title: 'Workbooks', module: './views/workbooks.js' },
];

export const home = 'executions';
