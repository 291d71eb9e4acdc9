/*
 * test-lib.c -- the shared helpers: capped buffers, durations, time
 * formats, identifiers, whole-file reads and "did you mean".
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "lib/lib.h"

/* Adding past the maximum fails and leaves the buffer as it was. */
static void
test_buf_cap(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_add(&b, "abcde", 5), 0);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "abcde");

	/* 5 + 4 > 8: refused, nothing changes. */
	assert_int_equal(buf_add(&b, "fghi", 4), -1);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "abcde");
	assert_int_equal(buf_puts(&b, "xyzw"), -1);
	assert_int_equal(buf_printf(&b, "%d", 1234), -1);
	assert_string_equal(b.data, "abcde");

	/* Exactly up to the maximum is allowed. */
	assert_int_equal(buf_add(&b, "fgh", 3), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "abcdefgh");
	assert_int_equal(buf_add(&b, "i", 1), -1);
	assert_int_equal(buf_add(&b, "", 0), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "abcdefgh");

	/* A single add larger than the maximum (no overflow in the check). */
	buf_reset(&b);
	assert_int_equal(buf_add(&b, "0123456789", 10), -1);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_add(&b, "x", (size_t)-1), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* Without a maximum the buffer grows; data stays NUL-terminated. */
static void
test_buf_grow(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_puts(&b, "0123456789"), 0);
	assert_int_equal(b.len, 10000);
	assert_int_equal(strlen(b.data), 10000);
	assert_int_equal(buf_printf(&b, "-%s-%d", "x", 42), 0);
	assert_string_equal(b.data + 10000, "-x-42");
	/* Binary data with NULs is kept by length. */
	buf_reset(&b);
	assert_int_equal(buf_add(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	buf_free(&b);		/* twice is harmless */
}

/* buf_take hands the data over and leaves an empty, usable buffer. */
static void
test_buf_take_reset(void **state)
{
	struct buf	 b;
	char		*p;

	(void)state;
	buf_init(&b, 16);
	/* An untouched buffer gives an empty string, never NULL. */
	p = buf_take(&b);
	assert_non_null(p);
	assert_string_equal(p, "");
	free(p);

	assert_int_equal(buf_puts(&b, "hello"), 0);
	p = buf_take(&b);
	assert_string_equal(p, "hello");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 16);
	free(p);

	/* Still usable, cap still applies. */
	assert_int_equal(buf_puts(&b, "0123456789abcdef"), 0);
	assert_int_equal(buf_puts(&b, "!"), -1);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_puts(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	buf_free(&b);

	/* Reset of a never-used buffer. */
	buf_init(&b, 0);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* Every unit, bare numbers as seconds, fractions. */
static void
test_duration_units(void **state)
{
	static const struct {
		const char	*in;
		int64_t		 ms;
	} cases[] = {
		{ "0", 0 },
		{ "10", 10000 },
		{ "1.5", 1500 },
		{ "0.001", 1 },
		{ "250ms", 250 },
		{ "0ms", 0 },
		{ "10s", 10000 },
		{ "0.25s", 250 },
		{ "5m", 300000 },
		{ "1.5m", 90000 },
		{ "2h", 7200000 },
		{ "0.5h", 1800000 },
		{ "1d", 86400000 },
		{ "1.5d", 129600000 },
		{ "365d", 31536000000LL },
	};
	int64_t		 ms;
	char		*cause;
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		cause = NULL;
		ms = -1;
		if (time_parse_duration(cases[i].in, &ms, &cause) != 0)
			fail_msg("%s: %s", cases[i].in, cause);
		if (ms != cases[i].ms)
			fail_msg("%s: %lld ms, expected %lld", cases[i].in,
			    (long long)ms, (long long)cases[i].ms);
		assert_null(cause);
	}
}

/* Bad durations fail with a message quoting the text. */
static void
test_duration_errors(void **state)
{
	static const char *const bad[] = {
		"", "s", "ms", "abc", "10x", "10 s", "5mm", "1sec", "-1",
		"-5s", "10S", "nan", "inf", "1e300", "1e20d", "2w",
	};
	int64_t		 ms;
	char		*cause;
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		cause = NULL;
		ms = 1234;
		if (time_parse_duration(bad[i], &ms, &cause) == 0)
			fail_msg("'%s' accepted as %lld ms", bad[i],
			    (long long)ms);
		assert_non_null(cause);
		if (strstr(cause, "invalid duration") == NULL ||
		    strstr(cause, bad[i]) == NULL)
			fail_msg("'%s': unclear message: %s", bad[i], cause);
		assert_int_equal(ms, 1234);	/* untouched */
		free(cause);
	}
	/* A NULL cause is allowed. */
	assert_int_equal(time_parse_duration("bad", &ms, NULL), -1);
}

/* Both formats in UTC, milliseconds only in the ISO one. */
static void
test_time_format(void **state)
{
	char	 s[20], iso[25];

	(void)state;
	time_format(0, s);
	assert_string_equal(s, "1970-01-01 00:00:00");
	time_format_iso(0, iso);
	assert_string_equal(iso, "1970-01-01T00:00:00.000Z");

	/* 2021-03-04 05:06:07.089 UTC */
	time_format(1614834367089LL, s);
	assert_string_equal(s, "2021-03-04 05:06:07");
	time_format_iso(1614834367089LL, iso);
	assert_string_equal(iso, "2021-03-04T05:06:07.089Z");

	/* Leap day, last millisecond of a day. */
	time_format(1709251199999LL, s);
	assert_string_equal(s, "2024-02-29 23:59:59");
	time_format_iso(1709251199999LL, iso);
	assert_string_equal(iso, "2024-02-29T23:59:59.999Z");

	/* The clocks move forward and agree with the format's shape. */
	assert_true(time_now_ms() > 1600000000000LL);
	assert_true(time_mono_ms() <= time_mono_ms());
	time_format(time_now_ms(), s);
	assert_int_equal(strlen(s), 19);
	time_format_iso(time_now_ms(), iso);
	assert_int_equal(strlen(iso), 24);
	assert_int_equal(iso[23], 'Z');
}

/* Random v4 identifiers: well formed, distinct, and validated. */
static void
test_uuid(void **state)
{
	char	 a[UUID_STRLEN], b[UUID_STRLEN];
	char	 bad[UUID_STRLEN + 1];

	(void)state;
	uuid_make(a);
	uuid_make(b);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	assert_int_equal(a[8], '-');
	assert_int_equal(a[13], '-');
	assert_int_equal(a[14], '4');		/* version 4 */
	assert_true(strchr("89ab", a[19]) != NULL);	/* variant */
	assert_int_equal(a[18], '-');
	assert_int_equal(a[23], '-');
	assert_true(uuid_valid(a));
	assert_true(uuid_valid(b));
	assert_true(uuid_valid("123e4567-e89b-12d3-a456-426614174000"));

	assert_false(uuid_valid(NULL));
	assert_false(uuid_valid(""));
	assert_false(uuid_valid("not-a-uuid"));
	assert_false(uuid_valid("123e4567-e89b-12d3-a456-42661417400"));
	assert_false(uuid_valid("123e4567-e89b-12d3-a456-4266141740000"));
	assert_false(uuid_valid("123e4567xe89b-12d3-a456-426614174000"));
	assert_false(uuid_valid("123e4567-e89b-12d3-a456-42661417400g"));
	snprintf(bad, sizeof bad, "%s", a);
	bad[0] = ' ';
	assert_false(uuid_valid(bad));
}

/* Whole-file reads: content, length, the cap and a missing file. */
static void
test_file_read(void **state)
{
	char	 path[] = "/tmp/test-lib.XXXXXX";
	char	*p, *cause = NULL, *big;
	size_t	 len = 0;
	int	 fd;
	FILE	*f;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello\nworld\n", 12), 12);
	close(fd);

	p = file_read(path, 0, &len, &cause);
	assert_non_null(p);
	assert_null(cause);
	assert_int_equal(len, 12);
	assert_string_equal(p, "hello\nworld\n");
	free(p);

	/* Exactly at the cap is fine, one byte less is not. */
	p = file_read(path, 12, NULL, &cause);
	assert_non_null(p);
	assert_string_equal(p, "hello\nworld\n");
	free(p);
	len = 99;
	p = file_read(path, 11, &len, &cause);
	assert_null(p);
	assert_non_null(cause);
	assert_non_null(strstr(cause, path));
	assert_non_null(strstr(cause, "larger than 11 bytes"));
	assert_int_equal(len, 99);
	free(cause);
	cause = NULL;

	/* Larger than one read chunk. */
	f = fopen(path, "w");
	assert_non_null(f);
	big = xmalloc(200000);
	memset(big, 'z', 200000);
	assert_int_equal(fwrite(big, 1, 200000, f), 200000);
	fclose(f);
	p = file_read(path, 0, &len, &cause);
	assert_non_null(p);
	assert_int_equal(len, 200000);
	assert_int_equal(strlen(p), 200000);
	assert_memory_equal(p, big, 200000);
	free(p);
	p = file_read(path, 100000, &len, &cause);
	assert_null(p);
	assert_non_null(strstr(cause, "larger than 100000 bytes"));
	free(cause);
	cause = NULL;
	free(big);

	/* An empty file is an empty string. */
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	p = file_read(path, 10, &len, &cause);
	assert_non_null(p);
	assert_int_equal(len, 0);
	assert_string_equal(p, "");
	free(p);
	unlink(path);

	/* Missing: the path and the system's reason. */
	p = file_read(path, 0, &len, &cause);
	assert_null(p);
	assert_non_null(cause);
	assert_non_null(strstr(cause, path));
	assert_non_null(strstr(cause, "No such file or directory"));
	free(cause);
}

/* "Did you mean": near words are suggested, far ones are not. */
static void
test_closest(void **state)
{
	static const char *const cands[] = {
		"on-success", "on-error", "on-complete", "publish",
		"action", "workflow", "with-items", "retry",
	};
	static const char *const one[] = { "std.echo" };

	(void)state;
	assert_string_equal(lib_closest("on-sucess", cands, nitems(cands)),
	    "on-success");
	assert_string_equal(lib_closest("on_error", cands, nitems(cands)),
	    "on-error");
	assert_string_equal(lib_closest("pubish", cands, nitems(cands)),
	    "publish");
	assert_string_equal(lib_closest("actoin", cands, nitems(cands)),
	    "action");
	assert_string_equal(lib_closest("retry", cands, nitems(cands)),
	    "retry");
	assert_string_equal(lib_closest("with_items", cands, nitems(cands)),
	    "with-items");
	assert_string_equal(lib_closest("std.ecko", one, 1), "std.echo");
	assert_null(lib_closest("zzzzzzzz", cands, nitems(cands)));
	assert_null(lib_closest("input", cands, nitems(cands)));
	assert_null(lib_closest("anything", NULL, 0));
	/* Very long words are never matched (bounded cost). */
	assert_null(lib_closest("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa", cands, nitems(cands)));
}

/* x* helpers: strings are copies, xstrcat appends. */
static void
test_xalloc(void **state)
{
	char	*s, *t;

	(void)state;
	s = xstrcat(NULL, "ab");
	s = xstrcat(s, "cd");
	assert_string_equal(s, "abcd");
	t = xstrndup(s, 3);
	assert_string_equal(t, "abc");
	free(t);
	assert_int_equal(xasprintf(&t, "%s-%d", s, 7), 6);
	assert_string_equal(t, "abcd-7");
	free(t);
	free(s);
}

static void
test_time_parse_iso(void **state)
{
	int64_t	ms;

	assert_int_equal(time_parse_iso("2024-05-14T10:21:07.123456Z", &ms),
	    0);
	assert_true(ms == INT64_C(1715682067123));
	assert_int_equal(time_parse_iso("2024-05-14T10:21:07Z", &ms), 0);
	assert_true(ms == INT64_C(1715682067000));
	assert_int_equal(time_parse_iso("2024-05-14 10:21:07.5", &ms), 0);
	assert_true(ms == INT64_C(1715682067500));
	assert_int_equal(time_parse_iso("2024-05-14T10:21:07+00:00", &ms), 0);
	assert_int_equal(time_parse_iso("2024-05-14", &ms), -1);
	assert_int_equal(time_parse_iso("2024-05-14T10:21:07+02:00", &ms), -1);
	assert_int_equal(time_parse_iso("yesterday", &ms), -1);
}

/* A YAML text as JSON, errors in cause. */
#define Y(t)	yaml_load_json((t), strlen(t), "t.yaml", &cause)

static void
test_yaml_json(void **state)
{
	json_t	*v, *want;
	char	*cause, *deep;

	v = Y("a: 1\nb: [x, 'true', true, ~, 2.5, -3]\n"
	    "c: {d: \"07\", e: null, f: 07}\nempty:\n");
	if (v == NULL)
		fail_msg("%s", cause);
	want = json_loads("{\"a\": 1, \"b\": [\"x\", \"true\", true, null, "
	    "2.5, -3], \"c\": {\"d\": \"07\", \"e\": null, \"f\": 7}, "
	    "\"empty\": null}", 0, NULL);
	assert_true(json_equal(v, want));
	json_decref(want);
	json_decref(v);

	v = Y("");
	assert_true(json_is_null(v));
	json_decref(v);

	/* Errors name the file, line and column. */
	assert_null(Y("a: [1,\n"));
	assert_non_null(strstr(cause, "t.yaml:2:1: "));
	free(cause);
	assert_null(Y("a: 1\na: 2\n"));
	assert_string_equal(cause, "t.yaml:2:1: duplicate key 'a'");
	free(cause);
	assert_null(Y("a: &x 1\nb: *x\n"));
	assert_string_equal(cause, "t.yaml:2:4: aliases are not supported");
	free(cause);
	deep = xmalloc(201);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	deep[200] = '\0';
	assert_null(Y(deep));
	free(deep);
	assert_non_null(strstr(cause, "nested deeper than"));
	free(cause);
}

/* ms of a UTC time "YYYY-MM-DD HH:MM:SS". */
static int64_t
utc(const char *s)
{
	int64_t	 ms;
	char	 iso[32];

	snprintf(iso, sizeof iso, "%.10sT%sZ", s, s + 11);
	assert_int_equal(time_parse_iso(iso, &ms), 0);
	return (ms);
}

/* The tick after from, formatted. */
static const char *
next_of(const char *expr, const char *from)
{
	static char	 out[20];
	struct cron	*c;
	char		*cause = NULL;
	int64_t		 t;

	c = cron_parse(expr, &cause);
	if (c == NULL)
		fail_msg("%s: %s", expr, cause);
	t = cron_next(c, utc(from));
	cron_free(c);
	if (t < 0)
		return ("none");
	time_format(t, out);
	return (out);
}

static void
test_cron_next_ticks(void **state)
{
	(void)state;
	/* Five fields: minutes; the tick is strictly after. */
	assert_string_equal(next_of("* * * * *", "2026-01-01 10:00:00"),
	    "2026-01-01 10:01:00");
	assert_string_equal(next_of("*/15 * * * *", "2026-01-01 10:00:00"),
	    "2026-01-01 10:15:00");
	assert_string_equal(next_of("5-10/2 * * * *", "2026-01-01 10:06:00"),
	    "2026-01-01 10:07:00");
	assert_string_equal(next_of("0 9,17 * * *", "2026-01-01 10:00:00"),
	    "2026-01-01 17:00:00");
	assert_string_equal(next_of("30 2 * * *", "2026-12-31 03:00:00"),
	    "2027-01-01 02:30:00");
	/* Names, Sunday as 0 and as 7, ranges of days. */
	assert_string_equal(next_of("0 0 * * sun", "2026-01-01 00:00:00"),
	    "2026-01-04 00:00:00");
	assert_string_equal(next_of("0 0 * * 7", "2026-01-01 00:00:00"),
	    "2026-01-04 00:00:00");
	assert_string_equal(next_of("0 12 * * mon-fri", "2026-01-03 00:00:00"),
	    "2026-01-05 12:00:00");
	assert_string_equal(next_of("0 0 1 feb,JUN *", "2026-03-01 00:00:00"),
	    "2026-06-01 00:00:00");
	/* Both days restricted: either matches (Vixie cron). */
	assert_string_equal(next_of("0 0 13 * 5", "2026-02-01 00:00:00"),
	    "2026-02-06 00:00:00");
	/* A step from a start: "a/n" runs a, a+n, ... to the end. */
	assert_string_equal(next_of("10/20 * * * *", "2026-01-01 10:31:00"),
	    "2026-01-01 10:50:00");
	/* Shorthands. */
	assert_string_equal(next_of("@hourly", "2026-01-01 10:00:00"),
	    "2026-01-01 11:00:00");
	assert_string_equal(next_of("@daily", "2026-01-01 10:00:00"),
	    "2026-01-02 00:00:00");
	assert_string_equal(next_of("@weekly", "2026-01-01 10:00:00"),
	    "2026-01-04 00:00:00");
	assert_string_equal(next_of("@monthly", "2026-01-31 10:00:00"),
	    "2026-02-01 00:00:00");
	assert_string_equal(next_of("@yearly", "2026-01-31 10:00:00"),
	    "2027-01-01 00:00:00");
	/* Leap days, and a day that never comes. */
	assert_string_equal(next_of("0 0 29 2 *", "2026-03-01 00:00:00"),
	    "2028-02-29 00:00:00");
	assert_string_equal(next_of("0 0 30 2 *", "2026-03-01 00:00:00"),
	    "none");
	/* Six fields: the last is seconds (croniter). */
	assert_string_equal(next_of("* * * * * *", "2026-01-01 10:00:00"),
	    "2026-01-01 10:00:01");
	assert_string_equal(next_of("* * * * * */10", "2026-01-01 10:00:05"),
	    "2026-01-01 10:00:10");
	assert_string_equal(next_of("0 * * * * 30", "2026-01-01 10:00:31"),
	    "2026-01-01 11:00:30");
}

static void
test_cron_errors(void **state)
{
	static const struct {
		const char	*expr;
		const char	*err;
	} bad[] = {
		{ "* * * *", "expected 5 fields" },
		{ "* * * * * * *", "expected 5 fields" },
		{ "61 * * * *", "minute: 61 is out of range 0-59" },
		{ "* 24 * * *", "hour: 24 is out of range 0-23" },
		{ "* * 0 * *", "day of month: 0 is out of range 1-31" },
		{ "* * * 13 *", "month: 13 is out of range 1-12" },
		{ "* * * * 8", "day of week: 8 is out of range 0-7" },
		{ "5-2 * * * *", "minute: range 5-2 goes backwards" },
		{ "*/0 * * * *", "minute: bad step" },
		{ "x * * * *", "minute: unexpected 'x" },
		{ "1;2 * * * *", "minute: unexpected ';2" },
		{ "* * * foo *", "month: unexpected 'foo" },
		{ "@often", "expected 5 fields" },
		{ "", "expected 5 fields" }
	};
	struct cron	*c;
	char		*cause;
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		cause = NULL;
		c = cron_parse(bad[i].expr, &cause);
		assert_null(c);
		assert_non_null(cause);
		if (strstr(cause, bad[i].err) == NULL)
			fail_msg("'%s': got '%s', want '%s'", bad[i].expr,
			    cause, bad[i].err);
		free(cause);
	}
	cause = NULL;
	assert_null(cron_parse(NULL, &cause));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_grow),
		cmocka_unit_test(test_buf_take_reset),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_errors),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_parse_iso),
		cmocka_unit_test(test_yaml_json),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_file_read),
		cmocka_unit_test(test_closest),
		cmocka_unit_test(test_xalloc),
		cmocka_unit_test(test_cron_next_ticks),
		cmocka_unit_test(test_cron_errors),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
