/*
 * cli-int.h -- shared by the files of the cli module only: the HTTP
 * calls to the API, the options and output every API command shares,
 * the resources the generic commands work on, and the commands of the
 * table in cli-client.c that live in other files.
 */
#ifndef CLI_INT_H
#define CLI_INT_H

#include <getopt.h>
#include <jansson.h>

#define CLI_FILE_MAX	(16 * 1024 * 1024)	/* largest definition */
/* After an execution's path: its tasks in the order they started. */
#define CLI_TASKS_IN_ORDER	"/tasks?sort_keys=created_at&sort_dirs=asc"

/* Long options of the API commands without a letter (above 255). */
enum cli_opt {
	CLI_OPT_URL = 256,
	CLI_OPT_TOKEN,
	CLI_OPT_INPUT,
	CLI_OPT_ENV,
	CLI_OPT_PARAMS,
	CLI_OPT_TASK,
	CLI_OPT_WAIT,
	CLI_OPT_WATCH,
	CLI_OPT_TIMEOUT,
	CLI_OPT_LIMIT,
	CLI_OPT_NO_RESET,
	CLI_OPT_INTERVAL,
	CLI_OPT_FORCE,
	CLI_OPT_PROGRESS,
	CLI_OPT_FILTER		/* + index in a resource's filters */
};

/* Options every API command takes, after its own. */
#define CLI_API_SHORTOPTS	"f:q"
#define CLI_API_LONGOPTS						\
	{ "format", required_argument, NULL, 'f' },			\
	{ "quiet", no_argument, NULL, 'q' },				\
	{ "url", required_argument, NULL, CLI_OPT_URL },		\
	{ "token", required_argument, NULL, CLI_OPT_TOKEN },		\
	{ NULL, 0, NULL, 0 }

/*
 * A filter of a list command: "--opt VALUE" adds "&param=VALUE", or
 * "&param=PREFIXVALUE" with a prefix (an operator: "gte:").
 */
struct cli_filter {
	const char	*opt;
	const char	*param;
	const char	*prefix;
};

/*
 * A resource of the API that the generic commands (cli-client.c) list,
 * show, delete, create and update: its collection (the path under /v2
 * and the key of its list), the fixed query and the filters of its
 * list, the columns of its table, and what its create answers.
 */
struct cli_res {
	const char		*what;		/* "execution", in messages */
	const char		*coll;		/* "executions" */
	const char		*idkey;		/* what -q prints: "id", "name" */
	const char		*query;		/* of a list, after '?' */
	const struct cli_filter	*filters;	/* NULL-terminated, or NULL */
	const char *const	*cols;
	size_t			 ncols;
	int			 limit;		/* --limit default; 0: all */
	int			 many;		/* create answers a list */
	int			 force;		/* delete takes --force */
	const char		*base;		/* "/v1"; NULL: "/v2" */
};

/* cli-http.c */
/*
 * Call the API: method, path ("/v2/executions?limit=5"), an optional
 * body with its content type.  On success *out is the decoded response
 * (NULL when empty) and CLI_EXIT_OK is returned; otherwise the error is
 * printed as "bora: ..." and CLI_EXIT_FAIL (the API said no) or
 * CLI_EXIT_UNREACHABLE (no answer) is returned.
 */
int	 cli_http(const char *method, const char *path, const char *ctype,
	     const char *body, json_t **out);
/* The same with a JSON body (borrowed), sent as application/json. */
int	 cli_http_json(const char *method, const char *path, json_t *body,
	     json_t **out);
/* A path component or query value, %-escaped (caller frees). */
char	*cli_http_escape(const char *);
/* "/v2/<coll>/<id><rest>", the id escaped, rest may be NULL (caller frees). */
char	*cli_http_path(const char *coll, const char *id, const char *rest);

/* cli-client.c: options and output of the API commands. */
/* Handle an option of CLI_API_LONGOPTS; 0, or CLI_EXIT_USAGE if bad. */
int	 cli_api_opt(const char *name, int ch, char **argv);
/* Only the common options, and between min and max operands. */
int	 cli_api_args(const char *name, int argc, char **argv, int min,
	     int max);
/* Exactly one operand (what) after the options. */
int	 cli_one_operand(const char *name, int argc, char **argv,
	     const char *what);
/* Merge the JSON object in text s into obj; -1 and *cause if not one. */
int	 cli_read_input(const char *s, json_t *obj, char **cause);
/*
 * Handle -i key=value (into items) or --input JSON (into input), the
 * option ch with optarg; 0, or the usage error reported.
 */
int	 cli_input_opt(const char *name, int ch, json_t *input, json_t *items);
/*
 * Print the list under key of a reply: a table, data, or with -q the
 * idkey field of each row ("id" when NULL), one a line.
 */
int	 cli_show_list(json_t *reply, const char *key, const char *idkey,
	     const char *const *cols, size_t ncols);
/* Print one object: a record, data, or its idkey field (-q). */
int	 cli_show_record(json_t *obj, const char *idkey);
/*
 * Report a change made to obj: one line for people (fmt), the object
 * as data (-f json|yaml), or its id (-q).
 */
int	 cli_show_change(json_t *obj, const char *fmt, ...)
	     __attribute__((format(printf, 2, 3)));
/* Field idkey ("id" when NULL) of an object, else its name; "" else. */
const char *cli_obj_id(json_t *, const char *idkey);
/* Add a "duration" to each task or execution row (for tables). */
void	 cli_add_durations(json_t *rows);

/* Whether an execution or task state is final. */
int	 cli_state_final(const char *);
/* Exit status for a final execution state: 0 SUCCESS, 1 otherwise. */
int	 cli_state_exit(const char *);
/* Seconds between two API times ("YYYY-MM-DD HH:MM:SS"); -1 if unknown. */
long	 cli_time_diff(const char *from, const char *to);
/* "1h02m", "3m05s", "12s". */
void	 cli_duration(long secs, char *out, size_t len);
/* Duration of a task or execution row so far; "" when unknown. */
void	 cli_row_duration(json_t *row, char *out, size_t len);

/* The generic commands; the cli_cmd's data is a struct cli_res. */
int	 cli_res_list(const struct cli_cmd *, int, char **);
int	 cli_res_get(const struct cli_cmd *, int, char **);
int	 cli_res_delete(const struct cli_cmd *, int, char **);
int	 cli_res_create(const struct cli_cmd *, int, char **);
int	 cli_res_update(const struct cli_cmd *, int, char **);

/* cli-exec.c: executions and tasks. */
int	 cli_execution_start(const struct cli_cmd *, int, char **);
int	 cli_execution_tasks(const struct cli_cmd *, int, char **);
int	 cli_execution_events(const struct cli_cmd *, int, char **);
int	 cli_execution_watch(const struct cli_cmd *, int, char **);
int	 cli_execution_pause(const struct cli_cmd *, int, char **);
int	 cli_execution_resume(const struct cli_cmd *, int, char **);
int	 cli_execution_cancel(const struct cli_cmd *, int, char **);
int	 cli_execution_rerun(const struct cli_cmd *, int, char **);

/* cli-actions.c */
int	 cli_action_run(const struct cli_cmd *, int, char **);

/* cli-trigger.c: an alarm payload from a file or "-" (stdin), *len. */
char	*cli_read_payload(const char *path, size_t *len, char **cause);

/* cli-alarm.c: alarms and triggers. */
extern const struct cli_res cli_res_alarm;
int	 cli_alarm_send(const struct cli_cmd *, int, char **);
int	 cli_alarm_get(const struct cli_cmd *, int, char **);
int	 cli_alarm_replay(const struct cli_cmd *, int, char **);
int	 cli_trigger_list(const struct cli_cmd *, int, char **);

/* cli-http.c: headers sent with the next calls (NULL, 0: none). */
void	 cli_http_headers(const char *const *, size_t);

/* cli-msgs.c: what users are told. */
int	 cli_notification_retry(const struct cli_cmd *, int, char **);

/* cli-watch.c: follow an execution until it ends; exit like --wait. */
int	 cli_watch(const char *id, double interval);

#endif /* CLI_INT_H */
