// task.js -- #/tasks/ID: a task's page is its execution's, with the
// task selected (what a message about a task links to).

import { get } from '../api.js';

export async function render(root, args) {
	if (!args[0]) {
		location.replace('#/executions');
		return;
	}
	const t = await get('/v2/tasks/' + encodeURIComponent(args[0]));
	location.replace('#/executions/' +
	    encodeURIComponent(t.workflow_execution_id) + '/' +
	    encodeURIComponent(t.name));
}
