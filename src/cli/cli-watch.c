/*
 * cli-watch.c -- "bora execution watch": follow an execution live as a
 * tree of its tasks (and of the tasks of its sub-workflows) with state
 * symbols and durations, until it ends.
 *
 * On a terminal the tree is redrawn in place with ANSI cursor movement
 * and cut to the terminal width, with the last event under it;
 * otherwise (a pipe, a log file) each event of the execution and of its
 * sub-workflows is appended as one line stamped with the time it
 * happened (not the time it was seen), in the order they happened, so
 * the output reads as a log of the execution.
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
 * One watch.  lastev maps an execution id to the id of its last event
 * seen; events collects the new events of one poll, across the
 * execution and its sub-workflows, as {t, id, line}, so they can be
 * printed in the order they happened.  lines counts the lines of the
 * last tree drawn (terminal mode), so the next one can be drawn over
 * it, under which comes last, the latest event.
 */
struct cli_watch {
	int		 tty;
	int		 cols;
	json_t		*lastev;
	json_t		*events;
	char		*last;
	struct buf	 tree;
	int		 lines;
};

static int	 cli_watch_tasks(struct cli_watch *, const char *,
		     const char *, const char *, int);
static void	 cli_watch_line(struct cli_watch *, const char *,
		     const char *, json_t *, const char *, size_t);
static int	 cli_watch_events(struct cli_watch *, const char *,
		     const char *);
static int	 cli_watch_event_cmp(const void *, const void *);
static void	 cli_watch_flush(struct cli_watch *);
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

/*
 * Collect the events of execution id not seen yet, each as a line
 * "HH:MM:SS.mmm path[/task] message" in local time.  path names the
 * execution ("wf", or "wf/task" for a sub-workflow).
 */
static int
cli_watch_events(struct cli_watch *w, const char *id, const char *path)
{
	json_t		*v = NULL, *rows, *row, *ev;
	json_int_t	 last, eid, t;
	const char	*task, *msg, *level;
	struct tm	 tm;
	time_t		 sec;
	char		*url, *line, hms[16];
	size_t		 i;
	int		 rc;

	url = cli_http_path("executions", id, "/events");
	rc = cli_http("GET", url, NULL, NULL, &v);
	free(url);
	if (rc != CLI_EXIT_OK)
		return (rc);
	last = json_integer_value(json_object_get(w->lastev, id));
	rows = json_is_array(v) ? v : json_object_get(v, "events");
	json_array_foreach(rows, i, row) {
		eid = json_integer_value(json_object_get(row, "id"));
		if (eid <= last)
			continue;
		last = eid;
		t = json_integer_value(json_object_get(row, "time_ms"));
		sec = (time_t)(t / 1000);
		localtime_r(&sec, &tm);
		strftime(hms, sizeof hms, "%H:%M:%S", &tm);
		task = json_string_value(json_object_get(row, "task_name"));
		msg = json_string_value(json_object_get(row, "message"));
		level = json_string_value(json_object_get(row, "level"));
		xasprintf(&line, "%s.%03d %s%s%s  %s%s%s%s", hms,
		    (int)(t % 1000), path, task != NULL ? "/" : "",
		    task != NULL ? task : "", level != NULL &&
		    strcmp(level, "info") != 0 ? "[" : "", level != NULL &&
		    strcmp(level, "info") != 0 ? level : "", level != NULL &&
		    strcmp(level, "info") != 0 ? "] " : "",
		    msg != NULL ? msg : "");
		ev = json_pack("{s:I, s:I, s:s}", "t", t, "id", eid, "line",
		    line);
		if (ev != NULL)
			json_array_append_new(w->events, ev);
		free(line);
	}
	json_object_set_new(w->lastev, id, json_integer(last));
	json_decref(v);
	return (CLI_EXIT_OK);
}

/* Events in the order they happened: time, then id. */
static int
cli_watch_event_cmp(const void *a, const void *b)
{
	json_t		*x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t	 tx, ty;

	tx = json_integer_value(json_object_get(x, "t"));
	ty = json_integer_value(json_object_get(y, "t"));
	if (tx != ty)
		return (tx < ty ? -1 : 1);
	tx = json_integer_value(json_object_get(x, "id"));
	ty = json_integer_value(json_object_get(y, "id"));
	return (tx < ty ? -1 : tx > ty);
}

/*
 * The new events of a poll, in order: appended as lines (no terminal),
 * or the latest kept to show under the tree.
 */
static void
cli_watch_flush(struct cli_watch *w)
{
	json_t	**ev;
	size_t	  n, i;

	n = json_array_size(w->events);
	if (n == 0)
		return;
	ev = xcalloc(n, sizeof *ev);
	for (i = 0; i < n; i++)
		ev[i] = json_array_get(w->events, i);
	qsort(ev, n, sizeof *ev, cli_watch_event_cmp);
	for (i = 0; i < n && !w->tty; i++)
		printf("%s\n", json_string_value(json_object_get(ev[i],
		    "line")));
	free(w->last);
	w->last = xstrdup(json_string_value(json_object_get(ev[n - 1],
	    "line")));
	free(ev);
	json_array_clear(w->events);
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
	int		 rc, utf8 = cli_utf8();

	branch = utf8 ? "\xe2\x94\x9c\xe2\x94\x80 " : "|- ";	/* ├─ */
	last = utf8 ? "\xe2\x94\x94\xe2\x94\x80 " : "`- ";	/* └─ */
	pipe = utf8 ? "\xe2\x94\x82  " : "|  ";			/* │ */
	space = "   ";

	url = cli_http_path("executions", id, CLI_TASKS_IN_ORDER);
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
			free(subpath);
			continue;
		}

		/* A sub-workflow: its executions, their events and tasks. */
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
			if ((rc = cli_watch_events(w, tid, subpath)) ==
			    CLI_EXIT_OK)
				rc = cli_watch_tasks(w, tid, sub, subpath,
				    depth + 1);
		}
		json_decref(cv);
		cv = NULL;
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
	char			*url, *extra;
	int			 rc;

	memset(&w, 0, sizeof w);
	w.tty = isatty(STDOUT_FILENO);
	w.cols = 80;
	if (w.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		w.cols = ws.ws_col;
	w.lastev = json_object();
	w.events = json_array();
	buf_init(&w.tree, 0);

	url = cli_http_path("executions", id, NULL);
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
		if ((rc = cli_watch_events(&w, xid, name)) != CLI_EXIT_OK ||
		    (rc = cli_watch_tasks(&w, xid, "", name, 0)) != CLI_EXIT_OK)
			break;
		cli_watch_flush(&w);
		if (w.tty) {
			if (w.last != NULL)
				buf_printf(&w.tree, "\n%s\n", w.last);
			cli_watch_draw(&w);
		}
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
	json_decref(w.lastev);
	json_decref(w.events);
	free(w.last);
	return (rc);
}
