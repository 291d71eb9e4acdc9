/*
 * actions.h -- the action registry and the I/O loop that runs actions
 * which wait (HTTP on curl multi, sleeps, delays) without holding an
 * engine worker.
 *
 * An action is a const table entry (struct action_entry).  Inline
 * actions finish inside action_run(); waiting ones finish later on the
 * I/O thread, which calls the completion callback.  Async actions
 * (std.async_noop) never finish by themselves: their result arrives
 * through the API callback.
 *
 * Ownership: input is borrowed; the result given to a completion
 * callback is a new reference the callback owns.
 */
#ifndef ACTIONS_H
#define ACTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct expr;
struct action_io;
struct conf;
struct store;
struct store_tx;

enum action_kind {
	ACTION_INLINE = 0,	/* finishes inside action_run(), except
				   std.echo with delay > 0, which finishes
				   on the I/O thread */
	ACTION_IO,		/* finishes later on the I/O thread */
	ACTION_ASYNC		/* finishes by external callback */
};

/* A parameter: required when def is NULL and required is set. */
struct action_param {
	const char	*name;
	const char	*def;		/* JSON text of the default, or NULL */
	int		 required;
};

/* Where an action runs, for headers, callbacks and Lua progress. */
struct action_ctx {
	const char	*execution_id;
	const char	*workflow_name;
	const char	*task_id;
	const char	*task_name;
	const char	*action_id;
	/*
	 * The API's base URL ("http://127.0.0.1:8989"): an async action's
	 * result is PUT to <callback_url>/v2/action_executions/<action_id>.
	 */
	const char	*callback_url;
	struct expr	*expr;		/* the calling thread's sandbox */
	void		(*progress)(void *arg, const char *msg, double frac);
	void		*progress_arg;
	/*
	 * The credentials (a clouds.yaml entry) OpenStack actions use
	 * when their input names none: the execution's; NULL: borad's.
	 */
	const char	*cloud;
	/*
	 * Inline actions that write with their task (NULL elsewhere): the
	 * engine loop's store connection, the change set the task's step
	 * commits, and a named lock tried without waiting: 1 when it is
	 * now the execution's (held by it or free; the taking goes with
	 * the change set), 0 when another execution holds it.
	 */
	struct store	*store;
	struct store_tx	*tx;
	int		(*lock_try)(void *arg, const char *name);
	void		*lock_arg;
};

/*
 * Completion: ok is 1 for success; result is the output on success or
 * the error (a string or object) on failure.  Called exactly once,
 * on the caller's thread for inline actions, on the I/O thread else.
 */
typedef void (*action_done_cb)(void *arg, int ok, json_t *result);

struct action_entry {
	const char			*name;
	const char			*description;
	const struct action_param	*params;	/* NULL-terminated */
	enum action_kind		 kind;
	int				 pure;	/* no side effects: safe to
						   re-run after a crash */
	/*
	 * Start the action.  Inline ones call done before returning.
	 * Others hand their work to io and return; done comes later.
	 */
	void	(*run)(const struct action_entry *, json_t *input,
		    const struct action_ctx *, struct action_io *io,
		    action_done_cb done, void *arg);
};

/* Find a built-in action (std.*); NULL when unknown. */
const struct action_entry	*action_find(const char *name);
/* The built-in table, NULL-terminated. */
const struct action_entry *const *action_all(void);

/*
 * Check input against the entry's parameters and fill in defaults.
 * Returns a new object, or NULL + *cause ("unexpected parameter 'x' for
 * std.echo (expected: output, delay)", "missing required parameter").
 */
json_t	*action_input_prepare(const struct action_entry *, json_t *input,
	     char **cause);
/* "output, delay=0" as Mistral's API shows an action's input. */
char	*action_params_string(const struct action_entry *);

/*
 * Run an action: checks input, then starts it.  An error in the input
 * completes it at once with ok = 0.
 */
void	 action_run(const struct action_entry *, json_t *input,
	     const struct action_ctx *, struct action_io *,
	     action_done_cb, void *arg);

/*
 * The I/O loop: one thread driving curl multi and timers.  Waiting
 * actions hold nothing else.  max_inflight caps concurrent transfers.
 */
struct action_io	*action_io_start(size_t max_inflight, char **cause);
/*
 * Stop: in-flight actions complete with an error "engine stopping".
 * Not from a completion callback (it joins the I/O thread).
 */
void			 action_io_stop(struct action_io *);
/* Number of actions in flight. */
size_t			 action_io_inflight(struct action_io *);
/* Cap on an HTTP response body in bytes (default 16 MiB; 0: default). */
void			 action_io_set_max_body(struct action_io *, size_t);

/*
 * Helpers for action implementations: complete after ms milliseconds
 * with (ok, result) -- result is stolen.  Used by std.sleep and
 * std.echo with delay.
 */
void	 action_io_after(struct action_io *, int64_t ms, int ok,
	     json_t *result, action_done_cb done, void *arg);

/*
 * OpenStack actions (os.request): take the default credentials from
 * borad.conf's os-* options.  Without os-cloud or os-auth-url they come
 * from OS_CLOUD (clouds.yaml) or the OS_* environment when first used.
 * 0, or -1 and *cause (a missing clouds.yaml entry, an incomplete
 * credential).
 */
int	 action_os_configure(const struct conf *, char **cause);

#endif /* ACTIONS_H */
