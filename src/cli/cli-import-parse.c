/*
 * cli-import-parse.c -- YAQL and Jinja expressions read into the small
 * syntax tree of cli-import.h, for "bora import" to print as Lua.
 *
 * One tokenizer serves both languages; a precedence-climbing parser
 * takes each language's table of binary operators.  YAQL (yaql 2.x, as
 * Mistral configures it), from the loosest to the tightest:
 *
 *	->  or  and  not  (= != < <= > >= in)  (+ -)  (* / mod)
 *	(=~ !~)  unary + -  [...]  (. ?.)
 *
 * Jinja (as Jinja2's parser): if/else, or, and, not, comparisons and
 * "in"/"not in", + -, ~, * / // %, **, unary + -, then postfix . [] ()
 * and the filters (|) and tests (is) that follow them.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "cli/cli-import.h"

#define IMP_MAX_DEPTH	64	/* nesting of the source */

enum imp_tok {
	TK_EOF, TK_NUM, TK_STR, TK_NAME, TK_FUNC, TK_DOLLAR, TK_OP
};

struct imp_token {
	enum imp_tok	 type;
	const char	*p;		/* raw text */
	size_t		 n;
	char		*s;		/* TK_STR: decoded; else a copy */
	size_t		 slen;
	size_t		 pos;
	int		 isfloat;
};

struct imp_parser {
	const char		*src;
	size_t			 len;
	size_t			 off;
	int			 jinja;
	int			 depth;
	struct imp_token	 tok;
	char			*cause;
	size_t			 errpos;
};

/* A binary operator of a language: text, precedence, associativity. */
struct imp_binop {
	const char	*text;
	int		 prec;
	int		 right;
	enum import_op	 op;
};

/* YAQL, loosest first (factory.py's table, reversed). */
static const struct imp_binop imp_yaql_ops[] = {
	{ "->", 1, 1, IMP_SEND },
	{ "or", 2, 0, IMP_OR },
	{ "and", 3, 0, IMP_AND },
	{ "=", 5, 0, IMP_EQ },		{ "!=", 5, 0, IMP_NE },
	{ "<", 5, 0, IMP_LT },		{ "<=", 5, 0, IMP_LE },
	{ ">", 5, 0, IMP_GT },		{ ">=", 5, 0, IMP_GE },
	{ "in", 5, 0, IMP_IN },
	{ "+", 6, 0, IMP_ADD },		{ "-", 6, 0, IMP_SUB },
	{ "*", 7, 0, IMP_MUL },		{ "/", 7, 0, IMP_DIV },
	{ "mod", 7, 0, IMP_MOD },
	{ "=~", 8, 0, IMP_MATCH },	{ "!~", 8, 0, IMP_NMATCH },
	{ NULL, 0, 0, 0 }
};
#define YAQL_NOT_PREC	4
#define YAQL_UNARY_PREC	9

/* Jinja; "not in" is read as one operator. */
static const struct imp_binop imp_jinja_ops[] = {
	{ "or", 2, 0, IMP_OR },
	{ "and", 3, 0, IMP_AND },
	{ "==", 5, 0, IMP_EQ },		{ "!=", 5, 0, IMP_NE },
	{ "<", 5, 0, IMP_LT },		{ "<=", 5, 0, IMP_LE },
	{ ">", 5, 0, IMP_GT },		{ ">=", 5, 0, IMP_GE },
	{ "in", 5, 0, IMP_IN },		{ "not in", 5, 0, IMP_NOTIN },
	{ "+", 6, 0, IMP_ADD },		{ "-", 6, 0, IMP_SUB },
	{ "~", 7, 0, IMP_CAT },
	{ "*", 8, 0, IMP_MUL },		{ "/", 8, 0, IMP_DIV },
	{ "//", 8, 0, IMP_IDIV },	{ "%", 8, 0, IMP_MOD },
	{ "**", 9, 0, IMP_POW },
	{ NULL, 0, 0, 0 }
};
#define JINJA_NOT_PREC	4

/* Punctuation, longest first. */
static const char *const imp_yaql_punct[] = {
	"=>", "->", "=~", "!~", "!=", ">=", "<=", "?.",
	".", "+", "-", "*", "/", "=", "<", ">", "(", ")", "[", "]", "{", "}",
	",", NULL
};
static const char *const imp_jinja_punct[] = {
	"==", "!=", ">=", "<=", "**", "//",
	".", "+", "-", "*", "/", "%", "~", "<", ">", "(", ")", "[", "]", "{",
	"}", ",", ":", "|", "=", NULL
};

/* Words that are operators. */
static const char *const imp_yaql_words[] = {
	"and", "or", "not", "in", "mod", NULL
};
static const char *const imp_jinja_words[] = {
	"and", "or", "not", "in", "is", "if", "else", NULL
};

static struct import_node *imp_expr(struct imp_parser *, int);

/* One level deeper; 0, or -1 past IMP_MAX_DEPTH (error recorded). */
static int
imp_enter(struct imp_parser *ps)
{
	if (++ps->depth > IMP_MAX_DEPTH) {
		if (ps->cause == NULL) {
			xasprintf(&ps->cause, "expression nested too deeply");
			ps->errpos = ps->tok.pos;
		}
		ps->depth--;
		return (-1);
	}
	return (0);
}
static struct import_node *imp_jinja_expr(struct imp_parser *);

/* Record the first error. */
static void printflike(3, 4)
imp_error(struct imp_parser *ps, size_t pos, const char *fmt, ...)
{
	va_list	 ap;

	if (ps->cause != NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&ps->cause, fmt, ap);
	va_end(ap);
	ps->errpos = pos;
}

/* A new node. */
static struct import_node *
imp_node(enum import_kind kind, size_t pos)
{
	struct import_node	*n;

	n = xcalloc(1, sizeof *n);
	n->kind = kind;
	n->pos = pos;
	return (n);
}

/* Append a child. */
static void
imp_add(struct import_node *n, struct import_node *kid)
{
	n->kids = xreallocarray(n->kids, n->nkids + 1, sizeof *n->kids);
	n->kids[n->nkids++] = kid;
}

/* Free a tree. */
void
import_node_free(struct import_node *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		import_node_free(n->kids[i]);
	free(n->kids);
	free(n->s);
	free(n);
}

/* 1 for a byte that may be part of a name (UTF-8 letters included). */
static int
imp_namechar(int c)
{
	return (isalnum(c) || c == '_' || c >= 0x80);
}

/* Append the UTF-8 form of code point cp. */
static void
imp_utf8(struct buf *b, unsigned long cp)
{
	char	u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		buf_add(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 4);
	}
}

/* Value of n hex digits at p, or -1. */
static long
imp_hex(const char *p, size_t avail, size_t n)
{
	long	v = 0;
	size_t	i;

	if (avail < n)
		return (-1);
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return (-1);
		v = v * 16 + (isdigit((unsigned char)p[i]) ? p[i] - '0' :
		    tolower((unsigned char)p[i]) - 'a' + 10);
	}
	return (v);
}

/*
 * Read a quoted string at p (the quote included) into tok; Python's
 * escapes (YAQL decodes the same set), or none but \` for YAQL's
 * `verbatim` strings.  -1 when it does not end.
 */
static int
imp_lex_string(struct imp_parser *ps, const char *p, const char *end,
    struct imp_token *tok)
{
	struct buf	 b;
	const char	*q = p + 1;
	char		 quote = *p, c;
	long		 v;
	size_t		 n;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	while (q < end && *q != quote) {
		if (*q != '\\' || q + 1 >= end) {
			buf_add(&b, q++, 1);
			continue;
		}
		c = q[1];
		if (quote == '`') {
			if (c == '`')
				buf_add(&b, "`", 1);
			else
				buf_add(&b, q, 2);
			q += 2;
			continue;
		}
		q += 2;
		switch (c) {
		case '\\': case '\'': case '"':
			buf_add(&b, &c, 1);
			break;
		case 'a': buf_add(&b, "\a", 1); break;
		case 'b': buf_add(&b, "\b", 1); break;
		case 'f': buf_add(&b, "\f", 1); break;
		case 'n': buf_add(&b, "\n", 1); break;
		case 'r': buf_add(&b, "\r", 1); break;
		case 't': buf_add(&b, "\t", 1); break;
		case 'v': buf_add(&b, "\v", 1); break;
		case 'x': case 'u': case 'U':
			n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			if ((v = imp_hex(q, (size_t)(end - q), n)) < 0 ||
			    v > 0x10ffff) {
				buf_add(&b, q - 2, 2);
				break;
			}
			imp_utf8(&b, (unsigned long)v);
			q += n;
			break;
		default:
			if (c >= '0' && c <= '7') {
				v = c - '0';
				for (n = 1; n < 3 && q < end && *q >= '0' &&
				    *q <= '7'; n++)
					v = v * 8 + (*q++ - '0');
				imp_utf8(&b, (unsigned long)v);
			} else
				buf_add(&b, q - 2, 2);	/* kept as it is */
			break;
		}
	}
	if (q >= end) {
		buf_free(&b);
		imp_error(ps, (size_t)(p - ps->src), "unterminated string");
		return (-1);
	}
	tok->slen = b.len;
	tok->s = buf_take(&b);
	tok->n = (size_t)(q + 1 - p);
	return (0);
}

/* Read the next token into ps->tok. */
static void
imp_next(struct imp_parser *ps)
{
	struct imp_token	*tok = &ps->tok;
	const char		*p = ps->src + ps->off, *end = ps->src + ps->len;
	const char *const	*punct, *const *words;
	size_t			 n;
	int			 i;

	free(tok->s);
	memset(tok, 0, sizeof *tok);
	while (p < end && isspace((unsigned char)*p))
		p++;
	tok->p = p;
	tok->pos = (size_t)(p - ps->src);
	if (p >= end) {
		tok->type = TK_EOF;
		ps->off = ps->len;
		return;
	}
	punct = ps->jinja ? imp_jinja_punct : imp_yaql_punct;
	words = ps->jinja ? imp_jinja_words : imp_yaql_words;

	if (isdigit((unsigned char)*p)) {
		for (n = 0; p + n < end && isdigit((unsigned char)p[n]); n++)
			;
		if (p + n + 1 < end && p[n] == '.' &&
		    isdigit((unsigned char)p[n + 1])) {
			tok->isfloat = 1;
			for (n++; p + n < end && isdigit((unsigned char)p[n]);
			    n++)
				;
		}
		if (ps->jinja && p + n < end && (p[n] == 'e' || p[n] == 'E')) {
			imp_error(ps, tok->pos, "exponents are not supported");
			tok->type = TK_EOF;
			return;
		}
		tok->type = TK_NUM;
		tok->n = n;
	} else if (*p == '\'' || *p == '"' || (!ps->jinja && *p == '`')) {
		if (imp_lex_string(ps, p, end, tok) != 0) {
			tok->type = TK_EOF;
			return;
		}
		tok->type = TK_STR;
	} else if (!ps->jinja && *p == '$') {
		for (n = 1; p + n < end && imp_namechar((unsigned char)p[n]);
		    n++)
			;
		tok->type = TK_DOLLAR;
		tok->n = n;
		tok->s = xstrndup(p + 1, n - 1);
	} else if (imp_namechar((unsigned char)*p)) {
		for (n = 0; p + n < end && imp_namechar((unsigned char)p[n]);
		    n++)
			;
		tok->n = n;
		tok->type = TK_NAME;
		for (i = 0; words[i] != NULL; i++) {
			if (strlen(words[i]) == n &&
			    strncmp(words[i], p, n) == 0)
				tok->type = TK_OP;
		}
		/* YAQL: a name right before "(" is a function. */
		if (!ps->jinja && tok->type == TK_NAME && p + n < end &&
		    p[n] == '(')
			tok->type = TK_FUNC;
		tok->s = xstrndup(p, n);
	} else {
		for (i = 0; punct[i] != NULL; i++) {
			n = strlen(punct[i]);
			if ((size_t)(end - p) >= n &&
			    strncmp(punct[i], p, n) == 0)
				break;
		}
		if (punct[i] == NULL) {
			imp_error(ps, tok->pos, "unexpected character '%c'",
			    *p);
			tok->type = TK_EOF;
			return;
		}
		tok->type = TK_OP;
		tok->n = n;
		tok->s = xstrdup(punct[i]);
	}
	ps->off = (size_t)(p + tok->n - ps->src);
}

/* 1 if the current token is the operator or word op. */
static int
imp_is(struct imp_parser *ps, const char *op)
{
	return (ps->tok.type == TK_OP && strcmp(ps->tok.s, op) == 0);
}

/* Expect op; 0 or -1 (error recorded). */
static int
imp_expect(struct imp_parser *ps, const char *op)
{
	if (imp_is(ps, op)) {
		imp_next(ps);
		return (0);
	}
	if (ps->tok.type == TK_EOF)
		imp_error(ps, ps->tok.pos, "expected '%s' at the end", op);
	else
		imp_error(ps, ps->tok.pos, "expected '%s' before '%.*s'", op,
		    (int)ps->tok.n, ps->tok.p);
	return (-1);
}

/* Report the current token as unexpected. */
static void
imp_unexpected(struct imp_parser *ps)
{
	if (ps->tok.type == TK_EOF)
		imp_error(ps, ps->tok.pos, "unexpected end of expression");
	else
		imp_error(ps, ps->tok.pos, "unexpected '%.*s'",
		    (int)ps->tok.n, ps->tok.p);
}

/*
 * Read arguments up to close (")", "]" or "}") into n: values, or
 * "name => value" (YAQL) / "name=value" (Jinja) pairs, or Jinja dict
 * entries "k: v" when colon is set.
 */
static int
imp_args(struct imp_parser *ps, struct import_node *n, const char *close,
    int colon)
{
	struct import_node	*a, *pair;
	const char		*sep;

	if (imp_is(ps, close)) {
		imp_next(ps);
		return (0);
	}
	for (;;) {
		a = ps->jinja ? imp_jinja_expr(ps) : imp_expr(ps, 1);
		if (a == NULL)
			return (-1);
		sep = ps->jinja ? (colon ? ":" : "=") : "=>";
		if (imp_is(ps, sep)) {
			pair = imp_node(IMP_PAIR, ps->tok.pos);
			imp_add(pair, a);
			imp_next(ps);
			a = ps->jinja ? imp_jinja_expr(ps) : imp_expr(ps, 1);
			imp_add(pair, a);
			if (a == NULL) {
				imp_add(n, pair);
				return (-1);
			}
			a = pair;
		} else if (colon) {
			import_node_free(a);
			return (imp_expect(ps, ":"));
		}
		imp_add(n, a);
		if (imp_is(ps, ",")) {
			imp_next(ps);
			if (ps->jinja && imp_is(ps, close)) {
				imp_next(ps);
				return (0);	/* trailing comma */
			}
			continue;
		}
		return (imp_expect(ps, close));
	}
}

/* A node for a number, string or constant token; NULL if none. */
static struct import_node *
imp_literal(struct imp_parser *ps)
{
	struct imp_token	*t = &ps->tok;
	struct import_node	*n = NULL;

	if (t->type == TK_NUM) {
		n = imp_node(IMP_NUM, t->pos);
		n->s = xstrndup(t->p, t->n);
		n->len = t->n;
		if (t->isfloat)
			n->flags |= IMP_F_FLOAT;
	} else if (t->type == TK_STR) {
		n = imp_node(IMP_STR, t->pos);
		n->s = t->s;
		n->len = t->slen;
		t->s = NULL;
	} else
		return (NULL);
	imp_next(ps);
	return (n);
}

/* ---- YAQL ---------------------------------------------------------- */

/* A YAQL operand: literal, $var, name, function, list, map, (...). */
static struct import_node *
imp_primary(struct imp_parser *ps)
{
	struct imp_token	*t = &ps->tok;
	struct import_node	*n;

	if ((n = imp_literal(ps)) != NULL)
		return (n);
	switch (t->type) {
	case TK_DOLLAR:
		n = imp_node(IMP_VAR, t->pos);
		n->s = t->s;
		t->s = NULL;
		imp_next(ps);
		return (n);
	case TK_NAME:
		if (strcmp(t->s, "true") == 0)
			n = imp_node(IMP_TRUE, t->pos);
		else if (strcmp(t->s, "false") == 0)
			n = imp_node(IMP_FALSE, t->pos);
		else if (strcmp(t->s, "null") == 0)
			n = imp_node(IMP_NULL, t->pos);
		else {
			n = imp_node(IMP_WORD, t->pos);
			n->s = t->s;
			n->len = strlen(n->s);
			t->s = NULL;
		}
		imp_next(ps);
		return (n);
	case TK_FUNC:
		n = imp_node(IMP_CALL, t->pos);
		n->s = t->s;
		t->s = NULL;
		imp_next(ps);
		if (imp_expect(ps, "(") != 0 || imp_args(ps, n, ")", 0) != 0)
			break;
		return (n);
	case TK_OP:
		if (imp_is(ps, "(")) {
			imp_next(ps);
			if ((n = imp_expr(ps, 1)) == NULL)
				return (NULL);
			if (imp_expect(ps, ")") != 0)
				break;
			return (n);
		}
		if (imp_is(ps, "[") || imp_is(ps, "{")) {
			n = imp_node(imp_is(ps, "[") ? IMP_LIST : IMP_DICT,
			    t->pos);
			imp_next(ps);
			if (imp_args(ps, n, n->kind == IMP_LIST ? "]" : "}",
			    0) != 0)
				break;
			return (n);
		}
		/* FALLTHROUGH */
	default:
		imp_unexpected(ps);
		return (NULL);
	}
	import_node_free(n);
	return (NULL);
}

/* A YAQL operand with its prefix operators. */
static struct import_node *
imp_unary(struct imp_parser *ps)
{
	struct import_node	*n;
	size_t			 pos = ps->tok.pos;
	int			 op;

	if (imp_is(ps, "not") || imp_is(ps, "-") || imp_is(ps, "+")) {
		op = imp_is(ps, "not") ? IMP_NOT : imp_is(ps, "-") ? IMP_NEG :
		    IMP_POS;
		imp_next(ps);
		n = imp_node(IMP_UNARY, pos);
		n->op = op;
		imp_add(n, imp_expr(ps, op == IMP_NOT ? YAQL_NOT_PREC + 1 :
		    YAQL_UNARY_PREC + 1));
		if (n->kids[0] == NULL) {
			import_node_free(n);
			return (NULL);
		}
		return (n);
	}
	return (imp_primary(ps));
}

/*
 * Postfix operators of YAQL, bound tighter than any other: ".name",
 * "?.name", ".method(...)" and "[index]".
 */
static struct import_node *
imp_postfix(struct imp_parser *ps, struct import_node *left, int minprec)
{
	struct imp_token	*t = &ps->tok;
	struct import_node	*n;
	size_t			 pos;
	int			 safe;

	for (;;) {
		pos = t->pos;
		if ((imp_is(ps, ".") || imp_is(ps, "?.")) && minprec <= 11) {
			safe = imp_is(ps, "?.");
			imp_next(ps);
			if (t->type == TK_NAME) {
				n = imp_node(IMP_ATTR, pos);
				if (safe)
					n->flags |= IMP_F_SAFE;
				n->s = t->s;
				t->s = NULL;
				imp_add(n, left);
				imp_next(ps);
			} else if (t->type == TK_FUNC && !safe) {
				n = imp_node(IMP_METHOD, pos);
				n->s = t->s;
				t->s = NULL;
				imp_add(n, left);
				imp_next(ps);
				if (imp_expect(ps, "(") != 0 ||
				    imp_args(ps, n, ")", 0) != 0) {
					import_node_free(n);
					return (NULL);
				}
			} else {
				imp_error(ps, pos, "a name or a method must "
				    "follow '%s'", safe ? "?." : ".");
				import_node_free(left);
				return (NULL);
			}
			left = n;
		} else if (imp_is(ps, "[") && minprec <= 10) {
			imp_next(ps);
			n = imp_node(IMP_INDEX, pos);
			imp_add(n, left);
			if (imp_args(ps, n, "]", 0) != 0) {
				import_node_free(n);
				return (NULL);
			}
			left = n;
		} else
			return (left);
	}
}

/* A YAQL expression whose operators bind at least as tight as minprec. */
static struct import_node *
imp_expr(struct imp_parser *ps, int minprec)
{
	const struct imp_binop	*b;
	struct import_node	*left, *n;
	size_t			 pos;

	if (imp_enter(ps) != 0)
		return (NULL);
	left = imp_unary(ps);
	if (left != NULL)
		left = imp_postfix(ps, left, minprec);
	while (left != NULL && ps->tok.type == TK_OP) {
		for (b = imp_yaql_ops; b->text != NULL; b++) {
			if (strcmp(b->text, ps->tok.s) == 0)
				break;
		}
		if (b->text == NULL || b->prec < minprec)
			break;
		pos = ps->tok.pos;
		imp_next(ps);
		n = imp_node(IMP_BINARY, pos);
		n->op = b->op;
		imp_add(n, left);
		imp_add(n, imp_expr(ps, b->right ? b->prec : b->prec + 1));
		if (n->kids[1] == NULL) {
			import_node_free(n);
			left = NULL;
			break;
		}
		left = n;
	}
	ps->depth--;
	return (left);
}

/* ---- Jinja --------------------------------------------------------- */

static struct import_node *imp_jinja_binary(struct imp_parser *, int);

/* A Jinja name, literal, list, dict or parenthesised expression. */
static struct import_node *
imp_jinja_primary(struct imp_parser *ps)
{
	struct imp_token	*t = &ps->tok;
	struct import_node	*n;
	static const char *const consts[] = { "true", "True", "false",
	    "False", "none", "None", NULL };
	int			 i;

	if ((n = imp_literal(ps)) != NULL) {
		/* Adjacent strings are one. */
		while (n->kind == IMP_STR && t->type == TK_STR) {
			n->s = xrealloc(n->s, n->len + t->slen + 1);
			memcpy(n->s + n->len, t->s, t->slen + 1);
			n->len += t->slen;
			imp_next(ps);
		}
		return (n);
	}
	if (t->type == TK_NAME) {
		for (i = 0; consts[i] != NULL; i++) {
			if (strcmp(t->s, consts[i]) == 0)
				break;
		}
		n = imp_node(i < 2 ? IMP_TRUE : i < 4 ? IMP_FALSE :
		    i < 6 ? IMP_NULL : IMP_VAR, t->pos);
		if (n->kind == IMP_VAR) {
			n->s = t->s;
			t->s = NULL;
		}
		imp_next(ps);
		return (n);
	}
	if (imp_is(ps, "(")) {
		imp_next(ps);
		if ((n = imp_jinja_expr(ps)) == NULL)
			return (NULL);
		if (imp_is(ps, ",")) {
			imp_error(ps, ps->tok.pos, "tuples are not supported");
			import_node_free(n);
			return (NULL);
		}
		if (imp_expect(ps, ")") != 0) {
			import_node_free(n);
			return (NULL);
		}
		return (n);
	}
	if (imp_is(ps, "[") || imp_is(ps, "{")) {
		n = imp_node(imp_is(ps, "[") ? IMP_LIST : IMP_DICT, t->pos);
		imp_next(ps);
		if (imp_args(ps, n, n->kind == IMP_LIST ? "]" : "}",
		    n->kind == IMP_DICT) != 0) {
			import_node_free(n);
			return (NULL);
		}
		return (n);
	}
	imp_unexpected(ps);
	return (NULL);
}

/* Jinja postfix: .name, [index], [a:b], (args). */
static struct import_node *
imp_jinja_postfix(struct imp_parser *ps, struct import_node *left)
{
	struct imp_token	*t = &ps->tok;
	struct import_node	*n;
	size_t			 pos;

	while (left != NULL) {
		pos = t->pos;
		if (imp_is(ps, ".")) {
			imp_next(ps);
			if (t->type != TK_NAME && t->type != TK_NUM) {
				imp_error(ps, pos, "a name must follow '.'");
				import_node_free(left);
				return (NULL);
			}
			n = imp_node(t->type == TK_NUM ? IMP_INDEX : IMP_ATTR,
			    pos);
			imp_add(n, left);
			if (t->type == TK_NUM)
				imp_add(n, imp_literal(ps));
			else {
				n->s = t->s;
				t->s = NULL;
				imp_next(ps);
			}
			left = n;
		} else if (imp_is(ps, "[")) {
			imp_next(ps);
			n = imp_node(IMP_INDEX, pos);
			imp_add(n, left);
			left = n;
			if (imp_is(ps, ":")) {
				n->kind = IMP_SLICE;
				imp_error(ps, pos, "slices are not supported");
				break;
			}
			imp_add(n, imp_jinja_expr(ps));
			if (n->kids[1] == NULL)
				break;
			if (imp_is(ps, ":")) {
				n->kind = IMP_SLICE;
				imp_error(ps, pos, "slices are not supported");
				break;
			}
			if (imp_expect(ps, "]") != 0)
				break;
		} else if (imp_is(ps, "(")) {
			imp_next(ps);
			if (left->kind == IMP_ATTR) {
				/* x.f(...) is a method call. */
				left->kind = IMP_METHOD;
				n = left;
			} else if (left->kind == IMP_VAR) {
				left->kind = IMP_CALL;
				n = left;
			} else {
				imp_error(ps, pos, "only names and methods "
				    "can be called");
				break;
			}
			if (imp_args(ps, n, ")", 0) != 0)
				break;
		} else
			return (left);
	}
	import_node_free(left);
	return (NULL);
}

/* A filter "| name(args)" or test "is [not] name(args)" on left. */
static struct import_node *
imp_jinja_filters(struct imp_parser *ps, struct import_node *left)
{
	struct imp_token	*t = &ps->tok;
	struct import_node	*n;
	size_t			 pos;
	int			 test;

	while (left != NULL && (imp_is(ps, "|") || imp_is(ps, "is"))) {
		pos = t->pos;
		test = imp_is(ps, "is");
		imp_next(ps);
		n = imp_node(test ? IMP_TEST : IMP_FILTER, pos);
		imp_add(n, left);
		if (test && imp_is(ps, "not")) {
			n->flags |= IMP_F_NOT;
			imp_next(ps);
		}
		if (t->type != TK_NAME && !(test && (imp_is(ps, "in") ||
		    imp_is(ps, "==") || imp_is(ps, "!=")))) {
			imp_error(ps, t->pos, "a %s name must follow '%s'",
			    test ? "test" : "filter", test ? "is" : "|");
			import_node_free(n);
			return (NULL);
		}
		n->s = xstrdup(t->s != NULL ? t->s : "");
		imp_next(ps);
		if (imp_is(ps, "(")) {
			imp_next(ps);
			if (imp_args(ps, n, ")", 0) != 0) {
				import_node_free(n);
				return (NULL);
			}
		} else if (test && (t->type == TK_NUM || t->type == TK_STR ||
		    t->type == TK_NAME)) {
			/* "is divisibleby 3", "is sameas none" */
			imp_add(n, imp_jinja_postfix(ps,
			    imp_jinja_primary(ps)));
			if (n->kids[1] == NULL) {
				import_node_free(n);
				return (NULL);
			}
		}
		left = n;
	}
	return (left);
}

/* A Jinja operand with its unary operators, postfix and filters. */
static struct import_node *
imp_jinja_unary(struct imp_parser *ps)
{
	struct import_node	*n;
	size_t			 pos = ps->tok.pos;

	if (imp_is(ps, "-") || imp_is(ps, "+")) {
		n = imp_node(IMP_UNARY, pos);
		n->op = imp_is(ps, "-") ? IMP_NEG : IMP_POS;
		imp_next(ps);
		imp_add(n, imp_jinja_unary(ps));
		if (n->kids[0] == NULL) {
			import_node_free(n);
			return (NULL);
		}
		return (imp_jinja_filters(ps, n));
	}
	if (imp_is(ps, "not")) {
		n = imp_node(IMP_UNARY, pos);
		n->op = IMP_NOT;
		imp_next(ps);
		imp_add(n, imp_jinja_binary(ps, JINJA_NOT_PREC));
		if (n->kids[0] == NULL) {
			import_node_free(n);
			return (NULL);
		}
		return (n);
	}
	n = imp_jinja_primary(ps);
	if (n != NULL)
		n = imp_jinja_postfix(ps, n);
	return (imp_jinja_filters(ps, n));
}

/* Jinja binary operators of precedence minprec and tighter. */
static struct import_node *
imp_jinja_binary(struct imp_parser *ps, int minprec)
{
	const struct imp_binop	*b;
	struct import_node	*left, *n;
	size_t			 pos;
	int			 notin;

	if (imp_enter(ps) != 0)
		return (NULL);
	left = imp_jinja_unary(ps);
	while (left != NULL && ps->tok.type == TK_OP) {
		notin = 0;
		if (imp_is(ps, "not")) {
			/* "not in" */
			const char *p = ps->src + ps->off;
			while (p < ps->src + ps->len &&
			    isspace((unsigned char)*p))
				p++;
			if (ps->src + ps->len - p < 2 || strncmp(p, "in", 2) != 0 ||
			    (p + 2 < ps->src + ps->len &&
			    imp_namechar((unsigned char)p[2])))
				break;
			notin = 1;
		}
		for (b = imp_jinja_ops; b->text != NULL; b++) {
			if (strcmp(b->text, notin ? "not in" : ps->tok.s) == 0)
				break;
		}
		if (b->text == NULL || b->prec < minprec)
			break;
		pos = ps->tok.pos;
		imp_next(ps);
		if (notin)
			imp_next(ps);
		if (b->prec == 5 && left->kind == IMP_BINARY &&
		    left->op >= IMP_EQ && left->op <= IMP_NOTIN) {
			imp_error(ps, pos, "chained comparisons are not "
			    "supported");
			import_node_free(left);
			left = NULL;
			break;
		}
		n = imp_node(IMP_BINARY, pos);
		n->op = b->op;
		imp_add(n, left);
		imp_add(n, imp_jinja_binary(ps, b->prec + 1));
		if (n->kids[1] == NULL) {
			import_node_free(n);
			left = NULL;
			break;
		}
		left = n;
	}
	ps->depth--;
	return (left);
}

/* A whole Jinja expression: "a if c else b" over the binary ones. */
static struct import_node *
imp_jinja_expr(struct imp_parser *ps)
{
	struct import_node	*n, *c;
	size_t			 pos;

	if ((n = imp_jinja_binary(ps, 1)) == NULL)
		return (NULL);
	while (imp_is(ps, "if")) {
		pos = ps->tok.pos;
		imp_next(ps);
		c = imp_node(IMP_COND, pos);
		imp_add(c, n);
		imp_add(c, imp_jinja_binary(ps, 1));
		n = c;
		if (c->kids[1] == NULL)
			break;
		if (imp_is(ps, "else")) {
			imp_next(ps);
			imp_add(c, imp_jinja_expr(ps));
			if (c->kids[2] == NULL)
				break;
		} else {
			c->flags |= IMP_F_NOELSE;
			imp_add(c, imp_node(IMP_NULL, pos));
		}
	}
	if (ps->cause != NULL) {
		import_node_free(n);
		return (NULL);
	}
	return (n);
}

/* Parse an expression; see cli-import.h. */
struct import_node *
import_parse(const char *src, size_t len, int jinja, char **cause,
    size_t *errpos)
{
	struct imp_parser	 ps;
	struct import_node	*n;

	memset(&ps, 0, sizeof ps);
	ps.src = src;
	ps.len = len;
	ps.jinja = jinja;
	imp_next(&ps);
	if (ps.tok.type == TK_EOF && ps.cause == NULL) {
		imp_error(&ps, 0, "empty expression");
		n = NULL;
	} else
		n = jinja ? imp_jinja_expr(&ps) : imp_expr(&ps, 1);
	if (n != NULL && (ps.tok.type != TK_EOF || ps.cause != NULL)) {
		imp_unexpected(&ps);
		import_node_free(n);
		n = NULL;
	}
	if (n == NULL && ps.cause == NULL)
		imp_error(&ps, ps.tok.pos, "syntax error");
	free(ps.tok.s);
	if (n == NULL) {
		*cause = ps.cause;
		*errpos = ps.errpos;
		return (NULL);
	}
	free(ps.cause);
	return (n);
}
