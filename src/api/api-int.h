/*
 * api-int.h -- shared by the api module's files only: the request, the
 * routing table and the wire helpers.
 *
 * A handler reads a struct api_req (path parameters, query, body) and
 * answers with api_reply() or api_error(); api.c sends the answer with
 * the request id headers, counts it for /metrics and logs it.
 */
#ifndef API_INT_H
#define API_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <jansson.h>
#include <microhttpd.h>

#include "lib/lib.h"
#include "store/store.h"
#include "api/api.h"

#define API_MAX_PARAMS	3
#define API_RID_MAX	128
#define API_RETRY_AFTER	"5"	/* seconds, with every 503 */

/* What a route reads from the request body. */
enum api_body {
	API_BODY_NONE = 0,
	API_BODY_JSON,		/* parsed into req->json (may be absent) */
	API_BODY_TEXT		/* YAML definitions, kept as text */
};

#define API_PUBLIC	0x1	/* no token needed */
#define API_NOSTORE	0x2	/* the handler needs no store connection */
#define API_STOREOPT	0x4	/* req->store may be NULL (no database) */
#define API_RESERVED	0x8	/* also served over the connection limits */
#define API_BODYCAP	0x10	/* the handler answers a body over the limit
				   (too_big set, the body not read) */

struct api_req;
struct api_streams;
struct api_gate;
struct api_conn;

/*
 * One route: method and path pattern ("{name}" matches one segment).
 * The first route whose pattern and method match wins, so fixed paths
 * (/v2/workflows/validate) come before patterns (/v2/workflows/{id}).
 */
struct api_route {
	const char	*method;
	const char	*pattern;
	enum api_body	 body;
	int		 flags;
	void		(*handler)(struct api_req *);
	const char	*summary;	/* for the OpenAPI document */
};
extern const struct api_route	api_routes[];
extern const size_t		api_nroutes;

/* Status codes counted separately in /metrics; others go to "other". */
#define API_NCODES 19
extern const unsigned	api_codes[API_NCODES];

/* Buckets of the task duration histogram, in seconds. */
#define API_NBUCKETS 10
extern const double	api_buckets[API_NBUCKETS];

struct api {
	struct MHD_Daemon	*mhd;
	struct engine		*engine;
	char			*listen;
	char			*db_url;
	char			*token;
	struct api_config	 cfg;
	int			 port;
	atomic_int		 ready;		/* definitions loaded */
	int64_t			 started_ms;

	struct store_pool	*pool;		/* the handlers' road */
	int			 own_pool;	/* no engine: opened here */

	/* libmicrohttpd's messages in the current minute (mtx). */
	int64_t			 mhd_log_ms;
	unsigned		 mhd_logged;
	uint64_t		 mhd_dropped;

	/* Who may connect and for how long (api-gate.c). */
	struct api_gate		*gate;
	/* Request size limits, from cfg.max_header (see api_open()). */
	size_t			 max_uri;	/* request target bytes */
	size_t			 max_args;	/* query parameters */
	size_t			 max_hbytes;	/* header bytes */
	size_t			 max_hfields;	/* header fields */

	pthread_mutex_t		 mtx;		/* guards the lists below */

	/* Requests per route (api_nroutes + 1 for "unmatched") and code. */
	_Atomic uint64_t	*counts;
	/* Live updates (api-stream.c). */
	struct api_streams	*streams;
	/* Alarm counters for /metrics (api-alarms.c). */
	struct api_alarms	*alarms;
	/* Task durations from the engine observer. */
	uint64_t		 hist[API_NBUCKETS + 1];
	double			 hist_sum;
	uint64_t		 hist_count;
};

struct api_req {
	struct api		*api;
	struct MHD_Connection	*conn;
	struct api_conn		*gconn;		/* the gate's, or NULL */
	int			 begun;		/* api_begin() ran */
	char			*too_long;	/* 414 from api_uri() */
	const char		*method;
	char			*path;		/* without the query */
	const struct api_route	*route;
	size_t			 route_idx;	/* api_nroutes: none */
	char			*params[API_MAX_PARAMS];
	size_t			 nparams;
	struct buf		 body;
	int			 too_big;
	int			 answered;	/* an early answer is queued */
	json_t			*json;		/* parsed JSON body or NULL */
	char			 rid[API_RID_MAX + 1];
	struct store		*store;
	int64_t			 start_ms;

	/* The answer. */
	unsigned		 status;
	json_t			*out;		/* JSON body, or NULL */
	char			*text;		/* or a text body */
	const char		*content_type;
	char			*allow;		/* 405: Allow header */
	char			*challenge;	/* 401: WWW-Authenticate */
	json_t			*headers;	/* more headers: name -> value */
	struct MHD_Response	*resp;		/* or a ready response */
};

/* api-json.c: answers and errors. */
void	 api_reply(struct api_req *, unsigned status, json_t *body);
void	 api_reply_text(struct api_req *, unsigned status, const char *ctype,
	     char *text);
void	 api_error(struct api_req *, unsigned status, const char *fmt, ...)
	     printflike(3, 4);
unsigned api_rc_status(enum store_rc, int input_checked);
void	 api_store_error(struct api_req *, enum store_rc, int input_checked,
	     const char *what, const char *cause);
void	 api_status_headers(struct api_req *, struct MHD_Response *);
/* One more header of the answer. */
void	 api_header(struct api_req *, const char *name, const char *value);
/* api.c: answer with a response the handler built (it is taken). */
void	 api_reply_response(struct api_req *, unsigned status,
	     const char *ctype, struct MHD_Response *);
/* api.c: does the request carry the token (or is none set)? */
int	 api_token_ok(struct api_req *);

/* api-json.c: Mistral wire habits. */
json_t	*api_jstr(const json_t *, const char *empty);
json_t	*api_time(int64_t ms);
json_t	*api_strornull(const char *);
const char *api_state_out(const char *);
const char *api_state_in(const char *);
int	 api_json_value(const json_t *, json_t **out, char **cause);
const char *api_query(struct api_req *, const char *key);
int	 api_query_bool(struct api_req *, const char *key);
char	*api_base_url(struct api_req *);

/* api-json.c: list queries (filters, sort, paging, fields). */
struct api_field {
	const char	*name;		/* Mistral's name on the wire */
	const char	*column;	/* name given to the store (it converts
					   times); NULL: not filterable */
};
struct api_list {
	struct store_filter	*filters;
	size_t			 nfilters;
	char			**keys;		/* sort keys (store names) */
	const char		**keys_c;
	int			*desc;
	size_t			 nkeys;
	char			*marker;
	size_t			 limit;
	char			**fields;	/* projection, or none */
	size_t			 nfields;
	char			**owned;	/* strings to free */
	size_t			 nowned;
	struct store_query	 q;
};
int	 api_list_parse(struct api_req *, const struct api_field *,
	     const char *default_dir, struct api_list *, char **cause);
void	 api_list_free(struct api_list *);
void	 api_list_project(const struct api_list *, json_t *obj);
void	 api_list_reply(struct api_req *, struct api_list *,
	     const char *plural, json_t *items);
void	 api_list_items(struct api_req *, struct api_list *,
	     const char *plural, const char *what, json_t *items);
json_t	*api_body_str(struct api_req *);

/* api-exec.c, api-defs.c: row shapes. */
json_t	*api_exec_json(const struct store_exec *);
json_t	*api_task_json(const struct store_task *, const struct store_exec *);
json_t	*api_action_json(const struct store_action *,
	     const struct store_task *, const struct store_exec *,
	     int with_output);

/* api-gate.c: connection limits, the reserve and request deadlines. */
struct api_gate	*api_gate_create(const struct api_config *);
int		 api_gate_start(struct api_gate *, char **cause);
void		 api_gate_free(struct api_gate *);
void		 api_gate_notify(void *, struct MHD_Connection *, void **,
		     enum MHD_ConnectionNotificationCode);
struct api_conn	*api_gate_conn(struct MHD_Connection *);
char		*api_gate_over(struct api_gate *, const struct api_conn *);
void		 api_gate_received(struct api_gate *, struct api_conn *);
void		 api_gate_answered(struct api_gate *, struct api_conn *);

/* api-misc.c: metrics and the OpenAPI document. */
void	 api_metrics_count(struct api *, size_t route, unsigned status);
void	 api_observe_task(void *, const struct store_exec *,
	     const struct store_task *);
json_t	*api_openapi(void);

/* api-graph.c: a task in brief, and its with-items counter. */
json_t	*api_task_brief(const struct store_task *);
json_t	*api_task_items(struct store *, const struct store_task *);

/* api-stream.c: the broadcaster of live updates. */
struct api_streams *api_streams_open(struct api *);
void	 api_streams_stop(struct api_streams *);
void	 api_streams_free(struct api_streams *);
void	 api_stream_task(void *, const struct store_exec *,
	     const struct store_task *);
void	 api_stream_exec(void *, const struct store_exec *);

/* api-alarms.c: the alarm intake and its decision log. */
struct api_alarms *api_alarms_create(void);
void	 api_alarms_free(struct api_alarms *);
void	 api_alarm_metrics(struct api *, struct buf *);
void	 api_alarm_post(struct api_req *);
void	 api_alarm_list(struct api_req *);
void	 api_alarm_get(struct api_req *);
void	 api_alarm_replay(struct api_req *);
void	 api_alarm_auth_failures(struct api_req *);
void	 api_trigger_list(struct api_req *);

/* Handlers, one per route (api-defs.c, api-exec.c, api-misc.c). */
void	 api_root(struct api_req *);
void	 api_v2(struct api_req *);
void	 api_healthz(struct api_req *);
void	 api_readyz(struct api_req *);
void	 api_metrics(struct api_req *);
void	 api_openapi_get(struct api_req *);
void	 api_services(struct api_req *);

void	 api_workbook_list(struct api_req *);
void	 api_workbook_get(struct api_req *);
void	 api_workbook_create(struct api_req *);
void	 api_workbook_update(struct api_req *);
void	 api_workbook_delete(struct api_req *);
void	 api_workbook_validate(struct api_req *);
void	 api_workflow_list(struct api_req *);
void	 api_workflow_get(struct api_req *);
void	 api_workflow_create(struct api_req *);
void	 api_workflow_update(struct api_req *);
void	 api_workflow_delete(struct api_req *);
void	 api_workflow_validate(struct api_req *);
void	 api_action_list(struct api_req *);
void	 api_action_get(struct api_req *);
void	 api_action_create(struct api_req *);
void	 api_action_update(struct api_req *);
void	 api_action_delete(struct api_req *);
void	 api_action_validate(struct api_req *);

void	 api_exec_list(struct api_req *);
void	 api_exec_get(struct api_req *);
void	 api_exec_create(struct api_req *);
void	 api_exec_update(struct api_req *);
void	 api_exec_delete(struct api_req *);
void	 api_exec_tasks(struct api_req *);
void	 api_exec_report(struct api_req *);
void	 api_exec_events(struct api_req *);
void	 api_exec_children(struct api_req *);
void	 api_task_list(struct api_req *);
void	 api_task_get(struct api_req *);
void	 api_task_rerun(struct api_req *);
void	 api_task_actions(struct api_req *);
void	 api_task_children(struct api_req *);
void	 api_actex_delete(struct api_req *);
void	 api_actex_list(struct api_req *);
void	 api_actex_get(struct api_req *);
void	 api_actex_run(struct api_req *);
void	 api_actex_update(struct api_req *);

/* api-env.c, api-cron.c */
void	 api_env_list(struct api_req *);
void	 api_env_get(struct api_req *);
void	 api_env_create(struct api_req *);
void	 api_env_update(struct api_req *);
void	 api_env_delete(struct api_req *);
void	 api_cron_list(struct api_req *);
void	 api_cron_get(struct api_req *);
void	 api_cron_create(struct api_req *);
void	 api_cron_delete(struct api_req *);
/* api-msgs.c: user messages and notifications. */
void	 api_msg_list(struct api_req *);
void	 api_msg_get(struct api_req *);
void	 api_msg_delete(struct api_req *);
void	 api_outbox_list(struct api_req *);
void	 api_outbox_get(struct api_req *);
void	 api_outbox_update(struct api_req *);

void	 api_workflow_graph(struct api_req *);
void	 api_exec_graph(struct api_req *);
void	 api_stream_get(struct api_req *);
void	 api_console_root(struct api_req *);
void	 api_console_file(struct api_req *);

/* api-keystone.c: 1 if Keystone vouches for the token, else 0, *why. */
int	 api_keystone_check(struct api *, const char *token, char **why);

/* api-masakari.c: Masakari's API. */
void	 api_masakari_version(struct api_req *);
void	 api_masakari_segment_list(struct api_req *);
void	 api_masakari_segment_create(struct api_req *);
void	 api_masakari_segment_get(struct api_req *);
void	 api_masakari_segment_update(struct api_req *);
void	 api_masakari_segment_delete(struct api_req *);
void	 api_masakari_host_list(struct api_req *);
void	 api_masakari_host_create(struct api_req *);
void	 api_masakari_host_get(struct api_req *);
void	 api_masakari_host_update(struct api_req *);
void	 api_masakari_host_delete(struct api_req *);
void	 api_masakari_notification_create(struct api_req *);
void	 api_masakari_notification_list(struct api_req *);
void	 api_masakari_notification_get(struct api_req *);

#endif /* API_INT_H */
