/*
 * borad.c -- the daemon: read the configuration, open the engine, load
 * the watched folders, serve the REST API, and run until SIGTERM.
 *
 * Signal handlers only set a flag and poke a self-pipe; the main thread
 * reacts in its loop (SIGHUP rescans the folders, SIGTERM and SIGINT
 * drain and stop).  A second SIGINT while draining exits at once.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "conf/conf.h"
#include "dl/dl.h"
#include "actions/actions.h"
#include "engine/engine.h"
#include "store/store.h"
#include "api/api.h"

/* How often to look for definitions changed by other engines. */
#define DEFS_CHECK_MS	2000

static volatile sig_atomic_t	sig_hup, sig_term, sig_int, stopping;
static int			sig_pipe[2] = { -1, -1 };
static int			notify_on;	/* libsystemd loaded */

struct flag_value {
	const char	*name;
	char		*value;
};

/* Usage on stderr (exit 1), or with --help the options on stdout. */
static __dead void
usage(int help)
{
	FILE	*f = help ? stdout : stderr;
	size_t	 i;

	fprintf(f, "usage: borad [-dhnVv] [-f file] [--db URL] "
	    "[--listen HOST:PORT] [--workflows DIR]\n"
	    "             [--actions DIR] [--lua DIR] [--api-token TOKEN]\n"
	    "             [--grace SECONDS] [--log-json] "
	    "[--OPTION VALUE ...]\n");
	if (help)
		fprintf(f, "\n  -d  stay in the foreground, log to stderr\n"
		    "  -f  read options from a YAML file\n"
		    "  -n  check the configuration and every definition, "
		    "then exit\n"
		    "  -V  print the version\n"
		    "  -v  log more (repeatable)\n");
	fprintf(f, "\noptions (also BORA_<OPTION> in the environment, "
	    "and in the -f file):\n");
	for (i = 0; i < conf_noptions; i++) {
		fprintf(f, "  --%-22s %s\n", conf_options[i].name,
		    conf_options[i].arg);
		if (help && conf_options[i].help != NULL)
			fprintf(f, "      %s\n", conf_options[i].help);
	}
	if (help)
		fprintf(f, "\nSee borad(8) and borad.conf(5).\n");
	exit(help ? 0 : 1);
}

/*
 * Load libsystemd when systemd gave us a notification socket: without
 * $NOTIFY_SOCKET sd_notify does nothing, so neither do we.
 */
static void
notify_init(void)
{
	char	*cause;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	if (dl_systemd_load(&cause) != 0) {
		log_warnx("sd_notify: %s", cause);
		free(cause);
		return;
	}
	notify_on = 1;
}

/* Tell systemd our state, if it listens. */
static void
notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	if (notify_on)
		sd_notify(0, state);
#endif
}

/* The watchdog interval systemd asks for, in ms; 0 if none. */
static int
notify_watchdog_ms(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t	usec = 0;

	if (notify_on && sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		return ((int)(usec / 2000));
#endif
	return (0);
}

/* Only set a flag and wake the main loop. */
static void
on_signal(int sig)
{
	int	saved = errno;
	ssize_t	n;

	switch (sig) {
	case SIGHUP:
		sig_hup = 1;
		break;
	case SIGINT:
		if (stopping)
			_exit(130);	/* second SIGINT: now */
		sig_int = 1;
		break;
	case SIGTERM:
		sig_term = 1;
		break;
	}
	if (sig_pipe[1] != -1)
		n = write(sig_pipe[1], "s", 1);
	(void)n;
	errno = saved;
}

static void
signals_init(void)
{
	struct sigaction	sa;

	if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe");
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);	/* syslog needs no reopening */
}

/* An absolute path for a folder (the daemon changes to /). */
static char *
abs_path(const char *p)
{
	char	 buf[PATH_MAX], *out;

	if (realpath(p, buf) != NULL)
		return (xstrdup(buf));
	if (p[0] == '/' || getcwd(buf, sizeof buf) == NULL)
		return (xstrdup(p));
	xasprintf(&out, "%s/%s", buf, p);
	return (out);
}

/* "sqlite:relative" becomes absolute, for the same reason. */
static char *
abs_db(const char *url)
{
	char	*p, *out;

	if (strncmp(url, "sqlite:", 7) != 0 || url[7] == '/' ||
	    strcmp(url + 7, ":memory:") == 0)
		return (xstrdup(url));
	p = abs_path(url + 7);
	xasprintf(&out, "sqlite:%s", p);
	free(p);
	return (out);
}

/* Check what can be checked without opening anything. */
static int
check_conf(const struct conf *conf)
{
	int		 bad = 0;
	const char	*p;

	if (conf->db == NULL || (strncmp(conf->db, "sqlite:", 7) != 0 &&
	    strncmp(conf->db, "postgresql://", 13) != 0 &&
	    strncmp(conf->db, "postgres://", 11) != 0)) {
		fprintf(stderr, "borad: db: expected sqlite:PATH or "
		    "postgresql://..., not '%s'\n", conf->db != NULL ?
		    conf->db : "");
		bad = 1;
	}
	if (conf->listen == NULL || (p = strrchr(conf->listen, ':')) ==
	    NULL || p[1] == '\0' || strspn(p + 1, "0123456789") !=
	    strlen(p + 1) || atoi(p + 1) > 65535) {
		fprintf(stderr, "borad: listen: expected HOST:PORT, not "
		    "'%s'\n", conf->listen != NULL ? conf->listen : "");
		bad = 1;
	}
	return (bad ? -1 : 0);
}

/* The watched folder list as engine_watch_start takes it. */
static char **
watch_dirs(const struct conf *conf, size_t *n)
{
	char	**v, *p;
	size_t	  i;

	v = xcalloc(conf->workflows.n + conf->actions.n + 1, sizeof *v);
	*n = 0;
	for (i = 0; i < conf->workflows.n; i++) {
		p = abs_path(conf->workflows.v[i]);
		xasprintf(&v[(*n)++], "workflows:%s", p);
		free(p);
	}
	for (i = 0; i < conf->actions.n; i++) {
		p = abs_path(conf->actions.v[i]);
		xasprintf(&v[(*n)++], "actions:%s", p);
		free(p);
	}
	return (v);
}

static void
engine_conf(const struct conf *conf, struct engine_config *ec, char *cb)
{
	memset(ec, 0, sizeof *ec);
	ec->db_url = conf->db;
	ec->engine_id = conf->engine_id;
	ec->lease_ms = conf->lease_ms;
	ec->poll_ms = conf->poll_ms;
	ec->max_inflight = (size_t)conf->max_inflight;
	ec->lua_dir = conf->lua;
	if (conf->lua != NULL && access(conf->lua, R_OK) != 0 &&
	    conf->src[conf_find("lua") - conf_options] == CONF_SRC_DEFAULT) {
		log_info("no Lua library at %s", conf->lua);
		ec->lua_dir = NULL;
	}
	ec->callback_base = cb;
	ec->expr_max_instructions = (uint64_t)conf->expr_max_instructions;
	ec->expr_max_memory = (size_t)conf->expr_max_memory;
	ec->resume = (int)conf->resume;
}

/* -n: load every definition into an in-memory engine and report. */
static int
check_all(struct conf *conf, char **dirs, size_t ndirs)
{
	struct engine_config	 ec;
	struct engine		*e;
	json_t			*errs, *f, *line;
	size_t			 i, j;
	char			*cause = NULL;
	int			 bad;

	bad = check_conf(conf) != 0;
	engine_conf(conf, &ec, NULL);
	ec.db_url = "sqlite::memory:";
	ec.resume = 0;
	if ((e = engine_open(&ec, &cause)) == NULL) {
		fprintf(stderr, "borad: %s\n", cause);
		free(cause);
		return (1);
	}
	if (engine_watch_start(e, (const char *const *)dirs, ndirs,
	    &cause) != 0) {
		fprintf(stderr, "borad: %s\n", cause);
		free(cause);
		bad = 1;
	}
	errs = engine_watch_errors(e);
	json_array_foreach(errs, i, f) {
		json_array_foreach(json_object_get(f, "errors"), j, line)
			fprintf(stderr, "%s\n", json_string_value(line));
		bad = 1;
	}
	json_decref(errs);
	engine_watch_stop(e);
	engine_close(e);
	if (bad)
		return (1);
	printf("configuration OK\n");
	return (0);
}

/*
 * Fork; the parent waits until the child reports that it serves (or
 * why it failed) so the exit status of "borad" means something.
 */
static int
daemonize(int *report)
{
	int	 p[2], status;
	pid_t	 pid;
	char	 buf[1024];
	ssize_t	 n;

	if (pipe(p) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		n = read(p[0], buf, sizeof buf - 1);
		if (n > 0 && buf[0] == '+')
			_exit(0);
		if (n > 1) {
			buf[n] = '\0';
			fprintf(stderr, "borad: %s\n", buf + 1);
		} else if (waitpid(pid, &status, 0) == pid &&
		    WIFEXITED(status))
			_exit(WEXITSTATUS(status) != 0 ?
			    WEXITSTATUS(status) : 1);
		_exit(1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir");
	if ((n = open("/dev/null", O_RDWR)) != -1) {
		dup2((int)n, STDIN_FILENO);
		dup2((int)n, STDOUT_FILENO);
		dup2((int)n, STDERR_FILENO);
		if (n > STDERR_FILENO)
			close((int)n);
	}
	*report = p[1];
	return (0);
}

/* Tell the waiting parent: "+" ready, "-reason" failed. */
static void
report_parent(int *fd, const char *err)
{
	char	*msg;
	ssize_t	 n;

	if (*fd == -1)
		return;
	xasprintf(&msg, "%c%s", err == NULL ? '+' : '-', err != NULL ?
	    err : "");
	n = write(*fd, msg, strlen(msg));
	(void)n;
	free(msg);
	close(*fd);
	*fd = -1;
}

/* Log and stop, telling the parent why. */
static __dead void
startup_failed(int *report, const char *what, char *cause)
{
	char	*msg;

	xasprintf(&msg, "%s: %s", what, cause != NULL ? cause : "failed");
	log_warnx("%s", msg);
	report_parent(report, msg);
	exit(1);
}

int
main(int argc, char **argv)
{
	struct conf		 conf;
	struct option		*longopts;
	struct flag_value	*flags = NULL;
	size_t			 nflags = 0, i, ndirs;
	int			 ch, idx, debug = 0, check = 0, verbose = 0;
	int			 report = -1, level;
	const char		*file = NULL;
	char			*cause = NULL, **dirs, *cb = NULL, vbuf[16];
	struct engine_config	 ec;
	struct engine		*e;
	struct api_config	 ac;
	struct api		*api;
	struct pollfd		 pfd;
	struct store		*gen_st = NULL;
	int64_t			 gen = 0, g, next_check = 0, wd_next = 0;
	int			 timeout = -1, wd_ms = 0;
	char			 c;

	/* One long flag per option in the table. */
	longopts = xcalloc(conf_noptions + 3, sizeof *longopts);
	for (i = 0; i < conf_noptions; i++) {
		longopts[i].name = conf_options[i].name;
		longopts[i].has_arg = conf_options[i].type == CONF_BOOL ?
		    optional_argument : required_argument;
		longopts[i].val = 1000 + (int)i;
	}
	longopts[i].name = "options-mdoc";
	longopts[i].val = 999;
	longopts[i + 1].name = "help";
	longopts[i + 1].val = 'h';
	while ((ch = getopt_long(argc, argv, "df:hnVv", longopts, &idx)) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			usage(1);
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("borad %s\n", VERSION);
			free(longopts);
			return (0);
		case 'v':
			verbose++;
			break;
		case 999:
			conf_print_mdoc(stdout);
			free(longopts);
			return (0);
		default:
			if (ch < 1000 || ch >= 1000 + (int)conf_noptions)
				usage(0);
			flags = xreallocarray(flags, nflags + 1,
			    sizeof *flags);
			flags[nflags].name = conf_options[ch - 1000].name;
			flags[nflags].value = optarg != NULL ? optarg : "true";
			nflags++;
			break;
		}
	}
	if (optind != argc)
		usage(0);

	/* Defaults, then the file, the environment and the flags. */
	conf_init(&conf);
	if (file != NULL && conf_load_file(&conf, file, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return (1);
	}
	if (conf_load_env(&conf, &cause) != 0) {
		fprintf(stderr, "borad: %s\n", cause);
		return (1);
	}
	for (i = 0; i < nflags; i++) {
		if (conf_set(&conf, flags[i].name, flags[i].value,
		    CONF_SRC_FLAG, &cause) != 0) {
			fprintf(stderr, "borad: --%s\n", cause);
			return (1);
		}
	}
	free(flags);
	if (verbose > 0) {
		snprintf(vbuf, sizeof vbuf, "%d", verbose > 2 ? 2 : verbose);
		if (conf_set(&conf, "verbose", vbuf, CONF_SRC_FLAG,
		    &cause) != 0)
			fatalx("%s", cause);
	}
	level = conf.verbose > 0 ? LOG_LVL_DEBUG : LOG_LVL_INFO;
	log_init(debug || check, level, "borad");
	log_set_json((int)conf.log_json);

	cb = abs_db(conf.db);
	free(conf.db);
	conf.db = cb;
	dirs = watch_dirs(&conf, &ndirs);
	if (action_os_configure(&conf, &cause) != 0) {
		fprintf(stderr, "borad: %s\n", cause);
		return (1);
	}
	if (check) {
		ch = check_all(&conf, dirs, ndirs);
		goto done;
	}
	if (check_conf(&conf) != 0)
		return (1);
	if (conf.verbose > 1)
		conf_print(&conf, stderr);

	if (!debug)
		daemonize(&report);
	signals_init();

	if (conf.callback_url != NULL)
		cb = xstrdup(conf.callback_url);
	else
		xasprintf(&cb, "http://%s", conf.listen);
	engine_conf(&conf, &ec, cb);
	if ((e = engine_open(&ec, &cause)) == NULL)
		startup_failed(&report, "engine", cause);
	if (engine_watch_start(e, (const char *const *)dirs, ndirs,
	    &cause) != 0)
		startup_failed(&report, "watch", cause);
	memset(&ac, 0, sizeof ac);
	ac.listen = conf.listen;
	ac.db_url = conf.db;
	ac.token = conf.api_token;
	ac.threads = (size_t)conf.http_threads;
	ac.max_connections = (size_t)conf.http_max_connections;
	ac.timeout_ms = conf.http_timeout_ms;
	ac.max_body = (size_t)conf.http_max_body;
	ac.max_definition = (size_t)conf.http_max_definition;
	ac.max_header = (size_t)conf.http_max_header;
	if ((api = api_open(e, &ac, &cause)) == NULL)
		startup_failed(&report, "api", cause);
	api_set_ready(api, 1);
	if (engine_start(e, &cause) != 0)
		startup_failed(&report, "engine", cause);
	log_info("borad %s: serving on %s, store %s", VERSION, conf.listen,
	    strncmp(conf.db, "sqlite:", 7) == 0 ? conf.db : "postgresql");
	report_parent(&report, NULL);
	notify_init();
	notify("READY=1");
	wd_ms = notify_watchdog_ms();
	/*
	 * Other engines sharing a PostgreSQL store may change definitions:
	 * follow the store's definition counter.
	 */
	if (strncmp(conf.db, "sqlite:", 7) != 0) {
		if ((gen_st = store_open(conf.db, &cause)) == NULL) {
			log_warnx("definition follower: %s", cause);
			free(cause);
			cause = NULL;
		} else
			gen = store_def_generation(gen_st);
	}

	pfd.fd = sig_pipe[0];
	pfd.events = POLLIN;
	for (;;) {
		timeout = gen_st != NULL ? DEFS_CHECK_MS : -1;
		if (wd_ms > 0 && (timeout == -1 || wd_ms < timeout))
			timeout = wd_ms;
		if (poll(&pfd, 1, timeout) == -1 && errno != EINTR)
			fatal("poll");
		while (read(sig_pipe[0], &c, 1) == 1)
			continue;
		if (wd_ms > 0 && time_mono_ms() >= wd_next) {
			notify("WATCHDOG=1");
			wd_next = time_mono_ms() + wd_ms;
		}
		if (sig_term || sig_int)
			break;
		if (gen_st != NULL && time_mono_ms() >= next_check) {
			next_check = time_mono_ms() + DEFS_CHECK_MS;
			g = store_def_generation(gen_st);
			if (g > gen) {
				gen = g;
				engine_defs_refresh(e);
			}
		}
		if (sig_hup) {
			sig_hup = 0;
			log_info("SIGHUP: reloading definitions");
			notify("RELOADING=1");
			engine_defs_refresh(e);
			engine_watch_reload(e);
			notify("READY=1");
		}
	}

	stopping = 1;
	log_info("%s: stopping (grace %lld ms)", sig_int ? "SIGINT" :
	    "SIGTERM", (long long)conf.grace_ms);
	notify("STOPPING=1");
	api_quiesce(api);
	engine_stop(e, conf.grace_ms);
	api_close(api);
	engine_watch_stop(e);
	engine_close(e);
	store_close(gen_st);
	free(cb);
	log_info("stopped");
	ch = 0;
done:
	for (i = 0; i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	free(longopts);
	conf_free(&conf);
	return (ch);
}
