/*
 * store-list.c -- the lists of the API as SQL: whitelisted filter
 * fields with Mistral's operators, sort keys then id, keyset pages after
 * a marker row, a limit.  Values are always bound, never spliced in.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store-int.h"

/* A list query being built: its SQL, values and dialect. */
struct list_sql {
	struct store			*s;
	const struct store_dialect	*d;
	struct buf			*b;
	struct store_value		**v;
	size_t				*nv;
};

/* The whitelist entry for (resource, field), or NULL. */
const struct store_column *
store_list_field(const char *resource, const char *field)
{
	const struct store_table	*t;
	const struct store_column	*c;

	if ((t = store_table_find(resource)) == NULL || t->list == NULL ||
	    field == NULL)
		return (NULL);
	for (c = t->list; c->field != NULL; c++) {
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
	char			*cause;
	int64_t			 i;

	if (c->type == STORE_COL_TEXT) {
		list_text(l, value, 1);
		return (0);
	}
	if (store_list_int(c, value, &i, &cause) != 0) {
		store_set_error(l->s, "%s", cause);
		free(cause);
		return (-1);
	}
	store_value_int(&v, i);
	list_value(l, &v, 1);
	return (0);
}

/* Append " AND <condition>" for one filter on table t. */
static int
list_filter(struct list_sql *l, const struct store_table *t,
    const struct store_filter *f)
{
	static const struct {
		const char	*op;
		const char	*sql;
	} cmp[] = {
		{ "eq", "=" }, { "neq", NULL }, { "gt", ">" },
		{ "gte", ">=" }, { "lt", "<" }, { "lte", "<=" }
	};
	const struct store_column	*c;
	const char			*op = f->op != NULL ? f->op : "eq";
	char				*list, *item, *last, ph[32];
	size_t				 i;
	int				 first;

	if ((c = store_list_field(t->name, f->field)) == NULL) {
		store_set_error(l->s, "unknown filter field \"%s\" for %s",
		    f->field, t->name);
		return (-1);
	}
	if (f->value == NULL) {
		if (strcmp(op, "eq") != 0 && strcmp(op, "neq") != 0) {
			store_set_error(l->s, "%s: operator %s needs a value",
			    f->field, op);
			return (-1);
		}
		buf_printf(l->b, " AND %s IS %sNULL", c->column,
		    op[0] == 'n' ? "NOT " : "");
		return (0);
	}
	for (i = 0; i < nitems(cmp); i++) {
		if (strcmp(op, cmp[i].op) == 0) {
			buf_printf(l->b, " AND %s %s ", c->column,
			    cmp[i].sql != NULL ? cmp[i].sql : l->d->neq);
			return (list_filter_value(l, c, f->value));
		}
	}
	if (strcmp(op, "in") == 0 || strcmp(op, "nin") == 0) {
		buf_printf(l->b, " AND %s %sIN (", c->column,
		    op[0] == 'n' ? "NOT " : "");
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
	if (strcmp(op, "has") == 0 && c->type == STORE_COL_TEXT) {
		/* The placeholder goes into the dialect's test. */
		snprintf(ph, sizeof ph, "%c%zu", l->d->param, *l->nv + 1);
		buf_puts(l->b, " AND ");
		buf_printf(l->b, l->d->has, c->column, ph);
		list_text(l, f->value, 0);
		return (0);
	}
	if (strcmp(op, "has") == 0) {
		store_set_error(l->s, "%s: operator has needs a text field",
		    f->field);
		return (-1);
	}
	store_set_error(l->s, "%s: unknown operator \"%s\" (want eq, neq, in, "
	    "nin, gt, gte, lt, lte or has)", f->field, op);
	return (-1);
}

/*
 * The SQL of a list query on table t for dialect d, its values appended
 * to *v: whitelisted filters, sort keys then id, keyset pagination after
 * the marker row, limit.  NULLs sort first ascending and last
 * descending, and the marker condition is "comes after the marker in
 * this order": k1 after m1, or k1 = m1 and k2 after m2, and so on.
 */
int
store_list_sql(struct store *s, const struct store_table *t,
    const struct store_query *q, const struct store_dialect *d,
    struct buf *b, struct store_value **v, size_t *nv)
{
	const struct store_column	*key;
	const char			*kcol[17];
	int				 kdesc[17], desc;
	struct list_sql			 l = { s, d, b, v, nv };
	struct store_value		 lim;
	size_t				 nkeys = 0, i, j;

	if (q->nsort > nitems(kcol) - 1) {
		store_set_error(s, "too many sort keys");
		return (-1);
	}
	for (i = 0; i < q->nsort; i++) {
		if ((key = store_list_field(t->name, q->sort_keys[i])) ==
		    NULL) {
			store_set_error(s, "unknown sort key \"%s\" for %s",
			    q->sort_keys[i], t->name);
			return (-1);
		}
		if (strcmp(key->column, "id") == 0)
			break;
		kcol[nkeys] = key->column;
		kdesc[nkeys++] = q->sort_desc != NULL && q->sort_desc[i];
	}
	if (q->nsort == 0) {
		kcol[nkeys] = "created_at";
		kdesc[nkeys++] = 0;
	}
	/* The tie-break follows the direction of the last key. */
	desc = i < q->nsort ? (q->sort_desc != NULL && q->sort_desc[i]) :
	    nkeys > 0 ? kdesc[nkeys - 1] : 0;
	kcol[nkeys] = "id";
	kdesc[nkeys] = desc;

	if (q->marker != NULL) {
		buf_puts(b, "WITH m AS (SELECT ");
		for (i = 0; i <= nkeys; i++)
			buf_printf(b, "%s%s AS m%zu", i ? ", " : "", kcol[i], i);
		buf_printf(b, " FROM %s WHERE id = ", t->name);
		list_text(&l, q->marker, 1);
		buf_puts(b, ") ");
	}
	buf_puts(b, "SELECT ");
	store_table_columns(b, t, 1);
	buf_printf(b, " FROM %s%s WHERE 1 = 1", t->name,
	    q->marker != NULL ? ", m" : "");
	for (i = 0; i < q->nfilters; i++) {
		if (list_filter(&l, t, &q->filters[i]) != 0)
			return (-1);
	}
	if (q->marker != NULL) {
		buf_puts(b, " AND (");
		for (i = 0; i <= nkeys; i++) {
			buf_puts(b, i ? " OR (" : "(");
			for (j = 0; j < i; j++)
				buf_printf(b, "%s %s m%zu AND ", kcol[j],
				    d->same, j);
			if (kdesc[i])
				buf_printf(b, "(%s < m%zu OR (%s IS NULL AND "
				    "m%zu IS NOT NULL)))", kcol[i], i, kcol[i],
				    i);
			else
				buf_printf(b, "(%s > m%zu OR (m%zu IS NULL "
				    "AND %s IS NOT NULL)))", kcol[i], i, i,
				    kcol[i]);
		}
		buf_puts(b, ")");
	}
	buf_puts(b, " ORDER BY ");
	for (i = 0; i <= nkeys; i++)
		buf_printf(b, "%s%s%s", i ? ", " : "", kcol[i],
		    kdesc[i] ? " DESC NULLS LAST" : " ASC NULLS FIRST");
	if (q->limit > 0) {
		buf_puts(b, " LIMIT ");
		store_value_int(&lim, (int64_t)q->limit);
		list_value(&l, &lim, 1);
	}
	return (0);
}
