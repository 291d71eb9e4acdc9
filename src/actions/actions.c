/*
 * actions.c -- the action registry: the table of built-in actions, input
 * checking against an entry's parameters, and action_run().
 *
 * Each action is a const struct action_entry defined next to its code
 * (actions-std.c, actions-http.c, actions-os.c, actions-js.c, ...); this
 * file only lists them.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "actions/actions-int.h"

static char	*action_expected(const struct action_entry *);

/* The built-in actions, sorted by name (the order the API lists them). */
static const struct action_entry *const action_table[] = {
	&action_masakari_take_entry,
	&action_os_request_entry,
	&action_std_async_noop_entry,
	&action_std_echo_entry,
	&action_std_email_entry,
	&action_std_fail_entry,
	&action_std_http_entry,
	&action_std_javascript_entry,
	&action_std_js_entry,
	&action_std_lua_entry,
	&action_std_mistral_http_entry,
	&action_std_noop_entry,
	&action_std_sleep_entry,
	&action_std_ssh_entry,
	&action_std_test_dict_entry,
	NULL
};

/* Find a built-in action by name. */
const struct action_entry *
action_find(const char *name)
{
	const struct action_entry *const	*e;

	if (name == NULL)
		return (NULL);
	for (e = action_table; *e != NULL; e++) {
		if (strcmp((*e)->name, name) == 0)
			return (*e);
	}
	return (NULL);
}

/* The whole table, NULL-terminated. */
const struct action_entry *const *
action_all(void)
{
	return (action_table);
}

/* "output, delay" -- the parameter names, for error messages. */
static char *
action_expected(const struct action_entry *ae)
{
	const struct action_param	*p;
	struct buf			 b;

	buf_init(&b, 0);
	for (p = ae->params; p != NULL && p->name != NULL; p++) {
		if (p != ae->params)
			buf_puts(&b, ", ");
		buf_puts(&b, p->name);
	}
	if (b.len == 0)
		buf_puts(&b, "none");
	return (buf_take(&b));
}

/* Check input against the parameters and fill in defaults. */
json_t *
action_input_prepare(const struct action_entry *ae, json_t *input,
    char **cause)
{
	const struct action_param	*p;
	json_t				*out = NULL, *v, *def;
	json_error_t			 jerr;
	const char			*key;
	char				*exp;
	int				 found;

	*cause = NULL;
	if (input != NULL && !json_is_null(input) && !json_is_object(input)) {
		xasprintf(cause, "input for %s must be an object, not %s",
		    ae->name, json_is_array(input) ? "an array" : "a scalar");
		return (NULL);
	}
	out = json_object();
	if (input != NULL && json_is_object(input)) {
		json_object_foreach(input, key, v) {
			found = 0;
			for (p = ae->params; p != NULL && p->name != NULL;
			    p++) {
				if (strcmp(p->name, key) == 0) {
					found = 1;
					break;
				}
			}
			if (!found) {
				exp = action_expected(ae);
				xasprintf(cause, "unexpected parameter '%s' "
				    "for %s (expected: %s)", key, ae->name,
				    exp);
				free(exp);
				goto fail;
			}
			json_object_set(out, key, v);
		}
	}
	for (p = ae->params; p != NULL && p->name != NULL; p++) {
		if (json_object_get(out, p->name) != NULL)
			continue;
		if (p->def != NULL) {
			def = json_loads(p->def, JSON_DECODE_ANY, &jerr);
			if (def == NULL) {
				xasprintf(cause, "%s: bad default for '%s': %s",
				    ae->name, p->name, jerr.text);
				goto fail;
			}
			json_object_set_new(out, p->name, def);
		} else if (p->required) {
			exp = action_expected(ae);
			xasprintf(cause, "missing required parameter '%s' for "
			    "%s (expected: %s)", p->name, ae->name, exp);
			free(exp);
			goto fail;
		}
	}
	return (out);

fail:
	json_decref(out);
	return (NULL);
}

/* "output, delay=0": names, with the JSON text of each default. */
char *
action_params_string(const struct action_entry *ae)
{
	const struct action_param	*p;
	struct buf			 b;

	buf_init(&b, 0);
	buf_puts(&b, "");
	for (p = ae->params; p != NULL && p->name != NULL; p++) {
		if (p != ae->params)
			buf_puts(&b, ", ");
		if (p->def != NULL)
			buf_printf(&b, "%s=%s", p->name, p->def);
		else
			buf_puts(&b, p->name);
	}
	return (buf_take(&b));
}

/* Check the input, then start the action. */
void
action_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	json_t	*in;
	char	*cause;

	in = action_input_prepare(ae, input, &cause);
	if (in == NULL) {
		action_fail_new(done, arg, cause);
		return;
	}
	ae->run(ae, in, ctx, io, done, arg);
	json_decref(in);
}

/*
 * Whether an action that waits can start: there is an I/O loop, and
 * load (the library it needs) succeeds.  If not, the action is
 * completed with the reason and 0 is returned.
 */
int
action_can_start(const struct action_entry *ae, struct action_io *io,
    int (*load)(char **), action_done_cb done, void *arg)
{
	char	*cause;

	if (io == NULL) {
		action_fail_cause(ae, done, arg, xstrdup("no I/O loop to run "
		    "in"));
		return (0);
	}
	if (load(&cause) != 0) {
		action_fail_cause(ae, done, arg, cause);
		return (0);
	}
	return (1);
}

/* Complete with ok = 0 and "name: cause" (cause freed) as the error. */
void
action_fail_cause(const struct action_entry *ae, action_done_cb done,
    void *arg, char *cause)
{
	char	*msg;

	xasprintf(&msg, "%s: %s", ae->name, cause);
	free(cause);
	action_fail_new(done, arg, msg);
}

/* Complete with ok = 0 and msg (freed) as the error. */
void
action_fail_new(action_done_cb done, void *arg, char *msg)
{
	json_t	*err;

	err = json_string(msg);
	if (err == NULL)	/* not UTF-8: keep what we can say */
		err = json_string("action failed (error text is not UTF-8)");
	free(msg);
	done(arg, 0, err);
}

/* A string argument, or NULL when it is absent or null. */
const char *
action_arg_string(json_t *input, const char *key)
{
	return (json_string_value(json_object_get(input, key)));
}

/* Read seconds (a number or a numeric string, >= 0) as milliseconds. */
int
action_arg_seconds(json_t *input, const char *key, int64_t *ms, char **cause)
{
	json_t		*v;
	double		 d;
	const char	*s;
	char		*end;

	v = json_object_get(input, key);
	if (json_is_number(v))
		d = json_number_value(v);
	else if (json_is_string(v)) {
		s = json_string_value(v);
		errno = 0;
		d = strtod(s, &end);
		if (errno != 0 || end == s || *end != '\0') {
			xasprintf(cause, "'%s' must be a number of seconds, "
			    "not \"%s\"", key, s);
			return (-1);
		}
	} else {
		xasprintf(cause, "'%s' must be a number of seconds", key);
		return (-1);
	}
	if (!isfinite(d) || d < 0 || d > 1e9) {
		xasprintf(cause, "'%s' out of range: %g", key, d);
		return (-1);
	}
	*ms = (int64_t)llround(d * 1000.0);
	return (0);
}

/* A flag: JSON booleans, or "true"/"false" strings; def when absent. */
int
action_arg_bool(json_t *v, int def)
{
	const char	*s;

	if (v == NULL || json_is_null(v))
		return (def);
	if (json_is_boolean(v))
		return (json_is_true(v));
	if (json_is_integer(v))
		return (json_integer_value(v) != 0);
	if ((s = json_string_value(v)) != NULL) {
		if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
		    strcasecmp(s, "yes") == 0)
			return (1);
		if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 ||
		    strcasecmp(s, "no") == 0)
			return (0);
	}
	return (def);
}

/* Text as a JSON string, invalid UTF-8 replaced by U+FFFD. */
json_t *
action_text(const char *p, size_t len)
{
	struct buf	 b;
	json_t		*s;
	size_t		 i, n, k;
	u_char		 c;
	uint32_t	 cp;

	if ((s = json_stringn(p, len)) != NULL)
		return (s);
	buf_init(&b, 0);
	for (i = 0; i < len; i += n) {
		c = (u_char)p[i];
		n = 1;
		if (c == 0) {
			buf_add(&b, "\xef\xbf\xbd", 3);
			continue;
		}
		if (c < 0x80) {
			buf_add(&b, p + i, 1);
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
		} else
			n = 0;
		for (k = 1; n != 0 && k < n; k++) {
			if (i + k >= len || ((u_char)p[i + k] & 0xc0) != 0x80)
				n = 0;
			else
				cp = (cp << 6) | ((u_char)p[i + k] & 0x3f);
		}
		if (n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
			n = 0;
		if (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
			n = 0;
		if (n == 0) {
			buf_add(&b, "\xef\xbf\xbd", 3);
			n = 1;
		} else
			buf_add(&b, p + i, n);
	}
	s = json_stringn(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return (s != NULL ? s : json_string(""));
}
