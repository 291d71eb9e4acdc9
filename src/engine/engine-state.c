/*
 * engine-state.c -- the state machines of executions, tasks, action
 * executions and with-items items: one table of legal moves each, and
 * the one function that applies a move.  An illegal move is a bug of
 * the engine: it is logged as one and refused, never written.  States
 * keep Mistral's names in rows and on the wire (store_state_name()).
 *
 * Executions:
 *	IDLE      -> RUNNING, SUCCESS, ERROR, CANCELLED
 *	RUNNING   -> PAUSED, SUCCESS, ERROR, CANCELLED
 *	PAUSED    -> RUNNING, SUCCESS, ERROR, CANCELLED	(resume, end)
 *	SUCCESS, ERROR, CANCELLED -> RUNNING		(a task re-run)
 *
 * Tasks:
 *	IDLE      -> RUNNING, ERROR, CANCELLED		(paused workflow)
 *	WAITING   -> RUNNING, ERROR, CANCELLED		(join not satisfied)
 *	RUNNING   -> RUNNING_DELAYED, SUCCESS, ERROR, CANCELLED
 *	RUNNING_DELAYED -> RUNNING, IDLE, ERROR, CANCELLED
 *				(IDLE: due while the workflow is paused)
 *	SUCCESS   -> ERROR		(its transitions cannot be evaluated)
 *	ERROR     -> RUNNING, ERROR	(re-run; a transition's error)
 *
 * Action executions:
 *	RUNNING   -> SUCCESS, ERROR, CANCELLED
 *
 * With-items items (of one attempt of a task, in memory):
 *	IDLE      -> RUNNING
 *	RUNNING   -> SUCCESS, ERROR, IDLE	(IDLE: interrupted, run again)
 *
 * A task's row moves in the change set of the step that decides it,
 * guarded by the state it had; nothing outside the process (an HTTP
 * call, a sub-workflow) starts before that step commits.  The moves
 * that are Mistral's events are told to the execution's receivers in
 * the same change set (engine-tell.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"

#define TO(s)	(1u << STATE_##s)
#define ENDS	(TO(SUCCESS) | TO(ERROR) | TO(CANCELLED))
#define TASK_INFO_MAX	2048	/* bytes of state_info kept */
#define EXEC_INFO_MAX	4096

/* For each machine and state, the states it may move to. */
static const unsigned engine_moves[ENGINE_NMACHINES][STATE_NONE] = {
	[ENGINE_EXEC] = {
		[STATE_IDLE] = TO(RUNNING) | ENDS,
		[STATE_RUNNING] = TO(PAUSED) | ENDS,
		[STATE_PAUSED] = TO(RUNNING) | ENDS,
		[STATE_SUCCESS] = TO(RUNNING),
		[STATE_ERROR] = TO(RUNNING),
		[STATE_CANCELLED] = TO(RUNNING)
	},
	[ENGINE_TASK] = {
		[STATE_IDLE] = TO(RUNNING) | TO(ERROR) | TO(CANCELLED),
		[STATE_WAITING] = TO(RUNNING) | TO(ERROR) | TO(CANCELLED),
		[STATE_RUNNING] = TO(DELAYED) | ENDS,
		[STATE_DELAYED] = TO(RUNNING) | TO(IDLE) | TO(ERROR) |
		    TO(CANCELLED),
		[STATE_SUCCESS] = TO(ERROR),
		[STATE_ERROR] = TO(RUNNING) | TO(ERROR)
	},
	[ENGINE_ACTION] = {
		[STATE_RUNNING] = ENDS
	},
	[ENGINE_ITEM] = {
		[STATE_IDLE] = TO(RUNNING),
		[STATE_RUNNING] = TO(SUCCESS) | TO(ERROR) | TO(IDLE)
	}
};

static const char *const engine_machine_names[ENGINE_NMACHINES] = {
	[ENGINE_EXEC] = "execution", [ENGINE_TASK] = "task",
	[ENGINE_ACTION] = "action execution", [ENGINE_ITEM] = "item"
};

/* Is from -> to a legal move of machine m? */
int
engine_state_legal(enum engine_machine m, enum store_state from,
    enum store_state to)
{
	if (from >= STATE_NONE || to >= STATE_NONE)
		return (0);
	return ((engine_moves[m][from] & (1u << to)) != 0);
}

/*
 * Apply a move of machine m: *cur becomes to when the table allows it
 * (0); otherwise the move is logged as a bug and refused (-1) and the
 * caller writes nothing.  id names what moves, for the log.
 */
int
engine_state_move(enum engine_machine m, const char *id,
    enum store_state *cur, enum store_state to)
{
	if (!engine_state_legal(m, *cur, to)) {
		log_warnx("BUG: %s %s: illegal move %s -> %s refused",
		    engine_machine_names[m], id, store_state_name(*cur),
		    store_state_name(to));
		return (-1);
	}
	*cur = to;
	return (0);
}

/* A row's state text and state_info after a move. */
static void
state_text(char **text, enum store_state st, char **info_text,
    const char *info, size_t max, unsigned mask)
{
	free(*text);
	*text = xstrdup(store_state_name(st));
	if (mask & SF_STATE_INFO) {
		free(*info_text);
		*info_text = info != NULL ? xstrndup(info, max) : NULL;
	}
}

/*
 * Move a task in step s, guarded by the state it had.  With
 * SF_STATE_INFO in mask its state_info becomes info; with SF_STARTED a
 * task that starts running for the first time gets started_at; with
 * SF_FINISHED it gets finished_at when it ends, and loses it when it
 * runs again.  Other fields in mask are written as the caller set them.
 */
int
engine_task_move(struct task_rt *t, enum store_state to, const char *info,
    unsigned mask, struct step *s)
{
	struct store_task	*row = t->row;
	enum store_state	 from = t->state;
	int64_t			 now = time_now_ms();
	int			 started = row->started_at != 0;

	if (engine_state_move(ENGINE_TASK, row->id, &t->state, to) != 0)
		return (-1);
	state_text(&row->state, to, &row->state_info, info, TASK_INFO_MAX,
	    mask);
	if ((mask & SF_STARTED) && to == STATE_RUNNING &&
	    row->started_at == 0)
		row->started_at = now;
	if (mask & SF_FINISHED)
		row->finished_at = STATE_FINAL(to) ? now : 0;
	row->updated_at = now;
	store_tx_task_update(s->tx, row, SF_STATE | mask,
	    store_state_name(from));
	engine_step_changed(s, t);
	engine_tell_task(t, from, to, started, s);
	return (0);
}

/* Move an execution in step s (state_info as engine_task_move()). */
int
engine_exec_move(struct exec_rt *rt, enum store_state to, const char *info,
    unsigned mask, struct step *s)
{
	enum store_state	 from = rt->state;

	if (engine_state_move(ENGINE_EXEC, rt->row->id, &rt->state, to) != 0)
		return (-1);
	state_text(&rt->row->state, to, &rt->row->state_info, info,
	    EXEC_INFO_MAX, mask);
	store_tx_exec_update(s->tx, rt->row, SF_STATE | mask,
	    store_state_name(from));
	s->exec_changed = 1;
	engine_tell_exec(rt, from, to, s);
	return (0);
}

/*
 * Record moving a row that is not in memory, an execution's or an
 * action execution's, from the state it is expected in.  row is the
 * caller's copy: its state field is set (to a static name) and the
 * fields in mask written, guarded by from.
 */
int
engine_row_move(struct store_tx *tx, enum engine_machine m, void *row,
    enum store_state from, enum store_state to, unsigned mask)
{
	struct store_exec	*ex = row;
	struct store_action	*a = row;
	enum store_state	 st = from;

	if (engine_state_move(m, m == ENGINE_EXEC ? ex->id : a->id, &st,
	    to) != 0)
		return (-1);
	if (m == ENGINE_EXEC) {
		ex->state = (char *)store_state_name(to);
		store_tx_exec_update(tx, ex, SF_STATE | mask,
		    store_state_name(from));
	} else {
		a->state = (char *)store_state_name(to);
		store_tx_action_update(tx, a, SF_STATE | mask,
		    store_state_name(from));
	}
	return (0);
}

/* Move an item of a task's current attempt. */
int
engine_item_move(struct task_rt *t, size_t item, enum store_state to)
{
	enum store_state	 st = (enum store_state)t->done[item];
	char			 id[UUID_STRLEN + 32];

	if (engine_state_legal(ENGINE_ITEM, st, to)) {
		t->done[item] = (unsigned char)to;
		return (0);
	}
	snprintf(id, sizeof id, "%s[%zu]", t->row->id, item);
	return (engine_state_move(ENGINE_ITEM, id, &st, to));
}
