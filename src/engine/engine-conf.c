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
	/* HTTP threads, the stream ticker, watcher, I/O thread and main. */
	ec.pool_max = (size_t)conf->http_threads + 4;
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
	return (e);
}
