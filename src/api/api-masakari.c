/*
 * api-masakari.c -- Masakari's API (v1, microversions 1.0 to 1.2), so
 * that masakari-monitors and the openstack CLI's segment, host and
 * notification commands work against borad unchanged: failover
 * segments and their hosts, and notifications, each answered with
 * Masakari's codes and shapes (errors are {"badRequest": {code,
 * message}} and the like).  Paths may carry a project id after /v1, as
 * Keystone catalogs write Masakari's endpoint.
 *
 * A notification is stored, and its recovery started, before the 202:
 * the notification row, the host put on maintenance and the execution
 * of the flow its type and segment call for go in one change set, under
 * a lock of the host's row that also refuses a duplicate within
 * masakari-duplicate-interval.  Its status then follows the execution
 * (engine-load.c and engine-end.c write it with the execution's moves).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarms/alarms.h"
#include "engine/engine.h"
#include "api/api-int.h"

#define MK_MIN_MINOR	0
#define MK_MAX_MINOR	2
#define MK_LIST_MAX	1000	/* Masakari's osapi_max_limit */

/* ---- wire habits ----------------------------------------------------- */

/* Masakari's error: {"badRequest": {"code": 400, "message": "..."}}. */
static void
mk_error(struct api_req *req, unsigned code, const char *fmt, ...)
{
	const char	*kind;
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	switch (code) {
	case 400:
		kind = "badRequest";
		break;
	case 401:
		kind = "unauthorized";
		break;
	case 403:
		kind = "forbidden";
		break;
	case 404:
		kind = "itemNotFound";
		break;
	case 406:
		kind = "notAcceptable";
		break;
	case 409:
		kind = "conflictingRequest";
		break;
	default:
		kind = "computeFault";
		break;
	}
	api_reply(req, code, json_pack("{s:{s:i,s:s}}", kind, "code",
	    (int)code, "message", msg));
	free(msg);
}

/* A store failure in Masakari's shape. */
static void
mk_store_error(struct api_req *req, enum store_rc rc, const char *what)
{
	mk_error(req, api_rc_status(rc, 1), "%s: %s", what,
	    store_error(req->store));
}

/*
 * The request's microversion ("OpenStack-API-Version: instance-ha 1.1";
 * none is 1.0, "latest" 1.2), echoed in the answer: its minor, or -1
 * after answering 406.
 */
static int
mk_version(struct api_req *req)
{
	const char	*h, *v;
	char		 echo[32], *end;
	long		 major, minor = MK_MIN_MINOR;

	api_header(req, "Vary", "OpenStack-API-Version");
	h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    "OpenStack-API-Version");
	if (h != NULL && strncasecmp(h, "instance-ha ", 12) == 0) {
		v = h + 12;
		while (*v == ' ')
			v++;
		if (strcasecmp(v, "latest") == 0)
			minor = MK_MAX_MINOR;
		else {
			major = strtol(v, &end, 10);
			if (*end == '.')
				minor = strtol(end + 1, &end, 10);
			if (major != 1 || *end != '\0' || minor < MK_MIN_MINOR ||
			    minor > MK_MAX_MINOR) {
				mk_error(req, 406, "Version %s is not supported "
				    "by the API. Minimum is 1.%d and maximum is "
				    "1.%d.", v, MK_MIN_MINOR, MK_MAX_MINOR);
				return (-1);
			}
		}
	}
	snprintf(echo, sizeof echo, "instance-ha 1.%ld", minor);
	api_header(req, "OpenStack-API-Version", echo);
	return ((int)minor);
}

/* Path parameter i counted from the end (0: the last). */
static const char *
mk_param(struct api_req *req, size_t from_end)
{
	return (req->params[req->nparams - 1 - from_end]);
}

/*
 * Masakari's resources as rows of the store: the table, the names on
 * the wire, the words of its errors, how a row is found by uuid and how
 * it is shown (a host with its segment).
 */
struct mk_kind {
	const struct store_table *table;
	const char		*one;		/* "segment" */
	const char		*many;		/* "segments" */
	const char		*what;		/* "Failover segment" */
	enum store_rc		(*find)(struct store *, const char *, void *);
	json_t			*(*json)(const void *, const void *, int);
};

static enum store_rc
mk_find_segment(struct store *s, const char *id, void *out)
{
	return (store_segment_find(s, id, out));
}

static enum store_rc
mk_find_host(struct store *s, const char *id, void *out)
{
	return (store_host_find(s, id, out));
}

static enum store_rc
mk_find_notification(struct store *s, const char *id, void *out)
{
	return (store_notification_find(s, id, out));
}

static json_t *
mk_json_segment(const void *row, const void *seg, int minor)
{
	(void)seg;
	return (alarm_segment_json(row, minor));
}

static json_t *
mk_json_host(const void *row, const void *seg, int minor)
{
	return (alarm_host_json(row, seg, minor));
}

static json_t *
mk_json_notification(const void *row, const void *seg, int minor)
{
	(void)seg;
	(void)minor;
	return (alarm_notification_json(row));
}

static const struct mk_kind mk_segments = { &store_segment_table, "segment",
	"segments", "Failover segment", mk_find_segment, mk_json_segment };
static const struct mk_kind mk_hosts = { &store_host_table, "host", "hosts",
	"Host", mk_find_host, mk_json_host };
static const struct mk_kind mk_notifications = { &store_notification_table,
	"notification", "notifications", "Notification", mk_find_notification,
	mk_json_notification };

/* Answer a list of rows of a kind (seg: the hosts' segment, or NULL). */
static void
mk_list_reply(struct api_req *req, const struct mk_kind *k,
    const struct store_query *q, const void *seg, int minor)
{
	void		**v = NULL;
	enum store_rc	 rc;
	json_t		*items;
	size_t		 n = 0, i;

	rc = store_rows_list(req->store, k->table, q, &v, &n);
	if (rc != STORE_OK) {
		mk_error(req, rc == STORE_ERROR ? 400 : api_rc_status(rc, 1),
		    "%s", store_error(req->store));
		return;
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(items, k->json(v[i], seg, minor));
		store_row_free(k->table, v[i]);
	}
	free(v);
	api_reply(req, 200, json_pack("{s:o}", k->many, items));
}

/*
 * Write a row of a kind (created, or its SF_ROW fields updated) and
 * answer with it as stored; a name taken is Masakari's 409.
 */
static void
mk_save(struct api_req *req, const struct mk_kind *k, const void *row,
    const char *uuid, const char *name, int create, const void *seg,
    int minor)
{
	struct store_tx	*tx;
	void		*again = NULL;
	enum store_rc	 rc;

	tx = store_tx_create();
	if (create)
		store_tx_insert(tx, k->table, row);
	else
		store_tx_update(tx, k->table, row, SF_ROW, NULL);
	rc = store_tx_commit(req->store, tx);
	store_tx_free(tx);
	if (rc == STORE_CONFLICT) {
		mk_error(req, 409, "%s with name %s already exists.", k->what,
		    name);
		return;
	}
	if (rc == STORE_OK)
		rc = k->find(req->store, uuid, &again);
	if (rc != STORE_OK) {
		mk_store_error(req, rc, k->one);
		return;
	}
	api_reply(req, create ? 201 : 200, json_pack("{s:o}", k->one,
	    k->json(again, seg, minor)));
	store_row_free(k->table, again);
}

/* Apply a delete of a row of a kind: 204, or 404 when it is gone. */
static void
mk_delete(struct api_req *req, const struct mk_kind *k, struct store_tx *tx,
    const char *uuid)
{
	enum store_rc	 rc;

	rc = store_tx_commit(req->store, tx);
	store_tx_free(tx);
	if (rc == STORE_OK)
		api_reply(req, 204, NULL);
	else if (rc == STORE_NOTFOUND)
		mk_error(req, 404, "%s %s could not be found.", k->what, uuid);
	else
		mk_store_error(req, rc, k->one);
}

/*
 * A list query of Masakari's: filters (query name -> store field, the
 * value checked by the store), sort_key (created_at by default) and
 * sort_dir (desc), limit, and marker (a uuid of a row of kind k).  0,
 * or -1 after answering 400.
 */
struct mk_list {
	struct store_filter	 f[8];
	size_t			 nf;
	const char		*keys[2];
	int			 desc[2];
	char			 marker[32];
	struct store_query	 q;
};

static int
mk_list_parse(struct api_req *req, const char *const (*filters)[2],
    const struct mk_kind *k, struct mk_list *l)
{
	const char	*v, *dir;
	char		*end;
	long		 n;
	size_t		 i;

	memset(l, 0, sizeof *l);
	for (i = 0; filters != NULL && filters[i][0] != NULL &&
	    l->nf < nitems(l->f); i++) {
		if ((v = api_query(req, filters[i][0])) == NULL)
			continue;
		l->f[l->nf].field = filters[i][1];
		l->f[l->nf].op = strncmp(filters[i][1], "generated", 9) == 0 ?
		    "gte" : "eq";
		/* Booleans on the wire, 0 or 1 in the store. */
		if (strcasecmp(v, "true") == 0)
			v = "1";
		else if (strcasecmp(v, "false") == 0)
			v = "0";
		l->f[l->nf++].value = v;
	}
	l->keys[0] = api_query(req, "sort_key");
	if (l->keys[0] == NULL)
		l->keys[0] = "created_at";
	dir = api_query(req, "sort_dir");
	if (dir != NULL && strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0) {
		mk_error(req, 400, "Invalid sort direction: %s", dir);
		return (-1);
	}
	l->desc[0] = l->desc[1] = dir == NULL || strcmp(dir, "desc") == 0;
	l->keys[1] = "id";
	l->q.filters = l->f;
	l->q.nfilters = l->nf;
	l->q.sort_keys = l->keys;
	l->q.sort_desc = l->desc;
	l->q.nsort = strcmp(l->keys[0], "id") == 0 ? 1 : 2;
	l->q.limit = MK_LIST_MAX;
	if ((v = api_query(req, "limit")) != NULL) {
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || n < 0) {
			mk_error(req, 400, "limit param must be an integer");
			return (-1);
		}
		if (n > 0 && n < MK_LIST_MAX)
			l->q.limit = (size_t)n;
	}
	if ((v = api_query(req, "marker")) != NULL) {
		void		*row = NULL;

		/* Rows are keyed by number: the marker's is looked up. */
		if (k->find(req->store, v, &row) != STORE_OK) {
			mk_error(req, 400, "Marker %s could not be found.", v);
			return (-1);
		}
		/* Every row struct starts with its int64_t id. */
		snprintf(l->marker, sizeof l->marker, "%lld",
		    (long long)*(int64_t *)row);
		store_row_free(k->table, row);
		l->q.marker = l->marker;
	}
	return (0);
}

/* ---- versions --------------------------------------------------------- */

/* GET /v1: Masakari's version document (keystoneauth's discovery). */
void
api_masakari_version(struct api_req *req)
{
	char	*base, *href;

	base = api_base_url(req);
	xasprintf(&href, "%s/v1/", base);
	api_reply(req, 200, json_pack("{s:{s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s}],"
	    "s:[{s:s,s:s}]}}", "version", "id", "v1.0", "status", "CURRENT",
	    "version", "1.2", "min_version", "1.0", "updated",
	    "2016-07-01T11:33:21Z", "links", "href", href, "rel", "self",
	    "media-types", "base", "application/json", "type",
	    "application/vnd.openstack.masakari+json;version=1"));
	free(href);
	free(base);
}

/* ---- segments ---------------------------------------------------------- */

/* The segment of the path, or NULL after answering 404. */
static struct store_segment *
mk_segment(struct api_req *req, const char *id)
{
	struct store_segment	*s = NULL;
	enum store_rc		 rc;

	if ((rc = store_segment_find(req->store, id, &s)) == STORE_OK &&
	    strcmp(s->uuid, id) == 0)
		return (s);
	store_segment_free(s);
	if (rc == STORE_OK || rc == STORE_NOTFOUND)
		mk_error(req, 404, "Failover segment %s could not be found.",
		    id);
	else
		mk_store_error(req, rc, "segment");
	return (NULL);
}

/* GET /v1/segments */
void
api_masakari_segment_list(struct api_req *req)
{
	static const char *const filters[][2] = {
		{ "recovery_method", "recovery_method" },
		{ "service_type", "service_type" },
		{ "is_enabled", "enabled" },
		{ NULL, NULL }
	};
	struct mk_list		 l;
	int			 minor;

	if ((minor = mk_version(req)) >= 0 &&
	    mk_list_parse(req, filters, &mk_segments, &l) == 0)
		mk_list_reply(req, &mk_segments, &l.q, NULL, minor);
}

/* GET /v1/segments/{id} */
void
api_masakari_segment_get(struct api_req *req)
{
	struct store_segment	*s;
	int			 minor;

	if ((minor = mk_version(req)) < 0 ||
	    (s = mk_segment(req, mk_param(req, 0))) == NULL)
		return;
	api_reply(req, 200, json_pack("{s:o}", "segment",
	    alarm_segment_json(s, minor)));
	store_segment_free(s);
}


/* POST /v1/segments */
void
api_masakari_segment_create(struct api_req *req)
{
	struct store_segment	*s;
	char			*cause = NULL;
	int			 minor;

	if ((minor = mk_version(req)) < 0)
		return;
	s = xcalloc(1, sizeof *s);
	s->enabled = 1;
	if (alarm_segment_read(req->json, 1, minor, s, &cause) != 0) {
		mk_error(req, 400, "%s", cause);
		free(cause);
		store_segment_free(s);
		return;
	}
	uuid_make(s->uuid);
	s->source = xstrdup("api");
	mk_save(req, &mk_segments, s, s->uuid, s->name, 1, NULL, minor);
	store_segment_free(s);
}

/*
 * Is a host (or any host of a segment) being recovered?  Masakari
 * refuses to change it then: 1 after answering 409.
 */
static int
mk_in_use(struct api_req *req, const char *host_uuid, const char *what,
    const char *id)
{
	struct store_filter		 f[2];
	struct store_query		 q;
	struct store_notification	**v = NULL;
	size_t				 n = 0, i;

	memset(&q, 0, sizeof q);
	f[0].field = "source_host_uuid";
	f[0].op = "eq";
	f[0].value = host_uuid;
	f[1].field = "status";
	f[1].op = "in";
	f[1].value = "new,running";
	q.filters = f;
	q.nfilters = 2;
	q.limit = 1;
	if (store_rows_list(req->store, &store_notification_table, &q, &v,
	    &n) != STORE_OK)
		n = 0;
	for (i = 0; i < n; i++)
		store_notification_free(v[i]);
	free(v);
	if (n > 0)
		mk_error(req, 409, "%s %s is in use: a notification of it is "
		    "being processed.", what, id);
	return (n > 0);
}

/* Is a host of the segment being recovered (answered 409)? */
static int
mk_segment_in_use(struct api_req *req, const struct store_segment *s)
{
	struct store_host	**h = NULL;
	size_t			 n = 0, i;
	int			 busy = 0;

	if (store_hosts_of(req->store, s->uuid, &h, &n) != STORE_OK)
		n = 0;
	for (i = 0; i < n; i++) {
		if (!busy && mk_in_use(req, h[i]->uuid, "Failover segment",
		    s->uuid))
			busy = 1;
		store_host_free(h[i]);
	}
	free(h);
	return (busy);
}

/* PUT /v1/segments/{id} */
void
api_masakari_segment_update(struct api_req *req)
{
	struct store_segment	*s;
	char			*cause = NULL;
	int			 minor;

	if ((minor = mk_version(req)) < 0 ||
	    (s = mk_segment(req, mk_param(req, 0))) == NULL)
		return;
	if (alarm_segment_read(req->json, 0, minor, s, &cause) != 0) {
		mk_error(req, 400, "%s", cause);
		free(cause);
	} else if (!mk_segment_in_use(req, s))
		mk_save(req, &mk_segments, s, s->uuid, s->name, 0, NULL,
		    minor);
	store_segment_free(s);
}

/* DELETE /v1/segments/{id}: with its hosts. */
void
api_masakari_segment_delete(struct api_req *req)
{
	struct store_segment	*s;
	struct store_tx		*tx;

	if (mk_version(req) < 0 ||
	    (s = mk_segment(req, mk_param(req, 0))) == NULL)
		return;
	if (!mk_segment_in_use(req, s)) {
		tx = store_tx_create();
		store_tx_segment_delete(tx, s->uuid);
		mk_delete(req, &mk_segments, tx, s->uuid);
	}
	store_segment_free(s);
}

/* ---- hosts ----------------------------------------------------------- */

/* The host of the path in its segment, or NULL after answering 404. */
static struct store_host *
mk_host(struct api_req *req, const struct store_segment *s, const char *id)
{
	struct store_host	*h = NULL;
	enum store_rc		 rc;

	rc = store_host_find(req->store, id, &h);
	if (rc == STORE_OK && strcmp(h->uuid, id) == 0 &&
	    strcmp(h->segment_uuid, s->uuid) == 0)
		return (h);
	store_host_free(h);
	if (rc == STORE_OK || rc == STORE_NOTFOUND)
		mk_error(req, 404, "Host %s could not be found.", id);
	else
		mk_store_error(req, rc, "host");
	return (NULL);
}

/* GET /v1/segments/{id}/hosts */
void
api_masakari_host_list(struct api_req *req)
{
	static const char *const filters[][2] = {
		{ "type", "type" },
		{ "control_attributes", "control_attributes" },
		{ "on_maintenance", "on_maintenance" },
		{ "reserved", "reserved" },
		{ NULL, NULL }
	};
	struct store_segment	*s;
	struct mk_list		 l;
	int			 minor;

	if ((minor = mk_version(req)) < 0 ||
	    (s = mk_segment(req, mk_param(req, 0))) == NULL)
		return;
	if (mk_list_parse(req, filters, &mk_hosts, &l) == 0) {
		l.f[l.nf].field = "failover_segment_id";
		l.f[l.nf].op = "eq";
		l.f[l.nf++].value = s->uuid;
		l.q.nfilters = l.nf;
		mk_list_reply(req, &mk_hosts, &l.q, s, minor);
	}
	store_segment_free(s);
}

/* GET /v1/segments/{id}/hosts/{host} */
void
api_masakari_host_get(struct api_req *req)
{
	struct store_segment	*s;
	struct store_host	*h;
	int			 minor;

	if ((minor = mk_version(req)) < 0 ||
	    (s = mk_segment(req, mk_param(req, 1))) == NULL)
		return;
	if ((h = mk_host(req, s, mk_param(req, 0))) != NULL) {
		api_reply(req, 200, json_pack("{s:o}", "host",
		    alarm_host_json(h, s, minor)));
		store_host_free(h);
	}
	store_segment_free(s);
}


/* POST /v1/segments/{id}/hosts */
void
api_masakari_host_create(struct api_req *req)
{
	struct store_segment	*s;
	struct store_host	*h;
	char			*cause = NULL;
	int			 minor;

	if ((minor = mk_version(req)) < 0 ||
	    (s = mk_segment(req, mk_param(req, 0))) == NULL)
		return;
	h = xcalloc(1, sizeof *h);
	if (alarm_host_read(req->json, 1, h, &cause) != 0) {
		mk_error(req, 400, "%s", cause);
		free(cause);
	} else {
		uuid_make(h->uuid);
		snprintf(h->segment_uuid, sizeof h->segment_uuid, "%s",
		    s->uuid);
		h->source = xstrdup("api");
		mk_save(req, &mk_hosts, h, h->uuid, h->name, 1, s, minor);
	}
	store_host_free(h);
	store_segment_free(s);
}

/* PUT /v1/segments/{id}/hosts/{host} */
void
api_masakari_host_update(struct api_req *req)
{
	struct store_segment	*s;
	struct store_host	*h;
	char			*cause = NULL;
	int			 minor;

	if ((minor = mk_version(req)) < 0 ||
	    (s = mk_segment(req, mk_param(req, 1))) == NULL)
		return;
	if ((h = mk_host(req, s, mk_param(req, 0))) != NULL) {
		if (alarm_host_read(req->json, 0, h, &cause) != 0) {
			mk_error(req, 400, "%s", cause);
			free(cause);
		} else if (!mk_in_use(req, h->uuid, "Host", h->uuid))
			mk_save(req, &mk_hosts, h, h->uuid, h->name, 0, s,
			    minor);
		store_host_free(h);
	}
	store_segment_free(s);
}

/* DELETE /v1/segments/{id}/hosts/{host} */
void
api_masakari_host_delete(struct api_req *req)
{
	struct store_segment	*s;
	struct store_host	*h;
	struct store_tx		*tx;

	if (mk_version(req) < 0 ||
	    (s = mk_segment(req, mk_param(req, 1))) == NULL)
		return;
	if ((h = mk_host(req, s, mk_param(req, 0))) != NULL) {
		if (!mk_in_use(req, h->uuid, "Host", h->uuid)) {
			tx = store_tx_create();
			store_tx_host_delete(tx, h->uuid);
			mk_delete(req, &mk_hosts, tx, h->uuid);
		}
		store_host_free(h);
	}
	store_segment_free(s);
}

/* ---- notifications ----------------------------------------------------- */

/* Answer a notification the store refused (guards) in Masakari's words. */
static void
mk_note_refused(struct api_req *req, enum store_rc rc,
    const struct store_notification *n, const char *cause)
{
	if (rc == STORE_CONFLICT && cause != NULL &&
	    strstr(cause, "maintenance") != NULL)
		mk_error(req, 409, "Notification received from host %s of type "
		    "'%s' is ignored as the host is already under maintenance.",
		    n->hostname, n->type);
	else if (rc == STORE_CONFLICT)
		mk_error(req, 409, "Notification received from host %s of type "
		    "'%s' is duplicate.", n->hostname, n->type);
	else if (rc == STORE_UNAVAILABLE)
		mk_error(req, 503, "The store is unavailable: %s; send the "
		    "notification again", cause != NULL ? cause : "");
	else
		mk_error(req, api_rc_status(rc, 1), "%s", cause != NULL ?
		    cause : store_rc_name(rc));
}

/*
 * POST /v1/notifications: Masakari's checks (400 for an unknown host,
 * 409 while it is on maintenance or for a duplicate), then in one
 * change set the notification, the host on maintenance and the
 * execution of its flow.  202 with the notification, status "new".
 */
void
api_masakari_notification_create(struct api_req *req)
{
	struct store_notification	*n, *again = NULL;
	struct store_segment		*seg = NULL;
	struct store_host		*host = NULL, **hosts = NULL;
	struct alarm_note_decision	 d;
	struct engine_start_opts	 o;
	struct store_tx			*tx;
	enum store_rc			 rc;
	json_t				*params, *out;
	char				*cause = NULL, *desc = NULL;
	char				 exec_id[UUID_STRLEN];
	size_t				 nhosts = 0, i;

	if (mk_version(req) < 0)
		return;
	if (req->api->engine == NULL) {
		mk_error(req, 503, "No engine runs the recoveries here");
		return;
	}
	memset(&d, 0, sizeof d);
	n = xcalloc(1, sizeof *n);
	if (alarm_notification_read(req->json, n, &cause) != 0) {
		mk_error(req, 400, "%s", cause);
		goto out;
	}
	rc = store_host_find(req->store, n->hostname, &host);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK &&
	    strcmp(host->name, n->hostname) != 0)) {
		mk_error(req, 400, "Host with name %s could not be found.",
		    n->hostname);
		goto out;
	}
	if (rc != STORE_OK ||
	    (rc = store_segment_find(req->store, host->segment_uuid,
	    &seg)) != STORE_OK) {
		mk_store_error(req, rc, "notification");
		goto out;
	}
	if (host->on_maintenance) {
		mk_note_refused(req, STORE_CONFLICT, n, "maintenance");
		goto out;
	}
	if ((rc = store_hosts_of(req->store, seg->uuid, &hosts,
	    &nhosts)) != STORE_OK) {
		mk_store_error(req, rc, "notification");
		goto out;
	}
	uuid_make(n->notification_uuid);
	n->source_host_uuid = xstrdup(host->uuid);
	n->request_id = xstrdup(req->rid);
	alarm_notification_decide(n, host, seg, hosts, nhosts, &d);
	n->state = xstrdup(d.status);
	n->state_info = d.reason != NULL ? xstrdup(d.reason) : NULL;
	if (d.workflow != NULL) {
		uuid_make(exec_id);
		n->workflow = xstrdup(d.workflow);
		n->execution_id = xstrdup(exec_id);
	}

	tx = store_tx_create();
	store_tx_notification_unique(tx, host->name, n->dedup,
	    n->generated_time - req->api->cfg.masakari_dup_ms);
	if (d.maintain)
		store_tx_host_maintain(tx, host->name, d.unreserve);
	store_tx_insert(tx, &store_notification_table, n);
	if (d.workflow == NULL) {
		rc = store_tx_commit(req->store, tx);
		if (rc != STORE_OK)
			cause = xstrdup(store_error(req->store));
	} else {
		/* The recovery runs with the segment's credentials. */
		params = json_pack("{s:s}", "notification_uuid",
		    n->notification_uuid);
		if (seg->cloud != NULL)
			json_object_set_new(params, "cloud",
			    json_string(seg->cloud));
		xasprintf(&desc, "Masakari notification %s (%s of %s)",
		    n->notification_uuid, n->type, n->hostname);
		memset(&o, 0, sizeof o);
		o.workflow = d.workflow;
		o.input = d.input;
		o.params = params;
		o.id = exec_id;
		o.description = desc;
		o.request_id = req->rid;
		o.also = tx;
		rc = engine_exec_start(req->api->engine, &o, NULL, &cause);
		json_decref(params);
	}
	store_tx_free(tx);
	if (rc != STORE_OK) {
		mk_note_refused(req, rc, n, cause);
		goto out;
	}
	/* As stored (its id), and as Masakari answers before its engine
	 * looks: "new". */
	if (store_notification_find(req->store, n->notification_uuid,
	    &again) == STORE_OK) {
		store_notification_free(n);
		n = again;
	}
	out = alarm_notification_json(n);
	json_object_set_new(out, "status", json_string("new"));
	api_reply(req, 202, json_pack("{s:o}", "notification", out));

out:
	alarm_note_decision_free(&d);
	free(desc);
	free(cause);
	for (i = 0; i < nhosts; i++)
		store_host_free(hosts[i]);
	free(hosts);
	store_host_free(host);
	store_segment_free(seg);
	store_notification_free(n);
}

/* GET /v1/notifications */
void
api_masakari_notification_list(struct api_req *req)
{
	static const char *const filters[][2] = {
		{ "source_host_uuid", "source_host_uuid" },
		{ "type", "type" },
		{ "status", "status" },
		{ "generated-since", "generated_time" },
		{ NULL, NULL }
	};
	struct mk_list		 l;
	int			 minor;

	if ((minor = mk_version(req)) >= 0 &&
	    mk_list_parse(req, filters, &mk_notifications, &l) == 0)
		mk_list_reply(req, &mk_notifications, &l.q, NULL, minor);
}

/* The progress details of a notification's recovery (1.1 and later). */
static json_t *
mk_details(struct api_req *req, const char *exec_id)
{
	struct store_filter	 f;
	struct store_query	 q;
	struct store_exec	**ex = NULL, *root = NULL;
	struct store_task	**tasks = NULL;
	struct store_event	**ev = NULL;
	size_t			 nex = 0, nt = 0, nev = 0, i;
	char			**ids;
	json_t			*out;

	if (store_exec_load(req->store, exec_id, &root) != STORE_OK)
		return (json_array());
	memset(&q, 0, sizeof q);
	f.field = "root_execution_id";
	f.op = "eq";
	f.value = exec_id;
	q.filters = &f;
	q.nfilters = 1;
	(void)store_exec_list(req->store, &q, &ex, &nex);
	ex = xreallocarray(ex, nex + 1, sizeof *ex);
	ex[nex++] = root;
	ids = xcalloc(nex, sizeof *ids);
	for (i = 0; i < nex; i++)
		ids[i] = ex[i]->id;
	(void)store_tasks_load_many(req->store, ids, nex, &tasks, &nt);
	(void)store_events_load_tree(req->store, exec_id, &ev, &nev);
	out = alarm_workflow_details(ev, nev, tasks, nt, ex, nex);
	for (i = 0; i < nev; i++)
		store_event_free(ev[i]);
	for (i = 0; i < nt; i++)
		store_task_free(tasks[i]);
	for (i = 0; i < nex; i++)
		store_exec_free(ex[i]);
	free(ev);
	free(tasks);
	free(ex);
	free(ids);
	return (out);
}

/* GET /v1/notifications/{id} */
void
api_masakari_notification_get(struct api_req *req)
{
	struct store_notification	*n = NULL;
	const char			*id = mk_param(req, 0);
	enum store_rc			 rc;
	json_t				*out;
	int				 minor;

	if ((minor = mk_version(req)) < 0)
		return;
	if ((rc = store_notification_find(req->store, id, &n)) != STORE_OK) {
		if (rc == STORE_NOTFOUND)
			mk_error(req, 404, "No notification with id %s.", id);
		else
			mk_store_error(req, rc, "notification");
		return;
	}
	out = alarm_notification_json(n);
	if (minor >= 1)
		json_object_set_new(out, "recovery_workflow_details",
		    n->execution_id != NULL ? mk_details(req,
		    n->execution_id) : json_array());
	api_reply(req, 200, json_pack("{s:o}", "notification", out));
	store_notification_free(n);
}
