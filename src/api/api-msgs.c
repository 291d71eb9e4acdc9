/*
 * api-msgs.c -- what users are told: /v2/messages (Cinder's user
 * messages: list with filters on every field, time ranges, sort and
 * paging; get; delete) and /v2/notifications (the outbox of notify's
 * events: list, get, and send a given-up one again).
 *
 * The texts come from the catalog (src/msg) when the rows are made;
 * nothing here writes one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "engine/engine.h"
#include "api/api-int.h"

/* Filter and sort fields: Cinder's names, as the store's whitelist. */
static const struct api_field api_msg_fields[] = {
	{ "id", "id" },
	{ "project_id", "project_id" },
	{ "request_id", "request_id" },
	{ "event_id", "event_id" },
	{ "message_level", "message_level" },
	{ "resource_type", "resource_type" },
	{ "resource_uuid", "resource_uuid" },
	{ "user_message", "user_message" },
	{ "created_at", "created_at" },
	{ "expires_at", "expires_at" },
	{ NULL, NULL }
};

static const struct api_field api_outbox_fields[] = {
	{ "id", "id" },
	{ "execution_id", "execution_id" },
	{ "event", "event" },
	{ "target", "target" },
	{ "state", "state" },
	{ "last_error", "last_error" },
	{ "seq", "seq" },
	{ "attempts", "attempts" },
	{ "next_at", "next_at" },
	{ "sent_at", "sent_at" },
	{ "created_at", "created_at" },
	{ "updated_at", "updated_at" },
	{ NULL, NULL }
};

/* A message as the API shows it. */
static json_t *
api_msg_json(const struct store_message *m)
{
	return (json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o}", "id", m->id, "project_id", api_strornull(m->project_id),
	    "request_id", api_strornull(m->request_id), "event_id",
	    api_strornull(m->event_id), "message_level",
	    api_strornull(m->level), "resource_type",
	    api_strornull(m->resource_type), "resource_uuid",
	    api_strornull(m->resource_uuid), "user_message",
	    api_strornull(m->message), "created_at", api_time(m->created_at),
	    "expires_at", api_time(m->expires_at)));
}

/*
 * A notification as the API shows it: its receiver's header names, not
 * their values (they may be credentials).
 */
static json_t *
api_outbox_json(const struct store_outbox *o)
{
	json_t		*names, *v;
	const char	*k;

	names = json_array();
	json_object_foreach(o->headers, k, v)
		json_array_append_new(names, json_string(k));
	return (json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:i, s:o, s:o, "
	    "s:o, s:o, s:o, s:o, s:O?}", "id", o->id, "execution_id",
	    o->execution_id, "seq", (json_int_t)o->seq, "event",
	    api_strornull(o->event), "target", api_strornull(o->target),
	    "state", api_strornull(o->state), "attempts", o->attempts,
	    "last_error", api_strornull(o->last_error), "next_at",
	    api_time(o->state != NULL && strcmp(o->state, ST_PENDING) == 0 ?
	    o->next_at : 0), "sent_at", api_time(o->sent_at), "created_at",
	    api_time(o->created_at), "updated_at", api_time(o->updated_at),
	    "header_names", names, "body", o->body));
}

/*
 * project_id is a field of messages, though lists of other resources
 * ignore it (bora has one project): add its filter to l.
 */
static void
api_msg_project(struct api_req *req, struct api_list *l)
{
	const char		*v = api_query(req, "project_id");
	struct store_filter	*f;

	if (v == NULL)
		return;
	l->filters = xreallocarray(l->filters, l->nfilters + 1,
	    sizeof *l->filters);
	f = &l->filters[l->nfilters++];
	f->field = "project_id";
	f->op = "eq";
	f->value = v;		/* the request's, alive while it is */
	l->q.filters = l->filters;
	l->q.nfilters = l->nfilters;
}

/* GET /v2/messages: newest first unless sorted otherwise. */
void
api_msg_list(struct api_req *req)
{
	struct api_list		  l;
	struct store_message	**v = NULL;
	size_t			  n = 0, i;
	enum store_rc		  rc;
	json_t			 *items;
	char			 *cause;

	if (api_list_parse(req, api_msg_fields, "desc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	api_msg_project(req, &l);
	rc = store_message_list(req->store, &l.q, &v, &n);
	if (rc != STORE_OK) {
		api_store_error(req, rc, rc == STORE_ERROR, "Message list",
		    store_error(req->store));
		goto out;
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(items, api_msg_json(v[i]));
		store_message_free(v[i]);
	}
	api_list_reply(req, &l, "messages", items);
out:
	free(v);
	api_list_free(&l);
}

/*
 * The row of table t whose id is the request's path parameter; NULL
 * when there is none, answered "<name> not found [id=...]".
 */
static void *
api_row_param(struct api_req *req, const struct store_table *t,
    const char *name)
{
	void		*row = NULL;
	enum store_rc	 rc;
	char		*what;

	rc = store_row_load(req->store, t, req->params[0], &row);
	if (rc == STORE_OK)
		return (row);
	xasprintf(&what, "%s [id=%s]", name, req->params[0]);
	api_store_error(req, rc, 0, what, rc == STORE_NOTFOUND ? NULL :
	    store_error(req->store));
	free(what);
	return (NULL);
}

/* GET /v2/messages/{id} */
void
api_msg_get(struct api_req *req)
{
	struct store_message	*m;

	if ((m = api_row_param(req, &store_message_table, "Message")) == NULL)
		return;
	api_reply(req, 200, api_msg_json(m));
	store_message_free(m);
}

/* DELETE /v2/messages/{id} */
void
api_msg_delete(struct api_req *req)
{
	enum store_rc	 rc;
	char		*what;

	rc = store_message_delete(req->store, req->params[0]);
	if (rc != STORE_OK) {
		xasprintf(&what, "Message [id=%s]", req->params[0]);
		api_store_error(req, rc, 0, what, rc == STORE_NOTFOUND ? NULL :
		    store_error(req->store));
		free(what);
		return;
	}
	api_reply(req, 204, NULL);
}

/* GET /v2/notifications: newest first unless sorted otherwise. */
void
api_outbox_list(struct api_req *req)
{
	struct api_list		  l;
	struct store_outbox	**v = NULL;
	size_t			  n = 0, i;
	enum store_rc		  rc;
	json_t			 *items, *o;
	char			 *cause;

	if (api_list_parse(req, api_outbox_fields, "desc", &l,
	    &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	rc = store_outbox_list(req->store, &l.q, &v, &n);
	if (rc != STORE_OK) {
		api_store_error(req, rc, rc == STORE_ERROR,
		    "Notification list", store_error(req->store));
		goto out;
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		o = api_outbox_json(v[i]);
		/* Bodies only when asked for: lists stay small. */
		if (l.nfields == 0)
			json_object_del(o, "body");
		json_array_append_new(items, o);
		store_outbox_free(v[i]);
	}
	api_list_reply(req, &l, "notifications", items);
out:
	free(v);
	api_list_free(&l);
}

/* A notification by the id of the request's path; NULL: answered. */
static struct store_outbox *
api_outbox_param(struct api_req *req)
{
	return (api_row_param(req, &store_outbox_table, "Notification"));
}

/* GET /v2/notifications/{id} */
void
api_outbox_get(struct api_req *req)
{
	struct store_outbox	*o;

	if ((o = api_outbox_param(req)) == NULL)
		return;
	api_reply(req, 200, api_outbox_json(o));
	store_outbox_free(o);
}

/* PUT /v2/notifications/{id} {"state": "PENDING"}: send it again. */
void
api_outbox_update(struct api_req *req)
{
	struct store_outbox	*o;
	const char		*st;
	enum store_rc		 rc;

	st = json_string_value(json_object_get(req->json, "state"));
	if (st == NULL || strcmp(st, ST_PENDING) != 0) {
		api_error(req, 400, "The body must be {\"state\": "
		    "\"PENDING\"}: a notification given up (DEAD) is sent "
		    "again");
		return;
	}
	if ((o = api_outbox_param(req)) == NULL)
		return;
	if (strcmp(o->state, ST_DEAD) != 0) {
		api_error(req, 409, "Notification %s is %s: only one given up "
		    "(DEAD) can be sent again", o->id, o->state);
		store_outbox_free(o);
		return;
	}
	store_outbox_free(o);
	rc = store_outbox_requeue(req->store, req->params[0]);
	if (rc == STORE_NOTFOUND)
		rc = STORE_CONFLICT;	/* sent again meanwhile */
	if (rc != STORE_OK) {
		api_store_error(req, rc, 0, "Notification",
		    store_error(req->store));
		return;
	}
	if ((o = api_outbox_param(req)) == NULL)
		return;
	if (req->api->engine != NULL)
		engine_outbox_poke(req->api->engine);
	api_reply(req, 200, api_outbox_json(o));
	store_outbox_free(o);
}
