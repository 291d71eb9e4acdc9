/*
 * conf.h -- borad's configuration: one declarative option table, read
 * from a YAML file (-f), BORA_<NAME> environment variables and command
 * line flags, in that order of increasing precedence; and where bora's
 * data folders are.
 *
 * Ownership: a struct conf owns its strings and lists; conf_free()
 * releases them.  Lookups return borrowed pointers.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum conf_type {
	CONF_STRING = 0,	/* text; "" or null unsets */
	CONF_LIST,		/* repeatable text (flags repeat, YAML list) */
	CONF_INT,		/* integer within [min, max] */
	CONF_BOOL,		/* true/false, yes/no, on/off, 1/0 */
	CONF_DURATION,		/* "250ms", "10s", "5m"; a number is seconds;
				   "-1" (never) when the minimum is -1 */
	CONF_SIZE		/* bytes: "512", "64k", "4m", "1g" */
};

/* Where a value came from; a later source replaces an earlier one. */
enum conf_source {
	CONF_SRC_DEFAULT = 0,
	CONF_SRC_FILE,
	CONF_SRC_ENV,
	CONF_SRC_FLAG
};

/* A string list (CONF_LIST). */
struct conf_list {
	char	**v;
	size_t	  n;
};

/*
 * Every option's value.  Durations are milliseconds, sizes bytes.  The
 * fields are filled from conf_options[] through their offsets, so a new
 * option is one field here and one row in the table.
 */
struct conf {
	char			*db;
	char			*listen;
	struct conf_list	 workflows;
	struct conf_list	 actions;
	char			*lua;
	char			*api_token;
	struct conf_list	 alarm_auth;
	char			*callback_url;
	char			*engine_id;
	int64_t			 grace_ms;
	int64_t			 lease_ms;
	int64_t			 poll_ms;
	int64_t			 max_inflight;
	int64_t			 resume;
	int64_t			 http_threads;
	int64_t			 http_max_connections;
	int64_t			 http_timeout_ms;
	int64_t			 http_max_body;
	int64_t			 http_max_definition;
	int64_t			 http_max_header;
	int64_t			 http_request_timeout_ms;
	int64_t			 http_max_client_connections;
	int64_t			 http_reserve_connections;
	int64_t			 expr_max_instructions;
	int64_t			 expr_max_memory;
	int64_t			 alarm_max_events;
	int64_t			 alarm_max_depth;
	int64_t			 expr_max_time_ms;
	int64_t			 log_json;
	int64_t			 verbose;
	/* OpenStack credentials of os.request (src/actions). */
	char			*os_cloud;
	char			*os_clouds_file;
	char			*os_auth_url;
	char			*os_username;
	char			*os_password;
	char			*os_user_domain_name;
	char			*os_project_name;
	char			*os_project_domain_name;
	char			*os_app_cred_id;
	char			*os_app_cred_secret;
	char			*os_region_name;
	char			*os_interface;
	char			*os_cacert;
	int64_t			 os_insecure;
	/* Masakari's API and Keystone tokens (src/api). */
	int64_t			 masakari_dup_ms;
	int64_t			 masakari_retry_ms;
	int64_t			 masakari_expire_ms;
	int64_t			 keystone_auth;
	struct conf_list	 keystone_roles;
	/* What users are told, and what is kept (src/msg, src/engine). */
	char			*messages_file;
	int64_t			 message_ttl_ms;
	int64_t			 message_reap_interval_ms;	/* -1: never */
	int64_t			 message_reap_batch_size;
	int64_t			 execution_retention_ms;	/* 0: forever */
	int64_t			 execution_reap_interval_ms;	/* -1: never */
	int64_t			 execution_reap_batch_size;
	int64_t			 alarm_retention_ms;	/* 0: forever */
	int64_t			 alarm_reap_interval_ms;	/* -1: never */
	int64_t			 alarm_reap_batch_size;
	/* Outbound notifications. */
	struct conf_list	 notify;
	char			*notify_secret;
	int64_t			 notify_max_attempts;
	int64_t			 notify_backoff_ms;
	int64_t			 notify_backoff_max_ms;
	int64_t			 notify_timeout_ms;
	int64_t			 notify_concurrency;

	unsigned char		 src[128];	/* per option: conf_source */
};

struct conf_option {
	const char	*name;		/* "api-token": flag --api-token,
					   env BORA_API_TOKEN, YAML api-token */
	enum conf_type	 type;
	size_t		 offset;	/* into struct conf */
	const char	*default_str;	/* parsed like any other value */
	int64_t		 minimum;
	int64_t		 maximum;
	const char	*arg;		/* argument name for help, e.g. "URL" */
	const char	*help;
};

extern const struct conf_option	conf_options[];
extern const size_t		conf_noptions;

/* Fill conf with every option's default. */
void	 conf_init(struct conf *);
void	 conf_free(struct conf *);
/* Find an option by name ("api-token" or "api_token"); NULL if none. */
const struct conf_option *conf_find(const char *name);
/*
 * Set one option from text.  A list option set from a newer source
 * first drops the values of older sources, then appends.  0, or -1 and
 * *cause.
 */
int	 conf_set(struct conf *, const char *name, const char *value,
	     enum conf_source, char **cause);
/* Read a YAML mapping of option: value; every error is in *cause. */
int	 conf_load_file(struct conf *, const char *path, char **cause);
/* Apply every BORA_<NAME> variable found in the environment. */
int	 conf_load_env(struct conf *, char **cause);
/* Print the effective configuration as YAML (secrets are hidden). */
void	 conf_print(const struct conf *, FILE *);
/* Print the option table as mdoc .It entries (for borad.conf.5). */
void	 conf_print_mdoc(FILE *);

/* What borad's command line asks besides the options (conf-args.c). */
struct conf_args {
	int		 debug;		/* -d: foreground, log to stderr */
	int		 check;		/* -n: check everything, then exit */
	const char	*file;		/* -f: a YAML file of options */
};

/*
 * Read borad's command line: the defaults, then the -f file, the
 * environment and the flags; then the store's file and the folders are
 * made absolute (the daemon changes to /).  0: conf is filled (the
 * caller frees it).  1: nothing is left to do (-h, -V, or an error
 * already printed), and *status is the exit status.
 */
int	 conf_args(struct conf *, struct conf_args *, int argc, char **argv,
	     int *status);
/*
 * Check what needs nothing opened: the store URL, the listen address,
 * and that the Lua library exists.  0, or -1 and *cause (one line per
 * problem).
 */
int	 conf_check(const struct conf *, char **cause);

/*
 * The data folder name (lua, workflows, actions), found the same way by
 * bora and borad (conf-data.c): the source tree's when the program runs
 * from its build tree, else beside the program (DIR/name, then
 * DIR/../share/bora/name), else the installed one.  An allocated
 * absolute path, or NULL when there is none.
 */
char	*conf_data_dir(const char *name);

#endif /* CONF_H */
