/*
 * cron.c -- cron expressions as Mistral's cron triggers take them
 * (croniter): five fields, minute hour day-of-month month day-of-week,
 * and an optional sixth, seconds; "*", "?", numbers, names (jan..dec,
 * sun..sat), ranges a-b, steps (star)/n a-b/n a/n, lists a,b,c, and the
 * shorthands @yearly @annually @monthly @weekly @daily @midnight
 * @hourly.  Day 7 of the week is Sunday, like 0.  When both days are
 * restricted, a day matching either runs (Vixie cron).  Times are UTC,
 * as Mistral evaluates its patterns.
 *
 * There is no Debian C library for cron expressions; this one is small.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/lib.h"

struct cron {
	uint64_t	 sec;		/* bit n: second n */
	uint64_t	 min;
	uint32_t	 hour;
	uint32_t	 dom;		/* bits 1..31 */
	uint16_t	 month;		/* bits 1..12 */
	uint8_t		 dow;		/* bits 0..6, Sunday 0 */
	int		 dom_star;	/* day fields written as "*" */
	int		 dow_star;
};

/* A field: its name, range and the names its values may take. */
struct cron_field {
	const char		*name;
	int			 lo;
	int			 hi;
	const char *const	*names;	/* index + lo, or NULL */
};

static const char *const cron_months[] = { "jan", "feb", "mar", "apr",
	"may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const cron_days[] = { "sun", "mon", "tue", "wed", "thu",
	"fri", "sat", NULL };

static const struct cron_field cron_fields[] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, cron_months },
	{ "day of week", 0, 7, cron_days },
	{ "second", 0, 59, NULL }
};

static const struct {
	const char	*name;
	const char	*expr;
} cron_macros[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" }
};

/* A value of field f at *p (a number or a name); -1 + *cause if bad. */
static int
cron_value(const struct cron_field *f, const char **p, char **cause)
{
	const char	*s = *p;
	char		*end;
	long		 v;
	size_t		 i;

	if (isdigit((unsigned char)*s)) {
		v = strtol(s, &end, 10);
		if (v < f->lo || v > f->hi) {
			xasprintf(cause, "%s: %ld is out of range %d-%d",
			    f->name, v, f->lo, f->hi);
			return (-1);
		}
		*p = end;
		return ((int)v);
	}
	for (i = 0; f->names != NULL && f->names[i] != NULL; i++) {
		if (strncasecmp(s, f->names[i], 3) == 0 &&
		    !isalpha((unsigned char)s[3])) {
			*p = s + 3;
			return ((int)i + (f == &cron_fields[3] ? 1 : 0));
		}
	}
	xasprintf(cause, "%s: unexpected '%.10s'", f->name, s);
	return (-1);
}

/* Parse one field into a bit set; -1 + *cause. */
static int
cron_field_parse(const struct cron_field *f, const char *text,
    uint64_t *bits, int *star, char **cause)
{
	const char	*p = text;
	char		*end;
	int		 a, b, step, v, any;
	long		 n;

	*bits = 0;
	*star = strcmp(text, "*") == 0 || strcmp(text, "?") == 0;
	for (;;) {
		any = 0;
		step = 1;
		if (*p == '*' || *p == '?') {
			a = f->lo;
			b = f->hi;
			p++;
			any = 1;
		} else {
			if ((a = cron_value(f, &p, cause)) < 0)
				return (-1);
			b = a;
			if (*p == '-') {
				p++;
				if ((b = cron_value(f, &p, cause)) < 0)
					return (-1);
				if (b < a) {
					xasprintf(cause, "%s: range %d-%d "
					    "goes backwards", f->name, a, b);
					return (-1);
				}
			}
		}
		if (*p == '/') {
			p++;
			n = strtol(p, &end, 10);
			if (end == p || n < 1 || n > f->hi) {
				xasprintf(cause, "%s: bad step '%.10s'",
				    f->name, p);
				return (-1);
			}
			p = end;
			step = (int)n;
			if (!any && b == a)
				b = f->hi;	/* "a/n": from a to the end */
		}
		for (v = a; v <= b; v += step)
			*bits |= (uint64_t)1 << v;
		if (*p == '\0')
			return (0);
		if (*p != ',') {
			xasprintf(cause, "%s: unexpected '%.10s'", f->name, p);
			return (-1);
		}
		p++;
	}
}

/* Parse an expression; NULL + *cause ("minute: ..."). */
struct cron *
cron_parse(const char *expr, char **cause)
{
	struct cron	*c;
	char		*copy, *fields[7], *last = NULL, *tok;
	uint64_t	 bits[6];
	int		 stars[6];
	size_t		 n = 0, i;

	*cause = NULL;
	if (expr == NULL) {
		xasprintf(cause, "no pattern");
		return (NULL);
	}
	while (isspace((unsigned char)*expr))
		expr++;
	for (i = 0; i < nitems(cron_macros); i++) {
		if (strcasecmp(expr, cron_macros[i].name) == 0)
			expr = cron_macros[i].expr;
	}
	copy = xstrdup(expr);
	for (tok = strtok_r(copy, " \t", &last); tok != NULL;
	    tok = strtok_r(NULL, " \t", &last)) {
		if (n == nitems(fields)) {
			n++;
			break;
		}
		fields[n++] = tok;
	}
	if (n < 5 || n > 6) {
		xasprintf(cause, "'%s': expected 5 fields (minute hour "
		    "day-of-month month day-of-week) or 6 (and seconds), not "
		    "%zu", expr, n);
		free(copy);
		return (NULL);
	}
	for (i = 0; i < 6; i++) {
		if (i == 5 && n == 5) {
			bits[i] = 1;	/* second 0 */
			continue;
		}
		if (cron_field_parse(&cron_fields[i], fields[i], &bits[i],
		    &stars[i], cause) != 0) {
			free(copy);
			return (NULL);
		}
	}
	free(copy);
	c = xcalloc(1, sizeof *c);
	c->min = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	c->dow = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f);
	c->sec = bits[5];
	c->dom_star = stars[2];
	c->dow_star = stars[4];
	return (c);
}

void
cron_free(struct cron *c)
{
	free(c);
}

/* Does a day (mday, wday) match the day fields? */
static int
cron_day(const struct cron *c, const struct tm *tm)
{
	int	 dom = (c->dom >> tm->tm_mday) & 1;
	int	 dow = (c->dow >> tm->tm_wday) & 1;

	if (c->dom_star && c->dow_star)
		return (1);
	if (c->dom_star)
		return (dow);
	if (c->dow_star)
		return (dom);
	return (dom || dow);
}

/*
 * The first tick strictly after after_ms (UTC), in ms; -1 when there is
 * none within ten years (a 30th of February).
 */
int64_t
cron_next(const struct cron *c, int64_t after_ms)
{
	struct tm	 tm;
	time_t		 t, limit;
	int		 guard;

	t = (time_t)(after_ms / 1000) + 1;
	if (after_ms < 0)
		t = 0;
	limit = t + (time_t)10 * 366 * 86400;
	for (guard = 0; guard < 1000000 && t < limit; guard++) {
		gmtime_r(&t, &tm);
		if (!((c->month >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!cron_day(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!((c->hour >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = tm.tm_sec = 0;
		} else if (!((c->min >> tm.tm_min) & 1)) {
			tm.tm_min++;
			tm.tm_sec = 0;
		} else if (!((c->sec >> tm.tm_sec) & 1))
			tm.tm_sec++;
		else
			return ((int64_t)t * 1000);
		t = timegm(&tm);
	}
	return (-1);
}
