/*
 * cli-import-lua.c -- the syntax tree of a YAQL or Jinja expression
 * printed as a Lua expression for bora, with YAQL's meaning kept.
 *
 * Each translated piece carries its Lua precedence (so parentheses are
 * written only where Lua needs them) and what is known of its type:
 * "+" is Lua's + between numbers, .. when one side is text, and the
 * library's plus() when nothing is known; "=" is == when one side is
 * a scalar, is_null() against null, and eq() (deep) otherwise; a value
 * used for its truth goes through bool() (YAQL's truth: 0, '', [] and
 * {} are false) unless it is already a boolean.  YAQL's $ is _ at the
 * top and the parameter of the enclosing lambda inside where(),
 * select(), ...  Functions map through one table; those that Lua lacks
 * are in lua/yaql.lua.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "cli/cli-import.h"

/* What is known of a value's type. */
enum {
	TY_ANY, TY_BOOL, TY_INT, TY_FLOAT, TY_NUM, TY_STR, TY_LIST, TY_DICT,
	TY_NULL, TY_FUNC
};

/* Lua precedence, loosest first; ATOM cannot be indexed or called. */
enum {
	LP_OR = 1, LP_AND, LP_CMP, LP_CAT, LP_ADD, LP_MUL, LP_UNARY, LP_POW,
	LP_ATOM, LP_PREFIX
};

#define IMP_MAX_VARS	32
#define IMP_MAX_ARGS	32

/* A piece of Lua: its text, precedence and type. */
struct lx {
	char	*s;
	int	 prec;
	int	 type;
};

/* A name in scope: YAQL's "" ($), "1" ($1) or "name" ($name). */
struct imp_var {
	const char	*yname;
	char		*lname;
};

struct imp_lua {
	int		 flags;
	struct imp_var	 vars[IMP_MAX_VARS];
	size_t		 nvars;
	char		*cause;
};

struct imp_fn;
typedef int (*imp_fn_cb)(struct imp_lua *, const struct imp_fn *,
    struct import_node **, size_t, struct lx *);

/*
 * A function of the source language.  Its arguments, the receiver of a
 * method first, are passed in order to the Lua function lua ("name", or
 * a template where %0..%9 stand for the arguments and %* for all);
 * arguments whose bit is set in lambda are lambdas with nparams
 * parameters ($, $1, $2), in pred predicates too.
 */
struct imp_fn {
	const char	*name;
	int		 min;
	int		 max;
	unsigned	 lambda;
	unsigned	 pred;
	int		 type;
	const char	*lua;
	imp_fn_cb	 cb;
	int		 nparams;
};

static int	 lua_node(struct imp_lua *, const struct import_node *,
		     struct lx *);
static int	 lua_cond(struct imp_lua *, const struct import_node *,
		     struct lx *);

static const char *const lua_keywords[] = {
	"and", "break", "do", "else", "elseif", "end", "false", "for",
	"function", "goto", "if", "in", "local", "nil", "not", "or",
	"repeat", "return", "then", "true", "until", "while", NULL
};

/* ---- pieces --------------------------------------------------------- */

/* Record the first reason a translation fails; returns -1. */
static int printflike(2, 3)
lua_fail(struct imp_lua *L, const char *fmt, ...)
{
	va_list	 ap;

	if (L->cause == NULL) {
		va_start(ap, fmt);
		xvasprintf(&L->cause, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* Set a piece from a format. */
static void printflike(4, 5)
lx_set(struct lx *x, int prec, int type, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	free(x->s);
	x->s = s;
	x->prec = prec;
	x->type = type;
}

static void
lx_free(struct lx *x)
{
	free(x->s);
	x->s = NULL;
}

/* The text of x, parenthesised when it binds looser than prec. */
static char *
lx_at(const struct lx *x, int prec)
{
	char	*s;

	if (x->prec >= prec)
		return (xstrdup(x->s));
	xasprintf(&s, "(%s)", x->s);
	return (s);
}

/* 1 for the types a Lua value can never be nil or false of. */
static int
lx_truthy(const struct lx *x)
{
	return (x->type == TY_INT || x->type == TY_FLOAT ||
	    x->type == TY_NUM || x->type == TY_STR || x->type == TY_LIST ||
	    x->type == TY_DICT || x->type == TY_NULL || x->type == TY_FUNC ||
	    strcmp(x->s, "true") == 0);
}

static int
lx_numeric(int type)
{
	return (type == TY_INT || type == TY_FLOAT || type == TY_NUM);
}

static int
lx_scalar(int type)
{
	return (lx_numeric(type) || type == TY_STR || type == TY_BOOL);
}

/*
 * A binary operator: l op r at precedence prec (right: right-assoc).
 * l and r are consumed; out may be one of them.
 */
static void
lx_binary(struct lx *out, const char *op, int prec, int right, int type,
    struct lx *l, struct lx *r)
{
	char	*ls, *rs;

	/* .. is associative: no parentheses for a .. b on its left. */
	ls = lx_at(l, right && strcmp(op, "..") != 0 ? prec + 1 : prec);
	rs = lx_at(r, right ? prec : prec + 1);
	lx_free(l);
	lx_free(r);
	lx_set(out, prec, type, "%s %s %s", ls, op, rs);
	free(ls);
	free(rs);
}

/* A call: fn(args...); the args are consumed. */
static void
lx_call(struct lx *out, int type, const char *fn, struct lx *args,
    size_t n)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	buf_printf(&b, "%s(", fn);
	for (i = 0; i < n; i++) {
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", args[i].s);
		lx_free(&args[i]);
	}
	buf_puts(&b, ")");
	free(out->s);
	out->s = buf_take(&b);
	out->prec = LP_PREFIX;
	out->type = type;
}

/* Call with one argument. */
static void
lx_call1(struct lx *out, int type, const char *fn, struct lx *a)
{
	lx_call(out, type, fn, a, 1);
}

/* 1 if s is a Lua name that is no keyword. */
static int
lua_is_name(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || isdigit((unsigned char)s[0]))
		return (0);
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return (0);
	}
	for (i = 0; lua_keywords[i] != NULL; i++) {
		if (strlen(lua_keywords[i]) == len &&
		    strncmp(lua_keywords[i], s, len) == 0)
			return (0);
	}
	return (1);
}

/*
 * A Lua string literal of s.  Quoted with ' unless that is refused or
 * the text holds ' but not "; a refused quote is written \39 or \34;
 * "%>" is never written (it would end the <% %>).
 */
static char *
lua_string(struct imp_lua *L, const char *s, size_t len)
{
	struct buf	 b;
	char		 q = '\'', c;
	size_t		 i;

	if (L->flags & IMPORT_NOSQ)
		q = '"';
	else if (!(L->flags & IMPORT_NODQ) && memchr(s, '"', len) == NULL &&
	    ((L->flags & IMPORT_PREFDQ) || memchr(s, '\'', len) != NULL))
		q = '"';
	buf_init(&b, 0);
	buf_add(&b, &q, 1);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '\\')
			buf_puts(&b, "\\\\");
		else if (c == '\'' && (L->flags & IMPORT_NOSQ))
			buf_puts(&b, "\\39");
		else if (c == '"' && (L->flags & IMPORT_NODQ))
			buf_puts(&b, "\\34");
		else if (c == q)
			buf_printf(&b, "\\%c", q);
		else if (c == '\n')
			buf_puts(&b, "\\n");
		else if (c == '\t')
			buf_puts(&b, "\\t");
		else if (c == '\r')
			buf_puts(&b, "\\r");
		else if (c == '>' && i > 0 && s[i - 1] == '%')
			buf_puts(&b, "\\62");
		else if ((unsigned char)c < 0x20 || c == 0x7f)
			buf_printf(&b, "\\%03d", (unsigned char)c);
		else
			buf_add(&b, &c, 1);
	}
	buf_add(&b, &q, 1);
	return (buf_take(&b));
}

/* A string literal piece. */
static void
lx_string(struct imp_lua *L, struct lx *out, const char *s, size_t len)
{
	free(out->s);
	out->s = lua_string(L, s, len);
	out->prec = LP_ATOM;
	out->type = TY_STR;
}

/* base.name, or base['name'] when name is no Lua name; base consumed. */
static void
lx_field(struct imp_lua *L, struct lx *out, struct lx *base,
    const char *name, size_t len)
{
	char	*b, *k;

	b = lx_at(base, LP_PREFIX);
	lx_free(base);
	if (lua_is_name(name, len))
		lx_set(out, LP_PREFIX, TY_ANY, "%s.%.*s", b, (int)len, name);
	else {
		k = lua_string(L, name, len);
		lx_set(out, LP_PREFIX, TY_ANY, "%s[%s]", b, k);
		free(k);
	}
	free(b);
}

/* ---- scope ----------------------------------------------------------- */

/* The Lua name of YAQL variable yname, or NULL. */
static const char *
lua_var(struct imp_lua *L, const char *yname)
{
	size_t	i;

	for (i = L->nvars; i > 0; i--) {
		if (strcmp(L->vars[i - 1].yname, yname) == 0)
			return (L->vars[i - 1].lname);
	}
	return (NULL);
}

/* 1 if a Lua name is already taken by a variable in scope. */
static int
lua_taken(struct imp_lua *L, const char *lname)
{
	size_t	i;

	for (i = 0; i < L->nvars; i++) {
		if (strcmp(L->vars[i].lname, lname) == 0)
			return (1);
	}
	return (0);
}

/* Names a local must not shadow: what translations call. */
static const char *const lua_globals[] = {
	"_", "null", "task", "execution", "env", "uuid", "now", "len",
	"str", "int", "float", "bool", "keys", "values", "items", "first",
	"last", "filter", "map", "any", "all", "sum", "maximum", "minimum",
	"sorted", "order_by", "unique", "index_of", "contains", "starts_with",
	"ends_with", "split", "join", "replace", "trim", "trim_left",
	"trim_right", "substring", "json_encode", "json_decode", "is_null",
	"is_array", "is_dict", "is_string", "is_number", "is_integer",
	"is_bool", "plus", "div", "eq", "at", "or_else", "dict_of", "range",
	"defined_or",
	"merge", "reduce", "reversed", "skip", "take", "flatten", "coalesce",
	"default", "get", "to_string", "string", "math", "type", "array",
	"select", NULL
};

/* Bind a YAQL variable to a fresh Lua name based on want. */
static const char *
lua_bind(struct imp_lua *L, const char *yname, const char *want)
{
	char	*name;
	int	 i, n = 1;

	xasprintf(&name, "%s", want);
	for (;;) {
		for (i = 0; lua_globals[i] != NULL; i++) {
			if (strcmp(lua_globals[i], name) == 0)
				break;
		}
		if (lua_globals[i] == NULL && lua_is_name(name,
		    strlen(name)) && !lua_taken(L, name))
			break;
		free(name);
		xasprintf(&name, "%s%d", want, ++n);
	}
	L->vars[L->nvars].yname = yname;
	L->vars[L->nvars].lname = name;
	L->nvars++;
	return (name);
}

/* Drop the variables bound after mark. */
static void
lua_unbind(struct imp_lua *L, size_t mark)
{
	while (L->nvars > mark)
		free(L->vars[--L->nvars].lname);
}

/*
 * A lambda of nparams parameters: "function(x) return body end", where
 * $ and $1 are the first parameter and $2 the second.
 */
static int
lua_lambda(struct imp_lua *L, const struct import_node *body, int nparams,
    int pred, struct lx *out)
{
	static const char *const ynames[] = { "", "1", "2" };
	const char		*p1, *p2 = NULL;
	struct lx		 b = { NULL, 0, 0 };
	size_t			 mark = L->nvars;
	int			 rc;

	if (L->nvars + 3 > IMP_MAX_VARS)
		return (lua_fail(L, "lambdas nested too deeply"));
	p1 = lua_bind(L, ynames[0], nparams == 2 ? "a" : "x");
	L->vars[L->nvars].yname = ynames[1];
	L->vars[L->nvars].lname = xstrdup(p1);
	L->nvars++;
	if (nparams == 2)
		p2 = lua_bind(L, ynames[2], "b");
	rc = pred ? lua_cond(L, body, &b) : lua_node(L, body, &b);
	if (rc == 0) {
		if (p2 != NULL)
			lx_set(out, LP_ATOM, TY_FUNC, "function(%s, %s) return "
			    "%s end", p1, p2, b.s);
		else
			lx_set(out, LP_ATOM, TY_FUNC, "function(%s) return %s "
			    "end", p1, b.s);
	}
	lx_free(&b);
	lua_unbind(L, mark);
	return (rc);
}

/* ---- helpers of the function table ----------------------------------- */

/* Translate the arguments of f (lambdas as such) into xs. */
static int
lua_args(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *xs)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (args[i]->kind == IMP_PAIR)
			return (lua_fail(L, "%s() takes no named arguments",
			    f->name));
		if (i < 32 && (f->lambda & (1u << i))) {
			if (lua_lambda(L, args[i], f->nparams ? f->nparams : 1,
			    (f->pred & (1u << i)) != 0, &xs[i]) != 0)
				return (-1);
		} else if (lua_node(L, args[i], &xs[i]) != 0)
			return (-1);
	}
	return (0);
}

/* Expand a template ("name" or "f(%0, %1)") over translated args. */
static void
lua_template(struct lx *out, int type, const char *tmpl, struct lx *xs,
    size_t n)
{
	struct buf	 b;
	const char	*p;
	size_t		 i;

	if (strchr(tmpl, '(') == NULL) {
		lx_call(out, type, tmpl, xs, n);
		return;
	}
	buf_init(&b, 0);
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%' || (p[1] != '*' && !isdigit((unsigned char)p[1]))) {
			buf_add(&b, p, 1);
			continue;
		}
		p++;
		if (*p == '*') {
			for (i = 0; i < n; i++)
				buf_printf(&b, "%s%s", i > 0 ? ", " : "",
				    xs[i].s);
		} else if ((size_t)(*p - '0') < n)
			buf_puts(&b, xs[*p - '0'].s);
	}
	for (i = 0; i < n; i++)
		lx_free(&xs[i]);
	free(out->s);
	out->s = buf_take(&b);
	out->prec = LP_PREFIX;
	out->type = type;
}

/* The generic entry: translate the arguments and fill the template. */
static int
fn_generic(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	xs[IMP_MAX_ARGS];

	memset(xs, 0, sizeof xs);
	if (lua_args(L, f, args, n, xs) != 0) {
		while (n > 0)
			lx_free(&xs[--n]);
		return (-1);
	}
	lua_template(out, f->type, f->lua, xs, n);
	return (0);
}

/* A function with no bora counterpart: lua holds the reason. */
static int
fn_none(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	(void)args;
	(void)n;
	(void)out;
	return (lua_fail(L, "%s() %s", f->name, f->lua));
}

/* The key of an index or get(): a literal or an expression. */
static int
lua_index(struct imp_lua *L, struct lx *base,
    const struct import_node *key, struct lx *out)
{
	struct lx	 k = { NULL, 0, 0 };
	char		*b;
	long long	 v;

	if (key->kind == IMP_STR || key->kind == IMP_WORD) {
		lx_field(L, out, base, key->s, key->len);
		return (0);
	}
	if (key->kind == IMP_NUM && !(key->flags & IMP_F_FLOAT) &&
	    key->len < 15) {
		v = strtoll(key->s, NULL, 10);
		b = lx_at(base, LP_PREFIX);
		lx_set(out, LP_PREFIX, TY_ANY, "%s[%lld]", b, v + 1);
		free(b);
		lx_free(base);
		return (0);
	}
	if (lua_node(L, key, &k) != 0) {
		lx_free(base);
		return (-1);
	}
	lx_set(out, LP_PREFIX, TY_ANY, "at(%s, %s)", base->s, k.s);
	lx_free(base);
	lx_free(&k);
	return (0);
}

/* d.get(key[, default]). */
static int
fn_get(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	base = { NULL, 0, 0 }, v = { NULL, 0, 0 };
	struct lx	d = { NULL, 0, 0 }, xs[2];

	(void)f;
	if (lua_node(L, args[0], &base) != 0)
		return (-1);
	if (lua_index(L, &base, args[1], &v) != 0)
		return (-1);
	if (n == 2) {
		*out = v;
		return (0);
	}
	if (lua_node(L, args[2], &d) != 0) {
		lx_free(&v);
		return (-1);
	}
	xs[0] = v;
	xs[1] = d;
	lx_call(out, TY_ANY, "default", xs, 2);
	return (0);
}

/* dict(k => v, ...), dict(pairs), {k => v}; Jinja dict(k=v). */
static int
lua_dict(struct imp_lua *L, struct import_node **args, size_t n,
    struct lx *out)
{
	struct buf		 b;
	struct lx		 k = { NULL, 0, 0 }, v = { NULL, 0, 0 };
	const struct import_node *kn;
	size_t			 i;

	if (n == 0) {
		lx_set(out, LP_ATOM, TY_DICT, "{}");
		return (0);
	}
	if (n == 1 && args[0]->kind != IMP_PAIR) {
		if (lua_node(L, args[0], &v) != 0)
			return (-1);
		lx_call1(out, TY_DICT, "dict_of", &v);
		return (0);
	}
	buf_init(&b, 0);
	buf_puts(&b, "{");
	for (i = 0; i < n; i++) {
		if (args[i]->kind != IMP_PAIR) {
			buf_free(&b);
			return (lua_fail(L, "a dict takes key => value "
			    "pairs"));
		}
		kn = args[i]->kids[0];
		if (lua_node(L, args[i]->kids[1], &v) != 0) {
			buf_free(&b);
			return (-1);
		}
		buf_puts(&b, i > 0 ? ", " : "");
		if ((kn->kind == IMP_WORD || kn->kind == IMP_STR ||
		    (kn->kind == IMP_VAR && (L->flags & IMPORT_JINJA))) &&
		    lua_is_name(kn->s, kn->len))
			buf_printf(&b, "%.*s = %s", (int)kn->len, kn->s, v.s);
		else {
			if (kn->kind == IMP_WORD)
				lx_string(L, &k, kn->s, kn->len);
			else if (lua_node(L, kn, &k) != 0) {
				lx_free(&v);
				buf_free(&b);
				return (-1);
			}
			buf_printf(&b, "[%s] = %s", k.s, v.s);
			lx_free(&k);
		}
		lx_free(&v);
	}
	buf_puts(&b, "}");
	free(out->s);
	out->s = buf_take(&b);
	out->prec = LP_ATOM;
	out->type = TY_DICT;
	return (0);
}

static int
fn_dict(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	(void)f;
	return (lua_dict(L, args, n, out));
}

/* [a, b], list(a, b): a table constructor; array() when empty. */
static int
lua_list(struct imp_lua *L, struct import_node **args, size_t n,
    struct lx *out)
{
	struct buf	 b;
	struct lx	 v = { NULL, 0, 0 };
	size_t		 i;

	if (n == 0) {
		lx_set(out, LP_PREFIX, TY_LIST, "array()");
		return (0);
	}
	buf_init(&b, 0);
	buf_puts(&b, "{");
	for (i = 0; i < n; i++) {
		if (args[i]->kind == IMP_PAIR) {
			buf_free(&b);
			return (lua_fail(L, "a list takes no key => value "
			    "pairs"));
		}
		if (lua_node(L, args[i], &v) != 0) {
			buf_free(&b);
			return (-1);
		}
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", v.s);
		lx_free(&v);
	}
	buf_puts(&b, "}");
	free(out->s);
	out->s = buf_take(&b);
	out->prec = LP_ATOM;
	out->type = TY_LIST;
	return (0);
}

static int
fn_list(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	(void)f;
	return (lua_list(L, args, n, out));
}

/*
 * Choose among values by conditions, lazily as YAQL's switch() and
 * Jinja's "a if c else b": "c1 and v1 or c2 and v2 or d" when no value
 * can be false or nil in Lua, else a function called on the spot.
 * Everything given is consumed.
 */
static void
lua_choose(struct lx *conds, struct lx *vals, size_t n, struct lx *dflt,
    struct lx *out)
{
	struct buf	 b;
	size_t		 i;
	int		 simple = 1, type = dflt->type;
	char		*c, *v;

	if (n == 0) {
		free(out->s);
		*out = *dflt;
		dflt->s = NULL;
		return;
	}
	for (i = 0; i < n; i++) {
		if (!lx_truthy(&vals[i]))
			simple = 0;
		if (vals[i].type != type)
			type = TY_ANY;
	}
	buf_init(&b, 0);
	if (simple) {
		for (i = 0; i < n; i++) {
			c = lx_at(&conds[i], LP_AND);
			v = lx_at(&vals[i], LP_AND + 1);
			buf_printf(&b, "%s and %s or ", c, v);
			free(c);
			free(v);
		}
		v = lx_at(dflt, LP_OR + 1);
		buf_puts(&b, v);
		free(v);
	} else {
		buf_puts(&b, "(function() ");
		for (i = 0; i < n; i++)
			buf_printf(&b, "%s %s then return %s ", i == 0 ? "if" :
			    "elseif", conds[i].s, vals[i].s);
		buf_printf(&b, "end return %s end)()", dflt->s);
	}
	for (i = 0; i < n; i++) {
		lx_free(&conds[i]);
		lx_free(&vals[i]);
	}
	lx_free(dflt);
	free(out->s);
	out->s = buf_take(&b);
	out->prec = simple ? LP_OR : LP_PREFIX;
	out->type = type;
}

/* switch(cond => value, ...): the value of the first true condition. */
static int
fn_switch(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	conds[IMP_MAX_ARGS], vals[IMP_MAX_ARGS];
	struct lx	dflt = { NULL, 0, 0 };
	size_t		i, nc = 0;

	(void)f;
	memset(conds, 0, sizeof conds);
	memset(vals, 0, sizeof vals);
	for (i = 0; i < n; i++) {
		if (args[i]->kind != IMP_PAIR) {
			lua_fail(L, "switch() takes condition => value pairs");
			goto fail;
		}
		if (args[i]->kids[0]->kind == IMP_TRUE) {
			if (lua_node(L, args[i]->kids[1], &dflt) != 0)
				goto fail;
			break;
		}
		if (lua_cond(L, args[i]->kids[0], &conds[nc]) != 0 ||
		    lua_node(L, args[i]->kids[1], &vals[nc]) != 0) {
			nc++;
			goto fail;
		}
		nc++;
	}
	if (dflt.s == NULL)
		lx_set(&dflt, LP_PREFIX, TY_NULL, "null");
	lua_choose(conds, vals, nc, &dflt, out);
	return (0);

fail:
	for (i = 0; i < nc; i++) {
		lx_free(&conds[i]);
		lx_free(&vals[i]);
	}
	lx_free(&dflt);
	return (-1);
}

/* global(name): global publishes are plain data in bora. */
static int
fn_global(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	base = { NULL, 0, 0 };

	(void)f;
	(void)n;
	lx_set(&base, LP_PREFIX, TY_ANY, "_");
	return (lua_index(L, &base, args[0], out));
}

/* range(stop) and range(start, stop): YAQL and Python stop before. */
static int
fn_range(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	xs[2], one = { NULL, 0, 0 };
	const struct import_node *stop = args[n - 1];

	(void)f;
	memset(xs, 0, sizeof xs);
	if (n == 1)
		lx_set(&xs[0], LP_ATOM, TY_INT, "0");
	else if (lua_node(L, args[0], &xs[0]) != 0)
		return (-1);
	if (stop->kind == IMP_NUM && !(stop->flags & IMP_F_FLOAT) &&
	    stop->len < 15)
		lx_set(&xs[1], LP_ATOM, TY_INT, "%lld",
		    strtoll(stop->s, NULL, 10) - 1);
	else {
		if (lua_node(L, stop, &xs[1]) != 0) {
			lx_free(&xs[0]);
			return (-1);
		}
		lx_set(&one, LP_ATOM, TY_INT, "1");
		lx_binary(&xs[1], "-", LP_ADD, 0, TY_INT, &xs[1], &one);
	}
	lx_call(out, TY_LIST, "range", xs, 2);
	return (0);
}

/* max(a, b) of two numbers, or the largest of a collection. */
static int
fn_minmax(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	xs[2];
	int		max = strcmp(f->name, "max") == 0;

	memset(xs, 0, sizeof xs);
	if (lua_node(L, args[0], &xs[0]) != 0)
		return (-1);
	if (n == 1) {
		lx_call(out, TY_ANY, max ? "maximum" : "minimum", xs, 1);
		return (0);
	}
	if (lua_node(L, args[1], &xs[1]) != 0) {
		lx_free(&xs[0]);
		return (-1);
	}
	lx_call(out, TY_NUM, max ? "math.max" : "math.min", xs, 2);
	return (0);
}

/* join(): YAQL's list.join(sep) and sep.join(list); Jinja's filter. */
static int
fn_join(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	xs[2], t;

	(void)f;
	memset(xs, 0, sizeof xs);
	if (lua_node(L, args[0], &xs[0]) != 0)
		return (-1);
	if (n == 1)
		lx_string(L, &xs[1], "", 0);
	else if (lua_node(L, args[1], &xs[1]) != 0) {
		lx_free(&xs[0]);
		return (-1);
	}
	if (xs[0].type == TY_STR && xs[1].type != TY_STR) {
		t = xs[0];
		xs[0] = xs[1];
		xs[1] = t;
	}
	lx_call(out, TY_STR, "join", xs, 2);
	return (0);
}

/* Python's sep.join(list). */
static int
fn_pyjoin(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	xs[2];

	(void)f;
	(void)n;
	memset(xs, 0, sizeof xs);
	if (lua_node(L, args[1], &xs[0]) != 0)
		return (-1);
	if (lua_node(L, args[0], &xs[1]) != 0) {
		lx_free(&xs[0]);
		return (-1);
	}
	lx_call(out, TY_STR, "join", xs, 2);
	return (0);
}

/* any(c) / all(c): the elements' own truth. */
static int
fn_anyall(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	xs[2];

	if (n == 2)
		return (fn_generic(L, f, args, n, out));
	memset(xs, 0, sizeof xs);
	if (lua_node(L, args[0], &xs[0]) != 0)
		return (-1);
	lx_set(&xs[1], LP_PREFIX, TY_FUNC, "bool");
	lx_call(out, TY_BOOL, f->lua, xs, 2);
	return (0);
}

/* Concatenation of pieces with .., each made text by str() if needed. */
static void
lua_concat(struct lx *pieces, size_t n, struct lx *out)
{
	struct buf	 b;
	char		*s;
	size_t		 i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (pieces[i].type == TY_STR)
			s = lx_at(&pieces[i], LP_CAT);	/* associative */
		else
			xasprintf(&s, "str(%s)", pieces[i].s);
		buf_printf(&b, "%s%s", i > 0 ? " .. " : "", s);
		free(s);
		lx_free(&pieces[i]);
	}
	free(out->s);
	out->s = buf_take(&b);
	out->prec = n > 1 ? LP_CAT : LP_PREFIX;
	out->type = TY_STR;
}

/*
 * '{0} is {1}'.format(a, b), format('{}', a): a literal format with
 * {}, {N} and {{ }} becomes a concatenation.
 */
static int
fn_format(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx		 pieces[2 * IMP_MAX_ARGS + 1];
	const struct import_node *fmt = args[0];
	struct buf		 lit;
	const char		*p, *end;
	size_t			 np = 0, next = 1, idx, i;
	char			*e;

	(void)f;
	if (fmt->kind != IMP_STR)
		return (lua_fail(L, "format() needs a literal format"));
	memset(pieces, 0, sizeof pieces);
	buf_init(&lit, 0);
	buf_add(&lit, "", 0);
	end = fmt->s + fmt->len;
	for (p = fmt->s; p < end; p++) {
		if ((*p == '{' || *p == '}') && p + 1 < end && p[1] == *p) {
			buf_add(&lit, p++, 1);
			continue;
		}
		if (*p == '}')
			goto bad;
		if (*p != '{') {
			buf_add(&lit, p, 1);
			continue;
		}
		if (p[1] == '}')
			idx = next++;
		else {
			idx = (size_t)strtoul(p + 1, &e, 10) + 1;
			if (e == p + 1 || *e != '}')
				goto bad;
			p = e - 1;
		}
		p++;
		if (idx >= n || np + 2 > 2 * IMP_MAX_ARGS)
			goto bad;
		if (lit.len > 0) {
			lx_string(L, &pieces[np++], lit.data, lit.len);
			buf_reset(&lit);
			buf_add(&lit, "", 0);
		}
		if (args[idx]->kind == IMP_PAIR ||
		    lua_node(L, args[idx], &pieces[np++]) != 0)
			goto fail;
	}
	if (lit.len > 0 || np == 0)
		lx_string(L, &pieces[np++], lit.data, lit.len);
	buf_free(&lit);
	lua_concat(pieces, np, out);
	return (0);

bad:
	lua_fail(L, "format() with a format other than {}, {N} and text");
fail:
	buf_free(&lit);
	for (i = 0; i < np; i++)
		lx_free(&pieces[i]);
	return (-1);
}

/* concat(a, b, ...) of strings. */
static int
fn_concat(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	xs[IMP_MAX_ARGS];
	size_t		i;
	int		text = 0;

	memset(xs, 0, sizeof xs);
	if (lua_args(L, f, args, n, xs) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		text |= xs[i].type == TY_STR;
	if (!text) {
		lua_fail(L, "concat() of values not known to be strings");
		goto fail;
	}
	lua_concat(xs, n, out);
	return (0);

fail:
	for (i = 0; i < n; i++)
		lx_free(&xs[i]);
	return (-1);
}

/* let(a => 1) alone (without "->") means nothing to keep. */
static int
fn_let(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	(void)args;
	(void)n;
	(void)out;
	return (lua_fail(L, "%s() is only translated before '->'", f->name));
}

/* Jinja's map(attribute='x') and map('filter'). */
static int
fn_jmap(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx		 xs[2];
	const struct import_node *a = n == 2 ? args[1] : NULL;
	char			*k;

	(void)f;
	if (a == NULL || a->kind != IMP_PAIR ||
	    strcmp(a->kids[0]->s, "attribute") != 0 ||
	    a->kids[1]->kind != IMP_STR)
		return (lua_fail(L, "map() other than map(attribute='name')"));
	memset(xs, 0, sizeof xs);
	if (lua_node(L, args[0], &xs[0]) != 0)
		return (-1);
	if (lua_is_name(a->kids[1]->s, a->kids[1]->len))
		lx_set(&xs[1], LP_ATOM, TY_FUNC, "function(x) return x.%s end",
		    a->kids[1]->s);
	else {
		k = lua_string(L, a->kids[1]->s, a->kids[1]->len);
		lx_set(&xs[1], LP_ATOM, TY_FUNC, "function(x) return x[%s] "
		    "end", k);
		free(k);
	}
	lx_call(out, TY_LIST, "map", xs, 2);
	return (0);
}

/* Jinja's selectattr('a'[, test, value]) and rejectattr(...). */
static int
fn_jselectattr(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	 xs[2], v = { NULL, 0, 0 };
	const char	*test = NULL, *op = NULL;
	char		*k, *attr;
	int		 reject = f->name[0] == 'r';

	if (args[1]->kind != IMP_STR)
		return (lua_fail(L, "%s() needs a literal attribute", f->name));
	if (n >= 3) {
		if (args[2]->kind != IMP_STR)
			return (lua_fail(L, "%s() needs a literal test",
			    f->name));
		test = args[2]->s;
		if (strcmp(test, "equalto") == 0 || strcmp(test, "==") == 0 ||
		    strcmp(test, "eq") == 0)
			op = "==";
		else if (strcmp(test, "ne") == 0 || strcmp(test, "!=") == 0)
			op = "~=";
		else if (strcmp(test, "defined") != 0 &&
		    strcmp(test, "none") != 0)
			return (lua_fail(L, "%s() with the test '%s'", f->name,
			    test));
		if (op != NULL && (n != 4 || lua_node(L, args[3], &v) != 0))
			return (lua_fail(L, "%s() needs a value to compare",
			    f->name));
	}
	memset(xs, 0, sizeof xs);
	if (lua_node(L, args[0], &xs[0]) != 0) {
		lx_free(&v);
		return (-1);
	}
	if (lua_is_name(args[1]->s, args[1]->len))
		xasprintf(&attr, "x.%s", args[1]->s);
	else {
		k = lua_string(L, args[1]->s, args[1]->len);
		xasprintf(&attr, "x[%s]", k);
		free(k);
	}
	if (op != NULL)
		lx_set(&xs[1], LP_ATOM, TY_FUNC, "function(x) return %s%s %s "
		    "%s%s end", reject ? "not (" : "", attr, op, v.s,
		    reject ? ")" : "");
	else if (test != NULL && strcmp(test, "none") == 0)
		lx_set(&xs[1], LP_ATOM, TY_FUNC, "function(x) return %s"
		    "is_null(%s) end", reject ? "not " : "", attr);
	else if (test != NULL)
		lx_set(&xs[1], LP_ATOM, TY_FUNC, "function(x) return %s %s "
		    "nil end", attr, reject ? "==" : "~=");
	else
		lx_set(&xs[1], LP_ATOM, TY_FUNC, "function(x) return %s"
		    "bool(%s) end", reject ? "not " : "", attr);
	free(attr);
	lx_free(&v);
	lx_call(out, TY_LIST, "filter", xs, 2);
	return (0);
}

/* Jinja's default(v, d[, boolean]). */
static int
fn_jdefault(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	struct lx	xs[2];

	(void)f;
	memset(xs, 0, sizeof xs);
	if (lua_node(L, args[0], &xs[0]) != 0)
		return (-1);
	if (n == 1)
		lx_string(L, &xs[1], "", 0);
	else if (lua_node(L, args[1], &xs[1]) != 0) {
		lx_free(&xs[0]);
		return (-1);
	}
	lx_call(out, TY_ANY, n == 3 && args[2]->kind == IMP_TRUE ?
	    "or_else" : "defined_or", xs, 2);
	return (0);
}

/* Jinja's list filter: lists stay what they are. */
static int
fn_identity(struct imp_lua *L, const struct imp_fn *f,
    struct import_node **args, size_t n, struct lx *out)
{
	(void)f;
	(void)n;
	return (lua_node(L, args[0], out));
}

/* ---- the tables -------------------------------------------------------- */

#define LAMBDA(i)	(1u << (i))
#define NONE(name, why)	{ name, 0, IMP_MAX_ARGS, 0, 0, TY_ANY, why, fn_none, 0 }

/* Functions and methods of YAQL, with Mistral's own (task(), ...). */
static const struct imp_fn imp_yaql_fns[] = {
	{ "task", 0, 1, 0, 0, TY_DICT, "task", NULL, 0 },
	{ "execution", 0, 0, 0, 0, TY_DICT, "execution", NULL, 0 },
	{ "env", 0, 0, 0, 0, TY_DICT, "env", NULL, 0 },
	{ "global", 1, 1, 0, 0, TY_ANY, NULL, fn_global, 0 },
	{ "uuid", 0, 0, 0, 0, TY_STR, "uuid", NULL, 0 },
	{ "now", 0, 0, 0, 0, TY_STR, "now", NULL, 0 },
	{ "json_parse", 1, 1, 0, 0, TY_ANY, "json_decode", NULL, 0 },
	{ "json_dump", 1, 1, 0, 0, TY_STR, "json_encode", NULL, 0 },
	{ "json_pp", 1, 1, 0, 0, TY_STR, "json_encode(%0, 4)", NULL, 0 },
	{ "len", 1, 1, 0, 0, TY_INT, "len", NULL, 0 },
	{ "count", 1, 1, 0, 0, TY_INT, "len", NULL, 0 },
	{ "str", 1, 1, 0, 0, TY_STR, "str", NULL, 0 },
	{ "int", 1, 1, 0, 0, TY_INT, "int", NULL, 0 },
	{ "float", 1, 1, 0, 0, TY_FLOAT, "float", NULL, 0 },
	{ "bool", 1, 1, 0, 0, TY_BOOL, "bool", NULL, 0 },
	{ "abs", 1, 1, 0, 0, TY_NUM, "math.abs", NULL, 0 },
	{ "isList", 1, 1, 0, 0, TY_BOOL, "is_array", NULL, 0 },
	{ "isDict", 1, 1, 0, 0, TY_BOOL, "is_dict", NULL, 0 },
	{ "isString", 1, 1, 0, 0, TY_BOOL, "is_string", NULL, 0 },
	{ "isNumber", 1, 1, 0, 0, TY_BOOL, "is_number", NULL, 0 },
	{ "isInteger", 1, 1, 0, 0, TY_BOOL, "is_integer", NULL, 0 },
	{ "isBoolean", 1, 1, 0, 0, TY_BOOL, "is_bool", NULL, 0 },
	{ "keys", 1, 1, 0, 0, TY_LIST, "keys", NULL, 0 },
	{ "values", 1, 1, 0, 0, TY_LIST, "values", NULL, 0 },
	{ "items", 1, 1, 0, 0, TY_LIST, "items", NULL, 0 },
	{ "first", 1, 2, 0, 0, TY_ANY, "first", NULL, 0 },
	{ "last", 1, 2, 0, 0, TY_ANY, "last", NULL, 0 },
	{ "where", 2, 2, LAMBDA(1), LAMBDA(1), TY_LIST, "filter", NULL, 0 },
	{ "select", 2, 2, LAMBDA(1), 0, TY_LIST, "map", NULL, 0 },
	{ "any", 1, 2, LAMBDA(1), LAMBDA(1), TY_BOOL, "any", fn_anyall, 0 },
	{ "all", 1, 2, LAMBDA(1), LAMBDA(1), TY_BOOL, "all", fn_anyall, 0 },
	{ "sum", 1, 1, 0, 0, TY_NUM, "sum", NULL, 0 },
	{ "max", 1, 2, 0, 0, TY_ANY, NULL, fn_minmax, 0 },
	{ "min", 1, 2, 0, 0, TY_ANY, NULL, fn_minmax, 0 },
	{ "sort", 1, 1, 0, 0, TY_LIST, "sorted", NULL, 0 },
	{ "orderBy", 2, 2, LAMBDA(1), 0, TY_LIST, "order_by", NULL, 0 },
	{ "orderByDescending", 2, 2, LAMBDA(1), 0, TY_LIST,
	  "order_by(%0, %1, true)", NULL, 0 },
	{ "distinct", 1, 1, 0, 0, TY_LIST, "unique", NULL, 0 },
	{ "reverse", 1, 1, 0, 0, TY_LIST, "reversed", NULL, 0 },
	{ "skip", 2, 2, 0, 0, TY_LIST, "skip", NULL, 0 },
	{ "limit", 2, 2, 0, 0, TY_LIST, "take", NULL, 0 },
	{ "take", 2, 2, 0, 0, TY_LIST, "take", NULL, 0 },
	{ "flatten", 1, 1, 0, 0, TY_LIST, "flatten", NULL, 0 },
	{ "aggregate", 3, 3, LAMBDA(1), 0, TY_ANY, "reduce", NULL, 2 },
	{ "indexOf", 2, 2, 0, 0, TY_INT, "index_of", NULL, 0 },
	{ "contains", 2, 2, 0, 0, TY_BOOL, "contains", NULL, 0 },
	{ "containsKey", 2, 2, 0, 0, TY_BOOL, "contains", NULL, 0 },
	{ "containsValue", 2, 2, 0, 0, TY_BOOL, "contains(values(%0), %1)",
	  NULL, 0 },
	{ "startsWith", 2, 2, 0, 0, TY_BOOL, "starts_with", NULL, 0 },
	{ "endsWith", 2, 2, 0, 0, TY_BOOL, "ends_with", NULL, 0 },
	{ "split", 1, 2, 0, 0, TY_LIST, "split", NULL, 0 },
	{ "join", 2, 2, 0, 0, TY_STR, NULL, fn_join, 0 },
	{ "replace", 3, 4, 0, 0, TY_STR, "replace", NULL, 0 },
	{ "trim", 1, 1, 0, 0, TY_STR, "trim", NULL, 0 },
	{ "trimLeft", 1, 1, 0, 0, TY_STR, "trim_left", NULL, 0 },
	{ "trimRight", 1, 1, 0, 0, TY_STR, "trim_right", NULL, 0 },
	{ "toUpper", 1, 1, 0, 0, TY_STR, "string.upper", NULL, 0 },
	{ "toLower", 1, 1, 0, 0, TY_STR, "string.lower", NULL, 0 },
	{ "substring", 2, 3, 0, 0, TY_STR, "substring", NULL, 0 },
	{ "format", 1, IMP_MAX_ARGS, 0, 0, TY_STR, NULL, fn_format, 0 },
	{ "concat", 1, IMP_MAX_ARGS, 0, 0, TY_STR, NULL, fn_concat, 0 },
	{ "coalesce", 1, IMP_MAX_ARGS, 0, 0, TY_ANY, "coalesce", NULL, 0 },
	{ "get", 2, 3, 0, 0, TY_ANY, NULL, fn_get, 0 },
	{ "switch", 1, IMP_MAX_ARGS, 0, 0, TY_ANY, NULL, fn_switch, 0 },
	{ "dict", 0, IMP_MAX_ARGS, 0, 0, TY_DICT, NULL, fn_dict, 0 },
	{ "list", 0, IMP_MAX_ARGS, 0, 0, TY_LIST, NULL, fn_list, 0 },
	{ "range", 1, 2, 0, 0, TY_LIST, NULL, fn_range, 0 },
	{ "let", 0, IMP_MAX_ARGS, 0, 0, TY_ANY, NULL, fn_let, 0 },
	{ "with", 0, IMP_MAX_ARGS, 0, 0, TY_ANY, NULL, fn_let, 0 },
	NONE("tasks", "has no bora counterpart (list the tasks through "
	    "the API)"),
	NONE("executions", "has no bora counterpart"),
	NONE("yaml_parse", "has no bora counterpart (no YAML in "
	    "expressions)"),
	NONE("yaml_dump", "has no bora counterpart (no YAML in "
	    "expressions)"),
	NONE("regex", "uses a regular expression, which Lua patterns do "
	    "not match"),
	NONE("matches", "uses a regular expression, which Lua patterns do "
	    "not match"),
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 }
};

/* Jinja's global functions: Mistral's and Jinja's own, as in YAQL. */
static const char *const imp_jinja_globals[] = {
	"task", "execution", "env", "global", "uuid", "json_parse",
	"json_dump", "json_pp", "range", "dict", "tasks", "executions",
	"yaml_parse", "yaml_dump", NULL
};

/* Jinja filters: the value filtered is the first argument. */
static const struct imp_fn imp_jinja_filters[] = {
	{ "length", 1, 1, 0, 0, TY_INT, "len", NULL, 0 },
	{ "count", 1, 1, 0, 0, TY_INT, "len", NULL, 0 },
	{ "upper", 1, 1, 0, 0, TY_STR, "string.upper", NULL, 0 },
	{ "lower", 1, 1, 0, 0, TY_STR, "string.lower", NULL, 0 },
	{ "trim", 1, 1, 0, 0, TY_STR, "trim", NULL, 0 },
	{ "first", 1, 1, 0, 0, TY_ANY, "first", NULL, 0 },
	{ "last", 1, 1, 0, 0, TY_ANY, "last", NULL, 0 },
	{ "join", 1, 2, 0, 0, TY_STR, NULL, fn_join, 0 },
	{ "default", 1, 3, 0, 0, TY_ANY, NULL, fn_jdefault, 0 },
	{ "d", 1, 3, 0, 0, TY_ANY, NULL, fn_jdefault, 0 },
	{ "int", 1, 1, 0, 0, TY_INT, "int", NULL, 0 },
	{ "float", 1, 1, 0, 0, TY_FLOAT, "float", NULL, 0 },
	{ "string", 1, 1, 0, 0, TY_STR, "str", NULL, 0 },
	{ "bool", 1, 1, 0, 0, TY_BOOL, "bool", NULL, 0 },
	{ "abs", 1, 1, 0, 0, TY_NUM, "math.abs", NULL, 0 },
	{ "sort", 1, 1, 0, 0, TY_LIST, "sorted", NULL, 0 },
	{ "unique", 1, 1, 0, 0, TY_LIST, "unique", NULL, 0 },
	{ "reverse", 1, 1, 0, 0, TY_LIST, "reversed", NULL, 0 },
	{ "min", 1, 1, 0, 0, TY_ANY, "minimum", NULL, 0 },
	{ "max", 1, 1, 0, 0, TY_ANY, "maximum", NULL, 0 },
	{ "sum", 1, 1, 0, 0, TY_NUM, "sum", NULL, 0 },
	{ "replace", 3, 4, 0, 0, TY_STR, "replace", NULL, 0 },
	{ "items", 1, 1, 0, 0, TY_LIST, "items", NULL, 0 },
	{ "dictsort", 1, 1, 0, 0, TY_LIST, "items", NULL, 0 },
	{ "list", 1, 1, 0, 0, TY_LIST, NULL, fn_identity, 0 },
	{ "tojson", 1, 1, 0, 0, TY_STR, "json_encode", NULL, 0 },
	{ "to_json", 1, 1, 0, 0, TY_STR, "json_encode", NULL, 0 },
	{ "json_dump", 1, 1, 0, 0, TY_STR, "json_encode", NULL, 0 },
	{ "json_parse", 1, 1, 0, 0, TY_ANY, "json_decode", NULL, 0 },
	{ "from_json", 1, 1, 0, 0, TY_ANY, "json_decode", NULL, 0 },
	{ "map", 2, 2, 0, 0, TY_LIST, NULL, fn_jmap, 0 },
	{ "selectattr", 2, 4, 0, 0, TY_LIST, NULL, fn_jselectattr, 0 },
	{ "rejectattr", 2, 4, 0, 0, TY_LIST, NULL, fn_jselectattr, 0 },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 }
};

/* Python methods Jinja expressions call on values. */
static const struct imp_fn imp_jinja_methods[] = {
	{ "upper", 1, 1, 0, 0, TY_STR, "string.upper", NULL, 0 },
	{ "lower", 1, 1, 0, 0, TY_STR, "string.lower", NULL, 0 },
	{ "strip", 1, 1, 0, 0, TY_STR, "trim", NULL, 0 },
	{ "lstrip", 1, 1, 0, 0, TY_STR, "trim_left", NULL, 0 },
	{ "rstrip", 1, 1, 0, 0, TY_STR, "trim_right", NULL, 0 },
	{ "split", 1, 2, 0, 0, TY_LIST, "split", NULL, 0 },
	{ "startswith", 2, 2, 0, 0, TY_BOOL, "starts_with", NULL, 0 },
	{ "endswith", 2, 2, 0, 0, TY_BOOL, "ends_with", NULL, 0 },
	{ "replace", 3, 4, 0, 0, TY_STR, "replace", NULL, 0 },
	{ "find", 2, 2, 0, 0, TY_INT, "index_of", NULL, 0 },
	{ "get", 2, 3, 0, 0, TY_ANY, NULL, fn_get, 0 },
	{ "keys", 1, 1, 0, 0, TY_LIST, "keys", NULL, 0 },
	{ "values", 1, 1, 0, 0, TY_LIST, "values", NULL, 0 },
	{ "items", 1, 1, 0, 0, TY_LIST, "items", NULL, 0 },
	{ "join", 2, 2, 0, 0, TY_STR, NULL, fn_pyjoin, 0 },
	{ "format", 1, IMP_MAX_ARGS, 0, 0, TY_STR, NULL, fn_format, 0 },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 }
};

/* Find name in a table. */
static const struct imp_fn *
lua_fn_find(const struct imp_fn *t, const char *name)
{
	for (; t->name != NULL; t++) {
		if (strcmp(t->name, name) == 0)
			return (t);
	}
	return (NULL);
}

/* A call of f on args (the receiver of a method first). */
static int
lua_call(struct imp_lua *L, const struct imp_fn *f, const char *what,
    struct import_node **args, size_t n, struct lx *out)
{
	if (f == NULL)
		return (lua_fail(L, "unknown %s", what));
	if ((int)n < f->min || (int)n > f->max)
		return (lua_fail(L, "%s takes %d to %d arguments, not %zu",
		    what, f->min, f->max, n));
	if (n > IMP_MAX_ARGS)
		return (lua_fail(L, "too many arguments"));
	return ((f->cb != NULL ? f->cb : fn_generic)(L, f, args, n, out));
}

/* ---- operators -------------------------------------------------------- */

static const char *const lua_posnames[] = {
	"1", "2", "3", "4", "5", "6", "7", "8", "9"
};

/* "let(a => x, y) -> body" (or with(...)): a function called on the spot. */
static int
lua_send(struct imp_lua *L, const struct import_node *n, struct lx *out)
{
	const struct import_node *let = n->kids[0], *a;
	struct buf		 params, vals;
	struct lx		 v = { NULL, 0, 0 }, body = { NULL, 0, 0 };
	size_t			 mark = L->nvars, i;
	const char		*pn;
	char			*want;
	int			 rc = -1;

	if (let->kind != IMP_CALL || (strcmp(let->s, "let") != 0 &&
	    strcmp(let->s, "with") != 0))
		return (lua_fail(L, "'->' after something else than let()"));
	if (let->nkids + L->nvars > IMP_MAX_VARS)
		return (lua_fail(L, "too many variables"));
	buf_init(&params, 0);
	buf_init(&vals, 0);
	buf_add(&params, "", 0);
	buf_add(&vals, "", 0);
	/* The values are seen from outside. */
	for (i = 0; i < let->nkids; i++) {
		a = let->kids[i];
		if (lua_node(L, a->kind == IMP_PAIR ? a->kids[1] : a, &v) != 0)
			goto out;
		buf_printf(&vals, "%s%s", i > 0 ? ", " : "", v.s);
		lx_free(&v);
	}
	for (i = 0; i < let->nkids; i++) {
		a = let->kids[i];
		if (a->kind == IMP_PAIR) {
			if (a->kids[0]->kind != IMP_WORD) {
				lua_fail(L, "let() names must be words");
				goto out;
			}
			pn = lua_bind(L, a->kids[0]->s, a->kids[0]->s);
		} else {
			if (i >= 9) {
				lua_fail(L, "let() with more than 9 values");
				goto out;
			}
			xasprintf(&want, "v%zu", i + 1);
			pn = lua_bind(L, lua_posnames[i], want);
			free(want);
		}
		buf_printf(&params, "%s%s", i > 0 ? ", " : "", pn);
	}
	if (lua_node(L, n->kids[1], &body) != 0)
		goto out;
	lx_set(out, LP_PREFIX, body.type, "(function(%s) return %s end)(%s)",
	    params.data, body.s, vals.data);
	rc = 0;
out:
	lx_free(&body);
	buf_free(&params);
	buf_free(&vals);
	lua_unbind(L, mark);
	return (rc);
}

/* a = b, a != b: is_null() against null, == on scalars, else eq(). */
static void
lua_equal(struct lx *l, struct lx *r, int neg, int lnull, int rnull,
    struct lx *out)
{
	struct lx	*x;
	char		*s;

	if (lnull && rnull) {
		lx_free(l);
		lx_free(r);
		lx_set(out, LP_ATOM, TY_BOOL, neg ? "false" : "true");
	} else if (lnull || rnull) {
		x = lnull ? r : l;
		lx_set(out, neg ? LP_UNARY : LP_PREFIX, TY_BOOL, "%sis_null(%s)",
		    neg ? "not " : "", x->s);
		lx_free(l);
		lx_free(r);
	} else if (lx_scalar(l->type) || lx_scalar(r->type))
		lx_binary(out, neg ? "~=" : "==", LP_CMP, 0, TY_BOOL, l, r);
	else {
		xasprintf(&s, "%seq(%s, %s)", neg ? "not " : "", l->s, r->s);
		lx_free(l);
		lx_free(r);
		free(out->s);
		out->s = s;
		out->prec = neg ? LP_UNARY : LP_PREFIX;
		out->type = TY_BOOL;
	}
}

/* The type of a + b when both are numbers. */
static int
lua_numtype(int a, int b)
{
	if (a == TY_INT && b == TY_INT)
		return (TY_INT);
	if (a == TY_FLOAT || b == TY_FLOAT)
		return (TY_FLOAT);
	return (TY_NUM);
}

/* A binary operator. */
static int
lua_binary(struct imp_lua *L, const struct import_node *n, struct lx *out)
{
	struct lx	 l = { NULL, 0, 0 }, r = { NULL, 0, 0 }, xs[2];
	int		 jinja = L->flags & IMPORT_JINJA, lnull, rnull;
	char		*s;

	switch (n->op) {
	case IMP_SEND:
		return (lua_send(L, n, out));
	case IMP_MATCH:
	case IMP_NMATCH:
		return (lua_fail(L, "regular expressions have no Lua "
		    "counterpart (Lua patterns differ)"));
	case IMP_AND:
	case IMP_OR:
		if (lua_node(L, n->kids[0], &l) != 0)
			return (-1);
		if (l.type != TY_BOOL && n->op == IMP_AND) {
			s = l.s;
			xasprintf(&l.s, "bool(%s)", s);
			free(s);
			l.prec = LP_PREFIX;
			l.type = TY_BOOL;
		}
		if (lua_node(L, n->kids[1], &r) != 0) {
			lx_free(&l);
			return (-1);
		}
		if (n->op == IMP_OR && l.type != TY_BOOL) {
			xs[0] = l;
			xs[1] = r;
			lx_call(out, r.type == l.type ? l.type : TY_ANY,
			    "or_else", xs, 2);
			return (0);
		}
		lx_binary(out, n->op == IMP_AND ? "and" : "or",
		    n->op == IMP_AND ? LP_AND : LP_OR, 0,
		    r.type == TY_BOOL ? TY_BOOL : TY_ANY, &l, &r);
		return (0);
	default:
		break;
	}

	if (lua_node(L, n->kids[0], &l) != 0)
		return (-1);
	if (lua_node(L, n->kids[1], &r) != 0) {
		lx_free(&l);
		return (-1);
	}
	lnull = n->kids[0]->kind == IMP_NULL;
	rnull = n->kids[1]->kind == IMP_NULL;
	switch (n->op) {
	case IMP_EQ:
	case IMP_NE:
		lua_equal(&l, &r, n->op == IMP_NE, lnull, rnull, out);
		return (0);
	case IMP_LT:
		lx_binary(out, "<", LP_CMP, 0, TY_BOOL, &l, &r);
		return (0);
	case IMP_LE:
		lx_binary(out, "<=", LP_CMP, 0, TY_BOOL, &l, &r);
		return (0);
	case IMP_GT:
		lx_binary(out, ">", LP_CMP, 0, TY_BOOL, &l, &r);
		return (0);
	case IMP_GE:
		lx_binary(out, ">=", LP_CMP, 0, TY_BOOL, &l, &r);
		return (0);
	case IMP_IN:
	case IMP_NOTIN:
		xs[0] = r;
		xs[1] = l;
		lx_call(out, TY_BOOL, "contains", xs, 2);
		if (n->op == IMP_NOTIN) {
			s = out->s;
			xasprintf(&out->s, "not %s", s);
			free(s);
			out->prec = LP_UNARY;
		}
		return (0);
	case IMP_ADD:
		if (l.type == TY_STR || r.type == TY_STR)
			lx_binary(out, "..", LP_CAT, 1, TY_STR, &l, &r);
		else if (lx_numeric(l.type) && lx_numeric(r.type))
			lx_binary(out, "+", LP_ADD, 0,
			    lua_numtype(l.type, r.type), &l, &r);
		else if ((lx_numeric(l.type) && r.type == TY_ANY) ||
		    (lx_numeric(r.type) && l.type == TY_ANY))
			lx_binary(out, "+", LP_ADD, 0, TY_NUM, &l, &r);
		else if (l.type == TY_DICT || r.type == TY_DICT) {
			xs[0] = l;
			xs[1] = r;
			lx_call(out, TY_DICT, "merge", xs, 2);
		} else {
			xs[0] = l;
			xs[1] = r;
			lx_call(out, l.type == TY_LIST || r.type == TY_LIST ?
			    TY_LIST : TY_ANY, "plus", xs, 2);
		}
		return (0);
	case IMP_SUB:
		lx_binary(out, "-", LP_ADD, 0, lua_numtype(l.type, r.type),
		    &l, &r);
		return (0);
	case IMP_MUL:
		if (l.type == TY_STR || r.type == TY_STR) {
			xs[0] = l.type == TY_STR ? l : r;
			xs[1] = l.type == TY_STR ? r : l;
			lx_call(out, TY_STR, "string.rep", xs, 2);
			return (0);
		}
		lx_binary(out, "*", LP_MUL, 0, lua_numtype(l.type, r.type),
		    &l, &r);
		return (0);
	case IMP_DIV:
		if (jinja || l.type == TY_FLOAT || r.type == TY_FLOAT)
			lx_binary(out, "/", LP_MUL, 0, TY_FLOAT, &l, &r);
		else if (l.type == TY_INT && r.type == TY_INT)
			lx_binary(out, "//", LP_MUL, 0, TY_INT, &l, &r);
		else {
			xs[0] = l;
			xs[1] = r;
			lx_call(out, TY_NUM, "div", xs, 2);
		}
		return (0);
	case IMP_IDIV:
		lx_binary(out, "//", LP_MUL, 0, lua_numtype(l.type, r.type),
		    &l, &r);
		return (0);
	case IMP_MOD:
		if (l.type == TY_STR) {
			lx_free(&l);
			lx_free(&r);
			return (lua_fail(L, "'%%' formatting of text"));
		}
		lx_binary(out, "%", LP_MUL, 0, lua_numtype(l.type, r.type),
		    &l, &r);
		return (0);
	case IMP_POW:
		lx_binary(out, "^", LP_POW, 1, TY_FLOAT, &l, &r);
		return (0);
	case IMP_CAT:
		xs[0] = l;
		xs[1] = r;
		lua_concat(xs, 2, out);
		return (0);
	default:
		lx_free(&l);
		lx_free(&r);
		return (lua_fail(L, "unknown operator"));
	}
}

/* A Jinja test: "x is defined", "x is not none", "x is divisibleby 3". */
static int
lua_test(struct imp_lua *L, const struct import_node *n, struct lx *out)
{
	struct lx	 x = { NULL, 0, 0 }, a = { NULL, 0, 0 };
	const char	*t = n->s;
	char		*xs, *as = NULL, *s;
	int		 rc = 0, neg = (n->flags & IMP_F_NOT) != 0;

	if (lua_node(L, n->kids[0], &x) != 0)
		return (-1);
	if (n->nkids > 1 && lua_node(L, n->kids[1], &a) != 0) {
		lx_free(&x);
		return (-1);
	}
	xs = lx_at(&x, LP_CMP + 1);
	if (a.s != NULL)
		as = lx_at(&a, LP_CMP + 1);
	if (strcmp(t, "defined") == 0)
		lx_set(out, LP_CMP, TY_BOOL, "%s ~= nil", xs);
	else if (strcmp(t, "undefined") == 0)
		lx_set(out, LP_CMP, TY_BOOL, "%s == nil", xs);
	else if (strcmp(t, "none") == 0)
		lx_set(out, LP_PREFIX, TY_BOOL, "is_null(%s)", x.s);
	else if (strcmp(t, "string") == 0)
		lx_set(out, LP_PREFIX, TY_BOOL, "is_string(%s)", x.s);
	else if (strcmp(t, "number") == 0)
		lx_set(out, LP_PREFIX, TY_BOOL, "is_number(%s)", x.s);
	else if (strcmp(t, "integer") == 0)
		lx_set(out, LP_PREFIX, TY_BOOL, "is_integer(%s)", x.s);
	else if (strcmp(t, "boolean") == 0)
		lx_set(out, LP_PREFIX, TY_BOOL, "is_bool(%s)", x.s);
	else if (strcmp(t, "mapping") == 0)
		lx_set(out, LP_PREFIX, TY_BOOL, "is_dict(%s)", x.s);
	else if (strcmp(t, "sequence") == 0 || strcmp(t, "iterable") == 0)
		lx_set(out, LP_PREFIX, TY_BOOL, "is_array(%s)", x.s);
	else if (strcmp(t, "true") == 0)
		lx_set(out, LP_CMP, TY_BOOL, "%s == true", xs);
	else if (strcmp(t, "false") == 0)
		lx_set(out, LP_CMP, TY_BOOL, "%s == false", xs);
	else if (strcmp(t, "even") == 0)
		lx_set(out, LP_CMP, TY_BOOL, "%s %% 2 == 0", xs);
	else if (strcmp(t, "odd") == 0)
		lx_set(out, LP_CMP, TY_BOOL, "%s %% 2 == 1", xs);
	else if (as != NULL && strcmp(t, "divisibleby") == 0)
		lx_set(out, LP_CMP, TY_BOOL, "%s %% %s == 0", xs, as);
	else if (as != NULL && (strcmp(t, "in") == 0))
		lx_set(out, LP_PREFIX, TY_BOOL, "contains(%s, %s)", a.s, x.s);
	else if (as != NULL && (strcmp(t, "equalto") == 0 ||
	    strcmp(t, "eq") == 0 || strcmp(t, "==") == 0 ||
	    strcmp(t, "sameas") == 0)) {
		lua_equal(&x, &a, 0, n->kids[0]->kind == IMP_NULL,
		    n->kids[1]->kind == IMP_NULL, out);
	} else if (as != NULL && (strcmp(t, "ne") == 0 ||
	    strcmp(t, "!=") == 0)) {
		lua_equal(&x, &a, 1, n->kids[0]->kind == IMP_NULL,
		    n->kids[1]->kind == IMP_NULL, out);
	} else
		rc = lua_fail(L, "unknown test '%s'", t);
	if (rc == 0 && neg) {
		s = lx_at(out, LP_UNARY);
		lx_set(out, LP_UNARY, TY_BOOL, "not %s", s);
		free(s);
	}
	free(xs);
	free(as);
	lx_free(&x);
	lx_free(&a);
	return (rc);
}

/* ---- nodes ------------------------------------------------------------ */

/* A variable: YAQL's $, $1, $name; Jinja's _ and names. */
static int
lua_varref(struct imp_lua *L, const struct import_node *n, struct lx *out)
{
	const char	*v;

	if (L->flags & IMPORT_JINJA) {
		if (strcmp(n->s, "_") == 0) {
			lx_set(out, LP_PREFIX, TY_ANY, "_");
			return (0);
		}
		return (lua_fail(L, "unknown name '%s' (Mistral's Jinja "
		    "context has _ and functions)", n->s));
	}
	if ((v = lua_var(L, n->s)) != NULL) {
		lx_set(out, LP_PREFIX, TY_ANY, "%s", v);
		return (0);
	}
	if (*n->s == '\0') {
		lx_set(out, LP_PREFIX, TY_ANY, "_");
		return (0);
	}
	return (lua_fail(L, "unknown variable $%s", n->s));
}

/* The Lua piece of a node. */
static int
lua_node(struct imp_lua *L, const struct import_node *n, struct lx *out)
{
	const struct imp_fn	*f;
	struct lx		 x = { NULL, 0, 0 };
	char			*s, *what;
	int			 rc, i, jinja = L->flags & IMPORT_JINJA;

	switch (n->kind) {
	case IMP_NUM:
		lx_set(out, LP_ATOM, n->flags & IMP_F_FLOAT ? TY_FLOAT : TY_INT,
		    "%s", n->s);
		return (0);
	case IMP_WORD:
		if (strcmp(n->s, "_") == 0) {
			/* Already bora's: _ is the data. */
			lx_set(out, LP_PREFIX, TY_ANY, "_");
			return (0);
		}
		/* FALLTHROUGH */
	case IMP_STR:
		lx_string(L, out, n->s, n->len);
		return (0);
	case IMP_TRUE:
		lx_set(out, LP_ATOM, TY_BOOL, "true");
		return (0);
	case IMP_FALSE:
		lx_set(out, LP_ATOM, TY_BOOL, "false");
		return (0);
	case IMP_NULL:
		lx_set(out, LP_PREFIX, TY_NULL, "null");
		return (0);
	case IMP_VAR:
		return (lua_varref(L, n, out));
	case IMP_ATTR:
		if (strncmp(n->s, "__", 2) == 0)
			return (lua_fail(L, "'%s' is an internal field of "
			    "Mistral", n->s));
		if (lua_node(L, n->kids[0], &x) != 0)
			return (-1);
		if (n->flags & IMP_F_SAFE) {
			s = lua_string(L, n->s, strlen(n->s));
			lx_set(out, LP_PREFIX, TY_ANY, "get(%s, %s)", x.s, s);
			free(s);
			lx_free(&x);
			return (0);
		}
		lx_field(L, out, &x, n->s, strlen(n->s));
		return (0);
	case IMP_INDEX:
		if (n->nkids != 2 || n->kids[1]->kind == IMP_PAIR)
			return (lua_fail(L, "an index other than [i]"));
		if (lua_node(L, n->kids[0], &x) != 0)
			return (-1);
		return (lua_index(L, &x, n->kids[1], out));
	case IMP_CALL:
		xasprintf(&what, "function %s()", n->s);
		f = lua_fn_find(imp_yaql_fns, n->s);
		for (i = 0; jinja && imp_jinja_globals[i] != NULL; i++) {
			if (strcmp(imp_jinja_globals[i], n->s) == 0)
				break;
		}
		if (jinja && imp_jinja_globals[i] == NULL)
			f = NULL;
		rc = lua_call(L, f, what, n->kids, n->nkids, out);
		free(what);
		return (rc);
	case IMP_METHOD:
		xasprintf(&what, "method %s()", n->s);
		f = lua_fn_find(jinja ? imp_jinja_methods : imp_yaql_fns,
		    n->s);
		rc = lua_call(L, f, what, n->kids, n->nkids, out);
		free(what);
		return (rc);
	case IMP_FILTER:
		xasprintf(&what, "filter '%s'", n->s);
		f = lua_fn_find(imp_jinja_filters, n->s);
		rc = lua_call(L, f, what, n->kids, n->nkids, out);
		free(what);
		return (rc);
	case IMP_TEST:
		return (lua_test(L, n, out));
	case IMP_BINARY:
		return (lua_binary(L, n, out));
	case IMP_UNARY:
		if (n->op == IMP_NOT)
			return (lua_cond(L, n, out));
		if (lua_node(L, n->kids[0], &x) != 0)
			return (-1);
		if (n->op == IMP_POS) {
			*out = x;
			return (0);
		}
		s = lx_at(&x, LP_UNARY);
		lx_set(out, LP_UNARY, lx_numeric(x.type) ? x.type : TY_NUM,
		    s[0] == '-' ? "-(%s)" : "-%s", s);
		free(s);
		lx_free(&x);
		return (0);
	case IMP_LIST:
		return (lua_list(L, n->kids, n->nkids, out));
	case IMP_DICT:
		return (lua_dict(L, n->kids, n->nkids, out));
	case IMP_COND: {
		struct lx c = { NULL, 0, 0 }, v = { NULL, 0, 0 };
		struct lx d = { NULL, 0, 0 };

		if (lua_cond(L, n->kids[1], &c) != 0)
			return (-1);
		if (lua_node(L, n->kids[0], &v) != 0 ||
		    lua_node(L, n->kids[2], &d) != 0) {
			lx_free(&c);
			lx_free(&v);
			return (-1);
		}
		lua_choose(&c, &v, 1, &d, out);
		return (0);
	}
	case IMP_PAIR:
		return (lua_fail(L, "'%s' outside a function's arguments",
		    jinja ? "=" : "=>"));
	case IMP_SLICE:
		return (lua_fail(L, "slices are not supported"));
	}
	return (lua_fail(L, "unknown expression"));
}

/*
 * A node used for its truth: "and", "or" and "not" of conditions stay
 * Lua's; any other value not known to be a boolean goes through bool().
 */
static int
lua_cond(struct imp_lua *L, const struct import_node *n, struct lx *out)
{
	struct lx	 l = { NULL, 0, 0 }, r = { NULL, 0, 0 };
	char		*s;

	if (n->kind == IMP_UNARY && n->op == IMP_NOT) {
		if (lua_cond(L, n->kids[0], &l) != 0)
			return (-1);
		s = lx_at(&l, LP_UNARY);
		lx_set(out, LP_UNARY, TY_BOOL, "not %s", s);
		free(s);
		lx_free(&l);
		return (0);
	}
	if (n->kind == IMP_BINARY && (n->op == IMP_AND || n->op == IMP_OR)) {
		if (lua_cond(L, n->kids[0], &l) != 0)
			return (-1);
		if (lua_cond(L, n->kids[1], &r) != 0) {
			lx_free(&l);
			return (-1);
		}
		lx_binary(out, n->op == IMP_AND ? "and" : "or",
		    n->op == IMP_AND ? LP_AND : LP_OR, 0, TY_BOOL, &l, &r);
		return (0);
	}
	if (lua_node(L, n, out) != 0)
		return (-1);
	if (out->type != TY_BOOL) {
		s = out->s;
		xasprintf(&out->s, "bool(%s)", s);
		free(s);
		out->prec = LP_PREFIX;
		out->type = TY_BOOL;
	}
	return (0);
}

/* Lua text of a tree; see cli-import.h. */
int
import_lua(const struct import_node *n, int flags, char **out, char **cause)
{
	struct imp_lua	 L;
	struct lx	 x = { NULL, 0, 0 };
	int		 rc;

	memset(&L, 0, sizeof L);
	L.flags = flags;
	rc = (flags & IMPORT_BOOL) ? lua_cond(&L, n, &x) : lua_node(&L, n, &x);
	lua_unbind(&L, 0);
	if (rc != 0) {
		lx_free(&x);
		*cause = L.cause != NULL ? L.cause : xstrdup("cannot "
		    "translate");
		return (-1);
	}
	free(L.cause);
	*out = x.s;
	return (0);
}

/* Translate one expression; see cli-import.h. */
int
import_expr(const char *src, size_t len, int flags, char **out,
    char **cause)
{
	struct import_node	*n;
	size_t			 errpos;
	char			*why;

	n = import_parse(src, len, (flags & IMPORT_JINJA) != 0, &why, &errpos);
	if (n == NULL) {
		xasprintf(cause, "%s at offset %zu", why, errpos);
		free(why);
		return (-1);
	}
	if (import_lua(n, flags, out, cause) != 0) {
		import_node_free(n);
		return (-1);
	}
	import_node_free(n);
	return (0);
}
