/*
 * borad.c -- the daemon: read the configuration (conf_args), open the
 * engine with its watched folders (engine_open_conf), serve the REST
 * API, and run until SIGTERM.
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
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "conf/conf.h"
#include "dl/dl.h"
#include "actions/actions.h"
#include "alarms/alarms.h"
#include "engine/engine.h"
#include "msg/msg.h"
#include "store/store.h"
#include "api/api.h"

/* How often to look for definitions changed by other engines. */
#define DEFS_CHECK_MS	2000

/*
 * Set by the signal handler, which may run on any thread: lock-free
 * atomics are safe there (C11 7.14.1.1).
 */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "signal flags need lock-free "
    "atomics");
static atomic_int	sig_hup, sig_term, sig_int, stopping;
static int		sig_pipe[2] = { -1, -1 };
static int		notify_on;	/* libsystemd loaded */

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
		atomic_store(&sig_hup, 1);
		break;
	case SIGINT:
		if (atomic_load(&stopping))
			_exit(130);	/* second SIGINT: now */
		atomic_store(&sig_int, 1);
		break;
	case SIGTERM:
		atomic_store(&sig_term, 1);
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
	/* Past a file size limit a write fails (EFBIG): a store error. */
	sigaction(SIGXFSZ, &sa, NULL);
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

	if (what != NULL)
		xasprintf(&msg, "%s: %s", what, cause != NULL ? cause :
		    "failed");
	else
		msg = xstrdup(cause != NULL ? cause : "failed");
	log_warnx("%s", msg);
	report_parent(report, msg);
	exit(1);
}

/* Print each line of a cause after "borad: ". */
static void
print_lines(const char *cause)
{
	const char	*nl;

	while (cause != NULL && *cause != '\0') {
		nl = strchr(cause, '\n');
		fprintf(stderr, "borad: %.*s\n", nl != NULL ?
		    (int)(nl - cause) : (int)strlen(cause), cause);
		cause = nl != NULL ? nl + 1 : NULL;
	}
}

/* -n: load every definition into an in-memory engine and report. */
static int
check(const struct conf *conf, int bad)
{
	struct engine	*e;
	json_t		*errs, *f, *line;
	size_t		 i, j;
	char		*cause = NULL;

	if ((e = engine_open_conf(conf, 1, &cause)) == NULL) {
		fprintf(stderr, "borad: %s\n", cause);
		free(cause);
		return (1);
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

/* The store's definition counter, through the engine's pool; -1. */
static int64_t
defs_generation(struct engine *e)
{
	struct store	*st;
	char		*cause = NULL;
	int64_t		 g;

	if ((st = store_pool_get(engine_pool(e), &cause)) == NULL) {
		log_warnx("definition follower: %s", cause);
		free(cause);
		return (-1);
	}
	g = store_def_generation(st);
	store_pool_put(engine_pool(e));
	return (g);
}

/*
 * Serve until SIGTERM or SIGINT: the engine, the REST API, systemd's
 * notifications and watchdog, SIGHUP's reload, and definitions changed
 * by other engines sharing a PostgreSQL store.
 */
static int
serve(const struct conf *conf, const struct alarm_auth *auth, int debug)
{
	struct engine		*e;
	struct api_config	 ac;
	struct api		*api;
	struct pollfd		 pfd;
	int64_t			 gen = 0, g, next_check = 0, wd_next = 0;
	int			 report = -1, timeout, wd_ms, follow;
	char			*cause = NULL, c;

	if (conf->verbose > 1)
		conf_print(conf, stderr);
	if (!debug)
		daemonize(&report);
	signals_init();

	if ((e = engine_open_conf(conf, 0, &cause)) == NULL)
		startup_failed(&report, NULL, cause);
	memset(&ac, 0, sizeof ac);
	ac.listen = conf->listen;
	ac.db_url = conf->db;
	ac.token = conf->api_token;
	ac.threads = (size_t)conf->http_threads;
	ac.max_connections = (size_t)conf->http_max_connections;
	ac.timeout_ms = conf->http_timeout_ms;
	ac.max_body = (size_t)conf->http_max_body;
	ac.max_definition = (size_t)conf->http_max_definition;
	ac.max_header = (size_t)conf->http_max_header;
	ac.request_timeout_ms = conf->http_request_timeout_ms;
	ac.max_client_connections = (size_t)conf->http_max_client_connections;
	ac.reserve_connections = (size_t)conf->http_reserve_connections;
	ac.alarm_auth = auth;
	ac.alarm_max_events = (size_t)conf->alarm_max_events;
	ac.alarm_max_depth = (int)conf->alarm_max_depth;
	ac.masakari_dup_ms = conf->masakari_dup_ms;
	ac.keystone_auth = (int)conf->keystone_auth;
	ac.keystone_roles = conf->keystone_roles.v;
	ac.nkeystone_roles = conf->keystone_roles.n;
	if ((api = api_open(e, &ac, &cause)) == NULL)
		startup_failed(&report, "api", cause);
	api_set_ready(api, 1);
	if (engine_start(e, &cause) != 0)
		startup_failed(&report, "engine", cause);
	log_info("borad %s: serving on %s, store %s", VERSION, conf->listen,
	    strncmp(conf->db, "sqlite:", 7) == 0 ? conf->db : "postgresql");
	report_parent(&report, NULL);
	notify_init();
	notify("READY=1");
	wd_ms = notify_watchdog_ms();
	/*
	 * Other engines sharing a PostgreSQL store may change definitions:
	 * follow the store's definition counter.
	 */
	follow = strncmp(conf->db, "sqlite:", 7) != 0;
	if (follow)
		gen = defs_generation(e);

	pfd.fd = sig_pipe[0];
	pfd.events = POLLIN;
	for (;;) {
		timeout = follow ? DEFS_CHECK_MS : -1;
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
		if (atomic_load(&sig_term) || atomic_load(&sig_int))
			break;
		if (follow && time_mono_ms() >= next_check) {
			next_check = time_mono_ms() + DEFS_CHECK_MS;
			g = defs_generation(e);
			if (g > gen) {
				gen = g;
				engine_defs_refresh(e);
			}
		}
		if (atomic_exchange(&sig_hup, 0)) {
			log_info("SIGHUP: reloading definitions");
			notify("RELOADING=1");
			engine_defs_refresh(e);
			engine_watch_reload(e);
			notify("READY=1");
		}
	}

	atomic_store(&stopping, 1);
	log_info("%s: stopping (grace %lld ms)", atomic_load(&sig_int) ?
	    "SIGINT" : "SIGTERM", (long long)conf->grace_ms);
	notify("STOPPING=1");
	api_quiesce(api);
	engine_stop(e, conf->grace_ms);
	api_close(api);
	engine_watch_stop(e);
	engine_close(e);
	log_info("stopped");
	return (0);
}

int
main(int argc, char **argv)
{
	struct conf		 conf;
	struct conf_args	 args;
	struct alarm_auth	*auth;
	char			*cause = NULL;
	int			 rc, bad;

	if (conf_args(&conf, &args, argc, argv, &rc) != 0)
		return (rc);
	log_init(args.debug || args.check, conf.verbose > 0 ?
	    LOG_LVL_DEBUG : LOG_LVL_INFO, "borad");
	log_set_json((int)conf.log_json);
	if ((bad = conf_check(&conf, &cause) != 0)) {
		print_lines(cause);
		free(cause);
	}
	/* Secret files are read now, so a missing one stops the start. */
	if ((auth = alarm_auth_create(&conf.alarm_auth, &cause)) == NULL) {
		print_lines(cause);
		free(cause);
		bad = 1;
	}
	/* OpenStack credentials: borad.conf, OS_CLOUD or OS_*. */
	if (action_os_configure(&conf, &cause) != 0) {
		print_lines(cause);
		free(cause);
		bad = 1;
	}
	/* What users are told: the catalog's texts, checked now. */
	msg_set_ttl(conf.message_ttl_ms);
	if (msg_catalog_load(conf.messages_file, &cause) != 0) {
		print_lines(cause);
		free(cause);
		bad = 1;
	}
	if (args.check)
		rc = check(&conf, bad);
	else
		rc = bad ? 1 : serve(&conf, auth, args.debug);
	alarm_auth_free(auth);
	conf_free(&conf);
	return (rc);
}
