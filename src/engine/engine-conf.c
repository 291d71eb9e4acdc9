/*
 * engine-conf.c -- borad's engine: opened with the settings of its
 * configuration, then its watched folders loaded.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "engine/engine-int.h"

/* The watched folders as engine_watch_start() takes them. */
static char **
engine_conf_dirs(const struct conf *conf, size_t *n)
{
	char	**v;
	size_t	  i;

	v = xcalloc(conf->workflows.n + conf->actions.n + 1, sizeof *v);
	*n = 0;
	for (i = 0; i < conf->workflows.n; i++)
		xasprintf(&v[(*n)++], "workflows:%s", conf->workflows.v[i]);
	for (i = 0; i < conf->actions.n; i++)
		xasprintf(&v[(*n)++], "actions:%s", conf->actions.v[i]);
	return (v);
}

/*
 * The default receivers of notify, from their specs; NULL + *cause
 * ("notify: ...") when one is wrong.
 */
static json_t *
engine_conf_notify(const struct conf *conf, char **cause)
{
	json_t	*a, *t;
	char	*why = NULL;
	size_t	 i;

	a = json_array();
	for (i = 0; i < conf->notify.n; i++) {
		if ((t = engine_tell_parse(conf->notify.v[i], &why)) == NULL) {
			xasprintf(cause, "notify, receiver %zu: %s", i + 1,
			    why);
			free(why);
			json_decref(a);
			return (NULL);
		}
		json_array_append_new(a, t);
	}
	return (a);
}

/* Open borad's engine (see engine.h). */
struct engine *
engine_open_conf(const struct conf *conf, int check, char **cause)
{
	struct engine_config	 ec;
	struct engine		*e = NULL;
	struct stat		 sb;
	char			**dirs, *cb = NULL, *why = NULL;
	size_t			 ndirs, i;

	memset(&ec, 0, sizeof ec);
	ec.db_url = conf->db;
	ec.engine_id = conf->engine_id;
	ec.lease_ms = conf->lease_ms;
	ec.poll_ms = conf->poll_ms;
	ec.max_inflight = (size_t)conf->max_inflight;
	ec.lua_dir = conf->lua;
	ec.expr_max_instructions = (uint64_t)conf->expr_max_instructions;
	ec.expr_max_memory = (size_t)conf->expr_max_memory;
	ec.expr_max_time_ms = conf->expr_max_time_ms;
	ec.resume = (int)conf->resume;
	/*
	 * HTTP threads, the stream ticker, watcher, I/O thread, main, the
	 * outbox's sender and the reapers.
	 */
	ec.pool_max = (size_t)conf->http_threads + 6;
	ec.message_reap_interval_ms = conf->message_reap_interval_ms;
	ec.message_reap_batch = (size_t)conf->message_reap_batch_size;
	ec.exec_retention_ms = conf->execution_retention_ms;
	ec.masakari_retry_ms = conf->masakari_retry_ms;
	ec.masakari_expire_ms = conf->masakari_expire_ms;
	ec.exec_reap_interval_ms = conf->execution_reap_interval_ms;
	ec.exec_reap_batch = (size_t)conf->execution_reap_batch_size;
	ec.alarm_retention_ms = conf->alarm_retention_ms;
	ec.alarm_reap_interval_ms = conf->alarm_reap_interval_ms;
	ec.alarm_reap_batch = (size_t)conf->alarm_reap_batch_size;
	ec.notify_secret = conf->notify_secret;
	ec.notify_max_attempts = (int)conf->notify_max_attempts;
	ec.notify_backoff_ms = conf->notify_backoff_ms;
	ec.notify_backoff_max_ms = conf->notify_backoff_max_ms;
	ec.notify_timeout_ms = conf->notify_timeout_ms;
	ec.notify_concurrency = (size_t)conf->notify_concurrency;
	if ((ec.notify = engine_conf_notify(conf, cause)) == NULL)
		return (NULL);
	if (check) {
		/* Definitions are checked even when conf_check() failed. */
		ec.db_url = "sqlite::memory:";
		ec.resume = 0;
		if (conf->lua != NULL && (stat(conf->lua, &sb) != 0 ||
		    !S_ISDIR(sb.st_mode)))
			ec.lua_dir = NULL;
	} else {
		if (conf->callback_url != NULL)
			cb = xstrdup(conf->callback_url);
		else
			xasprintf(&cb, "http://%s", conf->listen);
		ec.callback_base = cb;
	}
	dirs = engine_conf_dirs(conf, &ndirs);
	if ((e = engine_open(&ec, &why)) == NULL)
		xasprintf(cause, "engine: %s", why);
	else if (engine_watch_start(e, (const char *const *)dirs, ndirs,
	    &why) != 0) {
		xasprintf(cause, "watch: %s", why);
		engine_watch_stop(e);
		engine_close(e);
		e = NULL;
	}
	free(why);
	for (i = 0; i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	free(cb);
	json_decref(ec.notify);
	return (e);
}
