/*
 * test-masakari.c -- unit tests of Masakari's side of the alarms module
 * and of the segments a workbook declares: masakari-monitors' payloads
 * read as Masakari's API reads them, what its engine does with each
 * kind of notification, the recovery_workflow_details gathered from
 * progress events, the checks of segment and host bodies, and the
 * "segments:" section of a workbook with its errors.
 */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alarms/alarms.h"
#include "dsl/dsl.h"
#include "lib/lib.h"
#include "store/store.h"

/* Where the source tree is: $SRCDIR or the current folder. */
static const char *
srcdir(void)
{
	const char	*s = getenv("SRCDIR");

	return (s != NULL && *s != '\0' ? s : ".");
}

/* The body of a captured sample (samples/NAME.json's "body"). */
static json_t *
sample(const char *name)
{
	json_error_t	 jerr;
	json_t		*j, *b;
	char		*path;

	xasprintf(&path, "%s/tests/data/alarms/samples/%s.json", srcdir(),
	    name);
	if ((j = json_load_file(path, 0, &jerr)) == NULL)
		fail_msg("%s: %s", path, jerr.text);
	free(path);
	b = json_incref(json_object_get(j, "body"));
	json_decref(j);
	return (b);
}

/* Read a notification; 0 and the row, or -1 and the cause. */
static int
read_note(json_t *body, struct store_notification **out, char **cause)
{
	struct store_notification	*n;

	n = xcalloc(1, sizeof *n);
	*cause = NULL;
	if (alarm_notification_read(body, n, cause) != 0) {
		store_notification_free(n);
		*out = NULL;
		return (-1);
	}
	*out = n;
	return (0);
}

/* Every captured masakari-monitors payload reads as Masakari reads it. */
static void
test_samples_read(void **state)
{
	static const struct {
		const char	*sample;
		const char	*type;
		const char	*host;
	} cases[] = {
		{ "masakari_notification_compute_host", "COMPUTE_HOST",
		  "compute-1" },
		{ "masakari_notification_process", "PROCESS", "compute-3" },
		{ "masakari_notification_vm_lifecycle", "VM", "compute-2" },
		{ "masakari_notification_vm_qemu_agent", "VM", "compute-2" },
	};
	struct store_notification	*n;
	json_t				*b;
	char				*cause;
	size_t				 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		b = sample(cases[i].sample);
		assert_int_equal(read_note(b, &n, &cause), 0);
		assert_string_equal(n->type, cases[i].type);
		assert_string_equal(n->hostname, cases[i].host);
		/* Naive ISO-8601 UTC, as timeutils.utcnow() writes it. */
		assert_true(n->generated_time > 1795000000000LL);
		assert_non_null(strstr(n->dedup, cases[i].type));
		store_notification_free(n);
		json_decref(b);
	}
}

/* The same payload, keys in another order, is the same duplicate. */
static void
test_dedup(void **state)
{
	struct store_notification	*a, *b;
	json_t				*x, *y;
	char				*cause;

	(void)state;
	x = json_loads("{\"notification\": {\"type\": \"VM\", \"hostname\": "
	    "\"c1\", \"generated_time\": \"2026-01-01T00:00:00\", \"payload\":"
	    " {\"event\": \"LIFECYCLE\", \"instance_uuid\": \"i\", "
	    "\"vir_domain_event\": \"STOPPED_FAILED\"}}}", 0, NULL);
	y = json_loads("{\"notification\": {\"payload\": {\"vir_domain_event\":"
	    " \"STOPPED_FAILED\", \"instance_uuid\": \"i\", \"event\": "
	    "\"LIFECYCLE\"}, \"generated_time\": \"2026-01-01T00:01:00.5\", "
	    "\"hostname\": \"c1\", \"type\": \"VM\"}}", 0, NULL);
	assert_int_equal(read_note(x, &a, &cause), 0);
	assert_int_equal(read_note(y, &b, &cause), 0);
	assert_string_equal(a->dedup, b->dedup);
	assert_int_equal(b->generated_time - a->generated_time, 60500);
	store_notification_free(a);
	store_notification_free(b);
	json_decref(x);
	json_decref(y);
}

/* Bodies Masakari's schema refuses, with what names the fault. */
static void
test_bad_bodies(void **state)
{
	static const struct {
		const char	*body;
		const char	*says;
	} cases[] = {
		{ "{}", "'notification' is a required property" },
		{ "{\"notification\": {}, \"x\": 1}", "'x' was unexpected" },
		{ "{\"notification\": {\"type\": \"DISK\", \"hostname\": \"h\", "
		  "\"generated_time\": \"2026-01-01T00:00:00\", \"payload\": "
		  "{}}}", "field/attribute type" },
		{ "{\"notification\": {\"type\": \"VM\", \"hostname\": \"a b\", "
		  "\"generated_time\": \"2026-01-01T00:00:00\", \"payload\": "
		  "{}}}", "field/attribute hostname" },
		{ "{\"notification\": {\"type\": \"VM\", \"hostname\": \"h\", "
		  "\"generated_time\": \"soon\", \"payload\": {}}}",
		  "generated_time" },
		{ "{\"notification\": {\"type\": \"PROCESS\", \"hostname\": "
		  "\"h\", \"generated_time\": \"2026-01-01T00:00:00\", "
		  "\"payload\": {\"event\": \"STOPPED\"}}}",
		  "'process_name' is a required property" },
		{ "{\"notification\": {\"type\": \"COMPUTE_HOST\", \"hostname\": "
		  "\"h\", \"generated_time\": \"2026-01-01T00:00:00\", "
		  "\"payload\": {\"event\": \"STOPPED\", \"rack\": \"1\"}}}",
		  "'rack' was unexpected" },
		{ "{\"notification\": {\"type\": \"COMPUTE_HOST\", \"hostname\": "
		  "\"h\", \"generated_time\": \"2026-01-01T00:00:00\", "
		  "\"payload\": {\"event\": 7}}}", "field/attribute event" },
		{ "{\"notification\": {\"type\": \"COMPUTE_HOST\", \"hostname\": "
		  "\"h\", \"generated_time\": \"2026-01-01T00:00:00\", "
		  "\"payload\": {\"event\": \"STOPPED\"}, \"extra\": 1}}",
		  "'extra' was unexpected" },
	};
	struct store_notification	*n;
	json_t				*b;
	char				*cause;
	size_t				 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		b = json_loads(cases[i].body, 0, NULL);
		assert_non_null(b);
		assert_int_equal(read_note(b, &n, &cause), -1);
		if (strstr(cause, cases[i].says) == NULL)
			fail_msg("%s: %s, not %s", cases[i].body, cause,
			    cases[i].says);
		free(cause);
		json_decref(b);
	}
}

/* A host of a segment, and the segment. */
static struct store_host *
host_make(const char *name, int reserved, int maintenance)
{
	struct store_host	*h = xcalloc(1, sizeof *h);

	uuid_make(h->uuid);
	h->name = xstrdup(name);
	h->reserved = reserved;
	h->on_maintenance = maintenance;
	return (h);
}

/* What the engine does with one payload of type from host. */
static void
decide(const char *type, const char *payload, int enabled,
    const char *status, const char *workflow)
{
	struct store_notification	 n;
	struct store_segment		 seg;
	struct store_host		*hosts[4];
	struct alarm_note_decision	 d;
	size_t				 i;

	memset(&n, 0, sizeof n);
	memset(&seg, 0, sizeof seg);
	snprintf(n.notification_uuid, sizeof n.notification_uuid, "n-1");
	n.type = (char *)type;
	n.payload = json_loads(payload, 0, NULL);
	seg.name = (char *)"seg";
	seg.enabled = enabled;
	seg.recovery_method = (char *)"rh_priority";
	seg.options = json_pack("{s:i,s:b,s:i}", "verify_interval", 2,
	    "process_all_instances", 1, "host_failure_recovery_threads", 5);
	hosts[0] = host_make("c1", 1, 0);	/* the failed one, reserved */
	hosts[1] = host_make("r3", 1, 0);
	hosts[2] = host_make("r2", 1, 1);	/* on maintenance */
	hosts[3] = host_make("r1", 1, 0);
	alarm_notification_decide(&n, hosts[0], &seg, hosts, 4, &d);
	if (strcmp(d.status, status) != 0)
		fail_msg("%s %s: %s (%s), not %s", type, payload, d.status,
		    d.reason != NULL ? d.reason : "", status);
	if (workflow == NULL)
		assert_null(d.workflow);
	else
		assert_string_equal(d.workflow, workflow);
	if (workflow != NULL && strcmp(type, "COMPUTE_HOST") == 0) {
		/* Newest first, without itself nor one on maintenance. */
		json_t *want = json_pack("[ss]", "r3", "r1");

		assert_true(json_equal(json_object_get(d.input,
		    "reserved_host_list"), want));
		json_decref(want);
		assert_string_equal(json_string_value(json_object_get(d.input,
		    "recovery_method")), "rh_priority");
		assert_true(d.maintain && d.unreserve);
		/* Options of the host flow only. */
		assert_int_equal(json_integer_value(json_object_get(d.input,
		    "host_failure_recovery_threads")), 5);
		assert_null(json_object_get(d.input, "process_all_instances"));
	}
	if (workflow != NULL && strcmp(type, "VM") == 0) {
		assert_false(d.maintain);
		assert_true(json_is_true(json_object_get(d.input,
		    "process_all_instances")));
		assert_null(json_object_get(d.input,
		    "host_failure_recovery_threads"));
	}
	if (workflow != NULL && strcmp(type, "PROCESS") == 0)
		assert_true(d.maintain && !d.unreserve);
	alarm_note_decision_free(&d);
	json_decref(n.payload);
	json_decref(seg.options);
	for (i = 0; i < 4; i++)
		store_host_free(hosts[i]);
}

/* Masakari's engine's table of types, events and statuses. */
static void
test_decide(void **state)
{
	(void)state;
	decide("COMPUTE_HOST", "{\"event\": \"STOPPED\", \"host_status\": "
	    "\"NORMAL\"}", 1, "new", "masakari.host_failure");
	decide("COMPUTE_HOST", "{\"event\": \"stopped\", \"host_status\": "
	    "\"normal\"}", 1, "new", "masakari.host_failure");
	decide("COMPUTE_HOST", "{\"event\": \"STOPPED\", \"host_status\": "
	    "\"NORMAL\"}", 0, "ignored", NULL);
	decide("COMPUTE_HOST", "{\"event\": \"STOPPED\"}", 1, "ignored",
	    NULL);
	decide("COMPUTE_HOST", "{\"event\": \"STOPPED\", \"host_status\": "
	    "\"UNKNOWN\"}", 1, "ignored", NULL);
	decide("COMPUTE_HOST", "{\"event\": \"STARTED\", \"host_status\": "
	    "\"NORMAL\"}", 1, "finished", NULL);
	decide("COMPUTE_HOST", "{\"event\": \"PAUSED\", \"host_status\": "
	    "\"NORMAL\"}", 1, "ignored", NULL);
	decide("VM", "{\"event\": \"LIFECYCLE\", \"instance_uuid\": \"i\", "
	    "\"vir_domain_event\": \"STOPPED_FAILED\"}", 1, "new",
	    "masakari.instance_failure");
	decide("VM", "{\"event\": \"IO_ERROR\", \"instance_uuid\": \"i\", "
	    "\"vir_domain_event\": \"IO_ERROR_REPORT\"}", 1, "new",
	    "masakari.instance_failure");
	decide("VM", "{\"event\": \"QEMU_GUEST_AGENT_ERROR\", "
	    "\"instance_uuid\": \"i\", \"vir_domain_event\": "
	    "\"STOPPED_FAILED\"}", 1, "new", "masakari.instance_failure");
	decide("VM", "{\"event\": \"LIFECYCLE\", \"instance_uuid\": \"i\", "
	    "\"vir_domain_event\": \"STOPPED_SHUTDOWN\"}", 1, "ignored", NULL);
	decide("VM", "{\"event\": \"REBOOT\", \"instance_uuid\": \"i\", "
	    "\"vir_domain_event\": \"STOPPED_FAILED\"}", 1, "ignored", NULL);
	decide("PROCESS", "{\"event\": \"STOPPED\", \"process_name\": "
	    "\"nova-compute\"}", 1, "new", "masakari.process_failure");
	decide("PROCESS", "{\"event\": \"STARTED\", \"process_name\": "
	    "\"nova-compute\"}", 1, "finished", NULL);
	decide("PROCESS", "{\"event\": \"GONE\", \"process_name\": "
	    "\"nova-compute\"}", 1, "ignored", NULL);
}

/* Rows for the details: executions, tasks and events. */
static struct store_exec *
ex_make(const char *id, const char *parent_task)
{
	struct store_exec	*e = xcalloc(1, sizeof *e);

	snprintf(e->id, sizeof e->id, "%s", id);
	e->parent_task_id = parent_task != NULL ? xstrdup(parent_task) : NULL;
	return (e);
}

static struct store_task *
task_make(const char *id, const char *exec, const char *name,
    const char *state)
{
	struct store_task	*t = xcalloc(1, sizeof *t);

	snprintf(t->id, sizeof t->id, "%s", id);
	snprintf(t->execution_id, sizeof t->execution_id, "%s", exec);
	t->name = xstrdup(name);
	t->state = xstrdup(state);
	return (t);
}

static struct store_event *
ev_make(const char *task, const char *kind, double p, const char *msg)
{
	struct store_event	*e = xcalloc(1, sizeof *e);

	e->task_id = xstrdup(task);
	e->kind = xstrdup(kind);
	e->progress = p;
	e->message = xstrdup(msg);
	e->time = 1551966868842LL;	/* 2019-03-07 13:54:28.842 */
	return (e);
}

/*
 * Messages gather under the nearest task named like Masakari's, through
 * sub-workflows; the engine's own events and messages under no such
 * task are left out.
 */
static void
test_details(void **state)
{
	struct store_exec	*ex[3];
	struct store_task	*t[5];
	struct store_event	*ev[6];
	json_t			*d, *want;
	size_t			 i;

	(void)state;
	ex[0] = ex_make("root", NULL);
	ex[1] = ex_make("child", "t-evac");
	ex[2] = ex_make("grand", "t-each");
	t[0] = task_make("t-dis", "root", "DisableComputeServiceTask",
	    ST_SUCCESS);
	t[1] = task_make("t-evac", "root", "EvacuateInstancesTask", ST_ERROR);
	t[2] = task_make("t-each", "child", "evacuate", ST_SUCCESS);
	t[3] = task_make("t-get", "grand", "get_instance", ST_SUCCESS);
	t[4] = task_make("t-route", "root", "dispatch", ST_SUCCESS);
	ev[0] = ev_make("t-dis", "progress", 0, "Disabling");
	ev[1] = ev_make("t-dis", "task", 1, "task succeeded");
	ev[2] = ev_make("t-dis", "progress", 1, "Disabled");
	ev[3] = ev_make("t-get", "progress", 0.5, "Evacuation of instance");
	ev[4] = ev_make("t-route", "progress", 0.2, "not Masakari's");
	ev[5] = ev_make("t-each", "progress", 0.7, "Failed to evacuate");
	d = alarm_workflow_details(ev, 6, t, 5, ex, 3);
	want = json_loads("[{\"name\": \"DisableComputeServiceTask\", "
	    "\"progress\": 1.0, \"state\": \"SUCCESS\", \"progress_details\": "
	    "[{\"timestamp\": \"2019-03-07 13:54:28.842000\", \"message\": "
	    "\"Disabling\", \"progress\": \"0.0\"}, {\"timestamp\": "
	    "\"2019-03-07 13:54:28.842000\", \"message\": \"Disabled\", "
	    "\"progress\": \"1.0\"}]}, {\"name\": \"EvacuateInstancesTask\", "
	    "\"progress\": 0.7, \"state\": \"FAILURE\", \"progress_details\": "
	    "[{\"timestamp\": \"2019-03-07 13:54:28.842000\", \"message\": "
	    "\"Evacuation of instance\", \"progress\": \"0.5\"}, "
	    "{\"timestamp\": \"2019-03-07 13:54:28.842000\", \"message\": "
	    "\"Failed to evacuate\", \"progress\": \"0.7\"}]}]", 0, NULL);
	if (!json_equal(d, want)) {
		char *text = json_dumps(d, JSON_COMPACT);

		fail_msg("details: %s", text);
		free(text);
	}
	json_decref(d);
	json_decref(want);
	for (i = 0; i < 3; i++)
		store_exec_free(ex[i]);
	for (i = 0; i < 5; i++)
		store_task_free(t[i]);
	for (i = 0; i < 6; i++)
		store_event_free(ev[i]);
}

/* Segment and host bodies: Masakari's required fields and values. */
static void
test_segment_bodies(void **state)
{
	struct store_segment	 s;
	struct store_host	 h;
	json_t			*b;
	char			*cause = NULL;

	(void)state;
	memset(&s, 0, sizeof s);
	b = json_loads("{\"segment\": {\"name\": \"s\", \"recovery_method\": "
	    "\"rh_priority\", \"service_type\": \"COMPUTE\", \"enabled\": "
	    "\"off\", \"options\": {\"verify_interval\": 0.5}}}", 0, NULL);
	assert_int_equal(alarm_segment_read(b, 1, 2, &s, &cause), 0);
	assert_string_equal(s.recovery_method, "rh_priority");
	assert_int_equal(s.enabled, 0);
	json_decref(b);
	/* Before 1.2, enabled is not Masakari's: refused as unknown. */
	b = json_loads("{\"segment\": {\"enabled\": true}}", 0, NULL);
	assert_int_equal(alarm_segment_read(b, 0, 1, &s, &cause), -1);
	assert_non_null(strstr(cause, "'enabled' was unexpected"));
	free(cause);
	json_decref(b);
	b = json_loads("{\"segment\": {\"name\": \" s\"}}", 0, NULL);
	assert_int_equal(alarm_segment_read(b, 0, 2, &s, &cause), -1);
	assert_non_null(strstr(cause, "leading or trailing space"));
	free(cause);
	json_decref(b);
	b = json_loads("{\"segment\": {\"options\": {\"verify_interval\": "
	    "-1}}}", 0, NULL);
	assert_int_equal(alarm_segment_read(b, 0, 2, &s, &cause), -1);
	assert_non_null(strstr(cause, "verify_interval"));
	free(cause);
	json_decref(b);
	b = json_loads("{\"segment\": {}}", 0, NULL);
	assert_int_equal(alarm_segment_read(b, 0, 2, &s, &cause), -1);
	free(cause);
	json_decref(b);
	free(s.name);
	free(s.recovery_method);
	free(s.service_type);
	json_decref(s.options);

	memset(&h, 0, sizeof h);
	b = json_loads("{\"host\": {\"name\": \"c-1.rack_2\", \"type\": "
	    "\"COMPUTE\", \"control_attributes\": \"SSH\", \"reserved\": "
	    "\"yes\"}}", 0, NULL);
	assert_int_equal(alarm_host_read(b, 1, &h, &cause), 0);
	assert_int_equal(h.reserved, 1);
	json_decref(b);
	free(h.name);
	free(h.type);
	free(h.control_attributes);
	b = json_loads("{\"host\": {\"on_maintenance\": \"maybe\"}}", 0, NULL);
	assert_int_equal(alarm_host_read(b, 0, &h, &cause), -1);
	assert_non_null(strstr(cause, "not a boolean"));
	free(cause);
	json_decref(b);
	b = json_loads("{\"host\": {\"name\": \"c1\"}}", 0, NULL);
	memset(&h, 0, sizeof h);
	assert_int_equal(alarm_host_read(b, 1, &h, &cause), -1);
	assert_non_null(strstr(cause, "'type' is a required property"));
	free(cause);
	free(h.name);
	json_decref(b);
}

/* Parse a workbook's text; the errors in errs. */
static struct dsl_workbook *
parse(const char *text, struct dsl_errors *errs)
{
	dsl_errors_init(errs);
	return (dsl_parse("seg.yaml", text, strlen(text), NULL, errs));
}

/* A workbook of segments only, its values and defaults left out. */
static void
test_declared(void **state)
{
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	json_t			*want;

	(void)state;
	wb = parse("version: '2.0'\nname: racks\nsegments:\n  a:\n"
	    "    recovery_method: reserved_host\n    cloud: prod\n"
	    "    options: {wait_period_after_evacuation: 120, force_down: "
	    "false}\n    hosts:\n      c1: {}\n      c2: {reserved: true}\n"
	    "  b:\n    recovery_method: auto\n    enabled: false\n"
	    "    hosts: [c3, c4]\n", &errs);
	assert_non_null(wb);
	assert_int_equal(errs.n, 0);
	want = json_loads("[{\"name\": \"a\", \"recovery_method\": "
	    "\"reserved_host\", \"cloud\": \"prod\", \"options\": "
	    "{\"wait_period_after_evacuation\": 120, \"force_down\": false}, "
	    "\"hosts\": [{\"name\": \"c1\"}, {\"name\": \"c2\", \"reserved\": "
	    "true}]}, {\"name\": \"b\", \"recovery_method\": \"auto\", "
	    "\"enabled\": false, \"hosts\": [{\"name\": \"c3\"}, {\"name\": "
	    "\"c4\"}]}]", 0, NULL);
	assert_true(json_equal(wb->segments, want));
	json_decref(want);
	dsl_workbook_free(wb);
	dsl_errors_free(&errs);
}

/* Declarations that are wrong, each named where it is. */
static void
test_declared_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*says;
	} cases[] = {
		{ "segments:\n  a:\n    recovery_method: fast\n",
		  "seg.yaml:5:22: unknown recovery method 'fast'" },
		{ "segments:\n  a:\n    hosts: {c1: {}}\n",
		  "missing required key 'recovery_method'" },
		{ "segments:\n  a:\n    recovery_method: auto\n    options: "
		  "{wait: 3}\n", "unknown option 'wait'" },
		{ "segments:\n  a:\n    recovery_method: auto\n    options: "
		  "{host_failure_recovery_threads: 0}\n",
		  "expected a whole number from 1 to 1000" },
		{ "segments:\n  a:\n    recovery_method: auto\n    hosts: "
		  "{c1: {}}\n  b:\n    recovery_method: auto\n    hosts: "
		  "{c1: {}}\n", "host 'c1' is declared twice" },
		{ "segments:\n  a:\n    recovery_method: auto\n    hosts: "
		  "{'a b': {}}\n", "invalid host name 'a b'" },
		{ "segments:\n  a:\n    recovery_method: auto\n    hosts: "
		  "{c1: {reserved: maybe}}\n", "expected true or false" },
		{ "segments:\n  a:\n    recovery_method: auto\n    rack: 1\n",
		  "unknown key 'rack'" },
	};
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	char			*text, *all;
	size_t			 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		xasprintf(&text, "version: '2.0'\nname: racks\n%s",
		    cases[i].text);
		wb = parse(text, &errs);
		all = dsl_errors_format(&errs);
		if (strstr(all, cases[i].says) == NULL)
			fail_msg("%s: %s, not %s", cases[i].text, all,
			    cases[i].says);
		free(all);
		dsl_workbook_free(wb);
		dsl_errors_free(&errs);
		free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_read),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_details),
		cmocka_unit_test(test_segment_bodies),
		cmocka_unit_test(test_declared),
		cmocka_unit_test(test_declared_errors),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
