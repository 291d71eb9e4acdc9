/*
 * lib.h -- small shared helpers: allocation, logging, capped buffers,
 * time, identifiers and YAML data files.
 *
 * Allocation failures are fatal (x* functions never return NULL).
 * Strings returned by x* functions are owned by the caller.
 */
#ifndef LIB_H
#define LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif
#define printflike(a, b) __attribute__((format(printf, a, b)))

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* xmalloc.c */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) printflike(2, 3);
int	 xvasprintf(char **, const char *, va_list);
/* Append to a malloc'd string (NULL allowed); returns the new string. */
char	*xstrcat(char *, const char *);

/* log.c -- stderr in the foreground, syslog otherwise. */
enum log_level { LOG_LVL_WARN = 0, LOG_LVL_INFO = 1, LOG_LVL_DEBUG = 2 };
void	 log_init(int foreground, int level, const char *ident);
void	 log_set_json(int);
void	 log_set_level(int);
int	 log_get_level(void);
void	 log_warn(const char *, ...) printflike(1, 2);	/* + strerror */
void	 log_warnx(const char *, ...) printflike(1, 2);
void	 log_info(const char *, ...) printflike(1, 2);
void	 log_debug(const char *, ...) printflike(1, 2);
__dead void fatal(const char *, ...) printflike(1, 2);	/* + strerror */
__dead void fatalx(const char *, ...) printflike(1, 2);

/*
 * buf.c -- growable byte buffer with a maximum size.  The data is always
 * NUL-terminated.  Adding past the maximum fails with -1 and leaves the
 * buffer unchanged; max == 0 means no limit.
 */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
};
void	 buf_init(struct buf *, size_t max);
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...) printflike(2, 3);
void	 buf_reset(struct buf *);
char	*buf_take(struct buf *);	/* caller owns; buffer is reset */
void	 buf_free(struct buf *);

/* time.c -- milliseconds. */
int64_t	 time_now_ms(void);		/* wall clock, since the epoch */
int64_t	 time_mono_ms(void);		/* monotonic */
int64_t	 time_mono_us(void);		/* monotonic, microseconds */
/* "YYYY-MM-DD HH:MM:SS" in UTC; out must hold 20 bytes. */
void	 time_format(int64_t ms, char *out);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ"; out must hold 25 bytes. */
void	 time_format_iso(int64_t ms, char *out);
/* Parse "10", "1.5", "250ms", "10s", "5m", "2h", "1d" into ms. */
int	 time_parse_duration(const char *, int64_t *ms, char **cause);
/* "2024-05-14T10:21:07.000000Z" (UTC) into ms; 0, or -1. */
int	 time_parse_iso(const char *, int64_t *ms);

/*
 * cron.c -- cron expressions (5 fields, or 6 with seconds last, as
 * croniter reads them; names, ranges, steps, lists, @hourly...),
 * evaluated in UTC.
 */
struct cron;
/* NULL + *cause ("minute: 61 is out of range 0-59") when not valid. */
struct cron	*cron_parse(const char *expr, char **cause);
void		 cron_free(struct cron *);
/* The first tick strictly after after_ms, in ms; -1 if none. */
int64_t		 cron_next(const struct cron *, int64_t after_ms);

/* uuid.c -- random (v4) identifiers, 36 chars + NUL. */
#define UUID_STRLEN 37
void	 uuid_make(char *out);
int	 uuid_valid(const char *);

/* file.c -- read a whole file, at most max bytes (0: no limit). */
char	*file_read(const char *path, size_t max, size_t *len, char **cause);

/*
 * yaml.c -- a YAML document (the first) as a JSON value (jansson):
 * mappings, sequences, core-schema scalars; no aliases.  NULL and
 * *cause ("file:line:col: why") on error; the caller owns the value.
 */
struct json_t;
struct json_t	*yaml_load_json(const char *text, size_t len, const char *name,
		     char **cause);
struct json_t	*yaml_load_file(const char *path, size_t max, char **cause);
/* One scalar's value; only plain (unquoted, untagged) ones are typed. */
struct json_t	*yaml_scalar_json(const char *s, size_t len, int plain);

/* Closest candidate by edit distance, or NULL if none is close. */
const char *lib_closest(const char *word, const char *const *cands, size_t n);

#endif /* LIB_H */
