/*
 * api-alarms.c -- the alarm intake and its decision log on the API.
 *
 * POST to a source's route (alarm_source_at(): /v1/alarms/alertmanager,
 * ...; a source with another route, such as Masakari's
 * /v1/notifications, is one more line in the routing table pointing
 * here):
 *	1. the source's authentication (alarm-auth in borad.conf; without
 *	   an entry, the API token); a refusal is 401, recorded without the
 *	   body;
 *	2. the payload turned into events (alarm_parse);
 *	3. the request committed to the store, valid or not: nothing is
 *	   answered 2xx before the alarm is durable, and when the store is
 *	   down the answer is 503 with Retry-After, so senders resend;
 *	4. a payload that cannot be used is answered 400 or 413 naming what
 *	   is wrong; a valid one is decided at once by the engine (verdicts,
 *	   executions) and answered 202 with the verdicts, duplicates and
 *	   non-matches included: a 4xx would make Alertmanager resend the
 *	   group forever.  If the decisions cannot be committed, the alarm
 *	   is stored all the same; the answer says it is pending and the
 *	   engine decides it later.
 * The source may answer its own way (alarm_answer()).
 *
 * GET /v1/alarms lists the decision log (filters, sort, pages like the
 * other lists); GET /v1/alarms/{id} shows one alarm with its events,
 * verdicts and the executions it started; POST /v1/alarms/{id}/replay
 * decides a stored alarm again against today's triggers, as a preview
 * or (apply) as a new alarm.  GET /v1/triggers lists the triggers in
 * force; GET /v1/alarm_auth_failures the refused requests.
 */
#include "config.h"

#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "alarms/alarms.h"
#include "dl/dl.h"
#include "engine/engine.h"
#include "msg/msg.h"
#include "api/api-int.h"

#define API_ALARM_NSTATUS	4	/* firing, resolved, invalid, denied */
#define API_ALARM_NVERDICTS	7	/* enum alarm_verdict */
#define API_ALARM_NBUCKETS	12

static const char *const api_alarm_statuses[API_ALARM_NSTATUS] = {
	"firing", "resolved", "invalid", "denied"
};
enum { AS_FIRING, AS_RESOLVED, AS_INVALID, AS_DENIED };

/* Intake latency buckets (request complete to answer), in seconds. */
static const double api_alarm_buckets[API_ALARM_NBUCKETS] = {
	0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5
};

/* Counters for /metrics. */
/*
 * Refusals told to users: one message per source and remote address
 * per API_ALARM_TELL_MS, so that a sender retrying with a wrong secret
 * does not fill the messages (each refusal is still recorded).  A slot
 * per hash: two senders sharing one are told about less often.
 */
#define API_ALARM_TELL_MS	(10 * 60 * 1000)
#define API_ALARM_TELL_SLOTS	64

struct api_alarms {
	_Atomic uint64_t	*received;	/* [source][status] */
	_Atomic uint64_t	 hist[API_ALARM_NBUCKETS + 1];
	_Atomic uint64_t	 hist_count;
	_Atomic uint64_t	 hist_sum_us;
	pthread_mutex_t		 told_mtx;
	struct {
		uint64_t	 key;
		int64_t		 at;		/* monotonic ms; 0: never */
	}			 told[API_ALARM_TELL_SLOTS];
};

/* One request's headers, borrowed from libmicrohttpd. */
struct api_alarm_hdrs {
	struct alarm_header	*v;
	size_t			 n;
};

static const struct api_field api_alarm_fields[] = {
	{ "id", "id" },
	{ "source", "source" },
	{ "route", "route" },
	{ "state", "state" },
	{ "status", "status" },
	{ "remote", "remote" },
	{ "request_id", "request_id" },
	{ "error", "error" },
	{ "replay_of", "replay_of" },
	{ "verdict", "verdict" },
	{ "event_count", "event_count" },
	{ "created_at", "created_at" },
	{ "received_at", "received_at" },
	{ "decided_at", "decided_at" },
	{ NULL, NULL }
};

static const struct api_field api_auth_failure_fields[] = {
	{ "id", "id" },
	{ "source", "source" },
	{ "route", "route" },
	{ "remote", "remote" },
	{ "reason", "reason" },
	{ "request_id", "request_id" },
	{ "created_at", "created_at" },
	{ "time", "time" },
	{ NULL, NULL }
};

/* ---- metrics ---------------------------------------------------------- */

struct api_alarms *
api_alarms_create(void)
{
	struct api_alarms	*a;

	a = xcalloc(1, sizeof *a);
	a->received = xcalloc(alarm_source_count() * API_ALARM_NSTATUS,
	    sizeof *a->received);
	pthread_mutex_init(&a->told_mtx, NULL);
	return (a);
}

void
api_alarms_free(struct api_alarms *a)
{
	if (a == NULL)
		return;
	free(a->received);
	pthread_mutex_destroy(&a->told_mtx);
	free(a);
}

/* FNV-1a over a text, continuing from h. */
static uint64_t
api_alarm_hash(uint64_t h, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (h * 0x100000001b3ULL);
}

/* Is a refusal from (source, remote) to be told now? (then noted) */
static int
api_alarm_tell_due(struct api_alarms *a, const char *source,
    const char *remote)
{
	uint64_t	 key;
	int64_t		 now = time_mono_ms();
	size_t		 slot;
	int		 due;

	key = api_alarm_hash(api_alarm_hash(0xcbf29ce484222325ULL, source),
	    remote);
	slot = key % API_ALARM_TELL_SLOTS;
	pthread_mutex_lock(&a->told_mtx);
	due = a->told[slot].at == 0 || a->told[slot].key != key ||
	    now - a->told[slot].at >= API_ALARM_TELL_MS;
	if (due) {
		a->told[slot].key = key;
		a->told[slot].at = now;
	}
	pthread_mutex_unlock(&a->told_mtx);
	return (due);
}

/* Count an alarm of source received with status. */
static void
api_alarm_count(struct api *api, const char *source, int status)
{
	size_t	i;

	for (i = 0; i < alarm_source_count(); i++) {
		if (strcmp(alarm_source_name(i), source) == 0) {
			atomic_fetch_add_explicit(&api->alarms->received[i *
			    API_ALARM_NSTATUS + status], 1,
			    memory_order_relaxed);
			return;
		}
	}
}

/* Time from the request's arrival to its answer. */
static void
api_alarm_observe(struct api *api, int64_t start_us)
{
	int64_t	 us = time_mono_us() - start_us;
	size_t	 i;

	if (us < 0)
		us = 0;
	for (i = 0; i < API_ALARM_NBUCKETS; i++) {
		if ((double)us / 1e6 <= api_alarm_buckets[i])
			break;
	}
	atomic_fetch_add_explicit(&api->alarms->hist[i], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&api->alarms->hist_count, 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&api->alarms->hist_sum_us, (uint64_t)us,
	    memory_order_relaxed);
}

/* The alarm metrics, appended to /metrics. */
void
api_alarm_metrics(struct api *api, struct buf *b)
{
	uint64_t	 n, cum = 0, v[API_ALARM_NVERDICTS];
	size_t		 i, k;
	const char	*name;

	buf_printf(b, "# HELP bora_alarms_received_total Alarm requests by "
	    "source and status (firing, resolved, invalid, denied).\n"
	    "# TYPE bora_alarms_received_total counter\n");
	for (i = 0; i < alarm_source_count(); i++) {
		for (k = 0; k < API_ALARM_NSTATUS; k++) {
			n = atomic_load_explicit(&api->alarms->received[i *
			    API_ALARM_NSTATUS + k], memory_order_relaxed);
			buf_printf(b, "bora_alarms_received_total{source="
			    "\"%s\",status=\"%s\"} %llu\n",
			    alarm_source_name(i), api_alarm_statuses[k],
			    (unsigned long long)n);
		}
	}
	buf_printf(b, "# HELP bora_alarm_verdicts_total Verdicts of triggers "
	    "on alarm events, by kind.\n"
	    "# TYPE bora_alarm_verdicts_total counter\n");
	memset(v, 0, sizeof v);
	if (api->engine != NULL)
		engine_alarm_counts(api->engine, v, API_ALARM_NVERDICTS);
	for (i = 0; (name = alarm_verdict_name(i)) != NULL &&
	    i < API_ALARM_NVERDICTS; i++)
		buf_printf(b, "bora_alarm_verdicts_total{verdict=\"%s\"} "
		    "%llu\n", name, (unsigned long long)v[i]);
	buf_printf(b, "# HELP bora_alarm_intake_seconds Time from an alarm "
	    "request's arrival to its answer (stored and decided).\n"
	    "# TYPE bora_alarm_intake_seconds histogram\n");
	for (i = 0; i < API_ALARM_NBUCKETS; i++) {
		cum += atomic_load_explicit(&api->alarms->hist[i],
		    memory_order_relaxed);
		buf_printf(b, "bora_alarm_intake_seconds_bucket{le=\"%g\"} "
		    "%llu\n", api_alarm_buckets[i], (unsigned long long)cum);
	}
	n = atomic_load_explicit(&api->alarms->hist_count,
	    memory_order_relaxed);
	buf_printf(b, "bora_alarm_intake_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "bora_alarm_intake_seconds_sum %.6f\n"
	    "bora_alarm_intake_seconds_count %llu\n", (unsigned long long)n,
	    (double)atomic_load_explicit(&api->alarms->hist_sum_us,
	    memory_order_relaxed) / 1e6, (unsigned long long)n);
}

/* ---- the request ------------------------------------------------------ */

static enum MHD_Result
api_alarm_hdr(void *arg, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct api_alarm_hdrs	*h = arg;

	(void)kind;
	h->v = xreallocarray(h->v, h->n + 1, sizeof *h->v);
	h->v[h->n].name = key;
	h->v[h->n].value = value != NULL ? value : "";
	h->n++;
	return (MHD_YES);
}

/* The client's address, numeric. */
static char *
api_alarm_remote(struct api_req *req)
{
	const union MHD_ConnectionInfo	*ci;
	char				 host[NI_MAXHOST];
	socklen_t			 len;

	ci = MHD_get_connection_info(req->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return (NULL);
	len = ci->client_addr->sa_family == AF_INET6 ?
	    sizeof (struct sockaddr_in6) : sizeof (struct sockaddr_in);
	if (getnameinfo(ci->client_addr, len, host, sizeof host, NULL, 0,
	    NI_NUMERICHOST) != 0)
		return (NULL);
	return (xstrdup(host));
}

/* The headers worth keeping: every one but those carrying secrets. */
static json_t *
api_alarm_headers(struct api *api, const char *source,
    const struct api_alarm_hdrs *h)
{
	json_t		*o, *v, *s;
	const char	*old;
	char		*both;
	size_t		 i;

	o = json_object();
	for (i = 0; i < h->n; i++) {
		if (alarm_auth_is_secret_header(api->cfg.alarm_auth, source,
		    h->v[i].name))
			continue;
		if ((s = json_string(h->v[i].value)) == NULL)
			s = json_string("(not UTF-8)");
		if ((v = json_object_get(o, h->v[i].name)) != NULL &&
		    (old = json_string_value(v)) != NULL) {
			xasprintf(&both, "%s, %s", old, json_string_value(s));
			json_decref(s);
			s = json_string(both);
			free(both);
		}
		json_object_set_new(o, h->v[i].name, s);
	}
	return (o);
}

/*
 * The body as stored: its text when UTF-8 without NUL, else base64
 * (libcrypto is loaded: api_open() refuses to start without it).
 */
static void
api_alarm_body(struct store_alarm *row, const char *body, size_t len)
{
	json_t	*j;
	char	*b64;
	int	 n;

	row->encoding = (char *)"text";
	if (body == NULL)
		return;
	if (memchr(body, '\0', len) == NULL &&
	    (j = json_stringn(body, len)) != NULL) {
		json_decref(j);
		row->body = xstrndup(body, len);
		return;
	}
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	n = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)body,
	    (int)len);
	b64[n < 0 ? 0 : n] = '\0';
	row->body = b64;
	row->encoding = (char *)"base64";
}

/*
 * Commit with the intake's other requests (group commit), once more
 * when the store was unavailable (the connection reconnects).
 */
static enum store_rc
api_alarm_commit(struct api *api, struct store *st, struct store_tx *tx)
{
	enum store_rc	rc;
	int		try;

	for (try = 0; try < 2; try++) {
		rc = api->engine != NULL ? engine_alarm_commit(api->engine, st,
		    tx) : store_tx_commit(st, tx);
		if (rc != STORE_UNAVAILABLE)
			break;
	}
	return (rc);
}

/*
 * Tell users that an alarm was refused (BORA-ALM-001), in the change set
 * that records it: about the stored alarm (alarm_id), or nothing for a
 * request refused before it was stored.  The reason only, never the
 * body nor a header.
 */
static void
api_alarm_tell(struct store_tx *tx, struct api_req *req, const char *source,
    const char *alarm_id, const char *reason)
{
	struct msg_about	 about;

	memset(&about, 0, sizeof about);
	about.resource_uuid = alarm_id;
	about.request_id = req->rid;
	msg_tx_add(tx, MSG_ALARM_REJECTED, &about, "source", source, "route",
	    req->path, "reason", reason, NULL);
}

/* Record a refused request, without its body (best effort). */
static void
api_alarm_denied(struct api_req *req, const char *source, const char *remote,
    const char *reason)
{
	struct store_alarm_auth_failure	 f;
	struct store_tx			*tx;
	enum store_rc			 rc;

	api_alarm_count(req->api, source, AS_DENIED);
	log_warnx("alarm %s from %s refused: %s [%s]", source,
	    remote != NULL ? remote : "?", reason, req->rid);
	if (req->store == NULL)
		return;
	memset(&f, 0, sizeof f);
	f.source = (char *)source;
	f.route = req->path;
	f.remote = (char *)remote;
	f.size = (int64_t)req->body.len;
	f.reason = (char *)reason;
	f.request_id = req->rid;
	tx = store_tx_create();
	store_tx_insert(tx, &store_alarm_auth_failure_table, &f);
	if (api_alarm_tell_due(req->api->alarms, source, remote))
		api_alarm_tell(tx, req, source, NULL, reason);
	if ((rc = api_alarm_commit(req->api, req->store, tx)) != STORE_OK)
		log_warnx("alarm %s: recording the refusal: %s", source,
		    store_error(req->store));
	store_tx_free(tx);
}

/* Answer 401 with the source's challenge. */
static void
api_alarm_refuse(struct api_req *req, const char *source, const char *remote,
    const char *reason)
{
	const char	*ch;

	api_alarm_denied(req, source, remote, reason);
	ch = alarm_auth_challenge(req->api->cfg.alarm_auth, source);
	free(req->challenge);
	req->challenge = xstrdup(ch != NULL ? ch : "Bearer");
	api_error(req, 401, "Authentication failed for alarm source %s: %s",
	    source, reason);
}

/* The Content-Length of a body not read; -1 when none was sent. */
static int64_t
api_alarm_declared(struct api_req *req)
{
	const char	*cl;
	char		*end;
	long long	 n;

	cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL)
		return (-1);
	n = strtoll(cl, &end, 10);
	return (end != cl && *end == '\0' && n >= 0 ? (int64_t)n : -1);
}

/* "firing" when any event fires, "resolved" when all are resolved. */
static const char *
api_alarm_status(const struct alarm_batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++) {
		if (b->v[i].status == ALARM_FIRING)
			return ("firing");
	}
	return ("resolved");
}

/* An error answer that names the stored alarm. */
static void
api_alarm_error(struct api_req *req, unsigned status, const char *id,
    const char *msg)
{
	api_error(req, status, "%s", msg);
	if (id != NULL && req->out != NULL)
		json_object_set_new(req->out, "alarm_id", json_string(id));
}

/* POST on a source's route: see the top of this file. */
void
api_alarm_post(struct api_req *req)
{
	struct api		*api = req->api;
	struct api_alarm_hdrs	 h;
	struct alarm_request	 areq;
	struct alarm_limits	 lim;
	struct alarm_batch	*batch = NULL;
	struct alarm_outcome	 out;
	struct store_alarm	 row;
	struct store_tx		*tx;
	const char		*source;
	char			*remote = NULL, *reason = NULL, *cause = NULL;
	char			*nonce = NULL;
	json_t			*events = NULL, *body;
	int64_t			 start_us = time_mono_us(), expires;
	unsigned		 status;
	enum alarm_rc		 arc;
	enum store_rc		 rc;

	memset(&h, 0, sizeof h);
	memset(&row, 0, sizeof row);
	if ((source = alarm_source_at(req->path)) == NULL) {
		(void)alarm_source_check(NULL, req->nparams > 0 ?
		    req->params[0] : req->path, &cause);
		api_error(req, 404, "No alarm source at %s: %s", req->path,
		    cause);
		free(cause);
		return;
	}
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, api_alarm_hdr,
	    &h);
	remote = api_alarm_remote(req);
	memset(&areq, 0, sizeof areq);
	areq.body = req->body.data;
	areq.len = req->body.len;
	areq.headers = h.v;
	areq.nheaders = h.n;

	switch (alarm_auth_check(api->cfg.alarm_auth, source, &areq,
	    time_now_ms(), &reason)) {
	case ALARM_AUTH_NONE:
		if (api_token_ok(req))
			break;
		api_alarm_refuse(req, source, remote, "no alarm-auth entry "
		    "for this source, and no valid API token (Authorization: "
		    "Bearer TOKEN or X-Auth-Token)");
		goto out;
	case ALARM_AUTH_DENIED:
		api_alarm_refuse(req, source, remote, reason);
		goto out;
	case ALARM_AUTH_OK:
		nonce = alarm_auth_nonce(api->cfg.alarm_auth, source, &areq,
		    &expires);
		break;
	}

	if (req->too_big) {
		arc = ALARM_TOO_LARGE;
		if (api_alarm_declared(req) >= 0)
			xasprintf(&cause, "body of %lld bytes is larger than "
			    "the limit of %zu bytes (http-max-body)",
			    (long long)api_alarm_declared(req), req->body.max);
		else
			xasprintf(&cause, "body is larger than the limit of "
			    "%zu bytes (http-max-body)", req->body.max);
	} else {
		memset(&lim, 0, sizeof lim);
		lim.max_body = api->cfg.max_body;
		lim.max_events = api->cfg.alarm_max_events;
		lim.max_depth = api->cfg.alarm_max_depth;
		arc = alarm_parse(source, &areq, &lim, &batch, &cause);
	}

	/* The request, stored before anything else. */
	uuid_make(row.id);
	row.source = (char *)source;
	row.route = req->path;
	row.headers = api_alarm_headers(api, source, &h);
	if (!req->too_big)
		api_alarm_body(&row, req->body.data, req->body.len);
	row.size = (int64_t)req->body.len;
	if (req->too_big && (row.size = api_alarm_declared(req)) < 0)
		row.size = 0;
	row.remote = remote;
	row.request_id = req->rid;
	row.state = (char *)(arc == ALARM_OK ? ST_ALARM_RECEIVED :
	    ST_ALARM_INVALID);
	row.status = arc == ALARM_OK ? (char *)api_alarm_status(batch) : NULL;
	row.error = cause;
	row.events = batch != NULL ? (int64_t)batch->n : 0;
	row.received_at = time_now_ms();
	if (req->store == NULL) {
		api_store_error(req, STORE_UNAVAILABLE, 0, "Store", "the alarm "
		    "was not stored; send it again");
		goto out;
	}
	tx = store_tx_create();
	store_tx_insert(tx, &store_alarm_table, &row);
	if (arc != ALARM_OK)
		api_alarm_tell(tx, req, source, row.id, cause != NULL ? cause :
		    "invalid payload");
	if (nonce != NULL)
		store_tx_alarm_nonce(tx, nonce, expires);
	rc = api_alarm_commit(req->api, req->store, tx);
	store_tx_free(tx);
	if (rc == STORE_CONFLICT && nonce != NULL) {
		api_alarm_refuse(req, source, remote, "this signature was "
		    "already accepted (a replay)");
		goto out;
	}
	if (rc != STORE_OK) {
		api_store_error(req, rc == STORE_ERROR ? STORE_ERROR :
		    STORE_UNAVAILABLE, 0, "Store", "the alarm was not stored; "
		    "send it again");
		log_warnx("alarm %s: not stored: %s", source,
		    store_error(req->store));
		goto out;
	}
	api_alarm_count(api, source, arc != ALARM_OK ? AS_INVALID :
	    strcmp(row.status, "firing") == 0 ? AS_FIRING : AS_RESOLVED);

	memset(&out, 0, sizeof out);
	out.source = source;
	out.alarm_id = row.id;
	out.rc = arc;
	out.error = cause;
	if (arc == ALARM_OK && api->engine == NULL)
		out.pending = 1;
	else if (arc == ALARM_OK) {
		free(cause);
		cause = NULL;
		rc = engine_alarm_decide(api->engine, req->store, &row, batch,
		    0, &events, &cause);
		if (rc != STORE_OK) {
			log_warnx("alarm %s: stored, decided later: %s", row.id,
			    cause != NULL ? cause : store_rc_name(rc));
			out.pending = 1;
		}
		out.events = events;
	}
	if ((body = alarm_answer(&out, &status)) != NULL)
		api_reply(req, status, body);
	else
		api_alarm_error(req, arc == ALARM_TOO_LARGE ? 413 : 400,
		    row.id, out.error != NULL ? out.error : "invalid payload");
	api_alarm_observe(api, start_us);
out:
	json_decref(events);
	json_decref(row.headers);
	free(row.body);
	alarm_batch_free(batch);
	free(cause);
	free(reason);
	free(nonce);
	free(remote);
	free(h.v);
}

/* ---- the decision log ------------------------------------------------- */

/* An alarm as the list shows it. */
static json_t *
api_alarm_json(const struct store_alarm *a)
{
	char	*v, *p, *save;
	json_t	*vs;

	vs = json_array();
	if (a->verdicts != NULL) {
		v = xstrdup(a->verdicts);
		for (p = strtok_r(v, " ", &save); p != NULL;
		    p = strtok_r(NULL, " ", &save))
			json_array_append_new(vs, json_string(p));
		free(v);
	}
	return (json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, "
	    "s:o, s:I, s:o, s:o, s:o, s:o, s:I}",
	    "id", a->id, "source", a->source, "route", a->route,
	    "state", a->state, "status", api_strornull(a->status),
	    "remote", api_strornull(a->remote),
	    "request_id", api_strornull(a->request_id),
	    "error", api_strornull(a->error),
	    "event_count", (json_int_t)a->events, "verdicts", vs,
	    "size", (json_int_t)a->size,
	    "replay_of", api_strornull(a->replay_of),
	    "created_at", api_time(a->received_at),
	    "received_at", api_time(a->received_at),
	    "decided_at", api_time(a->decided_at),
	    "triggers_version", (json_int_t)a->triggers_version));
}

/*
 * A list of a table of the log: the query's filters (eq on verdict is
 * "one of those reached"), rows to JSON by tojson, under plural.
 */
static void
api_alarm_rows(struct api_req *req, const struct store_table *t,
    const struct api_field *fields, const char *plural,
    json_t *(*tojson)(const void *))
{
	struct api_list	  l;
	void		**v = NULL;
	size_t		  n = 0, i;
	enum store_rc	  rc;
	json_t		 *items;
	char		 *cause;

	if (api_list_parse(req, fields, "desc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	for (i = 0; i < l.nfilters; i++) {
		if (strcmp(l.filters[i].field, "verdict") == 0 &&
		    strcmp(l.filters[i].op, "eq") == 0)
			l.filters[i].op = "has";
	}
	rc = store_rows_list(req->store, t, &l.q, &v, &n);
	if (rc != STORE_OK) {
		api_store_error(req, rc, rc == STORE_ERROR, "List",
		    store_error(req->store));
		goto out;
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(items, tojson(v[i]));
		store_row_free(t, v[i]);
	}
	api_list_reply(req, &l, plural, items);
out:
	free(v);
	api_list_free(&l);
}

static json_t *
api_alarm_row_json(const void *row)
{
	return (api_alarm_json(row));
}

/* GET /v1/alarms */
void
api_alarm_list(struct api_req *req)
{
	api_alarm_rows(req, &store_alarm_table, api_alarm_fields, "alarms",
	    api_alarm_row_json);
}

/* A stored event as JSON. */
static json_t *
api_alarm_event_json(const struct store_alarm_event *ev)
{
	return (json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:{s:o, s:o, s:o}, "
	    "s:O, s:O, s:o, s:o}", "seq", (json_int_t)ev->seq,
	    "source", ev->source, "key", ev->key, "status", ev->status,
	    "name", api_strornull(ev->name),
	    "severity", api_strornull(ev->severity),
	    "resource", "kind", api_strornull(ev->resource_kind),
	    "id", api_strornull(ev->resource_id),
	    "host", api_strornull(ev->resource_host),
	    "labels", ev->labels != NULL ? ev->labels : json_null(),
	    "annotations", ev->annotations != NULL ? ev->annotations :
	    json_null(), "starts_at", api_strornull(ev->starts_at),
	    "verdicts", json_array()));
}

/* A stored decision as JSON. */
static json_t *
api_alarm_decision_json(const struct store_alarm_decision *d)
{
	json_t	*o;

	o = json_pack("{s:s, s:s, s:o, s:o, s:O, s:o, s:o}",
	    "trigger", d->trigger_name, "verdict", d->verdict,
	    "workflow", api_strornull(d->workflow),
	    "key", api_strornull(d->key),
	    "input", d->input != NULL ? d->input : json_null(),
	    "execution_id", api_strornull(d->execution_id),
	    "reason", api_strornull(d->reason));
	if (d->until_resolved)
		json_object_set_new(o, "until", json_string("resolved"));
	else if (d->until_at > 0)
		json_object_set_new(o, "until", api_time(d->until_at));
	if (d->limit_by != NULL)
		json_object_set_new(o, "limit_by", json_string(d->limit_by));
	return (o);
}

/* The alarm of the path's {id}, or NULL answered. */
static struct store_alarm *
api_alarm_param(struct api_req *req)
{
	struct store_alarm	*a = NULL;
	enum store_rc		 rc;
	char			*what;

	rc = store_row_load(req->store, &store_alarm_table, req->params[0],
	    &a);
	if (rc == STORE_OK)
		return (a);
	xasprintf(&what, "Alarm [id=%s]", req->params[0]);
	api_store_error(req, rc, 0, what, rc == STORE_NOTFOUND ? NULL :
	    store_error(req->store));
	free(what);
	return (NULL);
}

/* GET /v1/alarms/{id}: the alarm, its events, verdicts, executions. */
void
api_alarm_get(struct api_req *req)
{
	struct store_alarm		 *a;
	struct store_alarm_event	**ev = NULL;
	struct store_alarm_decision	**dv = NULL;
	struct store_exec		 *ex;
	size_t				  nev = 0, nd = 0, i;
	json_t				 *o, *events, *execs, *e;
	enum store_rc			  rc;

	if ((a = api_alarm_param(req)) == NULL)
		return;
	if ((rc = store_alarm_events_load(req->store, a->id, &ev, &nev)) !=
	    STORE_OK || (rc = store_alarm_decisions_load(req->store, a->id,
	    &dv, &nd)) != STORE_OK) {
		api_store_error(req, rc, 0, "Alarm", store_error(req->store));
		goto out;
	}
	o = api_alarm_json(a);
	json_object_set_new(o, "headers", a->headers != NULL ?
	    json_incref(a->headers) : json_object());
	json_object_set_new(o, "body", api_strornull(a->body));
	json_object_set_new(o, "encoding", api_strornull(a->encoding));
	events = json_array();
	for (i = 0; i < nev; i++)
		json_array_append_new(events, api_alarm_event_json(ev[i]));
	execs = json_array();
	for (i = 0; i < nd; i++) {
		e = json_array_get(events, (size_t)dv[i]->seq);
		if (e != NULL)
			json_array_append_new(json_object_get(e, "verdicts"),
			    api_alarm_decision_json(dv[i]));
		if (strcmp(dv[i]->verdict, "started") != 0 ||
		    dv[i]->execution_id == NULL)
			continue;
		ex = NULL;
		if (store_exec_load(req->store, dv[i]->execution_id, &ex) ==
		    STORE_OK) {
			json_array_append_new(execs, json_pack("{s:s, s:s, "
			    "s:s, s:o, s:o}", "id", ex->id, "workflow_name",
			    ex->workflow_name, "state", api_state_out(ex->state),
			    "state_info", api_strornull(ex->state_info),
			    "created_at", api_time(ex->created_at)));
			store_exec_free(ex);
		} else
			json_array_append_new(execs, json_pack("{s:s, s:n, "
			    "s:s}", "id", dv[i]->execution_id,
			    "workflow_name", "state", "DELETED"));
	}
	json_object_set_new(o, "events", events);
	json_object_set_new(o, "executions", execs);
	api_reply(req, 200, o);
out:
	for (i = 0; i < nev; i++)
		store_row_free(&store_alarm_event_table, ev[i]);
	for (i = 0; i < nd; i++)
		store_row_free(&store_alarm_decision_table, dv[i]);
	free(ev);
	free(dv);
	store_row_free(&store_alarm_table, a);
}

/*
 * POST /v1/alarms/{id}/replay[?apply=true]: decide a stored alarm again
 * against today's triggers.  Without apply nothing is written (the
 * verdicts say what would happen, duplicates included); with apply it
 * becomes a new alarm, replay_of the first, decided for real.
 */
void
api_alarm_replay(struct api_req *req)
{
	struct store_alarm	*a, copy;
	struct store_tx		*tx;
	json_t			*events = NULL;
	char			*cause = NULL;
	int			 apply;
	enum store_rc		 rc;

	if ((a = api_alarm_param(req)) == NULL)
		return;
	apply = api_query_bool(req, "apply");
	if (a->body == NULL || strcmp(a->state, ST_ALARM_INVALID) == 0) {
		api_error(req, 409, "Alarm %s is invalid (%s): there is "
		    "nothing to replay", a->id, a->error != NULL ? a->error :
		    "no body");
		goto out;
	}
	copy = *a;
	if (apply) {
		uuid_make(copy.id);
		copy.replay_of = a->id;
		copy.state = (char *)ST_ALARM_RECEIVED;
		copy.request_id = req->rid;
		copy.verdicts = NULL;
		copy.decided_at = 0;
		copy.received_at = time_now_ms();
		tx = store_tx_create();
		store_tx_insert(tx, &store_alarm_table, &copy);
		rc = api_alarm_commit(req->api, req->store, tx);
		store_tx_free(tx);
		if (rc != STORE_OK) {
			api_store_error(req, rc, 0, "Alarm",
			    store_error(req->store));
			goto out;
		}
	}
	if (req->api->engine == NULL) {
		api_error(req, 503, "No engine to decide alarms");
		goto out;
	}
	rc = engine_alarm_decide(req->api->engine, req->store, &copy, NULL,
	    !apply, &events, &cause);
	if (rc != STORE_OK) {
		api_store_error(req, rc, 0, "Alarm replay", cause);
		goto out;
	}
	api_reply(req, apply ? 201 : 200, json_pack("{s:s, s:o, s:b, s:O}",
	    "alarm_id", copy.id, "replay_of", api_strornull(a->id),
	    "applied", apply, "events", events));
out:
	json_decref(events);
	free(cause);
	store_row_free(&store_alarm_table, a);
}

/* GET /v1/triggers: the triggers in force. */
void
api_trigger_list(struct api_req *req)
{
	json_t		*arr;
	uint64_t	 version;

	if (req->api->engine == NULL) {
		api_error(req, 503, "No engine");
		return;
	}
	arr = engine_alarm_triggers(req->api->engine, &version);
	api_reply(req, 200, json_pack("{s:o, s:I}", "triggers", arr,
	    "version", (json_int_t)version));
}

/* A refused request as JSON; its id as text, for markers. */
static json_t *
api_auth_failure_json(const void *row)
{
	const struct store_alarm_auth_failure	*f = row;
	char					 id[32];

	snprintf(id, sizeof id, "%lld", (long long)f->id);
	return (json_pack("{s:s, s:o, s:s, s:o, s:o, s:I, s:o, s:o}", "id",
	    id, "created_at", api_time(f->time), "source", f->source,
	    "route", api_strornull(f->route), "remote",
	    api_strornull(f->remote), "size", (json_int_t)f->size, "reason",
	    api_strornull(f->reason), "request_id",
	    api_strornull(f->request_id)));
}

/* GET /v1/alarm_auth_failures */
void
api_alarm_auth_failures(struct api_req *req)
{
	api_alarm_rows(req, &store_alarm_auth_failure_table,
	    api_auth_failure_fields, "alarm_auth_failures",
	    api_auth_failure_json);
}
