/*
 * dsl-segment.c -- the "segments:" section of a workbook: Masakari's
 * failover segments and their hosts, declared in a file instead of
 * through the API, and the table of Masakari's flow options.
 *
 *	segments:
 *	  rack-a:
 *	    recovery_method: reserved_host
 *	    service_type: COMPUTE
 *	    enabled: true
 *	    cloud: production
 *	    options: {wait_period_after_evacuation: 120}
 *	    hosts:
 *	      compute-1: {}
 *	      compute-4: {reserved: true}
 *
 * Shapes and values are checked where each was written; the rows are
 * written to the store when the workbook is loaded (alarm_segments_apply).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dsl/dsl-int.h"

#define DSL_FIELD_MAX	255	/* Masakari's string fields */

static void	 dsl_segment_hosts(struct dsl_pctx *, struct dsl_node *,
		     json_t *, json_t *);

const char *const dsl_recovery_methods[] = {
	"auto", "reserved_host", "auto_priority", "rh_priority", NULL
};

/*
 * Masakari's options of its flows ([DEFAULT], [host_failure],
 * [instance_failure], [process_failure]), as the shipped workflows take
 * them, and bora's force_down.
 */
const struct dsl_flow_option dsl_flow_options[] = {
	{ "wait_period_after_service_update", DSL_OPT_SECONDS,
	  DSL_FLOW_HOST | DSL_FLOW_PROCESS },
	{ "wait_period_after_evacuation", DSL_OPT_SECONDS, DSL_FLOW_HOST },
	{ "verify_interval", DSL_OPT_SECONDS,
	  DSL_FLOW_HOST | DSL_FLOW_INSTANCE | DSL_FLOW_PROCESS },
	{ "wait_period_after_power_off", DSL_OPT_SECONDS,
	  DSL_FLOW_HOST | DSL_FLOW_INSTANCE },
	{ "wait_period_after_power_on", DSL_OPT_SECONDS, DSL_FLOW_INSTANCE },
	{ "host_failure_recovery_threads", DSL_OPT_COUNT, DSL_FLOW_HOST },
	{ "evacuate_all_instances", DSL_OPT_BOOL, DSL_FLOW_HOST },
	{ "ha_enabled_instance_metadata_key", DSL_OPT_STRING,
	  DSL_FLOW_HOST | DSL_FLOW_INSTANCE },
	{ "ignore_instances_in_error_state", DSL_OPT_BOOL, DSL_FLOW_HOST },
	{ "add_reserved_host_to_aggregate", DSL_OPT_BOOL, DSL_FLOW_HOST },
	{ "service_disable_reason", DSL_OPT_STRING,
	  DSL_FLOW_HOST | DSL_FLOW_PROCESS },
	{ "process_all_instances", DSL_OPT_BOOL, DSL_FLOW_INSTANCE },
	{ "force_down", DSL_OPT_BOOL, DSL_FLOW_HOST },
	{ NULL, 0, 0 }
};

/* The option of that name, or NULL. */
const struct dsl_flow_option *
dsl_flow_option_find(const char *name)
{
	const struct dsl_flow_option	*o;

	for (o = dsl_flow_options; o->name != NULL; o++) {
		if (strcmp(o->name, name) == 0)
			return (o);
	}
	return (NULL);
}

/* 0 if v suits option o, else -1 and *cause saying what it wants. */
int
dsl_flow_option_check(const struct dsl_flow_option *o, json_t *v,
    char **cause)
{
	switch (o->type) {
	case DSL_OPT_SECONDS:
		if (json_is_number(v) && json_number_value(v) >= 0 &&
		    json_number_value(v) <= 86400)
			return (0);
		xasprintf(cause, "%s: expected seconds from 0 to 86400",
		    o->name);
		return (-1);
	case DSL_OPT_COUNT:
		if (json_is_integer(v) && json_integer_value(v) >= 1 &&
		    json_integer_value(v) <= 1000)
			return (0);
		xasprintf(cause, "%s: expected a whole number from 1 to 1000",
		    o->name);
		return (-1);
	case DSL_OPT_BOOL:
		if (json_is_boolean(v))
			return (0);
		xasprintf(cause, "%s: expected true or false", o->name);
		return (-1);
	case DSL_OPT_STRING:
		if (json_is_string(v) && json_string_length(v) > 0 &&
		    json_string_length(v) <= DSL_FIELD_MAX)
			return (0);
		xasprintf(cause, "%s: expected a string of 1 to %d characters",
		    o->name, DSL_FIELD_MAX);
		return (-1);
	}
	return (-1);
}

/* 1 if s is one of the NULL-terminated names. */
static int
dsl_name_in(const char *s, const char *const *names)
{
	for (; *names != NULL; names++) {
		if (strcmp(s, *names) == 0)
			return (1);
	}
	return (0);
}

/* A string field of at most DSL_FIELD_MAX characters into obj.key. */
static void
dsl_segment_str(struct dsl_pctx *ctx, struct dsl_node *n, json_t *obj,
    const char *key)
{
	char	*s;

	if ((s = dsl_node_str(ctx, n)) == NULL)
		return;
	if (*s == '\0' || strlen(s) > DSL_FIELD_MAX)
		dsl_perr(ctx, n, "expected 1 to %d characters", DSL_FIELD_MAX);
	else
		json_object_set_new(obj, key, json_string(s));
	free(s);
}

/* A plain true or false into obj.key. */
static void
dsl_segment_bool(struct dsl_pctx *ctx, struct dsl_node *n, json_t *obj,
    const char *key)
{
	json_t	*j = NULL;

	if (n->type == DSL_NSCALAR)
		j = dsl_scalar_json(n->s, n->len, n->plain);
	if (json_is_boolean(j))
		json_object_set(obj, key, j);
	else
		dsl_perr(ctx, n, "expected true or false");
	json_decref(j);
}

/* options: {name: value} of dsl_flow_options. */
static void
dsl_segment_options(struct dsl_pctx *ctx, struct dsl_node *n, json_t *seg,
    const char *key)
{
	const struct dsl_flow_option	*o;
	struct dsl_node			*k;
	json_t				*opts, *v;
	size_t				 i, old;
	char				*cause;

	if (dsl_expect(ctx, n, DSL_NMAP) != 0)
		return;
	opts = json_object();
	for (i = 0; i + 1 < n->n; i += 2) {
		k = n->v[i];
		if (k->type != DSL_NSCALAR || k->dup) {
			dsl_key_find(ctx, k, NULL, 0);
			continue;
		}
		old = dsl_path_push(ctx, k->s);
		if ((o = dsl_flow_option_find(k->s)) == NULL)
			dsl_perr(ctx, k, "unknown option '%s'", k->s);
		else {
			v = n->v[i + 1]->type == DSL_NSCALAR ?
			    dsl_scalar_json(n->v[i + 1]->s, n->v[i + 1]->len,
			    n->v[i + 1]->plain) : NULL;
			if (v == NULL || dsl_flow_option_check(o, v,
			    &cause) != 0) {
				dsl_perr(ctx, n->v[i + 1], "%s", v == NULL ?
				    "expected a value" : cause);
				if (v != NULL)
					free(cause);
			} else
				json_object_set(opts, k->s, v);
			json_decref(v);
		}
		dsl_path_pop(ctx, old);
	}
	json_object_set_new(seg, key, opts);
}

/* recovery_method: one of Masakari's. */
static void
dsl_segment_method(struct dsl_pctx *ctx, struct dsl_node *n, json_t *obj,
    const char *key)
{
	char	*s;

	if ((s = dsl_node_str(ctx, n)) == NULL)
		return;
	if (!dsl_name_in(s, dsl_recovery_methods))
		dsl_perr(ctx, n, "unknown recovery method '%s' (expected auto, "
		    "reserved_host, auto_priority or rh_priority)", s);
	else
		json_object_set_new(obj, key, json_string(s));
	free(s);
}

/*
 * The keys of a segment and of a host, each with what reads its value
 * into the object being built (hosts: dsl_segment_hosts).
 */
struct dsl_seg_key {
	const char	*key;
	void		(*read)(struct dsl_pctx *, struct dsl_node *, json_t *,
			    const char *);
};
static const struct dsl_seg_key dsl_segment_keys[] = {
	{ "recovery_method", dsl_segment_method },
	{ "service_type", dsl_segment_str },
	{ "description", dsl_segment_str },
	{ "enabled", dsl_segment_bool },
	{ "cloud", dsl_segment_str },
	{ "options", dsl_segment_options },
	{ "hosts", NULL },
};
static const struct dsl_seg_key dsl_host_keys[] = {
	{ "type", dsl_segment_str },
	{ "control_attributes", dsl_segment_str },
	{ "reserved", dsl_segment_bool },
	{ "on_maintenance", dsl_segment_bool },
};

/*
 * Read a mapping's keys of table keys into obj, each under its path;
 * "hosts" goes to dsl_segment_hosts with seen.
 */
static void
dsl_segment_keys_read(struct dsl_pctx *ctx, struct dsl_node *n, json_t *obj,
    const struct dsl_seg_key *keys, size_t nkeys, json_t *seen)
{
	const char	*names[8];
	size_t		 i, old;
	int		 k;

	for (i = 0; i < nkeys; i++)
		names[i] = keys[i].key;
	for (i = 0; i + 1 < n->n; i += 2) {
		if ((k = dsl_key_find(ctx, n->v[i], names, nkeys)) == -1)
			continue;
		old = dsl_path_push(ctx, keys[k].key);
		if (keys[k].read != NULL)
			keys[k].read(ctx, n->v[i + 1], obj, keys[k].key);
		else
			dsl_segment_hosts(ctx, n->v[i + 1], obj, seen);
		dsl_path_pop(ctx, old);
	}
}

/* One host: name: {type, control_attributes, reserved, on_maintenance}. */
static json_t *
dsl_host_parse(struct dsl_pctx *ctx, struct dsl_node *k, struct dsl_node *n)
{
	json_t	*h;

	h = json_pack("{s:s}", "name", k->s);
	if (strlen(k->s) == 0 || strlen(k->s) > DSL_FIELD_MAX ||
	    strspn(k->s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-._") != strlen(k->s))
		dsl_perr(ctx, k, "invalid host name '%s' (letters, digits, "
		    "'-', '.' and '_', at most %d)", k->s, DSL_FIELD_MAX);
	if (!dsl_node_null(n) && dsl_expect(ctx, n, DSL_NMAP) == 0)
		dsl_segment_keys_read(ctx, n, h, dsl_host_keys,
		    nitems(dsl_host_keys), NULL);
	return (h);
}

/* hosts: {name: {...}} or a list of names. */
static void
dsl_segment_hosts(struct dsl_pctx *ctx, struct dsl_node *n, json_t *seg,
    json_t *seen)
{
	struct dsl_node	*k, *v;
	json_t		*hosts;
	size_t		 i, old, step;

	if (n->type == DSL_NSCALAR) {
		dsl_perr(ctx, n, "expected a mapping of host names, or a list");
		return;
	}
	hosts = json_array();
	step = n->type == DSL_NMAP ? 2 : 1;
	for (i = 0; i + step - 1 < n->n; i += step) {
		k = n->v[i];
		v = step == 2 ? n->v[i + 1] : NULL;
		if (k->type != DSL_NSCALAR || dsl_node_null(k) || k->dup) {
			if (k->dup)
				dsl_key_find(ctx, k, NULL, 0);
			else
				dsl_perr(ctx, k, "expected a host name");
			continue;
		}
		old = step == 2 ? dsl_path_push(ctx, k->s) :
		    dsl_path_pushi(ctx, i);
		if (json_object_get(seen, k->s) != NULL)
			dsl_perr(ctx, k, "host '%s' is declared twice (a host "
			    "belongs to one segment)", k->s);
		else {
			json_object_set_new(seen, k->s, json_true());
			json_array_append_new(hosts, v != NULL ?
			    dsl_host_parse(ctx, k, v) :
			    json_pack("{s:s}", "name", k->s));
		}
		dsl_path_pop(ctx, old);
	}
	json_object_set_new(seg, "hosts", hosts);
}

/* One segment: name: {recovery_method, ...}. */
static json_t *
dsl_segment_parse(struct dsl_pctx *ctx, struct dsl_node *k,
    struct dsl_node *n, json_t *seen)
{
	json_t	*seg;

	seg = json_pack("{s:s}", "name", k->s);
	if (strlen(k->s) == 0 || strlen(k->s) > DSL_FIELD_MAX)
		dsl_perr(ctx, k, "expected a segment name of 1 to %d "
		    "characters", DSL_FIELD_MAX);
	if (dsl_expect(ctx, n, DSL_NMAP) != 0)
		return (seg);
	dsl_segment_keys_read(ctx, n, seg, dsl_segment_keys,
	    nitems(dsl_segment_keys), seen);
	if (dsl_map_get(n, "recovery_method") == NULL)
		dsl_perr(ctx, n, "missing required key 'recovery_method'");
	return (seg);
}

/* Read the "segments:" section of a workbook into wb->segments. */
void
dsl_segments_parse(struct dsl_pctx *ctx, struct dsl_node *m)
{
	struct dsl_node	*k;
	json_t		*seen;
	size_t		 i, old;

	if (dsl_expect(ctx, m, DSL_NMAP) != 0)
		return;
	json_decref(ctx->wb->segments);
	ctx->wb->segments = json_array();
	seen = json_object();
	for (i = 0; i + 1 < m->n; i += 2) {
		k = m->v[i];
		if (k->type != DSL_NSCALAR || k->dup) {
			dsl_key_find(ctx, k, NULL, 0);
			continue;
		}
		old = dsl_path_push(ctx, k->s);
		json_array_append_new(ctx->wb->segments,
		    dsl_segment_parse(ctx, k, m->v[i + 1], seen));
		dsl_path_pop(ctx, old);
	}
	json_decref(seen);
}
