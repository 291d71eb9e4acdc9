/*
 * conf.c -- the option table of borad and its three sources: a YAML
 * file, BORA_<NAME> environment variables and command line flags.
 *
 * Each option is one row of conf_options[] (name, type, offset into
 * struct conf, default, bounds, help), in the manner of tmux's
 * options-table.c and Redis's config.c.  Defaults are written as text
 * and go through the same parser as every other source, so the table is
 * also the documentation (conf_print_mdoc).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/lib.h"
#include "conf/conf.h"

#ifndef BORA_DATADIR
#define BORA_DATADIR "/usr/local/share/bora"
#endif

#define CONF_OFF(f) offsetof(struct conf, f)

const struct conf_option conf_options[] = {
	{ "db", CONF_STRING, CONF_OFF(db), NULL, 0, 0, "URL",
	  "Store: sqlite:PATH (embedded) or postgresql://... .  The default"
	  " is sqlite:$STATE_DIRECTORY/bora.db when systemd sets"
	  " STATE_DIRECTORY, else sqlite:/var/lib/bora/bora.db." },
	{ "listen", CONF_STRING, CONF_OFF(listen), "127.0.0.1:8989", 0, 0,
	  "HOST:PORT", "Address of the REST API and alarm webhooks." },
	{ "workflows", CONF_LIST, CONF_OFF(workflows),
	  BORA_DATADIR "/workflows", 0, 0, "DIR",
	  "Watched folder of workbooks and workflow files (repeatable)." },
	{ "actions", CONF_LIST, CONF_OFF(actions), BORA_DATADIR "/actions",
	  0, 0, "DIR",
	  "Watched folder of ad-hoc action catalogs (repeatable)." },
	{ "lua", CONF_STRING, CONF_OFF(lua), BORA_DATADIR "/lua", 0, 0, "DIR",
	  "Lua library available to expressions and Lua actions." },
	{ "api-token", CONF_STRING, CONF_OFF(api_token), NULL, 0, 0, "TOKEN",
	  "Require this bearer token (Authorization: Bearer, or"
	  " X-Auth-Token) on every API request except /healthz." },
	{ "alarm-auth", CONF_LIST, CONF_OFF(alarm_auth), NULL, 0, 0,
	  "SPEC", "How an alarm source proves who it is (repeatable):"
	  " \"SOURCE METHOD [key=value]...\" with METHOD none, bearer,"
	  " basic or hmac; see ALARM SOURCES.  A source without an entry"
	  " is guarded like the rest of the API." },
	{ "callback-url", CONF_STRING, CONF_OFF(callback_url), NULL, 0, 0,
	  "URL", "Base URL that async actions call back; default"
	  " http://LISTEN." },
	{ "engine-id", CONF_STRING, CONF_OFF(engine_id), NULL, 0, 0, "ID",
	  "Name of this engine in leases; default generated." },
	{ "grace", CONF_DURATION, CONF_OFF(grace_ms), "30s", 0,
	  INT64_C(86400000), "SECONDS",
	  "On SIGTERM, how long in-flight actions may finish." },
	{ "lease", CONF_DURATION, CONF_OFF(lease_ms), "15s", 1000,
	  INT64_C(3600000), "DURATION",
	  "Execution lease; another engine takes over after it expires.  "
	  "An engine that could not renew its leases in time commits "
	  "nothing until a renewal says which executions are still its "
	  "own." },
	{ "poll", CONF_DURATION, CONF_OFF(poll_ms), "1s", 10,
	  INT64_C(600000), "DURATION",
	  "Polling period for due work when no wake-up arrives." },
	{ "max-inflight", CONF_INT, CONF_OFF(max_inflight), "1024", 1,
	  1000000, "N", "Actions waiting on I/O at once." },
	{ "resume", CONF_BOOL, CONF_OFF(resume), "true", 0, 1, "BOOL",
	  "Claim unfinished executions at start." },
	{ "http-threads", CONF_INT, CONF_OFF(http_threads), "4", 1, 64, "N",
	  "HTTP threads." },
	{ "http-max-connections", CONF_INT, CONF_OFF(http_max_connections),
	  "1024", 1, 65536, "N", "Concurrent HTTP connections, besides the"
	  " reserve (http-reserve-connections)." },
	{ "http-timeout", CONF_DURATION, CONF_OFF(http_timeout_ms), "30s",
	  1000, INT64_C(3600000), "DURATION",
	  "Idle HTTP connections are closed after this long." },
	{ "http-max-body", CONF_SIZE, CONF_OFF(http_max_body), "1m", 1024,
	  INT64_C(1073741824), "SIZE",
	  "Largest JSON request body; larger ones get 413." },
	{ "http-max-definition", CONF_SIZE, CONF_OFF(http_max_definition),
	  "4m", 1024, INT64_C(1073741824), "SIZE",
	  "Largest YAML definition upload; larger ones get 413." },
	{ "http-max-header", CONF_SIZE, CONF_OFF(http_max_header), "64k",
	  4096, INT64_C(16777216), "SIZE",
	  "Memory for one request's line and headers.  A request target"
	  " over a quarter of it, or with more query parameters than one per"
	  " 256 bytes of it, gets 414; headers over a quarter of it, or more"
	  " fields than one per 256 bytes, get 431." },
	{ "http-request-timeout", CONF_DURATION,
	  CONF_OFF(http_request_timeout_ms), "30s", 1000, INT64_C(3600000),
	  "DURATION",
	  "A request's line, headers and body must all arrive within this"
	  " long of the connection's opening or of its previous answer;"
	  " otherwise the connection is closed." },
	{ "http-max-client-connections", CONF_INT,
	  CONF_OFF(http_max_client_connections), "256", 0, 65536, "N",
	  "HTTP connections one client address may hold (an IPv6 client is"
	  " its /64); 0: no limit.  Behind a proxy or load balancer every"
	  " client has the proxy's address: raise it, or set 0." },
	{ "http-reserve-connections", CONF_INT,
	  CONF_OFF(http_reserve_connections), "16", 0, 1024, "N",
	  "Connections kept for /healthz and /readyz when a client or the"
	  " server is at its limit: one request each, which must arrive"
	  " within 2s." },
	{ "expr-max-instructions", CONF_INT, CONF_OFF(expr_max_instructions),
	  "0", 0, INT64_MAX, "N",
	  "Lua instruction budget per expression; 0: the engine default." },
	{ "expr-max-memory", CONF_SIZE, CONF_OFF(expr_max_memory), "0", 0,
	  INT64_C(1073741824), "SIZE",
	  "Lua memory cap per evaluation; 0: the engine default." },
	{ "alarm-max-events", CONF_INT, CONF_OFF(alarm_max_events), "1000",
	  1, 1000000, "N", "Most alerts in one alarm message (an"
	  " Alertmanager group); more get 413." },
	{ "alarm-max-depth", CONF_INT, CONF_OFF(alarm_max_depth), "32", 4,
	  1000, "N", "Deepest JSON nesting of an alarm payload; deeper"
	  " gets 400." },
	{ "expr-max-time", CONF_DURATION, CONF_OFF(expr_max_time_ms), "1s", 10,
	  INT64_C(3600000), "DURATION",
	  "Wall-clock limit of one Lua evaluation; past it the task fails." },
	{ "log-json", CONF_BOOL, CONF_OFF(log_json), "false", 0, 1, "BOOL",
	  "Log one JSON object per line." },
	{ "verbose", CONF_INT, CONF_OFF(verbose), "0", 0, 2, "N",
	  "Log level: 0 warnings and info, 1 more, 2 debug." },
	{ "os-cloud", CONF_STRING, CONF_OFF(os_cloud), NULL, 0, 0, "NAME",
	  "OpenStack actions authenticate as this clouds.yaml entry.  Without"
	  " it and os-auth-url: OS_CLOUD, else the OS_* environment." },
	{ "os-clouds-file", CONF_STRING, CONF_OFF(os_clouds_file), NULL, 0, 0,
	  "FILE", "clouds.yaml to read; default OS_CLIENT_CONFIG_FILE,"
	  " ./clouds.yaml, ~/.config/openstack, /etc/openstack." },
	{ "os-auth-url", CONF_STRING, CONF_OFF(os_auth_url), NULL, 0, 0,
	  "URL", "Keystone URL (v3 is added unless it ends in /v3); set it to"
	  " give the credentials below here instead of os-cloud." },
	{ "os-username", CONF_STRING, CONF_OFF(os_username), NULL, 0, 0,
	  "NAME", "Keystone user, for password authentication." },
	{ "os-password", CONF_STRING, CONF_OFF(os_password), NULL, 0, 0,
	  "SECRET", "Its password (never logged nor shown)." },
	{ "os-user-domain-name", CONF_STRING, CONF_OFF(os_user_domain_name),
	  NULL, 0, 0, "NAME", "The user's domain; default the domain of id"
	  " default." },
	{ "os-project-name", CONF_STRING, CONF_OFF(os_project_name), NULL, 0,
	  0, "NAME", "Project the token is scoped to." },
	{ "os-project-domain-name", CONF_STRING,
	  CONF_OFF(os_project_domain_name), NULL, 0, 0, "NAME",
	  "The project's domain; default the domain of id default." },
	{ "os-application-credential-id", CONF_STRING,
	  CONF_OFF(os_app_cred_id), NULL, 0, 0, "ID",
	  "Application credential, instead of a user and password." },
	{ "os-application-credential-secret", CONF_STRING,
	  CONF_OFF(os_app_cred_secret), NULL, 0, 0, "SECRET",
	  "Its secret (never logged nor shown)." },
	{ "os-region-name", CONF_STRING, CONF_OFF(os_region_name), NULL, 0, 0,
	  "NAME", "Region of the endpoints taken from the catalog." },
	{ "os-interface", CONF_STRING, CONF_OFF(os_interface), NULL, 0, 0,
	  "NAME", "Endpoint interface: public (default), internal or admin." },
	{ "os-cacert", CONF_STRING, CONF_OFF(os_cacert), NULL, 0, 0, "FILE",
	  "CA bundle to verify Keystone and the services with." },
	{ "os-insecure", CONF_BOOL, CONF_OFF(os_insecure), "false", 0, 1,
	  "BOOL", "Do not verify TLS certificates (tests only)." },
	{ "messages-file", CONF_STRING, CONF_OFF(messages_file), NULL, 0, 0,
	  "FILE", "Texts of user messages in place of the built-in ones: a"
	  " YAML mapping of event ids (BORA-EXE-001, ...) to a message and a"
	  " suggested action, checked at start; see MESSAGES." },
	{ "message-ttl", CONF_DURATION, CONF_OFF(message_ttl_ms), "30d", 0,
	  INT64_C(315360000000), "DURATION",
	  "How long a user message is kept: it expires this long after it is"
	  " made; 0: it never expires." },
	{ "message-reap-interval", CONF_DURATION,
	  CONF_OFF(message_reap_interval_ms), "1h", -1, INT64_C(31536000000),
	  "DURATION", "How often expired messages are deleted; -1: never."
	  "  Safe on every engine: one reaps at a time." },
	{ "message-reap-batch-size", CONF_INT,
	  CONF_OFF(message_reap_batch_size), "1000", 1, 1000000, "N",
	  "Expired messages deleted per transaction; a round goes on until"
	  " none is left." },
	{ "execution-retention", CONF_DURATION,
	  CONF_OFF(execution_retention_ms), "30d", 0, INT64_C(315360000000),
	  "DURATION", "Finished executions are deleted, with their tasks,"
	  " action executions, events and sub-workflows, this long after"
	  " they last changed; 0: kept forever." },
	{ "execution-reap-interval", CONF_DURATION,
	  CONF_OFF(execution_reap_interval_ms), "1h", -1,
	  INT64_C(31536000000), "DURATION",
	  "How often old finished executions (and notifications sent or"
	  " given up as long ago) are deleted; -1: never." },
	{ "execution-reap-batch-size", CONF_INT,
	  CONF_OFF(execution_reap_batch_size), "100", 1, 100000, "N",
	  "Executions deleted per round of their reaper, each with its tree"
	  " in a transaction of its own; rounds go on until none is left." },
	{ "alarm-retention", CONF_DURATION,
	  CONF_OFF(alarm_retention_ms), "30d", 0, INT64_C(315360000000),
	  "DURATION", "Stored alarms are deleted, with their events and"
	  " verdicts, this long after they came; an alarm not decided yet or"
	  " whose hold (once-within, until-resolved) is still in force stays."
	  "  Holds and limit counters over as long ago, and refused requests"
	  " as old, go too; 0: kept forever." },
	{ "alarm-reap-interval", CONF_DURATION,
	  CONF_OFF(alarm_reap_interval_ms), "1h", -1, INT64_C(31536000000),
	  "DURATION", "How often old alarms are deleted; -1: never.  Safe on"
	  " every engine: one reaps at a time." },
	{ "alarm-reap-batch-size", CONF_INT,
	  CONF_OFF(alarm_reap_batch_size), "500", 1, 100000, "N",
	  "Alarms deleted per transaction, with their events and verdicts;"
	  " a round goes on until none is left." },
	{ "notify", CONF_LIST, CONF_OFF(notify), NULL, 0, 0,
	  "SPEC", "A receiver of every execution's events, as Mistral's"
	  " [notifier] notify (repeatable): \"URL [events=EVENT,...]"
	  " [header=NAME:VALUE]...\"; all events by default.  See"
	  " NOTIFICATIONS." },
	{ "notify-secret", CONF_STRING, CONF_OFF(notify_secret), NULL, 0, 0,
	  "SECRET", "Sign every notification: X-Bora-Signature is sha256="
	  "HMAC-SHA256(SECRET, \"TIMESTAMP:BODY\") in hex, TIMESTAMP the"
	  " X-Bora-Timestamp header (never logged nor shown)." },
	{ "notify-max-attempts", CONF_INT, CONF_OFF(notify_max_attempts),
	  "12", 1, 1000, "N", "Attempts to deliver a notification before it"
	  " is given up (DEAD, kept for GET /v2/notifications)." },
	{ "notify-backoff", CONF_DURATION, CONF_OFF(notify_backoff_ms), "1s",
	  10, INT64_C(3600000), "DURATION",
	  "Wait before the second attempt; it doubles with each one." },
	{ "notify-backoff-max", CONF_DURATION,
	  CONF_OFF(notify_backoff_max_ms), "10m", 10, INT64_C(86400000),
	  "DURATION", "Longest wait between two attempts." },
	{ "notify-timeout", CONF_DURATION, CONF_OFF(notify_timeout_ms), "10s",
	  100, INT64_C(600000), "DURATION",
	  "A receiver must answer within this long." },
	{ "notify-concurrency", CONF_INT, CONF_OFF(notify_concurrency), "16",
	  1, 1024, "N", "Notifications in flight at once, per engine." },
	{ "masakari-duplicate-interval", CONF_DURATION,
	  CONF_OFF(masakari_dup_ms), "180s", 1000, INT64_C(86400000),
	  "SECONDS", "A Masakari notification like one generated this long"
	  " before (same type, host and payload) is a duplicate (409)." },
	{ "masakari-retry-interval", CONF_DURATION,
	  CONF_OFF(masakari_retry_ms), "120s", 0, INT64_C(86400000),
	  "SECONDS", "A Masakari notification whose recovery ended in error"
	  " this long ago is recovered once more (failed if that fails"
	  " too); 0: never." },
	{ "masakari-expire", CONF_DURATION, CONF_OFF(masakari_expire_ms),
	  "24h", 0, INT64_C(31536000000), "DURATION",
	  "A Masakari notification still new or in error this long after it"
	  " came is failed; 0: never." },
	{ "keystone-auth", CONF_BOOL, CONF_OFF(keystone_auth), "false", 0, 1,
	  "BOOL", "Accept an X-Auth-Token that Keystone says is valid"
	  " (GET /v3/auth/tokens with borad's own credentials, the os-*"
	  " ones), cached until it expires; a token Keystone refuses, or"
	  " whose roles lack keystone-roles, is answered 401." },
	{ "keystone-roles", CONF_LIST, CONF_OFF(keystone_roles), "admin", 0,
	  0, "ROLE", "Roles a validated token must all have (repeatable)." },
};
const size_t conf_noptions = nitems(conf_options);

_Static_assert(nitems(conf_options) <= sizeof ((struct conf *)0)->src,
    "struct conf src[] is too small");

/* Options naming a data folder: found by conf_data_dir() by default. */
static const char *const conf_data_options[] = {
	"workflows", "actions", "lua"
};

/* Options whose values are never printed (lists: see conf_print_masked). */
static const char *const conf_secrets[] = {
	"api-token", "alarm-auth", "os-password",
	"os-application-credential-secret", "notify-secret", "notify"
};

static int	conf_parse_int(const char *, int64_t *);
static int	conf_parse_size(const char *, int64_t *);
static int	conf_parse_bool(const char *, int64_t *);
static void	conf_list_clear(struct conf_list *);
static char	*conf_default_db(void);

/* The default store URL: systemd's state directory when there is one. */
static char *
conf_default_db(void)
{
	const char	*dir;
	char		*url;

	dir = getenv("STATE_DIRECTORY");
	if (dir != NULL && *dir != '\0' && strchr(dir, ':') == NULL) {
		xasprintf(&url, "sqlite:%s/bora.db", dir);
		return (url);
	}
	return (xstrdup("sqlite:/var/lib/bora/bora.db"));
}

/*
 * Fill conf with every option's default.  A data folder's default is
 * the folder conf_data_dir() finds, else the installed one.
 */
void
conf_init(struct conf *conf)
{
	const char	*def;
	size_t		 i, j;
	char		*cause, *found;

	memset(conf, 0, sizeof *conf);
	for (i = 0; i < conf_noptions; i++) {
		def = conf_options[i].default_str;
		found = NULL;
		for (j = 0; j < nitems(conf_data_options); j++) {
			if (strcmp(conf_options[i].name,
			    conf_data_options[j]) == 0 &&
			    (found = conf_data_dir(conf_data_options[j])) !=
			    NULL)
				def = found;
		}
		if (def == NULL)
			continue;
		if (conf_set(conf, conf_options[i].name, def,
		    CONF_SRC_DEFAULT, &cause) != 0)
			fatalx("option %s: bad default: %s",
			    conf_options[i].name, cause);
		free(found);
	}
	conf->db = conf_default_db();
}

static void
conf_list_clear(struct conf_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Release every string and list. */
void
conf_free(struct conf *conf)
{
	size_t	 i;
	char	*base = (char *)conf;

	if (conf == NULL)
		return;
	for (i = 0; i < conf_noptions; i++) {
		switch (conf_options[i].type) {
		case CONF_STRING:
			free(*(char **)(base + conf_options[i].offset));
			*(char **)(base + conf_options[i].offset) = NULL;
			break;
		case CONF_LIST:
			conf_list_clear((struct conf_list *)
			    (base + conf_options[i].offset));
			break;
		default:
			break;
		}
	}
}

/* Find an option; '_' and '-' are the same. */
const struct conf_option *
conf_find(const char *name)
{
	size_t		 i, j;
	const char	*o;

	for (i = 0; i < conf_noptions; i++) {
		o = conf_options[i].name;
		for (j = 0; o[j] != '\0' && name[j] != '\0'; j++) {
			if (o[j] == name[j])
				continue;
			if (o[j] == '-' && name[j] == '_')
				continue;
			break;
		}
		if (o[j] == '\0' && name[j] == '\0')
			return (&conf_options[i]);
	}
	return (NULL);
}

static int
conf_parse_int(const char *s, int64_t *v)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return (-1);
	*v = n;
	return (0);
}

/* "4096", "64k", "4M", "1g" (binary multiples). */
static int
conf_parse_size(const char *s, int64_t *v)
{
	char		*end;
	long long	 n;
	int64_t		 mul = 1;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || n < 0)
		return (-1);
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		mul = 1024;
		break;
	case 'm':
		mul = 1024 * 1024;
		break;
	case 'g':
		mul = 1024 * 1024 * 1024;
		break;
	default:
		return (-1);
	}
	if (*end != '\0') {
		end++;
		if (tolower((unsigned char)*end) == 'i')
			end++;
		if (tolower((unsigned char)*end) == 'b')
			end++;
		if (*end != '\0')
			return (-1);
	}
	if (n > INT64_MAX / mul)
		return (-1);
	*v = n * mul;
	return (0);
}

static int
conf_parse_bool(const char *s, int64_t *v)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t	i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return (0);
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return (0);
		}
	}
	return (-1);
}

/* Set one option from text; lists from a newer source replace. */
int
conf_set(struct conf *conf, const char *name, const char *value,
    enum conf_source from, char **cause)
{
	const struct conf_option	*o;
	char				*base = (char *)conf, **sp, *tmp;
	struct conf_list		*l;
	int64_t				 v, *ip;
	size_t				 idx;

	*cause = NULL;
	if ((o = conf_find(name)) == NULL) {
		const char	*cands[nitems(conf_options)];
		const char	*near;
		size_t		 i;

		for (i = 0; i < conf_noptions; i++)
			cands[i] = conf_options[i].name;
		near = lib_closest(name, cands, conf_noptions);
		if (near != NULL)
			xasprintf(cause, "unknown option '%s' (did you mean "
			    "'%s'?)", name, near);
		else
			xasprintf(cause, "unknown option '%s'", name);
		return (-1);
	}
	idx = (size_t)(o - conf_options);
	if (conf->src[idx] > from)
		return (0);	/* a stronger source already set it */

	switch (o->type) {
	case CONF_STRING:
		sp = (char **)(base + o->offset);
		free(*sp);
		*sp = (value == NULL || *value == '\0') ? NULL :
		    xstrdup(value);
		break;
	case CONF_LIST:
		l = (struct conf_list *)(base + o->offset);
		if (conf->src[idx] < from)
			conf_list_clear(l);
		if (value != NULL && *value != '\0') {
			l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
			l->v[l->n++] = xstrdup(value);
		}
		break;
	case CONF_INT:
	case CONF_BOOL:
	case CONF_DURATION:
	case CONF_SIZE:
		if (value == NULL) {
			xasprintf(cause, "%s: a value is needed", o->name);
			return (-1);
		}
		if (o->type == CONF_INT && conf_parse_int(value, &v) != 0) {
			xasprintf(cause, "%s: not an integer: '%s'", o->name,
			    value);
			return (-1);
		}
		if (o->type == CONF_BOOL && conf_parse_bool(value, &v) != 0) {
			xasprintf(cause, "%s: not a boolean (true or false):"
			    " '%s'", o->name, value);
			return (-1);
		}
		if (o->type == CONF_SIZE && conf_parse_size(value, &v) != 0) {
			xasprintf(cause, "%s: not a size (like 512, 64k, 4m):"
			    " '%s'", o->name, value);
			return (-1);
		}
		if (o->type == CONF_DURATION && o->minimum < 0 &&
		    strcmp(value, "-1") == 0)
			v = -1;		/* never */
		else if (o->type == CONF_DURATION &&
		    time_parse_duration(value, &v, &tmp) != 0) {
			xasprintf(cause, "%s: %s%s", o->name, tmp,
			    o->minimum < 0 ? "; or -1 for never" : "");
			free(tmp);
			return (-1);
		}
		if (v < o->minimum || v > o->maximum) {
			xasprintf(cause, "%s: '%s' is out of range [%lld, "
			    "%lld]%s", o->name, value, (long long)o->minimum,
			    (long long)o->maximum,
			    o->type == CONF_DURATION ? " ms" : "");
			return (-1);
		}
		ip = (int64_t *)(base + o->offset);
		*ip = v;
		break;
	}
	conf->src[idx] = (unsigned char)from;
	return (0);
}

/* Append "file:line:col: msg" to a list of errors. */
static void
conf_file_error(char **errs, const char *path, const yaml_mark_t *m,
    const char *msg)
{
	char	*line;

	xasprintf(&line, "%s%s:%zu:%zu: %s", *errs == NULL ? "" : "\n",
	    path, m->line + 1, m->column + 1, msg);
	*errs = xstrcat(*errs, line);
	free(line);
}

/*
 * Read a YAML mapping of option names to scalars (or, for lists, to a
 * sequence of scalars).  Every problem is reported with its position.
 */
int
conf_load_file(struct conf *conf, const char *path, char **cause)
{
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	char		*text, *errs = NULL, *key = NULL, *why, *msg;
	size_t		 len;
	int		 depth = 0, done = 0, inseq = 0, rc = -1;
	yaml_mark_t	 keymark;

	*cause = NULL;
	if ((text = file_read(path, 1024 * 1024, &len, cause)) == NULL)
		return (-1);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	memset(&keymark, 0, sizeof keymark);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			xasprintf(&msg, "%s", p.problem != NULL ? p.problem :
			    "YAML syntax error");
			conf_file_error(&errs, path, &p.problem_mark, msg);
			free(msg);
			goto out;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
			if (depth != 0 || inseq) {
				conf_file_error(&errs, path, &ev.start_mark,
				    "nested mappings are not options");
				yaml_event_delete(&ev);
				goto out;
			}
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SEQUENCE_START_EVENT:
			if (key == NULL || inseq) {
				conf_file_error(&errs, path, &ev.start_mark,
				    "unexpected list");
				yaml_event_delete(&ev);
				goto out;
			}
			inseq = 1;
			/* An empty list still replaces the default. */
			if (conf_find(key) != NULL &&
			    conf_find(key)->type == CONF_LIST &&
			    conf_set(conf, key, NULL, CONF_SRC_FILE, &why) != 0)
				free(why);
			break;
		case YAML_SEQUENCE_END_EVENT:
			inseq = 0;
			free(key);
			key = NULL;
			break;
		case YAML_SCALAR_EVENT:
			if (depth != 1) {
				conf_file_error(&errs, path, &ev.start_mark,
				    "the file must be a mapping of options");
				yaml_event_delete(&ev);
				goto out;
			}
			if (key == NULL) {
				key = xstrdup((char *)ev.data.scalar.value);
				keymark = ev.start_mark;
				break;
			}
			if (inseq && conf_find(key) != NULL &&
			    conf_find(key)->type != CONF_LIST) {
				xasprintf(&msg, "%s: takes one value, not a "
				    "list", key);
				conf_file_error(&errs, path, &keymark, msg);
				free(msg);
			} else if (conf_set(conf, key,
			    ev.data.scalar.length == 0 &&
			    ev.data.scalar.plain_implicit ? NULL :
			    (char *)ev.data.scalar.value, CONF_SRC_FILE,
			    &why) != 0) {
				conf_file_error(&errs, path, inseq ?
				    &ev.start_mark : &keymark, why);
				free(why);
			}
			if (!inseq) {
				free(key);
				key = NULL;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	if (errs == NULL)
		rc = 0;
out:
	yaml_parser_delete(&p);
	free(key);
	free(text);
	if (rc != 0)
		*cause = errs;
	return (rc);
}

/*
 * Apply BORA_<NAME> variables.  List options split on ':' (like PATH).
 * Unknown BORA_ variables are left alone: the CLI uses some (BORA_URL).
 */
int
conf_load_env(struct conf *conf, char **cause)
{
	size_t		 i, j;
	char		 env[128], *val, *copy, *tok, *save, *why, *errs = NULL;
	const char	*name;

	*cause = NULL;
	for (i = 0; i < conf_noptions; i++) {
		name = conf_options[i].name;
		memcpy(env, "BORA_", 5);
		for (j = 0; name[j] != '\0' && j + 6 < sizeof env; j++) {
			env[5 + j] = name[j] == '-' ? '_' :
			    (char)toupper((unsigned char)name[j]);
		}
		env[5 + j] = '\0';
		if ((val = getenv(env)) == NULL)
			continue;
		if (conf_options[i].type != CONF_LIST) {
			if (conf_set(conf, name, val, CONF_SRC_ENV, &why) != 0)
				goto bad;
			continue;
		}
		copy = xstrdup(val);
		if (conf_set(conf, name, NULL, CONF_SRC_ENV, &why) != 0)
			fatalx("%s", why);
		for (tok = strtok_r(copy, ":", &save); tok != NULL;
		    tok = strtok_r(NULL, ":", &save)) {
			if (conf_set(conf, name, tok, CONF_SRC_ENV, &why) != 0)
				fatalx("%s", why);
		}
		free(copy);
		continue;
bad:
		xasprintf(&val, "%s%s: %s", errs == NULL ? "" : "\n", env, why);
		errs = xstrcat(errs, val);
		free(val);
		free(why);
	}
	if (errs != NULL) {
		*cause = errs;
		return (-1);
	}
	return (0);
}

/*
 * Options whose values are never printed: the whole value, or in a list
 * the values of token=, password= and secret=.
 */
static int
conf_is_secret(const struct conf_option *o)
{
	size_t	i;

	for (i = 0; i < nitems(conf_secrets); i++) {
		if (strcmp(o->name, conf_secrets[i]) == 0)
			return (1);
	}
	return (0);
}

/* Print a list entry with the values of its secret keys hidden. */
static void
conf_print_masked(const char *s, FILE *f)
{
	static const char *const keys[] = { "token=", "password=",
	    "secret=" };
	const char	*colon, *q;
	size_t		 i, n;

	while (*s != '\0') {
		n = strcspn(s, " \t");
		/* A quoted value ('Bearer x') goes on to its closing quote. */
		if ((q = memchr(s, '\'', n)) != NULL &&
		    (q = strchr(q + 1, '\'')) != NULL && (size_t)(q - s) >= n)
			n = (size_t)(q - s) + 1;
		for (i = 0; i < nitems(keys); i++) {
			if (strncmp(s, keys[i], strlen(keys[i])) == 0)
				break;
		}
		colon = memchr(s, ':', n);
		if (i < nitems(keys))
			fprintf(f, "%s********", keys[i]);
		else if (strncmp(s, "header=", 7) == 0 && colon != NULL)
			/* A header's value may be a credential. */
			fprintf(f, "%.*s********", (int)(colon + 1 - s), s);
		else
			fwrite(s, 1, n, f);
		s += n;
		n = strspn(s, " \t");
		fwrite(s, 1, n, f);
		s += n;
	}
}

/* Print one value as YAML text. */
static void
conf_print_value(const struct conf *conf, const struct conf_option *o,
    FILE *f)
{
	const char		*base = (const char *)conf;
	const struct conf_list	*l;
	char			*s;
	int64_t			 v;
	size_t			 i;

	switch (o->type) {
	case CONF_STRING:
		s = *(char *const *)(base + o->offset);
		if (s == NULL)
			fprintf(f, "null\n");
		else if (conf_is_secret(o))
			fprintf(f, "\"********\"\n");
		else
			fprintf(f, "\"%s\"\n", s);
		break;
	case CONF_LIST:
		l = (const struct conf_list *)(base + o->offset);
		if (l->n == 0)
			fprintf(f, "[]\n");
		else
			fprintf(f, "\n");
		for (i = 0; i < l->n; i++) {
			fprintf(f, "  - \"");
			if (conf_is_secret(o))
				conf_print_masked(l->v[i], f);
			else
				fputs(l->v[i], f);
			fprintf(f, "\"\n");
		}
		break;
	case CONF_BOOL:
		v = *(const int64_t *)(base + o->offset);
		fprintf(f, "%s\n", v ? "true" : "false");
		break;
	case CONF_DURATION:
		v = *(const int64_t *)(base + o->offset);
		fprintf(f, v < 0 ? "%lld\n" : "%lldms\n", (long long)v);
		break;
	default:
		v = *(const int64_t *)(base + o->offset);
		fprintf(f, "%lld\n", (long long)v);
		break;
	}
}

/* Print the effective configuration as YAML. */
void
conf_print(const struct conf *conf, FILE *f)
{
	size_t	i;

	for (i = 0; i < conf_noptions; i++) {
		fprintf(f, "%s: ", conf_options[i].name);
		conf_print_value(conf, &conf_options[i], f);
	}
}

/* Print the option table as mdoc list items. */
void
conf_print_mdoc(FILE *f)
{
	const struct conf_option	*o;
	size_t				 i;

	for (i = 0; i < conf_noptions; i++) {
		o = &conf_options[i];
		fprintf(f, ".It Ic %s Ar %s\n", o->name, o->arg);
		fprintf(f, "%s\n", o->help);
		if (o->default_str != NULL)
			fprintf(f, "The default is\n.Ql %s .\n",
			    o->default_str);
	}
}
