/*
 * engine-alarms.c -- alarms that start recoveries: the triggers in force
 * and the decisions on stored alarms.
 *
 * The trigger set is rebuilt from the current definitions whenever one
 * is loaded, reloaded or deleted, and gets a new version; a decision
 * holds a reference to the set it started with.  Expressions run in the
 * calling thread's own sandbox (the loop's for the loop).
 *
 * Deciding a stored alarm is one transaction: its events, each
 * trigger's verdict, the executions it starts (their params carry the
 * alarm), the holds of (trigger, key) and the limit counters, and the
 * alarm marked decided, guarded by its being still undecided.  Whether
 * a start is a duplicate or over a limit is read first, then written by
 * guarded upserts: when another engine took the same key meanwhile, the
 * transaction fails as a whole and is decided again with what the store
 * now says.  So two engines receiving the same alarm at the same
 * instant start one execution, and an alarm is never decided twice.
 *
 * The HTTP thread that stored an alarm decides it at once; an alarm
 * stored but left undecided (a crash, the store gone between the two
 * commits) is decided by the loop later (engine_alarm_recover()).
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarms.h"
#include "engine/engine-int.h"
#include "msg/msg.h"

#define ALARM_ATTEMPTS		8	/* decisions retried on conflicts */
#define ALARM_RECOVER_MS	5000	/* how often the loop looks */
#define ALARM_RECOVER_AGE	10000	/* undecided for that long: lost */
#define ALARM_RECOVER_BATCH	64
#define ALARM_NONCE_REAP_MS	60000
#define ALARM_NVERDICTS		7

/* One version of the triggers in force, shared by its users. */
struct alarm_set {
	struct alarm_triggers	*ts;
	uint64_t		 version;
	int			 refs;
};

struct engine_alarms {
	pthread_mutex_t		 mtx;		/* guards set and refs */
	struct alarm_set	*set;
	uint64_t		 version;
	pthread_key_t		 sandbox;	/* each thread's expr */
	struct expr_limits	 lim;
	char			*lua_dir;
	_Atomic uint64_t	 verdicts[ALARM_NVERDICTS];
	struct store_group	*group;		/* the intake's commits */
	int64_t			 last_recover;
	int64_t			 last_reap;
};

/* What one decision becomes, beside its row. */
struct alarm_pick {
	struct alarm_decision	*d;
	struct store_alarm_decision row;
	int			 resolved;	/* its event is resolved */
	int			 final;		/* the verdict reached */
};

/* A hold or counter as this decision sees it: loaded or taken in it. */
struct alarm_seen {
	char		*id;
	char		*execution_id;
	int64_t		 until_at;
	int		 until_resolved;
	int64_t		 resolved_at;
	int64_t		 window_start;
	int64_t		 n;
	int		 cancelled;	/* its cancel is in this decision */
};

struct alarm_seens {
	struct alarm_seen	*v;
	size_t			 n;
};

static void
alarm_set_put(struct engine_alarms *a, struct alarm_set *s)
{
	int	last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&a->mtx);
	last = --s->refs == 0;
	pthread_mutex_unlock(&a->mtx);
	if (last) {
		alarm_triggers_free(s->ts);
		free(s);
	}
}

static struct alarm_set *
alarm_set_get(struct engine_alarms *a)
{
	struct alarm_set	*s;

	pthread_mutex_lock(&a->mtx);
	if ((s = a->set) != NULL)
		s->refs++;
	pthread_mutex_unlock(&a->mtx);
	return (s);
}

static void
alarm_sandbox_free(void *ex)
{
	expr_free(ex);
}

/* Set up the engine's alarm state (engine_open). */
void
engine_alarms_open(struct engine *e, const struct expr_limits *lim)
{
	struct engine_alarms	*a;

	a = xcalloc(1, sizeof *a);
	pthread_mutex_init(&a->mtx, NULL);
	if (pthread_key_create(&a->sandbox, alarm_sandbox_free) != 0)
		fatalx("%s: pthread_key_create", __func__);
	a->lim = *lim;
	a->group = store_group_create();
	a->lua_dir = e->cfg.lua_dir != NULL ? xstrdup(e->cfg.lua_dir) : NULL;
	e->alarms = a;
	e->defs_changed = engine_alarms_rebuild;
}

/* Free it (engine_close; no thread decides any more). */
void
engine_alarms_close(struct engine *e)
{
	struct engine_alarms	*a = e->alarms;
	struct expr		*ex;

	if (a == NULL)
		return;
	/* This thread's sandbox; other threads' went with them. */
	if ((ex = pthread_getspecific(a->sandbox)) != NULL) {
		pthread_setspecific(a->sandbox, NULL);
		expr_free(ex);
	}
	pthread_key_delete(a->sandbox);
	alarm_set_put(a, a->set);
	store_group_free(a->group);
	pthread_mutex_destroy(&a->mtx);
	free(a->lua_dir);
	free(a);
	e->alarms = NULL;
	e->defs_changed = NULL;
}

/*
 * Rebuild the triggers in force from the current definitions, as a new
 * version (e->api_mtx held).
 */
void
engine_alarms_rebuild(struct engine *e)
{
	struct engine_alarms	*a = e->alarms;
	struct alarm_set	*s, *old;
	size_t			 i;

	if (a == NULL)
		return;
	s = xcalloc(1, sizeof *s);
	s->ts = alarm_triggers_create();
	for (i = 0; i < e->ndefs; i++) {
		/* Actions files hold no triggers, parsed or not. */
		if (e->defs[i]->current && e->defs[i]->wb != NULL)
			alarm_triggers_add(s->ts, e->defs[i]->wb);
	}
	s->refs = 1;
	pthread_mutex_lock(&a->mtx);
	old = a->set;
	s->version = ++a->version;
	a->set = s;
	pthread_mutex_unlock(&a->mtx);
	if (old == NULL || alarm_triggers_count(old->ts) !=
	    alarm_triggers_count(s->ts) || alarm_triggers_count(s->ts) > 0)
		log_debug("alarms: %zu triggers in force (version %llu)",
		    alarm_triggers_count(s->ts),
		    (unsigned long long)s->version);
	alarm_set_put(a, old);
}

/* The sandbox of the calling thread: the loop's, or one of its own. */
static struct expr *
alarm_sandbox(struct engine *e, int loop, char **cause)
{
	struct engine_alarms	*a = e->alarms;
	struct expr		*ex;

	if (loop || e->cfg.in_process)
		return (e->ex);
	if ((ex = pthread_getspecific(a->sandbox)) != NULL)
		return (ex);
	if ((ex = expr_create_lazy(&a->lim, a->lua_dir, cause)) == NULL)
		return (NULL);
	pthread_setspecific(a->sandbox, ex);
	return (ex);
}

/* See engine.h. */
enum store_rc
engine_alarm_commit(struct engine *e, struct store *st, struct store_tx *tx)
{
	if (e->cfg.in_process)
		return (store_tx_commit(st, tx));
	return (store_group_commit(e->alarms->group, st, tx));
}

/* See engine.h. */
json_t *
engine_alarm_triggers(struct engine *e, uint64_t *version)
{
	struct alarm_set	*s;
	json_t			*arr;
	size_t			 i;

	arr = json_array();
	*version = 0;
	if ((s = alarm_set_get(e->alarms)) == NULL)
		return (arr);
	*version = s->version;
	for (i = 0; i < alarm_triggers_count(s->ts); i++)
		json_array_append_new(arr, alarm_trigger_json(s->ts, i));
	alarm_set_put(e->alarms, s);
	return (arr);
}

/* See engine.h. */
void
engine_alarm_counts(struct engine *e, uint64_t *out, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		out[i] = i < ALARM_NVERDICTS ? atomic_load_explicit(
		    &e->alarms->verdicts[i], memory_order_relaxed) : 0;
}

/* ---- reading a stored alarm --------------------------------------- */

/*
 * The events of a stored alarm, parsed again from its body and headers
 * (the limits were checked when it came).
 */
static struct alarm_batch *
alarm_reparse(const struct store_alarm *al, char **cause)
{
	struct alarm_request	 req;
	struct alarm_limits	 lim;
	struct alarm_header	*h;
	struct alarm_batch	*b = NULL;
	const char		*k;
	json_t			*v;
	size_t			 n = 0;

	if (al->body == NULL || al->encoding == NULL ||
	    strcmp(al->encoding, "text") != 0) {
		xasprintf(cause, "alarm %s has no text body", al->id);
		return (NULL);
	}
	h = xcalloc(json_object_size(al->headers) + 1, sizeof *h);
	json_object_foreach(al->headers, k, v) {
		if (json_is_string(v)) {
			h[n].name = k;
			h[n++].value = json_string_value(v);
		}
	}
	memset(&req, 0, sizeof req);
	req.body = al->body;
	req.len = strlen(al->body);
	req.headers = h;
	req.nheaders = n;
	memset(&lim, 0, sizeof lim);
	lim.max_body = req.len + 1;
	lim.max_depth = 10000;
	lim.max_events = (size_t)1 << 30;
	if (alarm_parse(al->source, &req, &lim, &b, cause) != ALARM_OK)
		b = NULL;
	free(h);
	return (b);
}

/* ---- deciding ------------------------------------------------------- */

static struct alarm_seen *
seen_find(struct alarm_seens *s, const char *id)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].id, id) == 0)
			return (&s->v[i]);
	}
	return (NULL);
}

static struct alarm_seen *
seen_add(struct alarm_seens *s, const char *id)
{
	struct alarm_seen	*x;

	if ((x = seen_find(s, id)) != NULL)
		return (x);
	s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
	x = &s->v[s->n++];
	memset(x, 0, sizeof *x);
	x->id = xstrdup(id);
	return (x);
}

static void
seens_free(struct alarm_seens *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].id);
		free(s->v[i].execution_id);
	}
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* Is a hold in force at now? */
static int
seen_held(const struct alarm_seen *h, int64_t now)
{
	if (h == NULL || h->execution_id == NULL)
		return (0);
	return ((h->until_resolved && h->resolved_at == 0) ||
	    h->until_at > now);
}

/*
 * Load the holds and counters the decisions need: holds of started,
 * cancelling and resolving decisions, counters of limited triggers.
 */
static enum store_rc
alarm_load_seen(struct store *st, struct alarm_pick *p, size_t np,
    struct alarm_seens *holds, struct alarm_seens *limits)
{
	struct store_alarm_hold		**h = NULL;
	struct store_alarm_limit	**l = NULL;
	struct alarm_seen		*x;
	char				**hid, **lid;
	size_t				 nh = 0, nl = 0, i, n;
	enum store_rc			 rc;

	hid = xcalloc(np + 1, sizeof *hid);
	lid = xcalloc(np + 1, sizeof *lid);
	for (i = 0; i < np; i++) {
		if (p[i].d->key == NULL)
			continue;
		if (p[i].d->verdict == ALARM_V_STARTED ||
		    p[i].d->verdict == ALARM_V_CANCELLED ||
		    (p[i].resolved && p[i].d->until_resolved))
			hid[nh++] = store_alarm_hold_id(p[i].d->name,
			    p[i].d->key);
		if (p[i].d->verdict == ALARM_V_STARTED &&
		    p[i].d->limit_count > 0)
			lid[nl++] = store_alarm_hold_id(p[i].d->name,
			    p[i].d->limit_by);
	}
	rc = store_alarm_holds_load(st, hid, nh, &h, &n);
	for (i = 0; rc == STORE_OK && i < n; i++) {
		x = seen_add(holds, h[i]->id);
		x->execution_id = xstrdup(h[i]->execution_id);
		x->until_at = h[i]->until_at;
		x->until_resolved = h[i]->until_resolved;
		x->resolved_at = h[i]->resolved_at;
		store_row_free(&store_alarm_hold_table, h[i]);
	}
	free(h);
	if (rc == STORE_OK)
		rc = store_alarm_limits_load(st, lid, nl, &l, &n);
	for (i = 0; rc == STORE_OK && i < n; i++) {
		x = seen_add(limits, l[i]->id);
		x->window_start = l[i]->window_start;
		x->until_at = l[i]->window_start + l[i]->window_ms;
		x->n = l[i]->n;
		store_row_free(&store_alarm_limit_table, l[i]);
	}
	free(l);
	for (i = 0; i < nh; i++)
		free(hid[i]);
	for (i = 0; i < nl; i++)
		free(lid[i]);
	free(hid);
	free(lid);
	return (rc);
}

/* A JSON string, or null for NULL. */
static json_t *
jstr(const char *s)
{
	return (s != NULL ? json_string(s) : json_null());
}

/* "2026-11-23 01:15:22" of ms. */
static void
alarm_time(int64_t ms, char *buf)
{
	time_format(ms, buf);
}

/*
 * Start an execution for a decision in tx: its row, the hold of its key
 * and its limit counter.  -1 with the reason in the row when the
 * workflow cannot start (it is gone, or its input is wrong).
 */
static int
alarm_start(struct engine *e, struct store *st, struct store_tx *tx,
    const struct store_alarm *al, const struct alarm_event *ev,
    struct alarm_pick *p, struct alarm_seens *holds,
    struct alarm_seens *limits, int64_t now, int dry, int *told)
{
	struct alarm_decision		*d = p->d;
	struct engine_start_opts	 o;
	struct store_exec		*row = NULL;
	struct store_alarm_hold		 h;
	struct store_alarm_limit	 l;
	struct alarm_seen		*x;
	char				*cause = NULL, *hid, *lid = NULL;
	json_t				*params;
	enum store_rc			 rc;

	memset(&o, 0, sizeof o);
	o.workflow = d->workflow != NULL ? d->workflow : "";
	o.input = d->input;
	params = json_pack("{s:{s:s, s:s, s:s, s:s}}", "alarm", "id", al->id,
	    "source", ev->source, "trigger", d->name, "key", d->key);
	o.params = params;
	o.request_id = al->request_id;
	xasprintf((char **)&o.description, "started by alarm %s (trigger %s)",
	    al->id, d->name);
	rc = engine_exec_prepare(e, st, &o, &row, &cause);
	json_decref(params);
	free((char *)o.description);
	if (rc != STORE_OK) {
		p->row.verdict = (char *)alarm_verdict_name(ALARM_V_FAILED);
		free(p->row.reason);
		xasprintf(&p->row.reason, "cannot start %s: %s", o.workflow,
		    cause != NULL ? cause : store_rc_name(rc));
		free(cause);
		return (-1);
	}
	hid = store_alarm_hold_id(d->name, d->key);
	/*
	 * Leased to this engine from the start: once committed, the loop
	 * loads it (engine_adopt()) without a claim of its own.
	 */
	if (!atomic_load(&e->stopping)) {
		row->owner = xstrdup(e->id);
		row->lease_until = now + e->cfg.lease_ms;
	}
	if (!dry) {
		store_tx_exec_insert(tx, row);
		/* Its start is told like any other's (notify). */
		if (engine_tell_row(e, tx, row, STATE_NONE, STATE_RUNNING) > 0)
			(*told)++;
	}
	memset(&h, 0, sizeof h);
	h.id = hid;
	h.trigger_name = (char *)d->name;
	h.key = d->key;
	h.execution_id = row->id;
	h.alarm_id = (char *)al->id;
	h.until_resolved = d->until_resolved;
	if (!dry)
		store_tx_alarm_hold(tx, &h, d->once_within_ms);
	x = seen_add(holds, hid);
	free(x->execution_id);
	x->execution_id = xstrdup(dry ? "(this alarm)" : row->id);
	x->until_at = d->once_within_ms > 0 ? now + d->once_within_ms : 0;
	x->until_resolved = d->until_resolved;
	x->resolved_at = 0;
	if (d->limit_count > 0) {
		lid = store_alarm_hold_id(d->name, d->limit_by);
		memset(&l, 0, sizeof l);
		l.id = lid;
		l.trigger_name = (char *)d->name;
		l.by_value = d->limit_by;
		l.window_ms = d->limit_window_ms;
		if (!dry)
			store_tx_alarm_limit(tx, &l, d->limit_count);
		x = seen_add(limits, lid);
		if (x->until_at <= now) {
			x->window_start = now;
			x->until_at = now + d->limit_window_ms;
			x->n = 0;
		}
		x->n++;
	}
	free(p->row.execution_id);
	p->row.execution_id = dry ? NULL : xstrdup(row->id);
	p->row.until_at = d->once_within_ms > 0 ? now + d->once_within_ms : 0;
	p->row.until_resolved = d->until_resolved;
	free(p->row.reason);
	if (dry)
		xasprintf(&p->row.reason, "would start %s", row->workflow_name);
	else
		xasprintf(&p->row.reason, "started %s as execution %s",
		    row->workflow_name, row->id);
	free(hid);
	free(lid);
	store_exec_free(row);
	return (0);
}

/*
 * Tell users that a trigger's limit turned an alarm away: one message
 * per trigger, limit.by value and window, in the change set of the
 * verdict (the store keeps it to the first of the window).
 */
static void
alarm_tell_limited(struct store_tx *tx, const struct store_alarm *al,
    const struct alarm_decision *d)
{
	struct store_message	 m;
	struct msg_about	 about;
	char			*lid, limit[32], window[32];

	memset(&about, 0, sizeof about);
	about.resource_uuid = d->name;
	about.request_id = al->request_id;
	snprintf(limit, sizeof limit, "%lld", (long long)d->limit_count);
	snprintf(window, sizeof window, "%lld s",
	    (long long)(d->limit_window_ms / 1000));
	if (msg_row(&m, MSG_TRIGGER_LIMIT, &about, "trigger", d->name,
	    "limit", limit, "window", window, "by", d->limit_by != NULL ?
	    d->limit_by : "*", "key", d->key, NULL) != 0)
		return;
	lid = store_alarm_hold_id(d->name, d->limit_by);
	store_tx_alarm_limit_message(tx, lid, &m);
	free(lid);
	free(m.message);
}

/* A started decision: duplicate, limited, or a start. */
static void
alarm_pick_start(struct engine *e, struct store *st, struct store_tx *tx,
    const struct store_alarm *al, const struct alarm_event *ev,
    struct alarm_pick *p, struct alarm_seens *holds,
    struct alarm_seens *limits, int64_t now, int dry, int *told)
{
	struct alarm_decision	*d = p->d;
	struct alarm_seen	*h, *l = NULL;
	char			*id, t[32], w[32];

	id = store_alarm_hold_id(d->name, d->key);
	h = seen_find(holds, id);
	free(id);
	if (seen_held(h, now)) {
		p->row.verdict = (char *)alarm_verdict_name(ALARM_V_DUPLICATE);
		p->row.execution_id = xstrdup(h->execution_id);
		p->row.until_at = h->until_at > now ? h->until_at : 0;
		p->row.until_resolved = h->until_resolved &&
		    h->resolved_at == 0;
		free(p->row.reason);
		if (p->row.until_resolved && p->row.until_at > 0) {
			alarm_time(p->row.until_at, t);
			xasprintf(&p->row.reason, "duplicate of execution %s, "
			    "held until resolved and at least %s", h->execution_id, t);
		} else if (p->row.until_resolved)
			xasprintf(&p->row.reason, "duplicate of execution %s, "
			    "held until resolved", h->execution_id);
		else {
			alarm_time(p->row.until_at, t);
			xasprintf(&p->row.reason, "duplicate of execution %s, "
			    "held until %s", h->execution_id, t);
		}
		return;
	}
	if (d->limit_count > 0) {
		id = store_alarm_hold_id(d->name, d->limit_by);
		l = seen_find(limits, id);
		free(id);
	}
	if (l != NULL && l->until_at > now && l->n >= d->limit_count) {
		p->row.verdict = (char *)alarm_verdict_name(ALARM_V_LIMITED);
		free(p->row.reason);
		alarm_time(l->window_start, w);
		alarm_time(l->until_at, t);
		xasprintf(&p->row.reason, "limit of %lld executions per %lld s%s"
		    "%s reached (window %s to %s)", (long long)d->limit_count,
		    (long long)(d->limit_window_ms / 1000), d->limit_by != NULL ?
		    " for " : "", d->limit_by != NULL ? d->limit_by : "", w, t);
		if (!dry)
			alarm_tell_limited(tx, al, d);
		return;
	}
	(void)alarm_start(e, st, tx, al, ev, p, holds, limits, now, dry,
	    told);
}

/* A cancelling decision: the key's execution, if it still runs. */
static void
alarm_pick_cancel(struct store *st, struct store_tx *tx,
    struct alarm_pick *p, struct alarm_seens *holds, int dry, int *poke)
{
	struct alarm_decision	*d = p->d;
	struct alarm_seen	*h;
	struct store_exec	*ex = NULL;
	struct store_work	 w;
	char			*id;

	id = store_alarm_hold_id(d->name, d->key);
	h = seen_find(holds, id);
	free(id);
	free(p->row.reason);
	p->row.reason = NULL;
	if (h == NULL || h->execution_id == NULL) {
		p->row.verdict = (char *)alarm_verdict_name(
		    ALARM_V_RESOLVED_IGNORED);
		xasprintf(&p->row.reason, "resolved: no execution was "
		    "started for key %s, nothing to cancel", d->key);
		return;
	}
	p->row.execution_id = xstrdup(h->execution_id);
	/* One that cannot be read now is asked to cancel all the same. */
	if (store_exec_load(st, h->execution_id, &ex) == STORE_NOTFOUND ||
	    (ex != NULL && STATE_FINAL(store_state_parse(ex->state)))) {
		p->row.verdict = (char *)alarm_verdict_name(
		    ALARM_V_RESOLVED_IGNORED);
		xasprintf(&p->row.reason, "resolved: execution %s %s%s%s, "
		    "nothing to cancel", h->execution_id, ex != NULL ?
		    "already ended (" : "is gone", ex != NULL ? ex->state : "",
		    ex != NULL ? ")" : "");
		store_exec_free(ex);
		return;
	}
	store_exec_free(ex);
	xasprintf(&p->row.reason, "resolved: %s execution %s",
	    dry ? "would cancel" : "cancels", h->execution_id);
	if (dry || h->cancelled)
		return;
	h->cancelled = 1;
	(*poke)++;
	memset(&w, 0, sizeof w);
	snprintf(w.execution_id, UUID_STRLEN, "%s", h->execution_id);
	w.kind = (char *)WK_STATE;
	w.due_at = time_now_ms();
	w.payload = json_pack("{s:s, s:s}", "state", ST_CANCELLED,
	    "state_info", "cancelled: its alarm was resolved");
	store_tx_work_insert(tx, &w);
	json_decref(w.payload);
}

/* A decision as the answer shows it. */
static json_t *
alarm_pick_json(const struct alarm_pick *p)
{
	json_t	*o;
	char	 t[32];

	o = json_pack("{s:s, s:s, s:o, s:o, s:o}", "trigger",
	    p->row.trigger_name, "verdict", p->row.verdict,
	    "workflow", jstr(p->row.workflow),
	    "execution_id", jstr(p->row.execution_id),
	    "reason", jstr(p->row.reason));
	if (p->row.until_resolved)
		json_object_set_new(o, "until", json_string("resolved"));
	else if (p->row.until_at > 0) {
		alarm_time(p->row.until_at, t);
		json_object_set_new(o, "until", json_string(t));
	}
	if (strcmp(p->row.verdict, "started") == 0 && p->row.input != NULL)
		json_object_set(o, "input", p->row.input);
	return (o);
}

/* " started duplicate ": each verdict reached, once. */
static char *
alarm_verdicts_text(const struct alarm_pick *p, size_t np)
{
	struct buf	 b;
	size_t		 i;
	char		 w[32];

	buf_init(&b, 0);
	buf_puts(&b, " ");
	for (i = 0; i < np; i++) {
		snprintf(w, sizeof w, " %s ", p[i].row.verdict);
		if (strstr(b.data, w) == NULL)
			buf_printf(&b, "%s ", p[i].row.verdict);
	}
	return (buf_take(&b));
}

/* Free the rows of the picks. */
static void
alarm_picks_clear(struct alarm_pick *p, size_t np)
{
	size_t	i;

	for (i = 0; i < np; i++) {
		free(p[i].row.id);
		free(p[i].row.execution_id);
		free(p[i].row.reason);
		p[i].row.id = p[i].row.execution_id = p[i].row.reason = NULL;
	}
}

/*
 * One attempt at deciding: read the holds and counters, pick each
 * verdict, and write everything in one change set (or, dry, only
 * say).  *events gets the answer.
 */
static enum store_rc
alarm_decide_once(struct engine *e, struct store *st,
    const struct store_alarm *al, const struct alarm_batch *b,
    struct alarm_pick *p, size_t np, const size_t *first, uint64_t version,
    int dry, int loop, json_t **events, int *wake, int *told)
{
	struct alarm_seens		 holds, limits;
	struct store_tx			*tx;
	struct store_alarm_event	 er;
	struct store_alarm		 up;
	const struct alarm_event	*ev;
	json_t				*arr, *o, *vs;
	char				*hid;
	size_t				 i, k;
	int64_t				 now;
	enum store_rc			 rc;

	memset(&holds, 0, sizeof holds);
	memset(&limits, 0, sizeof limits);
	*wake = 0;
	*told = 0;
	if ((rc = alarm_load_seen(st, p, np, &holds, &limits)) != STORE_OK) {
		seens_free(&holds);
		seens_free(&limits);
		return (rc);
	}
	now = store_now(st);
	tx = store_tx_create();
	arr = json_array();
	for (i = 0; i < b->n; i++) {
		ev = &b->v[i];
		memset(&er, 0, sizeof er);
		xasprintf(&er.id, "%s/%zu", al->id, i);
		memcpy(er.alarm_id, al->id, UUID_STRLEN);
		er.seq = (int64_t)i;
		er.source = (char *)ev->source;
		er.key = ev->key;
		er.status = (char *)alarm_status_name(ev->status);
		er.name = ev->name;
		er.severity = ev->severity;
		er.resource_kind = (char *)alarm_res_kind_name(ev->res_kind);
		er.resource_id = ev->res_id;
		er.resource_host = ev->res_host;
		er.labels = ev->labels;
		er.annotations = ev->annotations;
		er.starts_at = ev->starts_at;
		if (!dry)
			store_tx_insert(tx, &store_alarm_event_table, &er);
		free(er.id);
		vs = json_array();
		for (k = first[i]; k < first[i + 1]; k++) {
			switch (p[k].d->verdict) {
			case ALARM_V_STARTED:
				alarm_pick_start(e, st, tx, al, ev, &p[k],
				    &holds, &limits, now, dry, told);
				break;
			case ALARM_V_CANCELLED:
				alarm_pick_cancel(st, tx, &p[k], &holds, dry,
				    wake);
				break;
			default:
				break;
			}
			if (strcmp(p[k].row.verdict, "started") == 0)
				(*wake)++;	/* the loop has work */
			if (p[k].resolved && p[k].d->until_resolved &&
			    p[k].d->key != NULL) {
				hid = store_alarm_hold_id(p[k].d->name,
				    p[k].d->key);
				if (!dry)
					store_tx_alarm_release(tx, hid);
				free(hid);
			}
			p[k].final = alarm_verdict_find(p[k].row.verdict);
			xasprintf(&p[k].row.id, "%s/%zu/%lld", al->id, i,
			    (long long)p[k].row.ord);
			if (!dry)
				store_tx_insert(tx,
				    &store_alarm_decision_table, &p[k].row);
			json_array_append_new(vs, alarm_pick_json(&p[k]));
		}
		o = json_pack("{s:s, s:s, s:o, s:o}", "key", ev->key, "status",
		    alarm_status_name(ev->status), "name",
		    jstr(ev->name), "verdicts", vs);
		json_array_append_new(arr, o);
	}
	memset(&up, 0, sizeof up);
	memcpy(up.id, al->id, UUID_STRLEN);
	up.state = (char *)ST_ALARM_DECIDED;
	up.verdicts = alarm_verdicts_text(p, np);
	up.triggers_version = (int64_t)version;
	up.decided_at = now;
	store_tx_update(tx, &store_alarm_table, &up, SF_STATE |
	    SF_ALARM_DECIDED, ST_ALARM_RECEIVED);
	free(up.verdicts);
	rc = dry ? STORE_OK : loop ? store_tx_commit(st, tx) :
	    store_group_commit(e->alarms->group, st, tx);
	store_tx_free(tx);
	seens_free(&holds);
	seens_free(&limits);
	if (rc == STORE_OK)
		*events = arr;
	else
		json_decref(arr);
	return (rc);
}

/* See engine.h. */
enum store_rc
engine_alarm_decide(struct engine *e, struct store *st,
    const struct store_alarm *al, const struct alarm_batch *batch, int dry,
    json_t **events, char **cause)
{
	return (engine_alarm_decide_in(e, st, al, batch, dry, 0, events,
	    cause));
}

/* Hand the executions the answer says were started to the loop. */
static void
alarm_adopt(struct engine *e, json_t *events)
{
	json_t		*ev, *d;
	const char	*x;
	size_t		 i, k;

	json_array_foreach(events, i, ev) {
		json_array_foreach(json_object_get(ev, "verdicts"), k, d) {
			x = json_string_value(json_object_get(d,
			    "execution_id"));
			if (x != NULL && strcmp(json_string_value(
			    json_object_get(d, "verdict")), "started") == 0)
				engine_adopt(e, x);
		}
	}
}

/* The same, from the loop (its sandbox) or another thread. */
enum store_rc
engine_alarm_decide_in(struct engine *e, struct store *st,
    const struct store_alarm *al, const struct alarm_batch *batch, int dry,
    int loop, json_t **events, char **cause)
{
	struct alarm_batch	*own = NULL;
	struct alarm_set	*set;
	struct alarm_decision	**dv;
	struct alarm_pick	*p = NULL;
	struct store_alarm	*cur = NULL;
	struct expr		*ex;
	size_t			*nd, *first, np = 0, i, k;
	int			 attempt, wake = 0, told = 0, v;
	enum store_rc		 rc = STORE_ERROR;

	*events = NULL;
	*cause = NULL;
	if (batch == NULL && (batch = own = alarm_reparse(al, cause)) == NULL)
		return (STORE_ERROR);
	if ((ex = alarm_sandbox(e, loop, cause)) == NULL) {
		alarm_batch_free(own);
		return (STORE_ERROR);
	}
	set = alarm_set_get(e->alarms);
	dv = xcalloc(batch->n + 1, sizeof *dv);
	nd = xcalloc(batch->n + 1, sizeof *nd);
	first = xcalloc(batch->n + 1, sizeof *first);
	for (i = 0; i < batch->n; i++) {
		nd[i] = set != NULL ? alarm_match(set->ts, ex, &batch->v[i],
		    &dv[i]) : 0;
		np += nd[i];
	}
	p = xcalloc(np + 1, sizeof *p);
	for (i = 0, np = 0; i < batch->n; i++) {
		first[i] = np;
		for (k = 0; k < nd[i]; k++, np++) {
			p[np].d = &dv[i][k];
			p[np].resolved = batch->v[i].status == ALARM_RESOLVED;
		}
	}
	first[batch->n] = np;

	for (attempt = 0; attempt < ALARM_ATTEMPTS; attempt++) {
		for (k = 0; k < np; k++) {
			struct store_alarm_decision *r = &p[k].row;

			memset(r, 0, sizeof *r);
			memcpy(r->alarm_id, al->id, UUID_STRLEN);
			r->ord = (int64_t)p[k].d->trigger;
			r->trigger_name = (char *)p[k].d->name;
			r->verdict = (char *)alarm_verdict_name(
			    p[k].d->verdict);
			r->workflow = p[k].d->workflow;
			r->input = p[k].d->input;
			r->key = p[k].d->key;
			r->limit_by = p[k].d->limit_by;
			r->reason = p[k].d->reason != NULL ?
			    xstrdup(p[k].d->reason) : NULL;
		}
		for (i = 0; i < batch->n; i++)
			for (k = first[i]; k < first[i + 1]; k++)
				p[k].row.seq = (int64_t)i;
		rc = alarm_decide_once(e, st, al, batch, p, np, first,
		    set != NULL ? set->version : 0, dry, loop, events, &wake,
		    &told);
		alarm_picks_clear(p, np);
		if (rc != STORE_CONFLICT)
			break;
		/* Decided by another engine meanwhile, or a key taken? */
		if (store_row_load(st, &store_alarm_table, al->id, &cur) ==
		    STORE_OK && !store_alarm_undecided(cur)) {
			xasprintf(cause, "alarm %s was decided meanwhile",
			    al->id);
			break;
		}
		store_row_free(&store_alarm_table, cur);
		cur = NULL;
	}
	store_row_free(&store_alarm_table, cur);
	if (rc == STORE_OK && !dry) {
		for (k = 0; k < np; k++) {
			if ((v = p[k].final) >= 0 && v < ALARM_NVERDICTS)
				atomic_fetch_add_explicit(
				    &e->alarms->verdicts[v], 1,
				    memory_order_relaxed);
		}
		if (wake > 0) {
			alarm_adopt(e, *events);
			store_notify(st, "bora_work");
			engine_poke(e);
		}
		if (told > 0)
			engine_outbox_poke(e);
	} else if (rc != STORE_OK && *cause == NULL)
		xasprintf(cause, "%s", store_error(st));
	for (i = 0; i < batch->n; i++)
		alarm_decisions_free(dv[i], nd[i]);
	free(dv);
	free(nd);
	free(first);
	free(p);
	alarm_set_put(e->alarms, set);
	alarm_batch_free(own);
	return (rc);
}

/* ---- alarms left undecided ------------------------------------------ */

/*
 * An alarm whose body no longer parses (a newer bora reading an older
 * one, say): decided with no events, so that it is not retried forever.
 */
static void
alarm_mark_failed(struct store *st, const struct store_alarm *al,
    const char *why)
{
	struct store_alarm	 up;
	struct store_tx		*tx;

	(void)why;
	memset(&up, 0, sizeof up);
	memcpy(up.id, al->id, UUID_STRLEN);
	up.state = (char *)ST_ALARM_DECIDED;
	up.verdicts = (char *)" ";
	up.decided_at = time_now_ms();
	tx = store_tx_create();
	store_tx_update(tx, &store_alarm_table, &up, SF_STATE |
	    SF_ALARM_DECIDED, ST_ALARM_RECEIVED);
	(void)store_tx_commit(st, tx);
	store_tx_free(tx);
}

/*
 * Decide alarms stored but left undecided for older_ms or more (a crash
 * between the two commits, the store gone in between); from the loop,
 * or any thread when loop is 0.  Returns how many were decided.
 */
size_t
engine_alarm_recover_in(struct engine *e, struct store *st, int64_t older_ms,
    int loop)
{
	struct store_alarm	*al;
	char			**ids = NULL, *cause = NULL;
	json_t			*events;
	size_t			 n = 0, i, done = 0;
	enum store_rc		 rc;

	if (store_alarms_pending(st, time_now_ms() - older_ms,
	    ALARM_RECOVER_BATCH, &ids, &n) != STORE_OK)
		return (0);
	for (i = 0; i < n; i++) {
		al = NULL;
		if (store_row_load(st, &store_alarm_table, ids[i], &al) !=
		    STORE_OK) {
			free(ids[i]);
			continue;
		}
		rc = engine_alarm_decide_in(e, st, al, NULL, 0, loop, &events,
		    &cause);
		if (rc == STORE_OK) {
			log_info("alarm %s: decided after a delay (%s)",
			    al->id, al->source);
			done++;
		} else if (rc == STORE_ERROR) {
			/* It cannot be read again: say so once, as decided. */
			log_warnx("alarm %s: %s", al->id, cause);
			alarm_mark_failed(st, al, cause);
		}
		json_decref(events);
		free(cause);
		cause = NULL;
		store_row_free(&store_alarm_table, al);
		free(ids[i]);
	}
	free(ids);
	return (done);
}

/* See engine.h. */
size_t
engine_alarm_recover(struct engine *e, int64_t older_ms)
{
	struct store	*st;
	char		*cause = NULL;
	size_t		 n;

	if (e->cfg.in_process)
		return (engine_alarm_recover_in(e, e->st, older_ms, 1));
	if ((st = store_pool_get(e->pool, &cause)) == NULL) {
		free(cause);
		return (0);
	}
	n = engine_alarm_recover_in(e, st, older_ms, 0);
	store_pool_put(e->pool);
	return (n);
}

/* Now and then, from the loop: lost alarms, expired nonces. */
void
engine_alarms_tick(struct engine *e, int64_t mono)
{
	struct engine_alarms	*a = e->alarms;

	if (a == NULL || e->cfg.in_process)
		return;
	if (mono - a->last_recover >= ALARM_RECOVER_MS) {
		a->last_recover = mono;
		(void)engine_alarm_recover_in(e, e->st, ALARM_RECOVER_AGE, 1);
	}
	if (mono - a->last_reap >= ALARM_NONCE_REAP_MS) {
		a->last_reap = mono;
		(void)store_alarm_nonces_reap(e->st);
	}
}
