/*
 * cli-import-yaml.c -- a Mistral YAML file rewritten with its
 * expressions in Lua, every other byte kept: layout, comments, key
 * order, quoting.
 *
 * libyaml's events only locate the scalars (their marks and style).
 * The text of each scalar that holds an expression is decoded again
 * here with, for every byte of its value, the bytes of the file that
 * made it; the decoded text must equal libyaml's value, or the scalar
 * is left as it was.  Each <% %> or {{ }} is then replaced in the file
 * by its Lua form written for the scalar's style ('' in single quotes,
 * escapes in double quotes).  A plain scalar that the new text would
 * break (": ", " #", or "," and brackets in a flow collection) is
 * quoted whole.  The result is parsed again and must give the same
 * events with the new values, or nothing is written.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lib/lib.h"
#include "cli/cli-import.h"

#define IMP_MAX_NESTING	256

/* What a node stands for in Mistral's language. */
enum {
	R_DATA,		/* anything else */
	R_TRANS,	/* under on-success/on-error/on-complete/next */
	R_TRANS_MAP,	/* "- task: <% condition %>" */
	R_ADV		/* on-complete: {publish: ..., next: ...} */
};

/* Flags of a scalar. */
#define SC_INLINE	0x1	/* may hold inline parameters */
#define SC_BOOL		0x2	/* a condition */

struct imp_frame {
	int	 map;		/* mapping, else sequence */
	int	 flow;
	int	 role;
	int	 want_key;
	char	*key;		/* the key whose value comes next */
};

/* One replacement in the file. */
struct imp_splice {
	size_t	 start;
	size_t	 end;
	char	*text;
};

struct imp_doc {
	const char		*text;
	size_t			 len;
	size_t			*byte;		/* char index -> byte offset */
	size_t			 nchars;
	struct imp_frame	 stack[IMP_MAX_NESTING];
	int			 depth;
	struct imp_splice	*splices;
	size_t			 nsplices;
	char			**expect;	/* value of each scalar, in order */
	size_t			*expectlen;
	size_t			 nscalars;
	struct import_result	*res;
};

static const char *const imp_trans_keys[] = {
	"on-success", "on-error", "on-complete", NULL
};
static const char *const imp_inline_keys[] = {
	"action", "workflow", "base", "retry", NULL
};
static const char *const imp_bool_keys[] = {
	"break-on", "continue-on", "fail-on", "pause-before", "safe-rerun",
	"keep-result", NULL
};

/* 1 if s is in the list. */
static int
imp_in(const char *s, const char *const *list)
{
	for (; s != NULL && *list != NULL; list++) {
		if (strcmp(s, *list) == 0)
			return (1);
	}
	return (0);
}

/* ---- templates ------------------------------------------------------ */

/* Append a diagnostic. */
static void
imp_diag(struct import_result *res, size_t pos, char *msg)
{
	res->diags = xreallocarray(res->diags, res->ndiags + 1,
	    sizeof *res->diags);
	memset(&res->diags[res->ndiags], 0, sizeof *res->diags);
	res->diags[res->ndiags].pos = pos;
	res->diags[res->ndiags].msg = msg;
	res->ndiags++;
}

/* Append an edit. */
static void
imp_edit(struct import_result *res, size_t start, size_t end, char *text)
{
	res->edits = xreallocarray(res->edits, res->nedits + 1,
	    sizeof *res->edits);
	res->edits[res->nedits].start = start;
	res->edits[res->nedits].end = end;
	res->edits[res->nedits].text = text;
	res->nedits++;
}

void
import_result_free(struct import_result *res)
{
	size_t	i;

	for (i = 0; i < res->nedits; i++)
		free(res->edits[i].text);
	free(res->edits);
	for (i = 0; i < res->ndiags; i++)
		free(res->diags[i].msg);
	free(res->diags);
	memset(res, 0, sizeof *res);
}

/* Find the end of a Jinja {{ }} from p: "}}" outside strings. */
static const char *
imp_jinja_end(const char *p, const char *end)
{
	char	q = 0;

	for (; p + 1 < end; p++) {
		if (q != 0) {
			if (*p == '\\')
				p++;
			else if (*p == q)
				q = 0;
		} else if (*p == '\'' || *p == '"')
			q = *p;
		else if (p[0] == '}' && p[1] == '}')
			return (p);
	}
	return (NULL);
}

/*
 * The quote of the inline parameter around offset off of s, or 0:
 * a ' or " right after '=' opens a quoted value that ends at the same
 * quote ("..." with \ escapes), as bora's inline parser reads them.
 */
static int
imp_inline_quote(const char *s, size_t len, size_t off)
{
	size_t	i, j;
	char	q;

	for (i = 0; i < len && i < off; i++) {
		if (s[i] != '=' || i + 1 >= len || (s[i + 1] != '"' &&
		    s[i + 1] != '\''))
			continue;
		q = s[i + 1];
		for (j = i + 2; j < len && s[j] != q; j++) {
			if (q == '"' && s[j] == '\\')
				j++;
		}
		if (off > i + 1 && off < j)
			return (q);
		i = j;
	}
	return (0);
}

/* A short form of an expression for messages: first line, 60 bytes. */
static char *
imp_excerpt(const char *s, size_t len)
{
	size_t	n;

	for (n = 0; n < len && n < 60 && s[n] != '\n'; n++)
		;
	if (n < len)
		return (xstrcat(xstrndup(s, n), "..."));
	return (xstrndup(s, n));
}

/*
 * Translate the expression src (inside its delimiters) as found at
 * offset at; the inline quote q decides the escapes.  The Lua text, or
 * NULL with a diagnostic.
 */
static char *
imp_one(const char *src, size_t len, int flags, int q, const char *whole,
    size_t wlen, size_t at, struct import_result *res)
{
	struct buf	 b;
	char		*yq = NULL, *lua = NULL, *cause = NULL, *ex, *msg;
	size_t		 i;

	if (q == '"') {
		/* Undo the inline parameter's escapes first. */
		buf_init(&b, 0);
		buf_add(&b, "", 0);
		for (i = 0; i < len; i++) {
			if (src[i] == '\\' && i + 1 < len) {
				i++;
				buf_add(&b, src[i] == 'n' ? "\n" :
				    src[i] == 't' ? "\t" : &src[i], 1);
			} else
				buf_add(&b, &src[i], 1);
		}
		len = b.len;
		yq = buf_take(&b);
		src = yq;
		flags &= ~IMPORT_PREFDQ;	/* " would need \" */
	} else if (q == '\'')
		flags |= IMPORT_NOSQ;
	if (import_expr(src, len, flags, &lua, &cause) != 0) {
		ex = imp_excerpt(whole, wlen);
		xasprintf(&msg, "cannot translate '%s': %s", ex, cause);
		imp_diag(res, at, msg);
		free(ex);
		free(cause);
		free(yq);
		return (NULL);
	}
	free(yq);
	if (q == '"') {
		buf_init(&b, 0);
		buf_add(&b, "", 0);
		for (i = 0; lua[i] != '\0'; i++) {
			if (lua[i] == '\\' || lua[i] == '"')
				buf_add(&b, "\\", 1);
			buf_add(&b, &lua[i], 1);
		}
		free(lua);
		lua = buf_take(&b);
	}
	return (lua);
}

/* Translate every expression of a template; see cli-import.h. */
void
import_template(const char *s, size_t len, int flags, int inl,
    struct import_result *res)
{
	const char	*p, *end = s + len, *open, *close, *a, *b;
	size_t		 first = res->nedits, i, nexpr = 0, pos;
	char		*lua, *text, *ex, *msg;
	int		 jinja, whole, q, stmt = 0;

	/* Is the template one expression and nothing else? */
	for (a = s; a < end && isspace((unsigned char)*a); a++)
		;
	for (b = end; b > a && isspace((unsigned char)b[-1]); b--)
		;
	for (p = s; p + 1 < end; p++) {
		if (p[0] == '<' && p[1] == '%') {
			if ((close = memmem(p + 2, (size_t)(end - p - 2), "%>",
			    2)) == NULL) {
				ex = imp_excerpt(p, (size_t)(end - p));
				xasprintf(&msg, "cannot translate '%s': no "
				    "'%%>' ends it", ex);
				imp_diag(res, (size_t)(p - s), msg);
				free(ex);
				break;
			}
			open = p + 2;
			jinja = 0;
		} else if (p[0] == '{' && p[1] == '{') {
			if ((close = imp_jinja_end(p + 2, end)) == NULL) {
				ex = imp_excerpt(p, (size_t)(end - p));
				xasprintf(&msg, "cannot translate '%s': no "
				    "'}}' ends it", ex);
				imp_diag(res, (size_t)(p - s), msg);
				free(ex);
				break;
			}
			open = p + 2;
			jinja = 1;
		} else if (p[0] == '{' && (p[1] == '%' || p[1] == '#')) {
			close = memmem(p + 2, (size_t)(end - p - 2),
			    p[1] == '%' ? "%}" : "#}", 2);
			ex = imp_excerpt(p, close != NULL ?
			    (size_t)(close + 2 - p) : (size_t)(end - p));
			xasprintf(&msg, "cannot translate '%s': Jinja %s have "
			    "no bora counterpart", ex, p[1] == '%' ?
			    "statements ({% %})" : "comments ({# #})");
			imp_diag(res, (size_t)(p - s), msg);
			free(ex);
			stmt = 1;
			res->nexprs++;
			if (close == NULL)
				break;
			p = close + 1;
			continue;
		} else
			continue;
		nexpr++;
		res->nexprs++;
		whole = p == a && close + 2 == b;
		pos = (size_t)(p - s);
		q = inl ? imp_inline_quote(s, len, pos) : 0;
		/* Jinja's whitespace control: {{- x -}}. */
		if (jinja && open < close && *open == '-')
			open++;
		if (jinja && close > open && close[-1] == '-')
			close--;
		lua = imp_one(open, (size_t)(close - open), (jinja ?
		    IMPORT_JINJA : 0) | (whole ? flags : flags & ~IMPORT_BOOL),
		    q, p, (size_t)(close + 2 - p) + (close[0] == '-'), pos,
		    res);
		if (jinja && close[0] == '-')
			close++;
		if (lua != NULL) {
			xasprintf(&text, "<%% %s %%>", lua);
			free(lua);
			imp_edit(res, pos, (size_t)(close + 2 - s), text);
		}
		p = close + 1;
	}
	if (stmt) {
		/* A statement changes what the rest means: keep it all. */
		for (i = first; i < res->nedits; i++)
			free(res->edits[i].text);
		res->nedits = first;
	}
	(void)nexpr;
}

/* ---- decoding scalars with positions ----------------------------- */

/* The decoded text of a scalar and, per byte, the bytes it came from. */
struct imp_dec {
	struct buf	 val;
	size_t		*from;
	size_t		*to;
	size_t		 cap;
};

/* Emit byte c made by raw bytes [from, to). */
static void
dec_put(struct imp_dec *d, char c, size_t from, size_t to)
{
	if (d->val.len + 1 > d->cap) {
		d->cap = d->cap == 0 ? 64 : d->cap * 2;
		d->from = xreallocarray(d->from, d->cap, sizeof *d->from);
		d->to = xreallocarray(d->to, d->cap, sizeof *d->to);
	}
	d->from[d->val.len] = from;
	d->to[d->val.len] = to;
	buf_add(&d->val, &c, 1);
}

static void
dec_free(struct imp_dec *d)
{
	buf_free(&d->val);
	free(d->from);
	free(d->to);
	memset(d, 0, sizeof *d);
}

static int
is_break(char c)
{
	return (c == '\n' || c == '\r');
}

static int
is_blank(char c)
{
	return (c == ' ' || c == '\t');
}

/*
 * Fold the white space at r[*i] (spaces, tabs, line breaks) of a flow
 * scalar: kept as it is within a line, one space for one line break,
 * n-1 newlines for n.  Returns 0 when it is trailing (the end or, in
 * quotes, the end of the text inside them is not trailing).
 */
static int
dec_fold(struct imp_dec *d, const char *r, size_t n, size_t base,
    size_t *i, char closeq)
{
	size_t	j = *i, breaks = 0, k;

	while (j < n && (is_blank(r[j]) || is_break(r[j]))) {
		if (r[j] == '\r' && j + 1 < n && r[j + 1] == '\n')
			j++;
		if (is_break(r[j]))
			breaks++;
		j++;
	}
	if (j >= n && closeq == 0) {
		*i = j;
		return (0);
	}
	if (breaks == 0) {
		for (k = *i; k < j; k++)
			dec_put(d, r[k], base + k, base + k + 1);
	} else if (breaks == 1)
		dec_put(d, ' ', base + *i, base + j);
	else {
		for (k = 1; k < breaks; k++)
			dec_put(d, '\n', base + *i, base + j);
	}
	*i = j;
	return (1);
}

/* Put the UTF-8 form of cp. */
static void
dec_utf8(struct imp_dec *d, unsigned long cp, size_t from, size_t to)
{
	unsigned char	u[4];
	size_t		n, k;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = 0xc0 | (cp >> 6);
		u[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | (cp >> 12);
		u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		u[0] = 0xf0 | (cp >> 18);
		u[1] = 0x80 | ((cp >> 12) & 0x3f);
		u[2] = 0x80 | ((cp >> 6) & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	for (k = 0; k < n; k++)
		dec_put(d, (char)u[k], from, to);
}

/* A flow scalar: plain, '...' or "...". */
static int
dec_flow(struct imp_dec *d, const char *r, size_t n, size_t base, int style)
{
	static const char esc_from[] = "0abt\tnvfre \"/\\N_LP";
	static const char *const esc_to[] = { "\0", "\a", "\b", "\t", "\t",
	    "\n", "\v", "\f", "\r", "\033", " ", "\"", "/", "\\",
	    "\xc2\x85", "\xc2\xa0", "\xe2\x80\xa8", "\xe2\x80\xa9" };
	const char	*e;
	size_t		 i = 0, k, hn;
	unsigned long	 cp;
	char		 q = 0;

	if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	    style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
		if (n < 2)
			return (-1);
		q = r[0];
		i = 1;
		n--;		/* the closing quote */
	}
	while (i < n) {
		if (is_blank(r[i]) || is_break(r[i])) {
			dec_fold(d, r, n, base, &i, q);
			continue;
		}
		if (q == '\'' && r[i] == '\'' && i + 1 < n && r[i + 1] == '\'') {
			dec_put(d, '\'', base + i, base + i + 2);
			i += 2;
			continue;
		}
		if (q == '"' && r[i] == '\\' && i + 1 < n) {
			if (is_break(r[i + 1])) {
				/* An escaped line break joins the lines. */
				i++;
				if (r[i] == '\r' && i + 1 < n && r[i + 1] == '\n')
					i++;
				i++;
				while (i < n && is_blank(r[i]))
					i++;
				continue;
			}
			if ((e = strchr(esc_from, r[i + 1])) != NULL &&
			    r[i + 1] != '\0') {
				k = (size_t)(e - esc_from);
				if (k == 0)
					dec_put(d, '\0', base + i, base + i + 2);
				else {
					for (e = esc_to[k]; *e != '\0'; e++)
						dec_put(d, *e, base + i,
						    base + i + 2);
				}
				i += 2;
				continue;
			}
			hn = r[i + 1] == 'x' ? 2 : r[i + 1] == 'u' ? 4 :
			    r[i + 1] == 'U' ? 8 : 0;
			if (hn == 0 || i + 2 + hn > n)
				return (-1);
			cp = 0;
			for (k = 0; k < hn; k++) {
				if (!isxdigit((unsigned char)r[i + 2 + k]))
					return (-1);
				cp = cp * 16 + (unsigned long)(isdigit(
				    (unsigned char)r[i + 2 + k]) ?
				    r[i + 2 + k] - '0' :
				    tolower((unsigned char)r[i + 2 + k]) -
				    'a' + 10);
			}
			dec_utf8(d, cp, base + i, base + i + 2 + hn);
			i += 2 + hn;
			continue;
		}
		dec_put(d, r[i], base + i, base + i + 1);
		i++;
	}
	return (0);
}

/*
 * A block scalar (| or >).  The indentation is that of the first line
 * with text; an explicit indentation indicator is not supported.
 */
static int
dec_block(struct imp_dec *d, const char *r, size_t n, size_t base)
{
	size_t		 i = 1, indent = 0, ls, le, k, nbreaks = 0;
	size_t		 brk_from = 0, brk_to = 0;
	int		 folded = r[0] == '>', chomp = 0, prev = 0, more;

	for (; i < n && (r[i] == '+' || r[i] == '-' ||
	    isdigit((unsigned char)r[i])); i++) {
		if (isdigit((unsigned char)r[i]))
			return (-1);
		chomp = r[i] == '+' ? 1 : -1;
	}
	while (i < n && !is_break(r[i]))	/* blanks and a comment */
		i++;
	if (i < n && r[i] == '\r' && i + 1 < n && r[i + 1] == '\n')
		i++;
	i++;
	/* Find the indentation. */
	for (k = i; k < n; ) {
		for (le = k; le < n && r[le] == ' '; le++)
			;
		if (le < n && !is_break(r[le])) {
			indent = le - k;
			break;
		}
		while (le < n && !is_break(r[le]))
			le++;
		k = le + 1;
	}
	if (indent == 0)
		return (0);	/* empty */
	/* prev: 0 none yet, 1 a normal line, 2 a more-indented one. */
	for (ls = i; ls < n; ls = le + 1) {
		for (le = ls; le < n && !is_break(r[le]); le++)
			;
		for (k = ls; k < le && k - ls < indent && r[k] == ' '; k++)
			;
		if (k == le || (k - ls < indent)) {
			/* An empty line (or the end of the scalar). */
			if (k - ls < indent && k < le)
				break;		/* less indented: the end */
			if (le >= n)
				break;
			if (nbreaks == 0)
				brk_from = base + ls;
			nbreaks++;
			brk_to = base + le + 1;
			if (r[le] == '\r' && le + 1 < n && r[le + 1] == '\n')
				le++;
			continue;
		}
		more = is_blank(r[k]);
		if (prev != 0) {
			/* The breaks since the previous line with text. */
			if (folded && prev == 1 && !more && nbreaks == 1)
				dec_put(d, ' ', brk_from, brk_to);
			else {
				for (k = (folded && prev == 1 && !more) ? 1 : 0;
				    k < nbreaks; k++)
					dec_put(d, '\n', brk_from, brk_to);
			}
		} else {
			/* Leading empty lines are newlines. */
			for (k = 1; k < nbreaks; k++)
				dec_put(d, '\n', brk_from, brk_to);
		}
		for (k = ls + indent; k < le; k++)
			dec_put(d, r[k], base + k, base + k + 1);
		prev = more ? 2 : 1;
		nbreaks = 0;
		if (le < n) {
			nbreaks = 1;
			brk_from = base + le;
			if (r[le] == '\r' && le + 1 < n && r[le + 1] == '\n')
				le++;
			brk_to = base + le + 1;
		}
	}
	if (chomp == 0 && nbreaks > 0)
		dec_put(d, '\n', brk_from, brk_to);
	else if (chomp == 1) {
		for (k = 0; k < nbreaks; k++)
			dec_put(d, '\n', brk_from, brk_to);
	}
	return (0);
}

/* ---- writing scalars ------------------------------------------------ */

/* text written for a scalar of style (the flow context for plain). */
static char *
imp_encode(const char *text, int style)
{
	struct buf	 b;
	const char	*p;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	for (p = text; *p != '\0'; p++) {
		if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && *p == '\'')
			buf_puts(&b, "''");
		else if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE &&
		    (*p == '"' || *p == '\\')) {
			buf_add(&b, "\\", 1);
			buf_add(&b, p, 1);
		} else if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE &&
		    (unsigned char)*p < 0x20)
			buf_printf(&b, "\\x%02x", (unsigned char)*p);
		else
			buf_add(&b, p, 1);
	}
	return (buf_take(&b));
}

/* 1 if text can be part of a plain scalar at that place. */
static int
imp_plain_ok(const char *text, int flow, int at_end)
{
	size_t	len = strlen(text);

	if (strstr(text, ": ") != NULL || strstr(text, " #") != NULL ||
	    strchr(text, '\t') != NULL || strchr(text, '\n') != NULL ||
	    (at_end && len > 0 && text[len - 1] == ':'))
		return (0);
	if (flow && strpbrk(text, ",[]{}") != NULL)
		return (0);
	return (1);
}

/* A whole scalar, quoted: '...' when it has no ' or break, else "...". */
static char *
imp_quote(const char *v, size_t len)
{
	char	*s, *enc;
	int	 dq;

	dq = memchr(v, '\'', len) != NULL || memchr(v, '\n', len) != NULL;
	for (s = (char *)v; !dq && s < v + len; s++)
		dq = (unsigned char)*s < 0x20;
	s = xstrndup(v, len);
	enc = imp_encode(s, dq ? YAML_DOUBLE_QUOTED_SCALAR_STYLE :
	    YAML_SINGLE_QUOTED_SCALAR_STYLE);
	free(s);
	xasprintf(&s, dq ? "\"%s\"" : "'%s'", enc);
	free(enc);
	return (s);
}

/* Record a replacement of file bytes [start, end). */
static void
imp_splice(struct imp_doc *doc, size_t start, size_t end, char *text)
{
	doc->splices = xreallocarray(doc->splices, doc->nsplices + 1,
	    sizeof *doc->splices);
	doc->splices[doc->nsplices].start = start;
	doc->splices[doc->nsplices].end = end;
	doc->splices[doc->nsplices].text = text;
	doc->nsplices++;
}

/* Byte offset of a libyaml mark. */
static size_t
imp_byte(struct imp_doc *doc, const yaml_mark_t *m)
{
	if (m->index >= doc->nchars)
		return (doc->len);
	return (doc->byte[m->index]);
}

/* Line and column (1-based) of a byte offset. */
static void
imp_linecol(struct imp_doc *doc, size_t off, int *line, int *col)
{
	size_t	i;
	int	l = 1, c = 1;

	for (i = 0; i < off && i < doc->len; i++) {
		if (doc->text[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)doc->text[i] & 0xc0) != 0x80)
			c++;
	}
	*line = l;
	*col = c;
}

/* Remember the value the scalar must have when read again. */
static void
imp_expect(struct imp_doc *doc, const char *v, size_t len)
{
	doc->expect = xreallocarray(doc->expect, doc->nscalars + 1,
	    sizeof *doc->expect);
	doc->expectlen = xreallocarray(doc->expectlen, doc->nscalars + 1,
	    sizeof *doc->expectlen);
	doc->expect[doc->nscalars] = xstrndup(v, len);
	doc->expectlen[doc->nscalars] = len;
	doc->nscalars++;
}

/* Convert one scalar event. */
static void
imp_scalar(struct imp_doc *doc, yaml_event_t *ev, int flags, int flow)
{
	struct import_result	 tr;
	struct imp_dec		 d;
	struct buf		 nv;
	const char		*v = (const char *)ev->data.scalar.value;
	size_t			 vlen = ev->data.scalar.length, start, end, i;
	size_t			 last, from, to;
	int			 style = ev->data.scalar.style, tflags = 0;
	int			 ok, requote = 0;
	char			*enc, *msg;

	memset(&tr, 0, sizeof tr);
	if (memmem(v, vlen, "<%", 2) == NULL && memmem(v, vlen, "{{", 2) ==
	    NULL && memmem(v, vlen, "{%", 2) == NULL && memmem(v, vlen, "{#",
	    2) == NULL) {
		imp_expect(doc, v, vlen);
		return;
	}
	if (flags & SC_BOOL)
		tflags |= IMPORT_BOOL;
	import_template(v, vlen, tflags, (flags & SC_INLINE) != 0, &tr);
	if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && tr.nedits > 0) {
		/* Again, preferring " for Lua strings inside '...'. */
		import_result_free(&tr);
		import_template(v, vlen, tflags | IMPORT_PREFDQ,
		    (flags & SC_INLINE) != 0, &tr);
	}
	start = imp_byte(doc, &ev->start_mark);
	end = imp_byte(doc, &ev->end_mark);

	/* The new value. */
	buf_init(&nv, 0);
	buf_add(&nv, "", 0);
	last = 0;
	for (i = 0; i < tr.nedits; i++) {
		buf_add(&nv, v + last, tr.edits[i].start - last);
		buf_puts(&nv, tr.edits[i].text);
		last = tr.edits[i].end;
	}
	buf_add(&nv, v + last, vlen - last);

	/* Where each byte of the value comes from. */
	memset(&d, 0, sizeof d);
	buf_add(&d.val, "", 0);
	if (style == YAML_LITERAL_SCALAR_STYLE ||
	    style == YAML_FOLDED_SCALAR_STYLE)
		ok = dec_block(&d, doc->text + start, end - start, start) == 0;
	else
		ok = dec_flow(&d, doc->text + start, end - start, start,
		    style) == 0;
	ok = ok && d.val.len == vlen && memcmp(d.val.data, v, vlen) == 0;

	if (tr.nedits > 0 && !ok && (style == YAML_LITERAL_SCALAR_STYLE ||
	    style == YAML_FOLDED_SCALAR_STYLE)) {
		xasprintf(&msg, "cannot rewrite this block scalar (left "
		    "unchanged)");
		imp_diag(&tr, 0, msg);
		buf_reset(&nv);
		buf_add(&nv, v, vlen);
		for (i = 0; i < tr.nedits; i++)
			free(tr.edits[i].text);
		tr.nedits = 0;
	} else if (tr.nedits > 0 && !ok)
		requote = 1;
	for (i = 0; !requote && i < tr.nedits; i++) {
		if (style == YAML_PLAIN_SCALAR_STYLE &&
		    !imp_plain_ok(tr.edits[i].text, flow,
		    tr.edits[i].end == vlen))
			requote = 1;
	}
	if (requote)
		imp_splice(doc, start, end, imp_quote(nv.data, nv.len));
	else {
		for (i = 0; i < tr.nedits; i++) {
			from = d.from[tr.edits[i].start];
			to = d.to[tr.edits[i].end - 1];
			enc = imp_encode(tr.edits[i].text,
			    style == YAML_LITERAL_SCALAR_STYLE ||
			    style == YAML_FOLDED_SCALAR_STYLE ?
			    YAML_PLAIN_SCALAR_STYLE : style);
			imp_splice(doc, from, to, enc);
		}
	}
	imp_expect(doc, nv.data, nv.len);

	/* Diagnostics at file positions. */
	for (i = 0; i < tr.ndiags; i++) {
		from = tr.diags[i].pos < d.val.len && ok ?
		    d.from[tr.diags[i].pos] : start;
		imp_linecol(doc, from, &tr.diags[i].line, &tr.diags[i].col);
		imp_diag(doc->res, from, tr.diags[i].msg);
		doc->res->diags[doc->res->ndiags - 1].line = tr.diags[i].line;
		doc->res->diags[doc->res->ndiags - 1].col = tr.diags[i].col;
		tr.diags[i].msg = NULL;
	}
	doc->res->nexprs += tr.nexprs;
	dec_free(&d);
	buf_free(&nv);
	import_result_free(&tr);
}

/* ---- the document ----------------------------------------------------- */

/* Flags and role of a node about to start, from its parent. */
static void
imp_place(struct imp_doc *doc, int is_map, int *flags, int *role)
{
	struct imp_frame	*f;

	*flags = 0;
	*role = R_DATA;
	if (doc->depth == 0)
		return;
	f = &doc->stack[doc->depth - 1];
	if (f->map && f->want_key) {
		if (f->role == R_TRANS_MAP)
			*flags |= SC_INLINE;	/* a task or a command */
		return;
	}
	if (f->map) {
		if (f->role == R_TRANS_MAP)
			*flags |= SC_BOOL;
		else if (f->role == R_ADV)
			*role = f->key != NULL && strcmp(f->key, "next") == 0 ?
			    R_TRANS : R_DATA;
		else if (imp_in(f->key, imp_trans_keys))
			*role = is_map ? R_ADV : R_TRANS;
		else if (imp_in(f->key, imp_inline_keys))
			*flags |= SC_INLINE;
		else if (imp_in(f->key, imp_bool_keys))
			*flags |= SC_BOOL;
		return;
	}
	if (f->role == R_TRANS)
		*role = is_map ? R_TRANS_MAP : R_TRANS;
	if (*role == R_TRANS && !is_map)
		*flags |= SC_INLINE;
}

/* A node ended (scalar, alias, collection): the parent moves on. */
static void
imp_done(struct imp_doc *doc, const char *scalar)
{
	struct imp_frame	*f;

	if (doc->depth == 0)
		return;
	f = &doc->stack[doc->depth - 1];
	if (!f->map)
		return;
	if (f->want_key) {
		free(f->key);
		f->key = scalar != NULL ? xstrdup(scalar) : NULL;
		f->want_key = 0;
	} else
		f->want_key = 1;
}

/* Map character indexes (libyaml's marks) to byte offsets. */
static void
imp_index(struct imp_doc *doc)
{
	size_t	i = 0, n = 0;

	doc->byte = xreallocarray(NULL, doc->len + 2, sizeof *doc->byte);
	if (doc->len >= 3 && memcmp(doc->text, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < doc->len) {
		doc->byte[n++] = i;
		i++;
		while (i < doc->len && ((unsigned char)doc->text[i] & 0xc0) ==
		    0x80)
			i++;
	}
	doc->byte[n] = doc->len;
	doc->nchars = n;
}

/* Parse text; for each event call back.  -1 and *cause on bad YAML. */
static int
imp_parse(const char *text, size_t len, int (*cb)(void *, yaml_event_t *),
    void *arg, char **cause)
{
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	int		 rc = 0, done = 0;

	if (!yaml_parser_initialize(&p))
		fatalx("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			xasprintf(cause, "%zu:%zu: %s", p.problem_mark.line + 1,
			    p.problem_mark.column + 1, p.problem != NULL ?
			    p.problem : "invalid YAML");
			rc = -1;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (cb(arg, &ev) != 0) {
			yaml_event_delete(&ev);
			xasprintf(cause, "nested too deeply");
			rc = -1;
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return (rc);
}

/* First pass: convert the scalars. */
static int
imp_convert_event(void *arg, yaml_event_t *ev)
{
	struct imp_doc		*doc = arg;
	struct imp_frame	*f;
	int			 flags, role, flow;

	flow = doc->depth > 0 && doc->stack[doc->depth - 1].flow;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		imp_place(doc, 0, &flags, &role);
		imp_scalar(doc, ev, flags, flow);
		imp_done(doc, (const char *)ev->data.scalar.value);
		break;
	case YAML_ALIAS_EVENT:
		imp_done(doc, NULL);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (doc->depth >= IMP_MAX_NESTING)
			return (-1);
		imp_place(doc, ev->type == YAML_MAPPING_START_EVENT, &flags,
		    &role);
		f = &doc->stack[doc->depth++];
		memset(f, 0, sizeof *f);
		f->map = ev->type == YAML_MAPPING_START_EVENT;
		f->want_key = 1;
		f->role = role;
		f->flow = flow || (f->map ? ev->data.mapping_start.style ==
		    YAML_FLOW_MAPPING_STYLE : ev->data.sequence_start.style ==
		    YAML_FLOW_SEQUENCE_STYLE);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (doc->depth > 0)
			free(doc->stack[--doc->depth].key);
		imp_done(doc, NULL);
		break;
	default:
		break;
	}
	return (0);
}

/* The second pass: the scalars read back as expected. */
struct imp_check {
	struct imp_doc	*doc;
	size_t		 n;
	int		 bad;
	size_t		 line;
};

static int
imp_check_event(void *arg, yaml_event_t *ev)
{
	struct imp_check	*c = arg;

	if (ev->type != YAML_SCALAR_EVENT || c->bad)
		return (0);
	if (c->n >= c->doc->nscalars ||
	    ev->data.scalar.length != c->doc->expectlen[c->n] ||
	    memcmp(ev->data.scalar.value, c->doc->expect[c->n],
	    ev->data.scalar.length) != 0) {
		c->bad = 1;
		c->line = ev->start_mark.line + 1;
	}
	c->n++;
	return (0);
}

/* Order splices by position. */
static int
imp_splicecmp(const void *a, const void *b)
{
	const struct imp_splice	*x = a, *y = b;

	return (x->start < y->start ? -1 : x->start > y->start);
}

/* Convert a whole YAML file; see cli-import.h. */
int
import_yaml(const char *text, size_t len, char **out, size_t *outlen,
    struct import_result *res, char **cause)
{
	struct imp_doc		 doc;
	struct imp_check	 chk;
	struct buf		 b;
	size_t			 i, last = 0;
	char			*why = NULL;
	int			 rc = -1;

	memset(&doc, 0, sizeof doc);
	memset(res, 0, sizeof *res);
	doc.text = text;
	doc.len = len;
	doc.res = res;
	if (len >= 2 && ((unsigned char)text[0] == 0xfe ||
	    (unsigned char)text[0] == 0xff || text[0] == '\0' ||
	    text[1] == '\0')) {
		*cause = xstrdup("only UTF-8 files are supported");
		return (-1);
	}
	imp_index(&doc);
	if (imp_parse(text, len, imp_convert_event, &doc, cause) != 0)
		goto out;

	if (doc.nsplices > 0)
		qsort(doc.splices, doc.nsplices, sizeof *doc.splices,
		    imp_splicecmp);
	buf_init(&b, 0);
	buf_add(&b, "", 0);
	for (i = 0; i < doc.nsplices; i++) {
		buf_add(&b, text + last, doc.splices[i].start - last);
		buf_puts(&b, doc.splices[i].text);
		last = doc.splices[i].end;
	}
	buf_add(&b, text + last, len - last);

	memset(&chk, 0, sizeof chk);
	chk.doc = &doc;
	if (imp_parse(b.data, b.len, imp_check_event, &chk, &why) != 0 ||
	    chk.bad || chk.n != doc.nscalars) {
		xasprintf(cause, "internal error: the converted text does not "
		    "read back as expected (line %zu%s%s)", chk.line,
		    why != NULL ? ": " : "", why != NULL ? why : "");
		free(why);
		buf_free(&b);
		goto out;
	}
	*outlen = b.len;
	*out = buf_take(&b);
	rc = 0;

out:
	if (rc != 0)
		import_result_free(res);
	while (doc.depth > 0)
		free(doc.stack[--doc.depth].key);
	for (i = 0; i < doc.nsplices; i++)
		free(doc.splices[i].text);
	free(doc.splices);
	for (i = 0; i < doc.nscalars; i++)
		free(doc.expect[i]);
	free(doc.expect);
	free(doc.expectlen);
	free(doc.byte);
	return (rc);
}
