/*
 * dsl-inline.c -- inline parameters ("std.echo output=x delay=1",
 * "act(a=1, b='x')", "fail msg=<% _.why %>") and the extraction of the
 * Lua source of every <% %> in a template.
 *
 * A value is a quoted string ("..." with \ escapes, or '...'), a JSON
 * list or object, or a bare word typed like a plain YAML scalar (number,
 * boolean, null, else string).  A bare word may contain <% %>, spaces
 * included: "x=<% _.a + 1 %>" is one value.
 */

#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl-int.h"

static json_t	*dsl_inline_value(const char **, int, char **);
static int	 dsl_inline_list(const char **, json_t *, int, char **);

/* Skip blanks. */
static const char *
dsl_skip_ws(const char *p)
{
	while (*p != '\0' && isspace((unsigned char)*p))
		p++;
	return (p);
}

/* 1 if c ends a bare value. */
static int
dsl_stop(int c, int paren)
{
	return (c == '\0' || isspace((unsigned char)c) ||
	    (paren && (c == ',' || c == ')')));
}

/* Up to 24 characters of text for an error message. */
static char *
dsl_near(const char *p)
{
	size_t	len = strlen(p);

	if (len <= 24)
		return (xstrdup(p));
	return (xstrcat(xstrndup(p, 24), "..."));
}

/* Read one value at *sp. */
static json_t *
dsl_inline_value(const char **sp, int paren, char **cause)
{
	const char	*p = *sp, *start, *e;
	struct buf	 b;
	json_t		*j;
	char		 q, open, close, *near;
	int		 depth, has_expr = 0;

	if (*p == '"' || *p == '\'') {
		q = *p++;
		buf_init(&b, 0);
		buf_add(&b, "", 0);
		while (*p != '\0' && *p != q) {
			if (q == '"' && *p == '\\' && p[1] != '\0') {
				p++;
				if (*p == 'n')
					buf_add(&b, "\n", 1);
				else if (*p == 't')
					buf_add(&b, "\t", 1);
				else
					buf_add(&b, p, 1);
			} else
				buf_add(&b, p, 1);
			p++;
		}
		if (*p != q) {
			buf_free(&b);
			xasprintf(cause, "unterminated string %s",
			    (near = dsl_near(*sp)));
			free(near);
			return (NULL);
		}
		p++;
		j = json_stringn(b.data, b.len);
		if (j == NULL)
			j = json_string("");
		buf_free(&b);
		*sp = p;
		return (j);
	}

	start = p;
	if (*p == '[' || *p == '{') {
		open = *p;
		close = open == '[' ? ']' : '}';
		depth = 0;
		q = 0;
		for (; *p != '\0'; p++) {
			if (q != 0) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == q)
					q = 0;
			} else if (*p == '"' || *p == '\'')
				q = *p;
			else if (*p == open)
				depth++;
			else if (*p == close && --depth == 0) {
				p++;
				break;
			}
		}
		if (depth != 0) {
			xasprintf(cause, "unbalanced '%c' in %s", open,
			    (near = dsl_near(start)));
			free(near);
			return (NULL);
		}
		j = json_loadb(start, (size_t)(p - start), JSON_DECODE_ANY,
		    NULL);
		if (j == NULL)
			j = json_stringn(start, (size_t)(p - start));
		*sp = p;
		return (j);
	}

	while (!dsl_stop(*p, paren)) {
		if (p[0] == '<' && p[1] == '%') {
			if ((e = strstr(p + 2, "%>")) == NULL) {
				xasprintf(cause, "unterminated expression %s",
				    (near = dsl_near(p)));
				free(near);
				return (NULL);
			}
			has_expr = 1;
			p = e + 2;
		} else
			p++;
	}
	if (has_expr)
		j = json_stringn(start, (size_t)(p - start));
	else {
		near = xstrndup(start, (size_t)(p - start));
		j = dsl_scalar_json(near, strlen(near), 1);
		free(near);
	}
	*sp = p;
	return (j);
}

/* Read "k=v k2=v2" (or "k=v, k2=v2)" when paren is set) into obj. */
static int
dsl_inline_list(const char **sp, json_t *obj, int paren, char **cause)
{
	const char	*p = *sp, *k;
	json_t		*v;
	char		*key, *near;
	size_t		 kl;

	for (;;) {
		p = dsl_skip_ws(p);
		while (paren && *p == ',')
			p = dsl_skip_ws(p + 1);
		if (*p == '\0' || (paren && *p == ')'))
			break;
		k = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
			p++;
		kl = (size_t)(p - k);
		p = dsl_skip_ws(p);
		if (kl == 0 || *p != '=') {
			xasprintf(cause, "expected name=value at '%s'",
			    (near = dsl_near(k)));
			free(near);
			return (-1);
		}
		p = dsl_skip_ws(p + 1);
		if ((v = dsl_inline_value(&p, paren, cause)) == NULL)
			return (-1);
		if (!dsl_stop(*p, paren)) {
			json_decref(v);
			xasprintf(cause, "unexpected text at '%s'",
			    (near = dsl_near(p)));
			free(near);
			return (-1);
		}
		key = xstrndup(k, kl);
		json_object_set_new(obj, key, v);
		free(key);
	}
	*sp = p;
	return (0);
}

/* Read "k=v k2=v2" (no name in front) into obj, as retry: allows. */
int
dsl_inline_params(const char *s, json_t *obj, char **cause)
{
	return (dsl_inline_list(&s, obj, 0, cause));
}

/*
 * Parse "name a=1 b='x' c=<% _.y %>" or "name(a=1, b=2)" into a name and
 * a params object.  On failure *name and *params are left alone.
 */
int
dsl_parse_inline(const char *s, char **name, json_t **params, char **cause)
{
	const char	*p, *start, *e;
	json_t		*obj;
	char		*near;

	p = dsl_skip_ws(s);
	start = p;
	if (p[0] == '<' && p[1] == '%') {
		if ((e = strstr(p + 2, "%>")) == NULL) {
			xasprintf(cause, "unterminated expression %s",
			    (near = dsl_near(p)));
			free(near);
			return (-1);
		}
		p = e + 2;
	} else {
		while (*p != '\0' && !isspace((unsigned char)*p) && *p != '(')
			p++;
	}
	if (p == start) {
		xasprintf(cause, "missing name in '%s'", s);
		return (-1);
	}

	obj = json_object();
	if (*p == '(') {
		e = p + 1;
		if (dsl_inline_list(&e, obj, 1, cause) != 0)
			goto fail;
		if (*e != ')') {
			xasprintf(cause, "missing ')' in '%s'", s);
			goto fail;
		}
		e = dsl_skip_ws(e + 1);
		if (*e != '\0') {
			xasprintf(cause, "unexpected text after ')' at '%s'",
			    (near = dsl_near(e)));
			free(near);
			goto fail;
		}
	} else {
		e = p;
		if (dsl_inline_list(&e, obj, 0, cause) != 0)
			goto fail;
	}
	*name = xstrndup(start, (size_t)(p - start));
	*params = obj;
	return (0);
fail:
	json_decref(obj);
	return (-1);
}

/*
 * Next "<% lua %>" of a string from *sp: 1 with *lua (trimmed, caller
 * frees), 0 when there is none left, -1 when "<%" is never closed.
 */
int
dsl_expr_next(const char **sp, char **lua)
{
	const char	*b, *e, *end;

	if ((b = strstr(*sp, "<%")) == NULL)
		return (0);
	if ((e = strstr(b + 2, "%>")) == NULL) {
		*sp = b + strlen(b);
		return (-1);
	}
	*sp = e + 2;
	b += 2;
	while (b < e && isspace((unsigned char)*b))
		b++;
	end = e;
	while (end > b && isspace((unsigned char)end[-1]))
		end--;
	*lua = xstrndup(b, (size_t)(end - b));
	return (1);
}

/* Call fn on the Lua source of every <% %> in a template. */
void
dsl_template_walk(json_t *tmpl, void (*fn)(void *, const char *), void *arg)
{
	const char	*s, *k;
	json_t		*v;
	char		*lua;
	size_t		 i;

	if (json_is_string(tmpl)) {
		s = json_string_value(tmpl);
		while (dsl_expr_next(&s, &lua) == 1) {
			fn(arg, lua);
			free(lua);
		}
	} else if (json_is_array(tmpl)) {
		json_array_foreach(tmpl, i, v)
			dsl_template_walk(v, fn, arg);
	} else if (json_is_object(tmpl)) {
		json_object_foreach(tmpl, k, v)
			dsl_template_walk(v, fn, arg);
	}
}
