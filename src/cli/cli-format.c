/*
 * cli-format.c -- output formats of the bora command line: pretty JSON,
 * block-style YAML (written by libyaml's emitter), aligned tables,
 * records, state symbols, and the "key=value" arguments of -i.
 *
 * Tables are for people; JSON and YAML are for scripts, so they print
 * every field unchanged (after decoding the JSON-in-string fields).
 */
#include "config.h"

#include <ctype.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <yaml.h>

#include "lib/lib.h"
#include "cli/cli.h"

#define CLI_CELL_MAX	60	/* table cells are cut at this width */
#define CLI_RECORD_WRAP	60	/* longer JSON values print pretty */

static int	 cli_yaml_emit(yaml_emitter_t *, json_t *);
static int	 cli_yaml_string(yaml_emitter_t *, const char *, size_t);
static int	 cli_yaml_typed(const char *);
static char	*cli_cell(json_t *, size_t);
static char	*cli_cut(const char *, size_t);

static int	 cli_utf8_on = -1;

/* A state's symbol in UTF-8 and in ASCII. */
static const struct cli_state_sym {
	const char	*state;
	const char	*utf8;
	const char	*ascii;
} cli_state_syms[] = {
	{ "SUCCESS",		"\xe2\x9c\x93", "+" },	/* ✓ */
	{ "ERROR",		"\xe2\x9c\x97", "x" },	/* ✗ */
	{ "CANCELLED",		"\xe2\x8a\x98", "-" },	/* ⊘ */
	{ "RUNNING",		"\xe2\x96\xb6", ">" },	/* ▶ */
	{ "RUNNING_DELAYED",	"\xe2\x80\xa6", "~" },	/* … */
	{ "WAITING",		"\xe2\x80\xa6", "~" },	/* … */
	{ "PAUSED",		"\xe2\x8f\xb8", "=" },	/* ⏸ */
	{ "IDLE",		"\xe2\x97\x8b", "o" },	/* ○ */
};

/* Fields the API sends as JSON text inside the JSON. */
static const char *const cli_json_fields[] = {
	"input", "output", "params", "published", "published_global",
	"result", "runtime_context", "interface", "env"
};

/* "table", "json", "yaml" to a format; -1 when unknown. */
int
cli_format_parse(const char *s)
{
	if (strcmp(s, "table") == 0)
		return (CLI_FMT_TABLE);
	if (strcmp(s, "json") == 0)
		return (CLI_FMT_JSON);
	if (strcmp(s, "yaml") == 0 || strcmp(s, "yml") == 0)
		return (CLI_FMT_YAML);
	return (-1);
}

/* Pretty JSON of any value, then a newline. */
void
cli_print_json(FILE *f, json_t *v)
{
	if (v == NULL) {
		fputs("null\n", f);
		return;
	}
	json_dumpf(v, f, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', f);
}

/*
 * Block-style YAML of any value, as one document, written by libyaml's
 * emitter: it chooses the quoting a string needs, and only strings a
 * reader would take for another type (true, 12, null...) are forced
 * into quotes here.
 */
void
cli_print_yaml(FILE *f, json_t *v)
{
	yaml_emitter_t	 em;
	yaml_event_t	 ev;
	int		 ok;

	if (!yaml_emitter_initialize(&em))
		fatalx("yaml_emitter_initialize failed");
	yaml_emitter_set_output_file(&em, f);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);	/* never fold long lines */
	yaml_emitter_set_indent(&em, 2);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	    yaml_emitter_emit(&em, &ev) &&
	    cli_yaml_emit(&em, v) == 0 &&
	    yaml_document_end_event_initialize(&ev, 1) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_stream_end_event_initialize(&ev) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_emitter_flush(&em);
	if (!ok && em.problem != NULL)
		log_warnx("YAML output: %s", em.problem);
	yaml_emitter_delete(&em);
}

/*
 * Emit one value: objects and arrays in block style (empty ones as {}
 * and []), scalars as they are.  Returns 0, or -1 when the emitter
 * failed (em->problem says why).
 */
static int
cli_yaml_emit(yaml_emitter_t *em, json_t *v)
{
	yaml_event_t	 ev;
	const char	*key;
	json_t		*item;
	size_t		 i;
	char		*text;
	int		 ok;

	if (json_is_object(v)) {
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    json_object_size(v) == 0 ? YAML_FLOW_MAPPING_STYLE :
		    YAML_BLOCK_MAPPING_STYLE) || !yaml_emitter_emit(em, &ev))
			return (-1);
		json_object_foreach(v, key, item) {
			if (cli_yaml_string(em, key, strlen(key)) != 0 ||
			    cli_yaml_emit(em, item) != 0)
				return (-1);
		}
		if (!yaml_mapping_end_event_initialize(&ev) ||
		    !yaml_emitter_emit(em, &ev))
			return (-1);
		return (0);
	}
	if (json_is_array(v)) {
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    json_array_size(v) == 0 ? YAML_FLOW_SEQUENCE_STYLE :
		    YAML_BLOCK_SEQUENCE_STYLE) || !yaml_emitter_emit(em, &ev))
			return (-1);
		json_array_foreach(v, i, item) {
			if (cli_yaml_emit(em, item) != 0)
				return (-1);
		}
		if (!yaml_sequence_end_event_initialize(&ev) ||
		    !yaml_emitter_emit(em, &ev))
			return (-1);
		return (0);
	}
	if (json_is_string(v))
		return (cli_yaml_string(em, json_string_value(v),
		    json_string_length(v)));

	/* null, booleans and numbers: plain, as JSON writes them. */
	if (v == NULL || json_is_null(v))
		text = xstrdup("null");
	else if ((text = json_dumps(v, JSON_ENCODE_ANY)) == NULL)
		text = xstrdup("null");
	ok = yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)text, (int)strlen(text), 1, 1,
	    YAML_PLAIN_SCALAR_STYLE) && yaml_emitter_emit(em, &ev);
	free(text);
	return (ok ? 0 : -1);
}

/*
 * Emit a string.  Multi-line text asks for a literal block; a string a
 * reader would resolve to another type is double-quoted; libyaml quotes
 * whatever else cannot stay plain or literal.
 */
static int
cli_yaml_string(yaml_emitter_t *em, const char *s, size_t len)
{
	yaml_event_t		 ev;
	yaml_scalar_style_t	 style = YAML_ANY_SCALAR_STYLE;

	if (memchr(s, '\n', len) != NULL)
		style = YAML_LITERAL_SCALAR_STYLE;
	else if (cli_yaml_typed(s))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
	    (int)len, style != YAML_DOUBLE_QUOTED_SCALAR_STYLE, 1, style))
		return (-1);
	return (yaml_emitter_emit(em, &ev) ? 0 : -1);
}

/*
 * Whether a plain scalar s would be read back as something other than
 * a string (YAML 1.1 and 1.2 resolvers): null, a boolean, a number, a
 * date or time, or the merge and value keys.
 */
static int
cli_yaml_typed(const char *s)
{
	static const char *const words[] = {
		"", "null", "~", "true", "false", "yes", "no", "on", "off",
		"y", "n", ".inf", "-.inf", "+.inf", ".nan", "<<", "="
	};
	size_t	 i;

	for (i = 0; i < nitems(words); i++) {
		if (strcasecmp(s, words[i]) == 0)
			return (1);
	}
	/* Anything that starts like a number, date or time. */
	if (isdigit((unsigned char)s[0]))
		return (1);
	if ((s[0] == '-' || s[0] == '+' || s[0] == '.') &&
	    (isdigit((unsigned char)s[1]) || s[1] == '.'))
		return (1);
	return (0);
}

/* Width of a UTF-8 string in characters (continuation bytes skipped). */
size_t
cli_strwidth(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return (n);
}

/* Copy of s cut at max characters, ending in an ellipsis when cut. */
static char *
cli_cut(const char *s, size_t max)
{
	const char	*p, *dots;
	size_t		 n = 0;
	char		*out;

	if (cli_strwidth(s) <= max)
		return (xstrdup(s));
	dots = cli_utf8() ? "\xe2\x80\xa6" : "...";
	if (max < cli_strwidth(dots) + 1)
		max = cli_strwidth(dots) + 1;
	max -= cli_strwidth(dots);
	for (p = s; *p != '\0'; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && n++ == max)
			break;
	}
	xasprintf(&out, "%.*s%s", (int)(p - s), s, dots);
	return (out);
}

/* A value on one line for a table cell, at most max characters. */
static char *
cli_cell(json_t *v, size_t max)
{
	char	*text, *p, *out;

	if (v == NULL || json_is_null(v))
		return (xstrdup("-"));
	if (json_is_string(v))
		text = xstrdup(json_string_value(v));
	else {
		text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		if (text == NULL)
			text = xstrdup("?");
	}
	for (p = text; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	}
	if (max == 0)
		return (text);
	out = cli_cut(text, max);
	free(text);
	return (out);
}

/*
 * A table of rows (array of objects) over cols, with a header of the
 * column names in capitals; columns are aligned on display width and
 * cells are cut at CLI_CELL_MAX characters.
 */
void
cli_print_table(FILE *f, json_t *rows, const char *const *cols, size_t ncols)
{
	cli_print_table_cut(f, rows, cols, ncols, 0);
}

/* The same, the last column's cells whole when whole_last is set. */
void
cli_print_table_cut(FILE *f, json_t *rows, const char *const *cols,
    size_t ncols, int whole_last)
{
	char	**cells, *p;
	size_t	 nrows, r, c, *width, w;

	nrows = json_is_array(rows) ? json_array_size(rows) : 0;
	cells = xcalloc((nrows + 1) * ncols, sizeof *cells);
	width = xcalloc(ncols, sizeof *width);
	for (c = 0; c < ncols; c++) {
		cells[c] = xstrdup(cols[c]);
		for (p = cells[c]; *p != '\0'; p++)
			*p = *p == '_' ? ' ' : toupper((unsigned char)*p);
	}
	for (r = 0; r < nrows; r++) {
		for (c = 0; c < ncols; c++) {
			cells[(r + 1) * ncols + c] = cli_cell(json_object_get(
			    json_array_get(rows, r), cols[c]), whole_last &&
			    c + 1 == ncols ? 0 : CLI_CELL_MAX);
		}
	}
	for (r = 0; r <= nrows; r++) {
		for (c = 0; c < ncols; c++) {
			w = cli_strwidth(cells[r * ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	for (r = 0; r <= nrows; r++) {
		for (c = 0; c < ncols; c++) {
			p = cells[r * ncols + c];
			fputs(p, f);
			if (c + 1 < ncols) {
				w = width[c] - cli_strwidth(p) + 2;
				fprintf(f, "%*s", (int)w, "");
			}
		}
		fputc('\n', f);
	}
	for (r = 0; r < (nrows + 1) * ncols; r++)
		free(cells[r]);
	free(cells);
	free(width);
}

/*
 * One object as a "FIELD  VALUE" table.  Values are not cut: multi-line
 * strings and large JSON values continue on lines under the value.
 */
void
cli_print_record(FILE *f, json_t *obj)
{
	const char	*key, *p, *nl;
	json_t		*v;
	size_t		 kw = strlen("FIELD");
	char		*text;

	json_object_foreach(obj, key, v) {
		if (cli_strwidth(key) > kw)
			kw = cli_strwidth(key);
	}
	fprintf(f, "%-*s  VALUE\n", (int)kw, "FIELD");
	json_object_foreach(obj, key, v) {
		fputs(key, f);
		if (v == NULL || json_is_null(v))
			text = xstrdup("-");
		else if (json_is_string(v))
			text = xstrdup(json_string_value(v));
		else {
			text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			if (text != NULL && strlen(text) > CLI_RECORD_WRAP &&
			    (json_is_object(v) || json_is_array(v))) {
				free(text);
				text = json_dumps(v, JSON_INDENT(2));
			}
			if (text == NULL)
				text = xstrdup("?");
		}
		/* Drop trailing newlines; indent continuation lines. */
		nl = text + strlen(text);
		while (nl > text && nl[-1] == '\n')
			nl--;
		text[nl - text] = '\0';
		if (*text != '\0') {
			fprintf(f, "%*s  ", (int)(kw - cli_strwidth(key)),
			    "");
		}
		for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
			fprintf(f, "%.*s\n%*s", (int)(nl - p), p,
			    (int)kw + 2, "");
		fprintf(f, "%s\n", p);
		free(text);
	}
}

/* Parse "k=v" into obj: v as JSON when it parses, else as a string. */
int
cli_parse_kv(json_t *obj, const char *kv, char **cause)
{
	const char	*eq;
	char		*key;
	json_t		*v;

	eq = strchr(kv, '=');
	if (eq == NULL || eq == kv) {
		xasprintf(cause, "expected key=value: '%s'", kv);
		return (-1);
	}
	key = xstrndup(kv, eq - kv);
	v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
	if (v == NULL)
		v = json_string(eq + 1);
	if (v == NULL) {
		xasprintf(cause, "%s: value is not valid UTF-8", key);
		free(key);
		return (-1);
	}
	json_object_set_new(obj, key, v);
	free(key);
	*cause = NULL;
	return (0);
}

/* Whether to print UTF-8 symbols: stdout is a tty in a UTF-8 locale. */
int
cli_utf8(void)
{
	const char	*cs;

	if (cli_utf8_on == -1) {
		cli_utf8_on = 0;
		if (isatty(STDOUT_FILENO)) {
			cs = nl_langinfo(CODESET);
			if (strcasecmp(cs, "UTF-8") == 0 ||
			    strcasecmp(cs, "utf8") == 0)
				cli_utf8_on = 1;
		}
	}
	return (cli_utf8_on);
}

/* Force UTF-8 symbols on (1) or off (0), or detect them again (-1). */
void
cli_set_utf8(int on)
{
	cli_utf8_on = on;
}

/* The symbol of a task or execution state; "?" when unknown. */
const char *
cli_state_symbol(const char *state)
{
	size_t	 i;

	for (i = 0; state != NULL && i < nitems(cli_state_syms); i++) {
		if (strcmp(cli_state_syms[i].state, state) == 0) {
			if (cli_utf8())
				return (cli_state_syms[i].utf8);
			return (cli_state_syms[i].ascii);
		}
	}
	return ("?");
}

/* Decode the JSON-in-string fields of one object. */
static void
cli_decode_object(json_t *obj)
{
	json_t	*v, *d;
	size_t	 i;

	for (i = 0; i < nitems(cli_json_fields); i++) {
		v = json_object_get(obj, cli_json_fields[i]);
		if (!json_is_string(v))
			continue;
		d = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
		if (d != NULL)
			json_object_set_new(obj, cli_json_fields[i], d);
	}
}

/* Decode the JSON-in-string fields of an object or an array of them. */
void
cli_decode_fields(json_t *v)
{
	json_t	*item;
	size_t	 i;

	if (json_is_object(v))
		cli_decode_object(v);
	else if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			if (json_is_object(item))
				cli_decode_object(item);
		}
	}
}
