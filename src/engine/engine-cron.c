/*
 * engine-cron.c -- cron triggers fired by the engine loop: every
 * CRON_CHECK_MS the triggers whose next tick is due by the database's
 * clock start their workflow.
 *
 * Exactly once per tick, across engines and restarts: the execution's
 * insert and the trigger's move to its next tick are one change set,
 * the move guarded by the tick it had (store_tx_cron_fire()), so of two
 * engines only one commits it, and a crash leaves neither.  Ticks
 * missed while every engine was down are not made up one by one: the
 * next tick is counted from now (Mistral's max(now, next) rule), so a
 * trigger late by an hour fires once at start, not sixty times.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"

#define CRON_BATCH	16	/* triggers fired in one check */

/* The description Mistral gives an execution a trigger started. */
static char *
cron_description(const struct store_cron *c)
{
	char	 tick[20], *s;
	json_t	*d;

	time_format(c->next_execution_time, tick);
	d = json_object();
	json_object_set_new(d, "description", json_sprintf("Workflow "
	    "execution created by cron trigger '(%s)'.", c->id));
	json_object_set_new(d, "triggered_by", json_pack("{s:s,s:s,s:s,s:s}",
	    "type", "cron_trigger", "id", c->id, "name", c->name, "tick",
	    tick));
	s = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	return (s);
}

/* Fire one due trigger at now (ms, the database's clock). */
static void
cron_fire(struct engine *e, const struct store_cron *c, int64_t now)
{
	struct engine_start_opts	 o;
	struct store_exec		*row = NULL;
	struct store_tx			*tx;
	struct cron			*cr;
	char				*cause = NULL, *desc;
	int64_t				 next = -1, remaining;
	enum store_rc			 rc;
	int				 prepared, told = 0;

	/* The next tick after this one, counted from now when late. */
	if (c->pattern != NULL && *c->pattern != '\0') {
		if ((cr = cron_parse(c->pattern, &cause)) != NULL) {
			next = cron_next(cr, now > c->next_execution_time ?
			    now : c->next_execution_time);
			cron_free(cr);
		} else {
			log_warnx("cron trigger %s: %s", c->name, cause);
			free(cause);
			cause = NULL;
		}
	}
	remaining = c->remaining_executions;
	if (remaining > 0)
		remaining--;
	if (next < 0)
		remaining = 0;		/* no tick left: this is the last */

	desc = cron_description(c);
	memset(&o, 0, sizeof o);
	o.workflow = c->workflow_name;
	o.namespace = c->workflow_namespace;
	o.input = c->workflow_input;
	o.params = json_is_object(c->workflow_params) ? c->workflow_params :
	    NULL;
	o.description = desc;
	rc = engine_exec_prepare(e, e->st, &o, &row, &cause);
	prepared = rc == STORE_OK;
	if (!prepared) {
		/* The tick passes all the same, as in Mistral. */
		log_warnx("cron trigger %s: %s", c->name, cause);
		free(cause);
	}
	tx = store_tx_create();
	if (prepared) {
		store_tx_exec_insert(tx, row);
		told = engine_tell_row(e, tx, row, STATE_NONE, STATE_RUNNING);
	}
	store_tx_cron_fire(tx, c, next, remaining);
	rc = store_tx_commit(e->st, tx);
	store_tx_free(tx);
	if (rc == STORE_OK && prepared) {
		log_info("cron trigger %s: execution %s of %s started", c->name,
		    row->id, c->workflow_name);
		store_notify(e->st, "bora_work");
		engine_poke(e);
		if (told > 0)
			engine_outbox_poke(e);
	} else if (rc != STORE_OK && rc != STORE_CONFLICT)
		log_warnx("cron trigger %s: %s", c->name, store_error(e->st));
	store_exec_free(row);
	free(desc);
}

/* See engine-int.h. */
void
engine_cron_run(struct engine *e)
{
	struct store_cron	**due = NULL;
	size_t			  n = 0, i;
	int64_t			  now;

	now = store_now(e->st);
	if (store_cron_due(e->st, now, CRON_BATCH, &due, &n) != STORE_OK)
		return;
	for (i = 0; i < n; i++) {
		if (!atomic_load(&e->stopping))
			cron_fire(e, due[i], now);
		store_cron_free(due[i]);
	}
	free(due);
}
