/*
 * cli-import.h -- "bora import": Mistral workbooks with YAQL or Jinja
 * expressions turned into bora's Lua, shared by the files of the import
 * command (cli-import*.c) and its unit test only.
 *
 *	cli-import-parse.c	YAQL and Jinja text -> a small syntax tree
 *	cli-import-lua.c	syntax tree -> Lua text (the function table)
 *	cli-import-yaml.c	a YAML file -> the same bytes, expressions
 *				translated, each scalar re-quoted only when
 *				its new text needs it
 *	cli-import.c		the command: files, options, reports
 *
 * Ownership: arguments are borrowed; what is returned through an out
 * pointer is owned by the caller.
 */
#ifndef CLI_IMPORT_H
#define CLI_IMPORT_H

#include <stddef.h>

/* Flags of a translation. */
#define IMPORT_BOOL	0x1	/* the value is a condition: its truth counts */
#define IMPORT_NOSQ	0x2	/* the Lua text may not hold ' */
#define IMPORT_NODQ	0x4	/* the Lua text may not hold " */
#define IMPORT_JINJA	0x8	/* the source is Jinja, not YAQL */
#define IMPORT_PREFDQ	0x10	/* quote Lua strings with " when possible */

/*
 * Translate one YAQL (or, with IMPORT_JINJA, Jinja) expression, without
 * its delimiters, into a Lua expression.  0 and *out, or -1 and *cause
 * (why it cannot be translated).
 */
int	 import_expr(const char *src, size_t len, int flags, char **out,
	     char **cause);

/* One change of a template: bytes [start, end) become text. */
struct import_edit {
	size_t	 start;
	size_t	 end;
	char	*text;
};

/* An expression left unchanged: where it starts and why. */
struct import_diag {
	size_t	 pos;		/* template offset, or file line/col below */
	int	 line;
	int	 col;
	char	*msg;		/* "cannot translate '<% x %>': reason" */
};

struct import_result {
	struct import_edit	*edits;		/* in increasing order */
	size_t			 nedits;
	struct import_diag	*diags;
	size_t			 ndiags;
	size_t			 nexprs;	/* expressions found */
};

/*
 * Find every <% %>, {{ }} and {% %} of a template string and translate
 * the expressions.  flags: IMPORT_BOOL when the string is a condition;
 * inline is '"' or '\'' when expressions inside a quoted inline
 * parameter ('action: x msg="..."') must be written for that quoting,
 * 1 when the string may hold inline parameters at all, else 0.
 */
void	 import_template(const char *s, size_t len, int flags, int inl,
	     struct import_result *);
void	 import_result_free(struct import_result *);

/*
 * Convert a whole YAML file: the same bytes with every expression
 * translated.  0 and *out (diagnostics in res, with line and col set;
 * res->edits unused), or -1 and *cause when the text is not YAML.
 */
int	 import_yaml(const char *text, size_t len, char **out, size_t *outlen,
	     struct import_result *res, char **cause);

/* ---- the syntax tree (cli-import-parse.c) ------------------------ */

enum import_kind {
	IMP_NUM,		/* s: the digits; IMP_F_FLOAT when it has a dot */
	IMP_STR,		/* s, len: the decoded text */
	IMP_TRUE,
	IMP_FALSE,
	IMP_NULL,
	IMP_VAR,		/* YAQL $, $name, $1 (s without $); Jinja name */
	IMP_WORD,		/* YAQL bare word: a string constant */
	IMP_ATTR,		/* kids[0].s (IMP_F_SAFE: ?.) */
	IMP_INDEX,		/* kids[0][kids[1]] */
	IMP_CALL,		/* s(kids...) */
	IMP_METHOD,		/* kids[0].s(kids[1...]) */
	IMP_FILTER,		/* Jinja kids[0] | s(kids[1...]) */
	IMP_TEST,		/* Jinja kids[0] is [not] s(kids[1...]) */
	IMP_BINARY,		/* kids[0] op kids[1] */
	IMP_UNARY,		/* op kids[0] */
	IMP_LIST,		/* [kids...] */
	IMP_DICT,		/* {kids...}, each an IMP_PAIR */
	IMP_PAIR,		/* kids[0] => kids[1] (named argument) */
	IMP_COND,		/* Jinja kids[0] if kids[1] else kids[2] */
	IMP_SLICE		/* Jinja a[b:c]: never translated */
};

enum import_op {
	IMP_OR, IMP_AND, IMP_NOT, IMP_EQ, IMP_NE, IMP_LT, IMP_LE, IMP_GT,
	IMP_GE, IMP_IN, IMP_NOTIN, IMP_ADD, IMP_SUB, IMP_MUL, IMP_DIV,
	IMP_IDIV, IMP_MOD, IMP_POW, IMP_NEG, IMP_POS, IMP_CAT, IMP_MATCH,
	IMP_NMATCH, IMP_SEND
};

#define IMP_F_FLOAT	0x1	/* IMP_NUM with a fraction */
#define IMP_F_SAFE	0x2	/* IMP_ATTR through ?. */
#define IMP_F_NOT	0x4	/* IMP_TEST with "is not" */
#define IMP_F_NOELSE	0x8	/* IMP_COND without else */

struct import_node {
	enum import_kind	  kind;
	int			  op;		/* enum import_op */
	int			  flags;	/* IMP_F_* */
	char			 *s;
	size_t			  len;
	size_t			  pos;		/* offset in the source */
	struct import_node	**kids;
	size_t			  nkids;
};

/* Parse an expression; NULL, *cause and *errpos when it is not valid. */
struct import_node *import_parse(const char *src, size_t len, int jinja,
		     char **cause, size_t *errpos);
void		 import_node_free(struct import_node *);

/* Lua text of a tree (cli-import-lua.c); -1 and *cause if impossible. */
int		 import_lua(const struct import_node *, int flags, char **out,
		     char **cause);

#endif /* CLI_IMPORT_H */
