/*
 * alarms.h -- the alarm intake: payloads of alarm sources (Alertmanager,
 * Aodh, Vitrage, Grafana, Zabbix, generic senders) turned into
 * normalized events, per-source authentication, and the matching of
 * events against workbook triggers.
 *
 * Ownership: arguments are borrowed; returned objects are owned by the
 * caller and freed with the matching _free; json_t results are new
 * references.  Nothing here logs, and no message ever holds a secret.
 */
#ifndef ALARMS_H
#define ALARMS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "store/store.h"

struct conf_list;
struct dsl_workbook;
struct expr;

/* ---- sources and their payloads -------------------------------------- */

/* What alarm_parse() says about a payload; the HTTP layer maps it once. */
enum alarm_rc {
	ALARM_OK = 0,
	ALARM_INVALID,		/* 400: the message names where */
	ALARM_TOO_LARGE,	/* 413: body or number of alerts */
	ALARM_NO_SOURCE		/* 404: no such source */
};

/* One request header; names compare without case. */
struct alarm_header {
	const char	*name;
	const char	*value;
};

/* A received request, all borrowed. */
struct alarm_request {
	const char			*body;
	size_t				 len;
	const struct alarm_header	*headers;
	size_t				 nheaders;
};

/* Limits on a payload; zeroes mean the defaults. */
struct alarm_limits {
	size_t		 max_body;	/* bytes; default 1 MiB */
	int		 max_depth;	/* JSON nesting; default 32 */
	size_t		 max_events;	/* alerts in one message; default 1000 */
};

#define ALARM_DEFAULT_MAX_BODY		((size_t)1024 * 1024)
#define ALARM_DEFAULT_MAX_DEPTH		32
#define ALARM_DEFAULT_MAX_EVENTS	1000
#define ALARM_KEY_MAX			512	/* bytes of a key */

enum alarm_status { ALARM_FIRING = 0, ALARM_RESOLVED };
enum alarm_res_kind { ALARM_RES_HOST = 0, ALARM_RES_INSTANCE,
	ALARM_RES_OTHER };

/*
 * A normalized event.  key is never NULL nor empty; name, severity,
 * res_id, res_host and starts_at may be NULL; labels and annotations are
 * objects of strings; raw is the part of the payload the event came from
 * (one alert of an Alertmanager group, else the whole body).
 */
struct alarm_event {
	const char		*source;	/* the table's name */
	char			*key;
	enum alarm_status	 status;
	char			*name;
	char			*severity;	/* lower case */
	enum alarm_res_kind	 res_kind;
	char			*res_id;
	char			*res_host;
	json_t			*labels;
	json_t			*annotations;
	char			*starts_at;	/* as the source wrote it */
	json_t			*raw;
};

/* The events of one payload, in payload order. */
struct alarm_batch {
	const char		*source;
	struct alarm_event	*v;
	size_t			 n;
};

/* 1 if a source has that name. */
int		 alarm_source_exists(const char *name);
/*
 * Number of sources; the name of source i in table order, and the route
 * where borad receives it ("/v1/alarms/alertmanager"); NULL past the end.
 */
size_t		 alarm_source_count(void);
const char	*alarm_source_name(size_t);
const char	*alarm_source_route(size_t);
/* A dsl_resolver.source_check: 0, or -1 and *cause listing the names. */
int		 alarm_source_check(void *arg, const char *name, char **cause);
/* The name of the source received at route path, or NULL. */
const char	*alarm_source_at(const char *path);

/*
 * What the intake made of one request, for the answer: the alarm it
 * stored, and either why the payload was refused or the verdicts on its
 * events ([{key, status, verdicts: [{trigger, verdict, ...}]}]); or
 * pending when the alarm is stored but its decisions could not be
 * committed yet (the engine makes them later).
 */
struct alarm_outcome {
	const char	*source;
	const char	*alarm_id;
	enum alarm_rc	 rc;
	const char	*error;		/* rc != ALARM_OK */
	json_t		*events;
	int		 pending;
};
/*
 * The answer to a request of the outcome's source: a body (new
 * reference) and *status, or NULL for the API's own error answer.  By
 * default a stored valid alarm is 202 {alarm_id, events}, whatever the
 * verdicts (duplicates and non-matches are no errors: a 4xx makes
 * Alertmanager resend forever), and a refused payload is left to the
 * API (400 or 413 naming what is wrong).  A source with its own
 * protocol answers its own way.
 */
json_t		*alarm_answer(const struct alarm_outcome *, unsigned *status);

/*
 * Turn a payload into events.  On failure *out is NULL and *cause (the
 * caller frees) names what is wrong and where, as a JSON path
 * ("$.alerts[2].status: expected a string, got an integer").
 */
enum alarm_rc	 alarm_parse(const char *source, const struct alarm_request *,
		     const struct alarm_limits *, struct alarm_batch **out,
		     char **cause);
void		 alarm_batch_free(struct alarm_batch *);

/* An event as the object triggers see as "alert". */
json_t		*alarm_event_json(const struct alarm_event *);
const char	*alarm_status_name(enum alarm_status);
const char	*alarm_res_kind_name(enum alarm_res_kind);
/* A header's value, or NULL (names compare without case). */
const char	*alarm_header_find(const struct alarm_request *,
		     const char *name);

/* ---- authentication --------------------------------------------------- */

/*
 * How each source authenticates, from borad.conf's alarm-auth entries
 * "SOURCE METHOD [key=value]...".  Secret files are read when the
 * configuration is loaded.
 */
struct alarm_auth;

enum alarm_auth_rc {
	ALARM_AUTH_OK = 0,
	ALARM_AUTH_NONE,	/* no entry for the source: API's own rule */
	ALARM_AUTH_DENIED	/* 401 */
};

/*
 * Parse the entries; NULL and *cause naming the entry on error, or
 * saying that libcrypto, which entries need, cannot be loaded.
 */
struct alarm_auth *alarm_auth_create(const struct conf_list *,
		     char **cause);
void		 alarm_auth_free(struct alarm_auth *);
/*
 * Check a request of a source at time now_ms.  On ALARM_AUTH_DENIED,
 * *reason says why without revealing any secret (caller frees).
 */
enum alarm_auth_rc alarm_auth_check(const struct alarm_auth *,
		     const char *source, const struct alarm_request *,
		     int64_t now_ms, char **reason);
/* The WWW-Authenticate challenge of a source's method, or NULL. */
const char	*alarm_auth_challenge(const struct alarm_auth *,
		     const char *source);
/* Names of headers that carry a source's secrets (not to be stored). */
int		 alarm_auth_is_secret_header(const struct alarm_auth *,
		     const char *source, const char *header);
/*
 * For a source signed by HMAC with a timestamp header: the signature
 * as a text to accept once ("source:hex"), and until when (ms) its
 * timestamp stays within the tolerance.  NULL for other methods and
 * for requests alarm_auth_check() refuses.
 */
char		*alarm_auth_nonce(const struct alarm_auth *,
		     const char *source, const struct alarm_request *,
		     int64_t *expires_ms);

/* ---- triggers and verdicts ------------------------------------------- */

/*
 * What became of one event for one trigger.  alarm_match() decides
 * STARTED (would start), WHEN_FALSE, RESOLVED_IGNORED, CANCELLED (would
 * cancel the key's execution) and FAILED; the intake turns STARTED into
 * DUPLICATE or LIMITED when the store says so.
 */
enum alarm_verdict {
	ALARM_V_STARTED = 0,
	ALARM_V_DUPLICATE,
	ALARM_V_WHEN_FALSE,
	ALARM_V_LIMITED,
	ALARM_V_RESOLVED_IGNORED,
	ALARM_V_CANCELLED,
	ALARM_V_FAILED
};

/* "started", "duplicate", "when_false", ...; NULL when out of range. */
const char	*alarm_verdict_name(enum alarm_verdict);
/* The verdict of a name; -1 when unknown. */
int		 alarm_verdict_find(const char *name);

/* The triggers in force: copies of the workbooks' triggers. */
struct alarm_triggers;

struct alarm_triggers *alarm_triggers_create(void);
void		 alarm_triggers_free(struct alarm_triggers *);
/* Add the triggers of a valid workbook (names become "wb.trigger"). */
void		 alarm_triggers_add(struct alarm_triggers *,
		     const struct dsl_workbook *);
size_t		 alarm_triggers_count(const struct alarm_triggers *);
/* Name of trigger i ("wb.trigger"); 1 if trigger i listens to source. */
const char	*alarm_trigger_name(const struct alarm_triggers *, size_t);
int		 alarm_trigger_listens(const struct alarm_triggers *, size_t,
		     const char *source);
/*
 * Trigger i as JSON {name, source, when, workflow, input, key,
 * once_within_ms, until_resolved, limit, on_resolved, description,
 * file}; NULL past the end.
 */
json_t		*alarm_trigger_json(const struct alarm_triggers *, size_t);

/*
 * One trigger's verdict on one event.  For STARTED: workflow, input,
 * key, and the repeat policy the store applies (limit_by is the bucket
 * of the limit, NULL for one count per trigger).  For CANCELLED: key.
 * reason says why in words ("when is false", the expression's error).
 */
struct alarm_decision {
	size_t			 trigger;	/* index in the set */
	const char		*name;		/* borrowed from the set */
	enum alarm_verdict	 verdict;
	char			*workflow;
	json_t			*input;
	char			*key;
	int64_t			 once_within_ms;
	int			 until_resolved;
	int64_t			 limit_count;
	int64_t			 limit_window_ms;
	char			*limit_by;
	char			*reason;
	/* The credentials the execution acts with (params.cloud), or NULL:
	 * borad's.  A sender's own token is never passed on. */
	char			*cloud;
};

/*
 * Evaluate every trigger that listens to the event's source: when,
 * key, input and limit.by run in the sandbox ex with the event as
 * "alert".  Returns the number of decisions in *out (trigger order).
 */
size_t		 alarm_match(const struct alarm_triggers *, struct expr *ex,
		     const struct alarm_event *, struct alarm_decision **out);
void		 alarm_decisions_free(struct alarm_decision *, size_t);
/* A decision as JSON {trigger, verdict, workflow, input, key, reason}. */
json_t		*alarm_decision_json(const struct alarm_decision *);

/* ---- Masakari: segments and hosts (alarms-segments.c) ---------------- */

/* Masakari's times: "2017-04-24T06:37:37.396000"; null for 0. */
json_t		*alarm_masakari_time(int64_t ms);
/*
 * A segment, a host (with its segment when not NULL) as Masakari's API
 * shows them at microversion 1.minor (a segment's enabled from 1.2).
 */
json_t		*alarm_segment_json(const struct store_segment *, int minor);
json_t		*alarm_host_json(const struct store_host *,
		     const struct store_segment *, int minor);
/*
 * Read a request body {"segment": {...}} or {"host": {...}} into a row:
 * a create needs Masakari's required fields, an update changes those
 * given.  0, or -1 and *cause in Masakari's words (a 400).
 */
int		 alarm_segment_read(json_t *body, int create, int minor,
		     struct store_segment *, char **cause);
int		 alarm_host_read(json_t *body, int create,
		     struct store_host *, char **cause);
/*
 * Write the segments a workbook declares (dsl_workbook.segments; NULL
 * for none) to the store, owned by owner ("workbook:NAME"): each
 * segment and host is created or updated by name, and those owner
 * declared before and no longer does are deleted.  One change set; the
 * store's code and *cause on failure.
 */
enum store_rc	 alarm_segments_apply(struct store *, const char *owner,
		     json_t *segments, char **cause);

/* ---- Masakari: notifications (alarms-masakari.c) ---------------------- */

/*
 * Read {"notification": {type, hostname, generated_time, payload}} as
 * Masakari's API checks it into row (type, hostname, generated_time,
 * payload, and dedup: what its duplicate check compares).  0, or -1 and
 * *cause in Masakari's words (a 400).
 */
int		 alarm_notification_read(json_t *body,
		     struct store_notification *row, char **cause);

/*
 * What Masakari's engine does with a notification: status "new" with
 * the workflow to run and its input (the host goes on maintenance when
 * maintain is set, and is no longer reserved when unreserve is), or a
 * status reached at once ("ignored", "finished") and why.
 */
struct alarm_note_decision {
	const char	*status;
	char		*reason;
	const char	*workflow;	/* masakari.host_failure, ... */
	json_t		*input;
	int		 maintain;
	int		 unreserve;
};
/* hosts: the host's segment's, newest first (its reserved hosts). */
void		 alarm_notification_decide(const struct store_notification *,
		     const struct store_host *, const struct store_segment *,
		     struct store_host *const *hosts, size_t nhosts,
		     struct alarm_note_decision *);
void		 alarm_note_decision_free(struct alarm_note_decision *);
/* A notification as Masakari's API shows it (without details). */
json_t		*alarm_notification_json(const struct store_notification *);
/*
 * Masakari's recovery_workflow_details from the progress events of a
 * recovery's executions, their tasks and the executions themselves.
 */
json_t		*alarm_workflow_details(struct store_event *const *,
		     size_t, struct store_task *const *, size_t,
		     struct store_exec *const *, size_t);

#endif /* ALARMS_H */
