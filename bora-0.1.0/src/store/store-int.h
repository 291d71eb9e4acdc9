/*
 * store-int.h -- shared by the store's own files: the change-set
 * representation and the versioned method table each backend fills
 * (the shape of SQLite's sqlite3_io_methods).
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include "store/store.h"

enum store_op_kind {
	STORE_OP_EXEC_INSERT,
	STORE_OP_EXEC_UPDATE,
	STORE_OP_TASK_INSERT,
	STORE_OP_TASK_UPDATE,
	STORE_OP_ACTION_INSERT,
	STORE_OP_ACTION_UPDATE,
	STORE_OP_WORK_INSERT,
	STORE_OP_WORK_DELETE,
	STORE_OP_WORK_DELETE_TASK,
	STORE_OP_LOCK_ACQUIRE,
	STORE_OP_LOCK_RELEASE_ALL,
	STORE_OP_EVENT_INSERT,
	STORE_OP_MESSAGE_INSERT
};

/* One recorded write.  The rows are private copies owned by the op. */
struct store_op {
	enum store_op_kind	 kind;
	unsigned		 mask;		/* SF_* for updates */
	char			*expect;	/* expected state, or NULL */
	union {
		struct store_exec	*exec;
		struct store_task	*task;
		struct store_action	*action;
		struct store_work	*work;
		struct store_event	*event;
		struct store_message	*message;
		int64_t			 id;		/* WORK_DELETE */
		char			*task_id;	/* WORK_DELETE_TASK */
		struct {
			char		*name;		/* NULL: release all */
			char		*execution_id;
		} lock;
	} u;
};

struct store_tx {
	struct store_op	*ops;
	size_t		 n;
	size_t		 cap;
};

/*
 * The backend method table.  Every backend embeds struct store as the
 * first member of its own connection struct.
 */
struct store_methods {
	int		 version;
	const char	*name;		/* "sqlite", "postgresql" */
	/* Methods below are valid for version 1. */
	struct store	*(*open)(const char *url, char **cause);
	void		 (*close)(struct store *);
	enum store_rc	 (*ping)(struct store *);
	int64_t		 (*now)(struct store *);
	enum store_rc	 (*commit_many)(struct store *, struct store_tx **,
			     size_t, enum store_rc *);

	enum store_rc	 (*def_save)(struct store *, const char *kind,
			     const char *name, const char *text,
			     const char *source, int create_only, int deleted,
			     struct store_def **);
	enum store_rc	 (*def_load)(struct store *, const char *id,
			     struct store_def **);
	enum store_rc	 (*def_load_current)(struct store *, const char *,
			     const char *, struct store_def **);
	enum store_rc	 (*def_list_current)(struct store *,
			     struct store_def ***, size_t *);
	int64_t		 (*def_generation)(struct store *);
	enum store_rc	 (*workflow_save)(struct store *, const char *,
			     const char *, struct store_workflow **);
	enum store_rc	 (*workflow_load)(struct store *, const char *,
			     struct store_workflow **);
	enum store_rc	 (*workflow_delete)(struct store *, const char *);

	enum store_rc	 (*exec_load)(struct store *, const char *,
			     struct store_exec **);
	enum store_rc	 (*tasks_load)(struct store *, const char *,
			     struct store_task ***, size_t *);
	enum store_rc	 (*task_load)(struct store *, const char *,
			     struct store_task **);
	enum store_rc	 (*actions_load)(struct store *, const char *,
			     struct store_action ***, size_t *);
	enum store_rc	 (*action_load)(struct store *, const char *,
			     struct store_action **);
	enum store_rc	 (*events_load)(struct store *, const char *,
			     struct store_event ***, size_t *);
	enum store_rc	 (*exec_children)(struct store *, const char *,
			     struct store_exec ***, size_t *);
	enum store_rc	 (*lock_owner)(struct store *, const char *,
			     char **);

	enum store_rc	 (*exec_list)(struct store *,
			     const struct store_query *,
			     struct store_exec ***, size_t *);
	enum store_rc	 (*task_list)(struct store *,
			     const struct store_query *,
			     struct store_task ***, size_t *);
	enum store_rc	 (*action_list)(struct store *,
			     const struct store_query *,
			     struct store_action ***, size_t *);
	enum store_rc	 (*message_list)(struct store *,
			     const struct store_query *,
			     struct store_message ***, size_t *);
	enum store_rc	 (*message_delete)(struct store *, const char *);
	enum store_rc	 (*message_reap)(struct store *, int64_t, size_t,
			     size_t *);
	enum store_rc	 (*exec_delete)(struct store *, const char *);

	enum store_rc	 (*exec_claim)(struct store *, const char *, int64_t,
			     size_t, char ***, size_t *);
	enum store_rc	 (*exec_renew)(struct store *, const char *, int64_t);
	enum store_rc	 (*exec_release)(struct store *, const char *,
			     const char *);
	enum store_rc	 (*work_due)(struct store *, const char *, int64_t,
			     struct store_work ***, size_t *);
	enum store_rc	 (*work_load)(struct store *, const char *,
			     struct store_work ***, size_t *);
	int64_t		 (*work_next_due)(struct store *, const char *);
	void		 (*notify)(struct store *, const char *);
	int		 (*wait)(struct store *, int);
	enum store_rc	 (*count_by_state)(struct store *, const char *,
			     json_t **);
	/* Optional (NULL: one load per id is done instead). */
	enum store_rc	 (*execs_load)(struct store *, char *const *, size_t,
			     struct store_exec ***, size_t *);
	enum store_rc	 (*tasks_load_many)(struct store *, char *const *,
			     size_t, struct store_task ***, size_t *);
};

struct store {
	const struct store_methods	*m;
	char				 errbuf[1024];
};

/* Set the connection's last error text. */
void	 store_set_error(struct store *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));

/* Row copies (deep; json increfed), used by change sets and backends. */
struct store_task	*store_task_dup(const struct store_task *);
struct store_action	*store_action_dup(const struct store_action *);
struct store_work	*store_work_dup(const struct store_work *);
struct store_event	*store_event_dup(const struct store_event *);
struct store_message	*store_message_dup(const struct store_message *);

/* JSON column text <-> json_t: NULL text gives NULL; bad text gives
 * a JSON string holding it. */
char	*store_json_text(json_t *);	/* NULL for NULL */
json_t	*store_json_parse(const char *);

/*
 * Whitelisted list columns per resource ("executions", "tasks",
 * "action_executions", "messages"): the column for an API field name,
 * or NULL when it is not filterable/sortable.
 */
const char	*store_list_column(const char *resource, const char *field);

/*
 * The type of a list column, so that filter values (always text) can be
 * converted: STORE_COL_TIME accepts ms since the epoch, "YYYY-MM-DD
 * HH:MM:SS" or ISO 8601 (UTC) and binds an integer.
 */
enum store_coltype {
	STORE_COL_TEXT,
	STORE_COL_INT,
	STORE_COL_TIME
};
struct store_column {
	const char		*field;		/* API name */
	const char		*column;	/* SQL expression */
	enum store_coltype	 type;
};
/* The whitelist entry for (resource, field), or NULL. */
const struct store_column *store_list_field(const char *resource,
		     const char *field);
/* Convert a filter value for an integer column; -1 + *cause if bad. */
int	 store_list_int(const struct store_column *, const char *value,
	     int64_t *out, char **cause);

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
 * How a backend writes list filters in SQL: the "not equal" operator
 * (NULL-safe), a placeholder for a value it binds (text, or an integer
 * for number and time columns), and a "contains" test.
 */
struct store_sql_dialect {
	const char	*neq;
	void		(*value)(void *arg, struct buf *, int is_int, int64_t,
			    const char *);
	void		(*has)(void *arg, struct buf *, const char *column,
			    const char *value);
	void		*arg;
};

/*
 * Append " AND <condition>" for one filter of a list on resource:
 * whitelisted fields, Mistral's operators, values through the dialect.
 * -1 with the connection's error set when the filter is wrong.
 */
int	 store_list_filter_sql(struct store *, const char *resource,
	     const struct store_filter *, struct buf *,
	     const struct store_sql_dialect *);

extern const struct store_methods store_sqlite_methods;
extern const struct store_methods store_pg_methods;

#endif /* STORE_INT_H */
