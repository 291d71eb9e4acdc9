/*
 * actions-int.h -- shared by the files of the actions module only: the
 * built-in entries, the helpers they use to read their input, and the
 * transfer interface between std.http and the I/O loop.
 */
#ifndef ACTIONS_INT_H
#define ACTIONS_INT_H

#include <sys/queue.h>

#include <stdint.h>

#include "actions/actions.h"
#include "dl/dl.h"

/* Default cap on an HTTP response body (struct buf max). */
#define ACTION_HTTP_MAX_BODY	(16 * 1024 * 1024)
/* Default cap on concurrent transfers when action_io_start gets 0. */
#define ACTION_IO_MAX_INFLIGHT	512

/*
 * One curl transfer handed to the I/O loop.  The loop adds easy to its
 * multi handle (queueing past max_inflight), and when the transfer ends
 * removes it and calls finish on the I/O thread, exactly once: with
 * curl's result, or with stopping set when the loop stops first.
 * finish owns the transfer from then on: it completes the action and
 * frees everything, the easy handle included.
 */
struct action_xfer {
	CURL			*easy;
	void			(*finish)(struct action_xfer *, CURLcode,
				    int stopping);
	struct action_io	*io;	/* set by action_io_submit */
	TAILQ_ENTRY(action_xfer) entry;		/* owned by the loop */
};

/*
 * A job of the loop driven by a socket of its own (std.ssh).  The loop
 * calls step on its thread: first when the job starts, then whenever fd
 * is ready for events (POLLIN, POLLOUT), and when due (monotonic ms; 0
 * for none) has come.  step does what it can without blocking, with
 * revents saying what the socket is ready for (0 when called for its
 * time or first); it returns 1 to be called again, having set fd (-1:
 * none), events and due, or 0 when the job is over: it has completed
 * its action and freed itself.  With stopping set it must complete
 * with an error and return 0.
 */
struct action_job {
	int			 fd;
	short			 events;
	int64_t			 due;
	int			(*step)(struct action_job *, short revents,
				    int stopping);
	struct action_io	*io;	/* set by action_io_submit_job */
	TAILQ_ENTRY(action_job)	 entry;		/* owned by the loop */
};

/* actions-io.c */
/* Hand a transfer to the loop; may finish at once if it is stopping. */
void	 action_io_submit(struct action_io *, struct action_xfer *);
/* Hand a job to the loop; it may end at once if the loop is stopping. */
void	 action_io_submit_job(struct action_io *, struct action_job *);
/*
 * Run fn(arg) on a thread of its own, for what must block (a name
 * lookup); action_io_stop waits for it.  -1 and *cause if the loop is
 * stopping or no thread can be made: fn does not run then.
 */
int	 action_io_offload(struct action_io *, void (*fn)(void *), void *arg,
	     char **cause);
/* The loop's response body cap. */
size_t	 action_io_max_body(struct action_io *);
/*
 * TLS checks of a transfer from a "verify" input, as python-requests
 * takes it: true or absent (check), false (do not), or a CA file.
 */
void	 action_xfer_verify(CURL *, json_t *verify);

/* actions.c: reading prepared input. */
/* Seconds (number or numeric string, >= 0) to ms; -1 + *cause else. */
int	 action_arg_seconds(json_t *input, const char *key, int64_t *ms,
	     char **cause);
/* A string argument or NULL when absent or null. */
const char *action_arg_string(json_t *input, const char *key);
/* A flag: booleans, 0/1, "true"/"false"/"yes"/"no"; def otherwise. */
int	 action_arg_bool(json_t *v, int def);
/* Text as a JSON string, invalid UTF-8 replaced by U+FFFD. */
json_t	*action_text(const char *, size_t);
/*
 * Whether an action that waits can start: an I/O loop is there and
 * load (dl_curl_load, dl_ssh_load) succeeds; else it is completed with
 * the reason and 0 is returned.
 */
int	 action_can_start(const struct action_entry *, struct action_io *,
	     int (*load)(char **), action_done_cb, void *arg);
/* Complete with ok = 0 and "name: cause", freeing cause. */
void	 action_fail_cause(const struct action_entry *, action_done_cb,
	     void *arg, char *cause);
/* Complete with ok = 0 and a string error, freeing msg. */
void	 action_fail_new(action_done_cb, void *arg, char *msg);

/* actions-std.c */
extern const struct action_entry action_std_noop_entry;
extern const struct action_entry action_std_echo_entry;
extern const struct action_entry action_std_fail_entry;
extern const struct action_entry action_std_sleep_entry;
extern const struct action_entry action_std_lua_entry;
extern const struct action_entry action_std_async_noop_entry;
extern const struct action_entry action_std_test_dict_entry;

/* actions-http.c */
extern const struct action_entry action_std_http_entry;
extern const struct action_entry action_std_mistral_http_entry;

/*
 * std.http's request for another action (os.request, Keystone): input
 * as std.http takes it; messages carry as->name.  done gets std.http's
 * result object for any HTTP status (ok is 1 for 200..399), or a string
 * for a transport error.
 */
void	 action_http_start(const struct action_entry *as, json_t *input,
	     struct action_io *, action_done_cb, void *arg);

/* actions-os.c */
extern const struct action_entry action_os_request_entry;

/*
 * actions-os-auth.c: OpenStack credentials, one Keystone token per
 * credential shared by the whole process, and the service catalog.
 */

/*
 * One Keystone identity and how to reach the services: a password
 * (user and project, each by name + domain or by id) or an application
 * credential (id, or name + user), region, interface and TLS.  origin
 * says where it came from, for messages.  Secrets: password, app_secret.
 */
struct os_cred {
	char	*origin;
	char	*auth_url;
	char	*auth_type;
	char	*username;
	char	*user_id;
	char	*user_domain_name;
	char	*user_domain_id;
	char	*password;
	char	*project_name;
	char	*project_id;
	char	*project_domain_name;
	char	*project_domain_id;
	char	*app_id;
	char	*app_name;
	char	*app_secret;
	char	*region_name;
	char	*interface;
	char	*cacert;
	int	 insecure;
};

/*
 * What os_session_use hands a request: a token and the endpoint of the
 * service asked for, or why there is none.  gen tells which token a
 * 401 was answered to (os_session_reject).  The callee frees it.
 */
struct os_grant {
	char		*token;
	char		*url;
	char		*error;
	uint64_t	 gen;
	int		 verify;	/* verify TLS */
	char		*cacert;
};
typedef void (*os_grant_cb)(void *arg, struct os_grant *);

struct os_session;

/* A cloud of clouds.yaml (file NULL: the usual places); NULL + *cause. */
struct os_cred	*os_cred_cloud(const char *file, const char *cloud,
		     char **cause);
/* A cloud entry already read (clouds.<name> of a clouds.yaml). */
struct os_cred	*os_cred_parse(json_t *entry, const char *origin,
		     char **cause);
/* From OS_AUTH_URL and the other OS_* variables; NULL + *cause. */
struct os_cred	*os_cred_env(char **cause);
void		 os_cred_free(struct os_cred *);
/* Keystone's POST /v3/auth/tokens body (holds the secret). */
json_t		*os_cred_auth_body(const struct os_cred *);
/* "http://ks/identity/v3/auth/tokens". */
char		*os_cred_token_url(const struct os_cred *);

/*
 * The URL of a service from a token's catalog: type ("compute"),
 * interface ("public", "internalURL" ...; NULL public), region (NULL
 * any).  NULL + *cause naming what the catalog has.
 */
char		*os_catalog_url(json_t *catalog, const char *type,
		     const char *iface, const char *region, char **cause);

/*
 * The session of a clouds.yaml entry, or with cloud NULL of the
 * process's default credentials (borad.conf, OS_CLOUD, OS_*).  Sessions
 * live as long as the process.  NULL + *cause.
 */
struct os_session *os_session_find(const char *cloud, char **cause);
/*
 * Get a token and the service's endpoint: at once when the session has
 * one that is not due for renewal, else after authenticating (one
 * Keystone request at a time per session, on the I/O loop).  cb runs on
 * the calling thread or on the I/O thread.  iface/region NULL: the
 * credential's.
 */
void		 os_session_use(struct os_session *, struct action_io *,
		     const char *service, const char *iface,
		     const char *region, os_grant_cb cb, void *arg);
/* A service answered 401 to token gen: drop it, if it is still ours. */
void		 os_session_reject(struct os_session *, uint64_t gen);
/* Tokens issued so far for the session (for tests and logs). */
uint64_t	 os_session_generation(struct os_session *);
void		 os_grant_free(struct os_grant *);

/* A header of std.http's result, the name compared without case. */
const char	*os_header(json_t *headers, const char *name);
/* Replace the values of X-Auth-Token, X-Subject-Token ... by "***". */
void		 os_redact_headers(json_t *headers);
/* Replace each secret (NULL-terminated list) in every string of v. */
void		 os_scrub_json(json_t *v, const char *const *secrets);
/* text with each secret replaced by "***" (caller frees). */
char		*os_scrub(const char *text, const char *const *secrets);

/* actions-masakari.c */
extern const struct action_entry action_masakari_take_entry;

/* actions-email.c */
extern const struct action_entry action_std_email_entry;

/* actions-ssh.c */
extern const struct action_entry action_std_ssh_entry;

/* actions-js.c */
extern const struct action_entry action_std_javascript_entry;
extern const struct action_entry action_std_js_entry;

#endif /* ACTIONS_INT_H */
