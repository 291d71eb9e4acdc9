/*
 * log.c -- logging to stderr in the foreground and to syslog otherwise,
 * in the vocabulary of OpenBSD's httpd: warn appends strerror(errno),
 * warnx does not, fatal and fatalx exit.  Optional JSON lines.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "lib/lib.h"

static int	log_foreground = 1;
static int	log_level = LOG_LVL_INFO;
static int	log_json;
static pthread_mutex_t log_mtx = PTHREAD_MUTEX_INITIALIZER;

static void	log_vwrite(int, const char *, const char *, va_list);

/* Start logging; in the background, messages go to syslog LOG_DAEMON. */
void
log_init(int foreground, int level, const char *ident)
{
	log_foreground = foreground;
	log_level = level;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_json(int on)
{
	log_json = on;
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return (log_level);
}

/* Write one message; errstr is appended when not NULL. */
static void
log_vwrite(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char		 msg[2048], ts[25];
	const char	*lvl;
	struct buf	 b;
	const char	*p;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (errstr != NULL) {
		strncat(msg, ": ", sizeof msg - strlen(msg) - 1);
		strncat(msg, errstr, sizeof msg - strlen(msg) - 1);
	}
	if (!log_foreground) {
		syslog(pri, "%s", msg);
		return;
	}
	switch (pri) {
	case LOG_CRIT:
		lvl = "fatal";
		break;
	case LOG_WARNING:
		lvl = "warning";
		break;
	case LOG_INFO:
		lvl = "info";
		break;
	default:
		lvl = "debug";
		break;
	}
	pthread_mutex_lock(&log_mtx);
	if (log_json) {
		time_format_iso(time_now_ms(), ts);
		buf_init(&b, 0);
		buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"",
		    ts, lvl);
		for (p = msg; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_printf(&b, "\\%c", *p);
			else if ((unsigned char)*p < 0x20)
				buf_printf(&b, "\\u%04x", (unsigned char)*p);
			else
				buf_add(&b, p, 1);
		}
		buf_puts(&b, "\"}\n");
		fputs(b.data, stderr);
		buf_free(&b);
	} else
		fprintf(stderr, "%s\n", msg);
	pthread_mutex_unlock(&log_mtx);
}

#define LOG_FN(name, pri, lvl, witherr)					\
void									\
name(const char *fmt, ...)						\
{									\
	va_list	 ap;							\
	int	 saved = errno;						\
									\
	if (log_level < (lvl))						\
		return;							\
	va_start(ap, fmt);						\
	log_vwrite(pri, (witherr) ? strerror(saved) : NULL, fmt, ap);	\
	va_end(ap);							\
	errno = saved;							\
}
LOG_FN(log_warn, LOG_WARNING, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_WARNING, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_INFO, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, LOG_LVL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
