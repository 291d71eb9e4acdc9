/*
 * sim-state.c -- the simulated cloud's state: the scenario that builds
 * it (YAML: hosts, servers, aggregates, users, delays, injected faults
 * and timed events), the clock that moves it (operations due finish,
 * events fire, lazily at each call), and the /_sim control calls that
 * change it while it runs.
 *
 * A scenario is checked whole before it replaces the state: a bad one
 * is an error naming the file and the place ("hosts[2].alive: must be
 * true or false") and the cloud stays as it was.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sim/sim-int.h"

#define SIM_SCENARIO_MAX	(4 * 1024 * 1024)
#define SIM_MAX_COUNT		100000

/* The cloud without a scenario file. */
static const char sim_builtin[] =
	"hosts:\n"
	"  - name: compute-1\n"
	"  - name: compute-2\n"
	"  - name: compute-3\n"
	"  - name: compute-4\n"
	"aggregates:\n"
	"  - name: agg-ha\n"
	"    hosts: [compute-1, compute-2]\n"
	"servers:\n"
	"  - id: 11111111-1111-4111-8111-111111111111\n"
	"    name: vm-ha-active\n"
	"    host: compute-1\n"
	"    metadata: {HA_Enabled: \"True\"}\n"
	"  - id: 22222222-2222-4222-8222-222222222222\n"
	"    name: vm-stopped\n"
	"    host: compute-1\n"
	"    vm_state: stopped\n"
	"  - id: 33333333-3333-4333-8333-333333333333\n"
	"    name: vm-error\n"
	"    host: compute-1\n"
	"    vm_state: error\n"
	"    metadata: {HA_Enabled: \"True\"}\n";

/* Operation names (delays:) and their realistic default delays (ms). */
static const struct {
	const char	*name;
	int64_t		 ms;
} sim_ops[SIM_OP_COUNT] = {
	[SIM_OP_NONE] = { "none", 0 },
	[SIM_OP_STOP] = { "stop", 3000 },
	[SIM_OP_START] = { "start", 4000 },
	[SIM_OP_EVACUATE] = { "evacuate", 10000 },
	[SIM_OP_MIGRATE] = { "migrate", 15000 },
	[SIM_OP_LIVE_MIGRATE] = { "live_migrate", 10000 },
	[SIM_OP_CONFIRM] = { "confirm_resize", 2000 },
};

/* Power states by vm_state, when the scenario does not say. */
static const struct {
	const char	*vm_state;
	int		 power;
} sim_power[] = {
	{ "active", 1 }, { "stopped", 4 }, { "error", 4 }, { "paused", 3 },
	{ "suspended", 7 }, { "rescued", 1 }, { "resized", 1 },
	{ "building", 0 }, { "shelved", 4 }, { "shelved_offloaded", 4 },
	{ "soft-deleted", 4 }, { "deleted", 0 },
};

static const char *const sim_top_keys[] = { "region", "delays", "latency",
	"service_down_time", "keystone", "hosts", "aggregates", "servers",
	"faults", "events", NULL };
static const char *const sim_ks_keys[] = { "token_ttl",
	"token_expires_after", "users", "application_credentials", NULL };
static const char *const sim_user_keys[] = { "name", "password", "domain",
	"project", "roles", NULL };
static const char *const sim_app_keys[] = { "id", "name", "secret", "user",
	"roles", NULL };
static const char *const sim_host_keys[] = { "name", "hypervisor_hostname",
	"zone", "ip", "alive", "report_up_for", "enabled", "disabled_reason",
	"forced_down", "fail_incoming", "incoming_delay", "vcpus",
	"memory_mb", NULL };
static const char *const sim_host_set_keys[] = { "alive", "report_up_for",
	"enabled", "disabled_reason", "forced_down", "fail_incoming",
	"incoming_delay", NULL };
static const char *const sim_agg_keys[] = { "id", "name", "zone", "hosts",
	"metadata", NULL };
static const char *const sim_server_keys[] = { "id", "name", "host",
	"vm_state", "task_state", "power_state", "metadata", "project",
	"user", "locked", "locked_reason", "flavor", "evacuate_fails",
	"evacuate_delay", "count", NULL };
static const char *const sim_fault_keys[] = { "method", "path", "action",
	"status", "message", "times", "after", "retry_after", NULL };
static const char *const sim_event_keys[] = { "at", "host", "alive",
	"report_up_for", "enabled", "disabled_reason", "forced_down",
	"fail_incoming", "incoming_delay", NULL };

/* Reading a scenario: where errors go. */
struct sim_sc {
	const char	*file;
	char		*cause;
};

static int	 sc_fail(struct sim_sc *, const char *, const char *, ...)
		     printflike(3, 4);
static int	 sc_keys(struct sim_sc *, json_t *, const char *,
		     const char *const *);
static int	 sc_string(struct sim_sc *, json_t *, const char *,
		     const char *, const char *, char **);
static int	 sc_bool(struct sim_sc *, json_t *, const char *,
		     const char *, int, int *);
static int	 sc_seconds(struct sim_sc *, json_t *, const char *,
		     const char *, int64_t, int64_t *);
static int	 sc_names(struct sim_sc *, json_t *, const char *,
		     const char *, json_t **);
static int	 sim_load(struct sim *, struct sim_sc *, json_t *);
static int	 sim_load_keystone(struct sim *, struct sim_sc *, json_t *);
static int	 sim_load_host(struct sim *, struct sim_sc *, json_t *,
		     const char *);
static int	 sim_load_server(struct sim *, struct sim_sc *, json_t *,
		     const char *);
static int	 sim_load_fault(struct sim *, struct sim_sc *, json_t *,
		     const char *);
static void	 sim_project_add(struct sim *, const char *);
static int	 sim_host_check(struct sim_sc *, json_t *, const char *,
		     const char *const *);
static void	 sim_move(struct sim *, struct sim *);

#define SIM_PUSH(arr, n, item) do {					\
	(arr) = xreallocarray((arr), (n) + 1, sizeof *(arr));		\
	(arr)[(n)++] = (item);						\
} while (0)

/* ------------------------------------------------------------------ */
/* Reading values.                                                     */

/* Set the cause "file: where: why"; returns -1. */
static int
sc_fail(struct sim_sc *sc, const char *where, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	free(sc->cause);
	xasprintf(&sc->cause, "%s: %s%s%s", sc->file, where,
	    *where != '\0' ? ": " : "", msg);
	free(msg);
	return (-1);
}

/* o must be a mapping of the allowed keys. */
static int
sc_keys(struct sim_sc *sc, json_t *o, const char *where,
    const char *const *keys)
{
	const char	*key;
	json_t		*v;
	size_t		 i, n;

	if (!json_is_object(o))
		return (sc_fail(sc, where, "must be a mapping"));
	json_object_foreach(o, key, v) {
		for (i = 0; keys[i] != NULL; i++) {
			if (strcmp(keys[i], key) == 0)
				break;
		}
		if (keys[i] == NULL) {
			for (n = 0; keys[n] != NULL; n++)
				continue;
			return (sc_fail(sc, where, "unknown key '%s'%s%s%s",
			    key, lib_closest(key, keys, n) != NULL ?
			    " (did you mean '" : "", lib_closest(key, keys,
			    n) != NULL ? lib_closest(key, keys, n) : "",
			    lib_closest(key, keys, n) != NULL ? "'?)" : ""));
		}
	}
	return (0);
}

/* A text value (numbers as text); def (may be NULL) when absent. */
static int
sc_string(struct sim_sc *sc, json_t *o, const char *key, const char *where,
    const char *def, char **out)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		*out = def != NULL ? xstrdup(def) : NULL;
		return (0);
	}
	if (json_is_string(v))
		*out = xstrdup(json_string_value(v));
	else if (json_is_integer(v))
		xasprintf(out, "%lld", (long long)json_integer_value(v));
	else
		return (sc_fail(sc, where, "%s: must be text", key));
	return (0);
}

/* A boolean; def when absent. */
static int
sc_bool(struct sim_sc *sc, json_t *o, const char *key, const char *where,
    int def, int *out)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		*out = def;
	else if (json_is_boolean(v))
		*out = json_is_true(v);
	else
		return (sc_fail(sc, where, "%s: must be true or false", key));
	return (0);
}

/* Seconds (a number, or "250ms", "10s"...) as ms; def when absent. */
static int
sc_seconds(struct sim_sc *sc, json_t *o, const char *key, const char *where,
    int64_t def, int64_t *out)
{
	json_t	*v = json_object_get(o, key);
	char	*why;

	if (v == NULL || json_is_null(v))
		*out = def;
	else if (json_is_number(v) && json_number_value(v) >= 0 &&
	    json_number_value(v) <= 1e7)
		*out = (int64_t)(json_number_value(v) * 1000.0);
	else if (json_is_string(v)) {
		if (time_parse_duration(json_string_value(v), out,
		    &why) != 0) {
			sc_fail(sc, where, "%s: %s", key, why);
			free(why);
			return (-1);
		}
	} else
		return (sc_fail(sc, where, "%s: must be a number of seconds",
		    key));
	return (0);
}

/* A list of host names that exist. */
static int
sc_names(struct sim_sc *sc, json_t *o, const char *key, const char *where,
    json_t **out)
{
	json_t	*v = json_object_get(o, key), *item;
	size_t	 i;

	*out = json_array();
	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_array(v))
		return (sc_fail(sc, where, "%s: must be a list", key));
	json_array_foreach(v, i, item) {
		if (!json_is_string(item))
			return (sc_fail(sc, where, "%s[%zu]: must be a host "
			    "name", key, i));
		json_array_append(*out, item);
	}
	return (0);
}

/* ------------------------------------------------------------------ */
/* Loading.                                                            */

/* Load a scenario into a fresh state that then replaces s's. */
int
sim_scenario_load(struct sim *s, const char *file, char **cause)
{
	struct sim	 tmp;
	struct sim_sc	 sc;
	json_t		*doc;
	char		*why;
	int		 rc;

	if (file != NULL)
		doc = yaml_load_file(file, SIM_SCENARIO_MAX, &why);
	else
		doc = yaml_load_json(sim_builtin, sizeof sim_builtin - 1,
		    "built-in scenario", &why);
	if (doc == NULL) {
		*cause = why;
		return (-1);
	}
	memset(&tmp, 0, sizeof tmp);
	tmp.delay_override = s->delay_override;
	tmp.started = time_mono_ms();
	sc.file = file != NULL ? file : "built-in scenario";
	sc.cause = NULL;
	if (json_is_null(doc)) {
		json_decref(doc);
		doc = json_object();
	}
	rc = sim_load(&tmp, &sc, doc);
	json_decref(doc);
	if (rc != 0) {
		sim_state_clear(&tmp);
		*cause = sc.cause;
		return (-1);
	}
	sim_state_clear(s);
	sim_move(s, &tmp);
	return (0);
}

/* Give s the state of from (whose fields are then left alone). */
static void
sim_move(struct sim *s, struct sim *from)
{
	s->started = from->started;
	s->region = from->region;
	memcpy(s->delay, from->delay, sizeof s->delay);
	s->latency_ms = from->latency_ms;
	s->token_ttl_ms = from->token_ttl_ms;
	s->token_dies_ms = from->token_dies_ms;
	s->hosts = from->hosts;
	s->nhosts = from->nhosts;
	s->servers = from->servers;
	s->nservers = from->nservers;
	s->aggs = from->aggs;
	s->naggs = from->naggs;
	s->migs = from->migs;
	s->nmigs = from->nmigs;
	s->users = from->users;
	s->nusers = from->nusers;
	s->projects = from->projects;
	s->nprojects = from->nprojects;
	s->appcreds = from->appcreds;
	s->nappcreds = from->nappcreds;
	s->tokens = from->tokens;
	s->ntokens = from->ntokens;
	s->faults = from->faults;
	s->nfaults = from->nfaults;
	s->events = from->events;
	s->nevents = from->nevents;
}

/* The whole document. */
static int
sim_load(struct sim *s, struct sim_sc *sc, json_t *doc)
{
	json_t		*v, *item, *o;
	struct sim_aggregate *a;
	struct sim_event *ev;
	char		 where[64];
	size_t		 i, k;
	int64_t		 ms, down;

	if (sc_keys(sc, doc, "", sim_top_keys) != 0)
		return (-1);
	if (sc_string(sc, doc, "region", "region", "RegionOne",
	    &s->region) != 0)
		return (-1);
	o = json_object_get(doc, "delays");
	if (o != NULL && !json_is_object(o))
		return (sc_fail(sc, "delays", "must be a mapping"));
	for (i = 1; i < SIM_OP_COUNT; i++) {
		if (sc_seconds(sc, o, sim_ops[i].name, "delays",
		    sim_ops[i].ms, &s->delay[i]) != 0)
			return (-1);
		if (s->delay_override >= 0)
			s->delay[i] = (int64_t)(s->delay_override * 1000.0);
	}
	if (o != NULL) {
		const char	*key;

		json_object_foreach(o, key, v) {
			for (i = 1; i < SIM_OP_COUNT; i++) {
				if (strcmp(sim_ops[i].name, key) == 0)
					break;
			}
			if (i == SIM_OP_COUNT)
				return (sc_fail(sc, "delays", "unknown "
				    "operation '%s' (stop, start, evacuate, "
				    "migrate, live_migrate, confirm_resize)",
				    key));
		}
	}
	if (sc_seconds(sc, doc, "latency", "latency", 0,
	    &s->latency_ms) != 0)
		return (-1);
	if (sc_seconds(sc, doc, "service_down_time", "service_down_time", 0,
	    &down) != 0)
		return (-1);
	if (sim_load_keystone(s, sc, json_object_get(doc, "keystone")) != 0)
		return (-1);

	v = json_object_get(doc, "hosts");
	if (v != NULL && !json_is_array(v))
		return (sc_fail(sc, "hosts", "must be a list"));
	json_array_foreach(v, i, item) {
		snprintf(where, sizeof where, "hosts[%zu]", i);
		if (sim_load_host(s, sc, item, where) != 0)
			return (-1);
		if (json_object_get(item, "report_up_for") == NULL)
			s->hosts[s->nhosts - 1]->report_up_ms = down;
	}

	v = json_object_get(doc, "aggregates");
	if (v != NULL && !json_is_array(v))
		return (sc_fail(sc, "aggregates", "must be a list"));
	json_array_foreach(v, i, item) {
		snprintf(where, sizeof where, "aggregates[%zu]", i);
		if (sc_keys(sc, item, where, sim_agg_keys) != 0)
			return (-1);
		a = xcalloc(1, sizeof *a);
		SIM_PUSH(s->aggs, s->naggs, a);
		o = json_object_get(item, "id");
		a->id = json_is_integer(o) ? (int)json_integer_value(o) :
		    (int)i + 1;
		uuid_make(a->uuid);
		a->created_wall = time_now_ms();
		a->metadata = json_object();
		if (sc_string(sc, item, "name", where, NULL, &a->name) != 0 ||
		    sc_string(sc, item, "zone", where, NULL, &a->zone) != 0 ||
		    sc_names(sc, item, "hosts", where, &a->hosts) != 0)
			return (-1);
		if (a->name == NULL)
			return (sc_fail(sc, where, "name: missing"));
		json_array_foreach(a->hosts, k, o) {
			if (sim_host_find(s, json_string_value(o)) == NULL)
				return (sc_fail(sc, where, "hosts: no host "
				    "'%s'", json_string_value(o)));
		}
		o = json_object_get(item, "metadata");
		if (json_is_object(o))
			json_object_update(a->metadata, o);
		else if (o != NULL && !json_is_null(o))
			return (sc_fail(sc, where, "metadata: must be a "
			    "mapping"));
	}

	v = json_object_get(doc, "servers");
	if (v != NULL && !json_is_array(v))
		return (sc_fail(sc, "servers", "must be a list"));
	json_array_foreach(v, i, item) {
		snprintf(where, sizeof where, "servers[%zu]", i);
		if (sim_load_server(s, sc, item, where) != 0)
			return (-1);
	}

	v = json_object_get(doc, "faults");
	if (v != NULL && !json_is_array(v))
		return (sc_fail(sc, "faults", "must be a list"));
	json_array_foreach(v, i, item) {
		snprintf(where, sizeof where, "faults[%zu]", i);
		if (sim_load_fault(s, sc, item, where) != 0)
			return (-1);
	}

	v = json_object_get(doc, "events");
	if (v != NULL && !json_is_array(v))
		return (sc_fail(sc, "events", "must be a list"));
	json_array_foreach(v, i, item) {
		snprintf(where, sizeof where, "events[%zu]", i);
		if (sim_host_check(sc, item, where, sim_event_keys) != 0)
			return (-1);
		if (sc_seconds(sc, item, "at", where, 0, &ms) != 0)
			return (-1);
		ev = xcalloc(1, sizeof *ev);
		SIM_PUSH(s->events, s->nevents, ev);
		ev->at = s->started + ms;
		if (sc_string(sc, item, "host", where, NULL, &ev->host) != 0)
			return (-1);
		if (ev->host == NULL || sim_host_find(s, ev->host) == NULL)
			return (sc_fail(sc, where, "host: no host '%s'",
			    ev->host != NULL ? ev->host : ""));
		ev->set = json_deep_copy(item);
		json_object_del(ev->set, "at");
		json_object_del(ev->set, "host");
	}
	return (0);
}

/* keystone: token lifetimes, users, application credentials. */
static int
sim_load_keystone(struct sim *s, struct sim_sc *sc, json_t *ks)
{
	struct sim_user		*u;
	struct sim_appcred	*a;
	json_t			*users, *item, *roles;
	char			 where[64], *uname;
	size_t			 i, k;

	if (ks != NULL && !json_is_null(ks) &&
	    sc_keys(sc, ks, "keystone", sim_ks_keys) != 0)
		return (-1);
	if (sc_seconds(sc, ks, "token_ttl", "keystone", 3600 * 1000,
	    &s->token_ttl_ms) != 0 ||
	    sc_seconds(sc, ks, "token_expires_after", "keystone", -1,
	    &s->token_dies_ms) != 0)
		return (-1);
	if (s->token_ttl_ms < 1000)
		return (sc_fail(sc, "keystone", "token_ttl: at least 1 "
		    "second"));

	users = json_object_get(ks, "users");
	if (users == NULL)
		users = json_pack("[{s:s,s:s,s:s,s:[sss]},{s:s,s:s,s:s,"
		    "s:[ss]}]", "name", "admin", "password", "secret",
		    "project", "admin", "roles", "admin", "member", "reader",
		    "name", "demo", "password", "demo", "project", "demo",
		    "roles", "member", "reader");
	else if (!json_is_array(users))
		return (sc_fail(sc, "keystone.users", "must be a list"));
	else
		json_incref(users);
	json_array_foreach(users, i, item) {
		snprintf(where, sizeof where, "keystone.users[%zu]", i);
		if (sc_keys(sc, item, where, sim_user_keys) != 0)
			goto fail;
		u = xcalloc(1, sizeof *u);
		SIM_PUSH(s->users, s->nusers, u);
		uuid_make(u->id);
		if (sc_string(sc, item, "name", where, NULL, &u->name) != 0 ||
		    sc_string(sc, item, "password", where, NULL,
		    &u->password) != 0 ||
		    sc_string(sc, item, "domain", where, "Default",
		    &u->domain) != 0 ||
		    sc_string(sc, item, "project", where, NULL,
		    &u->project) != 0 ||
		    sc_names(sc, item, "roles", where, &u->roles) != 0)
			goto fail;
		if (u->name == NULL || u->password == NULL) {
			sc_fail(sc, where, "name and password are needed");
			goto fail;
		}
		if (json_object_get(item, "roles") == NULL)
			json_array_append_new(u->roles, json_string("member"));
		if (u->project != NULL)
			sim_project_add(s, u->project);
	}
	json_decref(users);

	item = json_object_get(ks, "application_credentials");
	if (item != NULL && !json_is_array(item))
		return (sc_fail(sc, "keystone.application_credentials",
		    "must be a list"));
	json_array_foreach(json_object_get(ks, "application_credentials"), i,
	    item) {
		snprintf(where, sizeof where,
		    "keystone.application_credentials[%zu]", i);
		if (sc_keys(sc, item, where, sim_app_keys) != 0)
			return (-1);
		a = xcalloc(1, sizeof *a);
		SIM_PUSH(s->appcreds, s->nappcreds, a);
		if (sc_string(sc, item, "id", where, NULL, &uname) != 0)
			return (-1);
		if (uname != NULL)
			snprintf(a->id, sizeof a->id, "%s", uname);
		else
			uuid_make(a->id);
		free(uname);
		if (sc_string(sc, item, "name", where, NULL, &a->name) != 0 ||
		    sc_string(sc, item, "secret", where, NULL,
		    &a->secret) != 0 ||
		    sc_string(sc, item, "user", where, NULL, &uname) != 0)
			return (-1);
		if (a->name == NULL || a->secret == NULL || uname == NULL) {
			free(uname);
			return (sc_fail(sc, where, "name, secret and user are "
			    "needed"));
		}
		for (k = 0; k < s->nusers; k++) {
			if (strcmp(s->users[k]->name, uname) == 0)
				a->user = s->users[k];
		}
		free(uname);
		if (a->user == NULL)
			return (sc_fail(sc, where, "user: no such user"));
		a->project = a->user->project != NULL ?
		    xstrdup(a->user->project) : NULL;
		roles = json_object_get(item, "roles");
		if (roles != NULL) {
			if (sc_names(sc, item, "roles", where,
			    &a->roles) != 0)
				return (-1);
		} else
			a->roles = json_deep_copy(a->user->roles);
	}
	return (0);

fail:
	json_decref(users);
	return (-1);
}

/* The keys of a host change (events, /_sim/hosts) have the right types. */
static int
sim_host_check(struct sim_sc *sc, json_t *o, const char *where,
    const char *const *keys)
{
	int	b;
	int64_t	ms;
	char	*s;

	if (sc_keys(sc, o, where, keys) != 0 ||
	    sc_bool(sc, o, "alive", where, 0, &b) != 0 ||
	    sc_bool(sc, o, "enabled", where, 0, &b) != 0 ||
	    sc_bool(sc, o, "forced_down", where, 0, &b) != 0 ||
	    sc_bool(sc, o, "fail_incoming", where, 0, &b) != 0 ||
	    sc_seconds(sc, o, "report_up_for", where, 0, &ms) != 0 ||
	    sc_seconds(sc, o, "incoming_delay", where, 0, &ms) != 0 ||
	    sc_string(sc, o, "disabled_reason", where, NULL, &s) != 0)
		return (-1);
	free(s);
	return (0);
}

/* hosts[i]. */
static int
sim_load_host(struct sim *s, struct sim_sc *sc, json_t *o,
    const char *where)
{
	struct sim_host	*h;
	json_t		*v;

	if (sim_host_check(sc, o, where, sim_host_keys) != 0)
		return (-1);
	h = xcalloc(1, sizeof *h);
	SIM_PUSH(s->hosts, s->nhosts, h);
	h->id = (int)s->nhosts;
	uuid_make(h->service_uuid);
	uuid_make(h->hypervisor_uuid);
	h->updated_wall = time_now_ms();
	if (sc_string(sc, o, "name", where, NULL, &h->name) != 0)
		return (-1);
	if (h->name == NULL || *h->name == '\0')
		return (sc_fail(sc, where, "name: missing"));
	if (s->nhosts > 1 && sim_host_find(s, h->name) != h)
		return (sc_fail(sc, where, "name: host '%s' twice", h->name));
	if (sc_string(sc, o, "hypervisor_hostname", where, h->name,
	    &h->hypervisor) != 0 ||
	    sc_string(sc, o, "zone", where, "nova", &h->zone) != 0 ||
	    sc_string(sc, o, "disabled_reason", where, NULL,
	    &h->disabled_reason) != 0 ||
	    sc_bool(sc, o, "alive", where, 1, &h->alive) != 0 ||
	    sc_bool(sc, o, "enabled", where, 1, &h->enabled) != 0 ||
	    sc_bool(sc, o, "forced_down", where, 0, &h->forced_down) != 0 ||
	    sc_bool(sc, o, "fail_incoming", where, 0,
	    &h->fail_incoming) != 0 ||
	    sc_seconds(sc, o, "report_up_for", where, 0,
	    &h->report_up_ms) != 0 ||
	    sc_seconds(sc, o, "incoming_delay", where, -1,
	    &h->incoming_ms) != 0)
		return (-1);
	if (s->delay_override >= 0 && h->incoming_ms >= 0)
		h->incoming_ms = (int64_t)(s->delay_override * 1000.0);
	xasprintf(&h->ip, "192.168.0.%zu", s->nhosts + 10);
	if ((v = json_object_get(o, "ip")) != NULL && json_is_string(v)) {
		free(h->ip);
		h->ip = xstrdup(json_string_value(v));
	}
	v = json_object_get(o, "vcpus");
	h->vcpus = json_is_integer(v) ? (int)json_integer_value(v) : 16;
	v = json_object_get(o, "memory_mb");
	h->memory_mb = json_is_integer(v) ? (int)json_integer_value(v) :
	    65536;
	if (!h->alive)
		h->down_since = s->started;
	return (0);
}

/* servers[i], or count of them. */
static int
sim_load_server(struct sim *s, struct sim_sc *sc, json_t *o,
    const char *where)
{
	struct sim_server	*v;
	json_t			*j;
	char			*name = NULL, *id = NULL;
	long long		 count = 1, n;
	size_t			 i;
	int			 rc = -1;

	if (sc_keys(sc, o, where, sim_server_keys) != 0)
		return (-1);
	j = json_object_get(o, "count");
	if (j != NULL) {
		if (!json_is_integer(j) || json_integer_value(j) < 1 ||
		    json_integer_value(j) > SIM_MAX_COUNT)
			return (sc_fail(sc, where, "count: must be 1 to %d",
			    SIM_MAX_COUNT));
		count = json_integer_value(j);
		if (json_object_get(o, "id") != NULL && count > 1)
			return (sc_fail(sc, where, "give id or count, not "
			    "both"));
	}
	if (sc_string(sc, o, "name", where, "vm", &name) != 0 ||
	    sc_string(sc, o, "id", where, NULL, &id) != 0)
		goto out;
	if (id != NULL && !uuid_valid(id)) {
		sc_fail(sc, where, "id: not a UUID: %s", id);
		goto out;
	}
	for (n = 0; n < count; n++) {
		v = xcalloc(1, sizeof *v);
		SIM_PUSH(s->servers, s->nservers, v);
		if (id != NULL) {
			snprintf(v->id, sizeof v->id, "%s", id);
			if (sim_server_find(s, id) != v) {
				sc_fail(sc, where, "id: server %s twice", id);
				goto out;
			}
		} else
			uuid_make(v->id);
		if (count > 1)
			xasprintf(&v->name, "%s-%lld", name, n + 1);
		else
			v->name = xstrdup(name);
		v->created_wall = v->updated_wall = time_now_ms();
		v->actions = json_array();
		v->metadata = json_object();
		if (sc_string(sc, o, "host", where, NULL, &v->host) != 0 ||
		    sc_string(sc, o, "vm_state", where, "active",
		    &v->vm_state) != 0 ||
		    sc_string(sc, o, "task_state", where, NULL,
		    &v->task_state) != 0 ||
		    sc_string(sc, o, "project", where, "demo",
		    &v->project_id) != 0 ||
		    sc_string(sc, o, "user", where, "demo", &v->user_id) != 0 ||
		    sc_string(sc, o, "flavor", where, "m1.small",
		    &v->flavor) != 0 ||
		    sc_string(sc, o, "locked_reason", where, NULL,
		    &v->locked_reason) != 0 ||
		    sc_bool(sc, o, "locked", where, 0, &v->locked) != 0 ||
		    sc_bool(sc, o, "evacuate_fails", where, 0,
		    &v->evacuate_fails) != 0 ||
		    sc_seconds(sc, o, "evacuate_delay", where, -1,
		    &v->evacuate_ms) != 0)
			goto out;
		if (s->delay_override >= 0 && v->evacuate_ms >= 0)
			v->evacuate_ms = (int64_t)(s->delay_override * 1000.0);
		if (v->host == NULL || sim_host_find(s, v->host) == NULL) {
			sc_fail(sc, where, "host: no host '%s'", v->host !=
			    NULL ? v->host : "");
			goto out;
		}
		v->power_state = -1;
		for (i = 0; i < nitems(sim_power); i++) {
			if (strcmp(sim_power[i].vm_state, v->vm_state) == 0)
				v->power_state = sim_power[i].power;
		}
		if (v->power_state < 0) {
			sc_fail(sc, where, "vm_state: unknown: %s",
			    v->vm_state);
			goto out;
		}
		j = json_object_get(o, "power_state");
		if (json_is_integer(j))
			v->power_state = (int)json_integer_value(j);
		j = json_object_get(o, "metadata");
		if (json_is_object(j)) {
			const char	*key;
			json_t		*mv;

			json_object_foreach(j, key, mv) {
				if (json_is_string(mv))
					json_object_set(v->metadata, key, mv);
				else if (json_is_boolean(mv))
					json_object_set_new(v->metadata, key,
					    json_string(json_is_true(mv) ?
					    "True" : "False"));
				else {
					sc_fail(sc, where, "metadata.%s: must "
					    "be text", key);
					goto out;
				}
			}
		} else if (j != NULL && !json_is_null(j)) {
			sc_fail(sc, where, "metadata: must be a mapping");
			goto out;
		}
		sim_project_add(s, v->project_id);
	}
	rc = 0;
out:
	free(name);
	free(id);
	return (rc);
}

/* faults[i]. */
static int
sim_load_fault(struct sim *s, struct sim_sc *sc, json_t *o,
    const char *where)
{
	struct sim_fault	*f;
	json_t			*v;
	int64_t			 ms;

	if (sc_keys(sc, o, where, sim_fault_keys) != 0)
		return (-1);
	f = xcalloc(1, sizeof *f);
	if (sc_string(sc, o, "method", where, NULL, &f->method) != 0 ||
	    sc_string(sc, o, "path", where, NULL, &f->path) != 0 ||
	    sc_string(sc, o, "action", where, NULL, &f->action) != 0 ||
	    sc_string(sc, o, "message", where, NULL, &f->message) != 0)
		goto fail;
	v = json_object_get(o, "status");
	if (!json_is_integer(v) || json_integer_value(v) < 400 ||
	    json_integer_value(v) > 599) {
		sc_fail(sc, where, "status: an HTTP error status (400 to 599) "
		    "is needed");
		goto fail;
	}
	f->status = (int)json_integer_value(v);
	v = json_object_get(o, "times");
	if (v == NULL)
		f->times = 1;
	else if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < 1000000)
		f->times = json_integer_value(v) == 0 ? -1 :
		    (int)json_integer_value(v);
	else {
		sc_fail(sc, where, "times: a count (0: always)");
		goto fail;
	}
	v = json_object_get(o, "after");
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < 1000000)
		f->skip = (int)json_integer_value(v);
	else if (v != NULL) {
		sc_fail(sc, where, "after: a count of calls");
		goto fail;
	}
	f->retry_after = -1;
	if (json_object_get(o, "retry_after") != NULL) {
		if (sc_seconds(sc, o, "retry_after", where, 0, &ms) != 0)
			goto fail;
		f->retry_after = (double)ms / 1000.0;
	}
	SIM_PUSH(s->faults, s->nfaults, f);
	return (0);

fail:
	free(f->method);
	free(f->path);
	free(f->action);
	free(f->message);
	free(f);
	return (-1);
}

/* Add a project by name unless it exists. */
static void
sim_project_add(struct sim *s, const char *name)
{
	struct sim_project	*p;

	if (sim_project_find(s, name) != NULL)
		return;
	p = xcalloc(1, sizeof *p);
	uuid_make(p->id);
	p->name = xstrdup(name);
	p->domain = xstrdup("Default");
	SIM_PUSH(s->projects, s->nprojects, p);
}

/* Free every part of the state. */
void
sim_state_clear(struct sim *s)
{
	size_t	i;

	for (i = 0; i < s->nhosts; i++) {
		free(s->hosts[i]->name);
		free(s->hosts[i]->hypervisor);
		free(s->hosts[i]->zone);
		free(s->hosts[i]->ip);
		free(s->hosts[i]->disabled_reason);
		free(s->hosts[i]);
	}
	for (i = 0; i < s->nservers; i++) {
		free(s->servers[i]->name);
		free(s->servers[i]->project_id);
		free(s->servers[i]->user_id);
		json_decref(s->servers[i]->metadata);
		free(s->servers[i]->host);
		free(s->servers[i]->vm_state);
		free(s->servers[i]->task_state);
		free(s->servers[i]->locked_reason);
		json_decref(s->servers[i]->fault);
		free(s->servers[i]->flavor);
		json_decref(s->servers[i]->actions);
		free(s->servers[i]->target);
		free(s->servers[i]->prev_vm_state);
		free(s->servers[i]);
	}
	for (i = 0; i < s->naggs; i++) {
		free(s->aggs[i]->name);
		free(s->aggs[i]->zone);
		json_decref(s->aggs[i]->hosts);
		json_decref(s->aggs[i]->metadata);
		free(s->aggs[i]);
	}
	for (i = 0; i < s->nmigs; i++) {
		free(s->migs[i]->source);
		free(s->migs[i]->dest);
		free(s->migs[i]->type);
		free(s->migs[i]->status);
		free(s->migs[i]);
	}
	for (i = 0; i < s->nusers; i++) {
		free(s->users[i]->name);
		free(s->users[i]->domain);
		free(s->users[i]->password);
		free(s->users[i]->project);
		json_decref(s->users[i]->roles);
		free(s->users[i]);
	}
	for (i = 0; i < s->nprojects; i++) {
		free(s->projects[i]->name);
		free(s->projects[i]->domain);
		free(s->projects[i]);
	}
	for (i = 0; i < s->nappcreds; i++) {
		free(s->appcreds[i]->name);
		free(s->appcreds[i]->secret);
		free(s->appcreds[i]->project);
		json_decref(s->appcreds[i]->roles);
		free(s->appcreds[i]);
	}
	for (i = 0; i < s->ntokens; i++) {
		free(s->tokens[i]->token);
		json_decref(s->tokens[i]->roles);
		json_decref(s->tokens[i]->methods);
		free(s->tokens[i]->appcred);
		free(s->tokens[i]);
	}
	for (i = 0; i < s->nfaults; i++) {
		free(s->faults[i]->method);
		free(s->faults[i]->path);
		free(s->faults[i]->action);
		free(s->faults[i]->message);
		free(s->faults[i]);
	}
	for (i = 0; i < s->nevents; i++) {
		free(s->events[i]->host);
		json_decref(s->events[i]->set);
		free(s->events[i]);
	}
	free(s->hosts);
	free(s->servers);
	free(s->aggs);
	free(s->migs);
	free(s->users);
	free(s->projects);
	free(s->appcreds);
	free(s->tokens);
	free(s->faults);
	free(s->events);
	free(s->region);
	s->hosts = NULL;
	s->servers = NULL;
	s->aggs = NULL;
	s->migs = NULL;
	s->users = NULL;
	s->projects = NULL;
	s->appcreds = NULL;
	s->tokens = NULL;
	s->faults = NULL;
	s->events = NULL;
	s->region = NULL;
	s->nhosts = s->nservers = s->naggs = s->nmigs = s->nusers = 0;
	s->nprojects = s->nappcreds = s->ntokens = s->nfaults = 0;
	s->nevents = 0;
}

/* ------------------------------------------------------------------ */
/* The clock and the parts.                                            */

/* Fire the events and finish the operations that are due. */
void
sim_tick(struct sim *s, int64_t now)
{
	struct sim_host	*h;
	size_t		 i;
	char		*cause;

	for (i = 0; i < s->nevents; i++) {
		if (s->events[i]->done || s->events[i]->at > now)
			continue;
		s->events[i]->done = 1;
		if ((h = sim_host_find(s, s->events[i]->host)) != NULL &&
		    sim_host_set(s, h, s->events[i]->set, &cause) != 0)
			free(cause);
	}
	for (i = 0; i < s->nservers; i++) {
		if (s->servers[i]->op != SIM_OP_NONE &&
		    s->servers[i]->due <= now)
			sim_nova_finish(s, s->servers[i], now);
	}
}

struct sim_host *
sim_host_find(struct sim *s, const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < s->nhosts; i++) {
		if (strcmp(s->hosts[i]->name, name) == 0)
			return (s->hosts[i]);
	}
	return (NULL);
}

struct sim_server *
sim_server_find(struct sim *s, const char *id)
{
	size_t	i;

	for (i = 0; id != NULL && i < s->nservers; i++) {
		if (strcmp(s->servers[i]->id, id) == 0)
			return (s->servers[i]);
	}
	return (NULL);
}

struct sim_aggregate *
sim_aggregate_find(struct sim *s, const char *id)
{
	size_t	i;
	char	buf[16];

	for (i = 0; id != NULL && i < s->naggs; i++) {
		snprintf(buf, sizeof buf, "%d", s->aggs[i]->id);
		if (strcmp(buf, id) == 0 || strcmp(s->aggs[i]->uuid, id) == 0)
			return (s->aggs[i]);
	}
	return (NULL);
}

struct sim_project *
sim_project_find(struct sim *s, const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < s->nprojects; i++) {
		if (strcmp(s->projects[i]->name, name) == 0 ||
		    strcmp(s->projects[i]->id, name) == 0)
			return (s->projects[i]);
	}
	return (NULL);
}

/*
 * Whether Nova sees the compute service up: not forced down, and the
 * machine alive or dead for less than its report_up time (Nova notices
 * a dead service only when its heartbeats are service_down_time late).
 */
int
sim_host_up(struct sim *s, struct sim_host *h, int64_t now)
{
	if (h->forced_down)
		return (0);
	if (h->alive)
		return (1);
	return (now < h->down_since + h->report_up_ms);
}

/* Apply a change to a host (alive, enabled, ...); 0, or -1 + *cause. */
int
sim_host_set(struct sim *s, struct sim_host *h, json_t *set, char **cause)
{
	struct sim_sc	 sc;
	int		 alive = h->alive;
	int64_t		 now = time_mono_ms();

	sc.file = h->name;
	sc.cause = NULL;
	if (sim_host_check(&sc, set, "", sim_host_set_keys) != 0) {
		*cause = sc.cause;
		return (-1);
	}
	if (sc_bool(&sc, set, "alive", "", h->alive, &alive) != 0 ||
	    sc_bool(&sc, set, "enabled", "", h->enabled, &h->enabled) != 0 ||
	    sc_bool(&sc, set, "forced_down", "", h->forced_down,
	    &h->forced_down) != 0 ||
	    sc_bool(&sc, set, "fail_incoming", "", h->fail_incoming,
	    &h->fail_incoming) != 0 ||
	    sc_seconds(&sc, set, "report_up_for", "", h->report_up_ms,
	    &h->report_up_ms) != 0 ||
	    sc_seconds(&sc, set, "incoming_delay", "", h->incoming_ms,
	    &h->incoming_ms) != 0) {
		*cause = sc.cause;
		return (-1);
	}
	if (json_object_get(set, "disabled_reason") != NULL) {
		free(h->disabled_reason);
		sc_string(&sc, set, "disabled_reason", "", NULL,
		    &h->disabled_reason);
	}
	if (h->alive && !alive)
		h->down_since = now;
	h->alive = alive;
	h->updated_wall = time_now_ms();
	return (0);
}

/* A new migration record for a server's operation. */
struct sim_migration *
sim_migration_add(struct sim *s, struct sim_server *v, const char *type,
    const char *dest)
{
	struct sim_migration	*m;

	m = xcalloc(1, sizeof *m);
	m->id = (int)s->nmigs + 1;
	uuid_make(m->uuid);
	snprintf(m->server, sizeof m->server, "%s", v->id);
	m->source = xstrdup(v->host);
	m->dest = dest != NULL ? xstrdup(dest) : NULL;
	m->type = xstrdup(type);
	m->status = xstrdup("accepted");
	m->created_wall = m->updated_wall = time_now_ms();
	SIM_PUSH(s->migs, s->nmigs, m);
	return (m);
}

/*
 * Wall time as OpenStack writes it: style 1 "2024-05-14T10:21:07.000000Z"
 * (Keystone), 2 "2024-05-14T10:21:07.000000" (Nova services,
 * migrations), 0 "2024-05-14T10:21:07Z" (servers).
 */
void
sim_time(int64_t wall, int style, char *out)
{
	time_t		 t = (time_t)(wall / 1000);
	struct tm	 tm;
	char		 tmp[24];

	gmtime_r(&t, &tm);
	strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	if (style == 0)
		snprintf(out, 32, "%.19sZ", tmp);
	else
		snprintf(out, 32, "%.19s.%06d%s", tmp,
		    (int)(wall % 1000) * 1000, style == 1 ? "Z" : "");
}

/* ------------------------------------------------------------------ */
/* /_sim: look and change while it runs.                               */

/* GET /_sim/state: hosts, servers, aggregates, migrations. */
void
sim_ctl_state(struct sim_call *c)
{
	struct sim	*s = c->sim;
	json_t		*o, *list;
	size_t		 i;

	o = json_object();
	list = json_array();
	for (i = 0; i < s->nhosts; i++)
		json_array_append_new(list, json_pack("{s:s,s:b,s:s,s:s,s:b,"
		    "s:b}", "name", s->hosts[i]->name, "alive",
		    s->hosts[i]->alive, "status", s->hosts[i]->enabled ?
		    "enabled" : "disabled", "state", sim_host_up(s,
		    s->hosts[i], c->now) ? "up" : "down", "forced_down",
		    s->hosts[i]->forced_down, "fail_incoming",
		    s->hosts[i]->fail_incoming));
	json_object_set_new(o, "hosts", list);
	list = json_array();
	for (i = 0; i < s->nservers; i++)
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s?,"
		    "s:i,s:b}", "id", s->servers[i]->id, "name",
		    s->servers[i]->name, "host", s->servers[i]->host,
		    "vm_state", s->servers[i]->vm_state, "task_state",
		    s->servers[i]->task_state, "power_state",
		    s->servers[i]->power_state, "locked",
		    s->servers[i]->locked));
	json_object_set_new(o, "servers", list);
	list = json_array();
	for (i = 0; i < s->naggs; i++)
		json_array_append_new(list, json_pack("{s:i,s:s,s:O}", "id",
		    s->aggs[i]->id, "name", s->aggs[i]->name, "hosts",
		    s->aggs[i]->hosts));
	json_object_set_new(o, "aggregates", list);
	list = json_array();
	for (i = 0; i < s->nmigs; i++)
		json_array_append_new(list, json_pack("{s:i,s:s,s:s,s:s?,s:s,"
		    "s:s}", "id", s->migs[i]->id, "server", s->migs[i]->server,
		    "source", s->migs[i]->source, "dest", s->migs[i]->dest,
		    "type", s->migs[i]->type, "status", s->migs[i]->status));
	json_object_set_new(o, "migrations", list);
	json_object_set_new(o, "tokens", json_integer((json_int_t)s->ntokens));
	json_object_set_new(o, "calls", json_integer((json_int_t)s->seq));
	sim_reply(c, 200, o);
}

/* POST /_sim/hosts/{name} {"alive": false, ...}. */
void
sim_ctl_host(struct sim_call *c)
{
	struct sim_host	*h;
	char		*cause;

	if ((h = sim_host_find(c->sim, c->arg[0])) == NULL) {
		sim_error(c, 404, "No host %s.", c->arg[0]);
		return;
	}
	if (c->body == NULL) {
		sim_error(c, 400, "A JSON object of changes is needed.");
		return;
	}
	if (sim_host_set(c->sim, h, c->body, &cause) != 0) {
		sim_error(c, 400, "%s", cause);
		free(cause);
		return;
	}
	sim_reply(c, 200, json_pack("{s:s,s:b,s:s}", "name", h->name, "alive",
	    h->alive, "state", sim_host_up(c->sim, h, time_mono_ms()) ?
	    "up" : "down"));
}

/* POST /_sim/faults {status, path, ...}: one more injected fault. */
void
sim_ctl_fault(struct sim_call *c)
{
	struct sim_sc	 sc;

	sc.file = "fault";
	sc.cause = NULL;
	if (sim_load_fault(c->sim, &sc, c->body, "") != 0) {
		sim_error(c, 400, "%s", sc.cause);
		free(sc.cause);
		return;
	}
	sim_reply(c, 201, json_pack("{s:i}", "faults", (int)c->sim->nfaults));
}

/* POST /_sim/reset: load the scenario again. */
void
sim_ctl_reset(struct sim_call *c)
{
	char	*cause;

	if (sim_scenario_load(c->sim, c->sim->scenario, &cause) != 0) {
		sim_error(c, 400, "%s", cause);
		free(cause);
		return;
	}
	sim_reply(c, 200, json_pack("{s:s}", "scenario", c->sim->scenario !=
	    NULL ? c->sim->scenario : "built-in"));
}
