/*
 * alarms-segments.c -- Masakari's failover segments and their hosts:
 * their JSON as Masakari's API shows it, the checks of its request
 * bodies (with its words), and the segments a workbook declares,
 * written to the store.
 *
 * A declared segment or host belongs to its workbook ("workbook:NAME"
 * in its source): loading the workbook creates or updates each by name,
 * and removes those it declared before and no longer does.  A value the
 * file writes is applied each time the file is loaded; one it leaves
 * out keeps what the row has (so reserved and on_maintenance, which
 * recoveries change, are not reset by an unrelated edit).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsl/dsl.h"
#include "store/store.h"
#include "alarms/alarms-int.h"

#define SEG_FIELD_MAX	255
#define SEG_TEXT_MAX	4096

/* ---- JSON out ------------------------------------------------------- */

/* Masakari's times: "2017-04-24T06:37:37.396000"; null for none. */
json_t *
alarm_masakari_time(int64_t ms)
{
	char	iso[32];

	if (ms <= 0)
		return (json_null());
	time_format_iso(ms, iso);
	/* "YYYY-MM-DDTHH:MM:SS.mmmZ" -> microseconds, no zone. */
	iso[23] = '\0';
	return (json_sprintf("%s000", iso));
}

/* A segment as Masakari shows it; enabled from microversion 1.2. */
json_t *
alarm_segment_json(const struct store_segment *s, int minor)
{
	json_t	*o;

	o = json_pack("{s:s,s:I,s:s,s:o,s:s,s:s,s:b,s:o,s:o,s:n}",
	    "uuid", s->uuid, "id", (json_int_t)s->id, "name", s->name,
	    "description", alarm_json_str(s->description),
	    "recovery_method", s->recovery_method,
	    "service_type", s->service_type, "deleted", 0,
	    "created_at", alarm_masakari_time(s->created_at),
	    "updated_at", alarm_masakari_time(s->updated_at > s->created_at ?
	    s->updated_at : 0), "deleted_at");
	if (minor >= 2)
		json_object_set_new(o, "enabled", json_boolean(s->enabled));
	/* bora's additions. */
	if (s->cloud != NULL)
		json_object_set_new(o, "cloud", json_string(s->cloud));
	if (s->options != NULL && json_object_size(s->options) > 0)
		json_object_set(o, "options", s->options);
	json_object_set_new(o, "source", alarm_json_str(s->source));
	return (o);
}

/* A host as Masakari shows it, with its segment when known. */
json_t *
alarm_host_json(const struct store_host *h, const struct store_segment *s,
    int minor)
{
	json_t	*o;

	o = json_pack("{s:s,s:I,s:s,s:s,s:s,s:b,s:b,s:s,s:b,s:o,s:o,s:n}",
	    "uuid", h->uuid, "id", (json_int_t)h->id, "name", h->name,
	    "type", h->type, "control_attributes", h->control_attributes,
	    "reserved", h->reserved, "on_maintenance", h->on_maintenance,
	    "failover_segment_id", h->segment_uuid, "deleted", 0,
	    "created_at", alarm_masakari_time(h->created_at),
	    "updated_at", alarm_masakari_time(h->updated_at > h->created_at ?
	    h->updated_at : 0), "deleted_at");
	if (s != NULL)
		json_object_set_new(o, "failover_segment",
		    alarm_segment_json(s, minor));
	json_object_set_new(o, "source", alarm_json_str(h->source));
	return (o);
}

/* ---- request bodies --------------------------------------------------- */

/* "Invalid input for field/attribute K. Value: V. why" */
static int
seg_invalid(char **cause, const char *key, json_t *v, const char *why)
{
	char	*show = alarm_json_show(v);

	xasprintf(cause, "Invalid input for field/attribute %s. Value: %s. %s",
	    key, show, why);
	free(show);
	return (-1);
}

/* Masakari's name: 1 to max characters, no space at either end. */
static int
seg_name(json_t *v, const char *key, size_t max, const char *chars,
    char **out, char **cause)
{
	const char	*s;
	size_t		 len;

	if (!json_is_string(v))
		return (seg_invalid(cause, key, v, "It is not a string."));
	s = json_string_value(v);
	len = strlen(s);
	if (len == 0 || len > max)
		return (seg_invalid(cause, key, v, "It must be 1 to 255 "
		    "characters long."));
	if (s[0] == ' ' || s[len - 1] == ' ')
		return (seg_invalid(cause, key, v, "It has a leading or "
		    "trailing space."));
	if (chars != NULL && strspn(s, chars) != len)
		return (seg_invalid(cause, key, v, "It does not match "
		    "'^[a-zA-Z0-9-._]*$'."));
	free(*out);
	*out = xstrdup(s);
	return (0);
}

/* Masakari's booleans: JSON's, or the strings oslo reads as one. */
static int
seg_bool(json_t *v, const char *key, int *out, char **cause)
{
	static const char *const yes[] = { "true", "1", "on", "yes", "y",
		"t", NULL };
	static const char *const no[] = { "false", "0", "off", "no", "n",
		"f", NULL };
	const char	*s;
	size_t		 i;

	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return (0);
	}
	if (json_is_string(v)) {
		s = json_string_value(v);
		for (i = 0; yes[i] != NULL; i++) {
			if (strcasecmp(s, yes[i]) == 0) {
				*out = 1;
				return (0);
			}
		}
		for (i = 0; no[i] != NULL; i++) {
			if (strcasecmp(s, no[i]) == 0) {
				*out = 0;
				return (0);
			}
		}
	}
	return (seg_invalid(cause, key, v, "It is not a boolean."));
}

/* The object under key of a body ({"segment": {...}}); -1 else. */
static json_t *
seg_body(json_t *body, const char *key, char **cause)
{
	json_t		*o;
	const char	*k;
	json_t		*v;

	if (!json_is_object(body) || (o = json_object_get(body,
	    key)) == NULL) {
		xasprintf(cause, "Invalid input for field/attribute %s. "
		    "Value: None. '%s' is a required property", key, key);
		return (NULL);
	}
	json_object_foreach(body, k, v) {
		if (strcmp(k, key) != 0) {
			xasprintf(cause, "Additional properties are not allowed "
			    "('%s' was unexpected)", k);
			return (NULL);
		}
	}
	if (!json_is_object(o)) {
		seg_invalid(cause, key, o, "It is not an object.");
		return (NULL);
	}
	return (o);
}

/* 1 if one of the NULL-terminated names. */
static int
seg_one_of(const char *s, const char *const *names)
{
	for (; *names != NULL; names++) {
		if (strcmp(s, *names) == 0)
			return (1);
	}
	return (0);
}

/* Check options against Masakari's flow options. */
static int
seg_options(json_t *v, char **cause)
{
	const struct dsl_flow_option	*o;
	const char			*k;
	json_t				*x;
	char				*why;

	if (!json_is_object(v))
		return (seg_invalid(cause, "options", v, "It is not an "
		    "object."));
	json_object_foreach(v, k, x) {
		if ((o = dsl_flow_option_find(k)) == NULL) {
			xasprintf(cause, "Invalid input for field/attribute "
			    "options. Unknown option '%s'.", k);
			return (-1);
		}
		if (dsl_flow_option_check(o, x, &why) != 0) {
			xasprintf(cause, "Invalid input for field/attribute "
			    "options. %s.", why);
			free(why);
			return (-1);
		}
	}
	return (0);
}

/*
 * Read a segment create (every required field) or update (the fields
 * given) into row; enabled from microversion 1.2.  0, or -1 and *cause
 * in Masakari's words (a 400).
 */
int
alarm_segment_read(json_t *body, int create, int minor,
    struct store_segment *row, char **cause)
{
	json_t		*o, *v;
	const char	*k;
	int		 b, n = 0;

	if ((o = seg_body(body, "segment", cause)) == NULL)
		return (-1);
	json_object_foreach(o, k, v) {
		n++;
		if (strcmp(k, "name") == 0) {
			if (seg_name(v, k, SEG_FIELD_MAX, NULL, &row->name,
			    cause) != 0)
				return (-1);
		} else if (strcmp(k, "service_type") == 0) {
			if (seg_name(v, k, SEG_FIELD_MAX, NULL,
			    &row->service_type, cause) != 0)
				return (-1);
		} else if (strcmp(k, "description") == 0) {
			if (!json_is_null(v) && (!json_is_string(v) ||
			    json_string_length(v) > SEG_FIELD_MAX))
				return (seg_invalid(cause, k, v, "It is not a "
				    "string of at most 255 characters."));
			free(row->description);
			row->description = json_is_null(v) ? NULL :
			    xstrdup(json_string_value(v));
		} else if (strcmp(k, "recovery_method") == 0) {
			if (!json_is_string(v) || !seg_one_of(
			    json_string_value(v), dsl_recovery_methods))
				return (seg_invalid(cause, k, v, "It is not one "
				    "of ['auto', 'reserved_host', "
				    "'auto_priority', 'rh_priority']."));
			free(row->recovery_method);
			row->recovery_method = xstrdup(json_string_value(v));
		} else if (strcmp(k, "enabled") == 0 && minor >= 2) {
			if (seg_bool(v, k, &b, cause) != 0)
				return (-1);
			row->enabled = b;
		} else if (strcmp(k, "cloud") == 0) {
			if (!json_is_null(v) && seg_name(v, k, SEG_FIELD_MAX,
			    NULL, &row->cloud, cause) != 0)
				return (-1);
			if (json_is_null(v)) {
				free(row->cloud);
				row->cloud = NULL;
			}
		} else if (strcmp(k, "options") == 0) {
			if (seg_options(v, cause) != 0)
				return (-1);
			json_decref(row->options);
			row->options = json_copy(v);
		} else {
			xasprintf(cause, "Additional properties are not allowed "
			    "('%s' was unexpected)", k);
			return (-1);
		}
	}
	if (create) {
		if (row->name == NULL || row->recovery_method == NULL ||
		    row->service_type == NULL) {
			xasprintf(cause, "Invalid input for field/attribute "
			    "segment. '%s' is a required property",
			    row->name == NULL ? "name" :
			    row->recovery_method == NULL ? "recovery_method" :
			    "service_type");
			return (-1);
		}
	} else if (n == 0) {
		xasprintf(cause, "Invalid input for field/attribute segment. "
		    "At least one property must be given.");
		return (-1);
	}
	return (0);
}

/* Read a host create or update into row; 0, or -1 and *cause. */
int
alarm_host_read(json_t *body, int create, struct store_host *row,
    char **cause)
{
	json_t		*o, *v;
	const char	*k;
	int		 b, n = 0;

	if ((o = seg_body(body, "host", cause)) == NULL)
		return (-1);
	json_object_foreach(o, k, v) {
		n++;
		if (strcmp(k, "name") == 0) {
			if (seg_name(v, k, SEG_FIELD_MAX, "abcdefghijklmnopqrstu"
			    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._",
			    &row->name, cause) != 0)
				return (-1);
		} else if (strcmp(k, "type") == 0) {
			if (seg_name(v, k, SEG_FIELD_MAX, NULL, &row->type,
			    cause) != 0)
				return (-1);
		} else if (strcmp(k, "control_attributes") == 0) {
			if (!json_is_string(v) || json_string_length(v) == 0 ||
			    json_string_length(v) > SEG_TEXT_MAX)
				return (seg_invalid(cause, k, v, "It is not a "
				    "non-empty string."));
			free(row->control_attributes);
			row->control_attributes = xstrdup(json_string_value(v));
		} else if (strcmp(k, "reserved") == 0) {
			if (seg_bool(v, k, &b, cause) != 0)
				return (-1);
			row->reserved = b;
		} else if (strcmp(k, "on_maintenance") == 0) {
			if (seg_bool(v, k, &b, cause) != 0)
				return (-1);
			row->on_maintenance = b;
		} else {
			xasprintf(cause, "Additional properties are not allowed "
			    "('%s' was unexpected)", k);
			return (-1);
		}
	}
	if (create) {
		if (row->name == NULL || row->type == NULL ||
		    row->control_attributes == NULL) {
			xasprintf(cause, "Invalid input for field/attribute "
			    "host. '%s' is a required property",
			    row->name == NULL ? "name" : row->type == NULL ?
			    "type" : "control_attributes");
			return (-1);
		}
	} else if (n == 0) {
		xasprintf(cause, "Invalid input for field/attribute host. At "
		    "least one property must be given.");
		return (-1);
	}
	return (0);
}

/* ---- declared in workbooks -------------------------------------------- */

/* Set a text member from a declared value, when written. */
static void
seg_decl_str(json_t *decl, const char *key, char **member, const char *dflt)
{
	json_t	*v = json_object_get(decl, key);

	if (json_is_string(v)) {
		free(*member);
		*member = xstrdup(json_string_value(v));
	} else if (*member == NULL && dflt != NULL)
		*member = xstrdup(dflt);
}

/* Set a flag from a declared value, when written. */
static void
seg_decl_bool(json_t *decl, const char *key, int *member)
{
	json_t	*v = json_object_get(decl, key);

	if (json_is_boolean(v))
		*member = json_is_true(v);
}

/* Is the name in the declared list (objects with "name")? */
static int
seg_declared(json_t *list, const char *name)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(list, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "name")),
		    name) == 0)
			return (1);
	}
	return (0);
}

/* Record the host rows of one declared segment. */
static enum store_rc
seg_apply_hosts(struct store *st, struct store_tx *tx, const char *owner,
    const char *seg_uuid, json_t *decl, char **cause)
{
	struct store_host	*h;
	json_t			*hd;
	const char		*name;
	enum store_rc		 rc;
	size_t			 i;
	int			 is_new;

	json_array_foreach(json_object_get(decl, "hosts"), i, hd) {
		name = json_string_value(json_object_get(hd, "name"));
		h = NULL;
		rc = store_host_find(st, name, &h);
		if (rc != STORE_OK && rc != STORE_NOTFOUND) {
			xasprintf(cause, "host %s: %s", name, store_error(st));
			return (rc);
		}
		if ((is_new = h == NULL)) {
			h = xcalloc(1, sizeof *h);
			uuid_make(h->uuid);
			h->name = xstrdup(name);
		}
		snprintf(h->segment_uuid, sizeof h->segment_uuid, "%s",
		    seg_uuid);
		seg_decl_str(hd, "type", &h->type, "COMPUTE");
		seg_decl_str(hd, "control_attributes",
		    &h->control_attributes, "SSH");
		seg_decl_bool(hd, "reserved", &h->reserved);
		seg_decl_bool(hd, "on_maintenance", &h->on_maintenance);
		free(h->source);
		h->source = xstrdup(owner);
		if (is_new)
			store_tx_insert(tx, &store_host_table, h);
		else
			store_tx_update(tx, &store_host_table, h, SF_ROW, NULL);
		store_host_free(h);
	}
	return (STORE_OK);
}

/*
 * Write the segments a workbook declares (dsl_workbook.segments; NULL:
 * none) to the store, owned by owner, in one change set.  STORE_CONFLICT
 * and *cause when a name is taken in a way that cannot be, and the
 * store's codes else.
 */
enum store_rc
alarm_segments_apply(struct store *st, const char *owner, json_t *segments,
    char **cause)
{
	struct store_segment	**segs = NULL, *s;
	struct store_host	**hosts = NULL;
	struct store_tx		*tx;
	json_t			*decl, *opts;
	enum store_rc		 rc;
	size_t			 nsegs = 0, nhosts, i, j;
	const char		*name;
	int			 is_new;

	*cause = NULL;
	if ((rc = store_segments_all(st, &segs, &nsegs)) != STORE_OK) {
		xasprintf(cause, "segments: %s", store_error(st));
		return (rc);
	}
	tx = store_tx_create();
	/* What the owner declared before and no longer does goes. */
	for (i = 0; i < nsegs; i++) {
		if (segs[i]->source == NULL ||
		    strcmp(segs[i]->source, owner) != 0)
			continue;
		if (!seg_declared(segments, segs[i]->name)) {
			store_tx_segment_delete(tx, segs[i]->uuid);
			continue;
		}
		decl = NULL;
		json_array_foreach(segments, j, decl) {
			if (strcmp(json_string_value(json_object_get(decl,
			    "name")), segs[i]->name) == 0)
				break;
		}
		hosts = NULL;
		nhosts = 0;
		if (store_hosts_of(st, segs[i]->uuid, &hosts,
		    &nhosts) == STORE_OK) {
			for (j = 0; j < nhosts; j++) {
				if (hosts[j]->source != NULL &&
				    strcmp(hosts[j]->source, owner) == 0 &&
				    !seg_declared(json_object_get(decl,
				    "hosts"), hosts[j]->name))
					store_tx_host_delete(tx,
					    hosts[j]->uuid);
				store_host_free(hosts[j]);
			}
			free(hosts);
		}
	}
	rc = STORE_OK;
	json_array_foreach(segments, i, decl) {
		name = json_string_value(json_object_get(decl, "name"));
		s = NULL;
		for (j = 0; j < nsegs; j++) {
			if (strcmp(segs[j]->name, name) == 0)
				s = segs[j];
		}
		if ((is_new = s == NULL)) {
			s = xcalloc(1, sizeof *s);
			uuid_make(s->uuid);
			s->name = xstrdup(name);
			s->enabled = 1;
		}
		seg_decl_str(decl, "recovery_method", &s->recovery_method,
		    "auto");
		seg_decl_str(decl, "service_type", &s->service_type,
		    "COMPUTE");
		seg_decl_str(decl, "description", &s->description, NULL);
		seg_decl_str(decl, "cloud", &s->cloud, NULL);
		seg_decl_bool(decl, "enabled", &s->enabled);
		if ((opts = json_object_get(decl, "options")) != NULL) {
			json_decref(s->options);
			s->options = json_copy(opts);
		}
		free(s->source);
		s->source = xstrdup(owner);
		if (is_new)
			store_tx_insert(tx, &store_segment_table, s);
		else
			store_tx_update(tx, &store_segment_table, s, SF_ROW,
			    NULL);
		rc = seg_apply_hosts(st, tx, owner, s->uuid, decl, cause);
		if (is_new)
			store_segment_free(s);
		if (rc != STORE_OK)
			break;
	}
	if (rc == STORE_OK && store_tx_size(tx) > 0 &&
	    (rc = store_tx_commit(st, tx)) != STORE_OK)
		xasprintf(cause, "segments of %s: %s", owner, store_error(st));
	store_tx_free(tx);
	for (i = 0; i < nsegs; i++)
		store_segment_free(segs[i]);
	free(segs);
	return (rc);
}
