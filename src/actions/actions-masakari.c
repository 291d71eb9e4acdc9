/*
 * actions-masakari.c -- masakari.reserved_host_take: a recovery picks
 * the reserved host it evacuates to.
 *
 * The candidates are tried in their order, without waiting: a host
 * that is unknown, no longer reserved or on maintenance is passed over,
 * and so is one whose named lock ("reserved-host:NAME") another
 * execution holds.  The first free one is taken within the task's own
 * change set: its lock becomes the execution's (held until the
 * execution ends) and the host is marked not reserved by a guarded
 * update.  Two recoveries, on one engine or on several sharing a
 * PostgreSQL store, therefore never take the same host: if both chose
 * it at the same moment, one change set fails and its execution runs
 * the action again, seeing the host taken.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "store/store.h"
#include "actions/actions-int.h"

#define TAKE_NONE	"No reserved_hosts available for evacuation."

static void	 take_run(const struct action_entry *, json_t *,
		     const struct action_ctx *, struct action_io *,
		     action_done_cb, void *);

static const struct action_param take_params[] = {
	{ "hosts", NULL, 1 },
	{ "lock_prefix", "\"reserved-host:\"", 0 },
	{ NULL, NULL, 0 }
};

const struct action_entry action_masakari_take_entry = {
	.name = "masakari.reserved_host_take",
	.description = "Takes the first free reserved host of a list for "
	    "this execution (a named lock, tried without waiting, and the "
	    "host marked not reserved); the result is {host, remaining, "
	    "passed}.",
	.params = take_params,
	.kind = ACTION_INLINE,
	.pure = 0,
	.run = take_run
};

/* Why a candidate cannot be taken now, or NULL when it can. */
static const char *
take_check(const struct action_ctx *ctx, const char *name,
    const char *prefix, char **cause)
{
	struct store_host	*h = NULL;
	enum store_rc		 rc;
	char			*lock;
	const char		*why = NULL;

	*cause = NULL;
	rc = store_host_find(ctx->store, name, &h);
	if (rc == STORE_NOTFOUND)
		why = "not a host of any segment";
	else if (rc != STORE_OK) {
		xasprintf(cause, "cannot read host %s: %s", name,
		    store_error(ctx->store));
		return (NULL);
	} else if (!h->reserved)
		why = "no longer reserved";
	else if (h->on_maintenance)
		why = "on maintenance";
	store_host_free(h);
	if (why != NULL)
		return (why);
	xasprintf(&lock, "%s%s", prefix, name);
	if (!ctx->lock_try(ctx->lock_arg, lock))
		why = "taken by another recovery (its lock is held)";
	free(lock);
	return (why);
}

/* masakari.reserved_host_take hosts=[...] */
static void
take_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	json_t		*hosts, *v, *passed, *remaining;
	const char	*prefix, *name, *why;
	struct buf	 b;
	char		*cause;
	size_t		 i;

	(void)io;
	if (ctx == NULL || ctx->store == NULL || ctx->tx == NULL ||
	    ctx->lock_try == NULL) {
		action_fail_new(done, arg, xstrdup("masakari.reserved_host_take: "
		    "runs only as a task of a workflow, on borad's store"));
		return;
	}
	hosts = json_object_get(input, "hosts");
	if (!json_is_array(hosts)) {
		action_fail_new(done, arg, xstrdup("masakari.reserved_host_take: "
		    "'hosts' must be a list of host names"));
		return;
	}
	prefix = action_arg_string(input, "lock_prefix");
	if (prefix == NULL)
		prefix = "";
	passed = json_array();
	json_array_foreach(hosts, i, v) {
		if ((name = json_string_value(v)) == NULL || *name == '\0') {
			json_decref(passed);
			action_fail_new(done, arg, xstrdup("masakari."
			    "reserved_host_take: 'hosts' must be a list of "
			    "host names"));
			return;
		}
		why = take_check(ctx, name, prefix, &cause);
		if (cause != NULL) {
			json_decref(passed);
			action_fail_cause(ae, done, arg, cause);
			return;
		}
		if (why != NULL) {
			json_array_append_new(passed, json_pack("{s:s,s:s}",
			    "host", name, "reason", why));
			continue;
		}
		store_tx_host_take(ctx->tx, name);
		remaining = json_array();
		for (i++; i < json_array_size(hosts); i++)
			json_array_append(remaining, json_array_get(hosts, i));
		done(arg, 1, json_pack("{s:s,s:o,s:o}", "host", name,
		    "remaining", remaining, "passed", passed));
		return;
	}
	/* None: Masakari's words, then why each was passed over. */
	buf_init(&b, 0);
	buf_puts(&b, TAKE_NONE);
	json_array_foreach(passed, i, v) {
		buf_printf(&b, "%s %s: %s", i == 0 ? "" : ";",
		    json_string_value(json_object_get(v, "host")),
		    json_string_value(json_object_get(v, "reason")));
	}
	json_decref(passed);
	action_fail_new(done, arg, buf_take(&b));
}
