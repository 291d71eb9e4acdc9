/*
 * cli-watch.c -- "bora execution watch": follow an execution live as a
 * tree of its tasks (and of the tasks of its sub-workflows) with state
 * symbols and durations, until it ends.
 *
 * On a terminal the tree is redrawn in place with ANSI cursor movement
 * and cut to the terminal width; otherwise (a pipe, a log file) each
 * change of state is appended as one line, so the output reads as a
 * log of the execution.
 */
#include "config.h"

#include <sys/ioctl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/lib.h"
#include "cli/cli.h"
#include "cli/cli-int.h"

#define CLI_WATCH_DEPTH	4	/* sub-workflow levels shown */

/*
 * One watch.  seen maps a task or execution id to the last state
 * reported (appending mode); lines counts the lines of the last tree
 * drawn (terminal mode), so the next one can be drawn over it.
 */
struct cli_watch {
	int		 tty;
	int		 cols;
	json_t		*seen;
	struct buf	 tree;
	int		 lines;
};

static int	 cli_watch_tasks(struct cli_watch *, const char *,
		     const char *, const char *, int);
static void	 cli_watch_line(struct cli_watch *, const char *,
		     const char *, json_t *, const char *, size_t);
static void	 cli_watch_report(struct cli_watch *, const char *,
		     json_t *);
static void	 cli_watch_draw(struct cli_watch *);

/* Add one line of the tree: prefix, symbol, name, state, duration. */
static void
cli_watch_line(struct cli_watch *w, const char *prefix, const char *name,
    json_t *row, const char *extra, size_t pad)
{
	const char	*state, *info;
	char		 d[32];

	state = json_string_value(json_object_get(row, "state"));
	info = json_string_value(json_object_get(row, "state_info"));
	cli_row_duration(row, d, sizeof d);
	buf_printf(&w->tree, "%s%s %s%*s  %-9s %5s", prefix,
	    cli_state_symbol(state), name,
	    (int)(pad > cli_strwidth(name) ? pad - cli_strwidth(name) : 0), "",
	    state != NULL ? state : "?", d);
	if (extra != NULL)
		buf_printf(&w->tree, "  %s", extra);
	if (info != NULL && *info != '\0' &&
	    (state == NULL || strcmp(state, "SUCCESS") != 0))
		buf_printf(&w->tree, "  %s", info);
	buf_puts(&w->tree, "\n");
}

/* In appending mode, print row's state if it changed since last time. */
static void
cli_watch_report(struct cli_watch *w, const char *path, json_t *row)
{
	const char	*id, *state, *info, *last;
	struct tm	*tm;
	time_t		 now;
	char		 d[32], hms[16];

	if (w->tty)
		return;
	id = json_string_value(json_object_get(row, "id"));
	state = json_string_value(json_object_get(row, "state"));
	if (id == NULL || state == NULL)
		return;
	last = json_string_value(json_object_get(w->seen, id));
	if (last != NULL && strcmp(last, state) == 0)
		return;
	json_object_set_new(w->seen, id, json_string(state));

	now = time(NULL);
	tm = localtime(&now);
	strftime(hms, sizeof hms, "%H:%M:%S", tm);
	info = json_string_value(json_object_get(row, "state_info"));
	d[0] = '\0';
	if (cli_state_final(state))
		cli_row_duration(row, d, sizeof d);
	printf("%s %s %s %s%s%s%s%s\n", hms, cli_state_symbol(state), path,
	    state, d[0] != '\0' ? " in " : "", d,
	    info != NULL && *info != '\0' ? ": " : "",
	    info != NULL ? info : "");
	fflush(stdout);
}

/*
 * Add the tasks of execution id under prefix to the tree, and those of
 * their sub-workflows below them.  path names the execution in
 * appending mode ("wf" or "wf/task").  Returns 0 or an exit status.
 */
static int
cli_watch_tasks(struct cli_watch *w, const char *id, const char *prefix,
    const char *path, int depth)
{
	const char	*branch, *last, *pipe, *space, *name, *type, *tid;
	json_t		*v = NULL, *tasks, *t, *cv = NULL, *children, *c;
	size_t		 i, j, pad = 0, n;
	char		*e, *url, *sub, *subpath, *label;
	int		 rc, final, utf8 = cli_utf8();

	branch = utf8 ? "\xe2\x94\x9c\xe2\x94\x80 " : "|- ";	/* ├─ */
	last = utf8 ? "\xe2\x94\x94\xe2\x94\x80 " : "`- ";	/* └─ */
	pipe = utf8 ? "\xe2\x94\x82  " : "|  ";			/* │ */
	space = "   ";

	e = cli_http_escape(id);
	xasprintf(&url, "/v2/executions/%s/tasks?sort_keys=created_at&"
	    "sort_dirs=asc", e);
	free(e);
	rc = cli_http("GET", url, NULL, NULL, &v);
	free(url);
	if (rc != CLI_EXIT_OK)
		return (rc);
	tasks = json_is_array(v) ? v : json_object_get(v, "tasks");
	json_array_foreach(tasks, i, t) {
		name = json_string_value(json_object_get(t, "name"));
		if (name != NULL && cli_strwidth(name) > pad)
			pad = cli_strwidth(name);
	}
	n = json_array_size(tasks);
	json_array_foreach(tasks, i, t) {
		name = json_string_value(json_object_get(t, "name"));
		if (name == NULL)
			name = "?";
		xasprintf(&subpath, "%s/%s", path, name);
		xasprintf(&label, "%s%s", prefix, i + 1 == n ? last : branch);
		cli_watch_line(w, label, name, t, NULL, pad);
		free(label);

		type = json_string_value(json_object_get(t, "type"));
		tid = json_string_value(json_object_get(t, "id"));
		if (type == NULL || strcmp(type, "WORKFLOW") != 0 ||
		    tid == NULL || depth >= CLI_WATCH_DEPTH) {
			cli_watch_report(w, subpath, t);
			free(subpath);
			continue;
		}
		/* A sub-workflow's end comes after the ends of its tasks. */
		final = cli_state_final(json_string_value(json_object_get(t,
		    "state")));
		if (!final)
			cli_watch_report(w, subpath, t);

		/* A sub-workflow: its executions and their tasks. */
		xasprintf(&sub, "%s%s", prefix, i + 1 == n ? space : pipe);
		e = cli_http_escape(tid);
		xasprintf(&url, "/v2/executions?task_execution_id=%s&"
		    "sort_keys=created_at&sort_dirs=asc", e);
		free(e);
		rc = cli_http("GET", url, NULL, NULL, &cv);
		free(url);
		children = json_is_array(cv) ? cv :
		    json_object_get(cv, "executions");
		json_array_foreach(children, j, c) {
			if (rc != CLI_EXIT_OK)
				break;
			if ((tid = json_string_value(json_object_get(c,
			    "id"))) == NULL)
				continue;
			rc = cli_watch_tasks(w, tid, sub, subpath, depth + 1);
		}
		json_decref(cv);
		cv = NULL;
		if (final)
			cli_watch_report(w, subpath, t);
		free(sub);
		free(subpath);
		if (rc != CLI_EXIT_OK)
			break;
	}
	json_decref(v);
	return (rc);
}

/* Draw the tree over the previous one, cut to the terminal width. */
static void
cli_watch_draw(struct cli_watch *w)
{
	char		*p, *nl;
	size_t		 n, width;
	int		 lines = 0;

	if (w->lines > 0)
		printf("\r\033[%dA\033[J", w->lines);
	for (p = w->tree.data; p != NULL && *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = '\0';
		width = 0;
		for (n = 0; p[n] != '\0'; n++) {
			if (((unsigned char)p[n] & 0xc0) != 0x80 &&
			    (int)++width >= w->cols)
				break;
		}
		printf("%.*s\n", (int)n, p);
		*nl = '\n';
		lines++;
	}
	fflush(stdout);
	w->lines = lines;
}

/* Follow execution id until it ends; exit status as with --wait. */
int
cli_watch(const char *id, double interval)
{
	struct cli_watch	 w;
	struct winsize		 ws;
	struct timespec		 ts;
	json_t			*x = NULL;
	const char		*state, *name, *xid;
	char			*e, *url, *extra;
	int			 rc;

	memset(&w, 0, sizeof w);
	w.tty = isatty(STDOUT_FILENO);
	w.cols = 80;
	if (w.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		w.cols = ws.ws_col;
	w.seen = json_object();
	buf_init(&w.tree, 0);

	e = cli_http_escape(id);
	xasprintf(&url, "/v2/executions/%s", e);
	free(e);
	for (;;) {
		json_decref(x);
		if ((rc = cli_http("GET", url, NULL, NULL, &x)) != CLI_EXIT_OK)
			break;
		state = json_string_value(json_object_get(x, "state"));
		name = json_string_value(json_object_get(x, "workflow_name"));
		xid = json_string_value(json_object_get(x, "id"));
		if (name == NULL)
			name = "?";
		if (xid == NULL)
			xid = id;

		buf_reset(&w.tree);
		xasprintf(&extra, "(%s)", xid);
		cli_watch_line(&w, "", name, x, extra, 0);
		free(extra);
		/* Appending: a final state comes after the tasks' last ones. */
		if (!cli_state_final(state))
			cli_watch_report(&w, name, x);
		if ((rc = cli_watch_tasks(&w, xid, "", name, 0)) != CLI_EXIT_OK)
			break;
		if (cli_state_final(state))
			cli_watch_report(&w, name, x);
		if (w.tty)
			cli_watch_draw(&w);
		if (cli_state_final(state)) {
			rc = cli_state_exit(state);
			break;
		}
		ts.tv_sec = (time_t)interval;
		ts.tv_nsec = (long)((interval - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	json_decref(x);
	free(url);
	buf_free(&w.tree);
	json_decref(w.seen);
	return (rc);
}
