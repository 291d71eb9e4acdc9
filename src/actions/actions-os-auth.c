/*
 * actions-os-auth.c -- OpenStack credentials and Keystone sessions for
 * os.request: where the credentials come from (borad.conf, clouds.yaml
 * with OS_CLOUD or a cloud name, the OS_* environment), one Keystone v3
 * token per credential shared by every action of the process, and the
 * service catalog that turns a service type into an endpoint.
 *
 * A session holds one credential and its current token.  Requests ask
 * it for a token with os_session_use(): a token not due for renewal is
 * handed out at once; otherwise the request waits in the session's
 * queue while one POST /v3/auth/tokens runs on the I/O loop (through
 * std.http's machinery, so no thread waits), and every queued request
 * gets the new token, or the reason there is none, when it ends.  A
 * token is renewed a little before Keystone's expires_at (a tenth of its
 * life, at most a minute), measured on the monotonic clock from when it
 * arrived so that clock skew does not matter, and dropped when a
 * service answers 401 to it (os_session_reject), so the next request
 * authenticates again.
 *
 * Secrets (passwords, application credential secrets, tokens) stay in
 * memory: they are never logged, and the helpers at the end scrub them
 * from anything that leaves the module.  All session state is under one
 * mutex; callbacks run without it.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/lib.h"
#include "conf/conf.h"
#include "actions/actions-int.h"

/* Renew a token this long before it expires, at most. */
#define OS_RENEW_MARGIN_MS	(60 * 1000)
/* Token life assumed when Keystone gives no expires_at. */
#define OS_DEFAULT_LIFE_MS	(3600 * 1000)
/* Keystone's answer must come within this many seconds. */
#define OS_AUTH_TIMEOUT		30
#define OS_CLOUDS_MAX		(1024 * 1024)

#define OS_OFF(f)	offsetof(struct os_cred, f)
#define OS_FIELD(c, off) (*(char **)((char *)(c) + (off)))

/*
 * The credential's text fields: the key in a clouds.yaml cloud (under
 * auth: or at the top), the OS_* variables, and the borad.conf option.
 */
static const struct os_field {
	const char	*key;
	const char	*key_alt;
	int		 in_auth;
	const char	*env;
	const char	*env_alt;
	size_t		 conf_off;	/* 0: no borad.conf option */
	size_t		 off;
} os_fields[] = {
	{ "auth_url", NULL, 1, "OS_AUTH_URL", NULL,
	  offsetof(struct conf, os_auth_url), OS_OFF(auth_url) },
	{ "auth_type", NULL, 0, "OS_AUTH_TYPE", NULL, 0,
	  OS_OFF(auth_type) },
	{ "username", "user_name", 1, "OS_USERNAME", NULL,
	  offsetof(struct conf, os_username), OS_OFF(username) },
	{ "user_id", NULL, 1, "OS_USER_ID", NULL, 0, OS_OFF(user_id) },
	{ "user_domain_name", NULL, 1, "OS_USER_DOMAIN_NAME", NULL,
	  offsetof(struct conf, os_user_domain_name),
	  OS_OFF(user_domain_name) },
	{ "user_domain_id", NULL, 1, "OS_USER_DOMAIN_ID", NULL, 0,
	  OS_OFF(user_domain_id) },
	{ "password", NULL, 1, "OS_PASSWORD", NULL,
	  offsetof(struct conf, os_password), OS_OFF(password) },
	{ "project_name", "tenant_name", 1, "OS_PROJECT_NAME",
	  "OS_TENANT_NAME", offsetof(struct conf, os_project_name),
	  OS_OFF(project_name) },
	{ "project_id", "tenant_id", 1, "OS_PROJECT_ID", "OS_TENANT_ID", 0,
	  OS_OFF(project_id) },
	{ "project_domain_name", NULL, 1, "OS_PROJECT_DOMAIN_NAME", NULL,
	  offsetof(struct conf, os_project_domain_name),
	  OS_OFF(project_domain_name) },
	{ "project_domain_id", NULL, 1, "OS_PROJECT_DOMAIN_ID", NULL, 0,
	  OS_OFF(project_domain_id) },
	{ "application_credential_id", NULL, 1,
	  "OS_APPLICATION_CREDENTIAL_ID", NULL,
	  offsetof(struct conf, os_app_cred_id), OS_OFF(app_id) },
	{ "application_credential_name", NULL, 1,
	  "OS_APPLICATION_CREDENTIAL_NAME", NULL, 0, OS_OFF(app_name) },
	{ "application_credential_secret", NULL, 1,
	  "OS_APPLICATION_CREDENTIAL_SECRET", NULL,
	  offsetof(struct conf, os_app_cred_secret), OS_OFF(app_secret) },
	{ "region_name", NULL, 0, "OS_REGION_NAME", NULL,
	  offsetof(struct conf, os_region_name), OS_OFF(region_name) },
	{ "interface", "endpoint_type", 0, "OS_INTERFACE",
	  "OS_ENDPOINT_TYPE", offsetof(struct conf, os_interface),
	  OS_OFF(interface) },
	{ "cacert", NULL, 0, "OS_CACERT", NULL,
	  offsetof(struct conf, os_cacert), OS_OFF(cacert) },
};

/* Headers whose values are secrets. */
static const char *const os_secret_headers[] = {
	"X-Auth-Token", "X-Subject-Token", "X-Service-Token",
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"
};

/* A request waiting for a token. */
struct os_waiter {
	os_grant_cb		 cb;
	void			*arg;
	char			*service;
	char			*iface;
	char			*region;
	struct os_grant		*grant;
	TAILQ_ENTRY(os_waiter)	 entry;
};
TAILQ_HEAD(os_waiters, os_waiter);

/*
 * One credential and its token.  cred never changes once the session
 * exists.  Under os_mtx: cloud (the clouds.yaml name it is found by,
 * forgotten when Keystone refuses it so the file is read again), token,
 * catalog, gen (tokens issued so far), renew_at (monotonic ms),
 * authenticating (a Keystone request is running) and waiters.
 */
struct os_session {
	struct os_cred		*cred;
	char			*cloud;
	char			*token;
	json_t			*catalog;
	uint64_t		 gen;
	int64_t			 renew_at;
	int			 authenticating;
	struct os_waiters	 waiters;
	TAILQ_ENTRY(os_session)	 entry;
};

static pthread_mutex_t			 os_mtx = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, os_session)		 os_sessions =
    TAILQ_HEAD_INITIALIZER(os_sessions);
static struct os_session		*os_default;	/* borad.conf's */

static const struct action_entry os_keystone_entry = {
	.name = "keystone",
	.kind = ACTION_IO
};

static char	*os_clouds_path(const char *, const char *);
static void	 os_merge(json_t *, json_t *);
static int	 os_bool(json_t *, int *);
static int	 os_cred_check(struct os_cred *, char **);
static int	 os_cred_equal(const struct os_cred *, const struct os_cred *);
static struct os_session *os_session_add(struct os_cred *, const char *);
static struct os_grant *os_grant_make(struct os_session *, const char *,
		     const char *, const char *);
static void	 os_session_auth(struct os_session *, struct action_io *);
static void	 os_session_auth_done(void *, int, json_t *);
static char	*os_auth_failure(struct os_session *, json_t *);
static char	*os_cred_who(const struct os_cred *);
static json_t	*os_scrub_string(json_t *, const char *const *);

/* ------------------------------------------------------------------ */
/* Credentials.                                                        */

/*
 * A clouds.yaml or secure.yaml: the file named by env, else the first of
 * ./NAME, $XDG_CONFIG_HOME/openstack/NAME (~/.config/openstack/NAME),
 * /etc/openstack/NAME that exists.  NULL when none does.
 */
static char *
os_clouds_path(const char *name, const char *env)
{
	struct stat	 sb;
	const char	*v, *home;
	char		*p, *dirs[3];
	size_t		 i;

	if ((v = getenv(env)) != NULL && *v != '\0')
		return (xstrdup(v));
	xasprintf(&dirs[0], ".");
	if ((v = getenv("XDG_CONFIG_HOME")) != NULL && *v != '\0')
		xasprintf(&dirs[1], "%s/openstack", v);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		xasprintf(&dirs[1], "%s/.config/openstack", home);
	else
		dirs[1] = xstrdup("/nonexistent");
	dirs[2] = xstrdup("/etc/openstack");
	p = NULL;
	for (i = 0; i < nitems(dirs); i++) {
		if (p == NULL) {
			xasprintf(&p, "%s/%s", dirs[i], name);
			if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode)) {
				free(p);
				p = NULL;
			}
		}
		free(dirs[i]);
	}
	return (p);
}

/* Merge src into dst, objects recursively (secure.yaml over clouds). */
static void
os_merge(json_t *dst, json_t *src)
{
	const char	*key;
	json_t		*v, *d;

	json_object_foreach(src, key, v) {
		d = json_object_get(dst, key);
		if (json_is_object(d) && json_is_object(v))
			os_merge(d, v);
		else
			json_object_set(dst, key, v);
	}
}

/* A boolean of clouds.yaml or the environment; -1 when it is not one. */
static int
os_bool(json_t *v, int *out)
{
	const char	*s;

	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return (0);
	}
	if ((s = json_string_value(v)) == NULL)
		return (-1);
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcmp(s, "1") == 0 || strcasecmp(s, "on") == 0)
		*out = 1;
	else if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
	    strcmp(s, "0") == 0 || strcasecmp(s, "off") == 0)
		*out = 0;
	else
		return (-1);
	return (0);
}

/* A cloud of clouds.yaml, merged with the same cloud of secure.yaml. */
struct os_cred *
os_cred_cloud(const char *file, const char *cloud, char **cause)
{
	struct os_cred	*c = NULL;
	json_t		*doc = NULL, *sec = NULL, *clouds, *entry, *v;
	char		*path, *spath = NULL, *origin, *why;
	const char	*key;
	struct buf	 names;

	*cause = NULL;
	path = file != NULL ? xstrdup(file) :
	    os_clouds_path("clouds.yaml", "OS_CLIENT_CONFIG_FILE");
	if (path == NULL) {
		xasprintf(cause, "cloud '%s': no clouds.yaml in ., "
		    "~/.config/openstack or /etc/openstack (set "
		    "OS_CLIENT_CONFIG_FILE or os-clouds-file)", cloud);
		return (NULL);
	}
	if ((doc = yaml_load_file(path, OS_CLOUDS_MAX, &why)) == NULL) {
		xasprintf(cause, "cloud '%s': %s", cloud, why);
		free(why);
		goto out;
	}
	clouds = json_object_get(doc, "clouds");
	entry = json_object_get(clouds, cloud);
	if (!json_is_object(entry)) {
		buf_init(&names, 0);
		buf_puts(&names, "");
		json_object_foreach(clouds, key, v)
			buf_printf(&names, "%s%s", names.len ? ", " : "", key);
		xasprintf(cause, "%s: no cloud '%s' under clouds:%s%s%s", path,
		    cloud, names.len ? " (it has " : "", names.data,
		    names.len ? ")" : "");
		buf_free(&names);
		goto out;
	}
	entry = json_deep_copy(entry);
	spath = os_clouds_path("secure.yaml", "OS_CLIENT_SECURE_FILE");
	if (spath != NULL) {
		if ((sec = yaml_load_file(spath, OS_CLOUDS_MAX, &why)) ==
		    NULL) {
			xasprintf(cause, "cloud '%s': %s", cloud, why);
			free(why);
			json_decref(entry);
			goto out;
		}
		v = json_object_get(json_object_get(sec, "clouds"), cloud);
		if (json_is_object(v))
			os_merge(entry, v);
	}
	xasprintf(&origin, "cloud '%s' of %s", cloud, path);
	c = os_cred_parse(entry, origin, cause);
	free(origin);
	json_decref(entry);

out:
	json_decref(sec);
	json_decref(doc);
	free(spath);
	free(path);
	return (c);
}

/* A cloud entry: auth: {...}, region_name, interface, cacert, verify. */
struct os_cred *
os_cred_parse(json_t *entry, const char *origin, char **cause)
{
	struct os_cred	*c;
	json_t		*auth, *v;
	size_t		 i;
	int		 b;

	*cause = NULL;
	if (!json_is_object(entry)) {
		xasprintf(cause, "%s: not a mapping", origin);
		return (NULL);
	}
	auth = json_object_get(entry, "auth");
	if (auth != NULL && !json_is_object(auth)) {
		xasprintf(cause, "%s: auth: not a mapping", origin);
		return (NULL);
	}
	c = xcalloc(1, sizeof *c);
	c->origin = xstrdup(origin);
	for (i = 0; i < nitems(os_fields); i++) {
		v = json_object_get(os_fields[i].in_auth ? auth : entry,
		    os_fields[i].key);
		if (v == NULL && os_fields[i].key_alt != NULL)
			v = json_object_get(os_fields[i].in_auth ? auth :
			    entry, os_fields[i].key_alt);
		if (v == NULL || json_is_null(v))
			continue;
		if (json_is_string(v))
			OS_FIELD(c, os_fields[i].off) =
			    xstrdup(json_string_value(v));
		else if (json_is_integer(v))
			xasprintf(&OS_FIELD(c, os_fields[i].off), "%lld",
			    (long long)json_integer_value(v));
		else {
			xasprintf(cause, "%s: %s%s: must be text", origin,
			    os_fields[i].in_auth ? "auth." : "",
			    os_fields[i].key);
			goto fail;
		}
	}
	/* verify: false | true | CA path; insecure: true. */
	v = json_object_get(entry, "verify");
	if (json_is_string(v) && os_bool(v, &b) != 0) {
		free(c->cacert);
		c->cacert = xstrdup(json_string_value(v));
	} else if (v != NULL && !json_is_null(v)) {
		if (os_bool(v, &b) != 0) {
			xasprintf(cause, "%s: verify: must be true, false or "
			    "a CA file", origin);
			goto fail;
		}
		c->insecure = !b;
	}
	v = json_object_get(entry, "insecure");
	if (v != NULL && !json_is_null(v)) {
		if (os_bool(v, &b) != 0) {
			xasprintf(cause, "%s: insecure: must be true or false",
			    origin);
			goto fail;
		}
		c->insecure = b;
	}
	v = json_object_get(entry, "identity_api_version");
	if (v != NULL && !json_is_null(v) &&
	    !(json_is_integer(v) && json_integer_value(v) == 3) &&
	    !(json_is_real(v) && json_real_value(v) == 3.0) &&
	    !(json_is_string(v) && strcmp(json_string_value(v), "3") == 0)) {
		xasprintf(cause, "%s: identity_api_version: only 3 is "
		    "supported", origin);
		goto fail;
	}
	if (os_cred_check(c, cause) != 0)
		goto fail;
	return (c);

fail:
	os_cred_free(c);
	return (NULL);
}

/* From the OS_* variables, as the openstack client reads them. */
struct os_cred *
os_cred_env(char **cause)
{
	struct os_cred	*c;
	json_t		*s;
	const char	*v;
	size_t		 i;
	int		 b;

	*cause = NULL;
	if ((v = getenv("OS_AUTH_URL")) == NULL || *v == '\0') {
		xasprintf(cause, "no OpenStack credentials: set os-cloud or "
		    "os-auth-url in borad.conf, OS_CLOUD (a clouds.yaml "
		    "entry) or OS_AUTH_URL and the other OS_* variables, or "
		    "name a cloud in the action's 'cloud' input");
		return (NULL);
	}
	c = xcalloc(1, sizeof *c);
	c->origin = xstrdup("the OS_* environment");
	for (i = 0; i < nitems(os_fields); i++) {
		v = getenv(os_fields[i].env);
		if ((v == NULL || *v == '\0') && os_fields[i].env_alt != NULL)
			v = getenv(os_fields[i].env_alt);
		if (v != NULL && *v != '\0')
			OS_FIELD(c, os_fields[i].off) = xstrdup(v);
	}
	if ((v = getenv("OS_INSECURE")) != NULL && *v != '\0') {
		s = json_string(v);
		if (s == NULL || os_bool(s, &b) != 0) {
			json_decref(s);
			xasprintf(cause, "OS_INSECURE: must be true or false");
			os_cred_free(c);
			return (NULL);
		}
		json_decref(s);
		c->insecure = b;
	}
	if (os_cred_check(c, cause) != 0) {
		os_cred_free(c);
		return (NULL);
	}
	return (c);
}

/* Whether the credential is complete for its authentication type. */
static int
os_cred_check(struct os_cred *c, char **cause)
{
	const char	*t = c->auth_type;
	int		 app;

	if (c->auth_url == NULL || *c->auth_url == '\0') {
		xasprintf(cause, "%s: no auth URL (auth_url)", c->origin);
		return (-1);
	}
	if (strncmp(c->auth_url, "http://", 7) != 0 &&
	    strncmp(c->auth_url, "https://", 8) != 0) {
		xasprintf(cause, "%s: auth_url must be an http:// or https:// "
		    "URL, not '%s'", c->origin, c->auth_url);
		return (-1);
	}
	if (t == NULL)
		app = c->app_secret != NULL;
	else if (strcmp(t, "password") == 0 || strcmp(t, "v3password") == 0)
		app = 0;
	else if (strcmp(t, "v3applicationcredential") == 0 ||
	    strcmp(t, "applicationcredential") == 0 ||
	    strcmp(t, "application_credential") == 0)
		app = 1;
	else {
		xasprintf(cause, "%s: auth_type '%s' is not supported "
		    "(password or v3applicationcredential)", c->origin, t);
		return (-1);
	}
	free(c->auth_type);
	c->auth_type = xstrdup(app ? "v3applicationcredential" : "password");
	if (app) {
		if (c->app_secret == NULL) {
			xasprintf(cause, "%s: no application_credential_secret",
			    c->origin);
			return (-1);
		}
		if (c->app_id == NULL && (c->app_name == NULL ||
		    (c->username == NULL && c->user_id == NULL))) {
			xasprintf(cause, "%s: an application credential needs "
			    "application_credential_id, or its name and the "
			    "user's username or user_id", c->origin);
			return (-1);
		}
		return (0);
	}
	if (c->username == NULL && c->user_id == NULL) {
		xasprintf(cause, "%s: no username nor user_id", c->origin);
		return (-1);
	}
	if (c->password == NULL) {
		xasprintf(cause, "%s: no password", c->origin);
		return (-1);
	}
	return (0);
}

/* Free a credential; NULL is a no-op. */
void
os_cred_free(struct os_cred *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < nitems(os_fields); i++)
		free(OS_FIELD(c, os_fields[i].off));
	free(c->origin);
	free(c);
}

/* Same identity, secret, scope and endpoint choice. */
static int
os_cred_equal(const struct os_cred *a, const struct os_cred *b)
{
	const char	*x, *y;
	size_t		 i;

	for (i = 0; i < nitems(os_fields); i++) {
		x = OS_FIELD(a, os_fields[i].off);
		y = OS_FIELD(b, os_fields[i].off);
		if ((x == NULL) != (y == NULL) ||
		    (x != NULL && strcmp(x, y) != 0))
			return (0);
	}
	return (a->insecure == b->insecure);
}

/* {"name": n, "domain": ...} or {"id": i}: a user or project. */
static json_t *
os_body_named(const char *id, const char *name, const char *dom_id,
    const char *dom_name)
{
	if (id != NULL)
		return (json_pack("{s:s}", "id", id));
	if (dom_id != NULL)
		return (json_pack("{s:s,s:{s:s}}", "name", name, "domain",
		    "id", dom_id));
	if (dom_name != NULL)
		return (json_pack("{s:s,s:{s:s}}", "name", name, "domain",
		    "name", dom_name));
	return (json_pack("{s:s,s:{s:s}}", "name", name, "domain", "id",
	    "default"));
}

/* The body of POST /v3/auth/tokens for this credential. */
json_t *
os_cred_auth_body(const struct os_cred *c)
{
	json_t	*id, *user, *scope = NULL, *app;

	if (strcmp(c->auth_type, "v3applicationcredential") == 0) {
		if (c->app_id != NULL)
			app = json_pack("{s:s,s:s}", "id", c->app_id,
			    "secret", c->app_secret);
		else {
			user = os_body_named(c->user_id, c->username,
			    c->user_domain_id, c->user_domain_name);
			app = json_pack("{s:s,s:o,s:s}", "name", c->app_name,
			    "user", user, "secret", c->app_secret);
		}
		id = json_pack("{s:[s],s:o}", "methods",
		    "application_credential", "application_credential", app);
		return (json_pack("{s:{s:o}}", "auth", "identity", id));
	}
	user = os_body_named(c->user_id, c->username, c->user_domain_id,
	    c->user_domain_name);
	json_object_set_new(user, "password", json_string(c->password));
	id = json_pack("{s:[s],s:{s:o}}", "methods", "password", "password",
	    "user", user);
	if (c->project_id != NULL || c->project_name != NULL)
		scope = json_pack("{s:o}", "project", os_body_named(
		    c->project_id, c->project_name, c->project_domain_id,
		    c->project_domain_name));
	if (scope == NULL)
		return (json_pack("{s:{s:o}}", "auth", "identity", id));
	return (json_pack("{s:{s:o,s:o}}", "auth", "identity", id, "scope",
	    scope));
}

/* The token URL: .../v3/auth/tokens, adding v3 unless it is there. */
char *
os_cred_token_url(const struct os_cred *c)
{
	char	*base, *url;
	size_t	 len;

	base = xstrdup(c->auth_url);
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		base[--len] = '\0';
	if (len >= 5 && strcmp(base + len - 5, "/v2.0") == 0)
		base[len -= 5] = '\0';
	if (len >= 3 && strcmp(base + len - 3, "/v3") == 0)
		xasprintf(&url, "%s/auth/tokens", base);
	else
		xasprintf(&url, "%s/v3/auth/tokens", base);
	free(base);
	return (url);
}

/* "user 'admin', project 'admin'": who, without any secret. */
static char *
os_cred_who(const struct os_cred *c)
{
	char	*s;

	if (strcmp(c->auth_type, "v3applicationcredential") == 0) {
		xasprintf(&s, "application credential '%s'",
		    c->app_id != NULL ? c->app_id : c->app_name);
		return (s);
	}
	xasprintf(&s, "user '%s'%s%s%s", c->username != NULL ? c->username :
	    c->user_id, c->project_name != NULL || c->project_id != NULL ?
	    ", project '" : "", c->project_name != NULL ? c->project_name :
	    c->project_id != NULL ? c->project_id : "",
	    c->project_name != NULL || c->project_id != NULL ? "'" : "");
	return (s);
}

/* borad.conf: a clouds.yaml entry, or the credential itself. */
int
action_os_configure(const struct conf *conf, char **cause)
{
	struct os_cred	*c;
	const char	*v;
	size_t		 i;

	*cause = NULL;
	if (conf->os_cloud != NULL) {
		if ((c = os_cred_cloud(conf->os_clouds_file, conf->os_cloud,
		    cause)) == NULL)
			return (-1);
	} else if (conf->os_auth_url != NULL) {
		c = xcalloc(1, sizeof *c);
		c->origin = xstrdup("borad.conf");
	} else {
		pthread_mutex_lock(&os_mtx);
		os_default = NULL;
		pthread_mutex_unlock(&os_mtx);
		return (0);
	}
	/* The os-* options given override the cloud's. */
	for (i = 0; i < nitems(os_fields); i++) {
		if (os_fields[i].conf_off == 0)
			continue;
		v = *(char *const *)((const char *)conf +
		    os_fields[i].conf_off);
		if (v == NULL)
			continue;
		free(OS_FIELD(c, os_fields[i].off));
		OS_FIELD(c, os_fields[i].off) = xstrdup(v);
	}
	if (conf->os_insecure)
		c->insecure = 1;
	if (os_cred_check(c, cause) != 0) {
		os_cred_free(c);
		return (-1);
	}
	pthread_mutex_lock(&os_mtx);
	os_default = os_session_add(c, NULL);
	pthread_mutex_unlock(&os_mtx);
	return (0);
}

/* ------------------------------------------------------------------ */
/* The catalog.                                                        */

/* The URL of a service type's endpoint for an interface and region. */
char *
os_catalog_url(json_t *catalog, const char *type, const char *iface,
    const char *region, char **cause)
{
	json_t		*svc, *ep;
	const char	*t, *i, *r, *rid, *url;
	char		 want[32];
	size_t		 k, n, len;
	struct buf	 seen;

	*cause = NULL;
	if (iface == NULL || *iface == '\0')
		iface = "public";
	/* publicURL, internalURL, adminURL: the v2 names. */
	len = strlen(iface);
	if (len > 3 && len < sizeof want &&
	    strcmp(iface + len - 3, "URL") == 0) {
		memcpy(want, iface, len - 3);
		want[len - 3] = '\0';
		iface = want;
	}
	buf_init(&seen, 0);
	buf_puts(&seen, "");
	json_array_foreach(catalog, k, svc) {
		t = json_string_value(json_object_get(svc, "type"));
		if (t == NULL || strcmp(t, type) != 0)
			continue;
		json_array_foreach(json_object_get(svc, "endpoints"), n, ep) {
			i = json_string_value(json_object_get(ep,
			    "interface"));
			r = json_string_value(json_object_get(ep, "region"));
			rid = json_string_value(json_object_get(ep,
			    "region_id"));
			url = json_string_value(json_object_get(ep, "url"));
			if (i == NULL || url == NULL)
				continue;
			buf_printf(&seen, "%s%s%s%s", seen.len ? ", " : "", i,
			    rid != NULL || r != NULL ? " in " : "",
			    rid != NULL ? rid : r != NULL ? r : "");
			if (strcmp(i, iface) != 0)
				continue;
			if (region != NULL && *region != '\0' &&
			    (rid == NULL || strcmp(rid, region) != 0) &&
			    (r == NULL || strcmp(r, region) != 0))
				continue;
			buf_free(&seen);
			return (xstrdup(url));
		}
		xasprintf(cause, "the catalog has no %s endpoint of '%s'%s%s"
		    " (it has: %s)", iface, type, region != NULL &&
		    *region != '\0' ? " in region " : "", region != NULL ?
		    region : "", seen.len ? seen.data : "no endpoint");
		buf_free(&seen);
		return (NULL);
	}
	json_array_foreach(catalog, k, svc) {
		t = json_string_value(json_object_get(svc, "type"));
		if (t != NULL)
			buf_printf(&seen, "%s%s", seen.len ? ", " : "", t);
	}
	xasprintf(cause, "the catalog has no service of type '%s' (it has: "
	    "%s)", type, seen.len ? seen.data : "nothing");
	buf_free(&seen);
	return (NULL);
}

/* ------------------------------------------------------------------ */
/* Sessions.                                                           */

/* Add a session for c (taken), found by cloud name (os_mtx held). */
static struct os_session *
os_session_add(struct os_cred *c, const char *cloud)
{
	struct os_session	*s;

	s = xcalloc(1, sizeof *s);
	s->cred = c;
	s->cloud = cloud != NULL ? xstrdup(cloud) : NULL;
	TAILQ_INIT(&s->waiters);
	TAILQ_INSERT_TAIL(&os_sessions, s, entry);
	return (s);
}

/* The session of a cloud, or of the default credentials. */
struct os_session *
os_session_find(const char *cloud, char **cause)
{
	struct os_session	*s;
	struct os_cred		*c;
	const char		*env;

	*cause = NULL;
	if (cloud != NULL && *cloud == '\0')
		cloud = NULL;
	pthread_mutex_lock(&os_mtx);
	if (cloud == NULL && os_default != NULL) {
		s = os_default;
		pthread_mutex_unlock(&os_mtx);
		return (s);
	}
	pthread_mutex_unlock(&os_mtx);
	if (cloud == NULL && (env = getenv("OS_CLOUD")) != NULL &&
	    *env != '\0')
		cloud = env;

	if (cloud != NULL) {
		pthread_mutex_lock(&os_mtx);
		TAILQ_FOREACH(s, &os_sessions, entry) {
			if (s->cloud != NULL && strcmp(s->cloud, cloud) == 0) {
				pthread_mutex_unlock(&os_mtx);
				return (s);
			}
		}
		pthread_mutex_unlock(&os_mtx);
		c = os_cred_cloud(NULL, cloud, cause);
	} else
		c = os_cred_env(cause);
	if (c == NULL)
		return (NULL);

	pthread_mutex_lock(&os_mtx);
	TAILQ_FOREACH(s, &os_sessions, entry) {
		if (os_cred_equal(s->cred, c)) {
			if (cloud != NULL && s->cloud == NULL)
				s->cloud = xstrdup(cloud);
			pthread_mutex_unlock(&os_mtx);
			os_cred_free(c);
			return (s);
		}
	}
	s = os_session_add(c, cloud);
	pthread_mutex_unlock(&os_mtx);
	return (s);
}

/* Tokens issued to the session so far. */
uint64_t
os_session_generation(struct os_session *s)
{
	uint64_t	gen;

	pthread_mutex_lock(&os_mtx);
	gen = s->gen;
	pthread_mutex_unlock(&os_mtx);
	return (gen);
}

/*
 * A grant of the current token for a service (os_mtx held).  The
 * identity service falls back to the auth URL when the catalog has no
 * identity endpoint.
 */
static struct os_grant *
os_grant_make(struct os_session *s, const char *service, const char *iface,
    const char *region)
{
	struct os_grant	*g;
	char		*cause, *base;
	size_t		 len;

	g = xcalloc(1, sizeof *g);
	g->gen = s->gen;
	g->verify = !s->cred->insecure;
	g->cacert = s->cred->cacert != NULL ? xstrdup(s->cred->cacert) :
	    NULL;
	g->url = os_catalog_url(s->catalog, service, iface != NULL ? iface :
	    s->cred->interface, region != NULL ? region :
	    s->cred->region_name, &cause);
	if (g->url == NULL && strcmp(service, "identity") == 0) {
		free(cause);
		cause = NULL;
		base = xstrdup(s->cred->auth_url);
		len = strlen(base);
		while (len > 0 && base[len - 1] == '/')
			base[--len] = '\0';
		if (len >= 3 && strcmp(base + len - 3, "/v3") == 0)
			base[len - 3] = '\0';
		g->url = base;
	}
	if (g->url == NULL) {
		xasprintf(&g->error, "%s: %s", s->cred->origin, cause);
		free(cause);
		return (g);
	}
	g->token = xstrdup(s->token);
	return (g);
}

/* Free a grant; NULL is a no-op. */
void
os_grant_free(struct os_grant *g)
{
	if (g == NULL)
		return;
	free(g->token);
	free(g->url);
	free(g->error);
	free(g->cacert);
	free(g);
}

/* Hand out the current token, or queue for the next one. */
void
os_session_use(struct os_session *s, struct action_io *io,
    const char *service, const char *iface, const char *region,
    os_grant_cb cb, void *arg)
{
	struct os_waiter	*w;
	struct os_grant		*g;
	int			 start;

	pthread_mutex_lock(&os_mtx);
	if (s->token != NULL && time_mono_ms() < s->renew_at) {
		g = os_grant_make(s, service, iface, region);
		pthread_mutex_unlock(&os_mtx);
		cb(arg, g);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->cb = cb;
	w->arg = arg;
	w->service = xstrdup(service);
	w->iface = iface != NULL ? xstrdup(iface) : NULL;
	w->region = region != NULL ? xstrdup(region) : NULL;
	TAILQ_INSERT_TAIL(&s->waiters, w, entry);
	start = !s->authenticating;
	s->authenticating = 1;
	pthread_mutex_unlock(&os_mtx);
	if (start)
		os_session_auth(s, io);
}

/* A 401 to token gen: forget it unless a newer one replaced it. */
void
os_session_reject(struct os_session *s, uint64_t gen)
{
	pthread_mutex_lock(&os_mtx);
	if (s->gen == gen && s->token != NULL) {
		free(s->token);
		s->token = NULL;
		log_debug("OpenStack token of %s refused by a service; "
		    "authenticating again", s->cred->origin);
	}
	pthread_mutex_unlock(&os_mtx);
}

/* Ask Keystone for a token, on the I/O loop. */
static void
os_session_auth(struct os_session *s, struct action_io *io)
{
	json_t	*in;
	char	*url;

	url = os_cred_token_url(s->cred);
	in = json_pack("{s:s,s:s,s:o,s:b,s:i,s:{s:s}}", "url", url, "method",
	    "POST", "json", os_cred_auth_body(s->cred), "allow_redirects", 0,
	    "timeout", OS_AUTH_TIMEOUT, "headers", "Accept",
	    "application/json");
	if (s->cred->cacert != NULL)
		json_object_set_new(in, "verify",
		    json_string(s->cred->cacert));
	else
		json_object_set_new(in, "verify",
		    json_boolean(!s->cred->insecure));
	free(url);
	log_debug("OpenStack: authenticating %s", s->cred->origin);
	action_http_start(&os_keystone_entry, in, io, os_session_auth_done,
	    s);
	json_decref(in);
}

/* A header's value, its name compared without case; NULL if absent. */
const char *
os_header(json_t *headers, const char *name)
{
	const char	*key;
	json_t		*v;

	json_object_foreach(headers, key, v) {
		if (strcasecmp(key, name) == 0)
			return (json_string_value(v));
	}
	return (NULL);
}

/* Why Keystone said no, with who asked and never a secret. */
static char *
os_auth_failure(struct os_session *s, json_t *res)
{
	const char	*secrets[] = { s->cred->password, s->cred->app_secret,
			    NULL };
	json_t		*content, *err;
	const char	*msg = NULL, *reason;
	char		*who, *text, *clean;
	long long	 status;

	if (json_is_string(res)) {
		xasprintf(&text, "cannot authenticate %s: %s", s->cred->origin,
		    json_string_value(res));
		goto out;
	}
	status = json_integer_value(json_object_get(res, "status"));
	reason = json_string_value(json_object_get(res, "reason"));
	content = json_object_get(res, "content");
	err = json_object_get(content, "error");
	msg = json_string_value(json_object_get(err, "message"));
	if (msg == NULL)
		msg = json_string_value(content);
	who = os_cred_who(s->cred);
	if (status == 201 || status == 200)
		xasprintf(&text, "Keystone answered %lld without a token "
		    "(X-Subject-Token) for %s", status, s->cred->origin);
	else
		xasprintf(&text, "Keystone refused %s (%s): %lld%s%s%s%s",
		    s->cred->origin, who, status, reason != NULL &&
		    *reason != '\0' ? " " : "", reason != NULL ? reason : "",
		    msg != NULL && *msg != '\0' ? ": " : "", msg != NULL ?
		    msg : "");
	free(who);
out:
	clean = os_scrub(text, secrets);
	free(text);
	return (clean);
}

/*
 * Keystone answered (on the I/O thread, or at once if the request
 * could not be made): keep the token and catalog, or the reason there
 * are none, and answer every queued request.
 */
static void
os_session_auth_done(void *arg, int ok, json_t *res)
{
	struct os_session	*s = arg;
	struct os_waiters	 ready;
	struct os_waiter	*w;
	json_t			*tok, *catalog = NULL;
	const char		*token = NULL, *exp, *iss;
	char			*error = NULL;
	int64_t			 expires = 0, issued = 0, life, margin;
	long long		 status;

	status = json_integer_value(json_object_get(res, "status"));
	tok = json_object_get(json_object_get(res, "content"), "token");
	if (json_is_object(res) && (status == 201 || status == 200))
		token = os_header(json_object_get(res, "headers"),
		    "X-Subject-Token");
	if (token == NULL || *token == '\0')
		error = os_auth_failure(s, res);
	else {
		catalog = json_object_get(tok, "catalog");
		catalog = json_is_array(catalog) ? json_deep_copy(catalog) :
		    json_array();
		exp = json_string_value(json_object_get(tok, "expires_at"));
		iss = json_string_value(json_object_get(tok, "issued_at"));
		if (exp == NULL || time_parse_iso(exp, &expires) != 0)
			expires = 0;
		if (iss == NULL || time_parse_iso(iss, &issued) != 0)
			issued = time_now_ms();
	}

	pthread_mutex_lock(&os_mtx);
	if (error == NULL) {
		free(s->token);
		s->token = xstrdup(token);
		json_decref(s->catalog);
		s->catalog = catalog;
		s->gen++;
		life = expires != 0 ? expires - issued : OS_DEFAULT_LIFE_MS;
		if (life < 0)
			life = 0;
		margin = life / 10 < OS_RENEW_MARGIN_MS ? life / 10 :
		    OS_RENEW_MARGIN_MS;
		s->renew_at = time_mono_ms() + life - margin;
		log_debug("OpenStack: token %llu for %s, valid %lld s",
		    (unsigned long long)s->gen, s->cred->origin,
		    (long long)(life / 1000));
	} else {
		free(s->token);
		s->token = NULL;
		/* Read clouds.yaml again next time: it may be fixed. */
		free(s->cloud);
		s->cloud = NULL;
		log_warnx("OpenStack: %s", error);
	}
	TAILQ_INIT(&ready);
	TAILQ_CONCAT(&ready, &s->waiters, entry);
	s->authenticating = 0;
	TAILQ_FOREACH(w, &ready, entry) {
		if (error == NULL)
			w->grant = os_grant_make(s, w->service, w->iface,
			    w->region);
		else {
			w->grant = xcalloc(1, sizeof *w->grant);
			w->grant->error = xstrdup(error);
		}
	}
	pthread_mutex_unlock(&os_mtx);

	while ((w = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, w, entry);
		w->cb(w->arg, w->grant);
		free(w->service);
		free(w->iface);
		free(w->region);
		free(w);
	}
	free(error);
	json_decref(res);
}

/* ------------------------------------------------------------------ */
/* Keeping secrets out.                                                */

/* Mask the values of the headers that carry secrets. */
void
os_redact_headers(json_t *headers)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach(headers, key, v) {
		for (i = 0; i < nitems(os_secret_headers); i++) {
			if (strcasecmp(key, os_secret_headers[i]) == 0) {
				json_object_set_new(headers, key,
				    json_string("***"));
				break;
			}
		}
	}
}

/* text with every secret replaced by "***". */
char *
os_scrub(const char *text, const char *const *secrets)
{
	struct buf	 b;
	const char	*p, *hit, *best;
	size_t		 i, blen = 0;

	buf_init(&b, 0);
	buf_puts(&b, "");
	p = text;
	for (;;) {
		best = NULL;
		for (i = 0; secrets != NULL && secrets[i] != NULL; i++) {
			if (*secrets[i] == '\0')
				continue;
			hit = strstr(p, secrets[i]);
			if (hit != NULL && (best == NULL || hit < best)) {
				best = hit;
				blen = strlen(secrets[i]);
			}
		}
		if (best == NULL)
			break;
		buf_add(&b, p, best - p);
		buf_puts(&b, "***");
		p = best + blen;
	}
	buf_puts(&b, p);
	return (buf_take(&b));
}

/* A scrubbed copy of a string value, or NULL when it holds no secret. */
static json_t *
os_scrub_string(json_t *v, const char *const *secrets)
{
	json_t	*out = NULL;
	char	*clean;

	clean = os_scrub(json_string_value(v), secrets);
	if (strcmp(clean, json_string_value(v)) != 0)
		out = json_string(clean);
	free(clean);
	return (out);
}

/* Scrub every string of v in place (object keys are left alone). */
void
os_scrub_json(json_t *v, const char *const *secrets)
{
	const char	*key;
	json_t		*item, *clean;
	size_t		 i;

	json_object_foreach(v, key, item) {
		if (!json_is_string(item))
			os_scrub_json(item, secrets);
		else if ((clean = os_scrub_string(item, secrets)) != NULL)
			json_object_set_new(v, key, clean);
	}
	json_array_foreach(v, i, item) {
		if (!json_is_string(item))
			os_scrub_json(item, secrets);
		else if ((clean = os_scrub_string(item, secrets)) != NULL)
			json_array_set_new(v, i, clean);
	}
}
