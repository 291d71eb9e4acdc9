/*
 * test-msg.c -- the catalog of what users are told: texts and their
 * placeholders, a deployer's overrides checked with file:line:col, the
 * cleaning of reasons (no secret, traceback or body; bounded), and
 * message rows recorded in a change set.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/lib.h"
#include "conf/conf.h"
#include "msg/msg.h"
#include "store/store.h"

/* Write text to a temporary file; its path (static). */
static const char *
tmpfile_with(const char *text)
{
	static char	 path[64];
	FILE		*f;
	int		 fd;

	snprintf(path, sizeof path, "/tmp/test-msg.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return (path);
}

/* Every entry renders its text and action, placeholders filled. */
static void
test_render(void **state)
{
	char	*s;

	(void)state;
	s = msg_render(MSG_EXE_FAILED, "workflow", "evacuate", "tasks",
	    "stop_vm", "reason", "HTTP 409", "execution", "e-1", NULL);
	assert_non_null(s);
	assert_string_equal(s, "Workflow evacuate failed in task stop_vm: "
	    "HTTP 409. Fix the cause, then re-run the failed task with `bora "
	    "execution rerun TASK_ID` (its id is in `bora execution tasks "
	    "e-1`).");
	free(s);
	/* A value not given reads "unknown", never a hole. */
	s = msg_render(MSG_LOCK_WAIT, "task", "t", NULL);
	assert_non_null(strstr(s, "lock 'unknown'"));
	free(s);
	assert_null(msg_render("BORA-XXX-999", NULL));
	assert_string_equal(msg_level(MSG_LOCK_WAIT), "WARNING");
	assert_string_equal(msg_resource_type(MSG_TASK_UNHANDLED), "task");
}

/* Every template uses only its own placeholders, all closed. */
static void
test_catalog_consistent(void **state)
{
	json_t		*c, *e, *vars;
	const char	*t, *p, *end;
	size_t		 i, j, k;
	int		 found;

	(void)state;
	c = msg_catalog_json();
	assert_true(json_array_size(c) >= 10);
	json_array_foreach(c, i, e) {
		vars = json_object_get(e, "placeholders");
		for (k = 0; k < 2; k++) {
			t = json_string_value(json_object_get(e, k == 0 ?
			    "message" : "action"));
			for (p = strchr(t, '{'); p != NULL;
			    p = strchr(end, '{')) {
				end = strchr(p, '}');
				assert_non_null(end);
				found = 0;
				for (j = 0; j < json_array_size(vars); j++)
					found |= strncmp(json_string_value(
					    json_array_get(vars, j)), p + 1,
					    (size_t)(end - p - 1)) == 0;
				if (!found)
					fail_msg("%s: {%.*s}",
					    json_string_value(json_object_get(
					    e, "event_id")), (int)(end - p - 1),
					    p + 1);
			}
		}
	}
	json_decref(c);
}

/* Secrets are masked wherever they are. */
static void
test_clean_secrets(void **state)
{
	static const char *const in[] = {
		"login failed: password=hunter2 for admin",
		"POST failed; Authorization: Bearer abcdefgh12345678",
		"url http://admin:s3cr3t@keystone:5000/v3 refused",
		"{\"auth\": {\"token\": \"gAAAAABk1xZ\"}} (code 401)",
		"X-Auth-Token: gAAAAABlongtokenvalue0123456789ABCDEFGHIJKLMN",
		"key gAAAAABlongtokenvalue0123456789ABCDEFGHIJKLMN used",
		"api_key: 'abc def'"
	};
	static const char *const secrets[] = {
		"hunter2", "abcdefgh12345678", "s3cr3t", "gAAAAABk1xZ",
		"gAAAAABlong", "gAAAAABlong", "abc def"
	};
	char	*s;
	size_t	 i;

	(void)state;
	for (i = 0; i < nitems(in); i++) {
		s = msg_clean(in[i], MSG_REASON_MAX);
		if (strstr(s, secrets[i]) != NULL)
			fail_msg("secret left in '%s'", s);
		/* A body without a message goes whole. */
		assert_non_null(strstr(s, i == 3 ? "(body omitted)" : "***"));
		free(s);
	}
	s = msg_clean("disk full (password=hunter2) on /var", 300);
	assert_string_equal(s, "disk full (password=***) on /var");
	free(s);
	s = msg_clean("Authorization: Bearer abcdefgh12345678", 300);
	assert_string_equal(s, "Authorization: Bearer ***");
	free(s);
	/* Names and ids stay. */
	s = msg_clean("server 3f2b8c1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b of "
	    "evacuate_host_with_reserved_host_and_retries stopped", 300);
	assert_string_equal(s, "server 3f2b8c1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b "
	    "of evacuate_host_with_reserved_host_and_retries stopped");
	free(s);
}

/* Tracebacks, bodies and extra lines go; a body's message stays. */
static void
test_clean_shape(void **state)
{
	char	*s, big[2000];

	(void)state;
	s = msg_clean("Traceback (most recent call last):\n  File \"x.py\", "
	    "line 3\nValueError: x", 300);
	assert_string_equal(s, "unknown");
	free(s);
	s = msg_clean("action failed: boom\nTraceback (most recent call "
	    "last):\n  File \"a\"", 300);
	assert_string_equal(s, "action failed: boom");
	free(s);
	s = msg_clean("HTTP 409: {\"conflictingRequest\": {\"message\": "
	    "\"Cannot 'evacuate' instance while it is in vm_state active\", "
	    "\"code\": 409}}", 300);
	assert_string_equal(s, "HTTP 409: Cannot 'evacuate' instance while it "
	    "is in vm_state active");
	free(s);
	s = msg_clean("HTTP 500: <!DOCTYPE html><html><body>Internal</body>"
	    "</html>", 300);
	assert_string_equal(s, "HTTP 500: (body omitted)");
	free(s);
	s = msg_clean("HTTP 502: {\"a\": [1, 2, 3], \"b\": {\"c\": \"cut "
	    "short by the server", 300);
	assert_string_equal(s, "HTTP 502: (body omitted)");
	free(s);
	s = msg_clean("task 'x', input: bad\tvalue\x1b[31m red\nstack "
	    "traceback:\n\t[C]: in ?", 300);
	assert_string_equal(s, "task 'x', input: bad value [31m red");
	free(s);
	/* Bounded, on a character. */
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big + 296, "\xc3\xa9\xc3\xa9", 4);
	s = msg_clean(big, 300);
	assert_int_equal(strlen(s), 299);
	assert_string_equal(s + 296, "...");
	free(s);
	s = msg_clean(NULL, 300);
	assert_string_equal(s, "unknown");
	free(s);
}

/* A reason put in a message is cleaned and bounded there too. */
static void
test_render_cleans(void **state)
{
	char	*s, big[4000];

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	s = msg_render(MSG_TASK_UNHANDLED, "task", "t1", "workflow", "wf",
	    "reason", big, "task_id", "id", NULL);
	assert_true(strlen(s) < 300 + 300);
	assert_non_null(strstr(s, "xxx..."));
	free(s);
	s = msg_render(MSG_TASK_UNHANDLED, "task", "t1", "workflow", "wf",
	    "reason", "token=abc\nline two", "task_id", "id", NULL);
	assert_null(strstr(s, "abc"));
	assert_null(strstr(s, "line two"));
	free(s);
	/* A reason that ends a sentence is not given a second full stop. */
	s = msg_render(MSG_TASK_UNHANDLED, "task", "t1", "workflow", "wf",
	    "reason", "Fail action expected exception.", "task_id", "id",
	    NULL);
	assert_non_null(strstr(s, "expected exception. "));
	assert_null(strstr(s, ".."));
	free(s);
}

/* A deployer's texts replace the built-in ones. */
static void
test_override(void **state)
{
	const char	*path;
	char		*cause = NULL, *s;
	json_t		*c, *e;
	size_t		 i;

	(void)state;
	path = tmpfile_with("# texts of our cloud\n"
	    "BORA-TSK-001:\n"
	    "  message: \"Tâche {task} ({workflow}) : {reason} {{x}}\"\n"
	    "  action: \"Appelez l'astreinte.\"\n"
	    "BORA-EXE-002: \"Le workflow {workflow} a échoué.\"\n");
	assert_int_equal(msg_catalog_load(path, &cause), 0);
	unlink(path);
	s = msg_render(MSG_TASK_UNHANDLED, "task", "t1", "workflow", "wf",
	    "reason", "boom", NULL);
	assert_string_equal(s, "Tâche t1 (wf) : boom {x} Appelez "
	    "l'astreinte.");
	free(s);
	s = msg_render(MSG_EXE_ENDED, "workflow", "wf", "execution", "e",
	    NULL);
	assert_true(strncmp(s, "Le workflow wf a échoué. See `bora", 34) ==
	    0);
	free(s);
	c = msg_catalog_json();
	json_array_foreach(c, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "event_id")),
		    MSG_TASK_UNHANDLED) == 0)
			assert_true(json_is_true(json_object_get(e,
			    "overridden")));
	}
	json_decref(c);
	assert_int_equal(msg_catalog_load(NULL, &cause), 0);
	s = msg_render(MSG_EXE_ENDED, "workflow", "wf", NULL);
	assert_true(strncmp(s, "Workflow wf ended", 17) == 0);
	free(s);
}

/* Every problem of a bad file, with its place; nothing changes. */
static void
test_override_errors(void **state)
{
	const char	*path;
	char		*cause = NULL, *s;

	(void)state;
	path = tmpfile_with("BORA-TSK-001:\n"
	    "  message: \"Task {tsk} failed\"\n"
	    "  actoin: x\n"
	    "BORA-TSK-01: \"x\"\n"
	    "BORA-EXE-002:\n"
	    "  message: [a, b]\n"
	    "BORA-EXE-001: \"open {brace\"\n");
	assert_int_equal(msg_catalog_load(path, &cause), -1);
	assert_non_null(cause);
	s = strstr(cause, ":2:12: BORA-TSK-001.message: unknown placeholder "
	    "{tsk}");
	if (s == NULL)
		fail_msg("%s", cause);
	assert_non_null(strstr(cause, ":3:3: BORA-TSK-001: unknown key "
	    "'actoin'"));
	assert_non_null(strstr(cause, ":4:1: unknown event id 'BORA-TSK-01' "
	    "(did you mean 'BORA-TSK-001'?)"));
	assert_non_null(strstr(cause, ":6:12: BORA-EXE-002.message: expected "
	    "a text"));
	assert_non_null(strstr(cause, ":7:15: BORA-EXE-001.message: '{' is "
	    "not closed"));
	assert_true(strncmp(cause, path, strlen(path)) == 0);
	free(cause);
	/* The good entry of the bad file was not taken. */
	s = msg_render(MSG_TASK_UNHANDLED, "task", "t", NULL);
	assert_true(strncmp(s, "Task t of workflow", 18) == 0);
	free(s);

	path = tmpfile_with("a: [unclosed\n");
	assert_int_equal(msg_catalog_load(path, &cause), -1);
	assert_non_null(strstr(cause, path));
	free(cause);
	unlink(path);
	assert_int_equal(msg_catalog_load("/nonexistent/texts.yaml", &cause),
	    -1);
	assert_non_null(strstr(cause, "/nonexistent/texts.yaml"));
	free(cause);
}

/* A message is a row of the change set, with its expiry. */
static void
test_tx(void **state)
{
	struct store		*st;
	struct store_tx		*tx;
	struct store_message	**v = NULL;
	struct store_query	 q;
	struct msg_about	 about = { "r-1", "req-1", NULL };
	char			*cause = NULL;
	size_t			 n = 0;
	int64_t			 now = time_now_ms();

	(void)state;
	st = store_open("sqlite::memory:", &cause);
	assert_non_null(st);
	msg_set_ttl(60000);
	tx = store_tx_create();
	msg_tx_add(tx, MSG_TASK_UNHANDLED, &about, "task", "t1", "workflow",
	    "wf", "reason", "boom", "task_id", "r-1", NULL);
	/* An unknown id records nothing (and says so in the log). */
	msg_tx_add(tx, "BORA-NOPE-000", &about, NULL);
	assert_int_equal(store_tx_size(tx), 1);
	assert_int_equal(store_tx_commit(st, tx), STORE_OK);
	store_tx_free(tx);
	memset(&q, 0, sizeof q);
	assert_int_equal(store_message_list(st, &q, &v, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->event_id, MSG_TASK_UNHANDLED);
	assert_string_equal(v[0]->resource_type, "task");
	assert_string_equal(v[0]->resource_uuid, "r-1");
	assert_string_equal(v[0]->request_id, "req-1");
	assert_string_equal(v[0]->level, "ERROR");
	assert_string_equal(v[0]->project_id, MSG_PROJECT_DEFAULT);
	assert_true(strncmp(v[0]->message, "Task t1 of workflow wf failed",
	    29) == 0);
	assert_true(v[0]->created_at >= now - 5000);
	assert_true(v[0]->expires_at >= now + 60000 &&
	    v[0]->expires_at < now + 65000);
	store_message_free(v[0]);
	free(v);
	msg_set_ttl(0);
	store_close(st);
}

/*
 * The alarm intake's entries: a refusal names source, route and a
 * reason cleaned and bounded (never a secret); a limit names trigger,
 * limit, window, by value and key; both rows are about what they say,
 * and a deployer's text replaces either.
 */
static void
test_alarm_entries(void **state)
{
	struct store_message	 row;
	struct msg_about	 about = { "alarm-1", "req-9", NULL };
	const char		*path;
	char			*s, *cause = NULL, long_reason[2000];

	(void)state;
	s = msg_render(MSG_ALARM_REJECTED, "source", "alertmanager", "route",
	    "/v1/alarms/alertmanager", "reason", "$.alerts[0].status: "
	    "expected a string, got an integer", NULL);
	assert_string_equal(s, "An alarm from alertmanager at "
	    "/v1/alarms/alertmanager was rejected: $.alerts[0].status: "
	    "expected a string, got an integer. Fix what the sender sends, or "
	    "the credentials it sends with (alarm-auth in borad.conf); `bora "
	    "trigger test` shows what borad makes of a payload.");
	free(s);
	/* A reason carrying a secret, or far too long, is cleaned. */
	s = msg_render(MSG_ALARM_REJECTED, "source", "generic", "route", "/r",
	    "reason", "bad body {\"password\": \"hunter2\"} token=abc123",
	    NULL);
	assert_null(strstr(s, "hunter2"));
	assert_null(strstr(s, "abc123"));
	free(s);
	memset(long_reason, 'x', sizeof long_reason - 1);
	long_reason[sizeof long_reason - 1] = '\0';
	s = msg_render(MSG_ALARM_REJECTED, "source", "generic", "route", "/r",
	    "reason", long_reason, NULL);
	assert_true(strlen(s) < MSG_REASON_MAX + 300);
	assert_non_null(strstr(s, "..."));
	free(s);
	s = msg_render(MSG_TRIGGER_LIMIT, "trigger", "ops.storm", "limit",
	    "2", "window", "600 s", "by", "compute-7", "key", "storm-3", NULL);
	assert_string_equal(s, "Trigger ops.storm reached its limit of 2 "
	    "executions per 600 s (limit.by compute-7): alarm storm-3 and the "
	    "others of this window start nothing. If this is no alarm storm, "
	    "raise the trigger's limit; `bora alarm list --verdict limited` "
	    "shows the alarms turned away.");
	free(s);
	assert_string_equal(msg_resource_type(MSG_ALARM_REJECTED), "alarm");
	assert_string_equal(msg_resource_type(MSG_TRIGGER_LIMIT), "trigger");
	assert_string_equal(msg_level(MSG_TRIGGER_LIMIT), "WARNING");
	/* The row a conditional statement records. */
	msg_set_ttl(1000);
	assert_int_equal(msg_row(&row, MSG_ALARM_REJECTED, &about, "source",
	    "generic", NULL), 0);
	assert_string_equal(row.event_id, MSG_ALARM_REJECTED);
	assert_string_equal(row.resource_type, "alarm");
	assert_string_equal(row.resource_uuid, "alarm-1");
	assert_string_equal(row.request_id, "req-9");
	assert_string_equal(row.project_id, MSG_PROJECT_DEFAULT);
	assert_true(row.expires_at > 0 && strlen(row.id) == 36);
	assert_true(strncmp(row.message, "An alarm from generic at unknown",
	    32) == 0);
	free(row.message);
	assert_int_equal(msg_row(&row, "BORA-NOPE-001", &about, NULL), -1);
	msg_set_ttl(0);
	/* The deployer's texts. */
	path = tmpfile_with("BORA-ALM-002:\n"
	    "  message: \"Tempête sur {trigger} ({by}) : {limit}/{window}.\"\n"
	    "  action: \"\"\n");
	assert_int_equal(msg_catalog_load(path, &cause), 0);
	unlink(path);
	s = msg_render(MSG_TRIGGER_LIMIT, "trigger", "ops.storm", "limit",
	    "2", "window", "600 s", "by", "c-7", "key", "k", NULL);
	assert_string_equal(s, "Tempête sur ops.storm (c-7) : 2/600 s.");
	free(s);
	assert_int_equal(msg_catalog_load(NULL, &cause), 0);
}

/* The options of what users are told: -1 is never; secrets hidden. */
static void
test_conf_options(void **state)
{
	struct conf	 conf;
	char		*out = NULL, *cause = NULL;
	size_t		 len;
	FILE		*f;

	(void)state;
	conf_init(&conf);
	assert_int_equal(conf.message_ttl_ms, 30LL * 86400 * 1000);
	assert_int_equal(conf.message_reap_interval_ms, 3600 * 1000);
	assert_int_equal(conf.execution_retention_ms, 30LL * 86400 * 1000);
	assert_int_equal(conf.alarm_retention_ms, 30LL * 86400 * 1000);
	assert_int_equal(conf.alarm_reap_interval_ms, 3600 * 1000);
	assert_int_equal(conf.alarm_reap_batch_size, 500);
	assert_int_equal(conf_set(&conf, "alarm-retention", "1h",
	    CONF_SRC_FLAG, &cause), 0);
	assert_int_equal(conf.alarm_retention_ms, 3600 * 1000);
	assert_int_equal(conf_set(&conf, "alarm-reap-batch-size", "0",
	    CONF_SRC_FLAG, &cause), -1);
	assert_non_null(strstr(cause, "alarm-reap-batch-size"));
	free(cause);
	assert_int_equal(conf_set(&conf, "message-reap-interval", "-1",
	    CONF_SRC_FLAG, &cause), 0);
	assert_int_equal(conf.message_reap_interval_ms, -1);
	assert_int_equal(conf_set(&conf, "message_reap_batch_size", "2",
	    CONF_SRC_FLAG, &cause), 0);
	assert_int_equal(conf_set(&conf, "message-ttl", "-1", CONF_SRC_FLAG,
	    &cause), -1);
	assert_non_null(strstr(cause, "message-ttl"));
	free(cause);
	assert_int_equal(conf_set(&conf, "execution-reap-interval", "-2",
	    CONF_SRC_FLAG, &cause), -1);
	assert_non_null(strstr(cause, "or -1 for never"));
	free(cause);
	assert_int_equal(conf_set(&conf, "notify", "https://h.test/x "
	    "header='Authorization:Bearer t0k3n' header=X-Key:k3y",
	    CONF_SRC_FLAG, &cause), 0);
	assert_int_equal(conf_set(&conf, "notify-secret", "s3cr3t",
	    CONF_SRC_FLAG, &cause), 0);
	f = open_memstream(&out, &len);
	conf_print(&conf, f);
	fclose(f);
	assert_null(strstr(out, "t0k3n"));
	assert_null(strstr(out, "k3y"));
	assert_null(strstr(out, "s3cr3t"));
	assert_non_null(strstr(out, "https://h.test/x "
	    "header='Authorization:******** header=X-Key:********"));
	assert_non_null(strstr(out, "message-reap-interval: -1\n"));
	free(out);
	conf_free(&conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_catalog_consistent),
		cmocka_unit_test(test_clean_secrets),
		cmocka_unit_test(test_clean_shape),
		cmocka_unit_test(test_render_cleans),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_override_errors),
		cmocka_unit_test(test_tx),
		cmocka_unit_test(test_alarm_entries),
		cmocka_unit_test(test_conf_options),
	};

	log_init(1, LOG_LVL_WARN, "test-msg");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
