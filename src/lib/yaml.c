/*
 * yaml.c -- a small YAML document read into JSON values, for the data
 * files that are not workflows: clouds.yaml and the simulator's
 * scenarios.  Workflows keep their own parser (src/dsl), which records
 * every node's position.
 *
 * Mappings become objects, sequences arrays.  Plain scalars are typed
 * as YAML 1.2's core schema says (null, ~, true/false, integers, also
 * 0o octal and 0x hex, floats); quoted or tagged ones stay strings.
 * yaml_scalar_json() is also how the workflow parser types scalars.  Aliases are refused
 * (no billion laughs), nesting is capped and a key repeated in one
 * mapping is an error.  Errors name the place: "file:line:col: why".
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <yaml.h>

#include "lib/lib.h"

#define YAML_MAX_DEPTH	64

static int	 yaml_all(const char *, size_t, int (*)(int));
static int	 yaml_isdigit(int);
static int	 yaml_isodigit(int);
static int	 yaml_isxdigit(int);
static int	 yaml_is_float(const char *, size_t);
static json_t	*yaml_node(yaml_parser_t *, yaml_event_t *, const char *,
		     int, char **);

/* 1 if s[0..len) is all characters of a class. */
static int
yaml_all(const char *s, size_t len, int (*cls)(int))
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (!cls((unsigned char)s[i]))
			return (0);
	}
	return (1);
}

/* isdigit() as a function of int for yaml_all(). */
static int
yaml_isdigit(int c)
{
	return (c >= '0' && c <= '9');
}

/* Octal digit. */
static int
yaml_isodigit(int c)
{
	return (c >= '0' && c <= '7');
}

/* Hex digit. */
static int
yaml_isxdigit(int c)
{
	return (isxdigit(c));
}

/* 1 if s is a YAML 1.2 core-schema float (finite forms only). */
static int
yaml_is_float(const char *s, size_t len)
{
	size_t	i = 0, d1 = 0, d2 = 0, de = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < len && yaml_isdigit(s[i])) {
		i++;
		d1++;
	}
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && yaml_isdigit(s[i])) {
			i++;
			d2++;
		}
	}
	if (d1 == 0 && d2 == 0)
		return (0);
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < len && yaml_isdigit(s[i])) {
			i++;
			de++;
		}
		if (de == 0)
			return (0);
	}
	return (i == len);
}

/*
 * A scalar as JSON.  Plain scalars follow the YAML 1.2 core schema:
 * null, booleans, integers (decimal, 0o octal, 0x hex) and finite
 * floats; everything else, and every quoted scalar, is a string.
 */
struct json_t *
yaml_scalar_json(const char *s, size_t len, int plain)
{
	const char	*d;
	long long	 v;
	json_t		*j;
	char		*end;
	size_t		 dl;

	if (plain) {
		if (len == 0 || (len == 1 && s[0] == '~') ||
		    strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
		    strcmp(s, "NULL") == 0)
			return (json_null());
		if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
		    strcmp(s, "TRUE") == 0)
			return (json_true());
		if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
		    strcmp(s, "FALSE") == 0)
			return (json_false());
		d = s;
		dl = len;
		if (*d == '-' || *d == '+') {
			d++;
			dl--;
		}
		if (yaml_all(d, dl, yaml_isdigit) ||
		    (len > 2 && s[0] == '0' && s[1] == 'o' &&
		    yaml_all(s + 2, len - 2, yaml_isodigit)) ||
		    (len > 2 && s[0] == '0' && s[1] == 'x' &&
		    yaml_all(s + 2, len - 2, yaml_isxdigit))) {
			errno = 0;
			if (s[1] == 'o')
				v = strtoll(s + 2, &end, 8);
			else
				v = strtoll(s, &end, s[1] == 'x' ? 16 : 10);
			if (errno == 0)
				return (json_integer(v));
			return (json_real(strtod(s, NULL)));
		}
		if (yaml_is_float(s, len)) {
			if ((j = json_real(strtod(s, NULL))) != NULL)
				return (j);
		}
	}
	if ((j = json_stringn(s, len)) == NULL)
		j = json_stringn_nocheck(s, len);
	return (j);
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
		v = yaml_scalar_json((const char *)ev->data.scalar.value,
		    ev->data.scalar.length, ev->data.scalar.plain_implicit &&
		    ev->data.scalar.tag == NULL);
		yaml_event_delete(ev);
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
