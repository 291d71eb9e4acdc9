/*
 * test-sim.c -- the simulated cloud without HTTP (sim_handle): Keystone
 * tokens and their expiry, Nova's microversions, policies and checks,
 * operations that take time, injected faults, scenario errors and the
 * JSON log line.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "lib/lib.h"
#include "sim/sim.h"

#define NOVA	"/compute/v2.1"
#define VM_HA	"11111111-1111-4111-8111-111111111111"
#define VM_STOP	"22222222-2222-4222-8222-222222222222"
#define VM_ERR	"33333333-3333-4333-8333-333333333333"

static struct sim	*sim;
static char		 admin_tok[256];
static char		 demo_tok[256];

/* A call: headers and query as JSON text (or NULL), body as text. */
static int
call(const char *method, const char *path, const char *query,
    const char *token, const char *mv, const char *body,
    struct sim_response *r)
{
	struct sim_request	 req;

	memset(&req, 0, sizeof req);
	req.method = method;
	req.path = path;
	req.query = query != NULL ? json_loads(query, 0, NULL) : NULL;
	req.headers = json_object();
	if (token != NULL)
		json_object_set_new(req.headers, "x-auth-token",
		    json_string(token));
	if (mv != NULL)
		json_object_set_new(req.headers, "openstack-api-version",
		    json_sprintf("compute %s", mv));
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.base_url = "http://sim";
	sim_handle(sim, &req, r);
	json_decref(req.query);
	json_decref(req.headers);
	return (r->status);
}

/* The status of a call, its response dropped. */
static int
status(const char *method, const char *path, const char *query,
    const char *token, const char *mv, const char *body)
{
	struct sim_response	r;
	int			st;

	st = call(method, path, query, token, mv, body, &r);
	sim_response_clear(&r);
	return (st);
}

/* A token for user/password in its project, into out. */
static int
login(const char *user, const char *pw, const char *project, char *out,
    size_t len)
{
	struct sim_response	 r;
	char			*body;
	int			 st;

	xasprintf(&body, "{\"auth\": {\"identity\": {\"methods\": "
	    "[\"password\"], \"password\": {\"user\": {\"name\": \"%s\", "
	    "\"domain\": {\"name\": \"default\"}, \"password\": \"%s\"}}}, "
	    "\"scope\": {\"project\": {\"name\": \"%s\", \"domain\": "
	    "{\"id\": \"default\"}}}}}", user, pw, project);
	st = call("POST", "/identity/v3/auth/tokens", NULL, NULL, NULL, body,
	    &r);
	if (st == 201)
		snprintf(out, len, "%s", json_string_value(json_object_get(
		    r.headers, "X-Subject-Token")));
	sim_response_clear(&r);
	free(body);
	return (st);
}

/* A server's field, from GET /servers/{id} at 2.53 as admin. */
static char *
server_field(const char *id, const char *field)
{
	struct sim_response	 r;
	char			*path, *v;
	json_t			*f;

	xasprintf(&path, NOVA "/servers/%s", id);
	assert_int_equal(call("GET", path, NULL, admin_tok, "2.53", NULL, &r),
	    200);
	f = json_object_get(json_object_get(r.body, "server"), field);
	v = json_is_string(f) ? xstrdup(json_string_value(f)) :
	    json_dumps(f, JSON_ENCODE_ANY);
	sim_response_clear(&r);
	free(path);
	return (v);
}

static void
assert_field(const char *id, const char *field, const char *want)
{
	char	*v = server_field(id, field);

	if (strcmp(v, want) != 0)
		fail_msg("%s %s: got %s, want %s", id, field, v, want);
	free(v);
}

/* The service uuid of a host (2.53). */
static char *
service_id(const char *host)
{
	struct sim_response	 r;
	char			*q, *id;

	xasprintf(&q, "{\"host\": \"%s\"}", host);
	assert_int_equal(call("GET", NOVA "/os-services", q, admin_tok,
	    "2.53", NULL, &r), 200);
	id = xstrdup(json_string_value(json_object_get(json_array_get(
	    json_object_get(r.body, "services"), 0), "id")));
	sim_response_clear(&r);
	free(q);
	return (id);
}

static int
setup(void **state)
{
	char	*cause;

	if ((sim = sim_create(NULL, 0, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return (-1);
	}
	if (login("admin", "secret", "admin", admin_tok,
	    sizeof admin_tok) != 201 ||
	    login("demo", "demo", "demo", demo_tok, sizeof demo_tok) != 201)
		return (-1);
	return (0);
}

static int
teardown(void **state)
{
	sim_free(sim);
	sim = NULL;
	return (0);
}

/* ------------------------------------------------------------------ */

static void
keystone_issues_and_validates_tokens(void **state)
{
	struct sim_response	 r;
	struct sim_request	 req;
	char			 tok[256];
	json_t			*cat;

	assert_int_equal(login("admin", "wrong", "admin", tok, sizeof tok),
	    401);
	assert_int_equal(login("admin", "secret", "demo", tok, sizeof tok),
	    401);
	assert_int_equal(status("POST", "/identity/v3/auth/tokens", NULL,
	    NULL, NULL, "{\"auth\": {}}"), 400);
	assert_int_equal(status("GET", "/identity", NULL, NULL, NULL, NULL),
	    300);

	/* The catalog points at this simulator. */
	assert_int_equal(login("admin", "secret", "admin", tok, sizeof tok),
	    201);
	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.path = "/identity/v3/auth/tokens";
	req.headers = json_pack("{s:s,s:s}", "x-auth-token", admin_tok,
	    "x-subject-token", tok);
	req.base_url = "http://sim:1234";
	sim_handle(sim, &req, &r);
	assert_int_equal(r.status, 200);
	cat = json_object_get(json_object_get(r.body, "token"), "catalog");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_array_get(cat, 1), "endpoints"), 0), "url")),
	    "http://sim:1234/compute/v2.1");
	sim_response_clear(&r);
	/* A token that does not exist is 404 to validation. */
	json_object_set_new(req.headers, "x-subject-token",
	    json_string("gAAAAABnope"));
	sim_handle(sim, &req, &r);
	assert_int_equal(r.status, 404);
	sim_response_clear(&r);
	json_decref(req.headers);

	/* Revoked: refused from then on. */
	req.method = "DELETE";
	req.headers = json_pack("{s:s,s:s}", "x-auth-token", admin_tok,
	    "x-subject-token", tok);
	sim_handle(sim, &req, &r);
	assert_int_equal(r.status, 204);
	sim_response_clear(&r);
	json_decref(req.headers);
	assert_int_equal(status("GET", NOVA "/servers", NULL, tok, NULL,
	    NULL), 401);
}

static void
keystone_application_credentials(void **state)
{
	struct sim_response	 r;
	char			*path, *body, *id, *secret;
	const char		*user;

	/* The admin's user id, from a token check of its own token. */
	assert_int_equal(call("POST", "/identity/v3/auth/tokens", NULL, NULL,
	    NULL, "{\"auth\": {\"identity\": {\"methods\": [\"password\"], "
	    "\"password\": {\"user\": {\"name\": \"admin\", \"domain\": "
	    "{\"id\": \"default\"}, \"password\": \"secret\"}}}}}", &r), 201);
	user = json_string_value(json_object_get(json_object_get(
	    json_object_get(r.body, "token"), "user"), "id"));
	xasprintf(&path, "/identity/v3/users/%s/application_credentials",
	    user);
	sim_response_clear(&r);
	assert_int_equal(call("POST", path, NULL, admin_tok, NULL,
	    "{\"application_credential\": {\"name\": \"bora\"}}", &r), 201);
	id = xstrdup(json_string_value(json_object_get(json_object_get(r.body,
	    "application_credential"), "id")));
	secret = xstrdup(json_string_value(json_object_get(json_object_get(
	    r.body, "application_credential"), "secret")));
	sim_response_clear(&r);
	assert_int_equal(status("POST", path, NULL, admin_tok, NULL,
	    "{\"application_credential\": {\"name\": \"bora\"}}"), 409);

	xasprintf(&body, "{\"auth\": {\"identity\": {\"methods\": "
	    "[\"application_credential\"], \"application_credential\": "
	    "{\"id\": \"%s\", \"secret\": \"%s\"}}}}", id, secret);
	assert_int_equal(call("POST", "/identity/v3/auth/tokens", NULL, NULL,
	    NULL, body, &r), 201);
	/* Scoped to the creator's project, with its catalog. */
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(r.body, "token"), "project"), "name")), "admin");
	assert_non_null(json_object_get(json_object_get(r.body, "token"),
	    "application_credential"));
	sim_response_clear(&r);
	free(body);
	xasprintf(&body, "{\"auth\": {\"identity\": {\"methods\": "
	    "[\"application_credential\"], \"application_credential\": "
	    "{\"id\": \"%s\", \"secret\": \"wrong\"}}}}", id);
	assert_int_equal(status("POST", "/identity/v3/auth/tokens", NULL,
	    NULL, NULL, body), 401);
	free(body);
	free(id);
	free(secret);
	free(path);
}

static void
nova_microversions_and_policies(void **state)
{
	struct sim_response	 r;

	assert_int_equal(call("GET", NOVA "/servers/" VM_HA, NULL, admin_tok,
	    NULL, NULL, &r), 200);
	/* 2.1: no locked field; the version is said in the answer. */
	assert_null(json_object_get(json_object_get(r.body, "server"),
	    "locked"));
	assert_string_equal(json_string_value(json_object_get(r.headers,
	    "X-OpenStack-Nova-API-Version")), "2.1");
	sim_response_clear(&r);
	assert_field(VM_HA, "locked", "false");
	assert_field(VM_HA, "host_status", "UP");
	assert_int_equal(status("GET", NOVA "/servers", NULL, admin_tok,
	    "3.0", NULL), 406);
	assert_int_equal(status("GET", NOVA "/servers", NULL, admin_tok,
	    "2.x", NULL), 400);
	assert_int_equal(call("GET", NOVA "/os-services", NULL, admin_tok,
	    "latest", NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(r.headers,
	    "OpenStack-API-Version")), "compute 2.93");
	sim_response_clear(&r);

	/* No token: 401; a member: 403 on admin calls. */
	assert_int_equal(status("GET", NOVA "/servers", NULL, NULL, NULL,
	    NULL), 401);
	assert_int_equal(call("GET", NOVA "/os-services", NULL, demo_tok,
	    NULL, NULL, &r), 403);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(r.body, "forbidden"), "message")),
	    "os_compute_api:os-services:list"));
	sim_response_clear(&r);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action",
	    NULL, demo_tok, NULL, "{\"evacuate\": {}}"), 403);

	/* all_tenants: the admin project has no server of its own. */
	assert_int_equal(call("GET", NOVA "/servers", NULL, admin_tok, NULL,
	    NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r.body, "servers")),
	    0);
	sim_response_clear(&r);
	assert_int_equal(call("GET", NOVA "/servers/detail", "{\"all_tenants\":"
	    " \"True\", \"host\": \"compute-1\", \"limit\": \"2\"}",
	    admin_tok, NULL, NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r.body, "servers")),
	    2);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(json_object_get(r.body, "servers_links"), 0),
	    "href")), "marker=" VM_STOP));
	sim_response_clear(&r);
	assert_int_equal(status("GET", NOVA "/servers/nope", NULL, admin_tok,
	    NULL, NULL), 404);
}

static void
nova_evacuation_needs_a_dead_source(void **state)
{
	struct sim_response	 r;
	char			*sid;

	/* compute-1 is alive: Nova refuses. */
	assert_int_equal(call("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"evacuate\": {}}", &r), 400);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    r.body, "badRequest"), "message")),
	    "Compute service of compute-1 is still in use.");
	sim_response_clear(&r);

	/* Dead, but still reported up for a long while. */
	assert_int_equal(status("POST", "/_sim/hosts/compute-1", NULL, NULL,
	    NULL, "{\"alive\": false, \"report_up_for\": 3600}"), 200);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"evacuate\": {}}"), 400);
	assert_field(VM_HA, "host_status", "UP");

	/* force-down makes it down at once. */
	sid = service_id("compute-1");
	assert_int_equal(call("PUT", NOVA "/os-services/x", NULL, admin_tok,
	    "2.53", "{\"forced_down\": true}", &r), 404);
	sim_response_clear(&r);
	{
		char	*path;

		xasprintf(&path, NOVA "/os-services/%s", sid);
		assert_int_equal(status("PUT", path, NULL, admin_tok, "2.53",
		    "{}"), 400);
		assert_int_equal(status("PUT", path, NULL, admin_tok, "2.53",
		    "{\"status\": \"enabled\", \"disabled_reason\": \"x\"}"),
		    400);
		assert_int_equal(call("PUT", path, NULL, admin_tok, "2.53",
		    "{\"status\": \"disabled\", \"disabled_reason\": "
		    "\"Masakari detected host failed.\"}", &r), 200);
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(r.body, "service"), "status")),
		    "disabled");
		sim_response_clear(&r);
		assert_int_equal(status("PUT", path, NULL, admin_tok, "2.53",
		    "{\"forced_down\": true}"), 200);
		free(path);
	}
	free(sid);
	assert_field(VM_HA, "host_status", "DOWN");

	/* Checks: target unknown, the same host, bodies by version. */
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"evacuate\": {\"host\": \"compute-9\"}}"),
	    404);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"evacuate\": {\"host\": \"compute-1\"}}"),
	    400);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.1", "{\"evacuate\": {\"host\": \"compute-3\"}}"),
	    400);	/* onSharedStorage needed before 2.14 */
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.68", "{\"evacuate\": {\"force\": false}}"), 400);

	/* Accepted: rebuilding, then on compute-3 at the next call. */
	assert_int_equal(call("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"evacuate\": {\"host\": \"compute-3\"}}",
	    &r), 200);
	assert_null(r.body);
	sim_response_clear(&r);
	assert_field(VM_HA, "OS-EXT-SRV-ATTR:host", "compute-3");
	assert_field(VM_HA, "OS-EXT-STS:vm_state", "active");
	assert_field(VM_HA, "OS-EXT-STS:task_state", "null");

	/* An error server comes back active; the scheduler picks. */
	assert_int_equal(status("POST", NOVA "/servers/" VM_ERR "/action", NULL,
	    admin_tok, "2.53", "{\"evacuate\": {}}"), 200);
	assert_field(VM_ERR, "OS-EXT-STS:vm_state", "active");
	assert_field(VM_ERR, "OS-EXT-SRV-ATTR:host", "compute-2");

	/* To a host whose rebuilds fail: error, with a fault. */
	assert_int_equal(status("POST", "/_sim/hosts/compute-4", NULL, NULL,
	    NULL, "{\"fail_incoming\": true}"), 200);
	assert_int_equal(status("POST", NOVA "/servers/" VM_STOP "/action",
	    NULL, admin_tok, "2.53", "{\"evacuate\": {\"host\": "
	    "\"compute-4\"}}"), 200);
	assert_field(VM_STOP, "OS-EXT-STS:vm_state", "error");
	assert_field(VM_STOP, "OS-EXT-SRV-ATTR:host", "compute-1");

	/* The migrations say the same. */
	assert_int_equal(call("GET", NOVA "/os-migrations",
	    "{\"instance_uuid\": \"" VM_STOP "\"}", admin_tok, "2.59", NULL,
	    &r), 200);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(r.body, "migrations"), 0), "status")), "failed");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(r.body, "migrations"), 0), "migration_type")),
	    "evacuation");
	sim_response_clear(&r);
}

static void
nova_power_and_lock_actions(void **state)
{
	struct sim_response	 r;

	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"lock\": null}"), 202);
	assert_field(VM_HA, "locked", "true");
	/* A member may not stop a locked server; admins may. */
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    demo_tok, "2.53", "{\"os-stop\": null}"), 409);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"os-stop\": null}"), 202);
	assert_field(VM_HA, "OS-EXT-STS:vm_state", "stopped");
	assert_int_equal(call("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"os-stop\": null}", &r), 409);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(r.body, "conflictingRequest"), "message")),
	    "Cannot 'stop' instance " VM_HA " while it is in vm_state "
	    "stopped"));
	sim_response_clear(&r);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"unlock\": null}"), 202);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"os-resetState\": {\"state\": \"bad\"}}"),
	    400);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"os-resetState\": {\"state\": \"error\"}}"),
	    202);
	assert_field(VM_HA, "status", "ERROR");
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, "2.53", "{\"reboot\": {}}"), 400);

	/* A stop on a dead host waits for the host. */
	assert_int_equal(status("POST", "/_sim/hosts/compute-1", NULL, NULL,
	    NULL, "{\"alive\": false}"), 200);
	assert_int_equal(status("POST", NOVA "/servers/" VM_ERR "/action",
	    NULL, admin_tok, "2.53", "{\"os-stop\": null}"), 202);
	assert_field(VM_ERR, "OS-EXT-STS:task_state", "powering-off");
	assert_field(VM_ERR, "host_status", "DOWN");
	assert_int_equal(status("POST", "/_sim/hosts/compute-1", NULL, NULL,
	    NULL, "{\"alive\": true}"), 200);
	assert_field(VM_ERR, "OS-EXT-STS:vm_state", "stopped");

	/* Cold and live migration. */
	assert_int_equal(status("POST", NOVA "/servers/" VM_STOP "/action",
	    NULL, admin_tok, "2.53", "{\"migrate\": {\"host\": \"c2\"}}"),
	    400);	/* a host needs 2.56 */
	assert_int_equal(status("POST", NOVA "/servers/" VM_STOP "/action",
	    NULL, admin_tok, "2.56", "{\"migrate\": {\"host\": "
	    "\"compute-2\"}}"), 202);
	assert_field(VM_STOP, "status", "VERIFY_RESIZE");
	assert_int_equal(status("POST", NOVA "/servers/" VM_STOP "/action",
	    NULL, admin_tok, "2.56", "{\"confirmResize\": null}"), 204);
	assert_field(VM_STOP, "status", "SHUTOFF");
	assert_field(VM_STOP, "OS-EXT-SRV-ATTR:host", "compute-2");
	assert_int_equal(status("POST", NOVA "/servers/" VM_STOP "/action",
	    NULL, admin_tok, "2.53", "{\"os-migrateLive\": {\"host\": null, "
	    "\"block_migration\": \"auto\"}}"), 409);	/* stopped */
	assert_int_equal(status("POST", NOVA "/servers/" VM_STOP "/action",
	    NULL, admin_tok, "2.53", "{\"os-start\": null}"), 202);
	assert_int_equal(status("POST", NOVA "/servers/" VM_STOP "/action",
	    NULL, admin_tok, "2.20", "{\"os-migrateLive\": {\"host\": null, "
	    "\"block_migration\": \"auto\"}}"), 400);	/* 2.25+ */
	assert_int_equal(status("POST", NOVA "/servers/" VM_STOP "/action",
	    NULL, admin_tok, "2.53", "{\"os-migrateLive\": {\"host\": "
	    "\"compute-3\", \"block_migration\": \"auto\"}}"), 202);
	assert_field(VM_STOP, "OS-EXT-SRV-ATTR:host", "compute-3");
	assert_field(VM_STOP, "status", "ACTIVE");
}

static void
nova_aggregates_and_hypervisors(void **state)
{
	struct sim_response	 r;

	assert_int_equal(call("POST", NOVA "/os-aggregates/1/action", NULL,
	    admin_tok, "2.53", "{\"add_host\": {\"host\": \"compute-3\"}}",
	    &r), 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(
	    r.body, "aggregate"), "hosts")), 3);
	sim_response_clear(&r);
	assert_int_equal(call("POST", NOVA "/os-aggregates/1/action", NULL,
	    admin_tok, "2.53", "{\"add_host\": {\"host\": \"compute-3\"}}",
	    &r), 409);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    r.body, "conflictingRequest"), "message")),
	    "Aggregate 1 already has host compute-3.");
	sim_response_clear(&r);
	assert_int_equal(status("POST", NOVA "/os-aggregates/1/action", NULL,
	    admin_tok, "2.53", "{\"add_host\": {\"host\": \"nope\"}}"), 404);
	assert_int_equal(status("POST", NOVA "/os-aggregates/1/action", NULL,
	    admin_tok, "2.53", "{\"remove_host\": {\"host\": \"compute-4\"}}"),
	    404);
	assert_int_equal(status("POST", NOVA "/os-aggregates/1/action", NULL,
	    admin_tok, "2.53", "{\"remove_host\": {\"host\": \"compute-3\"}}"),
	    200);
	assert_int_equal(status("GET", NOVA "/os-aggregates/9", NULL,
	    admin_tok, NULL, NULL), 404);

	assert_int_equal(call("GET", NOVA "/os-hypervisors/detail", NULL,
	    admin_tok, "2.53", NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r.body,
	    "hypervisors")), 4);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(r.body, "hypervisors"), 0), "running_vms")), 3);
	sim_response_clear(&r);

	/* Before 2.53: integer ids, the old services calls. */
	assert_int_equal(call("GET", NOVA "/os-services", NULL, admin_tok,
	    "2.11", NULL, &r), 200);
	assert_true(json_is_integer(json_object_get(json_array_get(
	    json_object_get(r.body, "services"), 0), "id")));
	sim_response_clear(&r);
	assert_int_equal(status("PUT", NOVA "/os-services/disable-log-reason",
	    NULL, admin_tok, "2.11", "{\"host\": \"compute-2\", \"binary\": "
	    "\"nova-compute\", \"disabled_reason\": \"test\"}"), 200);
	assert_int_equal(status("PUT", NOVA "/os-services/force-down", NULL,
	    admin_tok, "2.11", "{\"host\": \"compute-2\", \"binary\": "
	    "\"nova-compute\", \"forced_down\": true}"), 200);
	assert_int_equal(status("PUT", NOVA "/os-services/disable", NULL,
	    admin_tok, "2.53", "{\"host\": \"compute-2\", \"binary\": "
	    "\"nova-compute\"}"), 404);
}

static void
faults_answer_as_the_scenario_says(void **state)
{
	struct sim_response	 r;

	assert_int_equal(status("POST", "/_sim/faults", NULL, NULL, NULL,
	    "{\"path\": \"/compute/v2.1/servers/*/action\", \"action\": "
	    "\"lock\", \"status\": 409, \"after\": 1, \"times\": 1}"), 201);
	assert_int_equal(status("POST", "/_sim/faults", NULL, NULL, NULL,
	    "{\"path\": \"/compute/v2.1/os-services\", \"status\": 503, "
	    "\"retry_after\": 2}"), 201);
	assert_int_equal(status("POST", "/_sim/faults", NULL, NULL, NULL,
	    "{\"status\": 200}"), 400);
	/* The first lock passes, the second is the 409, then no more. */
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, NULL, "{\"lock\": null}"), 202);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, NULL, "{\"unlock\": null}"), 202);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, NULL, "{\"lock\": null}"), 409);
	assert_int_equal(status("POST", NOVA "/servers/" VM_HA "/action", NULL,
	    admin_tok, NULL, "{\"lock\": null}"), 202);
	assert_int_equal(call("GET", NOVA "/os-services", NULL, admin_tok, NULL,
	    NULL, &r), 503);
	assert_string_equal(json_string_value(json_object_get(r.headers,
	    "Retry-After")), "2");
	sim_response_clear(&r);
	assert_int_equal(status("GET", NOVA "/os-services", NULL, admin_tok,
	    NULL, NULL), 200);
}

static void
scenario_errors_name_the_place(void **state)
{
	struct sim	*s;
	char		 path[] = "/tmp/bora-sim-XXXXXX";
	char		*cause;
	size_t		 i;
	int		 fd;
	const char	*cases[][2] = {
		{ "hosts:\n  - name: a\n    alvie: false\n",
		  "hosts[0]: unknown key 'alvie' (did you mean 'alive'?)" },
		{ "hosts:\n  - name: a\nservers:\n  - host: b\n",
		  "servers[0]: host: no host 'b'" },
		{ "hosts:\n  - {name: a, alive: maybe}\n",
		  "hosts[0]: alive: must be true or false" },
		{ "delays: {evacaute: 1}\n",
		  "delays: unknown operation 'evacaute'" },
		{ "faults:\n  - {status: 700}\n",
		  "faults[0]: status: an HTTP error status" },
		{ "keystone: {token_ttl: 0}\n",
		  "keystone: token_ttl: at least 1 second" },
		{ "hosts: [{name: a}]\nservers: [{host: a, id: 12}]\n",
		  "servers[0]: id: not a UUID: 12" },
		{ "events: [{at: 1, host: zz, alive: false}]\n",
		  "events[0]: host: no host 'zz'" },
	};

	for (i = 0; i < nitems(cases); i++) {
		snprintf(path, sizeof path, "/tmp/bora-sim-XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, cases[i][0], strlen(cases[i][0])),
		    (ssize_t)strlen(cases[i][0]));
		close(fd);
		s = sim_create(path, 0, &cause);
		unlink(path);
		assert_null(s);
		if (strstr(cause, cases[i][1]) == NULL ||
		    strncmp(cause, path, strlen(path)) != 0)
			fail_msg("case %zu: %s", i, cause);
		free(cause);
	}
}

static void
tokens_expire_as_the_scenario_says(void **state)
{
	struct sim	*s;
	char		 path[] = "/tmp/bora-sim-XXXXXX";
	char		*cause;
	int		 fd;
	const char	*text = "keystone: {token_ttl: 3600, "
			    "token_expires_after: 0}\nhosts: [{name: c1}]\n";

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)),
	    (ssize_t)strlen(text));
	close(fd);
	s = sim_create(path, 0, &cause);
	unlink(path);
	assert_non_null(s);
	sim_free(sim);
	sim = s;
	/* Issued, but dead at once although expires_at is an hour away. */
	assert_int_equal(login("admin", "secret", "admin", admin_tok,
	    sizeof admin_tok), 201);
	assert_int_equal(status("GET", NOVA "/os-services", NULL, admin_tok,
	    NULL, NULL), 401);
}

static void
log_lines_mask_secrets(void **state)
{
	struct sim_request	 req;
	struct sim_response	 r;
	json_t			*line;
	char			*text;
	const char		*body = "{\"auth\": {\"identity\": {\"methods\":"
				    " [\"password\"], \"password\": {\"user\":"
				    " {\"name\": \"admin\", \"password\": "
				    "\"secret\"}}}}}";

	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = "/identity/v3/auth/tokens";
	req.headers = json_object();
	req.body = body;
	req.body_len = strlen(body);
	sim_handle(sim, &req, &r);
	assert_int_equal(r.status, 201);
	text = sim_log_line(sim, &req, &r, 5);
	assert_null(strstr(text, "secret"));
	assert_null(strstr(text, "gAAAAAB"));
	line = json_loads(text, 0, NULL);
	assert_non_null(line);
	assert_string_equal(json_string_value(json_object_get(line, "path")),
	    "/identity/v3/auth/tokens");
	assert_int_equal(json_integer_value(json_object_get(line, "status")),
	    201);
	json_decref(line);
	free(text);

	/* A call with the token logs its audit id, never the token. */
	json_object_set(req.headers, "x-auth-token", json_object_get(
	    r.headers, "X-Subject-Token"));
	sim_response_clear(&r);
	req.method = "GET";
	req.path = NOVA "/os-services";
	req.body = NULL;
	req.body_len = 0;
	json_object_set_new(req.headers, "openstack-api-version",
	    json_string("compute 2.53"));
	sim_handle(sim, &req, &r);
	assert_int_equal(r.status, 200);
	text = sim_log_line(sim, &req, &r, 1);
	assert_null(strstr(text, "gAAAAAB"));
	line = json_loads(text, 0, NULL);
	assert_int_equal(strlen(json_string_value(json_object_get(line,
	    "token"))), 22);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    line, "headers"), "openstack-api-version")), "compute 2.53");
	json_decref(line);
	free(text);
	sim_response_clear(&r);
	json_decref(req.headers);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    keystone_issues_and_validates_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    keystone_application_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    nova_microversions_and_policies, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    nova_evacuation_needs_a_dead_source, setup, teardown),
		cmocka_unit_test_setup_teardown(nova_power_and_lock_actions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    nova_aggregates_and_hypervisors, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    faults_answer_as_the_scenario_says, setup, teardown),
		cmocka_unit_test(scenario_errors_name_the_place),
		cmocka_unit_test_setup_teardown(
		    tokens_expire_as_the_scenario_says, setup, teardown),
		cmocka_unit_test_setup_teardown(log_lines_mask_secrets,
		    setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
