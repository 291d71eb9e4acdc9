/*
 * time.c -- clocks in milliseconds, Mistral's timestamp format and
 * durations as operators write them ("30s", "10m").
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/lib.h"

int64_t
time_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
time_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The monotonic clock in microseconds. */
int64_t
time_mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Mistral's wire format: "YYYY-MM-DD HH:MM:SS", UTC, second precision. */
void
time_format(int64_t ms, char *out)
{
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

void
time_format_iso(int64_t ms, char *out)
{
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;
	char		 tmp[20];

	gmtime_r(&t, &tm);
	strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 25, "%.19s.%03uZ", tmp, (unsigned)(ms % 1000) % 1000u);
}

/* Parse a duration; a bare number is seconds (fractions allowed). */
int
time_parse_duration(const char *s, int64_t *ms, char **cause)
{
	char	*end;
	double	 v, mult = 1000;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0)
		goto bad;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mult = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
		mult = 86400 * 1000;
	else
		goto bad;
	if (v * mult > 1e15)
		goto bad;
	*ms = (int64_t)(v * mult + 0.5);
	return (0);
bad:
	if (cause != NULL)
		xasprintf(cause, "invalid duration: %s (expected a number of "
		    "seconds or a value like 250ms, 10s, 5m, 2h, 1d)", s);
	return (-1);
}

/*
 * Parse an ISO 8601 UTC time as OpenStack writes it:
 * "2024-05-14T10:21:07.000000Z", also with a space, without fraction,
 * zone or with "+00:00".  0, or -1 when it is not one.
 */
int
time_parse_iso(const char *s, int64_t *ms)
{
	struct tm	 tm;
	const char	*p;
	int64_t		 frac = 0;
	int		 i;

	memset(&tm, 0, sizeof tm);
	if ((p = strptime(s, "%Y-%m-%d", &tm)) == NULL ||
	    (*p != 'T' && *p != ' '))
		return (-1);
	if ((p = strptime(p + 1, "%H:%M:%S", &tm)) == NULL)
		return (-1);
	if (*p == '.') {
		p++;
		for (i = 0; i < 3; i++) {
			frac *= 10;
			if (*p >= '0' && *p <= '9')
				frac += *p++ - '0';
		}
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z')
		p++;
	else if (strcmp(p, "+00:00") == 0)
		p += 6;
	if (*p != '\0')
		return (-1);
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return (0);
}
