/*
 * store-int.h -- shared by the store's own files: table descriptors,
 * statements, change-set operations, the SQL dialects and the versioned
 * method table each backend fills (the shape of SQLite's
 * sqlite3_io_methods).
 *
 * The layers, top down:
 *   store-ops.c	the typed functions of store.h, each a statement or
 *			a descriptor handed to the generic verbs;
 *   store.c		the generic verbs: open and migrate, load, list,
 *			apply a change set, notify, wait, close;
 *   store-table.c	the tables, column by column, and what comes from
 *			them: row copy, free, reading, values, SQL;
 *   store-list.c	list filters, sort keys and pages, as SQL;
 *   store-pg.c, store-sqlite.c	the backends: connections, binding and
 *			reading values, running statements and change sets.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include "store/store.h"

/* ---- tables -------------------------------------------------------- */

/*
 * Column types.  Storage follows the member's size: text is a char *
 * (malloc'd) or, when the member is an array, held in it ("" for NULL);
 * int and bool are an int or an int64_t.
 */
enum store_type {
	STORE_TEXT,
	STORE_INT,
	STORE_REAL,		/* double */
	STORE_JSON,		/* json_t *, stored as text */
	STORE_BOOL		/* 0 or 1, stored as an integer */
};

/* Column flags. */
#define STORE_KEY	0x01	/* the primary key */
#define STORE_SERIAL	0x02	/* assigned by the database on insert */
#define STORE_NOW	0x04	/* 0 on insert: the database clock */
#define STORE_TOUCH	0x08	/* the clock on update; on insert 0 is the
				   STORE_NOW column's value */
#define STORE_NULLSTR	0x10	/* "" is written as NULL */
#define STORE_SEQ	0x20	/* 0 on insert: next in its group */

struct store_col {
	const char	*name;		/* SQL column = struct member */
	enum store_type	 type;
	size_t		 off;
	size_t		 size;		/* of the member */
	unsigned	 flags;
	unsigned	 mask;		/* SF_* that updates it; 0: never */
	const char	*dflt;		/* written for a NULL text on insert */
};

/* A column of struct s: name, type, flags, update mask, default. */
#define STORE_COL(s, m, type, flags, mask, dflt)			\
	{ #m, type, offsetof(struct s, m), sizeof(((struct s *)0)->m),	\
	    flags, mask, dflt }

/*
 * The type of a list field, so that filter values (always text) can be
 * converted: STORE_COL_TIME accepts ms since the epoch, "YYYY-MM-DD
 * HH:MM:SS" or ISO 8601 (UTC) and binds an integer.
 */
enum store_coltype {
	STORE_COL_TEXT,
	STORE_COL_INT,
	STORE_COL_TIME
};
/* A field lists may filter and sort on: API name, SQL expression. */
struct store_column {
	const char		*field;
	const char		*column;
	enum store_coltype	 type;
};

/*
 * Lists of JSON objects that live in memory (store_list_items()): the
 * fields they may be filtered and sorted on, "column" being the key.
 */
struct store_item_list {
	const char			*name;
	const struct store_column	*fields;
};
extern const struct store_item_list store_item_lists[];

/* Statements generated from a table when the store starts. */
struct store_sql;
struct store_table_sql;

/* Table flags. */
#define STORE_T_NOTIFY	0x01	/* inserts wake the other engines */

/*
 * A table, declared once in store-table.c: where its rows live in C
 * and in SQL.  The key is the STORE_KEY column; the state column, when
 * there is one, is named "state" and guards updates.
 */
struct store_table {
	const char			*name;	/* SQL table and list resource */
	const char			*label;	/* "task", in messages */
	size_t				 size;	/* of the row struct */
	const struct store_col		*cols;
	size_t				 ncols;
	unsigned			 flags;
	const char			*group;	/* what STORE_SEQ counts in */
	const struct store_column	*list;	/* NULL: not listed */
	struct store_table_sql		*sql;
};

/* Every table (store-table.c), and the shapes of one-column results. */
extern const struct store_table *const store_tables[];
extern const struct store_table store_int_shape;	/* struct store_int */
extern const struct store_table store_text_shape;	/* struct store_text */
extern const struct store_table store_count_shape;	/* struct store_count */
struct store_int {
	int64_t	 v;
};
struct store_text {
	char	*v;
};
struct store_count {
	char	*state;
	int64_t	 n;
};

/*
 * Two updates of one row in one change set are sent as one: the
 * first's guard (the second's could only pass after it), the fields of
 * both, the second's values where both set one.  store_row_same: the
 * same key; store_row_state: the row's state and its column's mask (NULL
 * and 0 without one); store_row_fold: the fields in mask copied.
 */
int		 store_row_same(const struct store_table *, const void *,
		     const void *);
const char	*store_row_state(const struct store_table *, const void *,
		     unsigned *);
void		 store_row_fold(const struct store_table *, void *,
		     const void *, unsigned);

/* The table named name (SQL name), or NULL. */
const struct store_table *store_table_find(const char *name);
/* Append t's column list, "id, name, ..."; serial: with SERIAL ones. */
void	 store_table_columns(struct buf *, const struct store_table *,
	     int serial);

/* A value bound to a statement. */
struct store_value {
	enum store_type	 type;		/* TEXT, INT, REAL or JSON */
	int		 null;
	union {
		char	*s;
		int64_t	 i;
		double	 r;
		json_t	*j;
	} u;
};

/*
 * How a backend's result reads: one row at a time, columns by number.
 * store_row_read() builds a row of a table from them.
 */
struct store_cells {
	int		 (*null)(void *, int);
	const char	*(*text)(void *, int);
	int64_t		 (*integer)(void *, int);
	double		 (*real)(void *, int);
	void		*arg;
};

void	*store_row_read(const struct store_table *,
	     const struct store_cells *);

/* Rows collected by a load. */
struct store_rows {
	void	**v;
	size_t	  n;
	size_t	  cap;
};
void	 store_rows_add(struct store_rows *, void *);
void	 store_rows_free(struct store_rows *, const struct store_table *);

/* Values: text (copied; NULL is SQL NULL), integer, JSON (increfed). */
void	 store_value_text(struct store_value *, const char *);
void	 store_value_int(struct store_value *, int64_t);
void	 store_value_null(struct store_value *);
void	 store_values_free(struct store_value *, size_t);

/* ---- statements ---------------------------------------------------- */

/* Dialect indexes: the texts of a statement. */
#define STORE_PG	0
#define STORE_SQLITE	1
#define STORE_NDIALECTS	2

/* Final states, in SQL. */
#define STORE_FINAL	"('SUCCESS', 'ERROR', 'CANCELLED')"
/*
 * Can an execution (its columns prefixed with x) be claimed?  Never
 * claimed; released with work due; or held under an expired lease (its
 * engine died), whatever its work.  Lease times are the database's.
 */
#define STORE_CLAIMABLE(x) x "state NOT IN " STORE_FINAL " AND ((" x	\
	"owner IS NULL AND (" x "lease_until = 0 OR EXISTS (SELECT 1 FROM "	\
	"work w WHERE w.execution_id = " x "id AND w.due_at <= "	\
	"bora_now_ms()))) OR (" x "owner IS NOT NULL AND " x		\
	"lease_until <= bora_now_ms()))"

/*
 * What differs in SQL between the backends.  Statements are written for
 * PostgreSQL with $n placeholders; param is the character the backend
 * numbers them with ("$" or "?"), and without casts "$n::type" is only
 * the placeholder (SQLite binds typed values).  With batch, rows of
 * several ids are loaded by one statement (one round trip); without,
 * one by one (nothing to gain, and a statement less to prepare).  In a
 * statement "@LOCK" stands for lock (row locks to skip), "@IDS" for ids
 * (a JSON array of text in $1, as a subquery), "@ROWID" for rowid
 * (insertion order) and "@CLAIM" for claim: the ids of at most $3
 * executions to claim, oldest first.
 * guard, when set, wraps a statement so that it raises when it changes
 * or returns no row (%s: the statement; %d, %d: the numbers of the two
 * parameters holding the error code and message); without it the
 * backend counts the rows itself.  neq is a NULL-safe "not equal",
 * has a "contains" test (%s: column, then placeholder).
 */
struct store_dialect {
	int		 index;
	char		 param;
	int		 casts;
	int		 batch;		/* loads of several ids in one */
	const char	*lock;
	const char	*ids;
	const char	*rowid;
	const char	*claim;
	const char	*guard_dml;
	const char	*guard_select;
	const char	*neq;
	const char	*same;		/* NULL-safe equal */
	const char	*has;
};
extern const struct store_dialect store_pg_dialect;
extern const struct store_dialect store_sqlite_dialect;

/* Statement flags. */
#define STORE_GUARD	0x01	/* changing or returning no row fails */
#define STORE_WAKE	0x02	/* wakes the other engines when applied */

/*
 * A statement.  tmpl is the whole SQL, or with from set the clause after
 * "SELECT <from's columns> FROM <from> WHERE "; a table's own have it
 * made from the table (make(of)) when first needed.  Registered
 * statements (every one built from a table, and those store-ops.c lists)
 * get an id and are prepared once per connection, their text[] made per
 * dialect when first asked for (store_sql_text).
 */
struct store_sql {
	const char			*tmpl;
	const struct store_table	*from;
	unsigned			 flags;
	const char			*what;		/* in error messages */
	int				 id;		/* -1: not registered */
	int				 nparams;
	char				*text[STORE_NDIALECTS];
	char				*(*make)(const struct store_table *);
	const struct store_table	*of;
};
#define STORE_SQL(tmpl, flags, what)	{ tmpl, NULL, flags, what, -1, 0, \
	    { NULL, NULL }, NULL, NULL }
#define STORE_SELECT(from, clause, what) { clause, from, 0, what, -1, 0, \
	    { NULL, NULL }, NULL, NULL }

/* The statements of a table: insert, masked update, load by key. */
struct store_table_sql {
	struct store_sql	 insert;
	struct store_sql	 update;
	struct store_sql	 load;
};

/* Registered statements, by id (store-table.c; after store_init()). */
extern struct store_sql	**store_sqls;
extern int		  store_nsqls;

/* The statements of store-ops.c (NULL-terminated). */
extern struct store_sql *const store_ops_sqls[];
/* The statements of store-alarms.c (NULL-terminated). */
extern struct store_sql *const store_alarm_sqls[];
/* Those of store-recovery.c (NULL-terminated). */
extern struct store_sql *const store_recovery_sqls[];
/*
 * Register the statements of every table and those of store_ops_sqls
 * (once per process; their SQL is made when first needed).
 */
void	 store_init(void);
/* The text of a statement for a dialect (a dynamic one's: as filled). */
const char *store_sql_text(const struct store_sql *,
	     const struct store_dialect *);
/* Fill a dynamic statement's text for a dialect (not registered). */
void	 store_sql_build(struct store_sql *, const struct store_dialect *);
void	 store_sql_free(struct store_sql *);
/*
 * An UPDATE of a row of a table setting only the fields in a mask,
 * guarded by its state or not, for a dialect, with the values of the
 * table's own (NULL: it sets nothing).
 */
char	*store_update_text(const struct store_table *, unsigned, int,
	     const struct store_dialect *);

/*
 * Run a statement; its values come from fmt: 's' text (const char *),
 * 'i' an int64_t, 'n' NULL.  store_run adds the rows it returns, of
 * shape (NULL: the statement's table), to rows; store_run_one puts the
 * first into *out (T **) or says "<what> <key> not found"; store_run_int
 * returns one integer (NULL: 0; -1 on failure).
 */
enum store_rc	 store_run(struct store *, const struct store_sql *,
		     const struct store_table *, struct store_rows *,
		     const char *fmt, ...);
enum store_rc	 store_run_one(struct store *, const struct store_sql *,
		     void *out, const char *key, const char *fmt, ...);
int64_t		 store_run_int(struct store *, const struct store_sql *,
		     const char *fmt, ...);
/* Hand collected rows to a typed out-parameter (T ***out). */
void		 store_rows_take(struct store_rows *, void *out, size_t *);

/* ---- change sets --------------------------------------------------- */

/*
 * One recorded write: a registered statement and its values, which are
 * its own (v) or, for a row's insert or update, come from the copy of
 * the row it keeps.  A guarded statement that changes no row makes the
 * change set fail with guard (STORE_CONFLICT or STORE_NOTFOUND) and its
 * message (store_op_gmsg()).
 */
struct store_op {
	const struct store_sql		*sql;
	struct store_value		*v;
	size_t				 nv;
	const struct store_table	*table;		/* row operations */
	void				*row;
	unsigned			 mask;		/* update: SF_* */
	char				*expect;	/* update: state */
	enum store_rc			 guard;
	char				*gmsg;
};
/*
 * The values of an operation: its own, or its row's put in buf
 * (STORE_MAXVALUES, borrowing from the row).  Neither is freed by the
 * caller.
 */
const struct store_value *store_op_values(const struct store_op *,
		     struct store_value *buf, size_t *n);
/* The message of an operation's failed guard. */
const char	*store_op_gmsg(struct store_op *);

struct store_tx {
	struct store_op	*ops;
	size_t		 n;
	size_t		 cap;
};

/* Append an operation with nv zeroed values. */
struct store_op	*store_tx_add(struct store_tx *, const struct store_sql *,
		     size_t nv);
/* Append one with text values a and b (b NULL: a alone; NULL text is
 * SQL NULL). */
struct store_op	*store_tx_text(struct store_tx *, const struct store_sql *,
		     const char *a, const char *b);
/* Every row of q for one text key (NULL: q has no parameter), T ***. */
enum store_rc	 store_load_rows(struct store *, const struct store_sql *,
		     const char *key, void *out, size_t *n);
/* Does the change set wake other engines? */
int		 store_tx_wakes(struct store_tx **, size_t);

/*
 * The values of a row for its table's insert statement; for its update
 * statement (mask, expected state).  They borrow from the row.
 */
size_t	 store_row_insert_values(const struct store_table *, const void *,
	     struct store_value *);
size_t	 store_row_update_values(const struct store_table *, const void *,
	     unsigned, const char *, struct store_value *);
/* Values a table's statements may take at most. */
#define STORE_MAXVALUES	32

/* ---- lists --------------------------------------------------------- */

/* The whitelist entry for (resource, field), or NULL. */
const struct store_column *store_list_field(const char *resource,
		     const char *field);
/* The column for an API field name, or NULL. */
const char	*store_list_column(const char *resource, const char *field);
/* Convert a filter value for an integer column; -1 + *cause if bad. */
int	 store_list_int(const struct store_column *, const char *value,
	     int64_t *out, char **cause);
/*
 * The SQL and values of a list query on a table for a dialect; the
 * values are appended to v (grown).  -1 with the connection's error
 * set when a filter or sort key is wrong.
 */
int	 store_list_sql(struct store *, const struct store_table *,
	     const struct store_query *, const struct store_dialect *,
	     struct buf *, struct store_value **, size_t *);

/* ---- backends ------------------------------------------------------ */

/*
 * The backend method table.  Every backend embeds struct store as the
 * first member of its own connection struct.
 */
struct store_methods {
	int			 version;
	const char		*name;		/* "sqlite", "postgresql" */
	const struct store_dialect *dialect;
	/* Methods below are valid for version 2. */
	/* Connect, migrate (store_migrate) and make ready. */
	struct store	*(*open)(const char *url, char **cause);
	void		 (*close)(struct store *);
	/*
	 * Run SQL text, several statements maybe, outside the verbs (for
	 * migrations); *value, when not NULL, gets the first column of the
	 * last row as an integer.  -1 + *cause.
	 */
	int		 (*script)(struct store *, const char *sql,
			     int64_t *value, char **cause);
	/*
	 * Run one statement (registered when id >= 0) and read the rows it
	 * returns as rows of shape.
	 */
	enum store_rc	 (*load)(struct store *, const struct store_sql *,
			     const struct store_value *, size_t,
			     const struct store_table *, struct store_rows *);
	/* Apply change sets in one transaction (see store.h). */
	enum store_rc	 (*apply)(struct store *, struct store_tx **, size_t,
			     enum store_rc *);
	/* Optional (NULL: nothing to do, never notified). */
	void		 (*notify)(struct store *, const char *);
	int		 (*wait)(struct store *, int);
	/* Methods below are valid for version 3. */
	/* Optional: the caller is idle; tidy up (see store_idle()). */
	void		 (*idle)(struct store *);
};

struct store {
	const struct store_methods	*m;
	char				 errbuf[1024];
};

/* Set the connection's last error text. */
void	 store_set_error(struct store *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));

/*
 * Schema migrations compiled from sql/<backend>/NNN-name.sql by
 * src/store/gen-sql.sh into store-sql.c; each array ends with
 * { 0, NULL, NULL } and is sorted by version.
 */
struct store_migration {
	int		 version;
	const char	*name;		/* "001-init" */
	const char	*sql;
};
extern const struct store_migration store_sqlite_migrations[];
extern const struct store_migration store_pg_migrations[];

/*
 * Apply the schema migrations the database lacks (store.c), through the
 * backend's script method; begin opens the transaction (and takes the
 * lock) they run in.  A schema newer than this binary is refused.
 */
int	 store_migrate(struct store *, const struct store_migration *,
	     const char *begin, char **cause);

/* JSON column text <-> json_t: NULL text gives NULL; bad text gives
 * a JSON string holding it. */
char	*store_json_text(json_t *);	/* NULL for NULL */
json_t	*store_json_parse(const char *);
/* Ids as the JSON array of text that "@IDS" takes (caller frees). */
char	*store_ids_text(char *const *ids, size_t n);

extern const struct store_methods store_sqlite_methods;
extern const struct store_methods store_pg_methods;

#endif /* STORE_INT_H */
