/*
 * fuzz-alarm.c -- libFuzzer target of alarm payloads: an input is a
 * source's name on its first line, then a request body as that source
 * would post it.  The body goes through the source's adapter with the
 * daemon's default limits; the events it makes are matched against
 * triggers listening to every source, in one sandbox set up once.
 * Whatever the bytes: a refused payload has a reason and a 400 or 413
 * code, an accepted one has events with non-empty keys within the key
 * limit, and every event converts to the JSON triggers see.
 *
 * FUZZ-SEEDS: tests/data/alarms/fuzz:.alarm
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "dsl/dsl.h"
#include "expr/expr.h"
#include "alarms/alarms.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char fuzz_book[] =
    "version: '2.0'\n"
    "name: fz\n"
    "workflows:\n"
    "  wf:\n"
    "    input: [host, key]\n"
    "    tasks:\n"
    "      t: {action: std.noop}\n"
    "triggers:\n"
    "  all:\n"
    "    source: [alertmanager, aodh, vitrage, grafana, zabbix, generic]\n"
    "    when: <% alert.severity ~= 'ignore' %>\n"
    "    workflow: wf\n"
    "    input: {host: <% alert.resource.host %>, key: <% alert.key %>}\n"
    "    key: <% alert.source .. ':' .. alert.key %>\n"
    "    limit: {count: 3, window: 1m, by: <% alert.resource.id %>}\n"
    "    on-resolved: start\n";

static struct alarm_triggers	*fuzz_ts;
static struct expr		*fuzz_ex;

/* The triggers and the sandbox, once. */
static void
fuzz_init(void)
{
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	struct expr_limits	 lim;
	char			*cause = NULL;

	dsl_errors_init(&errs);
	wb = dsl_parse("fuzz.yaml", fuzz_book, strlen(fuzz_book), NULL, &errs);
	if (wb == NULL || errs.n != 0)
		fatalx("fuzz-alarm: the triggers do not parse");
	fuzz_ts = alarm_triggers_create();
	alarm_triggers_add(fuzz_ts, wb);
	dsl_workbook_free(wb);
	dsl_errors_free(&errs);
	memset(&lim, 0, sizeof lim);
	lim.max_instructions = 100000;
	lim.max_time_ms = 200;
	if ((fuzz_ex = expr_create(&lim, NULL, &cause)) == NULL)
		fatalx("fuzz-alarm: %s", cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alarm_request	 req;
	struct alarm_header	 hdr;
	struct alarm_batch	*b = NULL;
	struct alarm_decision	*d;
	const uint8_t		*nl;
	char			 source[32], *cause = NULL;
	json_t			*j;
	size_t			 i, n, k;
	enum alarm_rc		 rc;

	if (fuzz_ts == NULL)
		fuzz_init();
	if ((nl = memchr(data, '\n', size < sizeof source ? size :
	    sizeof source)) == NULL)
		return (0);
	memcpy(source, data, (size_t)(nl - data));
	source[nl - data] = '\0';
	memset(&req, 0, sizeof req);
	req.body = (const char *)nl + 1;
	req.len = size - (size_t)(nl - data) - 1;
	hdr.name = "Idempotency-Key";
	hdr.value = "fuzz-key";
	req.headers = &hdr;
	req.nheaders = 1;

	rc = alarm_parse(source, &req, NULL, &b, &cause);
	if (rc != ALARM_OK) {
		if (b != NULL || cause == NULL || *cause == '\0')
			abort();
		if (rc != ALARM_INVALID && rc != ALARM_TOO_LARGE &&
		    rc != ALARM_NO_SOURCE)
			abort();
		free(cause);
		return (0);
	}
	if (b == NULL || b->n == 0 || cause != NULL)
		abort();
	for (i = 0; i < b->n; i++) {
		if (b->v[i].key == NULL || *b->v[i].key == '\0' ||
		    strlen(b->v[i].key) > ALARM_KEY_MAX)
			abort();
		if ((j = alarm_event_json(&b->v[i])) == NULL)
			abort();
		json_decref(j);
		n = alarm_match(fuzz_ts, fuzz_ex, &b->v[i], &d);
		for (k = 0; k < n; k++) {
			if (alarm_verdict_name(d[k].verdict) == NULL ||
			    d[k].reason == NULL)
				abort();
			if ((j = alarm_decision_json(&d[k])) == NULL)
				abort();
			json_decref(j);
		}
		alarm_decisions_free(d, n);
	}
	alarm_batch_free(b);
	return (0);
}
