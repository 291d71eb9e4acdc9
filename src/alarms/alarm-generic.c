/*
 * alarm-generic.c -- bora's own shape, for any sender that can post
 * JSON (documented in borad(8)): one alert object, or an array of them.
 *
 *	{"key": "disk-sda-compute-1", "status": "firing",
 *	 "name": "DiskFailing", "severity": "warning",
 *	 "resource": {"kind": "host", "id": "compute-1",
 *	 "host": "compute-1"}, "labels": {"disk": "sda"},
 *	 "annotations": {"summary": "..."}, "starts_at": "2024-05-14T09:21Z"}
 *
 * key is required (a string or an integer), or for a single object
 * given by the Idempotency-Key header; status is "firing" (default) or
 * "resolved"; resource.kind is host, instance or other (default: host
 * when only resource.host is given, else other).  Other members are
 * kept in raw.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarms-int.h"

static int	generic_parse(struct alarm_pctx *, json_t *);

const struct alarm_source alarm_source_generic = {
	.name = "generic",
	.route = "/v1/alarms/generic",
	.parse = generic_parse
};

/* 1 if a header value is UTF-8 without control characters. */
static int
generic_text(const char *s)
{
	json_t	*j;
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (0);
	}
	if ((j = json_string(s)) == NULL)
		return (0);
	json_decref(j);
	return (1);
}

/* The resource member. */
static int
generic_resource(struct alarm_pctx *ctx, json_t *a, const char *path,
    struct alarm_event *ev)
{
	json_t		*r;
	const char	*kind, *id, *host;
	char		 rp[80];
	size_t		 i;

	ev->res_kind = ALARM_RES_OTHER;
	if (alarm_get_obj(ctx, a, path, "resource", 0, &r) != 0)
		return (-1);
	if (r == NULL)
		return (0);
	snprintf(rp, sizeof rp, "%s.resource", path);
	if (alarm_get_str(ctx, r, rp, "kind", 0, &kind) != 0 ||
	    alarm_get_str(ctx, r, rp, "id", 0, &id) != 0 ||
	    alarm_get_str(ctx, r, rp, "host", 0, &host) != 0)
		return (-1);
	ev->res_id = alarm_strdup(id);
	ev->res_host = alarm_strdup(host);
	if (kind == NULL) {
		if (host != NULL && id == NULL) {
			ev->res_kind = ALARM_RES_HOST;
			ev->res_id = xstrdup(host);
		}
		return (0);
	}
	for (i = ALARM_RES_HOST; i <= ALARM_RES_OTHER; i++) {
		if (strcmp(kind, alarm_res_kind_name(i)) == 0) {
			ev->res_kind = i;
			return (0);
		}
	}
	snprintf(rp, sizeof rp, "%s.resource.kind", path);
	return (alarm_perr(ctx, rp, "expected \"host\", \"instance\" or "
	    "\"other\", got \"%.40s\"", kind));
}

/* One alert object at path; hdrkey is the Idempotency-Key or NULL. */
static int
generic_alert(struct alarm_pctx *ctx, json_t *a, const char *path,
    const char *hdrkey)
{
	struct alarm_event	*ev;
	json_t			*k;
	const char		*st, *name, *sev, *starts;
	char			 kp[80], num[32];
	const char		*key;

	if (!json_is_object(a))
		return (alarm_perr(ctx, path, "expected an object, got %s",
		    alarm_json_kind(a)));
	snprintf(kp, sizeof kp, "%s.key", path);
	k = json_object_get(a, "key");
	if (json_is_integer(k)) {
		snprintf(num, sizeof num, "%lld",
		    (long long)json_integer_value(k));
		key = num;
	} else if (json_is_string(k))
		key = json_string_value(k);
	else if (k != NULL && !json_is_null(k))
		return (alarm_perr(ctx, kp, "expected a string, got %s",
		    alarm_json_kind(k)));
	else if ((key = hdrkey) == NULL)
		return (alarm_perr(ctx, kp, "missing (and no Idempotency-Key "
		    "header)"));
	else if (!generic_text(key))
		return (alarm_perr(ctx, "Idempotency-Key header", "not "
		    "UTF-8 text"));
	if (alarm_get_str(ctx, a, path, "status", 0, &st) != 0 ||
	    alarm_get_str(ctx, a, path, "name", 0, &name) != 0 ||
	    alarm_get_str(ctx, a, path, "severity", 0, &sev) != 0 ||
	    alarm_get_str(ctx, a, path, "starts_at", 0, &starts) != 0)
		return (-1);
	if (st != NULL && strcmp(st, "firing") != 0 &&
	    strcmp(st, "resolved") != 0) {
		snprintf(kp, sizeof kp, "%s.status", path);
		return (alarm_perr(ctx, kp, "expected \"firing\" or "
		    "\"resolved\", got \"%.40s\"", st));
	}
	if ((ev = alarm_event_add(ctx, path)) == NULL ||
	    alarm_event_key(ctx, ev, kp, key) != 0)
		return (-1);
	ev->status = st != NULL && strcmp(st, "resolved") == 0 ?
	    ALARM_RESOLVED : ALARM_FIRING;
	ev->name = alarm_strdup(name);
	ev->severity = alarm_lower(sev);
	ev->starts_at = alarm_strdup(starts);
	if (generic_resource(ctx, a, path, ev) != 0 ||
	    alarm_get_strmap(ctx, a, path, "labels", ev->labels) != 0 ||
	    alarm_get_strmap(ctx, a, path, "annotations",
	    ev->annotations) != 0)
		return (-1);
	ev->raw = json_incref(a);
	return (0);
}

/* An alert object or an array of them. */
static int
generic_parse(struct alarm_pctx *ctx, json_t *body)
{
	json_t	*a;
	char	 path[64];
	size_t	 i;

	if (json_is_object(body))
		return (generic_alert(ctx, body, "$",
		    alarm_header_find(ctx->req, "Idempotency-Key")));
	if (!json_is_array(body))
		return (alarm_perr(ctx, "$", "expected an object or an "
		    "array, got %s", alarm_json_kind(body)));
	if (json_array_size(body) > ctx->lim.max_events)
		return (alarm_perr_large(ctx, "$", "%zu alerts, more than %zu "
		    "(limit alarm-max-events)", json_array_size(body),
		    ctx->lim.max_events));
	json_array_foreach(body, i, a) {
		snprintf(path, sizeof path, "$[%zu]", i);
		if (generic_alert(ctx, a, path, NULL) != 0)
			return (-1);
	}
	return (0);
}
