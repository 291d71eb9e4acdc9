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
