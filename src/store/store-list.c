/*
 * store-list.c -- the rules of the API's lists, in one place: whitelisted
 * filter fields with Mistral's operators, sort keys then id, keyset pages
 * after a marker row, a limit.  The store's tables are listed in SQL
 * (values always bound, never spliced in); resources that live in memory
 * (definitions, actions) by the same rules over JSON objects.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store-int.h"

/* Comparisons an operator holds for: less, equal, greater. */
#define LT	0x1
#define EQ	0x2
#define GT	0x4

/* Mistral's operators; in, nin and has are not comparisons. */
enum list_kind { LIST_CMP, LIST_IN, LIST_NIN, LIST_HAS };
static const struct list_op {
	const char	*name;
	enum list_kind	 kind;
	const char	*sql;		/* NULL: the dialect's NULL-safe one */
	unsigned	 holds;
} list_ops[] = {
	{ "eq", LIST_CMP, "=", EQ }, { "neq", LIST_CMP, NULL, LT | GT },
	{ "gt", LIST_CMP, ">", GT }, { "gte", LIST_CMP, ">=", GT | EQ },
	{ "lt", LIST_CMP, "<", LT }, { "lte", LIST_CMP, "<=", LT | EQ },
	{ "in", LIST_IN, NULL, 0 }, { "nin", LIST_NIN, NULL, 0 },
	{ "has", LIST_HAS, NULL, 0 }
};

/* The sort of a list: keys (then id) and their directions. */
#define LIST_MAXKEYS	16
struct list_sort {
	const struct store_column	*key[LIST_MAXKEYS + 1];
	int				 desc[LIST_MAXKEYS + 1];
	size_t				 n;		/* with id */
};

/* A list query being built in SQL: its text, values and dialect. */
struct list_sql {
	const struct store_dialect	*d;
	struct buf			*b;
	struct store_value		**v;
	size_t				*nv;
	char				*err;
};

/*
 * The whitelist entry for (resource, field), or NULL.  Resources are the
 * listed tables and the lists of JSON objects (store_item_lists).
 */
const struct store_column *
store_list_field(const char *resource, const char *field)
{
	const struct store_table	*t;
	const struct store_column	*c, *list = NULL;
	size_t				 i;

	if ((t = store_table_find(resource)) != NULL)
		list = t->list;
	for (i = 0; list == NULL && store_item_lists[i].name != NULL; i++) {
		if (strcmp(store_item_lists[i].name, resource) == 0)
			list = store_item_lists[i].fields;
	}
	if (list == NULL || field == NULL)
		return (NULL);
	for (c = list; c->field != NULL; c++) {
		if (strcmp(c->field, field) == 0)
			return (c);
	}
	return (NULL);
}

/* The column for an API field name, or NULL. */
const char *
store_list_column(const char *resource, const char *field)
{
	const struct store_column	*c;

	c = store_list_field(resource, field);
	return (c == NULL ? NULL : c->column);
}

/*
 * Convert a filter value for an integer or time column.  Times accept
 * ms since the epoch, "YYYY-MM-DD HH:MM:SS[.fff]" and
 * "YYYY-MM-DDTHH:MM:SS[.fff][Z]" in UTC; booleans "true"/"false".
 */
int
store_list_int(const struct store_column *c, const char *value,
    int64_t *out, char **cause)
{
	struct tm	 tm;
	const char	*p;
	char		*end;
	long long	 v;
	int		 ms = 0, i;

	*cause = NULL;
	if (c->type == STORE_COL_INT) {
		if (strcmp(value, "true") == 0 ||
		    strcmp(value, "True") == 0) {
			*out = 1;
			return (0);
		}
		if (strcmp(value, "false") == 0 ||
		    strcmp(value, "False") == 0) {
			*out = 0;
			return (0);
		}
	}
	errno = 0;
	v = strtoll(value, &end, 10);
	if (*value != '\0' && *end == '\0' && errno == 0) {
		*out = v;
		return (0);
	}
	if (c->type != STORE_COL_TIME)
		goto bad;

	memset(&tm, 0, sizeof tm);
	p = strptime(value, "%Y-%m-%d", &tm);
	if (p == NULL)
		goto bad;
	if (*p == ' ' || *p == 'T') {
		p = strptime(p + 1, "%H:%M:%S", &tm);
		if (p == NULL)
			goto bad;
		if (*p == '.') {
			p++;
			for (i = 0; i < 3 && isdigit((unsigned char)*p);
			    i++, p++)
				ms = ms * 10 + (*p - '0');
			for (; i < 3; i++)
				ms *= 10;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == 'Z')
			p++;
	}
	if (*p != '\0')
		goto bad;
	*out = (int64_t)timegm(&tm) * 1000 + ms;
	return (0);

bad:
	if (c->type == STORE_COL_TIME)
		xasprintf(cause, "%s: bad time \"%s\" (want YYYY-MM-DD "
		    "HH:MM:SS)", c->field, value);
	else
		xasprintf(cause, "%s: bad number \"%s\"", c->field, value);
	return (-1);
}

/*
 * Check one filter on resource: its field, operator and value.  The
 * column and operator go to *c and *op (*op NULL: IS [NOT] NULL, with
 * *isnot); -1 + *cause when it is wrong.
 */
static int
list_filter_check(const char *resource, const struct store_filter *f,
    const struct store_column **c, const struct list_op **op, int *isnot,
    char **cause)
{
	const char	*name = f->op != NULL ? f->op : "eq";
	size_t		 i;

	*op = NULL;
	if ((*c = store_list_field(resource, f->field)) == NULL) {
		xasprintf(cause, "unknown filter field \"%s\" for %s",
		    f->field, resource);
		return (-1);
	}
	for (i = 0; i < nitems(list_ops); i++) {
		if (strcmp(name, list_ops[i].name) == 0)
			break;
	}
	if (i == nitems(list_ops)) {
		xasprintf(cause, "%s: unknown operator \"%s\" (want eq, neq, "
		    "in, nin, gt, gte, lt, lte or has)", f->field, name);
		return (-1);
	}
	if (f->value == NULL) {
		if (strcmp(name, "eq") != 0 && strcmp(name, "neq") != 0) {
			xasprintf(cause, "%s: operator %s needs a value",
			    f->field, name);
			return (-1);
		}
		*isnot = name[0] == 'n';
		return (0);
	}
	if (list_ops[i].kind == LIST_HAS && (*c)->type != STORE_COL_TEXT) {
		xasprintf(cause, "%s: operator has needs a text field",
		    f->field);
		return (-1);
	}
	*op = &list_ops[i];
	return (0);
}

/*
 * The sort of a query on resource: its keys until one is id, then id,
 * in the direction of the last key; created_at when none is given.
 */
static int
list_sort(const char *resource, const struct store_query *q,
    struct list_sort *ls, char **cause)
{
	const struct store_column	*key;
	size_t				 i;
	int				 desc;

	ls->n = 0;
	if (q->nsort > LIST_MAXKEYS) {
		xasprintf(cause, "too many sort keys");
		return (-1);
	}
	for (i = 0; i < q->nsort; i++) {
		if ((key = store_list_field(resource, q->sort_keys[i])) ==
		    NULL) {
			xasprintf(cause, "unknown sort key \"%s\" for %s",
			    q->sort_keys[i], resource);
			return (-1);
		}
		if (strcmp(key->column, "id") == 0)
			break;
		ls->key[ls->n] = key;
		ls->desc[ls->n++] = q->sort_desc != NULL && q->sort_desc[i];
	}
	if (q->nsort == 0) {
		ls->key[ls->n] = store_list_field(resource, "created_at");
		ls->desc[ls->n++] = 0;
	}
	/* The tie-break follows the direction of the last key. */
	desc = i < q->nsort ? (q->sort_desc != NULL && q->sort_desc[i]) :
	    ls->n > 0 ? ls->desc[ls->n - 1] : 0;
	ls->key[ls->n] = store_list_field(resource, "id");
	ls->desc[ls->n++] = desc;
	return (0);
}

/* ---- in SQL ---------------------------------------------------------- */

/* Add a value; its placeholder is appended to the SQL when show. */
static void
list_value(struct list_sql *l, const struct store_value *v, int show)
{
	*l->v = xreallocarray(*l->v, *l->nv + 1, sizeof **l->v);
	(*l->v)[(*l->nv)++] = *v;
	if (show)
		buf_printf(l->b, "%c%zu", l->d->param, *l->nv);
}

/* A text value and its placeholder. */
static void
list_text(struct list_sql *l, const char *s, int show)
{
	struct store_value	 v;

	store_value_text(&v, s);
	list_value(l, &v, show);
}

/* One filter value, converted for the column's type. */
static int
list_filter_value(struct list_sql *l, const struct store_column *c,
    const char *value)
{
	struct store_value	 v;
	int64_t			 i;

	if (c->type == STORE_COL_TEXT) {
		list_text(l, value, 1);
		return (0);
	}
	if (store_list_int(c, value, &i, &l->err) != 0)
		return (-1);
	store_value_int(&v, i);
	list_value(l, &v, 1);
	return (0);
}

/* Append " AND <condition>" for one filter on resource r. */
static int
list_filter(struct list_sql *l, const char *r, const struct store_filter *f)
{
	const struct store_column	*c;
	const struct list_op		*op;
	char				*list, *item, *last, ph[32];
	int				 first, isnot;

	if (list_filter_check(r, f, &c, &op, &isnot, &l->err) != 0)
		return (-1);
	if (op == NULL) {
		buf_printf(l->b, " AND %s IS %sNULL", c->column,
		    isnot ? "NOT " : "");
		return (0);
	}
	switch (op->kind) {
	case LIST_CMP:
		buf_printf(l->b, " AND %s %s ", c->column,
		    op->sql != NULL ? op->sql : l->d->neq);
		return (list_filter_value(l, c, f->value));
	case LIST_HAS:
		/* The placeholder goes into the dialect's test. */
		snprintf(ph, sizeof ph, "%c%zu", l->d->param, *l->nv + 1);
		buf_puts(l->b, " AND ");
		buf_printf(l->b, l->d->has, c->column, ph);
		list_text(l, f->value, 0);
		return (0);
	default:
		break;
	}
	buf_printf(l->b, " AND %s %sIN (", c->column,
	    op->kind == LIST_NIN ? "NOT " : "");
	list = xstrdup(f->value);
	first = 1;
	for (item = strtok_r(list, ",", &last); item != NULL;
	    item = strtok_r(NULL, ",", &last)) {
		if (!first)
			buf_puts(l->b, ", ");
		first = 0;
		if (list_filter_value(l, c, item) != 0) {
			free(list);
			return (-1);
		}
	}
	free(list);
	/* An empty list matches nothing (in) or all (nin). */
	buf_puts(l->b, first ? "NULL)" : ")");
	return (0);
}

/*
 * The SQL of a list query on table t for dialect d, its values appended
 * to *v.  NULLs sort first ascending and last descending, and the marker
 * condition is "comes after the marker in this order": k1 after m1, or
 * k1 = m1 and k2 after m2, and so on.
 */
int
store_list_sql(struct store *s, const struct store_table *t,
    const struct store_query *q, const struct store_dialect *d,
    struct buf *b, struct store_value **v, size_t *nv)
{
	struct list_sql		 l = { d, b, v, nv, NULL };
	struct list_sort	 ls;
	struct store_value	 lim;
	const char		*k, *kj;
	size_t			 i, j;

	if (list_sort(t->name, q, &ls, &l.err) != 0)
		goto fail;
	if (q->marker != NULL) {
		buf_puts(b, "WITH m AS (SELECT ");
		for (i = 0; i < ls.n; i++)
			buf_printf(b, "%s%s AS m%zu", i ? ", " : "",
			    ls.key[i]->column, i);
		buf_printf(b, " FROM %s WHERE id = ", t->name);
		list_text(&l, q->marker, 1);
		buf_puts(b, ") ");
	}
	buf_puts(b, "SELECT ");
	store_table_columns(b, t, 1);
	buf_printf(b, " FROM %s%s WHERE 1 = 1", t->name,
	    q->marker != NULL ? ", m" : "");
	for (i = 0; i < q->nfilters; i++) {
		if (list_filter(&l, t->name, &q->filters[i]) != 0)
			goto fail;
	}
	if (q->marker != NULL) {
		buf_puts(b, " AND (");
		for (i = 0; i < ls.n; i++) {
			k = ls.key[i]->column;
			buf_puts(b, i ? " OR (" : "(");
			for (j = 0; j < i; j++) {
				kj = ls.key[j]->column;
				buf_printf(b, "%s %s m%zu AND ", kj, d->same,
				    j);
			}
			if (ls.desc[i])
				buf_printf(b, "(%s < m%zu OR (%s IS NULL AND "
				    "m%zu IS NOT NULL)))", k, i, k, i);
			else
				buf_printf(b, "(%s > m%zu OR (m%zu IS NULL "
				    "AND %s IS NOT NULL)))", k, i, i, k);
		}
		buf_puts(b, ")");
	}
	buf_puts(b, " ORDER BY ");
	for (i = 0; i < ls.n; i++)
		buf_printf(b, "%s%s%s", i ? ", " : "", ls.key[i]->column,
		    ls.desc[i] ? " DESC NULLS LAST" : " ASC NULLS FIRST");
	if (q->limit > 0) {
		buf_puts(b, " LIMIT ");
		store_value_int(&lim, (int64_t)q->limit);
		list_value(&l, &lim, 1);
	}
	return (0);

fail:
	store_set_error(s, "%s", l.err);
	free(l.err);
	return (-1);
}

/* ---- in memory --------------------------------------------------------- */

/* A field of a JSON object as a list value: text or integer, or NULL. */
struct list_val {
	int	 null;
	int64_t	 i;
	char	*s;
};

/* The value of column c in item (its JSON key is c->column). */
static void
list_item_val(json_t *item, const struct store_column *c,
    struct list_val *v)
{
	json_t	*j = json_object_get(item, c->column);
	char	*cause = NULL;

	memset(v, 0, sizeof *v);
	if (j == NULL || json_is_null(j)) {
		v->null = 1;
		return;
	}
	if (json_is_string(j))
		v->s = xstrdup(json_string_value(j));
	else if (json_is_boolean(j) || json_is_integer(j)) {
		if (c->type != STORE_COL_TEXT) {
			v->i = json_is_boolean(j) ? json_is_true(j) :
			    json_integer_value(j);
			return;
		}
		v->s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	} else
		v->s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	if (c->type != STORE_COL_TEXT) {
		/* A value that does not read as its type is NULL. */
		v->null = store_list_int(c, v->s, &v->i, &cause) != 0;
		free(cause);
		free(v->s);
		v->s = NULL;
	}
}

/* Compare two values of column c (neither NULL): LT, EQ or GT. */
static unsigned
list_val_cmp(const struct store_column *c, const struct list_val *a,
    const struct list_val *b)
{
	int	 r;

	if (c->type == STORE_COL_TEXT)
		r = strcmp(a->s, b->s);
	else
		r = a->i < b->i ? -1 : a->i > b->i;
	return (r < 0 ? LT : r > 0 ? GT : EQ);
}

/* A filter value as a value of column c; -1 + *cause if bad. */
static int
list_filter_val(const struct store_column *c, const char *text,
    struct list_val *v, char **cause)
{
	memset(v, 0, sizeof *v);
	if (c->type == STORE_COL_TEXT) {
		v->s = (char *)text;
		return (0);
	}
	return (store_list_int(c, text, &v->i, cause));
}

/* Does item pass filter f (checked: c, op, isnot)?  -1 + *cause. */
static int
list_item_match(json_t *item, const struct store_filter *f,
    const struct store_column *c, const struct list_op *op, int isnot,
    char **cause)
{
	struct list_val	 v, fv;
	char		*list, *e, *last;
	int		 m = 0, in = 0;

	list_item_val(item, c, &v);
	if (op == NULL) {
		m = v.null != isnot;
		goto out;
	}
	if (op->kind == LIST_CMP && op->sql == NULL && v.null) {
		m = 1;		/* NULL is distinct from any value */
		goto out;
	}
	if (v.null)
		goto out;	/* NULL matches no comparison, in or nin */
	switch (op->kind) {
	case LIST_CMP:
		if (list_filter_val(c, f->value, &fv, cause) != 0)
			goto fail;
		m = (list_val_cmp(c, &v, &fv) & op->holds) != 0;
		break;
	case LIST_HAS:
		m = strstr(v.s, f->value) != NULL;
		break;
	default:
		list = xstrdup(f->value);
		for (e = strtok_r(list, ",", &last); e != NULL;
		    e = strtok_r(NULL, ",", &last)) {
			if (list_filter_val(c, e, &fv, cause) != 0) {
				free(list);
				goto fail;
			}
			if (list_val_cmp(c, &v, &fv) == EQ)
				in = 1;
		}
		free(list);
		m = op->kind == LIST_IN ? in : !in;
		break;
	}
out:
	free(v.s);
	return (m);
fail:
	free(v.s);
	return (-1);
}

/* Compare items in a sort's order: LT, EQ or GT. */
static unsigned
list_item_cmp(const struct list_sort *ls, json_t *x, json_t *y)
{
	struct list_val	 a, b;
	unsigned	 r = EQ;
	size_t		 i;

	for (i = 0; i < ls->n && r == EQ; i++) {
		list_item_val(x, ls->key[i], &a);
		list_item_val(y, ls->key[i], &b);
		/* NULLs first ascending, last descending. */
		if (a.null || b.null)
			r = a.null == b.null ? EQ : a.null ? LT : GT;
		else
			r = list_val_cmp(ls->key[i], &a, &b);
		if (ls->desc[i] && r != EQ)
			r = r == LT ? GT : LT;
		free(a.s);
		free(b.s);
	}
	return (r);
}

static int
list_qsort_cmp(const void *x, const void *y, void *arg)
{
	unsigned	 r;

	r = list_item_cmp(arg, *(json_t *const *)x, *(json_t *const *)y);
	return (r == LT ? -1 : r == GT);
}

/* Check a filter's values against its column; -1 + *cause. */
static int
list_filter_vals(const struct store_filter *f, const struct store_column *c,
    const struct list_op *op, char **cause)
{
	struct list_val	 fv;
	char		*list, *e, *last;
	int		 rc = 0;

	if (op == NULL || op->kind == LIST_HAS)
		return (0);
	if (op->kind == LIST_CMP)
		return (list_filter_val(c, f->value, &fv, cause));
	list = xstrdup(f->value);
	for (e = strtok_r(list, ",", &last); e != NULL && rc == 0;
	    e = strtok_r(NULL, ",", &last))
		rc = list_filter_val(c, e, &fv, cause);
	free(list);
	return (rc);
}

/*
 * List JSON objects of a resource that lives in memory by the same rules
 * as the store's lists: *out gets a new array.  STORE_ERROR + *cause for
 * a wrong filter or sort key, STORE_NOTFOUND when the marker is not an
 * item.
 */
enum store_rc
store_list_items(const char *resource, const struct store_query *q,
    json_t *items, json_t **out, char **cause)
{
	const struct store_column	**c;
	const struct list_op		**op;
	struct list_sort		 ls;
	json_t				**v, *it, *marker = NULL, *id;
	size_t				 n = 0, i, j;
	int				*isnot, m = 1;
	enum store_rc			 rc = STORE_ERROR;

	*out = NULL;
	*cause = NULL;
	if (list_sort(resource, q, &ls, cause) != 0)
		return (STORE_ERROR);
	c = xcalloc(q->nfilters + 1, sizeof *c);
	op = xcalloc(q->nfilters + 1, sizeof *op);
	isnot = xcalloc(q->nfilters + 1, sizeof *isnot);
	v = xcalloc(json_array_size(items) + 1, sizeof *v);
	for (j = 0; j < q->nfilters; j++) {
		if (list_filter_check(resource, &q->filters[j], &c[j], &op[j],
		    &isnot[j], cause) != 0 ||
		    list_filter_vals(&q->filters[j], c[j], op[j], cause) != 0)
			goto out;
	}
	json_array_foreach(items, i, it) {
		id = json_object_get(it, "id");
		if (q->marker != NULL && json_is_string(id) &&
		    strcmp(json_string_value(id), q->marker) == 0)
			marker = it;
		for (m = 1, j = 0; j < q->nfilters && m == 1; j++)
			m = list_item_match(it, &q->filters[j], c[j], op[j],
			    isnot[j], cause);
		if (m == -1)
			goto out;
		if (m)
			v[n++] = it;
	}
	if (q->marker != NULL && marker == NULL) {
		xasprintf(cause, "marker %s not found", q->marker);
		rc = STORE_NOTFOUND;
		goto out;
	}
	qsort_r(v, n, sizeof *v, list_qsort_cmp, &ls);
	*out = json_array();
	for (i = 0; i < n; i++) {
		if (q->limit > 0 && json_array_size(*out) == q->limit)
			break;
		/* A page goes on after its marker, in the sort's order. */
		if (marker == NULL || list_item_cmp(&ls, v[i], marker) == GT)
			json_array_append(*out, v[i]);
	}
	rc = STORE_OK;
out:
	free(v);
	free(isnot);
	free(op);
	free(c);
	return (rc);
}
