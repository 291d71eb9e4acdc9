/*
 * test-dl.c -- unit tests of the dl module: a process that runs timers
 * through the I/O loop and uses the SQLite store never maps libcurl,
 * libpq or libsystemd, and one that runs a workflow on a SQLite engine
 * never maps libcrypto; the first alarm-auth entry loads libcrypto, the
 * first HTTP action or PostgreSQL store the others; the loaders fill
 * their tables; a missing library is a clear error.  The order matters:
 * the first tests run before anything loads.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "lib/lib.h"
#include "dl/dl.h"
#include "actions/actions.h"
#include "alarms/alarms.h"
#include "conf/conf.h"
#include "dsl/dsl.h"
#include "engine/engine.h"
#include "store/store.h"

struct waiter {
	pthread_mutex_t	 mutex;
	pthread_cond_t	 cond;
	int		 calls;
	int		 ok;
	json_t		*result;
	int64_t		 done_at;
};

/* Whether a mapping of the process has name in its path. */
static int
mapped(const char *name)
{
	FILE	*f;
	char	 line[4096];
	int	 found = 0;

	if ((f = fopen("/proc/self/maps", "r")) == NULL)
		fail_msg("cannot open /proc/self/maps");
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strstr(line, name) != NULL;
	fclose(f);
	return (found);
}

static void
waiter_init(struct waiter *w)
{
	memset(w, 0, sizeof *w);
	pthread_mutex_init(&w->mutex, NULL);
	pthread_cond_init(&w->cond, NULL);
}

static void
waiter_free(struct waiter *w)
{
	json_decref(w->result);
	pthread_mutex_destroy(&w->mutex);
	pthread_cond_destroy(&w->cond);
}

/* The completion callback: record and signal. */
static void
waiter_done(void *arg, int ok, json_t *result)
{
	struct waiter	*w = arg;

	pthread_mutex_lock(&w->mutex);
	w->calls++;
	w->ok = ok;
	json_decref(w->result);
	w->result = result;
	w->done_at = time_mono_ms();
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mutex);
}

/* Wait until the action completed or ms pass; returns calls. */
static int
waiter_wait(struct waiter *w, int64_t ms)
{
	struct timespec	 ts;
	int64_t		 end = time_mono_ms() + ms;
	int		 calls;

	pthread_mutex_lock(&w->mutex);
	while (w->calls == 0 && time_mono_ms() < end) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cond, &w->mutex, &ts);
	}
	calls = w->calls;
	pthread_mutex_unlock(&w->mutex);
	return (calls);
}

/* Start an action with JSON text input. */
static void
start(struct action_io *io, const char *name, const char *input,
    struct waiter *w)
{
	json_t	*in;

	in = json_loads(input, 0, NULL);
	assert_non_null(in);
	waiter_init(w);
	action_run(action_find(name), in, NULL, io, waiter_done, w);
	json_decref(in);
}

/*
 * Timers and the SQLite store load nothing; and a timer submitted while
 * the loop sleeps without curl wakes it (it fires on time, not when the
 * earlier, longer one does).
 */
static void
unused_libraries_are_not_loaded(void **state)
{
	struct action_io	*io;
	struct store		*st;
	struct waiter		 slow, fast, echo;
	char			*cause = NULL;
	int64_t			 t0;

	assert_false(mapped("/libcurl"));
	assert_false(mapped("/libpq"));
	assert_false(mapped("/libssh.so"));
	assert_false(mapped("/libsystemd"));
	assert_false(mapped("/libcrypto"));

	io = action_io_start(0, &cause);
	assert_non_null(io);
	t0 = time_mono_ms();
	start(io, "std.sleep", "{\"seconds\": 0.6}", &slow);
	usleep(50 * 1000);	/* the loop is asleep now */
	start(io, "std.sleep", "{\"seconds\": 0.05}", &fast);
	start(io, "std.echo", "{\"output\": \"hi\", \"delay\": 0.01}", &echo);
	assert_int_equal(waiter_wait(&fast, 5000), 1);
	assert_int_equal(fast.ok, 1);
	assert_true(fast.done_at - t0 < 400);
	assert_int_equal(waiter_wait(&echo, 5000), 1);
	assert_string_equal(json_string_value(echo.result), "hi");
	assert_int_equal(waiter_wait(&slow, 5000), 1);
	assert_true(slow.done_at - t0 >= 600);

	st = store_open("sqlite::memory:", &cause);
	if (st == NULL)
		fail_msg("store_open: %s", cause);
	assert_int_equal(store_ping(st), STORE_OK);
	store_close(st);

	assert_false(mapped("/libcurl"));
	assert_false(mapped("/libpq"));
	assert_false(mapped("/libssh.so"));
	assert_false(mapped("/libsystemd"));
	assert_false(mapped("/libcrypto"));

	/* Stopping a loop that never made a multi handle. */
	start(io, "std.sleep", "{\"seconds\": 30}", &slow);
	action_io_stop(io);
	assert_int_equal(slow.calls, 1);
	assert_int_equal(slow.ok, 0);
	assert_string_equal(json_string_value(slow.result), "engine stopping");
	waiter_free(&slow);
	waiter_free(&fast);
	waiter_free(&echo);
}

/*
 * What a short bora run does (an engine on SQLite runs a workflow to
 * its end, without alarm-auth entries) maps no libcrypto, nor any other
 * library of the dl module.
 */
static void
sqlite_workflow_maps_no_crypto(void **state)
{
	struct engine_config	 cfg;
	struct engine_start_opts so;
	struct engine		*e;
	struct store_exec	*ex = NULL;
	struct dsl_errors	 errs;
	struct alarm_auth	*auth;
	struct conf_list	 none = { NULL, 0 };
	char			*cause = NULL, id[UUID_STRLEN];

	memset(&cfg, 0, sizeof cfg);
	cfg.db_url = "sqlite::memory:";
	cfg.lua_dir = BORA_SRCDIR "/lua";
	if ((e = engine_open(&cfg, &cause)) == NULL)
		fail_msg("engine_open: %s", cause);
	dsl_errors_init(&errs);
	assert_int_equal(engine_def_load(e, "workflows", NULL,
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output: {said: <% $.said %>}\n"
	    "  tasks:\n"
	    "    t1:\n"
	    "      action: std.noop\n"
	    "      on-success: t2\n"
	    "    t2:\n"
	    "      action: std.echo output=hi\n"
	    "      publish: {said: <% task().result %>}\n",
	    NULL, 0, &errs, NULL), STORE_OK);
	assert_int_equal(errs.n, 0);
	dsl_errors_free(&errs);
	memset(&so, 0, sizeof so);
	so.workflow = "wf";
	if (engine_exec_start(e, &so, &ex, &cause) != STORE_OK)
		fail_msg("engine_exec_start: %s", cause);
	snprintf(id, sizeof id, "%s", ex->id);
	store_exec_free(ex);
	ex = NULL;
	assert_int_equal(engine_run_until(e, id, 20000, &ex), STORE_OK);
	assert_non_null(ex);
	assert_string_equal(ex->state, "SUCCESS");
	assert_string_equal(json_string_value(json_object_get(ex->output,
	    "said")), "hi");
	store_exec_free(ex);
	engine_close(e);

	/* No alarm-auth entries: nothing to load. */
	auth = alarm_auth_create(&none, &cause);
	assert_non_null(auth);
	alarm_auth_free(auth);

	assert_false(mapped("/libcrypto"));
	assert_false(mapped("/libcurl"));
	assert_false(mapped("/libpq"));
	assert_false(mapped("/libssh.so"));
	assert_null(SHA256);
}

/*
 * The first alarm-auth entry loads libcrypto; its table is then filled
 * and works (FIPS 180-2's and RFC 4231's test vectors).
 */
static void
alarm_auth_loads_crypto(void **state)
{
	static const char *const entries[] = {
		"grafana hmac secret=Jefe"
	};
	struct conf_list	 l = { (char **)entries, 1 };
	struct alarm_auth	*auth;
	unsigned char		 md[SHA256_DIGEST_LENGTH];
	unsigned char		 mac[EVP_MAX_MD_SIZE];
	char			 hex[2 * EVP_MAX_MD_SIZE + 1];
	char			*cause = NULL;
	size_t			 len = 0, i;

	assert_false(mapped("/libcrypto"));
	auth = alarm_auth_create(&l, &cause);
	if (auth == NULL)
		fail_msg("alarm_auth_create: %s", cause);
	alarm_auth_free(auth);
	assert_true(mapped("/libcrypto"));
	assert_false(mapped("/libcurl"));

	assert_int_equal(dl_crypto_load(&cause), 0);
	assert_null(cause);
	assert_non_null(SHA256);
	assert_non_null(OSSL_PARAM_construct_utf8_string);
	SHA256((const unsigned char *)"abc", 3, md);
	for (i = 0; i < sizeof md; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL,
	    "Jefe", 4, (const unsigned char *)"what do ya want for nothing?",
	    28, mac, sizeof mac, &len));
	assert_int_equal(len, 32);
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
}

/* The first std.http loads libcurl; the loop then makes its handle. */
static void
http_action_loads_curl(void **state)
{
	struct action_io	*io;
	struct waiter		 w, t;
	char			*cause = NULL;
	const char		*msg;
	int64_t			 t0;

	io = action_io_start(0, &cause);
	assert_non_null(io);
	start(io, "std.http", "{\"url\": \"http://127.0.0.1:1/\"}", &w);
	assert_int_equal(waiter_wait(&w, 10000), 1);
	assert_int_equal(w.ok, 0);
	msg = json_string_value(w.result);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "127.0.0.1:1"));
	assert_null(strstr(msg, "cannot load"));
	assert_true(mapped("/libcurl"));
	assert_false(mapped("/libpq"));

	/* Timers still fire on time, now through curl_multi_poll. */
	t0 = time_mono_ms();
	start(io, "std.sleep", "{\"seconds\": 0.05}", &t);
	assert_int_equal(waiter_wait(&t, 5000), 1);
	assert_int_equal(t.ok, 1);
	assert_true(t.done_at - t0 < 500);
	action_io_stop(io);
	waiter_free(&w);
	waiter_free(&t);
}

/* Opening a PostgreSQL store loads libpq, even if it cannot connect. */
static void
pg_store_loads_libpq(void **state)
{
	struct store	*st;
	char		*cause = NULL;

	st = store_open("postgresql://127.0.0.1:1/bora_none", &cause);
	assert_null(st);
	assert_non_null(cause);
	assert_null(strstr(cause, "cannot load"));
	free(cause);
	assert_true(mapped("/libpq"));
}

/* The loaders succeed every time and fill their tables. */
static void
loaders_fill_their_tables(void **state)
{
	char		*cause = NULL, *e;
	CURL		*c;
	ssh_session	 sess;

	assert_int_equal(dl_curl_load(&cause), 0);
	assert_null(cause);
	assert_int_equal(dl_curl_load(&cause), 0);
	assert_non_null(curl_easy_init);
	assert_non_null(curl_mime_init);
	c = curl_easy_init();
	assert_non_null(c);
	e = curl_easy_escape(c, "a b/c", 0);
	assert_string_equal(e, "a%20b%2Fc");
	curl_free(e);
	curl_easy_cleanup(c);

	assert_int_equal(dl_pq_load(&cause), 0);
	assert_null(cause);
	assert_non_null(PQsendFlushRequest);
	assert_int_equal(PQresultStatus(NULL), PGRES_FATAL_ERROR);

	assert_false(mapped("/libssh.so"));
	assert_int_equal(dl_ssh_load(&cause), 0);
	assert_null(cause);
	assert_true(mapped("/libssh.so"));
	assert_non_null(ssh_channel_read_nonblocking);
	sess = ssh_new();
	assert_non_null(sess);
	assert_string_equal(ssh_get_error(sess), "");
	ssh_free(sess);

#ifdef HAVE_SYSTEMD
	assert_false(mapped("/libsystemd"));
	assert_int_equal(dl_systemd_load(&cause), 0);
	assert_null(cause);
	assert_true(mapped("/libsystemd"));
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sd_notify(0, "READY=1"), 0);
#else
	assert_int_equal(dl_systemd_load(&cause), -1);
	free(cause);
#endif
}

/* A library that is not there: the error names it and its package. */
static void
missing_library_is_a_clear_error(void **state)
{
	char	*cause = NULL;

	assert_null(dl_open("libbora-missing.so.7", &cause));
	assert_non_null(cause);
	assert_string_equal(cause, "cannot load libbora-missing.so.7: "
	    "cannot open shared object file: No such file or directory; "
	    "install libbora-missing7");
	free(cause);
	assert_null(dl_open("libbora2.so.1", &cause));
	assert_non_null(strstr(cause, "; install libbora2-1"));
	free(cause);
	/* Debian ships libcrypto in libssl. */
	assert_null(dl_open("libcrypto.so.99", &cause));
	assert_non_null(strstr(cause, "cannot load libcrypto.so.99: "));
	assert_non_null(strstr(cause, "; install libssl99"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unused_libraries_are_not_loaded),
		cmocka_unit_test(sqlite_workflow_maps_no_crypto),
		cmocka_unit_test(alarm_auth_loads_crypto),
		cmocka_unit_test(http_action_loads_curl),
		cmocka_unit_test(pg_store_loads_libpq),
		cmocka_unit_test(loaders_fill_their_tables),
		cmocka_unit_test(missing_library_is_a_clear_error),
	};

	log_init(1, LOG_LVL_WARN, "test-dl");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
