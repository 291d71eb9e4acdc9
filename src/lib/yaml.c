/*
 * yaml.c -- a small YAML document read into JSON values, for the data
 * files that are not workflows: clouds.yaml and the simulator's
 * scenarios.  Workflows keep their own parser (src/dsl), which records
 * every node's position.
 *
 * Mappings become objects, sequences arrays.  Plain scalars are typed
 * as YAML 1.2's core schema says (null, ~, true/false, integers,
 * floats); quoted or tagged ones stay strings.  Aliases are refused
 * (no billion laughs), nesting is capped and a key repeated in one
 * mapping is an error.  Errors name the place: "file:line:col: why".
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <yaml.h>

#include "lib/lib.h"

#define YAML_MAX_DEPTH	64

static json_t	*yaml_scalar(const yaml_event_t *);
static json_t	*yaml_node(yaml_parser_t *, yaml_event_t *, const char *,
		     int, char **);

/* A plain scalar typed by the core schema; anything else a string. */
static json_t *
yaml_scalar(const yaml_event_t *ev)
{
	const char	*s = (const char *)ev->data.scalar.value;
	size_t		 len = ev->data.scalar.length;
	char		*end;
	long long	 n;
	double		 d;

	if (!ev->data.scalar.plain_implicit || ev->data.scalar.tag != NULL)
		return (json_stringn(s, len));
	if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return (json_null());
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		return (json_true());
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		return (json_false());
	if (strspn(s, "+-0123456789") == len && strspn(s + 1,
	    "0123456789") == len - 1) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0' && end != s)
			return (json_integer(n));
	}
	if (strspn(s, "+-0123456789.eE") == len && strpbrk(s, "0123456789")) {
		errno = 0;
		d = strtod(s, &end);
		if (errno == 0 && *end == '\0' && isfinite(d))
			return (json_real(d));
	}
	return (json_stringn(s, len));
}

/* Read the node that ev starts (ev is consumed); NULL + *cause. */
static json_t *
yaml_node(yaml_parser_t *p, yaml_event_t *ev, const char *name, int depth,
    char **cause)
{
	yaml_event_t	 kev, vev;
	json_t		*v, *item;
	char		*key;
	yaml_mark_t	 m = ev->start_mark;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		v = yaml_scalar(ev);
		yaml_event_delete(ev);
		if (v == NULL)
			xasprintf(cause, "%s:%zu:%zu: text is not UTF-8", name,
			    m.line + 1, m.column + 1);
		return (v);
	case YAML_ALIAS_EVENT:
		yaml_event_delete(ev);
		xasprintf(cause, "%s:%zu:%zu: aliases are not supported",
		    name, m.line + 1, m.column + 1);
		return (NULL);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	default:
		yaml_event_delete(ev);
		xasprintf(cause, "%s:%zu:%zu: unexpected YAML event", name,
		    m.line + 1, m.column + 1);
		return (NULL);
	}
	if (depth >= YAML_MAX_DEPTH) {
		yaml_event_delete(ev);
		xasprintf(cause, "%s:%zu:%zu: nested deeper than %d levels",
		    name, m.line + 1, m.column + 1, YAML_MAX_DEPTH);
		return (NULL);
	}

	if (ev->type == YAML_SEQUENCE_START_EVENT) {
		yaml_event_delete(ev);
		v = json_array();
		for (;;) {
			if (!yaml_parser_parse(p, &vev))
				goto syntax;
			if (vev.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&vev);
				return (v);
			}
			if ((item = yaml_node(p, &vev, name, depth + 1,
			    cause)) == NULL)
				goto fail;
			json_array_append_new(v, item);
		}
	}

	yaml_event_delete(ev);
	v = json_object();
	for (;;) {
		if (!yaml_parser_parse(p, &kev))
			goto syntax;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return (v);
		}
		m = kev.start_mark;
		if (kev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&kev);
			xasprintf(cause, "%s:%zu:%zu: a key must be a scalar",
			    name, m.line + 1, m.column + 1);
			goto fail;
		}
		key = xstrndup((const char *)kev.data.scalar.value,
		    kev.data.scalar.length);
		yaml_event_delete(&kev);
		if (json_object_get(v, key) != NULL) {
			xasprintf(cause, "%s:%zu:%zu: duplicate key '%s'", name,
			    m.line + 1, m.column + 1, key);
			free(key);
			goto fail;
		}
		if (!yaml_parser_parse(p, &vev)) {
			free(key);
			goto syntax;
		}
		if ((item = yaml_node(p, &vev, name, depth + 1,
		    cause)) == NULL) {
			free(key);
			goto fail;
		}
		if (json_object_set_new(v, key, item) != 0) {
			xasprintf(cause, "%s:%zu:%zu: key is not UTF-8", name,
			    m.line + 1, m.column + 1);
			free(key);
			goto fail;
		}
		free(key);
	}

syntax:
	xasprintf(cause, "%s:%zu:%zu: %s", name, p->problem_mark.line + 1,
	    p->problem_mark.column + 1, p->problem != NULL ? p->problem :
	    "YAML syntax error");
fail:
	json_decref(v);
	return (NULL);
}

/* Read the first document of text as JSON; an empty one is null. */
struct json_t *
yaml_load_json(const char *text, size_t len, const char *name, char **cause)
{
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	json_t		*v = NULL;

	*cause = NULL;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			xasprintf(cause, "%s:%zu:%zu: %s", name,
			    p.problem_mark.line + 1, p.problem_mark.column + 1,
			    p.problem != NULL ? p.problem :
			    "YAML syntax error");
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT ||
		    ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			if (v == NULL)
				v = json_null();
			break;
		}
		if (ev.type == YAML_STREAM_START_EVENT ||
		    ev.type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if ((v = yaml_node(&p, &ev, name, 0, cause)) == NULL)
			break;
	}
	yaml_parser_delete(&p);
	return (v);
}

/* Read a YAML file (at most max bytes) as JSON; NULL + *cause. */
struct json_t *
yaml_load_file(const char *path, size_t max, char **cause)
{
	json_t	*v;
	char	*text;
	size_t	 len;

	*cause = NULL;
	if ((text = file_read(path, max, &len, cause)) == NULL)
		return (NULL);
	v = yaml_load_json(text, len, path, cause);
	free(text);
	return (v);
}
