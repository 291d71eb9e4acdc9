/*
 * sim-nova.c -- the simulator's Nova: servers and their actions,
 * compute services, hypervisors, aggregates and migrations, with the
 * checks and answers of Nova 26 (Zed, microversions up to 2.93) for
 * what recovery flows use.
 *
 * Actions that take time (stop, start, evacuate, migrate, live migrate,
 * confirm resize) set a task_state and a due time; sim_nova_finish()
 * ends them when a later call finds them due.  An operation on a server
 * whose host is dead waits until the host is back, as the RPC to a dead
 * nova-compute would.  Evacuation, migration and live migration to a
 * host marked fail_incoming fail (the server goes to error for an
 * evacuation), as do evacuations of a server marked evacuate_fails and
 * those the scheduler finds no host for.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim-int.h"

/* Server status from vm_state, and from task_state when it says more. */
static const struct {
	const char	*state;
	const char	*status;
} sim_vm_status[] = {
	{ "active", "ACTIVE" }, { "stopped", "SHUTOFF" }, { "error", "ERROR" },
	{ "paused", "PAUSED" }, { "suspended", "SUSPENDED" },
	{ "rescued", "RESCUE" }, { "resized", "VERIFY_RESIZE" },
	{ "building", "BUILD" }, { "shelved", "SHELVED" },
	{ "shelved_offloaded", "SHELVED_OFFLOADED" },
	{ "soft-deleted", "SOFT_DELETED" }, { "deleted", "DELETED" },
}, sim_task_status[] = {
	{ "rebuilding", "REBUILD" }, { "migrating", "MIGRATING" },
	{ "resize_prep", "RESIZE" }, { "resize_migrating", "RESIZE" },
	{ "resize_migrated", "RESIZE" }, { "resize_finish", "RESIZE" },
};

static void	 act_lock(struct sim_call *, struct sim_server *, json_t *);
static void	 act_unlock(struct sim_call *, struct sim_server *, json_t *);
static void	 act_stop(struct sim_call *, struct sim_server *, json_t *);
static void	 act_start(struct sim_call *, struct sim_server *, json_t *);
static void	 act_power(struct sim_call *, struct sim_server *, enum sim_op);
static void	 act_reset(struct sim_call *, struct sim_server *, json_t *);
static void	 act_evacuate(struct sim_call *, struct sim_server *,
		     json_t *);
static void	 act_migrate(struct sim_call *, struct sim_server *,
		     json_t *);
static void	 act_live(struct sim_call *, struct sim_server *, json_t *);
static void	 act_confirm(struct sim_call *, struct sim_server *,
		     json_t *);

/* Server actions: the body's key, the name in 409s, who may. */
static const struct sim_action {
	const char	*key;
	const char	*name;
	int		 admin;
	const char	*policy;
	void		(*fn)(struct sim_call *, struct sim_server *,
			    json_t *);
} sim_actions[] = {
	{ "lock", "lock", 0, NULL, act_lock },
	{ "unlock", "unlock", 0, NULL, act_unlock },
	{ "os-stop", "stop", 0, NULL, act_stop },
	{ "os-start", "start", 0, NULL, act_start },
	{ "os-resetState", "resetState", 1,
	  "os_compute_api:os-admin-actions:reset_state", act_reset },
	{ "evacuate", "evacuate", 1, "os_compute_api:os-evacuate",
	  act_evacuate },
	{ "migrate", "migrate", 1, "os_compute_api:os-migrate-server:migrate",
	  act_migrate },
	{ "os-migrateLive", "os-migrateLive", 1,
	  "os_compute_api:os-migrate-server:migrate_live", act_live },
	{ "confirmResize", "confirmResize", 0, NULL, act_confirm },
};

static const char *const sim_legacy_services[] = { "enable", "disable",
	"disable-log-reason", "force-down" };

static const char *sim_status(struct sim_server *);
static const char *sim_host_status(struct sim *, struct sim_server *,
		     int64_t);
static json_t	*sim_server_json(struct sim_call *, struct sim_server *, int);
static int	 sim_visible(struct sim_call *, struct sim_server *);
static int	 sim_truthy(const char *);
static void	 sim_servers_list(struct sim_call *, int);
static struct sim_server *sim_server_get(struct sim_call *);
static int	 sim_state_is(struct sim_call *, struct sim_server *,
		     const char *, const char *const *);
static void	 sim_record(struct sim_call *, struct sim_server *,
		     const char *);
static void	 sim_begin(struct sim_call *, struct sim_server *, enum sim_op,
		     const char *, const char *, int64_t);
static struct sim_host *sim_schedule(struct sim *, const char *, int64_t);
static int	 sim_target(struct sim_call *, struct sim_server *, const char *,
		     int, struct sim_host **);
static void	 sim_set(char **, const char *);
static json_t	*sim_service_json(struct sim_call *, struct sim_host *);
static json_t	*sim_hypervisor_json(struct sim_call *, struct sim_host *,
		     int);
static json_t	*sim_aggregate_json(struct sim_call *,
		     struct sim_aggregate *);
static json_t	*sim_migration_json(struct sim_call *,
		     struct sim_migration *);
static struct sim_migration *sim_migration_find(struct sim *, int);

/* Replace a string field (value may be NULL). */
static void
sim_set(char **field, const char *value)
{
	char	*old = *field;

	*field = value != NULL ? xstrdup(value) : NULL;
	free(old);
}

/* "True", "true", "1", "yes": Nova's bool_from_string. */
static int
sim_truthy(const char *s)
{
	return (s != NULL && (strcasecmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "on") == 0 || strcasecmp(s, "t") == 0 ||
	    strcasecmp(s, "y") == 0));
}

/* GET /compute/v2.1: the version document. */
void
sim_nova_version(struct sim_call *c)
{
	char	*href;

	xasprintf(&href, "%s/compute/v2.1/", c->req->base_url != NULL ?
	    c->req->base_url : "");
	sim_reply(c, 200, json_pack("{s:{s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s}]}}",
	    "version", "id", "v2.1", "status", "CURRENT", "version", "2.93",
	    "min_version", "2.1", "updated", "2013-07-23T11:33:21Z", "links",
	    "rel", "self", "href", href));
	free(href);
}

/* ------------------------------------------------------------------ */
/* Servers.                                                            */

static const char *
sim_status(struct sim_server *v)
{
	size_t	i;

	for (i = 0; v->task_state != NULL && i < nitems(sim_task_status);
	    i++) {
		if (strcmp(sim_task_status[i].state, v->task_state) == 0)
			return (sim_task_status[i].status);
	}
	for (i = 0; i < nitems(sim_vm_status); i++) {
		if (strcmp(sim_vm_status[i].state, v->vm_state) == 0)
			return (sim_vm_status[i].status);
	}
	return ("UNKNOWN");
}

/* UP, DOWN (service down), MAINTENANCE (service disabled). */
static const char *
sim_host_status(struct sim *s, struct sim_server *v, int64_t now)
{
	struct sim_host	*h = sim_host_find(s, v->host);

	if (h == NULL)
		return ("");
	if (!sim_host_up(s, h, now))
		return ("DOWN");
	if (!h->enabled)
		return ("MAINTENANCE");
	return ("UP");
}

/* A server as Nova shows it at the call's microversion. */
static json_t *
sim_server_json(struct sim_call *c, struct sim_server *v, int detail)
{
	struct sim_host		*h = sim_host_find(c->sim, v->host);
	struct sim_project	*p = sim_project_find(c->sim, v->project_id);
	json_t			*o;
	char			*href, created[32], updated[32];
	size_t			 i;

	xasprintf(&href, "%s/compute/v2.1/servers/%s", c->req->base_url !=
	    NULL ? c->req->base_url : "", v->id);
	o = json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "id", v->id, "name",
	    v->name, "links", "rel", "self", "href", href);
	free(href);
	if (!detail)
		return (o);
	sim_time(v->created_wall, 0, created);
	sim_time(v->updated_wall, 0, updated);
	json_object_set_new(o, "status", json_string(sim_status(v)));
	json_object_set_new(o, "tenant_id", json_string(p != NULL ? p->id :
	    v->project_id));
	for (i = 0; i < c->sim->nusers; i++) {
		if (strcmp(c->sim->users[i]->name, v->user_id) == 0)
			break;
	}
	json_object_set_new(o, "user_id", json_string(i < c->sim->nusers ?
	    c->sim->users[i]->id : v->user_id));
	json_object_set(o, "metadata", v->metadata);
	json_object_set_new(o, "hostId", json_string(v->host));
	json_object_set_new(o, "created", json_string(created));
	json_object_set_new(o, "updated", json_string(updated));
	json_object_set_new(o, "addresses", json_object());
	json_object_set_new(o, "image", json_pack("{s:s}", "id",
	    "00000000-0000-4000-8000-00000000c1ae"));
	if (c->mv >= SIM_MV(2, 47))
		json_object_set_new(o, "flavor", json_pack("{s:s,s:i,s:i,"
		    "s:i}", "original_name", v->flavor, "vcpus", 1, "ram",
		    2048, "disk", 20));
	else
		json_object_set_new(o, "flavor", json_pack("{s:s}", "id",
		    v->flavor));
	json_object_set_new(o, "OS-EXT-SRV-ATTR:host", json_string(v->host));
	json_object_set_new(o, "OS-EXT-SRV-ATTR:hypervisor_hostname",
	    json_string(h != NULL ? h->hypervisor : v->host));
	json_object_set_new(o, "OS-EXT-SRV-ATTR:instance_name",
	    json_sprintf("instance-%.8s", v->id));
	json_object_set_new(o, "OS-EXT-AZ:availability_zone",
	    json_string(h != NULL ? h->zone : "nova"));
	json_object_set_new(o, "OS-EXT-STS:vm_state",
	    json_string(v->vm_state));
	json_object_set_new(o, "OS-EXT-STS:task_state", v->task_state !=
	    NULL ? json_string(v->task_state) : json_null());
	json_object_set_new(o, "OS-EXT-STS:power_state",
	    json_integer(v->power_state));
	if (c->mv >= SIM_MV(2, 9))
		json_object_set_new(o, "locked", json_boolean(v->locked));
	if (c->mv >= SIM_MV(2, 73))
		json_object_set_new(o, "locked_reason", v->locked_reason !=
		    NULL ? json_string(v->locked_reason) : json_null());
	if (c->mv >= SIM_MV(2, 16) && sim_ks_admin(c->token))
		json_object_set_new(o, "host_status", json_string(
		    sim_host_status(c->sim, v, c->now)));
	if (v->fault != NULL && strcmp(v->vm_state, "error") == 0)
		json_object_set(o, "fault", v->fault);
	return (o);
}

/* Non-admins see their project's servers only. */
static int
sim_visible(struct sim_call *c, struct sim_server *v)
{
	if (sim_ks_admin(c->token))
		return (1);
	return (c->token->project != NULL &&
	    strcmp(c->token->project->name, v->project_id) == 0);
}

/*
 * GET /servers[/detail]: all_tenants (admin), host, name, status,
 * project_id; limit and marker, with a next link when more remain.
 */
static void
sim_servers_list(struct sim_call *c, int detail)
{
	struct sim		*s = c->sim;
	struct sim_server	*v;
	json_t			*q = c->req->query, *list, *out;
	const char		*host, *name, *status, *proj, *marker, *lim;
	const char		*key;
	json_t			*qv;
	struct buf		 next;
	size_t			 i;
	long			 limit = 1000, n = 0;
	int			 all, started, more = 0, admin;
	const char		*last = NULL;

	admin = sim_ks_admin(c->token);
	all = sim_truthy(json_string_value(json_object_get(q,
	    "all_tenants")));
	if (all && !admin) {
		sim_error(c, 403, "Policy doesn't allow "
		    "os_compute_api:servers:index:get_all_tenants to be "
		    "performed.");
		return;
	}
	host = json_string_value(json_object_get(q, "host"));
	name = json_string_value(json_object_get(q, "name"));
	status = json_string_value(json_object_get(q, "status"));
	proj = json_string_value(json_object_get(q, "project_id"));
	if (proj == NULL)
		proj = json_string_value(json_object_get(q, "tenant_id"));
	marker = json_string_value(json_object_get(q, "marker"));
	lim = json_string_value(json_object_get(q, "limit"));
	if (lim != NULL) {
		limit = strtol(lim, NULL, 10);
		if (limit < 0) {
			sim_error(c, 400, "Invalid input for query parameters "
			    "limit.");
			return;
		}
		if (limit > 1000)
			limit = 1000;
	}
	if (marker != NULL && sim_server_find(s, marker) == NULL) {
		sim_error(c, 400, "marker [%s] not found", marker);
		return;
	}
	list = json_array();
	started = marker == NULL;
	for (i = 0; i < s->nservers; i++) {
		v = s->servers[i];
		if (!started) {
			started = strcmp(v->id, marker) == 0;
			continue;
		}
		if (all ? (proj != NULL && strcmp(proj, v->project_id) != 0 &&
		    (sim_project_find(s, v->project_id) == NULL ||
		    strcmp(proj, sim_project_find(s, v->project_id)->id) !=
		    0)) : (c->token->project == NULL ||
		    strcmp(c->token->project->name, v->project_id) != 0))
			continue;
		if (host != NULL && admin && strcmp(host, v->host) != 0)
			continue;
		if (name != NULL && strstr(v->name, name) == NULL)
			continue;
		if (status != NULL && strcasecmp(status, sim_status(v)) != 0)
			continue;
		if (n == limit) {
			more = 1;
			break;
		}
		json_array_append_new(list, sim_server_json(c, v, detail));
		last = v->id;
		n++;
	}
	out = json_pack("{s:o}", "servers", list);
	if (more && last != NULL) {
		buf_init(&next, 0);
		buf_printf(&next, "%s/compute/v2.1/servers%s?limit=%ld&"
		    "marker=%s", c->req->base_url != NULL ? c->req->base_url :
		    "", detail ? "/detail" : "", limit, last);
		json_object_foreach(q, key, qv) {
			if (strcmp(key, "limit") != 0 &&
			    strcmp(key, "marker") != 0)
				buf_printf(&next, "&%s=%s", key,
				    json_string_value(qv));
		}
		json_object_set_new(out, "servers_links", json_pack("[{s:s,"
		    "s:s}]", "rel", "next", "href", next.data));
		buf_free(&next);
	}
	sim_reply(c, 200, out);
}

void
sim_nova_servers(struct sim_call *c)
{
	sim_servers_list(c, 0);
}

void
sim_nova_servers_detail(struct sim_call *c)
{
	sim_servers_list(c, 1);
}

/* The server of the path, or NULL after answering 404. */
static struct sim_server *
sim_server_get(struct sim_call *c)
{
	struct sim_server	*v;

	v = sim_server_find(c->sim, c->arg[0]);
	if (v == NULL || !sim_visible(c, v)) {
		sim_error(c, 404, "Instance %s could not be found.",
		    c->arg[0]);
		return (NULL);
	}
	return (v);
}

/* GET /servers/{id}. */
void
sim_nova_server(struct sim_call *c)
{
	struct sim_server	*v;

	if ((v = sim_server_get(c)) != NULL)
		sim_reply(c, 200, json_pack("{s:o}", "server",
		    sim_server_json(c, v, 1)));
}

/* GET /servers/{id}/os-instance-actions. */
void
sim_nova_instance_actions(struct sim_call *c)
{
	struct sim_server	*v;

	if ((v = sim_server_get(c)) != NULL)
		sim_reply(c, 200, json_pack("{s:O}", "instanceActions",
		    v->actions));
}

/* GET /servers/{id}/migrations: its live migrations in progress. */
void
sim_nova_server_migrations(struct sim_call *c)
{
	struct sim_server	*v;
	json_t			*list;
	size_t			 i;

	if ((v = sim_server_get(c)) == NULL)
		return;
	list = json_array();
	for (i = 0; i < c->sim->nmigs; i++) {
		if (strcmp(c->sim->migs[i]->server, v->id) == 0 &&
		    strcmp(c->sim->migs[i]->type, "live-migration") == 0 &&
		    (strcmp(c->sim->migs[i]->status, "accepted") == 0 ||
		    strcmp(c->sim->migs[i]->status, "running") == 0))
			json_array_append_new(list, sim_migration_json(c,
			    c->sim->migs[i]));
	}
	sim_reply(c, 200, json_pack("{s:o}", "migrations", list));
}

/* Record an instance action (os-instance-actions). */
static void
sim_record(struct sim_call *c, struct sim_server *v, const char *action)
{
	char	ts[32];

	sim_time(time_now_ms(), 2, ts);
	json_array_append_new(v->actions, json_pack("{s:s,s:s,s:O,s:s,s:s,"
	    "s:s,s:n}", "action", action, "instance_uuid", v->id,
	    "request_id", json_object_get(c->resp->headers,
	    "X-OpenStack-Request-ID"), "start_time", ts, "user_id",
	    c->token->user->id, "project_id", c->token->project != NULL ?
	    c->token->project->id : "", "message"));
}

/*
 * The server's vm_state is one of states (NULL-terminated) and it has
 * no task: else 409 "Cannot 'stop' instance X while it is in ...".
 */
static int
sim_state_is(struct sim_call *c, struct sim_server *v, const char *name,
    const char *const *states)
{
	size_t	i;

	if (v->task_state != NULL) {
		sim_error(c, 409, "Cannot '%s' instance %s while it is in "
		    "task_state %s", name, v->id, v->task_state);
		return (0);
	}
	for (i = 0; states[i] != NULL; i++) {
		if (strcmp(states[i], v->vm_state) == 0)
			return (1);
	}
	sim_error(c, 409, "Cannot '%s' instance %s while it is in vm_state %s",
	    name, v->id, v->vm_state);
	return (0);
}

/*
 * The host a server is asked to move to: NULL when none is named (the
 * scheduler picks), else it must exist (an unknown one is answered with
 * status, 404 for evacuate, 400 for the migrations) and not be the
 * server's own.  -1 once answered.
 */
static int
sim_target(struct sim_call *c, struct sim_server *v, const char *host,
    int status, struct sim_host **dst)
{
	*dst = NULL;
	if (host == NULL)
		return (0);
	if ((*dst = sim_host_find(c->sim, host)) == NULL) {
		sim_error(c, status, status == 404 ? "Compute host %s not "
		    "found." : "Compute host %s could not be found.", host);
		return (-1);
	}
	if (strcmp((*dst)->name, v->host) == 0) {
		sim_error(c, 400, "The target host can't be the same one.");
		return (-1);
	}
	return (0);
}

/* Start an operation that ends after ms (< 0: its default delay). */
static void
sim_begin(struct sim_call *c, struct sim_server *v, enum sim_op op,
    const char *task, const char *target, int64_t ms)
{
	v->op = op;
	sim_set(&v->task_state, task);
	sim_set(&v->target, target);
	sim_set(&v->prev_vm_state, v->vm_state);
	v->due = c->now + (ms >= 0 ? ms : c->sim->delay[op]);
	v->updated_wall = time_now_ms();
}

/* The scheduler: the first enabled, up host other than source. */
static struct sim_host *
sim_schedule(struct sim *s, const char *source, int64_t now)
{
	size_t	i;

	for (i = 0; i < s->nhosts; i++) {
		if (strcmp(s->hosts[i]->name, source) != 0 &&
		    s->hosts[i]->enabled && s->hosts[i]->alive &&
		    sim_host_up(s, s->hosts[i], now))
			return (s->hosts[i]);
	}
	return (NULL);
}

/* POST /servers/{id}/action: exactly one action key. */
void
sim_nova_action(struct sim_call *c)
{
	struct sim_server	*v;
	const char		*key = NULL, *k;
	json_t			*arg = NULL, *a;
	size_t			 i;

	if ((v = sim_server_get(c)) == NULL)
		return;
	if (!json_is_object(c->body) || json_object_size(c->body) != 1) {
		sim_error(c, 400, "Malformed request body: one action is "
		    "expected.");
		return;
	}
	json_object_foreach(c->body, k, a) {
		key = k;
		arg = a;
	}
	for (i = 0; i < nitems(sim_actions); i++) {
		if (strcmp(sim_actions[i].key, key) == 0)
			break;
	}
	if (i == nitems(sim_actions)) {
		sim_error(c, 400, "There is no such action: %s", key);
		return;
	}
	if (sim_actions[i].admin && !sim_ks_admin(c->token)) {
		sim_error(c, 403, "Policy doesn't allow %s to be performed.",
		    sim_actions[i].policy);
		return;
	}
	sim_actions[i].fn(c, v, arg);
}

static void
act_lock(struct sim_call *c, struct sim_server *v, json_t *arg)
{
	json_t	*reason = json_object_get(arg, "locked_reason");

	if (arg != NULL && !json_is_null(arg) && (c->mv < SIM_MV(2, 73) ||
	    !json_is_object(arg) || (reason != NULL &&
	    !json_is_string(reason)))) {
		sim_error(c, 400, "Invalid input for field/attribute lock.");
		return;
	}
	v->locked = 1;
	sim_set(&v->locked_reason, json_string_value(reason));
	sim_record(c, v, "lock");
	sim_reply(c, 202, NULL);
}

static void
act_unlock(struct sim_call *c, struct sim_server *v, json_t *arg)
{
	v->locked = 0;
	sim_set(&v->locked_reason, NULL);
	sim_record(c, v, "unlock");
	sim_reply(c, 202, NULL);
}

/*
 * os-stop and os-start: from the states Nova allows, with the task state
 * the server shows until the operation ends.  Only admins may act on a
 * locked server.
 */
static void
act_power(struct sim_call *c, struct sim_server *v, enum sim_op op)
{
	static const char *const stop_ok[] = { "active", "error", NULL };
	static const char *const start_ok[] = { "stopped", NULL };
	const char	*name = op == SIM_OP_STOP ? "stop" : "start";

	if (v->locked && !sim_ks_admin(c->token)) {
		sim_error(c, 409, "Instance %s is locked", v->id);
		return;
	}
	if (!sim_state_is(c, v, name, op == SIM_OP_STOP ? stop_ok : start_ok))
		return;
	sim_begin(c, v, op, op == SIM_OP_STOP ? "powering-off" :
	    "powering-on", NULL, -1);
	sim_record(c, v, name);
	sim_reply(c, 202, NULL);
}

static void
act_stop(struct sim_call *c, struct sim_server *v, json_t *arg)
{
	act_power(c, v, SIM_OP_STOP);
}

static void
act_start(struct sim_call *c, struct sim_server *v, json_t *arg)
{
	act_power(c, v, SIM_OP_START);
}

/* os-resetState: vm_state at once, task and operation dropped. */
static void
act_reset(struct sim_call *c, struct sim_server *v, json_t *arg)
{
	struct sim_migration	*m;
	const char		*st;

	st = json_string_value(json_object_get(arg, "state"));
	if (st == NULL || (strcmp(st, "active") != 0 &&
	    strcmp(st, "error") != 0)) {
		sim_error(c, 400, "Invalid input for field/attribute state. "
		    "Value: %s. '%s' is not one of ['active', 'error']",
		    st != NULL ? st : "None", st != NULL ? st : "None");
		return;
	}
	if (v->migration != 0 &&
	    (m = sim_migration_find(c->sim, v->migration)) != NULL &&
	    v->op != SIM_OP_NONE)
		sim_set(&m->status, "error");
	v->op = SIM_OP_NONE;
	v->migration = 0;
	sim_set(&v->vm_state, st);
	sim_set(&v->task_state, NULL);
	v->updated_wall = time_now_ms();
	sim_record(c, v, "reset_state");
	sim_reply(c, 202, NULL);
}

/* evacuate: the body by microversion, then Nova's checks. */
static void
act_evacuate(struct sim_call *c, struct sim_server *v, json_t *arg)
{
	static const char *const ok[] = { "active", "stopped", "error",
		NULL };
	struct sim_host		*src, *dst = NULL;
	struct sim_migration	*m;
	json_t			*force;
	const char		*host, *key;
	json_t			*val;
	char			 pass[UUID_STRLEN];
	int64_t			 ms;

	if (!json_is_object(arg)) {
		sim_error(c, 400, "Invalid input for field/attribute evacuate. "
		    "Value: %s. None is not of type 'object'", "None");
		return;
	}
	json_object_foreach(arg, key, val) {
		if (strcmp(key, "host") != 0 && strcmp(key, "adminPass") != 0 &&
		    !(strcmp(key, "onSharedStorage") == 0 &&
		    c->mv < SIM_MV(2, 14)) && !(strcmp(key, "force") == 0 &&
		    c->mv >= SIM_MV(2, 29) && c->mv < SIM_MV(2, 68))) {
			sim_error(c, 400, "Invalid input for field/attribute "
			    "evacuate. Additional properties are not allowed "
			    "('%s' was unexpected)", key);
			return;
		}
	}
	if (c->mv < SIM_MV(2, 14) &&
	    json_object_get(arg, "onSharedStorage") == NULL) {
		sim_error(c, 400, "Invalid input for field/attribute evacuate. "
		    "'onSharedStorage' is a required property");
		return;
	}
	host = json_string_value(json_object_get(arg, "host"));
	force = json_object_get(arg, "force");
	if (json_is_true(force) && host == NULL) {
		sim_error(c, 400, "Can't force to a non-provided destination");
		return;
	}
	src = sim_host_find(c->sim, v->host);
	if (sim_target(c, v, host, 404, &dst) != 0)
		return;
	if (!sim_state_is(c, v, "evacuate", ok))
		return;
	if (src != NULL && sim_host_up(c->sim, src, c->now)) {
		sim_error(c, 400, "Compute service of %s is still in use.",
		    src->name);
		return;
	}
	if (dst == NULL)
		dst = sim_schedule(c->sim, v->host, c->now);
	ms = v->evacuate_ms >= 0 ? v->evacuate_ms : dst != NULL &&
	    dst->incoming_ms >= 0 ? dst->incoming_ms : -1;
	m = sim_migration_add(c->sim, v, "evacuation", dst != NULL ?
	    dst->name : NULL);
	sim_begin(c, v, SIM_OP_EVACUATE, "rebuilding", dst != NULL ?
	    dst->name : NULL, ms);
	v->migration = m->id;
	sim_record(c, v, "evacuate");
	if (c->mv < SIM_MV(2, 14)) {
		uuid_make(pass);
		pass[8] = '\0';
		sim_reply(c, 200, json_pack("{s:s}", "adminPass", pass));
	} else
		sim_reply(c, 200, NULL);
}

/* migrate (cold): to a host (2.56+) or where the scheduler says. */
static void
act_migrate(struct sim_call *c, struct sim_server *v, json_t *arg)
{
	static const char *const ok[] = { "active", "stopped", NULL };
	struct sim_host		*dst = NULL;
	struct sim_migration	*m;
	const char		*host = NULL;

	if (arg != NULL && !json_is_null(arg)) {
		if (c->mv < SIM_MV(2, 56) || !json_is_object(arg)) {
			sim_error(c, 400, "Invalid input for field/attribute "
			    "migrate. Value: %s. None is not of type 'null'",
			    "{...}");
			return;
		}
		host = json_string_value(json_object_get(arg, "host"));
	}
	if (sim_target(c, v, host, 400, &dst) != 0)
		return;
	if (!sim_state_is(c, v, "migrate", ok))
		return;
	if (dst == NULL &&
	    (dst = sim_schedule(c->sim, v->host, c->now)) == NULL) {
		sim_error(c, 400, "No valid host was found. There are not "
		    "enough hosts available.");
		return;
	}
	m = sim_migration_add(c->sim, v, "migration", dst->name);
	sim_begin(c, v, SIM_OP_MIGRATE, "resize_prep", dst->name,
	    dst->incoming_ms);
	v->migration = m->id;
	sim_record(c, v, "migrate");
	sim_reply(c, 202, NULL);
}

/* os-migrateLive: the body by microversion, then Nova's checks. */
static void
act_live(struct sim_call *c, struct sim_server *v, json_t *arg)
{
	static const char *const ok[] = { "active", "paused", NULL };
	struct sim_host		*src, *dst = NULL;
	struct sim_migration	*m;
	json_t			*bm, *val;
	const char		*host, *key;

	if (!json_is_object(arg)) {
		sim_error(c, 400, "Invalid input for field/attribute "
		    "os-migrateLive. None is not of type 'object'");
		return;
	}
	json_object_foreach(arg, key, val) {
		if (strcmp(key, "host") != 0 &&
		    strcmp(key, "block_migration") != 0 &&
		    !(strcmp(key, "disk_over_commit") == 0 &&
		    c->mv < SIM_MV(2, 25)) && !(strcmp(key, "force") == 0 &&
		    c->mv >= SIM_MV(2, 30) && c->mv < SIM_MV(2, 68))) {
			sim_error(c, 400, "Invalid input for field/attribute "
			    "os-migrateLive. Additional properties are not "
			    "allowed ('%s' was unexpected)", key);
			return;
		}
	}
	bm = json_object_get(arg, "block_migration");
	if (json_object_get(arg, "host") == NULL || bm == NULL ||
	    (c->mv < SIM_MV(2, 25) &&
	    json_object_get(arg, "disk_over_commit") == NULL)) {
		sim_error(c, 400, "Invalid input for field/attribute "
		    "os-migrateLive. 'host' and 'block_migration'%s are "
		    "required properties", c->mv < SIM_MV(2, 25) ?
		    " and 'disk_over_commit'" : "");
		return;
	}
	if (!json_is_boolean(bm) && !(c->mv >= SIM_MV(2, 25) &&
	    json_is_string(bm) && strcmp(json_string_value(bm), "auto") == 0)) {
		sim_error(c, 400, "Invalid input for field/attribute "
		    "block_migration.");
		return;
	}
	host = json_string_value(json_object_get(arg, "host"));
	src = sim_host_find(c->sim, v->host);
	if (sim_target(c, v, host, 400, &dst) != 0)
		return;
	if (!sim_state_is(c, v, "os-migrateLive", ok))
		return;
	if (src != NULL && !sim_host_up(c->sim, src, c->now)) {
		sim_error(c, 409, "Compute service of %s is unavailable at "
		    "this time.", src->name);
		return;
	}
	if (dst == NULL &&
	    (dst = sim_schedule(c->sim, v->host, c->now)) == NULL) {
		sim_error(c, 400, "No valid host was found. There are not "
		    "enough hosts available.");
		return;
	}
	m = sim_migration_add(c->sim, v, "live-migration", dst->name);
	sim_set(&m->status, "running");
	sim_begin(c, v, SIM_OP_LIVE_MIGRATE, "migrating", dst->name,
	    dst->incoming_ms);
	v->migration = m->id;
	sim_record(c, v, "live-migration");
	sim_reply(c, 202, NULL);
}

static void
act_confirm(struct sim_call *c, struct sim_server *v, json_t *arg)
{
	static const char *const ok[] = { "resized", NULL };

	if (!sim_state_is(c, v, "confirmResize", ok))
		return;
	v->op = SIM_OP_CONFIRM;
	v->due = c->now + c->sim->delay[SIM_OP_CONFIRM];
	sim_record(c, v, "confirmResize");
	sim_reply(c, 204, NULL);
}

/* An operation is due: finish it (or wait for its host to be back). */
void
sim_nova_finish(struct sim *s, struct sim_server *v, int64_t now)
{
	struct sim_host		*src, *dst;
	struct sim_migration	*m;
	const char		*why = NULL;
	char			 ts[32];
	enum sim_op		 op = v->op;

	src = sim_host_find(s, v->host);
	dst = v->target != NULL ? sim_host_find(s, v->target) : NULL;
	m = v->migration != 0 ? sim_migration_find(s, v->migration) : NULL;
	switch (op) {
	case SIM_OP_STOP:
	case SIM_OP_START:
	case SIM_OP_CONFIRM:
		if (src != NULL && !src->alive)
			return;		/* nova-compute cannot act */
		if (op == SIM_OP_STOP) {
			sim_set(&v->vm_state, "stopped");
			v->power_state = 4;
		} else if (op == SIM_OP_START) {
			sim_set(&v->vm_state, "active");
			v->power_state = 1;
		} else {
			sim_set(&v->vm_state, v->power_state == 1 ? "active" :
			    "stopped");
			if (m != NULL)
				sim_set(&m->status, "confirmed");
		}
		break;
	case SIM_OP_EVACUATE:
		if (dst == NULL)
			why = "No valid host was found. There are not enough "
			    "hosts available.";
		else if (dst->fail_incoming || !dst->alive)
			why = "Failed to rebuild the instance on the target "
			    "host.";
		else if (v->evacuate_fails)
			why = "Rebuild of the instance failed (scenario).";
		if (why != NULL) {
			sim_set(&v->vm_state, "error");
			json_decref(v->fault);
			sim_time(time_now_ms(), 0, ts);
			v->fault = json_pack("{s:i,s:s,s:s}", "code", 500,
			    "message", why, "created", ts);
			if (m != NULL)
				sim_set(&m->status, "failed");
			break;
		}
		sim_set(&v->host, dst->name);
		if (strcmp(v->vm_state, "error") == 0)
			sim_set(&v->vm_state, "active");
		v->power_state = strcmp(v->vm_state, "active") == 0 ? 1 : 4;
		json_decref(v->fault);
		v->fault = NULL;
		if (m != NULL)
			sim_set(&m->status, "done");
		break;
	case SIM_OP_MIGRATE:
	case SIM_OP_LIVE_MIGRATE:
		if (src != NULL && !src->alive)
			return;
		if (dst == NULL || dst->fail_incoming || !dst->alive) {
			if (m != NULL)
				sim_set(&m->status, "error");
			break;
		}
		sim_set(&v->host, dst->name);
		if (op == SIM_OP_MIGRATE) {
			sim_set(&v->vm_state, "resized");
			if (m != NULL)
				sim_set(&m->status, "finished");
		} else if (m != NULL)
			sim_set(&m->status, "completed");
		break;
	default:
		break;
	}
	if (m != NULL)
		m->updated_wall = time_now_ms();
	v->op = SIM_OP_NONE;
	if (op != SIM_OP_MIGRATE)
		v->migration = 0;
	sim_set(&v->task_state, NULL);
	sim_set(&v->target, NULL);
	v->updated_wall = time_now_ms();
}

/* ------------------------------------------------------------------ */
/* Compute services.                                                   */

static json_t *
sim_service_json(struct sim_call *c, struct sim_host *h)
{
	json_t	*o;
	char	 ts[32];

	sim_time(h->alive ? time_now_ms() - 3000 : h->updated_wall, 2, ts);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s?}", "binary",
	    "nova-compute", "host", h->name, "zone", h->zone, "status",
	    h->enabled ? "enabled" : "disabled", "state", sim_host_up(c->sim,
	    h, c->now) ? "up" : "down", "updated_at", ts, "disabled_reason",
	    h->disabled_reason);
	if (c->mv >= SIM_MV(2, 53))
		json_object_set_new(o, "id", json_string(h->service_uuid));
	else
		json_object_set_new(o, "id", json_integer(h->id));
	if (c->mv >= SIM_MV(2, 11))
		json_object_set_new(o, "forced_down",
		    json_boolean(h->forced_down));
	return (o);
}

/* GET /os-services?host=&binary=. */
void
sim_nova_services(struct sim_call *c)
{
	const char	*host, *bin;
	json_t		*list;
	size_t		 i;

	host = json_string_value(json_object_get(c->req->query, "host"));
	bin = json_string_value(json_object_get(c->req->query, "binary"));
	list = json_array();
	for (i = 0; i < c->sim->nhosts; i++) {
		if (host != NULL && strcmp(host, c->sim->hosts[i]->name) != 0)
			continue;
		if (bin != NULL && strcmp(bin, "nova-compute") != 0)
			continue;
		json_array_append_new(list, sim_service_json(c,
		    c->sim->hosts[i]));
	}
	sim_reply(c, 200, json_pack("{s:o}", "services", list));
}

/*
 * PUT /os-services/{uuid} (2.53+): status, disabled_reason, forced_down.
 * Before 2.53, PUT /os-services/{enable,disable,disable-log-reason,
 * force-down} with host and binary.
 */
void
sim_nova_service_update(struct sim_call *c)
{
	struct sim_host	*h = NULL;
	json_t		*st, *reason, *fd, *val;
	const char	*key, *s;
	size_t		 i;

	for (i = 0; i < nitems(sim_legacy_services); i++) {
		if (strcmp(c->arg[0], sim_legacy_services[i]) == 0 &&
		    c->mv < SIM_MV(2, 53)) {
			sim_nova_service_legacy(c);
			return;
		}
	}
	for (i = 0; i < c->sim->nhosts; i++) {
		if (c->mv >= SIM_MV(2, 53) &&
		    strcmp(c->sim->hosts[i]->service_uuid, c->arg[0]) == 0)
			h = c->sim->hosts[i];
	}
	if (h == NULL) {
		sim_error(c, 404, "Service %s could not be found.", c->arg[0]);
		return;
	}
	if (!json_is_object(c->body)) {
		sim_error(c, 400, "Malformed request body.");
		return;
	}
	json_object_foreach(c->body, key, val) {
		if (strcmp(key, "status") != 0 &&
		    strcmp(key, "disabled_reason") != 0 &&
		    strcmp(key, "forced_down") != 0) {
			sim_error(c, 400, "Invalid input for field/attribute "
			    "service. Additional properties are not allowed "
			    "('%s' was unexpected)", key);
			return;
		}
	}
	st = json_object_get(c->body, "status");
	reason = json_object_get(c->body, "disabled_reason");
	fd = json_object_get(c->body, "forced_down");
	s = json_string_value(st);
	if (st == NULL && fd == NULL) {
		sim_error(c, 400, "No updates were requested. Fields "
		    "'status' or 'forced_down' should be specified.");
		return;
	}
	if (st != NULL && (s == NULL || (strcmp(s, "enabled") != 0 &&
	    strcmp(s, "disabled") != 0))) {
		sim_error(c, 400, "Invalid input for field/attribute status.");
		return;
	}
	if (reason != NULL && (s == NULL || strcmp(s, "disabled") != 0)) {
		sim_error(c, 400, "Specifying 'disabled_reason' with status "
		    "other than 'disabled' is invalid.");
		return;
	}
	if (fd != NULL && !json_is_boolean(fd)) {
		sim_error(c, 400, "Invalid input for field/attribute "
		    "forced_down.");
		return;
	}
	if (s != NULL) {
		h->enabled = strcmp(s, "enabled") == 0;
		sim_set(&h->disabled_reason, h->enabled ? NULL :
		    json_string_value(reason));
	}
	if (fd != NULL)
		h->forced_down = json_is_true(fd);
	h->updated_wall = time_now_ms();
	sim_reply(c, 200, json_pack("{s:o}", "service", sim_service_json(c,
	    h)));
}

/* The services API before 2.53. */
void
sim_nova_service_legacy(struct sim_call *c)
{
	struct sim_host	*h;
	const char	*host, *bin, *what = c->arg[0];
	json_t		*fd, *out;

	host = json_string_value(json_object_get(c->body, "host"));
	bin = json_string_value(json_object_get(c->body, "binary"));
	if (host == NULL || bin == NULL) {
		sim_error(c, 400, "Invalid input for field/attribute service: "
		    "'host' and 'binary' are required properties");
		return;
	}
	if ((h = sim_host_find(c->sim, host)) == NULL ||
	    strcmp(bin, "nova-compute") != 0) {
		sim_error(c, 404, "Host %s could not be found.", host);
		return;
	}
	if (strcmp(what, "enable") == 0) {
		h->enabled = 1;
		sim_set(&h->disabled_reason, NULL);
	} else if (strcmp(what, "disable") == 0) {
		h->enabled = 0;
	} else if (strcmp(what, "disable-log-reason") == 0) {
		h->enabled = 0;
		sim_set(&h->disabled_reason, json_string_value(
		    json_object_get(c->body, "disabled_reason")));
	} else {
		fd = json_object_get(c->body, "forced_down");
		if (c->mv < SIM_MV(2, 11) || !json_is_boolean(fd)) {
			sim_error(c, 400, "Invalid input for field/attribute "
			    "forced_down.");
			return;
		}
		h->forced_down = json_is_true(fd);
		sim_reply(c, 200, json_pack("{s:{s:s,s:s,s:b}}", "service",
		    "host", h->name, "binary", bin, "forced_down",
		    h->forced_down));
		return;
	}
	h->updated_wall = time_now_ms();
	out = json_pack("{s:s,s:s,s:s}", "host", h->name, "binary", bin,
	    "status", h->enabled ? "enabled" : "disabled");
	if (h->disabled_reason != NULL)
		json_object_set_new(out, "disabled_reason",
		    json_string(h->disabled_reason));
	sim_reply(c, 200, json_pack("{s:o}", "service", out));
}

/* ------------------------------------------------------------------ */
/* Hypervisors.                                                        */

static json_t *
sim_hypervisor_json(struct sim_call *c, struct sim_host *h, int detail)
{
	json_t	*o;
	size_t	 i;
	int	 vms = 0;

	o = json_pack("{s:s,s:s,s:s}", "hypervisor_hostname", h->hypervisor,
	    "state", sim_host_up(c->sim, h, c->now) ? "up" : "down",
	    "status", h->enabled ? "enabled" : "disabled");
	if (c->mv >= SIM_MV(2, 53))
		json_object_set_new(o, "id", json_string(h->hypervisor_uuid));
	else
		json_object_set_new(o, "id", json_integer(h->id));
	if (!detail)
		return (o);
	for (i = 0; i < c->sim->nservers; i++) {
		if (strcmp(c->sim->servers[i]->host, h->name) == 0)
			vms++;
	}
	json_object_set_new(o, "host_ip", json_string(h->ip));
	json_object_set_new(o, "hypervisor_type", json_string("QEMU"));
	json_object_set_new(o, "hypervisor_version", json_integer(7002000));
	json_object_set_new(o, "service", json_pack("{s:s,s:o,s:s?}", "host",
	    h->name, "id", c->mv >= SIM_MV(2, 53) ?
	    json_string(h->service_uuid) : json_integer(h->id),
	    "disabled_reason", h->disabled_reason));
	if (c->mv < SIM_MV(2, 88)) {
		json_object_set_new(o, "vcpus", json_integer(h->vcpus));
		json_object_set_new(o, "vcpus_used", json_integer(vms));
		json_object_set_new(o, "memory_mb",
		    json_integer(h->memory_mb));
		json_object_set_new(o, "memory_mb_used",
		    json_integer(vms * 2048));
		json_object_set_new(o, "running_vms", json_integer(vms));
	}
	return (o);
}

static void
sim_hypervisors_list(struct sim_call *c, int detail)
{
	const char	*pat;
	json_t		*list;
	size_t		 i;

	pat = json_string_value(json_object_get(c->req->query,
	    "hypervisor_hostname_pattern"));
	list = json_array();
	for (i = 0; i < c->sim->nhosts; i++) {
		if (pat != NULL && strstr(c->sim->hosts[i]->hypervisor,
		    pat) == NULL)
			continue;
		json_array_append_new(list, sim_hypervisor_json(c,
		    c->sim->hosts[i], detail));
	}
	sim_reply(c, 200, json_pack("{s:o}", "hypervisors", list));
}

void
sim_nova_hypervisors(struct sim_call *c)
{
	sim_hypervisors_list(c, 0);
}

void
sim_nova_hypervisors_detail(struct sim_call *c)
{
	sim_hypervisors_list(c, 1);
}

/* GET /os-hypervisors/{id}. */
void
sim_nova_hypervisor(struct sim_call *c)
{
	char	buf[16];
	size_t	i;

	for (i = 0; i < c->sim->nhosts; i++) {
		snprintf(buf, sizeof buf, "%d", c->sim->hosts[i]->id);
		if ((c->mv >= SIM_MV(2, 53) &&
		    strcmp(c->sim->hosts[i]->hypervisor_uuid, c->arg[0]) ==
		    0) || (c->mv < SIM_MV(2, 53) &&
		    strcmp(buf, c->arg[0]) == 0)) {
			sim_reply(c, 200, json_pack("{s:o}", "hypervisor",
			    sim_hypervisor_json(c, c->sim->hosts[i], 1)));
			return;
		}
	}
	sim_error(c, 404, "Hypervisor with ID %s could not be found.",
	    c->arg[0]);
}

/* ------------------------------------------------------------------ */
/* Aggregates.                                                         */

static json_t *
sim_aggregate_json(struct sim_call *c, struct sim_aggregate *a)
{
	json_t	*o;
	char	 created[32], updated[32];

	sim_time(a->created_wall, 2, created);
	sim_time(a->updated_wall, 2, updated);
	o = json_pack("{s:i,s:s,s:s?,s:O,s:O,s:s,s:s?,s:b,s:n}", "id", a->id,
	    "name", a->name, "availability_zone", a->zone, "hosts", a->hosts,
	    "metadata", a->metadata, "created_at", created, "updated_at",
	    a->updated_wall != 0 ? updated : NULL, "deleted", 0,
	    "deleted_at");
	if (c->mv >= SIM_MV(2, 41))
		json_object_set_new(o, "uuid", json_string(a->uuid));
	return (o);
}

/* GET /os-aggregates. */
void
sim_nova_aggregates(struct sim_call *c)
{
	json_t	*list;
	size_t	 i;

	list = json_array();
	for (i = 0; i < c->sim->naggs; i++)
		json_array_append_new(list, sim_aggregate_json(c,
		    c->sim->aggs[i]));
	sim_reply(c, 200, json_pack("{s:o}", "aggregates", list));
}

/* GET /os-aggregates/{id}. */
void
sim_nova_aggregate(struct sim_call *c)
{
	struct sim_aggregate	*a;

	if ((a = sim_aggregate_find(c->sim, c->arg[0])) == NULL) {
		sim_error(c, 404, "Aggregate %s could not be found.",
		    c->arg[0]);
		return;
	}
	sim_reply(c, 200, json_pack("{s:o}", "aggregate",
	    sim_aggregate_json(c, a)));
}

/* POST /os-aggregates/{id}/action: add_host, remove_host. */
void
sim_nova_aggregate_action(struct sim_call *c)
{
	struct sim_aggregate	*a;
	json_t			*add, *rm, *h;
	const char		*host;
	size_t			 i;

	if ((a = sim_aggregate_find(c->sim, c->arg[0])) == NULL) {
		sim_error(c, 404, "Aggregate %s could not be found.",
		    c->arg[0]);
		return;
	}
	add = json_object_get(c->body, "add_host");
	rm = json_object_get(c->body, "remove_host");
	if (json_object_size(c->body) != 1 || (add == NULL && rm == NULL)) {
		sim_error(c, 400, "Invalid input for field/attribute "
		    "aggregate action: add_host or remove_host.");
		return;
	}
	host = json_string_value(json_object_get(add != NULL ? add : rm,
	    "host"));
	if (host == NULL) {
		sim_error(c, 400, "Invalid input for field/attribute host. "
		    "'host' is a required property");
		return;
	}
	if (sim_host_find(c->sim, host) == NULL) {
		sim_error(c, 404, "Compute host %s could not be found.", host);
		return;
	}
	json_array_foreach(a->hosts, i, h) {
		if (strcmp(json_string_value(h), host) == 0)
			break;
	}
	if (add != NULL) {
		if (i < json_array_size(a->hosts)) {
			sim_error(c, 409, "Aggregate %d already has host %s.",
			    a->id, host);
			return;
		}
		json_array_append_new(a->hosts, json_string(host));
	} else {
		if (i == json_array_size(a->hosts)) {
			sim_error(c, 404, "Cannot remove host %s in aggregate "
			    "%d", host, a->id);
			return;
		}
		json_array_remove(a->hosts, i);
	}
	a->updated_wall = time_now_ms();
	sim_reply(c, 200, json_pack("{s:o}", "aggregate",
	    sim_aggregate_json(c, a)));
}

/* ------------------------------------------------------------------ */
/* Migrations.                                                         */

static struct sim_migration *
sim_migration_find(struct sim *s, int id)
{
	return (id >= 1 && (size_t)id <= s->nmigs ? s->migs[id - 1] : NULL);
}

static json_t *
sim_migration_json(struct sim_call *c, struct sim_migration *m)
{
	struct sim_host	*src = sim_host_find(c->sim, m->source);
	struct sim_host	*dst = m->dest != NULL ? sim_host_find(c->sim,
			    m->dest) : NULL;
	json_t		*o;
	char		 created[32], updated[32];

	sim_time(m->created_wall, 2, created);
	sim_time(m->updated_wall, 2, updated);
	o = json_pack("{s:i,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s,s:s,s:s,s:s,"
	    "s:i,s:i}", "id", m->id, "instance_uuid", m->server,
	    "source_compute", m->source, "dest_compute", m->dest,
	    "source_node", src != NULL ? src->hypervisor : NULL, "dest_node",
	    dst != NULL ? dst->hypervisor : NULL, "dest_host", dst != NULL ?
	    dst->ip : NULL, "status", m->status, "migration_type", m->type,
	    "created_at", created, "updated_at", updated,
	    "old_instance_type_id", 1, "new_instance_type_id", 1);
	if (c->mv >= SIM_MV(2, 59))
		json_object_set_new(o, "uuid", json_string(m->uuid));
	return (o);
}

/* GET /os-migrations?instance_uuid=&host=&migration_type=&status=. */
void
sim_nova_migrations(struct sim_call *c)
{
	struct sim_migration	*m;
	json_t			*q = c->req->query, *list;
	const char		*inst, *host, *type, *status, *src;
	size_t			 i;

	inst = json_string_value(json_object_get(q, "instance_uuid"));
	host = json_string_value(json_object_get(q, "host"));
	type = json_string_value(json_object_get(q, "migration_type"));
	status = json_string_value(json_object_get(q, "status"));
	src = json_string_value(json_object_get(q, "source_compute"));
	list = json_array();
	for (i = 0; i < c->sim->nmigs; i++) {
		m = c->sim->migs[i];
		if ((inst != NULL && strcmp(inst, m->server) != 0) ||
		    (host != NULL && strcmp(host, m->source) != 0 &&
		    (m->dest == NULL || strcmp(host, m->dest) != 0)) ||
		    (type != NULL && strcmp(type, m->type) != 0) ||
		    (status != NULL && strcmp(status, m->status) != 0) ||
		    (src != NULL && strcmp(src, m->source) != 0))
			continue;
		json_array_append_new(list, sim_migration_json(c, m));
	}
	sim_reply(c, 200, json_pack("{s:o}", "migrations", list));
}
