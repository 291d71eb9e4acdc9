/*
 * test-cli.c -- unit tests of the cli module: the output formats
 * (JSON, YAML read back with libyaml, tables, records), "key=value"
 * parsing, state symbols, the decoding of JSON-in-string fields, and
 * the dispatch of cli_main() with its exit statuses.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <yaml.h>

#include "lib/lib.h"
#include "cli/cli.h"
#include "cli/cli-int.h"

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

/* Run fn(f, v) into a string (caller frees). */
static char *
capture(void (*fn)(FILE *, json_t *), json_t *v)
{
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&s, &len);
	assert_non_null(f);
	fn(f, v);
	fclose(f);
	return (s);
}

/* A table into a string (caller frees). */
static char *
capture_table(json_t *rows, const char *const *cols, size_t ncols)
{
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&s, &len);
	assert_non_null(f);
	cli_print_table(f, rows, cols, ncols);
	fclose(f);
	return (s);
}

/* A plain YAML 1.1 scalar as a reader would resolve it. */
static json_t *
yaml_plain(const char *s)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const trues[] = {
		"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON",
		"y", "Y"
	};
	static const char *const falses[] = {
		"false", "False", "FALSE", "no", "No", "NO", "off", "Off",
		"OFF", "n", "N"
	};
	char	*end;
	double	 d;
	long long ll;
	size_t	 i;

	for (i = 0; i < nitems(nulls); i++)
		if (strcmp(s, nulls[i]) == 0)
			return (json_null());
	for (i = 0; i < nitems(trues); i++)
		if (strcmp(s, trues[i]) == 0)
			return (json_true());
	for (i = 0; i < nitems(falses); i++)
		if (strcmp(s, falses[i]) == 0)
			return (json_false());
	ll = strtoll(s, &end, 10);
	if (*end == '\0')
		return (json_integer(ll));
	d = strtod(s, &end);
	if (*end == '\0')
		return (json_real(d));
	return (json_string(s));
}

/* A libyaml node as JSON, resolving plain scalars like YAML 1.1. */
static json_t *
yaml_to_json(yaml_document_t *doc, yaml_node_t *n)
{
	yaml_node_item_t	*it;
	yaml_node_pair_t	*pr;
	yaml_node_t		*k;
	json_t			*v;

	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return (yaml_plain((char *)n->data.scalar.value));
		return (json_stringn((char *)n->data.scalar.value,
		    n->data.scalar.length));
	case YAML_SEQUENCE_NODE:
		v = json_array();
		for (it = n->data.sequence.items.start;
		    it < n->data.sequence.items.top; it++) {
			json_array_append_new(v, yaml_to_json(doc,
			    yaml_document_get_node(doc, *it)));
		}
		return (v);
	case YAML_MAPPING_NODE:
		v = json_object();
		for (pr = n->data.mapping.pairs.start;
		    pr < n->data.mapping.pairs.top; pr++) {
			k = yaml_document_get_node(doc, pr->key);
			assert_int_equal(k->type, YAML_SCALAR_NODE);
			json_object_set_new(v, (char *)k->data.scalar.value,
			    yaml_to_json(doc, yaml_document_get_node(doc,
			    pr->value)));
		}
		return (v);
	default:
		fail_msg("unexpected YAML node");
	}
	return (NULL);
}

/* Print v as YAML, read it back with libyaml, and compare. */
static void
assert_yaml_roundtrip(json_t *v)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
	json_t		*back;
	char		*text, *a, *b;

	text = capture(cli_print_yaml, v);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (unsigned char *)text,
	    strlen(text));
	if (!yaml_parser_load(&parser, &doc))
		fail_msg("YAML does not parse (%s):\n%s", parser.problem, text);
	back = yaml_to_json(&doc, yaml_document_get_root_node(&doc));
	if (!json_equal(v, back)) {
		a = json_dumps(v, JSON_ENCODE_ANY);
		b = json_dumps(back, JSON_ENCODE_ANY);
		fail_msg("YAML round trip differs:\n%s\nwant %s\ngot  %s",
		    text, a, b);
	}
	json_decref(back);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(text);
}

/*
 * Run cli_main with stdout and stderr captured into *out and *err
 * (caller frees); returns its exit status.
 */
static int
run_cli(char **out, char **err, int argc, ...)
{
	char	**argv, *text;
	va_list	 ap;
	FILE	*fo, *fe;
	int	 so, se, i, rc;
	long	 len;

	argv = xcalloc(argc + 1, sizeof *argv);
	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);

	fflush(stdout);
	fflush(stderr);
	fo = tmpfile();
	fe = tmpfile();
	so = dup(1);
	se = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	rc = cli_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);

	for (i = 0; i < 2; i++) {
		FILE *f = i == 0 ? fo : fe;
		len = ftell(f);
		text = xcalloc(1, len + 1);
		rewind(f);
		if (len > 0)
			assert_int_equal(fread(text, 1, len, f), (size_t)len);
		fclose(f);
		*(i == 0 ? out : err) = text;
	}
	free(argv);
	cli_url = "http://127.0.0.1:8989";
	cli_token = NULL;
	cli_fmt = CLI_FMT_TABLE;
	return (rc);
}

/* ------------------------------------------------------------------ */
/* Formats.                                                            */

static void
format_names_parse_and_unknown_is_rejected(void **state)
{
	(void)state;
	assert_int_equal(cli_format_parse("table"), CLI_FMT_TABLE);
	assert_int_equal(cli_format_parse("json"), CLI_FMT_JSON);
	assert_int_equal(cli_format_parse("yaml"), CLI_FMT_YAML);
	assert_int_equal(cli_format_parse("xml"), -1);
	assert_int_equal(cli_format_parse(""), -1);
}

static void
json_is_pretty_and_ends_with_newline(void **state)
{
	json_t	*v;
	char	*s;

	(void)state;
	v = json_pack("{s:i, s:[s]}", "a", 1, "b", "x");
	s = capture(cli_print_json, v);
	assert_string_equal(s,
	    "{\n  \"a\": 1,\n  \"b\": [\n    \"x\"\n  ]\n}\n");
	free(s);
	json_decref(v);

	v = json_string("caf\xc3\xa9");
	s = capture(cli_print_json, v);
	assert_string_equal(s, "\"caf\xc3\xa9\"\n");
	free(s);
	json_decref(v);
}

static void
yaml_is_block_style(void **state)
{
	json_t	*v;
	char	*s;

	(void)state;
	v = json_loads("{\"name\": \"wf\", \"tasks\": [{\"a\": 1, \"b\": "
	    "[true, null]}, \"x\"], \"empty\": {}, \"none\": []}", 0, NULL);
	s = capture(cli_print_yaml, v);
	assert_string_equal(s,
	    "name: wf\n"
	    "tasks:\n"
	    "- a: 1\n"
	    "  b:\n"
	    "  - true\n"
	    "  - null\n"
	    "- x\n"
	    "empty: {}\n"
	    "none: []\n");
	free(s);
	json_decref(v);
}

static void
yaml_quotes_strings_that_would_change_type(void **state)
{
	static const char *const strs[] = {
		"", "null", "~", "true", "False", "yes", "NO", "on", "off",
		"y", "n", "123", "-4", "1.5", "1e3", ".5", "0x1f", ".inf",
		"2024-01-01 10:00:00", "12:30", "- item", "key: value",
		"# comment", "a #b", "trailing:", "*alias", "&anchor",
		"!tag", "|", ">", "'single'", "\"double\"", "{flow}",
		"[flow]", "%directive", "@at", "`tick", " lead", "trail ",
		"tab\there", "back\\slash", "bell\a", "caf\xc3\xa9",
		"<% $.vm_id %>", "std.echo output=x", "a: b: c", "?"
	};
	json_t	*v;
	size_t	 i;

	(void)state;
	for (i = 0; i < nitems(strs); i++) {
		v = json_pack("{s:s, s:[s]}", "k", strs[i], "l", strs[i]);
		assert_yaml_roundtrip(v);
		json_decref(v);
	}
}

static void
yaml_plain_strings_stay_unquoted(void **state)
{
	json_t	*v;
	char	*s;

	(void)state;
	v = json_pack("{s:s, s:s, s:s}", "state", "SUCCESS", "action",
	    "std.echo output=x", "expr", "<% $.vm_id %>");
	s = capture(cli_print_yaml, v);
	assert_string_equal(s, "state: SUCCESS\naction: std.echo output=x\n"
	    "expr: <% $.vm_id %>\n");
	free(s);
	json_decref(v);

	/* A long line stays one line: scripts grep it. */
	v = json_pack("{s:s}", "state_info", "Failed to run action std.http "
	    "on http://example.invalid/a/very/long/path: Could not resolve "
	    "host: example.invalid (and a few more words to pass 120)");
	s = capture(cli_print_yaml, v);
	assert_non_null(strstr(s, "\n"));
	assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1);
	free(s);
	assert_yaml_roundtrip(v);
	json_decref(v);
}

static void
yaml_multiline_strings_are_literal_blocks(void **state)
{
	static const char *const strs[] = {
		"version: '2.0'\nname: x\n",
		"no final newline\nsecond",
		"two final newlines\n\n",
		"blank\n\nline\n",
		"deeper\n    indented\nback\n",
		" leading space\nline\n",
		"trailing space \nline\n",
		"\nstarts with newline\n",
	};
	json_t	*v;
	char	*s;
	size_t	 i;

	(void)state;
	v = json_pack("{s:s}", "definition", strs[0]);
	s = capture(cli_print_yaml, v);
	assert_string_equal(s, "definition: |\n  version: '2.0'\n  name: x\n");
	free(s);
	json_decref(v);

	for (i = 0; i < nitems(strs); i++) {
		v = json_pack("{s:s, s:[s], s:{s:s}}", "k", strs[i], "l",
		    strs[i], "o", "deep", strs[i]);
		assert_yaml_roundtrip(v);
		json_decref(v);
	}
}

static void
yaml_roundtrips_nested_values(void **state)
{
	json_t	*v;

	(void)state;
	v = json_loads("{\"a\": [[1, [2, {}]], {\"b\": [], \"c\": {\"d\": "
	    "-1.25}}], \"odd key: x\": \"v\", \"\": 0, \"n\": null, "
	    "\"list\": [{\"x\": {\"y\": [\"z\"]}}]}", 0, NULL);
	assert_non_null(v);
	assert_yaml_roundtrip(v);
	json_decref(v);

	v = json_loads("[1, \"two\", [3]]", 0, NULL);
	assert_yaml_roundtrip(v);
	json_decref(v);
	v = json_string("just a string");
	assert_yaml_roundtrip(v);
	json_decref(v);
}

static void
table_aligns_columns_and_marks_missing_values(void **state)
{
	static const char *const cols[] = { "id", "workflow_name", "state" };
	json_t	*rows;
	char	*s;

	(void)state;
	cli_set_utf8(0);
	rows = json_loads("[{\"id\": \"a1\", \"workflow_name\": \"evacuate\","
	    " \"state\": \"RUNNING\"}, {\"id\": \"b22222\", \"state\": null}]",
	    0, NULL);
	s = capture_table(rows, cols, nitems(cols));
	assert_string_equal(s,
	    "ID      WORKFLOW NAME  STATE\n"
	    "a1      evacuate       RUNNING\n"
	    "b22222  -              -\n");
	free(s);
	json_decref(rows);
	cli_set_utf8(-1);
}

static void
table_counts_utf8_characters_and_cuts_long_cells(void **state)
{
	static const char *const cols[] = { "name", "info" };
	json_t	*rows;
	char	*s, long_text[201];

	(void)state;
	memset(long_text, 'x', 200);
	long_text[200] = '\0';
	rows = json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "caf\xc3\xa9",
	    "info", long_text, "name", "ab", "info", "multi\nline");

	cli_set_utf8(0);
	s = capture_table(rows, cols, nitems(cols));
	/* "café" is 4 characters wide: "ab" gets 2 spaces of padding. */
	assert_non_null(strstr(s, "\ncaf\xc3\xa9  xxx"));
	assert_non_null(strstr(s, "\nab    multi line\n"));
	/* The 200-character cell is cut to 60 with "...". */
	assert_non_null(strstr(s, "xxx...\n"));
	assert_null(strstr(s, long_text));
	assert_int_equal(strlen(strchr(s, '\n') + 1), 7 + 60 + 1 + 17);
	free(s);

	cli_set_utf8(1);
	s = capture_table(rows, cols, nitems(cols));
	assert_non_null(strstr(s, "x\xe2\x80\xa6\n"));
	free(s);
	cli_set_utf8(-1);
	json_decref(rows);
}

static void
table_of_no_rows_prints_the_header(void **state)
{
	static const char *const cols[] = { "id", "name" };
	json_t	*rows;
	char	*s;

	(void)state;
	rows = json_array();
	s = capture_table(rows, cols, nitems(cols));
	assert_string_equal(s, "ID  NAME\n");
	free(s);
	json_decref(rows);
}

static void
record_aligns_fields_and_indents_multiline_values(void **state)
{
	json_t	*v;
	char	*s;

	(void)state;
	v = json_pack("{s:s, s:s, s:n, s:{s:i}, s:s}", "id", "x1",
	    "definition", "a: 1\nb: 2\n", "state_info", "input", "n", 1,
	    "namespace", "");
	s = capture(cli_print_record, v);
	assert_string_equal(s,
	    "FIELD       VALUE\n"
	    "id          x1\n"
	    "definition  a: 1\n"
	    "            b: 2\n"
	    "state_info  -\n"
	    "input       {\"n\":1}\n"
	    "namespace\n");
	free(s);
	json_decref(v);
}

/* ------------------------------------------------------------------ */
/* key=value, symbols, decoding.                                       */

static void
kv_values_are_json_when_they_parse(void **state)
{
	json_t	*obj, *want;
	char	*cause;

	(void)state;
	obj = json_object();
	assert_int_equal(cli_parse_kv(obj, "n=42", &cause), 0);
	assert_int_equal(cli_parse_kv(obj, "b=true", &cause), 0);
	assert_int_equal(cli_parse_kv(obj, "l=[1,\"a\"]", &cause), 0);
	assert_int_equal(cli_parse_kv(obj, "o={\"k\": null}", &cause), 0);
	assert_int_equal(cli_parse_kv(obj, "s=hello world", &cause), 0);
	assert_int_equal(cli_parse_kv(obj, "e=", &cause), 0);
	assert_int_equal(cli_parse_kv(obj, "eq=a=b", &cause), 0);
	assert_int_equal(cli_parse_kv(obj, "q=\"7\"", &cause), 0);
	assert_int_equal(cli_parse_kv(obj, "bad=[1,", &cause), 0);
	want = json_loads("{\"n\": 42, \"b\": true, \"l\": [1, \"a\"], "
	    "\"o\": {\"k\": null}, \"s\": \"hello world\", \"e\": \"\", "
	    "\"eq\": \"a=b\", \"q\": \"7\", \"bad\": \"[1,\"}", 0, NULL);
	assert_true(json_equal(obj, want));
	json_decref(want);

	/* A later value of the same key replaces the earlier one. */
	assert_int_equal(cli_parse_kv(obj, "n=43", &cause), 0);
	assert_int_equal(json_integer_value(json_object_get(obj, "n")), 43);
	json_decref(obj);
}

static void
kv_without_key_or_equals_is_an_error(void **state)
{
	json_t	*obj;
	char	*cause = NULL;

	(void)state;
	obj = json_object();
	assert_int_equal(cli_parse_kv(obj, "novalue", &cause), -1);
	assert_non_null(strstr(cause, "novalue"));
	free(cause);
	assert_int_equal(cli_parse_kv(obj, "=1", &cause), -1);
	free(cause);
	assert_int_equal(json_object_size(obj), 0);
	json_decref(obj);
}

static void
state_symbols_are_ascii_unless_utf8(void **state)
{
	(void)state;
	cli_set_utf8(0);
	assert_string_equal(cli_state_symbol("SUCCESS"), "+");
	assert_string_equal(cli_state_symbol("ERROR"), "x");
	assert_string_equal(cli_state_symbol("RUNNING"), ">");
	assert_string_equal(cli_state_symbol("PAUSED"), "=");
	assert_string_equal(cli_state_symbol("IDLE"), "o");
	assert_string_equal(cli_state_symbol("NOPE"), "?");
	assert_string_equal(cli_state_symbol(NULL), "?");
	cli_set_utf8(1);
	assert_string_equal(cli_state_symbol("SUCCESS"), "\xe2\x9c\x93");
	assert_string_equal(cli_state_symbol("ERROR"), "\xe2\x9c\x97");
	assert_string_equal(cli_state_symbol("RUNNING"), "\xe2\x96\xb6");
	assert_string_equal(cli_state_symbol("WAITING"), "\xe2\x80\xa6");
	assert_string_equal(cli_state_symbol("PAUSED"), "\xe2\x8f\xb8");
	assert_string_equal(cli_state_symbol("IDLE"), "\xe2\x97\x8b");
	/* Not a terminal (the test's stdout is a file or pipe): ASCII. */
	cli_set_utf8(-1);
	if (!isatty(STDOUT_FILENO))
		assert_string_equal(cli_state_symbol("SUCCESS"), "+");
}

static void
json_in_string_fields_are_decoded(void **state)
{
	json_t	*v, *want;

	(void)state;
	v = json_loads("{\"id\": \"1\", \"input\": \"{\\\"a\\\": 1}\", "
	    "\"output\": \"{}\", \"result\": \"\\\"Hello\\\"\", "
	    "\"published\": \"[1, 2]\", \"state_info\": \"{\\\"x\\\": 1}\", "
	    "\"params\": {\"env\": {}}, \"interface\": \"not json\"}",
	    0, NULL);
	assert_non_null(v);
	cli_decode_fields(v);
	want = json_loads("{\"id\": \"1\", \"input\": {\"a\": 1}, \"output\": "
	    "{}, \"result\": \"Hello\", \"published\": [1, 2], "
	    "\"state_info\": \"{\\\"x\\\": 1}\", \"params\": {\"env\": {}}, "
	    "\"interface\": \"not json\"}", 0, NULL);
	assert_true(json_equal(v, want));
	json_decref(v);
	json_decref(want);

	v = json_loads("[{\"output\": \"3\"}, 5, {\"input\": \"x\"}]", 0, NULL);
	cli_decode_fields(v);
	want = json_loads("[{\"output\": 3}, 5, {\"input\": \"x\"}]", 0, NULL);
	assert_true(json_equal(v, want));
	json_decref(v);
	json_decref(want);
}

static void
durations_read_api_times(void **state)
{
	char	 d[32];

	(void)state;
	assert_int_equal(cli_time_diff("2024-05-01 10:00:00",
	    "2024-05-01 11:02:05"), 3725);
	assert_int_equal(cli_time_diff("bad", "2024-05-01 11:02:05"), -1);
	cli_duration(12, d, sizeof d);
	assert_string_equal(d, "12s");
	cli_duration(185, d, sizeof d);
	assert_string_equal(d, "3m05s");
	cli_duration(3725, d, sizeof d);
	assert_string_equal(d, "1h02m");
	cli_duration(-1, d, sizeof d);
	assert_string_equal(d, "-");
	assert_true(cli_state_final("CANCELLED"));
	assert_false(cli_state_final("PAUSED"));
	assert_int_equal(cli_state_exit("SUCCESS"), CLI_EXIT_OK);
	assert_int_equal(cli_state_exit("ERROR"), CLI_EXIT_FAIL);
}

/* ------------------------------------------------------------------ */
/* Dispatch.                                                           */

static void
unknown_command_suggests_the_closest_and_exits_2(void **state)
{
	char	*out, *err;

	(void)state;
	assert_int_equal(run_cli(&out, &err, 2, "bora", "exection"),
	    CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "unknown command 'exection' "
	    "(did you mean 'execution'?)"));
	free(out);
	free(err);

	assert_int_equal(run_cli(&out, &err, 3, "bora", "execution", "strat"),
	    CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "(did you mean 'execution start'?)"));
	free(out);
	free(err);

	assert_int_equal(run_cli(&out, &err, 2, "bora", "zzzzzzzzzz"),
	    CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "unknown command 'zzzzzzzzzz'"));
	assert_null(strstr(err, "did you mean"));
	free(out);
	free(err);
}

static void
help_lists_commands_and_each_command_has_help(void **state)
{
	const struct cli_cmd	*c;
	char			*out, *err, *w1, *w2;

	(void)state;
	assert_int_equal(run_cli(&out, &err, 2, "bora", "--help"), 0);
	assert_non_null(strstr(out, "execution watch"));
	assert_non_null(strstr(out, "validate"));
	free(out);
	free(err);

	for (c = cli_client_cmds; c->name != NULL; c++) {
		w1 = xstrdup(c->name);
		w2 = strchr(w1, ' ');
		assert_non_null(w2);
		*w2++ = '\0';
		assert_int_equal(run_cli(&out, &err, 4, "bora", w1, w2,
		    "--help"), 0);
		assert_true(strncmp(out, "usage: bora ", 12) == 0);
		assert_non_null(strstr(out, c->name));
		assert_non_null(strstr(out, "--url URL"));
		free(out);
		free(err);
		assert_int_equal(run_cli(&out, &err, 4, "bora", "help", w1,
		    w2), 0);
		assert_non_null(strstr(out, c->args));
		free(out);
		free(err);
		free(w1);
	}
	assert_int_equal(run_cli(&out, &err, 3, "bora", "run", "--help"), 0);
	assert_non_null(strstr(out, "usage: bora run FILE"));
	free(out);
	free(err);
	assert_int_equal(run_cli(&out, &err, 2, "bora", "-V"), 0);
	assert_string_equal(out, "bora " PACKAGE_VERSION "\n");
	free(out);
	free(err);
}

static void
usage_errors_exit_2(void **state)
{
	char	*out, *err;

	(void)state;
	assert_int_equal(run_cli(&out, &err, 1, "bora"), CLI_EXIT_USAGE);
	free(out);
	free(err);
	assert_int_equal(run_cli(&out, &err, 3, "bora", "execution", "get"),
	    CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "usage: bora execution get ID"));
	free(out);
	free(err);
	assert_int_equal(run_cli(&out, &err, 5, "bora", "execution", "start",
	    "wf", "-i"), CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "needs a value"));
	free(out);
	free(err);
	assert_int_equal(run_cli(&out, &err, 6, "bora", "execution", "start",
	    "wf", "--input", "[1]"), CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "not a JSON object"));
	free(out);
	free(err);
	assert_int_equal(run_cli(&out, &err, 5, "bora", "-f", "xml",
	    "workflow", "list"), CLI_EXIT_USAGE);
	free(out);
	free(err);
	assert_int_equal(run_cli(&out, &err, 4, "bora", "workflow", "list",
	    "--nope"), CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "unknown option '--nope'"));
	free(out);
	free(err);
}

static void
unreachable_server_exits_3_and_says_so(void **state)
{
	char	*out, *err;

	(void)state;
	/* Port 1 on the loopback: nothing listens, the connection fails. */
	assert_int_equal(run_cli(&out, &err, 5, "bora", "--url",
	    "http://127.0.0.1:1", "workflow", "list"), CLI_EXIT_UNREACHABLE);
	assert_non_null(strstr(err, "bora: cannot reach http://127.0.0.1:1: "
	    "Connection refused"));
	assert_non_null(strstr(err, "is borad running?"));
	assert_string_equal(out, "");
	free(out);
	free(err);
}

/* Write text to a new temporary file; its path (caller frees). */
static char *
temp_file(const char *suffix, const char *text)
{
	char	*path;
	int	 fd;

	xasprintf(&path, "/tmp/test-cli-XXXXXX%s", suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return (path);
}

static void
run_without_a_workflow_name_runs_the_first_of_the_file(void **state)
{
	char	*file, *wb, *db, *dbarg, *out, *err, *p;

	(void)state;
	file = temp_file(".yaml", "version: '2.0'\n"
	    "second_wf:\n  tasks:\n    a:\n      action: std.echo "
	    "output=second\n"
	    "first_wf:\n  tasks:\n    a:\n      action: std.echo "
	    "output=first\n");
	wb = temp_file(".yaml", "version: '2.0'\nname: wbx\nworkflows:\n"
	    "  zeta:\n    tasks:\n      a:\n        action: std.echo "
	    "output=z\n"
	    "  alpha:\n    tasks:\n      a:\n        action: std.echo "
	    "output=a\n");
	db = temp_file(".db", "");
	unlink(db);
	xasprintf(&dbarg, "sqlite:%s", db);

	assert_int_equal(run_cli(&out, &err, 7, "bora", "-f", "json", "run",
	    file, "--db", dbarg), CLI_EXIT_OK);
	assert_non_null(strstr(out, "\"workflow_name\": \"second_wf\""));
	assert_null(strstr(err, "several"));
	free(out);
	free(err);

	assert_int_equal(run_cli(&out, &err, 7, "bora", "-f", "json", "run",
	    wb, "--db", dbarg), CLI_EXIT_OK);
	assert_non_null(strstr(out, "\"workflow_name\": \"wbx.zeta\""));
	free(out);
	free(err);

	/* A name still picks the other one. */
	assert_int_equal(run_cli(&out, &err, 8, "bora", "-f", "json", "run",
	    file, "first_wf", "--db", dbarg), CLI_EXIT_OK);
	assert_non_null(strstr(out, "\"workflow_name\": \"first_wf\""));
	free(out);
	free(err);

	/* What --help promises. */
	assert_int_equal(run_cli(&out, &err, 3, "bora", "run", "--help"), 0);
	for (p = out; *p != '\0'; p++) {
		if (*p == '\n')
			*p = ' ';
	}
	assert_non_null(strstr(out, "the only or first workflow"));
	free(out);
	free(err);

	unlink(file);
	unlink(wb);
	xasprintf(&p, "%s-wal", db);
	unlink(p);
	free(p);
	xasprintf(&p, "%s-shm", db);
	unlink(p);
	free(p);
	unlink(db);
	free(file);
	free(wb);
	free(db);
	free(dbarg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_names_parse_and_unknown_is_rejected),
		cmocka_unit_test(json_is_pretty_and_ends_with_newline),
		cmocka_unit_test(yaml_is_block_style),
		cmocka_unit_test(yaml_quotes_strings_that_would_change_type),
		cmocka_unit_test(yaml_plain_strings_stay_unquoted),
		cmocka_unit_test(yaml_multiline_strings_are_literal_blocks),
		cmocka_unit_test(yaml_roundtrips_nested_values),
		cmocka_unit_test(table_aligns_columns_and_marks_missing_values),
		cmocka_unit_test(
		    table_counts_utf8_characters_and_cuts_long_cells),
		cmocka_unit_test(table_of_no_rows_prints_the_header),
		cmocka_unit_test(
		    record_aligns_fields_and_indents_multiline_values),
		cmocka_unit_test(kv_values_are_json_when_they_parse),
		cmocka_unit_test(kv_without_key_or_equals_is_an_error),
		cmocka_unit_test(state_symbols_are_ascii_unless_utf8),
		cmocka_unit_test(json_in_string_fields_are_decoded),
		cmocka_unit_test(durations_read_api_times),
		cmocka_unit_test(
		    unknown_command_suggests_the_closest_and_exits_2),
		cmocka_unit_test(help_lists_commands_and_each_command_has_help),
		cmocka_unit_test(usage_errors_exit_2),
		cmocka_unit_test(unreachable_server_exits_3_and_says_so),
		cmocka_unit_test(
		    run_without_a_workflow_name_runs_the_first_of_the_file),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
