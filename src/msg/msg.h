/*
 * msg.h -- what users are told: the one catalog of user-visible texts.
 *
 * Every message a user reads (GET /v2/messages, bora message list) is
 * made here and only here, from an entry of the catalog: an event id
 * ("BORA-EXE-001"), a level, the kind of resource it is about, a
 * template with {placeholders} and a suggested action.  A deployer may
 * replace the texts of any entry in a YAML file (messages-file in
 * borad.conf), checked at start.  Whatever goes into a placeholder is
 * made fit for users first: one line, bounded, no secrets, no
 * traceback, no HTTP body.
 *
 * The module sits just above the store (a message is a row written in
 * the change set of the transition that causes it) and below actions,
 * alarms, the engine and the API, which all create messages through it.
 *
 * Setup (msg_catalog_load, msg_set_ttl) happens once at start, before
 * threads; afterwards the catalog is only read, from any thread.
 * Ownership: arguments are borrowed; returned strings and JSON are the
 * caller's.
 */
#ifndef MSG_H
#define MSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "store/store.h"

/*
 * The event ids, one per entry of the catalog (msg.c), and who makes
 * them, each in the change set of what causes it: the engine (EXE, TSK,
 * LCK, ASY: engine_message()), the recovery flows of reserved hosts
 * (RSV: engine_reserved_host_failed()), the alarm intake (ALM-001:
 * the API, in the change set that stores a refused alarm or records a
 * refused request; ALM-002: the engine, in the change set of an
 * alarm's verdicts, once per trigger, limit.by value and window), the
 * outbox's sender (NTF).
 */
#define MSG_EXE_FAILED		"BORA-EXE-001"	/* failed tasks named */
#define MSG_EXE_ENDED		"BORA-EXE-002"	/* ended in ERROR, no task */
#define MSG_TASK_UNHANDLED	"BORA-TSK-001"
#define MSG_LOCK_WAIT		"BORA-LCK-001"
#define MSG_LOCK_TIMEOUT	"BORA-LCK-002"
#define MSG_RESERVED_HOST	"BORA-RSV-001"
#define MSG_ASYNC_TIMEOUT	"BORA-ASY-001"
#define MSG_ALARM_REJECTED	"BORA-ALM-001"
#define MSG_TRIGGER_LIMIT	"BORA-ALM-002"
#define MSG_NOTIFY_DEAD		"BORA-NTF-001"

/* Bounds of what goes into a placeholder, in bytes. */
#define MSG_REASON_MAX	300	/* {reason} */
#define MSG_VALUE_MAX	160	/* any other */
#define MSG_TEXT_MAX	1024	/* a whole message */

/* Who and what a message is about. */
struct msg_about {
	const char	*resource_uuid;
	const char	*request_id;	/* of the call or alarm that began it */
	const char	*project_id;	/* NULL: "<default-project>" */
};
#define MSG_PROJECT_DEFAULT	"<default-project>"

/*
 * Replace texts of the catalog with those of the YAML file at path (a
 * mapping of event ids to {message, action}).  On any problem nothing
 * changes and *cause holds every one, a line each, "path:line:col:
 * why".  NULL path: back to the built-in texts.
 */
int		 msg_catalog_load(const char *path, char **cause);
/* Messages expire ttl ms after they are made; 0: they never do. */
void		 msg_set_ttl(int64_t ms);
int64_t		 msg_ttl(void);

/*
 * The text of event_id with its placeholders filled from the pairs
 * name, value, ..., NULL (each value cleaned, see msg_clean); its
 * suggested action follows.  NULL for an unknown event id.
 */
char		*msg_render(const char *event_id, ...);
/*
 * Record a message in a change set: the row of event_id about what
 * about says, with the pairs of msg_render().  An unknown event id is a
 * bug: it is logged and nothing is recorded.
 */
void		 msg_tx_add(struct store_tx *, const char *event_id,
		     const struct msg_about *, ...);
void		 msg_tx_addv(struct store_tx *, const char *event_id,
		     const struct msg_about *, va_list);
/*
 * The row msg_tx_add() records, for a statement of the store that
 * records it only on a condition (one message per storm window:
 * store_tx_alarm_limit_message()).  0, or -1 for an unknown event id
 * (logged).  row->id is new; row->message is the caller's to free, the
 * other strings are borrowed from about and the catalog.
 */
int		 msg_row(struct store_message *row, const char *event_id,
		     const struct msg_about *, ...);

/*
 * Text from anywhere made fit for a user, at most max bytes (cut on a
 * character, "..." added): its first line only, a JSON or HTML body
 * replaced by the message it carries (or dropped), secrets (passwords,
 * tokens, keys, credentials in URLs) replaced by "***", control
 * characters by spaces.  NULL gives "unknown".
 */
char		*msg_clean(const char *raw, size_t max);

/* The catalog as it stands: [{event_id, level, resource_type, message,
 * action, placeholders, overridden}]. */
json_t		*msg_catalog_json(void);
/* The level and resource type of an event id; NULL when unknown. */
const char	*msg_level(const char *event_id);
const char	*msg_resource_type(const char *event_id);

#endif /* MSG_H */
