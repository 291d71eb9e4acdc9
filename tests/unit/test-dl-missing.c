/*
 * test-dl-missing.c -- what users get when libcrypto is not installed.
 * This program has its own build of src/dl/dl.c that looks for
 * libcrypto.so.99, which no system has: loading fails with the package
 * to install, alarm-auth entries and the HTTP API refuse to start with
 * that error, and a notification that cannot be signed is not sent
 * unsigned but fails, its row saying why.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "lib/lib.h"
#include "dl/dl.h"
#include "alarms/alarms.h"
#include "api/api.h"
#include "conf/conf.h"
#include "engine/engine.h"
#include "store/store.h"

/* What dl_crypto_load says here, after "cannot load libcrypto.so.99: ". */
#define MISSING_WHY							\
	"cannot open shared object file: No such file or directory; "	\
	"install libssl99"

#define assert_contains(s, sub) do {					\
	if ((s) == NULL || strstr((s), (sub)) == NULL)			\
		fail_msg("'%s' does not contain '%s'",			\
		    (s) != NULL ? (s) : "(null)", (sub));		\
} while (0)

/* The loader fails, every time, naming the package. */
static void
load_fails_naming_the_package(void **state)
{
	char	*cause = NULL;
	int	 i;

	for (i = 0; i < 2; i++) {
		assert_int_equal(dl_crypto_load(&cause), -1);
		assert_string_equal(cause, "cannot load libcrypto.so.99: "
		    MISSING_WHY);
		free(cause);
		cause = NULL;
	}
	assert_null(SHA256);
	assert_null(EVP_Q_mac);
}

/* alarm-auth: no entries need nothing; one entry stops the start. */
static void
alarm_auth_refuses(void **state)
{
	static const char *const entries[] = {
		"zabbix basic user=zabbix password=pw"
	};
	struct conf_list	 none = { NULL, 0 };
	struct conf_list	 one = { (char **)entries, 1 };
	struct alarm_auth	*auth;
	char			*cause = NULL;

	auth = alarm_auth_create(&none, &cause);
	assert_non_null(auth);
	assert_null(cause);
	alarm_auth_free(auth);

	assert_null(alarm_auth_create(&one, &cause));
	assert_string_equal(cause, "alarm-auth: cannot load "
	    "libcrypto.so.99: " MISSING_WHY);
	free(cause);
}

/* The HTTP API does not start. */
static void
api_refuses(void **state)
{
	struct api_config	 ac;
	struct api		*api;
	char			*cause = NULL;

	memset(&ac, 0, sizeof ac);
	ac.listen = "127.0.0.1:0";
	api = api_open(NULL, &ac, &cause);
	if (api != NULL) {
		api_close(api);
		fail_msg("the API started without libcrypto");
	}
	assert_string_equal(cause, "cannot load libcrypto.so.99: "
	    MISSING_WHY);
	free(cause);
}

/*
 * With notify-secret, a notification is given up (one attempt allowed)
 * with the reason, never posted unsigned.  Its receiver is port 1 of
 * 127.0.0.1: had it been posted, the reason would be curl's.
 */
static void
outbox_does_not_send_unsigned(void **state)
{
	struct engine_config	 cfg;
	struct engine_start_opts so;
	struct engine		*e;
	struct store		*st;
	struct store_exec	*ex = NULL;
	struct store_outbox	**v = NULL;
	struct store_filter	 f;
	struct store_query	 q;
	struct dsl_errors	 errs;
	char			 dir[] = "/tmp/bora-dl-missing.XXXXXX";
	char			*url, *cause = NULL, id[UUID_STRLEN];
	size_t			 n = 0, i, dead = 0;
	int64_t			 end;

	assert_non_null(mkdtemp(dir));
	xasprintf(&url, "sqlite:%s/bora.db", dir);
	memset(&cfg, 0, sizeof cfg);
	cfg.db_url = url;
	cfg.lua_dir = BORA_SRCDIR "/lua";
	cfg.poll_ms = 50;
	cfg.notify_secret = "s3cr3t";
	cfg.notify_max_attempts = 1;
	if ((e = engine_open(&cfg, &cause)) == NULL)
		fail_msg("engine_open: %s", cause);
	dsl_errors_init(&errs);
	assert_int_equal(engine_def_load(e, "workflows", NULL,
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    t1:\n"
	    "      action: std.noop\n", NULL, 0, &errs, NULL), STORE_OK);
	dsl_errors_free(&errs);
	if (engine_start(e, &cause) != 0)
		fail_msg("engine_start: %s", cause);
	memset(&so, 0, sizeof so);
	so.workflow = "wf";
	so.params = json_loads("{\"notify\": [{\"type\": \"webhook\", "
	    "\"url\": \"http://127.0.0.1:1/\", \"event_types\": "
	    "[\"WORKFLOW_SUCCEEDED\"]}]}", 0, NULL);
	assert_non_null(so.params);
	if (engine_exec_start(e, &so, &ex, &cause) != STORE_OK)
		fail_msg("engine_exec_start: %s", cause);
	snprintf(id, sizeof id, "%s", ex->id);
	store_exec_free(ex);
	json_decref(so.params);

	if ((st = store_open(url, &cause)) == NULL)
		fail_msg("store_open: %s", cause);
	memset(&q, 0, sizeof q);
	memset(&f, 0, sizeof f);
	f.field = "execution_id";
	f.value = id;
	q.filters = &f;
	q.nfilters = 1;
	for (end = time_mono_ms() + 20000; time_mono_ms() < end;
	    usleep(50 * 1000)) {
		assert_int_equal(store_outbox_list(st, &q, &v, &n), STORE_OK);
		for (i = dead = 0; i < n; i++) {
			if (strcmp(v[i]->state, "DEAD") == 0) {
				dead++;
				assert_contains(v[i]->last_error,
				    "cannot sign: cannot load "
				    "libcrypto.so.99: ");
				assert_contains(v[i]->last_error,
				    "install libssl99");
				assert_int_equal(v[i]->sent_at, 0);
			}
			store_outbox_free(v[i]);
		}
		free(v);
		v = NULL;
		if (n == 1 && dead == 1)
			break;
	}
	assert_int_equal(n, 1);
	assert_int_equal(dead, 1);
	store_close(st);
	engine_stop(e, 1000);
	engine_close(e);
	for (i = 0; i < 3; i++) {
		static const char *const sfx[] = { "", "-wal", "-shm" };
		char	*p;

		xasprintf(&p, "%s/bora.db%s", dir, sfx[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
	free(url);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load_fails_naming_the_package),
		cmocka_unit_test(alarm_auth_refuses),
		cmocka_unit_test(api_refuses),
		cmocka_unit_test(outbox_does_not_send_unsigned),
	};

	log_init(1, LOG_LVL_WARN, "test-dl-missing");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
