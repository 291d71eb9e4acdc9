/*
 * test-alarms.c -- unit tests of the alarm intake: every captured sample
 * through its source's adapter against its expected events, hostile
 * payloads (size, nesting, count, encoding, types, truncations), each
 * authentication method with its failures and replay window, and the
 * verdicts of trigger matching.
 */

#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alarms/alarms.h"
#include "conf/conf.h"
#include "dsl/dsl.h"
#include "expr/expr.h"
#include "lib/lib.h"

/* ---- helpers ------------------------------------------------------- */

/* Where the source tree is: $SRCDIR or the current folder. */
static const char *
srcdir(void)
{
	const char	*s = getenv("SRCDIR");

	return (s != NULL && *s != '\0' ? s : ".");
}

/* Read a JSON file of the test data or fail. */
static json_t *
load_json(const char *dir, const char *name)
{
	json_error_t	 jerr;
	json_t		*j;
	char		*path;

	xasprintf(&path, "%s/tests/data/alarms/%s/%s", srcdir(), dir, name);
	if ((j = json_load_file(path, 0, &jerr)) == NULL)
		fail_msg("%s: %s", path, jerr.text);
	free(path);
	return (j);
}

/* Parse text as source (no headers); the rc, with *out and *cause. */
static enum alarm_rc
parse(const char *source, const char *text, size_t len,
    const struct alarm_limits *lim, struct alarm_batch **out, char **cause)
{
	struct alarm_request	req;

	memset(&req, 0, sizeof req);
	req.body = text;
	req.len = len;
	return (alarm_parse(source, &req, lim, out, cause));
}

/* The payload must be refused with rc and a message containing want. */
static void
refused(const char *source, const char *text, enum alarm_rc rc,
    const char *want)
{
	struct alarm_batch	*b;
	char			*cause;
	enum alarm_rc		 got;

	got = parse(source, text, strlen(text), NULL, &b, &cause);
	if (got != rc || cause == NULL || strstr(cause, want) == NULL)
		fail_msg("%s %.60s: got rc %d \"%s\", wanted rc %d \"%s\"",
		    source, text, got, cause != NULL ? cause : "(null)", rc,
		    want);
	assert_null(b);
	free(cause);
}

/* The payload must give n events. */
static struct alarm_batch *
accepted(const char *source, const char *text, size_t n)
{
	struct alarm_batch	*b;
	char			*cause;

	if (parse(source, text, strlen(text), NULL, &b, &cause) != ALARM_OK)
		fail_msg("%s %.60s: %s", source, text, cause);
	assert_non_null(b);
	assert_int_equal(b->n, n);
	return (b);
}

/* The value at a "$", "$[i]" or "$.alerts[i]" path of body. */
static json_t *
at_path(json_t *body, const char *path)
{
	size_t	i;

	if (strcmp(path, "$") == 0)
		return (body);
	if (sscanf(path, "$[%zu]", &i) == 1)
		return (json_array_get(body, i));
	if (sscanf(path, "$.alerts[%zu]", &i) == 1)
		return (json_array_get(json_object_get(body, "alerts"), i));
	fail_msg("unknown path %s", path);
	return (NULL);
}

/* ---- samples ------------------------------------------------------- */

/*
 * Captured requests that are not alarm webhooks: they belong to other
 * routes, so no alarm adapter reads them.  A new sample must be added
 * here or get an expected file.
 */
static const char *const not_alarms[][2] = {
	{ "masakari_notification_", "masakari-monitors' POST /v1/notifications"
	  " (the Masakari API, not an alarm route)" },
	{ "masakari_notifications_list", "an answer of the Masakari API" },
	{ "vitrage_execute_mistral", "Vitrage's POST /v2/executions (the "
	  "Mistral API)" }
};

/* One sample through its adapter, against its expected events. */
static void
check_sample(const char *name)
{
	struct alarm_header	 hdr[16];
	struct alarm_request	 req;
	struct alarm_batch	*b;
	json_t			*s, *exp, *body, *h, *e, *got, *raw;
	const char		*path, *src;
	char			*text, *cause, *shown, srcname[32];
	size_t			 i, nh = 0;
	enum alarm_rc		 rc;

	s = load_json("samples", name);
	exp = load_json("expected", name);
	path = json_string_value(json_object_get(json_object_get(s, "http"),
	    "path"));
	assert_non_null(path);
	assert_int_equal(sscanf(path, "/v1/alarms/%31[a-z]", srcname), 1);
	src = json_string_value(json_object_get(exp, "source"));
	assert_string_equal(src, srcname);

	if (json_is_string(json_object_get(s, "body_raw")))
		text = xstrdup(json_string_value(json_object_get(s,
		    "body_raw")));
	else
		text = json_dumps(json_object_get(s, "body"), JSON_COMPACT);
	json_array_foreach(json_object_get(json_object_get(s, "http"),
	    "headers"), i, h) {
		if (nh == nitems(hdr))
			break;
		hdr[nh].name = json_string_value(json_array_get(h, 0));
		hdr[nh].value = json_string_value(json_array_get(h, 1));
		nh++;
	}
	memset(&req, 0, sizeof req);
	req.body = text;
	req.len = strlen(text);
	req.headers = hdr;
	req.nheaders = nh;
	rc = alarm_parse(src, &req, NULL, &b, &cause);
	if (rc != ALARM_OK)
		fail_msg("%s: %s", name, cause);
	body = json_loads(text, 0, NULL);
	assert_non_null(body);
	assert_int_equal(b->n, json_array_size(json_object_get(exp,
	    "events")));
	for (i = 0; i < b->n; i++) {
		e = json_deep_copy(json_array_get(json_object_get(exp,
		    "events"), i));
		raw = at_path(body, json_string_value(json_object_get(e,
		    "raw_is")));
		json_object_del(e, "raw_is");
		json_object_set(e, "raw", raw);
		got = alarm_event_json(&b->v[i]);
		if (!json_equal(got, e)) {
			shown = json_dumps(got, JSON_INDENT(1));
			fail_msg("%s: event %zu differs:\n%s", name, i, shown);
		}
		json_decref(got);
		json_decref(e);
	}
	json_decref(body);
	alarm_batch_free(b);
	free(text);
	json_decref(exp);
	json_decref(s);
}

/* Every sample: through its adapter, or known not to be an alarm. */
static void
test_samples(void **state)
{
	DIR		*d;
	struct dirent	*de;
	char		*dir, *exp;
	size_t		 i, nalarm = 0, nother = 0;
	FILE		*f;

	(void)state;
	xasprintf(&dir, "%s/tests/data/alarms/samples", srcdir());
	if ((d = opendir(dir)) == NULL)
		fail_msg("%s: cannot open", dir);
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".json") == NULL)
			continue;
		for (i = 0; i < nitems(not_alarms); i++) {
			if (strncmp(de->d_name, not_alarms[i][0],
			    strlen(not_alarms[i][0])) == 0)
				break;
		}
		if (i < nitems(not_alarms)) {
			nother++;
			continue;
		}
		xasprintf(&exp, "%s/tests/data/alarms/expected/%s", srcdir(),
		    de->d_name);
		if ((f = fopen(exp, "r")) == NULL)
			fail_msg("%s: no expected events (%s)", de->d_name,
			    exp);
		fclose(f);
		free(exp);
		check_sample(de->d_name);
		nalarm++;
	}
	closedir(d);
	free(dir);
	/* Alertmanager, 3 Aodh, 3 Vitrage, Grafana, Zabbix, 2 generic. */
	assert_true(nalarm >= 11);
	assert_true(nother >= 7);
}

/* Every source has its route and the table lists them all. */
static void
test_sources(void **state)
{
	static const char *const want[] = { "alertmanager", "aodh",
	    "vitrage", "grafana", "zabbix", "generic" };
	char			*cause = NULL;
	size_t			 i;

	(void)state;
	assert_int_equal(alarm_source_count(), nitems(want));
	for (i = 0; i < nitems(want); i++) {
		assert_string_equal(alarm_source_name(i), want[i]);
		xasprintf(&cause, "/v1/alarms/%s", want[i]);
		assert_string_equal(alarm_source_route(i), cause);
		free(cause);
		assert_true(alarm_source_exists(want[i]));
		assert_int_equal(alarm_source_check(NULL, want[i], &cause), 0);
	}
	assert_null(alarm_source_name(nitems(want)));
	assert_null(alarm_source_route(nitems(want)));
	assert_false(alarm_source_exists("nagios"));
	assert_int_equal(alarm_source_check(NULL, "alertmanger", &cause), -1);
	assert_string_equal(cause, "unknown alarm source 'alertmanger' (did "
	    "you mean 'alertmanager'?)");
	free(cause);
	assert_int_equal(alarm_source_check(NULL, "x", &cause), -1);
	assert_non_null(strstr(cause, "(expected alertmanager, aodh, "
	    "vitrage, grafana, zabbix or generic)"));
	free(cause);
	refused("nagios", "{}", ALARM_NO_SOURCE, "unknown alarm source");
}

/* ---- hostile payloads ---------------------------------------------- */

#define AM_ALERT(st, fp) "{\"status\": \"" st "\", \"labels\": " \
	"{\"alertname\": \"A\"}, \"fingerprint\": \"" fp "\"}"

/* Size, nesting and count limits. */
static void
test_limits(void **state)
{
	struct alarm_limits	 lim;
	struct alarm_batch	*b;
	struct buf		 t;
	char			*big, *cause;
	size_t			 i, n = 50 * 1024 * 1024;

	(void)state;
	/* 50 MB: refused on its size before anything reads it. */
	big = xmalloc(n);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	assert_int_equal(parse("alertmanager", big, n, NULL, &b, &cause),
	    ALARM_TOO_LARGE);
	assert_string_equal(cause, "body is 52428800 bytes, more than "
	    "1048576 (limit http-max-body)");
	free(cause);

	/* 10,000-deep: refused at the 33rd bracket, no recursion. */
	memset(big, '[', 10000);
	memset(big + 10000, ']', 10000);
	assert_int_equal(parse("generic", big, 20000, NULL, &b, &cause),
	    ALARM_INVALID);
	assert_string_equal(cause, "JSON nested deeper than 32 levels at "
	    "byte 32 (limit alarm-max-depth)");
	free(cause);
	free(big);
	/* Brackets inside strings, escaped quotes included, do not count. */
	b = accepted("generic", "{\"key\": \"k\", \"name\": "
	    "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[\"}", 1);
	assert_string_equal(b->v[0].name,
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"[[[[");
	alarm_batch_free(b);

	/* An Alertmanager group of 10,000 alerts: 413, no event made. */
	buf_init(&t, 0);
	buf_puts(&t, "{\"alerts\": [");
	for (i = 0; i < 10000; i++)
		buf_printf(&t, "%s" AM_ALERT("firing", "f%zu"),
		    i == 0 ? "" : ",", i);
	buf_puts(&t, "]}");
	refused("alertmanager", t.data, ALARM_TOO_LARGE,
	    "$.alerts: 10000 alerts, more than 1000 (limit "
	    "alarm-max-events)");
	/* The limit is the configured one, and 1000 pass. */
	memset(&lim, 0, sizeof lim);
	lim.max_events = 20000;
	assert_int_equal(parse("alertmanager", t.data, t.len, &lim, &b,
	    &cause), ALARM_OK);
	assert_int_equal(b->n, 10000);
	assert_string_equal(b->v[9999].key, "f9999");
	alarm_batch_free(b);
	buf_reset(&t);
	buf_puts(&t, "[");
	for (i = 0; i < 1001; i++)
		buf_printf(&t, "%s{\"key\": %zu}", i == 0 ? "" : ",", i);
	buf_puts(&t, "]");
	refused("generic", t.data, ALARM_TOO_LARGE, "$: 1001 alerts");
	buf_free(&t);
}

/* Bad JSON of every kind. */
static void
test_bad_json(void **state)
{
	struct alarm_batch	*b;
	char			*cause;
	static const char	 nul[] = "{\"key\": \"a\0b\"}";

	(void)state;
	refused("generic", "", ALARM_INVALID, "empty body");
	refused("generic", "{\"key\": ", ALARM_INVALID,
	    "invalid JSON at line 1, column 8");
	refused("generic", "{\"key\": \"a\xff\xfe\"}", ALARM_INVALID,
	    "invalid JSON at line 1");
	refused("generic", "{\"key\": \"\xc3\x28\"}", ALARM_INVALID,
	    "invalid JSON");
	refused("generic", "{\"key\": \"a\", \"key\": \"b\"}", ALARM_INVALID,
	    "duplicate object key");
	refused("generic", "42", ALARM_INVALID, "invalid JSON");
	refused("generic", "{\"key\": \"a\"} x", ALARM_INVALID,
	    "invalid JSON");
	refused("generic", "{\"key\": \"\\u0000\"}", ALARM_INVALID,
	    "invalid JSON");
	assert_int_equal(parse("generic", nul, sizeof nul - 1, NULL, &b,
	    &cause), ALARM_INVALID);
	assert_non_null(strstr(cause, "invalid JSON"));
	free(cause);
	/* A valid body with a trailing newline, as Alertmanager sends. */
	alarm_batch_free(accepted("generic", "{\"key\": \"a\"}\n", 1));
}

/* Wrong types and values, named by their JSON path. */
static void
test_bad_fields(void **state)
{
	(void)state;
	refused("alertmanager", "[]", ALARM_INVALID,
	    "$: expected an object, got an array");
	refused("alertmanager", "{}", ALARM_INVALID, "$.alerts: missing");
	refused("alertmanager", "{\"alerts\": {}}", ALARM_INVALID,
	    "$.alerts: expected an array, got an object");
	refused("alertmanager", "{\"alerts\": []}", ALARM_INVALID,
	    "$: no alert in the message");
	refused("alertmanager", "{\"alerts\": [7]}", ALARM_INVALID,
	    "$.alerts[0]: expected an object, got an integer");
	refused("alertmanager", "{\"alerts\": [" AM_ALERT("firing", "a") ", "
	    "{\"status\": 1, \"fingerprint\": \"b\"}]}", ALARM_INVALID,
	    "$.alerts[1].status: expected a string, got an integer");
	refused("alertmanager", "{\"alerts\": [" AM_ALERT("pending", "a") "]}",
	    ALARM_INVALID, "$.alerts[0].status: expected \"firing\" or "
	    "\"resolved\", got \"pending\"");
	refused("alertmanager", "{\"alerts\": [{\"status\": \"firing\"}]}",
	    ALARM_INVALID, "$.alerts[0].fingerprint: missing");
	refused("alertmanager", "{\"alerts\": [" AM_ALERT("firing", "") "]}",
	    ALARM_INVALID, "$.alerts[0].fingerprint: expected a non-empty "
	    "string");
	refused("alertmanager", "{\"alerts\": [{\"status\": \"firing\", "
	    "\"fingerprint\": \"a\", \"labels\": {\"severity\": {}}}]}",
	    ALARM_INVALID, "$.alerts[0].labels.severity: expected a string, "
	    "got an object");
	refused("alertmanager", "{\"alerts\": [{\"status\": \"firing\", "
	    "\"fingerprint\": \"a\", \"labels\": {\"a b\": []}}]}",
	    ALARM_INVALID, "$.alerts[0].labels[\"a b\"]: expected a string, "
	    "got an array");
	refused("alertmanager", "{\"alerts\": [{\"status\": \"firing\", "
	    "\"fingerprint\": \"a\", \"annotations\": 3}]}", ALARM_INVALID,
	    "$.alerts[0].annotations: expected an object, got an integer");
	refused("alertmanager", "{\"status\": [], \"alerts\": []}",
	    ALARM_INVALID, "$.status: expected a string, got an array");
	refused("grafana", "{\"alerts\": [{\"status\": \"firing\", "
	    "\"fingerprint\": true}]}", ALARM_INVALID,
	    "$.alerts[0].fingerprint: expected a string, got a boolean");

	refused("aodh", "{\"current\": \"alarm\"}", ALARM_INVALID,
	    "$.alarm_id: missing");
	refused("aodh", "{\"alarm_id\": \"x\", \"current\": \"bad\"}",
	    ALARM_INVALID, "$.current: expected \"alarm\", \"ok\" or "
	    "\"insufficient data\", got \"bad\"");
	refused("aodh", "{\"alarm_id\": \"x\", \"current\": \"ok\", "
	    "\"reason_data\": []}", ALARM_INVALID,
	    "$.reason_data: expected an object, got an array");
	refused("aodh", "{\"alarm_id\": \"x\", \"current\": \"ok\", "
	    "\"reason_data\": {\"event\": {\"traits\": [[\"a\", 1]]}}}",
	    ALARM_INVALID, "$.reason_data.event.traits[0]: expected [name, "
	    "type, value]");

	refused("vitrage", "{\"notification\": \"vitrage.alarm.change\", "
	    "\"payload\": {}}", ALARM_INVALID, "$.notification: expected "
	    "\"vitrage.alarm.activate\" or \"vitrage.alarm.deactivate\"");
	refused("vitrage", "{\"notification\": \"vitrage.alarm.activate\"}",
	    ALARM_INVALID, "$.payload: missing");
	refused("vitrage", "{\"notification\": \"vitrage.alarm.activate\", "
	    "\"payload\": {\"vitrage_id\": 5}}", ALARM_INVALID,
	    "$.payload.vitrage_id: expected a string, got an integer");
	refused("vitrage", "{\"notification\": \"vitrage.alarm.activate\", "
	    "\"payload\": {\"vitrage_id\": \"v\", \"resource\": "
	    "{\"id\": []}}}", ALARM_INVALID,
	    "$.payload.resource.id: expected a string, got an array");

	refused("zabbix", "{\"event_value\": \"1\"}", ALARM_INVALID,
	    "$.event_id: missing");
	refused("zabbix", "{\"event_id\": \"{EVENT.ID}\", \"event_value\": "
	    "\"1\"}", ALARM_INVALID, "$.event_id: no value (an unresolved "
	    "macro?)");
	refused("zabbix", "{\"event_id\": \"1\", \"event_value\": \"2\"}",
	    ALARM_INVALID, "$.event_value: expected 1 (problem) or 0 "
	    "(recovery), got \"2\"");
	refused("zabbix", "{\"event_id\": [], \"event_value\": \"1\"}",
	    ALARM_INVALID, "$.event_id: expected a string, got an array");
	refused("zabbix", "{\"event_id\": 1, \"event_value\": 1, "
	    "\"event_tags\": [{\"value\": \"x\"}]}", ALARM_INVALID,
	    "$.event_tags[0].tag: missing");

	refused("generic", "{\"name\": \"x\"}", ALARM_INVALID,
	    "$.key: missing (and no Idempotency-Key header)");
	refused("generic", "[{\"key\": \"a\"}, {\"key\": {}}]", ALARM_INVALID,
	    "$[1].key: expected a string, got an object");
	refused("generic", "{\"key\": \"a\", \"status\": \"ok\"}",
	    ALARM_INVALID, "$.status: expected \"firing\" or \"resolved\", "
	    "got \"ok\"");
	refused("generic", "{\"key\": \"a\", \"resource\": {\"kind\": "
	    "\"vm\"}}", ALARM_INVALID, "$.resource.kind: expected \"host\", "
	    "\"instance\" or \"other\", got \"vm\"");
	refused("generic", "{\"key\": \"\"}", ALARM_INVALID,
	    "$.key: an empty key");
	refused("generic", "true", ALARM_INVALID, "invalid JSON");
	refused("generic", "[\"a\"]", ALARM_INVALID,
	    "$[0]: expected an object, got a string");
}

/* The generic key may come from a header, which must be text. */
static void
test_generic_header_key(void **state)
{
	struct alarm_header	 hdr[1];
	struct alarm_request	 req;
	struct alarm_batch	*b;
	char			*cause;

	(void)state;
	memset(&req, 0, sizeof req);
	req.body = "{\"name\": \"x\"}";
	req.len = strlen(req.body);
	req.headers = hdr;
	req.nheaders = 1;
	hdr[0].name = "idempotency-key";
	hdr[0].value = "abc-1";
	assert_int_equal(alarm_parse("generic", &req, NULL, &b, &cause),
	    ALARM_OK);
	assert_string_equal(b->v[0].key, "abc-1");
	alarm_batch_free(b);
	hdr[0].value = "a\xff\xfe";
	assert_int_equal(alarm_parse("generic", &req, NULL, &b, &cause),
	    ALARM_INVALID);
	assert_string_equal(cause, "Idempotency-Key header: not UTF-8 text");
	free(cause);
	hdr[0].value = "a\tb";
	assert_int_equal(alarm_parse("generic", &req, NULL, &b, &cause),
	    ALARM_INVALID);
	free(cause);
	/* A key in the body wins; arrays do not read the header. */
	hdr[0].value = "abc-1";
	req.body = "{\"key\": \"k\"}";
	req.len = strlen(req.body);
	assert_int_equal(alarm_parse("generic", &req, NULL, &b, &cause),
	    ALARM_OK);
	assert_string_equal(b->v[0].key, "k");
	alarm_batch_free(b);
	req.body = "[{\"name\": \"x\"}]";
	req.len = strlen(req.body);
	assert_int_equal(alarm_parse("generic", &req, NULL, &b, &cause),
	    ALARM_INVALID);
	assert_string_equal(cause, "$[0].key: missing (and no "
	    "Idempotency-Key header)");
	free(cause);
}

/* An expression that never ends fails its trigger only. */
static void
test_match_budget(void **state)
{
	static const char text[] =
	    "version: '2.0'\nname: b\n"
	    "workflows: {w: {tasks: {a: {action: std.noop}}}}\n"
	    "triggers:\n"
	    "  spin: {source: generic, workflow: w,\n"
	    "    when: '<% (function() while true do end end)() %>'}\n"
	    "  huge: {source: generic, workflow: w,\n"
	    "    key: '<% string.rep(\"k\", 600) %>'}\n"
	    "  fine: {source: generic, workflow: w}\n";
	struct alarm_triggers	*ts;
	struct alarm_batch	*b;
	struct alarm_decision	*d;
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	struct expr		*ex;
	char			*cause;
	size_t			 n;

	(void)state;
	dsl_errors_init(&errs);
	wb = dsl_parse("b.yaml", text, strlen(text), NULL, &errs);
	assert_int_equal(errs.n, 0);
	ts = alarm_triggers_create();
	alarm_triggers_add(ts, wb);
	dsl_workbook_free(wb);
	ex = expr_create(NULL, NULL, &cause);
	assert_non_null(ex);
	b = accepted("generic", "{\"key\": \"k\"}", 1);
	n = alarm_match(ts, ex, &b->v[0], &d);
	assert_int_equal(n, 3);
	assert_int_equal(d[0].verdict, ALARM_V_FAILED);
	assert_non_null(strstr(d[0].reason, "when: "));
	assert_int_equal(d[1].verdict, ALARM_V_FAILED);
	assert_string_equal(d[1].reason, "key: gave 600 bytes, more than "
	    "512");
	assert_int_equal(d[2].verdict, ALARM_V_STARTED);
	assert_string_equal(d[2].workflow, "b.w");
	alarm_decisions_free(d, n);
	alarm_batch_free(b);
	alarm_triggers_free(ts);
	expr_free(ex);
}

/* Values sent back in messages are cut short. */
static void
test_message_size(void **state)
{
	struct buf	 t;
	char		*cause;
	struct alarm_batch *b;
	size_t		 i;

	(void)state;
	buf_init(&t, 0);
	buf_puts(&t, "{\"key\": \"a\", \"status\": \"");
	for (i = 0; i < 5000; i++)
		buf_puts(&t, "x");
	buf_puts(&t, "\"}");
	assert_int_equal(parse("generic", t.data, t.len, NULL, &b, &cause),
	    ALARM_INVALID);
	assert_true(strlen(cause) < 200);
	free(cause);
	buf_reset(&t);
	buf_puts(&t, "{\"key\": \"");
	for (i = 0; i < ALARM_KEY_MAX + 1; i++)
		buf_puts(&t, "k");
	buf_puts(&t, "\"}");
	assert_int_equal(parse("generic", t.data, t.len, NULL, &b, &cause),
	    ALARM_INVALID);
	assert_string_equal(cause, "$.key: a key of more than 512 bytes");
	free(cause);
	buf_free(&t);
}

/*
 * Every prefix of every sample, and samples with bytes flipped: each is
 * accepted or refused with a message, never a crash (ASan watches).
 */
static void
test_mangled(void **state)
{
	static const char *const names[][2] = {
		{ "alertmanager_webhook.json", "alertmanager" },
		{ "aodh_event_alarm.json", "aodh" },
		{ "vitrage_webhook_activate_instance.json", "vitrage" },
		{ "grafana_webhook.json", "grafana" },
		{ "zabbix_webhook.json", "zabbix" },
		{ "generic_alerts.json", "generic" }
	};
	struct alarm_batch	*b;
	json_t			*s;
	char			*text, *copy, *cause;
	size_t			 i, len, cut, k, refused_n = 0;
	unsigned int		 seed = 7;
	enum alarm_rc		 rc;

	(void)state;
	for (i = 0; i < nitems(names); i++) {
		s = load_json("samples", names[i][0]);
		text = json_is_string(json_object_get(s, "body_raw")) ?
		    xstrdup(json_string_value(json_object_get(s,
		    "body_raw"))) : json_dumps(json_object_get(s, "body"),
		    JSON_COMPACT);
		len = strlen(text);
		for (cut = 0; cut < len; cut++) {
			rc = parse(names[i][1], text, cut, NULL, &b, &cause);
			assert_true(rc == ALARM_OK || cause != NULL);
			if (rc != ALARM_OK)
				refused_n++;
			alarm_batch_free(b);
			free(cause);
		}
		copy = xmalloc(len);
		for (k = 0; k < 3000; k++) {
			memcpy(copy, text, len);
			copy[rand_r(&seed) % len] = (char)rand_r(&seed);
			copy[rand_r(&seed) % len] = (char)rand_r(&seed);
			rc = parse(names[i][1], copy, len, NULL, &b, &cause);
			assert_true(rc == ALARM_OK || cause != NULL);
			alarm_batch_free(b);
			free(cause);
		}
		free(copy);
		free(text);
		json_decref(s);
	}
	assert_true(refused_n > 1000);
}

/* Resources and fields the adapters derive. */
static void
test_adapter_details(void **state)
{
	struct alarm_batch	*b;

	(void)state;
	/* instance label without port; an instance id wins over a host. */
	b = accepted("alertmanager", "{\"alerts\": [{\"status\": \"firing\", "
	    "\"fingerprint\": \"a\", \"labels\": {\"instance\": "
	    "\"compute-7:9100\", \"severity\": \"CRITICAL\"}, \"startsAt\": "
	    "\"0001-01-01T00:00:00Z\"}, {\"status\": \"resolved\", "
	    "\"fingerprint\": \"b\", \"labels\": {\"host\": \"c1\", "
	    "\"instance_id\": \"i-1\"}}]}", 2);
	assert_int_equal(b->v[0].res_kind, ALARM_RES_HOST);
	assert_string_equal(b->v[0].res_host, "compute-7");
	assert_string_equal(b->v[0].severity, "critical");
	assert_null(b->v[0].starts_at);
	assert_null(b->v[0].name);
	assert_int_equal(b->v[1].status, ALARM_RESOLVED);
	assert_int_equal(b->v[1].res_kind, ALARM_RES_INSTANCE);
	assert_string_equal(b->v[1].res_id, "i-1");
	assert_string_equal(b->v[1].res_host, "c1");
	alarm_batch_free(b);

	/* Numbers and booleans in labels are read as their text. */
	b = accepted("generic", "{\"key\": 12, \"labels\": {\"n\": 3, "
	    "\"b\": true}}", 1);
	assert_string_equal(b->v[0].key, "12");
	assert_string_equal(json_string_value(json_object_get(b->v[0].labels,
	    "n")), "3");
	assert_string_equal(json_string_value(json_object_get(b->v[0].labels,
	    "b")), "true");
	assert_int_equal(b->v[0].res_kind, ALARM_RES_OTHER);
	alarm_batch_free(b);

	/* Aodh: insufficient data is firing. */
	b = accepted("aodh", "{\"alarm_id\": \"x\", \"current\": "
	    "\"insufficient data\"}", 1);
	assert_int_equal(b->v[0].status, ALARM_FIRING);
	alarm_batch_free(b);

	/* Zabbix: recovery, numbers, JSON tags, macros left out. */
	b = accepted("zabbix", "{\"event_id\": 40517, \"event_value\": 0, "
	    "\"event_tags\": [{\"tag\": \"svc\", \"value\": \"nova\"}, "
	    "{\"tag\": \"x\"}], \"event_recovery_id\": \"40999\", "
	    "\"trigger_name\": \"T\", \"event_name\": \"{EVENT.NAME}\"}", 1);
	assert_string_equal(b->v[0].key, "40517");
	assert_int_equal(b->v[0].status, ALARM_RESOLVED);
	assert_string_equal(b->v[0].name, "T");
	assert_string_equal(json_string_value(json_object_get(b->v[0].labels,
	    "svc")), "nova");
	assert_string_equal(json_string_value(json_object_get(b->v[0].labels,
	    "x")), "");
	assert_string_equal(json_string_value(json_object_get(
	    b->v[0].annotations, "event_recovery_id")), "40999");
	assert_int_equal(b->v[0].res_kind, ALARM_RES_OTHER);
	alarm_batch_free(b);
	b = accepted("zabbix", "{\"event_id\": \"1\", \"event_value\": \"1\","
	    " \"event_tags\": \"a:b:c, d,e:\"}", 1);
	assert_string_equal(json_string_value(json_object_get(b->v[0].labels,
	    "a")), "b:c");
	assert_string_equal(json_string_value(json_object_get(b->v[0].labels,
	    "d")), "");
	assert_string_equal(json_string_value(json_object_get(b->v[0].labels,
	    "e")), "");
	alarm_batch_free(b);
}

/* ---- authentication ------------------------------------------------ */

static struct alarm_auth *
auth_make(const char *const *entries, size_t n, char **cause)
{
	struct conf_list	l;

	l.v = (char **)entries;
	l.n = n;
	return (alarm_auth_create(&l, cause));
}

/* Check a request with up to two headers at time now (ms). */
static enum alarm_auth_rc
auth_try(struct alarm_auth *a, const char *source, const char *body,
    const char *h1, const char *v1, const char *h2, const char *v2,
    int64_t now, char **reason)
{
	struct alarm_header	hdr[2];
	struct alarm_request	req;

	memset(&req, 0, sizeof req);
	req.body = body;
	req.len = strlen(body);
	req.headers = hdr;
	hdr[0].name = h1;
	hdr[0].value = v1;
	hdr[1].name = h2;
	hdr[1].value = v2;
	req.nheaders = h2 != NULL ? 2 : h1 != NULL ? 1 : 0;
	return (alarm_auth_check(a, source, &req, now, reason));
}

/* Denied, with a reason that contains want and no secret. */
static void
auth_denied(struct alarm_auth *a, const char *source, const char *body,
    const char *h1, const char *v1, const char *h2, const char *v2,
    int64_t now, const char *want)
{
	static const char *const secrets[] = { "s3cret-token", "pa55",
	    "hmac-key", "file-token" };
	enum alarm_auth_rc	 rc;
	char			*reason;
	size_t			 i;

	rc = auth_try(a, source, body, h1, v1, h2, v2, now, &reason);
	if (rc != ALARM_AUTH_DENIED || reason == NULL ||
	    strstr(reason, want) == NULL)
		fail_msg("%s: got %d \"%s\", wanted denied \"%s\"", source,
		    rc, reason != NULL ? reason : "", want);
	for (i = 0; i < nitems(secrets); i++)
		assert_null(strstr(reason, secrets[i]));
	free(reason);
}

/* Allowed. */
static void
auth_ok(struct alarm_auth *a, const char *source, const char *body,
    const char *h1, const char *v1, const char *h2, const char *v2,
    int64_t now)
{
	char	*reason;

	if (auth_try(a, source, body, h1, v1, h2, v2, now, &reason) !=
	    ALARM_AUTH_OK)
		fail_msg("%s: denied: %s", source, reason);
	assert_null(reason);
}

/* Lower-case hex HMAC-SHA256 of "ts:body" (ts NULL: of body). */
static void
hmac_hex(const char *key, const char *ts, const char *body, char *out)
{
	unsigned char	 md[32];
	unsigned int	 n;
	char		*msg;
	size_t		 i;

	if (ts != NULL)
		xasprintf(&msg, "%s:%s", ts, body);
	else
		msg = xstrdup(body);
	HMAC(EVP_sha256(), key, (int)strlen(key), (unsigned char *)msg,
	    strlen(msg), md, &n);
	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	free(msg);
}

static void
test_auth_bearer_basic(void **state)
{
	static const char *const e[] = {
		"alertmanager bearer token=s3cret-token",
		"vitrage bearer header=X-Auth-Token token=s3cret-token",
		"zabbix basic user=zabbix password=pa55",
		"aodh none"
	};
	struct alarm_auth	*a;
	char			*cause, longcred[6 + 600 + 1];

	(void)state;
	a = auth_make(e, nitems(e), &cause);
	assert_non_null(a);
	auth_ok(a, "alertmanager", "{}", "authorization",
	    "Bearer s3cret-token", NULL, NULL, 0);
	auth_ok(a, "alertmanager", "{}", "Authorization",
	    "bearer   s3cret-token", NULL, NULL, 0);
	auth_denied(a, "alertmanager", "{}", NULL, NULL, NULL, NULL, 0,
	    "no Authorization header");
	auth_denied(a, "alertmanager", "{}", "Authorization",
	    "Bearer s3cret-tokex", NULL, NULL, 0, "wrong token in the "
	    "Authorization header");
	auth_denied(a, "alertmanager", "{}", "Authorization",
	    "Bearer s3cret-token2", NULL, NULL, 0, "wrong token");
	auth_denied(a, "alertmanager", "{}", "Authorization",
	    "Basic czNjcmV0LXRva2Vu", NULL, NULL, 0, "is not Bearer");
	auth_ok(a, "vitrage", "{}", "X-Auth-Token", "s3cret-token", NULL,
	    NULL, 0);
	auth_denied(a, "vitrage", "{}", "Authorization",
	    "Bearer s3cret-token", NULL, NULL, 0, "no X-Auth-Token header");
	/* zabbix:pa55 */
	auth_ok(a, "zabbix", "{}", "Authorization", "Basic emFiYml4OnBhNTU=",
	    NULL, NULL, 0);
	auth_ok(a, "zabbix", "{}", "Authorization", "Basic emFiYml4OnBhNTU",
	    NULL, NULL, 0);
	/* zabbix:pa56, zabbi:pa55 */
	auth_denied(a, "zabbix", "{}", "Authorization",
	    "Basic emFiYml4OnBhNTY=", NULL, NULL, 0, "wrong user or password");
	auth_denied(a, "zabbix", "{}", "Authorization",
	    "Basic emFiYmk6cGE1NQ==", NULL, NULL, 0, "wrong user or password");
	auth_denied(a, "zabbix", "{}", "Authorization", "Basic !!!", NULL,
	    NULL, 0, "not base64");
	/* Long credentials are read, and refused for what they are. */
	memset(longcred, 'A', sizeof longcred - 1);
	longcred[sizeof longcred - 1] = '\0';
	memcpy(longcred, "Basic ", 6);
	auth_denied(a, "zabbix", "{}", "Authorization", longcred, NULL,
	    NULL, 0, "wrong user or password");
	auth_denied(a, "zabbix", "{}", "Authorization", "Bearer pa55", NULL,
	    NULL, 0, "no Basic Authorization header");
	auth_ok(a, "aodh", "{}", NULL, NULL, NULL, NULL, 0);
	assert_int_equal(auth_try(a, "generic", "{}", NULL, NULL, NULL, NULL,
	    0, &cause), ALARM_AUTH_NONE);

	assert_string_equal(alarm_auth_challenge(a, "alertmanager"),
	    "Bearer");
	assert_string_equal(alarm_auth_challenge(a, "zabbix"),
	    "Basic realm=\"bora\"");
	assert_null(alarm_auth_challenge(a, "vitrage"));
	assert_null(alarm_auth_challenge(a, "generic"));
	assert_true(alarm_auth_is_secret_header(a, "aodh", "authorization"));
	assert_true(alarm_auth_is_secret_header(a, "aodh", "X-Auth-Token"));
	assert_false(alarm_auth_is_secret_header(a, "aodh", "Content-Type"));
	alarm_auth_free(a);
}

static void
test_auth_hmac(void **state)
{
	static const char *const e[] = {
		"grafana hmac secret=hmac-key "
		    "header=X-Grafana-Alerting-Signature "
		    "timestamp-header=X-Grafana-Alerting-Signature-Timestamp "
		    "tolerance=5m",
		"generic hmac secret=key header=X-Sig prefix=sha256=",
		"zabbix hmac secret=hmac-key encoding=base64"
	};
	const char		*body = "{\"alerts\": []}";
	const char		*sigh = "X-Grafana-Alerting-Signature";
	const char		*tsh = "X-Grafana-Alerting-Signature-Timestamp";
	struct alarm_auth	*a;
	char			*cause, sig[65], other[65], b64[64];
	unsigned char		 md[32];
	unsigned int		 n;
	int64_t			 now = INT64_C(1800000000000);

	(void)state;
	a = auth_make(e, nitems(e), &cause);
	assert_non_null(a);

	/* Signed "timestamp:body" within the window. */
	hmac_hex("hmac-key", "1800000000", body, sig);
	auth_ok(a, "grafana", body, sigh, sig, tsh, "1800000000", now);
	auth_ok(a, "grafana", body, sigh, sig, tsh, "1800000000",
	    now + 299 * 1000);
	/* The same request replayed after the tolerance, or from ahead. */
	auth_denied(a, "grafana", body, sigh, sig, tsh, "1800000000",
	    now + 301 * 1000, "is 301 s away from now, more than the "
	    "tolerance of 300 s (a replay?)");
	auth_denied(a, "grafana", body, sigh, sig, tsh, "1800000000",
	    now - 3600 * 1000, "3600 s away");
	/* A fresh timestamp with the old signature. */
	auth_denied(a, "grafana", body, sigh, sig, tsh, "1800000100",
	    now + 100 * 1000, "wrong signature");
	auth_denied(a, "grafana", body, sigh, sig, NULL, NULL, now,
	    "no X-Grafana-Alerting-Signature-Timestamp header");
	auth_denied(a, "grafana", body, sigh, sig, tsh, "soon", now,
	    "not a Unix time");
	auth_denied(a, "grafana", body, tsh, "1800000000", NULL, NULL, now,
	    "no X-Grafana-Alerting-Signature header");
	/* Another body, or a signature of the body alone. */
	auth_denied(a, "grafana", "{\"alerts\": [1]}", sigh, sig, tsh,
	    "1800000000", now, "wrong signature");
	hmac_hex("hmac-key", NULL, body, other);
	auth_denied(a, "grafana", body, sigh, other, tsh, "1800000000", now,
	    "wrong signature");
	auth_denied(a, "grafana", body, sigh, "zz", tsh, "1800000000", now,
	    "is not hex");
	/* Upper case hex is the same signature. */
	for (n = 0; sig[n] != '\0'; n++)
		sig[n] = (char)toupper((unsigned char)sig[n]);
	auth_ok(a, "grafana", body, sigh, sig, tsh, "1800000000", now);

	/* A known answer, behind a prefix. */
	auth_ok(a, "generic", "The quick brown fox jumps over the lazy dog",
	    "X-Sig", "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175"
	    "997479dbc2d1a3cd8", NULL, NULL, now);
	auth_denied(a, "generic", "The quick brown fox jumps over the lazy "
	    "dog", "X-Sig", "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175"
	    "997479dbc2d1a3cd8", NULL, NULL, now, "does not start with "
	    "sha256=");
	auth_denied(a, "generic", "The quick brown fox jumps over the lazy "
	    "dog.", "X-Sig", "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a1"
	    "4946175997479dbc2d1a3cd8", NULL, NULL, now, "wrong signature");
	auth_denied(a, "generic", "x", "X-Sig", "sha256=f7bc", NULL, NULL,
	    now, "wrong signature");

	/* Base64. */
	HMAC(EVP_sha256(), "hmac-key", 8, (const unsigned char *)body,
	    strlen(body), md, &n);
	EVP_EncodeBlock((unsigned char *)b64, md, (int)n);
	auth_ok(a, "zabbix", body, "X-Signature", b64, NULL, NULL, now);
	b64[3] = b64[3] == 'A' ? 'B' : 'A';
	auth_denied(a, "zabbix", body, "X-Signature", b64, NULL, NULL, now,
	    "wrong signature");
	auth_denied(a, "zabbix", body, "X-Signature", "%%%", NULL, NULL, now,
	    "is not base64");
	alarm_auth_free(a);
}

/* Configuration errors name the entry, never a secret. */
static void
test_auth_config(void **state)
{
	static const struct {
		const char	*entry;
		const char	*want;
	} bad[] = {
		{ "alertmanger bearer token=s3cret-token",
		  "alarm-auth entry 1: unknown alarm source 'alertmanger' "
		  "(did you mean 'alertmanager'?)" },
		{ "aodh", "expected SOURCE METHOD" },
		{ "aodh digest", "unknown method 'digest'" },
		{ "aodh none token=s3cret-token", "none takes no options" },
		{ "aodh bearer", "bearer needs token= or token-file=" },
		{ "aodh bearer tokn=s3cret-token",
		  "unknown option 'tokn' for bearer (did you mean 'token'?)" },
		{ "aodh bearer secret=s3cret-token", "unknown option 'secret' "
		  "for bearer" },
		{ "aodh bearer token", "expected key=value, not 'token'" },
		{ "aodh bearer token=", "token: a value is needed" },
		{ "aodh basic password=pa55", "basic needs user=" },
		{ "aodh basic user=a:b password=pa55", "without ':'" },
		{ "aodh hmac encoding=hex", "hmac needs secret=" },
		{ "aodh hmac secret=hmac-key encoding=b64",
		  "encoding: expected hex or base64, not 'b64'" },
		{ "aodh hmac secret=hmac-key tolerance=soon",
		  "tolerance: invalid duration: soon" },
		{ "aodh bearer token-file=/nonexistent/file-token",
		  "/nonexistent/file-token" }
	};
	const char		*two[2] = { "aodh none", "aodh none" };
	const char		*one[1];
	struct alarm_auth	*a;
	char			*cause, *path, *reason;
	size_t			 i;
	FILE			*f;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		one[0] = bad[i].entry;
		a = auth_make(one, 1, &cause);
		if (a != NULL || cause == NULL ||
		    strstr(cause, bad[i].want) == NULL)
			fail_msg("%s: got \"%s\"", bad[i].entry,
			    cause != NULL ? cause : "(accepted)");
		assert_null(strstr(cause, "s3cret-token"));
		assert_null(strstr(cause, "pa55"));
		free(cause);
	}
	assert_null(auth_make(two, 2, &cause));
	assert_string_equal(cause, "alarm-auth entry 2 (aodh): a second "
	    "entry for this source");
	free(cause);
	a = auth_make(NULL, 0, &cause);
	assert_non_null(a);
	alarm_auth_free(a);

	/* A token file: its line end is not part of the token. */
	xasprintf(&path, "%s/test-alarms-token.XXXXXX", P_tmpdir);
	assert_true(mkstemp(path) >= 0);
	f = fopen(path, "w");
	fputs("file-token\n", f);
	fclose(f);
	xasprintf(&cause, "generic bearer token-file=%s", path);
	one[0] = cause;
	a = auth_make(one, 1, &reason);
	free(cause);
	assert_non_null(a);
	auth_ok(a, "generic", "{}", "Authorization", "Bearer file-token",
	    NULL, NULL, 0);
	auth_denied(a, "generic", "{}", "Authorization", "Bearer file-token\n",
	    NULL, NULL, 0, "wrong token");
	alarm_auth_free(a);
	f = fopen(path, "w");
	fputs("\n", f);
	fclose(f);
	xasprintf(&cause, "generic bearer token-file=%s", path);
	one[0] = cause;
	assert_null(auth_make(one, 1, &reason));
	assert_non_null(strstr(reason, "the secret file is empty"));
	free(reason);
	free(cause);
	unlink(path);
	free(path);
}

/* borad's printed configuration hides alarm secrets. */
static void
test_conf_hides_secrets(void **state)
{
	struct conf	 conf;
	char		*out = NULL, *cause;
	size_t		 len;
	FILE		*f;

	(void)state;
	conf_init(&conf);
	assert_int_equal(conf_set(&conf, "alarm-auth", "alertmanager bearer "
	    "token=s3cret-token header=Authorization", CONF_SRC_FLAG, &cause),
	    0);
	assert_int_equal(conf_set(&conf, "alarm-auth", "zabbix basic "
	    "user=z password=pa55", CONF_SRC_FLAG, &cause), 0);
	assert_int_equal(conf_set(&conf, "alarm-max-events", "0",
	    CONF_SRC_FLAG, &cause), -1);
	free(cause);
	f = open_memstream(&out, &len);
	conf_print(&conf, f);
	fclose(f);
	assert_null(strstr(out, "s3cret-token"));
	assert_null(strstr(out, "pa55"));
	assert_non_null(strstr(out, "alertmanager bearer token=******** "
	    "header=Authorization"));
	assert_non_null(strstr(out, "user=z password=********"));
	assert_non_null(strstr(out, "alarm-max-events: 1000"));
	free(out);
	conf_free(&conf);
}

/* ---- triggers and verdicts ----------------------------------------- */

static const char book[] =
	"version: '2.0'\n"
	"name: book\n"
	"workflows:\n"
	"  evacuate:\n"
	"    input: [host]\n"
	"    tasks: {a: {action: std.noop}}\n"
	"triggers:\n"
	"  host_down:\n"
	"    source: [alertmanager, grafana]\n"
	"    when: <% alert.name == 'HostDown' and alert.severity == "
	    "'critical' %>\n"
	"    workflow: evacuate\n"
	"    input: {host: <% alert.resource.host %>, n: 2}\n"
	"    once-within: 10m\n"
	"    on-resolved: cancel\n"
	"  any:\n"
	"    source: alertmanager\n"
	"    workflow: other.wf\n"
	"    key: <% alert.labels.instance .. '/' .. alert.status %>\n"
	"    limit: {count: 3, window: 1m, by: <% alert.resource.host %>}\n"
	"    until-resolved: true\n"
	"  broken:\n"
	"    source: alertmanager\n"
	"    when: <% alert.labels.nope.deeper %>\n"
	"    workflow: evacuate\n"
	"  bad_input:\n"
	"    source: alertmanager\n"
	"    workflow: evacuate\n"
	"    input: <% alert.name %>\n"
	"  null_key:\n"
	"    source: alertmanager\n"
	"    workflow: evacuate\n"
	"    key: <% alert.labels.missing %>\n"
	"  on_resolve:\n"
	"    source: alertmanager\n"
	"    when: <% alert.status == 'resolved' %>\n"
	"    workflow: evacuate\n"
	"    on-resolved: start\n"
	"  aodh_only:\n"
	"    source: aodh\n"
	"    workflow: evacuate\n";

static struct alarm_triggers *
load_triggers(void)
{
	struct alarm_triggers	*ts;
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	char			*s;

	dsl_errors_init(&errs);
	wb = dsl_parse("book.yaml", book, strlen(book), NULL, &errs);
	if (errs.n != 0) {
		s = dsl_errors_format(&errs);
		fail_msg("%s", s);
	}
	assert_non_null(wb);
	ts = alarm_triggers_create();
	alarm_triggers_add(ts, wb);
	dsl_workbook_free(wb);
	dsl_errors_free(&errs);
	return (ts);
}

static void
test_match(void **state)
{
	struct alarm_triggers	*ts;
	struct alarm_batch	*b;
	struct alarm_decision	*d;
	struct expr		*ex;
	char			*cause;
	json_t			*j;
	size_t			 n;

	(void)state;
	ts = load_triggers();
	assert_int_equal(alarm_triggers_count(ts), 7);
	assert_string_equal(alarm_trigger_name(ts, 0), "book.host_down");
	assert_true(alarm_trigger_listens(ts, 0, "grafana"));
	assert_false(alarm_trigger_listens(ts, 6, "alertmanager"));
	ex = expr_create(NULL, NULL, &cause);
	assert_non_null(ex);

	b = accepted("alertmanager", "{\"alerts\": [{\"status\": \"firing\", "
	    "\"fingerprint\": \"fp1\", \"labels\": {\"alertname\": "
	    "\"HostDown\", \"severity\": \"critical\", \"instance\": "
	    "\"compute-1:9100\"}}, {\"status\": \"resolved\", \"fingerprint\":"
	    " \"fp2\", \"labels\": {\"alertname\": \"HostDown\", "
	    "\"instance\": \"compute-2\"}}]}", 2);

	/* A firing alert: every alertmanager trigger, in order. */
	n = alarm_match(ts, ex, &b->v[0], &d);
	assert_int_equal(n, 6);
	assert_string_equal(d[0].name, "book.host_down");
	assert_int_equal(d[0].verdict, ALARM_V_STARTED);
	assert_string_equal(d[0].workflow, "book.evacuate");
	assert_string_equal(d[0].key, "fp1");
	assert_int_equal(d[0].once_within_ms, 600000);
	j = json_pack("{s:s, s:i}", "host", "compute-1", "n", 2);
	assert_true(json_equal(d[0].input, j));
	json_decref(j);
	assert_string_equal(d[0].reason, "starts book.evacuate");

	assert_int_equal(d[1].verdict, ALARM_V_STARTED);
	assert_string_equal(d[1].workflow, "other.wf");
	assert_string_equal(d[1].key, "compute-1:9100/firing");
	assert_string_equal(d[1].limit_by, "compute-1");
	assert_int_equal(d[1].limit_count, 3);
	assert_int_equal(d[1].limit_window_ms, 60000);
	assert_true(d[1].until_resolved);
	assert_int_equal(json_object_size(d[1].input), 0);

	assert_int_equal(d[2].verdict, ALARM_V_FAILED);
	assert_non_null(strstr(d[2].reason, "when: "));
	assert_non_null(strstr(d[2].reason, "alert.labels.nope.deeper"));
	assert_int_equal(d[3].verdict, ALARM_V_FAILED);
	assert_string_equal(d[3].reason, "input: gave a string, expected an "
	    "object");
	assert_int_equal(d[4].verdict, ALARM_V_FAILED);
	assert_string_equal(d[4].reason, "key: gave null, expected a "
	    "non-empty string");
	assert_int_equal(d[5].verdict, ALARM_V_WHEN_FALSE);
	assert_string_equal(d[5].reason, "when is false");
	j = alarm_decision_json(&d[1]);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")),
	    "started");
	assert_string_equal(json_string_value(json_object_get(j,
	    "limit_by")), "compute-1");
	json_decref(j);
	alarm_decisions_free(d, n);

	/* A resolved alert: cancel, ignore, or matched with start. */
	n = alarm_match(ts, ex, &b->v[1], &d);
	assert_int_equal(n, 6);
	assert_int_equal(d[0].verdict, ALARM_V_CANCELLED);
	assert_string_equal(d[0].key, "fp2");
	assert_int_equal(d[1].verdict, ALARM_V_RESOLVED_IGNORED);
	assert_string_equal(d[1].key, "compute-2/resolved");
	assert_int_equal(d[2].verdict, ALARM_V_RESOLVED_IGNORED);
	assert_int_equal(d[5].verdict, ALARM_V_STARTED);
	assert_string_equal(d[5].name, "book.on_resolve");
	alarm_decisions_free(d, n);
	alarm_batch_free(b);

	/* No trigger of another source; when false names the value. */
	b = accepted("aodh", "{\"alarm_id\": \"a1\", \"current\": \"alarm\"}",
	    1);
	n = alarm_match(ts, ex, &b->v[0], &d);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].name, "book.aodh_only");
	assert_string_equal(d[0].key, "a1");
	alarm_decisions_free(d, n);
	alarm_batch_free(b);
	b = accepted("vitrage", "{\"notification\": \"vitrage.alarm.activate\","
	    " \"payload\": {\"vitrage_id\": \"v\"}}", 1);
	assert_int_equal(alarm_match(ts, ex, &b->v[0], &d), 0);
	assert_null(d);
	alarm_batch_free(b);
	b = accepted("grafana", "{\"alerts\": [{\"status\": \"firing\", "
	    "\"fingerprint\": \"g\", \"labels\": {\"alertname\": \"HostDown\","
	    " \"severity\": \"warning\"}}]}", 1);
	n = alarm_match(ts, ex, &b->v[0], &d);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].verdict, ALARM_V_WHEN_FALSE);
	alarm_decisions_free(d, n);
	alarm_batch_free(b);

	/* An alert the sandbox cannot finish fails only its trigger. */
	alarm_triggers_free(ts);
	expr_free(ex);
}

/* The verdict table. */
static void
test_verdicts(void **state)
{
	static const char *const names[] = { "started", "duplicate",
	    "when_false", "limited", "resolved_ignored", "cancelled",
	    "failed" };
	size_t	i;

	(void)state;
	for (i = 0; i < nitems(names); i++) {
		assert_string_equal(alarm_verdict_name((enum alarm_verdict)i),
		    names[i]);
		assert_int_equal(alarm_verdict_find(names[i]), (int)i);
	}
	assert_null(alarm_verdict_name((enum alarm_verdict)nitems(names)));
	assert_int_equal(alarm_verdict_find("matched"), -1);
}

/*
 * The intake's parts of the module: a source by its route, the default
 * answer (202, whatever the verdicts; refusals left to the API), a
 * signature's nonce (bytes, whatever encoding) and its expiry, and a
 * trigger as JSON.
 */
static void
test_intake_parts(void **state)
{
	static const char *const e[] = {
		"grafana hmac secret=hmac-key "
		    "header=X-Grafana-Alerting-Signature "
		    "timestamp-header=X-Grafana-Alerting-Signature-Timestamp "
		    "tolerance=5m",
		"zabbix hmac secret=hmac-key"
	};
	struct alarm_auth	*a;
	struct alarm_outcome	 o;
	struct alarm_triggers	*ts;
	struct alarm_request	 req;
	struct alarm_header	 hdr[2];
	json_t			*body, *j;
	unsigned		 status = 0;
	char			*cause, *n1, *n2, sig[65];
	int64_t			 exp;
	size_t			 i;

	(void)state;
	assert_string_equal(alarm_source_at("/v1/alarms/vitrage"), "vitrage");
	assert_null(alarm_source_at("/v1/alarms/vitrage/x"));
	assert_null(alarm_source_at("/v1/notifications"));
	for (i = 0; i < alarm_source_count(); i++)
		assert_string_equal(alarm_source_at(alarm_source_route(i)),
		    alarm_source_name(i));

	memset(&o, 0, sizeof o);
	o.source = "alertmanager";
	o.alarm_id = "a-1";
	o.events = json_pack("[{s:s, s:s, s:[]}]", "key", "k", "status",
	    "firing", "verdicts");
	body = alarm_answer(&o, &status);
	assert_int_equal(status, 202);
	assert_string_equal(json_string_value(json_object_get(body,
	    "alarm_id")), "a-1");
	assert_true(json_equal(json_object_get(body, "events"), o.events));
	assert_null(json_object_get(body, "pending"));
	json_decref(body);
	o.pending = 1;
	body = alarm_answer(&o, &status);
	assert_true(json_is_true(json_object_get(body, "pending")));
	json_decref(body);
	json_decref(o.events);
	o.events = NULL;
	o.rc = ALARM_INVALID;
	o.error = "$: no";
	assert_null(alarm_answer(&o, &status));

	a = auth_make(e, nitems(e), &cause);
	assert_non_null(a);
	memset(&req, 0, sizeof req);
	req.body = "{}";
	req.len = 2;
	req.headers = hdr;
	req.nheaders = 2;
	hdr[0].name = "X-Grafana-Alerting-Signature";
	hdr[1].name = "X-Grafana-Alerting-Signature-Timestamp";
	hdr[1].value = "1800000000";
	hmac_hex("hmac-key", "1800000000", "{}", sig);
	hdr[0].value = sig;
	n1 = alarm_auth_nonce(a, "grafana", &req, &exp);
	assert_non_null(n1);
	assert_int_equal(exp, INT64_C(1800000000000) + 300000);
	assert_int_equal(strncmp(n1, "grafana:", 8), 0);
	assert_string_equal(n1 + 8, sig);
	for (i = 0; sig[i] != '\0'; i++)
		sig[i] = (char)toupper((unsigned char)sig[i]);
	n2 = alarm_auth_nonce(a, "grafana", &req, &exp);
	assert_string_equal(n1, n2);
	free(n1);
	free(n2);
	hdr[1].value = "soon";
	assert_null(alarm_auth_nonce(a, "grafana", &req, &exp));
	/* Without a timestamp a resend is the same request: no nonce. */
	hdr[0].name = "X-Signature";
	assert_null(alarm_auth_nonce(a, "zabbix", &req, &exp));
	assert_null(alarm_auth_nonce(a, "generic", &req, &exp));
	alarm_auth_free(a);

	ts = load_triggers();
	j = alarm_trigger_json(ts, 1);
	body = json_loads("{\"name\": \"book.any\", \"source\": "
	    "[\"alertmanager\"], \"when\": null, \"workflow\": \"other.wf\", "
	    "\"input\": null, \"key\": \"<% alert.labels.instance .. '/' .. "
	    "alert.status %>\", \"once_within_ms\": 0, \"until_resolved\": "
	    "true, \"limit\": {\"count\": 3, \"window_ms\": 60000, \"by\": "
	    "\"<% alert.resource.host %>\"}, \"on_resolved\": \"ignore\", "
	    "\"description\": null, \"file\": \"book.yaml\"}", 0, NULL);
	assert_non_null(body);
	if (!json_equal(j, body))
		fail_msg("%s", json_dumps(j, JSON_COMPACT));
	json_decref(j);
	json_decref(body);
	assert_null(alarm_trigger_json(ts, 99));
	alarm_triggers_free(ts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_message_size),
		cmocka_unit_test(test_generic_header_key),
		cmocka_unit_test(test_mangled),
		cmocka_unit_test(test_adapter_details),
		cmocka_unit_test(test_auth_bearer_basic),
		cmocka_unit_test(test_auth_hmac),
		cmocka_unit_test(test_auth_config),
		cmocka_unit_test(test_conf_hides_secrets),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_budget),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_intake_parts),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
