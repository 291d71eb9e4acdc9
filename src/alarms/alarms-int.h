/*
 * alarms-int.h -- shared by the alarms module's own files: the table of
 * sources and what an adapter uses to read a payload and report, with a
 * JSON path, where it is wrong.
 */
#ifndef ALARMS_INT_H
#define ALARMS_INT_H

#include "alarms/alarms.h"
#include "lib/lib.h"

/* State of parsing one payload. */
struct alarm_pctx {
	const struct alarm_source	*src;
	const struct alarm_request	*req;
	struct alarm_limits		 lim;
	struct alarm_batch		*batch;
	enum alarm_rc			 rc;	/* of the first error */
	char				*cause;	/* first error, "PATH: why" */
};

/*
 * One alarm source: one row of alarm_sources[], one adapter file
 * (alarm-<name>.c).  route is where borad receives it.  parse reads the
 * decoded body into events (alarm_event_add) and returns 0, or -1 after
 * alarm_perr().  answer, when set, is the source's own answer to a
 * request (see alarm_answer()); a sender with its own protocol (codes,
 * body) has one.
 */
struct alarm_source {
	const char	*name;
	const char	*route;
	int		(*parse)(struct alarm_pctx *, json_t *body);
	json_t		*(*answer)(const struct alarm_outcome *,
			    unsigned *status);
};

extern const struct alarm_source	alarm_source_alertmanager;
extern const struct alarm_source	alarm_source_aodh;
extern const struct alarm_source	alarm_source_vitrage;
extern const struct alarm_source	alarm_source_grafana;
extern const struct alarm_source	alarm_source_zabbix;
extern const struct alarm_source	alarm_source_generic;

/* The table, NULL-terminated (alarms.c). */
extern const struct alarm_source *const	alarm_sources[];
const struct alarm_source *alarm_source_find(const char *name);

/* Flags of the value getters. */
#define ALARM_REQUIRED	0x1	/* absent or null is an error */
#define ALARM_NONEMPTY	0x2	/* "" is an error */
#define ALARM_SCALAR	0x4	/* numbers are read as their text */

/* Report an error at path ("$.alerts[1].labels"); returns -1. */
int	 alarm_perr(struct alarm_pctx *, const char *path, const char *fmt,
	     ...) printflike(3, 4);
/* Same with ALARM_TOO_LARGE. */
int	 alarm_perr_large(struct alarm_pctx *, const char *path,
	     const char *fmt, ...) printflike(3, 4);
/* "an object", "a string", "an integer", ... for messages. */
const char *alarm_json_kind(json_t *);
/* A value for a message: JSON text cut at 40 characters. */
char	*alarm_json_show(json_t *);
/* A new JSON string, or null for NULL. */
json_t	*alarm_json_str(const char *);

/*
 * Member key of obj as a string (see the flags); *out borrowed, NULL
 * when absent or null and not required.  0, or -1 reported.
 */
int	 alarm_get_str(struct alarm_pctx *, json_t *obj, const char *path,
	     const char *key, int flags, const char **out);
/* Member key of obj as an object; *out borrowed or NULL. */
int	 alarm_get_obj(struct alarm_pctx *, json_t *obj, const char *path,
	     const char *key, int flags, json_t **out);
/*
 * Member key of obj as an object of strings, copied into dst (numbers
 * and booleans are read as their text).  Absent or null adds nothing.
 */
int	 alarm_get_strmap(struct alarm_pctx *, json_t *obj, const char *path,
	     const char *key, json_t *dst);

/* A new event of the batch (labels, annotations {}), or NULL over the
   limit of events (reported at path). */
struct alarm_event *alarm_event_add(struct alarm_pctx *, const char *path);
/* Set an event's key; -1 reported when empty or too long. */
int	 alarm_event_key(struct alarm_pctx *, struct alarm_event *,
	     const char *path, const char *key);
/* Copy s (may be NULL) lower-cased. */
char	*alarm_lower(const char *);
/* Copy s (may be NULL). */
char	*alarm_strdup(const char *);

/* alarm-alertmanager.c: an Alertmanager webhook v4 group (and Grafana's). */
int	 alarm_am_group(struct alarm_pctx *, json_t *body);

#endif /* ALARMS_INT_H */
