/*
 * dsl-task.c -- tasks: every Mistral direct/reverse task keyword, the
 * four forms of on-success/on-error/on-complete, policies, with-items,
 * and the merge of task-defaults into each task.
 *
 * Policy values are checked here, where their position is known:
 * counts are non-negative integers, delays non-negative numbers, flags
 * booleans, each unless written as an expression.
 */

#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl-int.h"

static const char *const dsl_task_keys[] = {
	"action", "workflow", "input", "publish", "publish-on-error",
	"on-success", "on-error", "on-complete", "join", "with-items",
	"concurrency", "retry", "timeout", "wait-before", "wait-after",
	"pause-before", "fail-on", "safe-rerun", "keep-result", "requires",
	"description", "tags", "target", "progress", "lock"
};
enum {
	TK_ACTION, TK_WORKFLOW, TK_INPUT, TK_PUBLISH, TK_PUBLISH_ON_ERROR,
	TK_ON_SUCCESS, TK_ON_ERROR, TK_ON_COMPLETE, TK_JOIN, TK_WITH_ITEMS,
	TK_CONCURRENCY, TK_RETRY, TK_TIMEOUT, TK_WAIT_BEFORE, TK_WAIT_AFTER,
	TK_PAUSE_BEFORE, TK_FAIL_ON, TK_SAFE_RERUN, TK_KEEP_RESULT,
	TK_REQUIRES, TK_DESCRIPTION, TK_TAGS, TK_TARGET, TK_PROGRESS, TK_LOCK
};

/* Keys task-defaults may hold (Mistral's list), by TK_ index. */
static const char dsl_default_ok[] = {
	[TK_ON_SUCCESS] = 1, [TK_ON_ERROR] = 1, [TK_ON_COMPLETE] = 1,
	[TK_CONCURRENCY] = 1, [TK_RETRY] = 1, [TK_TIMEOUT] = 1,
	[TK_WAIT_BEFORE] = 1, [TK_WAIT_AFTER] = 1, [TK_PAUSE_BEFORE] = 1,
	[TK_FAIL_ON] = 1, [TK_SAFE_RERUN] = 1, [TK_REQUIRES] = 1,
	[TK_LOCK] = 0		/* sizes the table to every key */
};

static const char *const dsl_retry_keys[] = {
	"count", "delay", "break-on", "continue-on"
};

static const char *const dsl_progress_keys[] = {
	"start", "success", "error"
};

static const char *const dsl_commands[] = {
	"fail", "succeed", "pause", "noop"
};

/* What a policy value must be when it is not an expression. */
enum dsl_pkind { P_COUNT, P_SECONDS, P_BOOL, P_ANY };

/* 1-based engine command index of a name, 0 for a task name. */
int
dsl_is_command(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(dsl_commands); i++) {
		if (strcmp(name, dsl_commands[i]) == 0)
			return ((int)i + 1);
	}
	return (0);
}

/* 1 if a JSON value is a string holding an expression. */
static int
dsl_is_expr(json_t *j)
{
	return (json_is_string(j) &&
	    strstr(json_string_value(j), "<%") != NULL);
}

/* Check a policy value; returns it, or NULL (reported, released). */
static json_t *
dsl_policy_check(struct dsl_pctx *ctx, const struct dsl_node *n, json_t *j,
    enum dsl_pkind kind)
{
	const char	*want = NULL;
	char		*txt;

	if (j == NULL || dsl_is_expr(j))
		return (j);
	switch (kind) {
	case P_COUNT:
		if (!json_is_integer(j) || json_integer_value(j) < 0)
			want = "a non-negative integer";
		break;
	case P_SECONDS:
		if (!json_is_number(j) || json_number_value(j) < 0)
			want = "a non-negative number of seconds";
		break;
	case P_BOOL:
		if (!json_is_boolean(j))
			want = "true or false";
		break;
	case P_ANY:
		break;
	}
	if (want == NULL)
		return (j);
	txt = json_dumps(j, JSON_ENCODE_ANY);
	dsl_perr(ctx, n, "expected %s or an expression, got %s", want,
	    txt != NULL ? txt : "?");
	free(txt);
	json_decref(j);
	return (NULL);
}

/* A scalar policy value. */
static json_t *
dsl_policy(struct dsl_pctx *ctx, struct dsl_node *n, enum dsl_pkind kind)
{
	if (n->type != DSL_NSCALAR) {
		dsl_perr(ctx, n, "expected a scalar or an expression");
		return (NULL);
	}
	return (dsl_policy_check(ctx, n, dsl_node_json(ctx, n), kind));
}

/* Append one transition target written as a string at node n. */
static void
dsl_next_add(struct dsl_pctx *ctx, struct dsl_trans *tr, struct dsl_node *n,
    struct dsl_node *condnode)
{
	struct dsl_next	 next;
	json_t		*params, *v;
	const char	*k;
	char		*name, *cause;
	size_t		 old;
	int		 cmd;

	if (n->type != DSL_NSCALAR || n->len == 0) {
		dsl_perr(ctx, n, "expected a task name or an engine command");
		return;
	}
	if (dsl_parse_inline(n->s, &name, &params, &cause) != 0) {
		dsl_perr(ctx, n, "%s", cause);
		free(cause);
		return;
	}
	memset(&next, 0, sizeof next);
	next.pos.file = ctx->wb->file;
	next.pos.line = n->line;
	next.pos.col = n->col;
	cmd = dsl_is_command(name);
	if (cmd == 0) {
		next.kind = DSL_NEXT_TASK;
		next.task = name;
		if (json_object_size(params) != 0)
			dsl_perr(ctx, n, "unexpected parameters after task "
			    "name '%s'", name);
	} else {
		next.kind = cmd == 1 ? DSL_NEXT_FAIL : cmd == 2 ?
		    DSL_NEXT_SUCCEED : cmd == 3 ? DSL_NEXT_PAUSE : DSL_NEXT_NOOP;
		json_object_foreach(params, k, v) {
			if (strcmp(k, "msg") == 0 && cmd != 4) {
				next.msg = json_incref(v);
				dsl_record_walk(ctx, v, n);
			} else
				dsl_perr(ctx, n, "unexpected parameter '%s' "
				    "for '%s'%s", k, name, cmd != 4 ?
				    " (expected msg)" : "");
		}
		free(name);
	}
	json_decref(params);
	if (condnode != NULL) {
		old = dsl_path_push(ctx, n->s);
		next.cond = dsl_node_json(ctx, condnode);
		dsl_path_pop(ctx, old);
	}
	tr->v = xreallocarray(tr->v, tr->n + 1, sizeof *tr->v);
	tr->v[tr->n++] = next;
}

/* Read the publish: part of an advanced transition. */
static void
dsl_trans_publish(struct dsl_pctx *ctx, struct dsl_node *n,
    struct dsl_trans *tr)
{
	static const char *const keys[] = { "branch", "global", "atomic" };
	struct dsl_node	*val;
	json_t		*j;
	size_t		 i, old;
	int		 idx;

	if (dsl_expect(ctx, n, DSL_NMAP) != 0)
		return;
	for (i = 0; i + 1 < n->n; i += 2) {
		if ((idx = dsl_key_find(ctx, n->v[i], keys,
		    nitems(keys))) == -1)
			continue;
		val = n->v[i + 1];
		old = dsl_path_push(ctx, keys[idx]);
		if (dsl_expect(ctx, val, DSL_NMAP) == 0) {
			j = dsl_node_json(ctx, val);
			if (idx == 0) {
				json_decref(tr->publish);
				tr->publish = j;
			} else if (idx == 1) {
				json_decref(tr->publish_global);
				tr->publish_global = j;
			} else	/* atomic: accepted, like Mistral, unused */
				json_decref(j);
		}
		dsl_path_pop(ctx, old);
	}
}

/*
 * Read on-success/on-error/on-complete in any of its forms: a name or
 * command, a list of names or {name: condition}, or the advanced
 * {publish: {branch, global}, next: ...}.
 */
static void
dsl_trans_parse(struct dsl_pctx *ctx, struct dsl_node *n,
    struct dsl_trans *tr, int advanced)
{
	static const char *const keys[] = { "publish", "next" };
	struct dsl_node	*e;
	size_t		 i, old;
	int		 idx;

	tr->set = 1;
	switch (n->type) {
	case DSL_NSCALAR:
		dsl_next_add(ctx, tr, n, NULL);
		break;
	case DSL_NSEQ:
		for (i = 0; i < n->n; i++) {
			e = n->v[i];
			old = dsl_path_pushi(ctx, i);
			if (e->type == DSL_NSCALAR)
				dsl_next_add(ctx, tr, e, NULL);
			else if (e->type == DSL_NMAP && e->n == 2 &&
			    e->v[0]->type == DSL_NSCALAR)
				dsl_next_add(ctx, tr, e->v[0], e->v[1]);
			else
				dsl_perr(ctx, e, "expected a task name or "
				    "{name: condition}");
			dsl_path_pop(ctx, old);
		}
		break;
	case DSL_NMAP:
		if (!advanced) {
			dsl_perr(ctx, n, "expected a task name or a list");
			break;
		}
		if (dsl_map_get(n, "publish") == NULL &&
		    dsl_map_get(n, "next") == NULL) {
			dsl_perr(ctx, n, "expected a task name, a list, or "
			    "{publish: ..., next: ...}");
			break;
		}
		for (i = 0; i + 1 < n->n; i += 2) {
			if ((idx = dsl_key_find(ctx, n->v[i], keys,
			    nitems(keys))) == -1)
				continue;
			old = dsl_path_push(ctx, keys[idx]);
			if (idx == 0)
				dsl_trans_publish(ctx, n->v[i + 1], tr);
			else
				dsl_trans_parse(ctx, n->v[i + 1], tr, 0);
			dsl_path_pop(ctx, old);
		}
		break;
	}
}

/* Free a transition clause. */
static void
dsl_trans_clear(struct dsl_trans *tr)
{
	size_t	i;

	for (i = 0; i < tr->n; i++) {
		free(tr->v[i].task);
		json_decref(tr->v[i].cond);
		json_decref(tr->v[i].msg);
	}
	free(tr->v);
	json_decref(tr->publish);
	json_decref(tr->publish_global);
	memset(tr, 0, sizeof *tr);
}

/* Copy a default clause into a task, without targets naming the task. */
static void
dsl_trans_copy(struct dsl_trans *dst, const struct dsl_trans *src,
    const char *self)
{
	struct dsl_next	*e;
	size_t		 i;

	dst->set = 1;
	dst->v = xreallocarray(NULL, src->n + 1, sizeof *dst->v);
	for (i = 0; i < src->n; i++) {
		if (src->v[i].kind == DSL_NEXT_TASK &&
		    strcmp(src->v[i].task, self) == 0)
			continue;
		e = &dst->v[dst->n++];
		*e = src->v[i];
		if (e->task != NULL)
			e->task = xstrdup(e->task);
		json_incref(e->cond);
		json_incref(e->msg);
	}
	dst->publish = json_incref(src->publish);
	dst->publish_global = json_incref(src->publish_global);
}

/* Read with-items: "x in <% _.list %>", "x in [1, 2]", or a list. */
static void
dsl_items_parse(struct dsl_pctx *ctx, struct dsl_node *n,
    struct dsl_task *t)
{
	struct dsl_node	*e;
	const char	*p, *v;
	json_t		*list;
	char		*var, *rest;
	size_t		 i, j, cnt, old, vl;

	if (n->type == DSL_NSCALAR)
		cnt = 1;
	else if (n->type == DSL_NSEQ && n->n > 0)
		cnt = n->n;
	else {
		dsl_perr(ctx, n, "expected 'VAR in <%% expression %%>' or a "
		    "list of them");
		return;
	}
	t->items = xcalloc(cnt, sizeof *t->items);
	for (i = 0; i < cnt; i++) {
		e = n->type == DSL_NSCALAR ? n : n->v[i];
		old = n->type == DSL_NSCALAR ? ctx->path.len :
		    dsl_path_pushi(ctx, i);
		if (e->type != DSL_NSCALAR)
			goto bad;
		p = e->s;
		while (isspace((unsigned char)*p))
			p++;
		v = p;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		vl = (size_t)(p - v);
		if (vl == 0 || !isspace((unsigned char)*p))
			goto bad;
		while (isspace((unsigned char)*p))
			p++;
		if (strncmp(p, "in", 2) != 0 || !isspace((unsigned char)p[2]))
			goto bad;
		p += 2;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			goto bad;
		rest = xstrdup(p);
		for (j = strlen(rest); j > 0 &&
		    isspace((unsigned char)rest[j - 1]); j--)
			rest[j - 1] = '\0';
		if (strstr(rest, "<%") != NULL) {
			list = json_string(rest);
			dsl_record_expr(ctx, list, e);
		} else {
			list = json_loads(rest, JSON_DECODE_ANY, NULL);
			if (!json_is_array(list)) {
				json_decref(list);
				dsl_perr(ctx, e, "with-items list must be an "
				    "expression or a JSON list, got '%s'", rest);
				free(rest);
				dsl_path_pop(ctx, old);
				continue;
			}
		}
		free(rest);
		var = xstrndup(v, vl);
		for (j = 0; j < t->nitems; j++) {
			if (strcmp(t->items[j].var, var) == 0)
				break;
		}
		if (j < t->nitems) {
			dsl_perr(ctx, e, "with-items variable '%s' is used "
			    "twice", var);
			free(var);
			json_decref(list);
		} else {
			t->items[t->nitems].var = var;
			t->items[t->nitems].list = list;
			t->nitems++;
		}
		dsl_path_pop(ctx, old);
		continue;
bad:
		dsl_perr(ctx, e, "expected 'VAR in <%% expression %%>' or "
		    "'VAR in [...]'%s%s%s", e->type == DSL_NSCALAR ?
		    ", got '" : "", e->type == DSL_NSCALAR ? e->s : "",
		    e->type == DSL_NSCALAR ? "'" : "");
		dsl_path_pop(ctx, old);
	}
}

/* Store one retry setting (key index into dsl_retry_keys). */
static void
dsl_retry_set(struct dsl_pctx *ctx, struct dsl_task *t, int idx,
    const struct dsl_node *n, json_t *j)
{
	json_t	**slot;

	switch (idx) {
	case 0:
		slot = &t->retry_count;
		j = dsl_policy_check(ctx, n, j, P_COUNT);
		break;
	case 1:
		slot = &t->retry_delay;
		j = dsl_policy_check(ctx, n, j, P_SECONDS);
		break;
	case 2:
		slot = &t->retry_break_on;
		break;
	default:
		slot = &t->retry_continue_on;
		break;
	}
	if (j == NULL)
		return;
	json_decref(*slot);
	*slot = j;
}

/* Read retry: {count, delay, break-on, continue-on} or "count=3 delay=1". */
static void
dsl_retry_parse(struct dsl_pctx *ctx, struct dsl_node *n, struct dsl_task *t)
{
	struct dsl_node	*val;
	json_t		*obj, *v;
	const char	*k, *near;
	char		*cause;
	size_t		 i, old;
	int		 idx, seen[4] = { 0, 0, 0, 0 }, unknown = 0;

	if (n->type == DSL_NMAP) {
		for (i = 0; i + 1 < n->n; i += 2) {
			if ((idx = dsl_key_find(ctx, n->v[i], dsl_retry_keys,
			    nitems(dsl_retry_keys))) == -1) {
				unknown = 1;
				continue;
			}
			seen[idx] = 1;
			val = n->v[i + 1];
			old = dsl_path_push(ctx, dsl_retry_keys[idx]);
			if (val->type != DSL_NSCALAR)
				dsl_perr(ctx, val, "expected a scalar or an "
				    "expression");
			else
				dsl_retry_set(ctx, t, idx, val,
				    dsl_node_json(ctx, val));
			dsl_path_pop(ctx, old);
		}
	} else if (n->type == DSL_NSCALAR) {
		obj = json_object();
		if (dsl_inline_params(n->s, obj, &cause) != 0) {
			dsl_perr(ctx, n, "%s", cause);
			free(cause);
			json_decref(obj);
			return;
		}
		json_object_foreach(obj, k, v) {
			for (idx = 0; idx < (int)nitems(dsl_retry_keys); idx++) {
				if (strcmp(k, dsl_retry_keys[idx]) == 0)
					break;
			}
			if (idx == (int)nitems(dsl_retry_keys)) {
				near = lib_closest(k, dsl_retry_keys,
				    nitems(dsl_retry_keys));
				if (near != NULL)
					dsl_perr(ctx, n, "unknown retry "
					    "parameter '%s' (did you mean "
					    "'%s'?)", k, near);
				else
					dsl_perr(ctx, n, "unknown retry "
					    "parameter '%s'", k);
				unknown = 1;
				continue;
			}
			seen[idx] = 1;
			dsl_record_walk(ctx, v, n);
			dsl_retry_set(ctx, t, idx, n, json_incref(v));
		}
		json_decref(obj);
	} else {
		dsl_perr(ctx, n, "expected a mapping or \"count=N delay=N\"");
		return;
	}
	/* A misspelt key was reported already: no "missing" echo of it. */
	if (unknown)
		return;
	if (!seen[0])
		dsl_perr(ctx, n, "missing required key 'count'");
	if (!seen[1])
		dsl_perr(ctx, n, "missing required key 'delay'");
}

/* Read progress: {start, success, error}. */
static json_t *
dsl_progress_parse(struct dsl_pctx *ctx, struct dsl_node *n)
{
	json_t	*obj;
	size_t	 i, old;
	int	 idx;

	if (dsl_expect(ctx, n, DSL_NMAP) != 0)
		return (NULL);
	obj = json_object();
	for (i = 0; i + 1 < n->n; i += 2) {
		if ((idx = dsl_key_find(ctx, n->v[i], dsl_progress_keys,
		    nitems(dsl_progress_keys))) == -1)
			continue;
		old = dsl_path_push(ctx, dsl_progress_keys[idx]);
		json_object_set_new(obj, dsl_progress_keys[idx],
		    dsl_node_json(ctx, n->v[i + 1]));
		dsl_path_pop(ctx, old);
	}
	return (obj);
}

/* Read "join: all | one | N". */
static void
dsl_join_parse(struct dsl_pctx *ctx, struct dsl_node *n, struct dsl_task *t)
{
	json_t	*j;

	if (n->type == DSL_NSCALAR && strcmp(n->s, "all") == 0) {
		t->join = DSL_JOIN_ALL;
		return;
	}
	if (n->type == DSL_NSCALAR && strcmp(n->s, "one") == 0) {
		t->join = DSL_JOIN_N;
		t->join_n = 1;
		return;
	}
	if (n->type == DSL_NSCALAR) {
		j = dsl_scalar_json(n->s, n->len, n->plain);
		if (json_is_integer(j) && json_integer_value(j) >= 1 &&
		    json_integer_value(j) <= 1000000) {
			t->join = DSL_JOIN_N;
			t->join_n = (int)json_integer_value(j);
			json_decref(j);
			return;
		}
		json_decref(j);
	}
	dsl_perr(ctx, n, "expected 'all', 'one' or a positive integer%s%s%s",
	    n->type == DSL_NSCALAR ? ", got '" : "",
	    n->type == DSL_NSCALAR ? n->s : "",
	    n->type == DSL_NSCALAR ? "'" : "");
}

/* Read a task's (or task-defaults') mapping into t. */
static void
dsl_task_parse(struct dsl_pctx *ctx, struct dsl_task *t,
    struct dsl_task_pos *tp, struct dsl_node *n, int defaults)
{
	struct dsl_node	*val, *key, *anode = NULL, *wnode = NULL;
	struct dsl_node	*inode = NULL;
	json_t		*inl = NULL, *j;
	char		*s, *name, *cause, **tags;
	size_t		 i, old, ntags;
	int		 idx;

	if (n->type == DSL_NSCALAR && n->plain && n->len == 0)
		goto out;	/* "t1:" alone: a std.noop task */
	if (dsl_expect(ctx, n, DSL_NMAP) != 0)
		goto out;
	for (i = 0; i + 1 < n->n; i += 2) {
		key = n->v[i];
		val = n->v[i + 1];
		idx = dsl_key_find(ctx, key, dsl_task_keys,
		    nitems(dsl_task_keys));
		if (idx == -1)
			continue;
		old = dsl_path_push(ctx, key->s);
		if (defaults && (idx >= (int)sizeof dsl_default_ok ||
		    !dsl_default_ok[idx])) {
			dsl_perr(ctx, key, "'%s' is not allowed in "
			    "task-defaults", key->s);
			goto next;
		}
		if (ctx->wftype == DSL_WF_REVERSE && (idx == TK_ON_SUCCESS ||
		    idx == TK_ON_ERROR || idx == TK_ON_COMPLETE ||
		    idx == TK_JOIN)) {
			dsl_perr(ctx, key, "'%s' is only allowed in direct "
			    "workflows", key->s);
			goto next;
		}
		if (ctx->wftype == DSL_WF_DIRECT && idx == TK_REQUIRES) {
			dsl_perr(ctx, key, "'requires' is only allowed in "
			    "reverse workflows");
			goto next;
		}
		switch (idx) {
		case TK_ACTION:
		case TK_WORKFLOW:
			if (idx == TK_ACTION)
				anode = val;
			else
				wnode = val;
			tp->action.file = ctx->wb->file;
			tp->action.line = val->line;
			tp->action.col = val->col;
			if ((s = dsl_node_str(ctx, val)) == NULL)
				break;
			if (dsl_parse_inline(s, &name, &j, &cause) != 0) {
				dsl_perr(ctx, val, "%s", cause);
				free(cause);
				free(s);
				break;
			}
			free(s);
			dsl_record_walk(ctx, j, val);
			if (idx == TK_ACTION) {
				free(t->action);
				t->action = name;
			} else {
				free(t->workflow);
				t->workflow = name;
			}
			json_decref(inl);
			inl = j;
			break;
		case TK_INPUT:
			inode = val;
			j = dsl_node_json(ctx, val);
			if (json_is_object(j) || dsl_is_expr(j)) {
				json_decref(t->input);
				t->input = j;
			} else {
				dsl_perr(ctx, val, "expected a mapping or an "
				    "expression");
				json_decref(j);
			}
			break;
		case TK_PUBLISH:
		case TK_PUBLISH_ON_ERROR:
			if (dsl_expect(ctx, val, DSL_NMAP) != 0)
				break;
			j = dsl_node_json(ctx, val);
			if (idx == TK_PUBLISH) {
				json_decref(t->publish);
				t->publish = j;
			} else {
				json_decref(t->publish_on_error);
				t->publish_on_error = j;
			}
			break;
		case TK_ON_SUCCESS:
			dsl_trans_parse(ctx, val, &t->on_success, 1);
			break;
		case TK_ON_ERROR:
			dsl_trans_parse(ctx, val, &t->on_error, 1);
			break;
		case TK_ON_COMPLETE:
			dsl_trans_parse(ctx, val, &t->on_complete, 1);
			break;
		case TK_JOIN:
			tp->join.file = ctx->wb->file;
			tp->join.line = val->line;
			tp->join.col = val->col;
			dsl_join_parse(ctx, val, t);
			break;
		case TK_WITH_ITEMS:
			dsl_items_parse(ctx, val, t);
			break;
		case TK_CONCURRENCY:
			t->concurrency = dsl_policy(ctx, val, P_COUNT);
			break;
		case TK_RETRY:
			dsl_retry_parse(ctx, val, t);
			break;
		case TK_TIMEOUT:
			t->timeout = dsl_policy(ctx, val, P_SECONDS);
			break;
		case TK_WAIT_BEFORE:
			t->wait_before = dsl_policy(ctx, val, P_SECONDS);
			break;
		case TK_WAIT_AFTER:
			t->wait_after = dsl_policy(ctx, val, P_SECONDS);
			break;
		case TK_PAUSE_BEFORE:
			t->pause_before = dsl_policy(ctx, val, P_BOOL);
			break;
		case TK_FAIL_ON:
			t->fail_on = dsl_policy(ctx, val, P_ANY);
			break;
		case TK_SAFE_RERUN:
			t->safe_rerun = dsl_policy(ctx, val, P_BOOL);
			break;
		case TK_KEEP_RESULT:
			t->keep_result = dsl_policy(ctx, val, P_BOOL);
			break;
		case TK_REQUIRES:
			tp->requires.file = ctx->wb->file;
			tp->requires.line = val->line;
			tp->requires.col = val->col;
			dsl_strv_free(t->requires, t->nrequires);
			t->requires = dsl_node_strlist(ctx, val, &t->nrequires);
			break;
		case TK_DESCRIPTION:
			if ((s = dsl_node_str(ctx, val)) != NULL) {
				free(t->description);
				t->description = s;
			}
			break;
		case TK_TAGS:
			tags = dsl_node_strlist(ctx, val, &ntags);
			dsl_strv_free(tags, ntags);
			break;
		case TK_TARGET:	/* Mistral executor routing: accepted */
			json_decref(dsl_node_json(ctx, val));
			break;
		case TK_PROGRESS:
			json_decref(t->progress);
			t->progress = dsl_progress_parse(ctx, val);
			break;
		case TK_LOCK:
			if (val->type != DSL_NSCALAR || dsl_node_null(val))
				dsl_perr(ctx, val, "expected a lock name or an "
				    "expression");
			else {
				json_decref(t->lock);
				t->lock = dsl_node_json(ctx, val);
			}
			break;
		}
next:
		dsl_path_pop(ctx, old);
	}

	if (anode != NULL && wnode != NULL) {
		old = dsl_path_push(ctx, "workflow");
		dsl_perr(ctx, wnode, "'action' and 'workflow' cannot both be "
		    "set");
		dsl_path_pop(ctx, old);
	}
	if (inl != NULL && json_object_size(inl) != 0) {
		if (t->input != NULL && json_is_string(t->input)) {
			old = dsl_path_push(ctx, "input");
			dsl_perr(ctx, inode, "an input expression cannot be "
			    "combined with inline parameters");
			dsl_path_pop(ctx, old);
		} else if (t->input != NULL)
			json_object_update_missing(t->input, inl);
		else
			t->input = json_incref(inl);
	}
	json_decref(inl);
out:
	if (!defaults && t->input == NULL)
		t->input = json_object();
}

/* Fill what a task did not write from task-defaults. */
static void
dsl_task_defaults(struct dsl_task *t, const struct dsl_task *d)
{
	size_t	i;

#define DSL_DEFAULT(f) do {						\
	if (t->f == NULL && d->f != NULL)				\
		t->f = json_incref(d->f);				\
} while (0)
	if (t->retry_count == NULL && t->retry_delay == NULL &&
	    t->retry_break_on == NULL && t->retry_continue_on == NULL) {
		DSL_DEFAULT(retry_count);
		DSL_DEFAULT(retry_delay);
		DSL_DEFAULT(retry_break_on);
		DSL_DEFAULT(retry_continue_on);
	}
	DSL_DEFAULT(timeout);
	DSL_DEFAULT(wait_before);
	DSL_DEFAULT(wait_after);
	DSL_DEFAULT(pause_before);
	DSL_DEFAULT(concurrency);
	DSL_DEFAULT(fail_on);
	DSL_DEFAULT(safe_rerun);
#undef DSL_DEFAULT
	if (!t->on_success.set && d->on_success.set)
		dsl_trans_copy(&t->on_success, &d->on_success, t->name);
	if (!t->on_error.set && d->on_error.set)
		dsl_trans_copy(&t->on_error, &d->on_error, t->name);
	if (!t->on_complete.set && d->on_complete.set)
		dsl_trans_copy(&t->on_complete, &d->on_complete, t->name);
	if (t->nrequires == 0 && d->nrequires != 0) {
		t->requires = xreallocarray(NULL, d->nrequires,
		    sizeof *t->requires);
		for (i = 0; i < d->nrequires; i++) {
			if (strcmp(d->requires[i], t->name) != 0)
				t->requires[t->nrequires++] =
				    xstrdup(d->requires[i]);
		}
	}
}

/* Read a workflow's tasks, merging task-defaults into each. */
void
dsl_tasks_parse(struct dsl_pctx *ctx, struct dsl_workflow *wf,
    struct dsl_task_pos **tposp, struct dsl_node *tasks,
    struct dsl_node *defaults)
{
	struct dsl_task		 d, *t;
	struct dsl_task_pos	 dpos, *tp;
	struct dsl_node		*k;
	size_t			 i, old, old2;

	memset(&d, 0, sizeof d);
	memset(&dpos, 0, sizeof dpos);
	d.name = xstrdup("");
	if (defaults != NULL) {
		old = dsl_path_push(ctx, "task-defaults");
		if (!(defaults->type == DSL_NSCALAR && defaults->plain &&
		    defaults->len == 0))
			dsl_task_parse(ctx, &d, &dpos, defaults, 1);
		dsl_path_pop(ctx, old);
	}

	old = dsl_path_push(ctx, "tasks");
	if (dsl_expect(ctx, tasks, DSL_NMAP) != 0)
		goto out;
	if (tasks->n == 0) {
		dsl_perr(ctx, tasks, "a workflow needs at least one task");
		goto out;
	}
	wf->tasks = xcalloc(tasks->n / 2 + 1, sizeof *wf->tasks);
	*tposp = xcalloc(tasks->n / 2 + 1, sizeof **tposp);
	for (i = 0; i + 1 < tasks->n; i += 2) {
		k = tasks->v[i];
		if (k->type != DSL_NSCALAR || k->dup) {
			dsl_key_find(ctx, k, NULL, 0);
			continue;
		}
		old2 = dsl_path_push(ctx, k->s);
		t = &wf->tasks[wf->ntasks];
		tp = &(*tposp)[wf->ntasks];
		wf->ntasks++;
		t->name = xstrdup(k->s);
		t->pos.file = ctx->wb->file;
		t->pos.line = k->line;
		t->pos.col = k->col;
		t->path = xstrdup(ctx->path.data);
		tp->action = t->pos;
		tp->join = t->pos;
		tp->requires = t->pos;
		if (!dsl_name_valid(k->s, 0))
			dsl_perr(ctx, k, "invalid task name '%s' (expected "
			    "letters, digits and _)", k->s);
		else if (dsl_is_command(k->s))
			dsl_perr(ctx, k, "task name '%s' is reserved for an "
			    "engine command", k->s);
		else if (strlen(k->s) > 255)
			dsl_perr(ctx, k, "task name is longer than 255 "
			    "characters");
		dsl_task_parse(ctx, t, tp, tasks->v[i + 1], 0);
		dsl_task_defaults(t, &d);
		dsl_path_pop(ctx, old2);
	}
out:
	dsl_path_pop(ctx, old);
	dsl_task_clear(&d);
}

/* Free what a task owns (not the task itself). */
void
dsl_task_clear(struct dsl_task *t)
{
	size_t	i;

	free(t->name);
	free(t->path);
	free(t->description);
	free(t->action);
	free(t->workflow);
	json_decref(t->input);
	json_decref(t->publish);
	json_decref(t->publish_on_error);
	dsl_trans_clear(&t->on_success);
	dsl_trans_clear(&t->on_error);
	dsl_trans_clear(&t->on_complete);
	for (i = 0; i < t->nitems; i++) {
		free(t->items[i].var);
		json_decref(t->items[i].list);
	}
	free(t->items);
	json_decref(t->concurrency);
	json_decref(t->retry_count);
	json_decref(t->retry_delay);
	json_decref(t->retry_break_on);
	json_decref(t->retry_continue_on);
	json_decref(t->timeout);
	json_decref(t->wait_before);
	json_decref(t->wait_after);
	json_decref(t->pause_before);
	json_decref(t->fail_on);
	json_decref(t->safe_rerun);
	json_decref(t->keep_result);
	dsl_strv_free(t->requires, t->nrequires);
	json_decref(t->progress);
	json_decref(t->lock);
	memset(t, 0, sizeof *t);
}
