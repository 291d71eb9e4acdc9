/*
 * alarm-zabbix.c -- Zabbix's webhook media type.  Zabbix has no fixed
 * payload: the media type's script posts the parameters the operator
 * chose.  bora reads the parameter set its manual recommends:
 *
 *	{"event_id": "{EVENT.ID}", "event_value": "{EVENT.VALUE}",
 *	 "event_update_status": "{EVENT.UPDATE.STATUS}",
 *	 "event_name": "{EVENT.NAME}", "event_severity": "{EVENT.SEVERITY}",
 *	 "event_time": "{EVENT.DATE} {EVENT.TIME}",
 *	 "event_tags": "{EVENT.TAGS}", "host": "{HOST.HOST}", ...}
 *
 * One event keyed by event_id (recovery and update messages reuse it);
 * event_value 1 is firing, 0 resolved.  event_tags ("k:v,k2:v2", or the
 * JSON form [{"tag": k, "value": v}]) become labels; every other string
 * or number parameter is an annotation.  A macro Zabbix left unresolved
 * ("{EVENT.RECOVERY.ID}") counts as absent.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarms-int.h"

static int	zabbix_parse(struct alarm_pctx *, json_t *);

const struct alarm_source alarm_source_zabbix = {
	.name = "zabbix",
	.route = "/v1/alarms/zabbix",
	.parse = zabbix_parse
};

/* Parameters read into event fields, not copied as annotations. */
static const char *const zabbix_fields[] = {
	"event_id", "event_value", "event_name", "event_severity",
	"event_time", "event_tags", "host"
};

/* 1 if s is a macro Zabbix did not resolve, like "{EVENT.RECOVERY.ID}". */
static int
zabbix_macro(const char *s)
{
	size_t	n = strlen(s), i;

	if (n < 3 || s[0] != '{' || s[n - 1] != '}')
		return (0);
	for (i = 1; i < n - 1; i++) {
		if (!isupper((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_')
			return (0);
	}
	return (1);
}

/*
 * A parameter as text: a string that is not an unresolved macro, or an
 * integer.  NULL when absent; -1 reported for other kinds.
 */
static int
zabbix_param(struct alarm_pctx *ctx, json_t *body, const char *key,
    int required, char **out)
{
	json_t	*v;
	char	 path[64];

	*out = NULL;
	snprintf(path, sizeof path, "$.%s", key);
	v = json_object_get(body, key);
	if (json_is_integer(v))
		xasprintf(out, "%lld", (long long)json_integer_value(v));
	else if (json_is_string(v) && json_string_length(v) > 0 &&
	    !zabbix_macro(json_string_value(v)))
		*out = xstrdup(json_string_value(v));
	else if (v != NULL && !json_is_null(v) && !json_is_string(v))
		return (alarm_perr(ctx, path, "expected a string, got %s",
		    alarm_json_kind(v)));
	if (*out == NULL && required)
		return (alarm_perr(ctx, path, v == NULL ? "missing" :
		    "no value (an unresolved macro?)"));
	return (0);
}

/* Labels from "k:v,k2:v2" (a tag without ':' has the value ""). */
static void
zabbix_tags_text(const char *s, json_t *labels)
{
	const char	*p, *end, *colon;
	char		*k;

	for (p = s; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		colon = memchr(p, ':', (size_t)(end - p));
		k = xstrndup(p, (size_t)((colon != NULL ? colon : end) - p));
		if (*k != '\0')
			json_object_set_new(labels, k, colon != NULL ?
			    json_stringn(colon + 1, (size_t)(end - colon - 1)) :
			    json_string(""));
		free(k);
	}
}

/* Labels from event_tags in either form. */
static int
zabbix_tags(struct alarm_pctx *ctx, json_t *body, json_t *labels)
{
	json_t		*v, *t;
	const char	*tag, *val;
	char		 path[64];
	size_t		 i;

	v = json_object_get(body, "event_tags");
	if (v == NULL || json_is_null(v))
		return (0);
	if (json_is_string(v)) {
		if (!zabbix_macro(json_string_value(v)))
			zabbix_tags_text(json_string_value(v), labels);
		return (0);
	}
	if (!json_is_array(v))
		return (alarm_perr(ctx, "$.event_tags", "expected a string or "
		    "an array, got %s", alarm_json_kind(v)));
	json_array_foreach(v, i, t) {
		snprintf(path, sizeof path, "$.event_tags[%zu]", i);
		if (!json_is_object(t))
			return (alarm_perr(ctx, path, "expected an object, "
			    "got %s", alarm_json_kind(t)));
		if (alarm_get_str(ctx, t, path, "tag", ALARM_REQUIRED |
		    ALARM_NONEMPTY, &tag) != 0 ||
		    alarm_get_str(ctx, t, path, "value", 0, &val) != 0)
			return (-1);
		json_object_set_new(labels, tag, json_string(val != NULL ?
		    val : ""));
	}
	return (0);
}

/* Other string and number parameters as annotations. */
static void
zabbix_annotations(json_t *body, json_t *ann)
{
	const char	*k;
	json_t		*v;
	char		*text;
	size_t		 i;

	json_object_foreach(body, k, v) {
		for (i = 0; i < nitems(zabbix_fields); i++) {
			if (strcmp(k, zabbix_fields[i]) == 0)
				break;
		}
		if (i < nitems(zabbix_fields))
			continue;
		if (json_is_string(v)) {
			if (!zabbix_macro(json_string_value(v)))
				json_object_set(ann, k, v);
		} else if (json_is_number(v)) {
			text = json_dumps(v, JSON_ENCODE_ANY);
			json_object_set_new(ann, k, json_string(text));
			free(text);
		}
	}
}

/* One Zabbix message. */
static int
zabbix_parse(struct alarm_pctx *ctx, json_t *body)
{
	struct alarm_event	*ev;
	char			*id = NULL, *value = NULL, *name = NULL;
	char			*trig = NULL, *sev = NULL, *t = NULL, *host = NULL;
	int			 rc = -1;

	if (!json_is_object(body))
		return (alarm_perr(ctx, "$", "expected an object, got %s",
		    alarm_json_kind(body)));
	if (zabbix_param(ctx, body, "event_id", 1, &id) != 0 ||
	    zabbix_param(ctx, body, "event_value", 1, &value) != 0 ||
	    zabbix_param(ctx, body, "event_name", 0, &name) != 0 ||
	    zabbix_param(ctx, body, "trigger_name", 0, &trig) != 0 ||
	    zabbix_param(ctx, body, "event_severity", 0, &sev) != 0 ||
	    zabbix_param(ctx, body, "event_time", 0, &t) != 0 ||
	    zabbix_param(ctx, body, "host", 0, &host) != 0)
		goto out;
	if (strcmp(value, "1") != 0 && strcmp(value, "0") != 0) {
		alarm_perr(ctx, "$.event_value", "expected 1 (problem) or 0 "
		    "(recovery), got \"%.40s\"", value);
		goto out;
	}
	if ((ev = alarm_event_add(ctx, "$")) == NULL ||
	    alarm_event_key(ctx, ev, "$.event_id", id) != 0)
		goto out;
	ev->status = strcmp(value, "1") == 0 ? ALARM_FIRING : ALARM_RESOLVED;
	ev->name = alarm_strdup(name != NULL ? name : trig);
	ev->severity = alarm_lower(sev);
	ev->starts_at = alarm_strdup(t);
	if (host != NULL) {
		ev->res_kind = ALARM_RES_HOST;
		ev->res_id = xstrdup(host);
		ev->res_host = xstrdup(host);
	} else
		ev->res_kind = ALARM_RES_OTHER;
	if (zabbix_tags(ctx, body, ev->labels) != 0)
		goto out;
	zabbix_annotations(body, ev->annotations);
	ev->raw = json_incref(body);
	rc = 0;
out:
	free(id);
	free(value);
	free(name);
	free(trig);
	free(sev);
	free(t);
	free(host);
	return (rc);
}
