/*
 * dsl-parse.c -- YAML workbooks and workflow files into the dsl tree.
 *
 * libyaml events are turned into our own node tree first, so that the
 * size, nesting and alias-expansion limits are enforced while reading
 * (an alias costs as many nodes as the subtree it names) and every node
 * keeps its line and column.  The tree is then read into workbooks,
 * workflows and ad-hoc actions; tasks are in dsl-task.c, triggers in
 * dsl-trigger.c.
 * Errors are collected with file:line:col and a path, never stopping at
 * the first.
 */

#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "dsl/dsl-int.h"

/* Anchors seen so far: name -> node (a small open-addressing table). */
struct dsl_anchors {
	char		**name;
	struct dsl_node	**node;
	size_t		  cap;		/* power of two */
	size_t		  n;
};

/* A block of node memory; nodes and their text are never freed alone. */
struct dsl_chunk {
	struct dsl_chunk	*next;
	size_t			 used;
	size_t			 cap;
	max_align_t		 data[];
};

/* Everything the node tree of one parse owns. */
struct dsl_arena {
	struct dsl_chunk	*chunks;
	struct dsl_node		*all;		/* nodes, to free their v */
};

/* State of turning libyaml events into nodes. */
struct dsl_build {
	struct dsl_pctx		*ctx;
	struct dsl_arena	*arena;
	size_t			 max_nodes;
	int			 max_depth;
	size_t			 nodes;
	struct dsl_node		**stack;
	size_t			 depth;
	size_t			 stack_cap;
	struct dsl_anchors	 anchors;
	struct dsl_node		*root;
	int			 ndocs;
};

static void	 dsl_perr_at(struct dsl_pctx *, int, int, const char *,
		     const char *, ...) printflike(5, 6);
static struct dsl_node *dsl_build_tree(struct dsl_pctx *, const char *,
		     size_t, const struct dsl_limits *, struct dsl_arena *);
static void	 dsl_arena_free(struct dsl_arena *);
static void	 dsl_workflow_parse(struct dsl_pctx *, struct dsl_node *,
		     struct dsl_node *, struct dsl_workflow *,
		     struct dsl_task_pos **);
static void	 dsl_action_parse(struct dsl_pctx *, struct dsl_node *,
		     struct dsl_node *, struct dsl_action *, struct dsl_pos *);

/* ---- errors -------------------------------------------------------- */

/* Start with no errors. */
void
dsl_errors_init(struct dsl_errors *e)
{
	memset(e, 0, sizeof *e);
}

/* Free every diagnostic. */
void
dsl_errors_free(struct dsl_errors *e)
{
	size_t	i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++) {
		free(e->v[i].msg);	/* the file name shares this block */
		free(e->v[i].path);
	}
	free(e->v);
	free(e->file);
	dsl_errors_init(e);
}

/*
 * Append one formatted error; pos may be NULL (the file of earlier
 * errors, line 0).  The message and a copy of the file name share one
 * allocation, so a diagnostic outlives the workbook it is about.
 */
void
dsl_errors_add(struct dsl_errors *e, const struct dsl_pos *pos,
    const char *path, const char *fmt, ...)
{
	struct dsl_diag	*d;
	va_list		 ap;
	char		*msg;
	const char	*file;
	size_t		 ml, fl;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);

	if (pos != NULL && pos->file != NULL)
		file = pos->file;
	else
		file = e->file != NULL ? e->file : "";
	if (e->file == NULL && *file != '\0')
		e->file = xstrdup(file);
	ml = strlen(msg);
	fl = strlen(file);
	msg = xrealloc(msg, ml + 1 + fl + 1);
	memcpy(msg + ml + 1, file, fl + 1);

	e->v = xreallocarray(e->v, e->n + 1, sizeof *e->v);
	d = &e->v[e->n++];
	d->msg = msg;
	d->pos.file = msg + ml + 1;
	d->pos.line = pos != NULL ? pos->line : 0;
	d->pos.col = pos != NULL ? pos->col : 0;
	d->path = (path != NULL && *path != '\0') ? xstrdup(path) : NULL;
}

/*
 * All errors, one per line: "FILE:LINE:COL: message (path)".  Errors
 * about a whole file (line 0) read "FILE: message"; without any file
 * name, "message (path)".
 */
char *
dsl_errors_format(const struct dsl_errors *e)
{
	struct buf		 b;
	const struct dsl_diag	*d;
	size_t			 i;

	buf_init(&b, 0);
	for (i = 0; i < e->n; i++) {
		d = &e->v[i];
		if (*d->pos.file == '\0')
			buf_puts(&b, d->msg);
		else if (d->pos.line > 0)
			buf_printf(&b, "%s:%d:%d: %s", d->pos.file,
			    d->pos.line, d->pos.col, d->msg);
		else
			buf_printf(&b, "%s: %s", d->pos.file, d->msg);
		if (d->path != NULL)
			buf_printf(&b, " (%s)", d->path);
		buf_puts(&b, "\n");
	}
	return (buf_take(&b));
}

/* ---- paths and error helpers --------------------------------------- */

/* Report an error at a line and column with a path suffix. */
static void
dsl_perr_at(struct dsl_pctx *ctx, int line, int col, const char *key,
    const char *fmt, ...)
{
	struct dsl_pos	 pos;
	va_list		 ap;
	char		*msg;
	size_t		 old;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	pos.file = ctx->wb->file;
	pos.line = line;
	pos.col = col;
	old = key != NULL ? dsl_path_push(ctx, key) : ctx->path.len;
	dsl_errors_add(ctx->errs, &pos, ctx->path.data, "%s", msg);
	dsl_path_pop(ctx, old);
	free(msg);
}

/* Report an error at a node, with the current path. */
void
dsl_perr(struct dsl_pctx *ctx, const struct dsl_node *n, const char *fmt,
    ...)
{
	struct dsl_pos	 pos;
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	pos.file = ctx->wb->file;
	pos.line = n != NULL ? n->line : 1;
	pos.col = n != NULL ? n->col : 1;
	dsl_errors_add(ctx->errs, &pos, ctx->path.data, "%s", msg);
	free(msg);
}

/* Append ".key" (or "key" at the top) to the path; returns the old length. */
size_t
dsl_path_push(struct dsl_pctx *ctx, const char *key)
{
	size_t	old = ctx->path.len;

	if (old != 0)
		buf_puts(&ctx->path, ".");
	buf_puts(&ctx->path, key);
	return (old);
}

/* Append "[i]" to the path; returns the old length. */
size_t
dsl_path_pushi(struct dsl_pctx *ctx, size_t i)
{
	size_t	old = ctx->path.len;

	buf_printf(&ctx->path, "[%zu]", i);
	return (old);
}

/* Cut the path back to a length returned by a push. */
void
dsl_path_pop(struct dsl_pctx *ctx, size_t len)
{
	ctx->path.len = len;
	if (ctx->path.data != NULL)
		ctx->path.data[len] = '\0';
}

/* ---- the node tree --------------------------------------------------- */

/* FNV-1a of a string. */
static size_t
dsl_strhash(const char *s)
{
	size_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h);
}

/* Slot of an anchor name (the empty slot where it would go). */
static size_t
dsl_anchor_slot(const struct dsl_anchors *a, const char *name)
{
	size_t	i;

	i = dsl_strhash(name) & (a->cap - 1);
	while (a->name[i] != NULL && strcmp(a->name[i], name) != 0)
		i = (i + 1) & (a->cap - 1);
	return (i);
}

/* Define (or redefine) an anchor. */
static void
dsl_anchor_set(struct dsl_anchors *a, const char *name, struct dsl_node *n)
{
	struct dsl_anchors	 g;
	size_t			 i, j;

	if (a->cap == 0 || (a->n + 1) * 2 > a->cap) {
		g.cap = a->cap == 0 ? 16 : a->cap * 2;
		g.name = xcalloc(g.cap, sizeof *g.name);
		g.node = xcalloc(g.cap, sizeof *g.node);
		g.n = a->n;
		for (i = 0; i < a->cap; i++) {
			if (a->name[i] == NULL)
				continue;
			j = dsl_anchor_slot(&g, a->name[i]);
			g.name[j] = a->name[i];
			g.node[j] = a->node[i];
		}
		free(a->name);
		free(a->node);
		*a = g;
	}
	i = dsl_anchor_slot(a, name);
	if (a->name[i] == NULL) {
		a->name[i] = xstrdup(name);
		a->n++;
	}
	a->node[i] = n;
}

/* Node an anchor names, or NULL. */
static struct dsl_node *
dsl_anchor_get(const struct dsl_anchors *a, const char *name)
{
	size_t	i;

	if (a->cap == 0)
		return (NULL);
	i = dsl_anchor_slot(a, name);
	return (a->name[i] != NULL ? a->node[i] : NULL);
}

/* Forget all anchors. */
static void
dsl_anchors_free(struct dsl_anchors *a)
{
	size_t	i;

	for (i = 0; i < a->cap; i++)
		free(a->name[i]);
	free(a->name);
	free(a->node);
}

/* Bump-allocate n bytes (aligned) from the arena. */
static void *
dsl_arena_alloc(struct dsl_arena *a, size_t n)
{
	struct dsl_chunk	*c = a->chunks;
	size_t			 al = sizeof(max_align_t), cap;
	void			*p;

	n = (n + al - 1) / al * al;
	if (c == NULL || c->cap - c->used < n) {
		cap = n > 32768 ? n : 32768;
		c = xmalloc(sizeof *c + cap);
		c->cap = cap;
		c->used = 0;
		c->next = a->chunks;
		a->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return (p);
}

/* Free every node of a parse. */
static void
dsl_arena_free(struct dsl_arena *a)
{
	struct dsl_node		*n;
	struct dsl_chunk	*c, *next;

	for (n = a->all; n != NULL; n = n->next_alloc)
		free(n->v);
	for (c = a->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->all = NULL;
	a->chunks = NULL;
}

/* A new node at a libyaml mark. */
static struct dsl_node *
dsl_node_new(struct dsl_build *b, enum dsl_ntype type, yaml_mark_t m)
{
	struct dsl_node	*n;

	n = dsl_arena_alloc(b->arena, sizeof *n);
	memset(n, 0, sizeof *n);
	n->type = type;
	n->line = (int)m.line + 1;
	n->col = (int)m.column + 1;
	n->weight = 1;
	n->next_alloc = b->arena->all;
	b->arena->all = n;
	return (n);
}

/* Add a finished node (or an alias's target) to the open container. */
static void
dsl_node_add(struct dsl_build *b, struct dsl_node *n)
{
	struct dsl_node	*p;

	if (b->depth == 0) {
		if (b->root == NULL)
			b->root = n;
		return;
	}
	p = b->stack[b->depth - 1];
	if (p->n == p->cap) {
		p->cap = p->cap == 0 ? 8 : p->cap * 2;
		p->v = xreallocarray(p->v, p->cap, sizeof *p->v);
	}
	p->v[p->n++] = n;
	p->weight += n->weight;
	if (n->height + 1 > p->height)
		p->height = n->height + 1;
}

/* Compare two map keys by text, then by order of appearance. */
static int
dsl_keycmp(const void *a, const void *b)
{
	struct dsl_node	*const *ka = a, *const *kb = b;
	int		 c;

	c = strcmp((*ka)->s, (*kb)->s);
	if (c != 0)
		return (c);
	if (*ka == *kb)
		return (0);
	return ((*ka)->line < (*kb)->line || ((*ka)->line == (*kb)->line &&
	    (*ka)->col < (*kb)->col) ? -1 : 1);
}

/*
 * Mark keys that repeat an earlier key of the same mapping.  Small maps
 * compare pairs; big ones sort, so a 10,000-task map stays fast.
 */
static void
dsl_map_dups(struct dsl_node *m)
{
	struct dsl_node	**k;
	size_t		  i, j, nk = 0;

	if (m->n / 2 <= 8) {
		for (i = 2; i < m->n; i += 2) {
			if (m->v[i]->type != DSL_NSCALAR)
				continue;
			for (j = 0; j < i; j += 2) {
				if (m->v[j]->type == DSL_NSCALAR &&
				    strcmp(m->v[i]->s, m->v[j]->s) == 0) {
					m->v[i]->dup = 1;
					break;
				}
			}
		}
		return;
	}
	k = xreallocarray(NULL, m->n / 2, sizeof *k);
	for (i = 0; i < m->n; i += 2) {
		if (m->v[i]->type == DSL_NSCALAR)
			k[nk++] = m->v[i];
	}
	qsort(k, nk, sizeof *k, dsl_keycmp);
	for (i = 1; i < nk; i++) {
		if (k[i] != k[i - 1] && strcmp(k[i]->s, k[i - 1]->s) == 0)
			k[i]->dup = 1;
	}
	free(k);
}

/*
 * Apply YAML merge keys ("<<: *defaults" or "<<: [*a, *b]"): the pairs
 * of the merged mappings are added unless the mapping has the key
 * already.  Anything else under "<<" is left for the reader to report.
 */
static void
dsl_map_merge(struct dsl_node *m)
{
	struct dsl_anchors	  seen;
	struct dsl_node		**own, *src, *k;
	size_t			  i, j, s, nsrc, nown = 0, n;

	for (i = 0; i < m->n; i += 2) {
		k = m->v[i];
		if (k->type == DSL_NSCALAR && k->plain && strcmp(k->s, "<<") ==
		    0 && (m->v[i + 1]->type == DSL_NMAP ||
		    m->v[i + 1]->type == DSL_NSEQ))
			break;
	}
	if (i >= m->n)
		return;
	own = m->v;
	n = m->n;
	m->v = xreallocarray(NULL, n + 1, sizeof *m->v);
	for (i = 0; i + 1 < n; i += 2) {
		if (own[i]->type == DSL_NSCALAR && own[i]->plain &&
		    strcmp(own[i]->s, "<<") == 0)
			continue;
		m->v[nown++] = own[i];
		m->v[nown++] = own[i + 1];
	}
	m->n = nown;
	/* A set of the keys present, so big merges stay linear. */
	memset(&seen, 0, sizeof seen);
	for (i = 0; i < nown; i += 2) {
		if (m->v[i]->type == DSL_NSCALAR)
			dsl_anchor_set(&seen, m->v[i]->s, m->v[i]);
	}
	m->cap = n + 1;
	for (i = 0; i + 1 < n; i += 2) {
		if (!(own[i]->type == DSL_NSCALAR && own[i]->plain &&
		    strcmp(own[i]->s, "<<") == 0))
			continue;
		src = own[i + 1];
		nsrc = src->type == DSL_NSEQ ? src->n : 1;
		for (s = 0; s < nsrc; s++) {
			k = src->type == DSL_NSEQ ? src->v[s] : src;
			if (k->type != DSL_NMAP)
				continue;
			for (j = 0; j + 1 < k->n; j += 2) {
				if (k->v[j]->type != DSL_NSCALAR ||
				    dsl_anchor_get(&seen, k->v[j]->s) != NULL)
					continue;
				dsl_anchor_set(&seen, k->v[j]->s, k->v[j]);
				if (m->n + 2 > m->cap) {
					m->cap = m->cap * 2 + 2;
					m->v = xreallocarray(m->v, m->cap,
					    sizeof *m->v);
				}
				m->v[m->n++] = k->v[j];
				m->v[m->n++] = k->v[j + 1];
			}
		}
	}
	dsl_anchors_free(&seen);
	free(own);
}

/* Count nodes against the limit; -1 (reported) when over. */
static int
dsl_build_count(struct dsl_build *b, size_t add, yaml_mark_t m)
{
	b->nodes += add;
	if (b->nodes > b->max_nodes) {
		dsl_perr_at(b->ctx, (int)m.line + 1, (int)m.column + 1, NULL,
		    "document has more than %zu nodes with aliases expanded "
		    "(limit max_nodes)", b->max_nodes);
		return (-1);
	}
	return (0);
}

/* Check the depth a new container (or an alias of height h) reaches. */
static int
dsl_build_depth(struct dsl_build *b, int h, yaml_mark_t m)
{
	if ((int)b->depth + h > b->max_depth) {
		dsl_perr_at(b->ctx, (int)m.line + 1, (int)m.column + 1, NULL,
		    "nesting is deeper than %d levels (limit max_depth)",
		    b->max_depth);
		return (-1);
	}
	return (0);
}

/* Handle one libyaml event; -1 stops the parse (error reported). */
static int
dsl_build_event(struct dsl_build *b, yaml_event_t *ev)
{
	struct dsl_node	*n;
	const char	*tag, *anchor = NULL;
	yaml_mark_t	 m = ev->start_mark;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->ndocs > 1) {
			dsl_perr_at(b->ctx, (int)m.line + 1, (int)m.column + 1,
			    NULL, "only one YAML document is allowed");
			return (-1);
		}
		break;
	case YAML_SCALAR_EVENT:
		if (dsl_build_count(b, 1, m) != 0)
			return (-1);
		n = dsl_node_new(b, DSL_NSCALAR, m);
		n->len = ev->data.scalar.length;
		n->s = dsl_arena_alloc(b->arena, n->len + 1);
		memcpy(n->s, ev->data.scalar.value, n->len);
		n->s[n->len] = '\0';
		tag = (const char *)ev->data.scalar.tag;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (tag == NULL || strcmp(tag, YAML_STR_TAG) != 0);
		if (ev->data.scalar.anchor != NULL)
			dsl_anchor_set(&b->anchors,
			    (const char *)ev->data.scalar.anchor, n);
		dsl_node_add(b, n);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (dsl_build_count(b, 1, m) != 0 ||
		    dsl_build_depth(b, 1, m) != 0)
			return (-1);
		n = dsl_node_new(b, ev->type == YAML_SEQUENCE_START_EVENT ?
		    DSL_NSEQ : DSL_NMAP, m);
		/* Anchors of containers are defined at their end: no loops. */
		if (ev->type == YAML_SEQUENCE_START_EVENT)
			anchor = (const char *)ev->data.sequence_start.anchor;
		else
			anchor = (const char *)ev->data.mapping_start.anchor;
		if (anchor != NULL) {
			n->s = dsl_arena_alloc(b->arena, strlen(anchor) + 1);
			strcpy(n->s, anchor);
		}
		if (b->depth == b->stack_cap) {
			b->stack_cap = b->stack_cap == 0 ? 16 :
			    b->stack_cap * 2;
			b->stack = xreallocarray(b->stack, b->stack_cap,
			    sizeof *b->stack);
		}
		b->stack[b->depth++] = n;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = b->stack[--b->depth];
		if (n->type == DSL_NMAP) {
			dsl_map_dups(n);
			dsl_map_merge(n);
		}
		if (n->s != NULL) {
			dsl_anchor_set(&b->anchors, n->s, n);
			n->s = NULL;
		}
		dsl_node_add(b, n);
		break;
	case YAML_ALIAS_EVENT:
		anchor = (const char *)ev->data.alias.anchor;
		n = dsl_anchor_get(&b->anchors, anchor);
		if (n == NULL) {
			dsl_perr_at(b->ctx, (int)m.line + 1, (int)m.column + 1,
			    NULL, "unknown alias '*%s'", anchor);
			return (-1);
		}
		if (dsl_build_count(b, n->weight, m) != 0 ||
		    dsl_build_depth(b, n->height, m) != 0)
			return (-1);
		dsl_node_add(b, n);
		break;
	default:
		break;
	}
	return (0);
}

/*
 * Read text into a node tree.  Returns the root (NULL on a syntax
 * error, a limit, or an empty document; errors reported); the nodes
 * belong to the arena.
 */
static struct dsl_node *
dsl_build_tree(struct dsl_pctx *ctx, const char *text, size_t len,
    const struct dsl_limits *lim, struct dsl_arena *arena)
{
	struct dsl_build	 b;
	yaml_parser_t		 p;
	yaml_event_t		 ev;
	int			 done = 0, failed = 0;

	memset(&b, 0, sizeof b);
	b.ctx = ctx;
	b.arena = arena;
	b.max_nodes = DSL_DEFAULT_MAX_NODES;
	b.max_depth = DSL_DEFAULT_MAX_DEPTH;
	if (lim != NULL && lim->max_nodes != 0)
		b.max_nodes = lim->max_nodes;
	if (lim != NULL && lim->max_depth != 0)
		b.max_depth = lim->max_depth;

	if (!yaml_parser_initialize(&p))
		fatalx("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			if (p.context != NULL)
				dsl_perr_at(ctx, (int)p.problem_mark.line + 1,
				    (int)p.problem_mark.column + 1, NULL,
				    "YAML syntax error: %s (%s at %d:%d)",
				    p.problem, p.context,
				    (int)p.context_mark.line + 1,
				    (int)p.context_mark.column + 1);
			else
				dsl_perr_at(ctx, (int)p.problem_mark.line + 1,
				    (int)p.problem_mark.column + 1, NULL,
				    "YAML syntax error: %s", p.problem != NULL ?
				    p.problem : "unknown error");
			failed = 1;
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT)
			done = 1;
		else if (dsl_build_event(&b, &ev) != 0) {
			failed = 1;
			done = 1;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	dsl_anchors_free(&b.anchors);
	free(b.stack);
	return (failed ? NULL : b.root);
}

/* ---- node helpers ---------------------------------------------------- */

/*
 * Index of a mapping key in a table of valid keys.  Unknown and
 * duplicate keys are reported (with the closest valid key) and give -1.
 */
int
dsl_key_find(struct dsl_pctx *ctx, const struct dsl_node *key,
    const char *const *keys, size_t nkeys)
{
	const char	*near;
	size_t		 i;

	if (key->type != DSL_NSCALAR) {
		dsl_perr(ctx, key, "expected a string key");
		return (-1);
	}
	if (key->dup) {
		dsl_perr_at(ctx, key->line, key->col, key->s,
		    "duplicate key '%s'", key->s);
		return (-1);
	}
	for (i = 0; i < nkeys; i++) {
		if (strcmp(key->s, keys[i]) == 0)
			return ((int)i);
	}
	near = lib_closest(key->s, keys, nkeys);
	if (near != NULL)
		dsl_perr_at(ctx, key->line, key->col, key->s,
		    "unknown key '%s' (did you mean '%s'?)", key->s, near);
	else
		dsl_perr_at(ctx, key->line, key->col, key->s,
		    "unknown key '%s'", key->s);
	return (-1);
}

/* Value of a key in a mapping node, or NULL. */
struct dsl_node *
dsl_map_get(const struct dsl_node *m, const char *key)
{
	size_t	i;

	if (m == NULL || m->type != DSL_NMAP)
		return (NULL);
	for (i = 0; i + 1 < m->n; i += 2) {
		if (m->v[i]->type == DSL_NSCALAR && !m->v[i]->dup &&
		    strcmp(m->v[i]->s, key) == 0)
			return (m->v[i + 1]);
	}
	return (NULL);
}

/* Name of a node type for messages. */
static const char *
dsl_ntype_name(enum dsl_ntype t)
{
	switch (t) {
	case DSL_NSCALAR:
		return ("a scalar");
	case DSL_NSEQ:
		return ("a list");
	case DSL_NMAP:
		return ("a mapping");
	}
	return ("?");
}

/* 1 if a node is a plain null ("", "~", "null"). */
int
dsl_node_null(const struct dsl_node *n)
{
	return (n->type == DSL_NSCALAR && n->plain && (n->len == 0 ||
	    strcmp(n->s, "~") == 0 || strcmp(n->s, "null") == 0 ||
	    strcmp(n->s, "Null") == 0 || strcmp(n->s, "NULL") == 0));
}

/* Check a node's type; reports "expected a mapping, got a list". */
int
dsl_expect(struct dsl_pctx *ctx, const struct dsl_node *n,
    enum dsl_ntype t)
{
	if (n->type == t)
		return (0);
	dsl_perr(ctx, n, "expected %s, got %s", dsl_ntype_name(t),
	    dsl_node_null(n) ? "nothing" : dsl_ntype_name(n->type));
	return (-1);
}

/* A scalar as a new string; NULL (reported) for null or non-scalars. */
char *
dsl_node_str(struct dsl_pctx *ctx, const struct dsl_node *n)
{
	if (n->type != DSL_NSCALAR || dsl_node_null(n)) {
		dsl_perr(ctx, n, "expected a string, got %s",
		    dsl_node_null(n) ? "nothing" : dsl_ntype_name(n->type));
		return (NULL);
	}
	return (xstrdup(n->s));
}

/* A string or a list of strings as a vector (count in *np). */
char **
dsl_node_strlist(struct dsl_pctx *ctx, const struct dsl_node *n,
    size_t *np)
{
	char	**v = NULL, *s;
	size_t	  i, old, cnt = 0;

	*np = 0;
	if (n->type == DSL_NSCALAR) {
		if ((s = dsl_node_str(ctx, n)) == NULL)
			return (NULL);
		v = xmalloc(sizeof *v);
		v[0] = s;
		*np = 1;
		return (v);
	}
	if (n->type != DSL_NSEQ) {
		dsl_perr(ctx, n, "expected a string or a list of strings");
		return (NULL);
	}
	v = xreallocarray(NULL, n->n + 1, sizeof *v);
	for (i = 0; i < n->n; i++) {
		old = dsl_path_pushi(ctx, i);
		if ((s = dsl_node_str(ctx, n->v[i])) != NULL)
			v[cnt++] = s;
		dsl_path_pop(ctx, old);
	}
	*np = cnt;
	return (v);
}

/* Free a string vector. */
void
dsl_strv_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- scalars and templates ------------------------------------------- */

/* A scalar as JSON, typed as YAML 1.2's core schema says (src/lib). */
json_t *
dsl_scalar_json(const char *s, size_t len, int plain)
{
	return (yaml_scalar_json(s, len, plain));
}

/* Remember a string holding "<%" for validation, at node n. */
void
dsl_record_expr(struct dsl_pctx *ctx, json_t *str, const struct dsl_node *n)
{
	struct dsl_wb_int	*wi = ctx->wi;
	struct dsl_expr_ref	*r;

	if (!json_is_string(str) || strstr(json_string_value(str), "<%") ==
	    NULL)
		return;
	if (wi->nex == wi->exn_cap) {
		wi->exn_cap = wi->exn_cap == 0 ? 32 : wi->exn_cap * 2;
		wi->ex = xreallocarray(wi->ex, wi->exn_cap, sizeof *wi->ex);
	}
	r = &wi->ex[wi->nex++];
	r->str = json_incref(str);
	r->pos.file = ctx->wb->file;
	r->pos.line = n != NULL ? n->line : 0;
	r->pos.col = n != NULL ? n->col : 0;
	r->path = xstrdup(ctx->path.data != NULL ? ctx->path.data : "");
}

/* Record every expression string inside a JSON value made at node n. */
void
dsl_record_walk(struct dsl_pctx *ctx, json_t *j, const struct dsl_node *n)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (json_is_string(j))
		dsl_record_expr(ctx, j, n);
	else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			dsl_record_walk(ctx, v, n);
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			dsl_record_walk(ctx, v, n);
	}
}

/*
 * A node as a JSON template.  Expressions are recorded with their
 * position; duplicate and non-string keys are reported and skipped.
 */
json_t *
dsl_node_json(struct dsl_pctx *ctx, struct dsl_node *n)
{
	json_t		*j, *v;
	struct dsl_node	*k;
	size_t		 i, old;

	switch (n->type) {
	case DSL_NSCALAR:
		j = dsl_scalar_json(n->s, n->len, n->plain);
		if (!n->recorded) {
			n->recorded = 1;
			dsl_record_expr(ctx, j, n);
		}
		return (j);
	case DSL_NSEQ:
		j = json_array();
		for (i = 0; i < n->n; i++) {
			old = dsl_path_pushi(ctx, i);
			json_array_append_new(j, dsl_node_json(ctx, n->v[i]));
			dsl_path_pop(ctx, old);
		}
		return (j);
	case DSL_NMAP:
		j = json_object();
		for (i = 0; i + 1 < n->n; i += 2) {
			k = n->v[i];
			if (k->type != DSL_NSCALAR) {
				dsl_perr(ctx, k, "expected a string key");
				continue;
			}
			old = dsl_path_push(ctx, k->s);
			if (k->dup)
				dsl_perr(ctx, k, "duplicate key '%s'", k->s);
			else {
				v = dsl_node_json(ctx, n->v[i + 1]);
				json_object_set_new(j, k->s, v);
			}
			dsl_path_pop(ctx, old);
		}
		return (j);
	}
	return (json_null());
}

/* ---- shared pieces: names and inputs --------------------------------- */

/* 1 if s matches ^\w+$ (with dots also allowed when dots is set). */
int
dsl_name_valid(const char *s, int dots)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || *s == '_')
			continue;
		if (dots && *s == '.' && s[1] != '\0' && s[1] != '.')
			continue;
		return (0);
	}
	return (1);
}

/* Free an input list. */
void
dsl_inputs_free(struct dsl_input *in, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(in[i].name);
		if (in[i].def != NULL)
			json_decref(in[i].def);
	}
	free(in);
}

/* Read "input: [a, {b: default}]". */
int
dsl_inputs_parse(struct dsl_pctx *ctx, const struct dsl_node *n,
    struct dsl_input **out, size_t *np)
{
	struct dsl_input	*in;
	struct dsl_node		*e;
	size_t			 i, j, cnt = 0, old, old2;
	char			*name;

	*out = NULL;
	*np = 0;
	if (dsl_expect(ctx, n, DSL_NSEQ) != 0)
		return (-1);
	in = xcalloc(n->n + 1, sizeof *in);
	for (i = 0; i < n->n; i++) {
		e = n->v[i];
		old = dsl_path_pushi(ctx, i);
		name = NULL;
		if (e->type == DSL_NSCALAR && !dsl_node_null(e))
			name = xstrdup(e->s);
		else if (e->type == DSL_NMAP && e->n == 2 &&
		    e->v[0]->type == DSL_NSCALAR)
			name = xstrdup(e->v[0]->s);
		else {
			dsl_perr(ctx, e, "expected a name or {name: default}");
			dsl_path_pop(ctx, old);
			continue;
		}
		for (j = 0; j < cnt; j++) {
			if (strcmp(in[j].name, name) == 0)
				break;
		}
		if (j < cnt) {
			dsl_perr(ctx, e, "duplicate input '%s'", name);
			free(name);
			dsl_path_pop(ctx, old);
			continue;
		}
		in[cnt].name = name;
		if (e->type == DSL_NMAP) {
			old2 = dsl_path_push(ctx, name);
			in[cnt].def = dsl_node_json(ctx, e->v[1]);
			dsl_path_pop(ctx, old2);
		}
		cnt++;
		dsl_path_pop(ctx, old);
	}
	*out = in;
	*np = cnt;
	return (0);
}

/* ---- workflows ------------------------------------------------------- */

static const char *const dsl_wf_keys[] = {
	"version", "type", "description", "tags", "input", "vars", "output",
	"output-on-error", "task-defaults", "tasks"
};
enum {
	WK_VERSION, WK_TYPE, WK_DESCRIPTION, WK_TAGS, WK_INPUT, WK_VARS,
	WK_OUTPUT, WK_OUTPUT_ON_ERROR, WK_TASK_DEFAULTS, WK_TASKS
};

/* Read one workflow: key node k (its name) and mapping v. */
static void
dsl_workflow_parse(struct dsl_pctx *ctx, struct dsl_node *k,
    struct dsl_node *v, struct dsl_workflow *wf, struct dsl_task_pos **tpos)
{
	struct dsl_node	*tasks = NULL, *defaults = NULL, *t, *val;
	size_t		 i, old;
	char		*s;
	int		 idx;

	wf->short_name = xstrdup(k->s);
	if (ctx->wbname != NULL)
		xasprintf(&wf->name, "%s.%s", ctx->wbname, k->s);
	else
		wf->name = xstrdup(k->s);
	wf->pos.file = ctx->wb->file;
	wf->pos.line = k->line;
	wf->pos.col = k->col;
	wf->path = xstrdup(ctx->path.data);
	wf->type = DSL_WF_DIRECT;

	if (uuid_valid(k->s))
		dsl_perr(ctx, k, "workflow name '%s' looks like a UUID", k->s);
	else if (!dsl_name_valid(k->s, !ctx->is_workbook))
		dsl_perr(ctx, k, "invalid workflow name '%s' (expected "
		    "letters, digits and _)", k->s);
	else if (strlen(wf->name) > 255)
		dsl_perr(ctx, k, "workflow name is longer than 255 characters");
	if (dsl_expect(ctx, v, DSL_NMAP) != 0)
		return;

	if ((t = dsl_map_get(v, "type")) != NULL) {
		old = dsl_path_push(ctx, "type");
		if (t->type == DSL_NSCALAR && strcmp(t->s, "reverse") == 0)
			wf->type = DSL_WF_REVERSE;
		else if (t->type != DSL_NSCALAR || strcmp(t->s, "direct") != 0)
			dsl_perr(ctx, t, "unknown workflow type '%s' (expected "
			    "direct or reverse)", t->type == DSL_NSCALAR ?
			    t->s : "?");
		dsl_path_pop(ctx, old);
	}
	ctx->wftype = wf->type;

	for (i = 0; i + 1 < v->n; i += 2) {
		val = v->v[i + 1];
		idx = dsl_key_find(ctx, v->v[i], dsl_wf_keys,
		    nitems(dsl_wf_keys));
		if (idx == -1 || idx == WK_TYPE)
			continue;
		old = dsl_path_push(ctx, v->v[i]->s);
		switch (idx) {
		case WK_VERSION:
			if (val->type != DSL_NSCALAR)
				dsl_expect(ctx, val, DSL_NSCALAR);
			break;
		case WK_DESCRIPTION:
			if ((s = dsl_node_str(ctx, val)) != NULL) {
				free(wf->description);
				wf->description = s;
			}
			break;
		case WK_TAGS:
			dsl_strv_free(wf->tags, wf->ntags);
			wf->tags = dsl_node_strlist(ctx, val, &wf->ntags);
			break;
		case WK_INPUT:
			dsl_inputs_free(wf->inputs, wf->ninputs);
			dsl_inputs_parse(ctx, val, &wf->inputs, &wf->ninputs);
			break;
		case WK_VARS:
			if (dsl_expect(ctx, val, DSL_NMAP) == 0) {
				json_decref(wf->vars);
				wf->vars = dsl_node_json(ctx, val);
			}
			break;
		case WK_OUTPUT:
			json_decref(wf->output);
			wf->output = dsl_node_json(ctx, val);
			break;
		case WK_OUTPUT_ON_ERROR:
			json_decref(wf->output_on_error);
			wf->output_on_error = dsl_node_json(ctx, val);
			break;
		case WK_TASK_DEFAULTS:
			defaults = val;
			break;
		case WK_TASKS:
			tasks = val;
			break;
		}
		dsl_path_pop(ctx, old);
	}

	if (tasks == NULL) {
		dsl_perr(ctx, k, "missing required key 'tasks'");
		return;
	}
	dsl_tasks_parse(ctx, wf, tpos, tasks, defaults);
}

/* ---- ad-hoc actions -------------------------------------------------- */

static const char *const dsl_action_keys[] = {
	"base", "base-input", "input", "output", "description", "tags"
};
enum { AK_BASE, AK_BASE_INPUT, AK_INPUT, AK_OUTPUT, AK_DESCRIPTION,
	AK_TAGS };

/* Read one ad-hoc action. */
static void
dsl_action_parse(struct dsl_pctx *ctx, struct dsl_node *k,
    struct dsl_node *v, struct dsl_action *a, struct dsl_pos *basepos)
{
	struct dsl_node	*val, *basenode = NULL;
	json_t		*params = NULL, *bi = NULL;
	char		*s, *cause, **tags;
	size_t		 i, old, ntags;

	if (ctx->wbname != NULL)
		xasprintf(&a->name, "%s.%s", ctx->wbname, k->s);
	else
		a->name = xstrdup(k->s);
	a->pos.file = ctx->wb->file;
	a->pos.line = k->line;
	a->pos.col = k->col;
	a->path = xstrdup(ctx->path.data);
	*basepos = a->pos;
	if (!dsl_name_valid(k->s, 1))
		dsl_perr(ctx, k, "invalid action name '%s'", k->s);
	if (dsl_expect(ctx, v, DSL_NMAP) != 0)
		return;
	for (i = 0; i + 1 < v->n; i += 2) {
		val = v->v[i + 1];
		switch (dsl_key_find(ctx, v->v[i], dsl_action_keys,
		    nitems(dsl_action_keys))) {
		case -1:
			continue;
		case AK_BASE:
			old = dsl_path_push(ctx, "base");
			basenode = val;
			basepos->line = val->line;
			basepos->col = val->col;
			if ((s = dsl_node_str(ctx, val)) != NULL) {
				if (dsl_parse_inline(s, &a->base, &params,
				    &cause) != 0) {
					dsl_perr(ctx, val, "%s", cause);
					free(cause);
				} else
					dsl_record_walk(ctx, params, val);
				free(s);
			}
			dsl_path_pop(ctx, old);
			break;
		case AK_BASE_INPUT:
			old = dsl_path_push(ctx, "base-input");
			if (dsl_expect(ctx, val, DSL_NMAP) == 0)
				bi = dsl_node_json(ctx, val);
			dsl_path_pop(ctx, old);
			break;
		case AK_INPUT:
			old = dsl_path_push(ctx, "input");
			dsl_inputs_parse(ctx, val, &a->inputs, &a->ninputs);
			dsl_path_pop(ctx, old);
			break;
		case AK_OUTPUT:
			old = dsl_path_push(ctx, "output");
			a->output = dsl_node_json(ctx, val);
			dsl_path_pop(ctx, old);
			break;
		case AK_DESCRIPTION:
			old = dsl_path_push(ctx, "description");
			if ((s = dsl_node_str(ctx, val)) != NULL) {
				free(a->description);
				a->description = s;
			}
			dsl_path_pop(ctx, old);
			break;
		case AK_TAGS:
			old = dsl_path_push(ctx, "tags");
			tags = dsl_node_strlist(ctx, val, &ntags);
			dsl_strv_free(a->tags, a->ntags);
			a->tags = tags;
			a->ntags = tags != NULL ? ntags : 0;
			dsl_path_pop(ctx, old);
			break;
		}
	}
	if (basenode == NULL)
		dsl_perr(ctx, k, "missing required key 'base'");
	/* base-input wins over inline parameters of base. */
	if (params == NULL)
		params = json_object();
	if (bi != NULL) {
		json_object_update(params, bi);
		json_decref(bi);
	}
	a->base_input = params;
}

/* ---- files ----------------------------------------------------------- */

static const char *const dsl_wb_keys[] = {
	"version", "name", "description", "tags", "workflows", "actions",
	"triggers", "segments"
};
enum { BK_VERSION, BK_NAME, BK_DESCRIPTION, BK_TAGS, BK_WORKFLOWS,
	BK_ACTIONS, BK_TRIGGERS, BK_SEGMENTS };

/* Check "version: '2.0'". */
static void
dsl_version_parse(struct dsl_pctx *ctx, struct dsl_node *v)
{
	size_t	old;

	old = dsl_path_push(ctx, "version");
	if (v->type != DSL_NSCALAR)
		dsl_expect(ctx, v, DSL_NSCALAR);
	else if (strcmp(v->s, "2.0") != 0 && strcmp(v->s, "2") != 0)
		dsl_perr(ctx, v, "unsupported version '%s' (expected '2.0')",
		    v->s);
	else
		ctx->wb->version = xstrdup("2.0");
	dsl_path_pop(ctx, old);
}

/* Read the workflows of a mapping (workbook section or file top level). */
static void
dsl_workflows_parse(struct dsl_pctx *ctx, struct dsl_node *m, int skipver)
{
	struct dsl_workbook	*wb = ctx->wb;
	struct dsl_wb_int	*wi = ctx->wi;
	struct dsl_node		*k;
	size_t			 i, old, max = m->n / 2;

	wb->workflows = xcalloc(max + 1, sizeof *wb->workflows);
	wi->tpos = xcalloc(max + 1, sizeof *wi->tpos);
	for (i = 0; i + 1 < m->n; i += 2) {
		k = m->v[i];
		if (k->type != DSL_NSCALAR) {
			dsl_perr(ctx, k, "expected a string key");
			continue;
		}
		if (skipver && strcmp(k->s, "version") == 0 && !k->dup)
			continue;
		if (k->dup) {
			dsl_key_find(ctx, k, NULL, 0);
			continue;
		}
		old = dsl_path_push(ctx, k->s);
		dsl_workflow_parse(ctx, k, m->v[i + 1],
		    &wb->workflows[wb->nworkflows],
		    &wi->tpos[wb->nworkflows]);
		wb->nworkflows++;
		dsl_path_pop(ctx, old);
	}
}

/*
 * Read the "actions:" section of a workbook, or with skipver the top
 * level of an action file (its version left out).
 */
static void
dsl_actions_parse(struct dsl_pctx *ctx, struct dsl_node *m, int skipver)
{
	struct dsl_workbook	*wb = ctx->wb;
	struct dsl_node		*k;
	size_t			 i, old;

	if (dsl_expect(ctx, m, DSL_NMAP) != 0)
		return;
	wb->actions = xcalloc(m->n / 2 + 1, sizeof *wb->actions);
	ctx->wi->act_base = xcalloc(m->n / 2 + 1, sizeof *ctx->wi->act_base);
	for (i = 0; i + 1 < m->n; i += 2) {
		k = m->v[i];
		if (skipver && k->type == DSL_NSCALAR && !k->dup &&
		    strcmp(k->s, "version") == 0)
			continue;
		if (k->type != DSL_NSCALAR || k->dup) {
			dsl_key_find(ctx, k, NULL, 0);
			continue;
		}
		old = dsl_path_push(ctx, k->s);
		dsl_action_parse(ctx, k, m->v[i + 1],
		    &wb->actions[wb->nactions],
		    &ctx->wi->act_base[wb->nactions]);
		wb->nactions++;
		dsl_path_pop(ctx, old);
	}
}

/* 1 if the top-level mapping is a workbook rather than a workflow file. */
static int
dsl_is_workbook(const struct dsl_node *root)
{
	struct dsl_node	*n;

	if (dsl_map_get(root, "workflows") != NULL ||
	    dsl_map_get(root, "actions") != NULL ||
	    dsl_map_get(root, "triggers") != NULL ||
	    dsl_map_get(root, "segments") != NULL)
		return (1);
	n = dsl_map_get(root, "name");
	return (n != NULL && n->type == DSL_NSCALAR);
}

/*
 * 1 if the top-level mapping is Mistral's ad-hoc action file: besides
 * version, mappings that have base and no tasks.
 */
static int
dsl_is_actions_file(const struct dsl_node *root)
{
	struct dsl_node	*k, *v;
	size_t		 i, n = 0;

	for (i = 0; i + 1 < root->n; i += 2) {
		k = root->v[i];
		v = root->v[i + 1];
		if (k->type == DSL_NSCALAR && strcmp(k->s, "version") == 0)
			continue;
		if (v->type != DSL_NMAP || dsl_map_get(v, "base") == NULL ||
		    dsl_map_get(v, "tasks") != NULL)
			return (0);
		n++;
	}
	return (n > 0);
}

/* Read a workbook's top level. */
static void
dsl_workbook_parse(struct dsl_pctx *ctx, struct dsl_node *root)
{
	struct dsl_workbook	*wb = ctx->wb;
	struct dsl_node		*val, *n;
	char			*s, **tags;
	size_t			 i, old, ntags;

	n = dsl_map_get(root, "name");
	if (n != NULL) {
		old = dsl_path_push(ctx, "name");
		if ((wb->name = dsl_node_str(ctx, n)) != NULL &&
		    !dsl_name_valid(wb->name, 1))
			dsl_perr(ctx, n, "invalid workbook name '%s'",
			    wb->name);
		dsl_path_pop(ctx, old);
	} else
		dsl_perr(ctx, root, "missing required key 'name'");
	ctx->wbname = wb->name;

	for (i = 0; i + 1 < root->n; i += 2) {
		val = root->v[i + 1];
		switch (dsl_key_find(ctx, root->v[i], dsl_wb_keys,
		    nitems(dsl_wb_keys))) {
		case BK_VERSION:
			dsl_version_parse(ctx, val);
			break;
		case BK_DESCRIPTION:
			old = dsl_path_push(ctx, "description");
			if ((s = dsl_node_str(ctx, val)) != NULL) {
				free(wb->description);
				wb->description = s;
			}
			dsl_path_pop(ctx, old);
			break;
		case BK_TAGS:
			old = dsl_path_push(ctx, "tags");
			tags = dsl_node_strlist(ctx, val, &ntags);
			dsl_strv_free(wb->tags, wb->ntags);
			wb->tags = tags;
			wb->ntags = tags != NULL ? ntags : 0;
			dsl_path_pop(ctx, old);
			break;
		case BK_WORKFLOWS:
			old = dsl_path_push(ctx, "workflows");
			if (dsl_expect(ctx, val, DSL_NMAP) == 0)
				dsl_workflows_parse(ctx, val, 0);
			dsl_path_pop(ctx, old);
			break;
		case BK_ACTIONS:
			old = dsl_path_push(ctx, "actions");
			dsl_actions_parse(ctx, val, 0);
			dsl_path_pop(ctx, old);
			break;
		case BK_TRIGGERS:
			old = dsl_path_push(ctx, "triggers");
			dsl_triggers_parse(ctx, val);
			dsl_path_pop(ctx, old);
			break;
		case BK_SEGMENTS:
			old = dsl_path_push(ctx, "segments");
			dsl_segments_parse(ctx, val);
			dsl_path_pop(ctx, old);
			break;
		default:
			break;
		}
	}
}

/*
 * Parse a workbook or workflow file from memory.  Errors go to errs;
 * NULL when nothing usable came out (syntax error, limit, not a
 * mapping).
 */
struct dsl_workbook *
dsl_parse(const char *file, const char *text, size_t len,
    const struct dsl_limits *lim, struct dsl_errors *errs)
{
	struct dsl_pctx		 ctx;
	struct dsl_workbook	*wb;
	struct dsl_node		*root, *ver;
	struct dsl_arena	 arena = { NULL, NULL };
	struct dsl_pos		 pos;
	size_t			 max_bytes = DSL_DEFAULT_MAX_BYTES, n0;

	wb = xcalloc(1, sizeof *wb);
	wb->file = xstrdup(file != NULL ? file : "-");
	wb->priv = xcalloc(1, sizeof *wb->priv);
	memset(&ctx, 0, sizeof ctx);
	ctx.wb = wb;
	ctx.wi = wb->priv;
	ctx.errs = errs;
	buf_init(&ctx.path, 0);
	buf_puts(&ctx.path, "");

	if (lim != NULL && lim->max_bytes != 0)
		max_bytes = lim->max_bytes;
	if (len > max_bytes) {
		pos.file = wb->file;
		pos.line = 0;
		pos.col = 0;
		dsl_errors_add(errs, &pos, NULL, "file is %zu bytes, more "
		    "than %zu (limit max_bytes)", len, max_bytes);
		goto fail;
	}

	n0 = errs->n;
	root = dsl_build_tree(&ctx, text, len, lim, &arena);
	if (root == NULL) {
		if (errs->n == n0) {
			pos.file = wb->file;
			pos.line = 0;
			pos.col = 0;
			dsl_errors_add(errs, &pos, NULL, "empty document");
		}
		goto fail;
	}
	if (root->type != DSL_NMAP) {
		dsl_perr(&ctx, root, "expected a mapping at the top level, "
		    "got %s", dsl_ntype_name(root->type));
		goto fail;
	}

	if ((ver = dsl_map_get(root, "version")) == NULL)
		dsl_perr(&ctx, root, "missing required key 'version'");
	if (dsl_is_workbook(root)) {
		ctx.is_workbook = 1;
		dsl_workbook_parse(&ctx, root);
	} else if (dsl_is_actions_file(root)) {
		if (ver != NULL)
			dsl_version_parse(&ctx, ver);
		wb->actions_file = 1;
		dsl_actions_parse(&ctx, root, 1);
	} else {
		if (ver != NULL)
			dsl_version_parse(&ctx, ver);
		dsl_workflows_parse(&ctx, root, 1);
		if (wb->nworkflows == 0)
			dsl_perr(&ctx, root, "no workflow defined");
	}
	dsl_arena_free(&arena);
	buf_free(&ctx.path);
	return (wb);

fail:
	dsl_arena_free(&arena);
	buf_free(&ctx.path);
	dsl_workbook_free(wb);
	return (NULL);
}

/* Read and parse a file (at most the byte limit is read). */
struct dsl_workbook *
dsl_parse_file(const char *path, const struct dsl_limits *lim,
    struct dsl_errors *errs)
{
	struct dsl_workbook	*wb;
	struct dsl_pos		 pos;
	struct stat		 st;
	size_t			 max = DSL_DEFAULT_MAX_BYTES, len;
	char			*text, *cause;

	if (lim != NULL && lim->max_bytes != 0)
		max = lim->max_bytes;
	pos.file = path;
	pos.line = 0;
	pos.col = 0;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uintmax_t)st.st_size > max) {
		dsl_errors_add(errs, &pos, NULL, "file is %jd bytes, more "
		    "than %zu (limit max_bytes)", (intmax_t)st.st_size, max);
		return (NULL);
	}
	if ((text = file_read(path, max, &len, &cause)) == NULL) {
		/* The cause starts with the path: keep the reason only. */
		if (strncmp(cause, path, strlen(path)) == 0 &&
		    strncmp(cause + strlen(path), ": ", 2) == 0)
			dsl_errors_add(errs, &pos, NULL, "%s",
			    cause + strlen(path) + 2);
		else
			dsl_errors_add(errs, &pos, NULL, "%s", cause);
		free(cause);
		return (NULL);
	}
	wb = dsl_parse(path, text, len, lim, errs);
	free(text);
	return (wb);
}

/* ---- freeing and lookups --------------------------------------------- */

/* Free a workflow's contents. */
static void
dsl_workflow_clear(struct dsl_workflow *wf)
{
	size_t	i;

	free(wf->name);
	free(wf->short_name);
	free(wf->path);
	free(wf->description);
	dsl_strv_free(wf->tags, wf->ntags);
	dsl_inputs_free(wf->inputs, wf->ninputs);
	if (wf->vars != NULL)
		json_decref(wf->vars);
	if (wf->output != NULL)
		json_decref(wf->output);
	if (wf->output_on_error != NULL)
		json_decref(wf->output_on_error);
	for (i = 0; i < wf->ntasks; i++)
		dsl_task_clear(&wf->tasks[i]);
	free(wf->tasks);
}

/* Free a workbook and everything it owns. */
void
dsl_workbook_free(struct dsl_workbook *wb)
{
	struct dsl_wb_int	*wi;
	struct dsl_action	*a;
	size_t			 i;

	if (wb == NULL)
		return;
	for (i = 0; i < wb->nworkflows; i++)
		dsl_workflow_clear(&wb->workflows[i]);
	free(wb->workflows);
	for (i = 0; i < wb->nactions; i++) {
		a = &wb->actions[i];
		free(a->name);
		free(a->path);
		free(a->description);
		dsl_strv_free(a->tags, a->ntags);
		free(a->base);
		if (a->base_input != NULL)
			json_decref(a->base_input);
		dsl_inputs_free(a->inputs, a->ninputs);
		if (a->output != NULL)
			json_decref(a->output);
	}
	free(wb->actions);
	dsl_strv_free(wb->tags, wb->ntags);
	dsl_triggers_free(wb);
	json_decref(wb->segments);
	if ((wi = wb->priv) != NULL) {
		for (i = 0; i < wi->nex; i++) {
			json_decref(wi->ex[i].str);
			free(wi->ex[i].path);
		}
		free(wi->ex);
		if (wi->tpos != NULL) {
			for (i = 0; i < wb->nworkflows; i++)
				free(wi->tpos[i]);
		}
		free(wi->tpos);
		free(wi->act_base);
		free(wi);
	}
	free(wb->name);
	free(wb->description);
	free(wb->version);
	free(wb->file);
	free(wb);
}

/*
 * Find a workflow by full name, or by the name written in the workbook
 * ("wb.wf" or "wf").
 */
const struct dsl_workflow *
dsl_workflow_find(const struct dsl_workbook *wb, const char *name)
{
	size_t	i;

	for (i = 0; i < wb->nworkflows; i++) {
		if (strcmp(wb->workflows[i].name, name) == 0)
			return (&wb->workflows[i]);
	}
	for (i = 0; i < wb->nworkflows; i++) {
		if (wb->workflows[i].short_name != NULL &&
		    strcmp(wb->workflows[i].short_name, name) == 0)
			return (&wb->workflows[i]);
	}
	return (NULL);
}

/* Find a task of a workflow by name. */
const struct dsl_task *
dsl_task_find(const struct dsl_workflow *wf, const char *name)
{
	size_t	i;

	for (i = 0; i < wf->ntasks; i++) {
		if (strcmp(wf->tasks[i].name, name) == 0)
			return (&wf->tasks[i]);
	}
	return (NULL);
}

/* Find an ad-hoc action by full name, or by short name in its workbook. */
const struct dsl_action *
dsl_action_find(const struct dsl_workbook *wb, const char *name)
{
	size_t	i, l;

	for (i = 0; i < wb->nactions; i++) {
		if (strcmp(wb->actions[i].name, name) == 0)
			return (&wb->actions[i]);
	}
	if (wb->name == NULL)
		return (NULL);
	l = strlen(wb->name);
	for (i = 0; i < wb->nactions; i++) {
		if (strncmp(wb->actions[i].name, wb->name, l) == 0 &&
		    wb->actions[i].name[l] == '.' &&
		    strcmp(wb->actions[i].name + l + 1, name) == 0)
			return (&wb->actions[i]);
	}
	return (NULL);
}
