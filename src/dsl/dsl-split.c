/*
 * dsl-split.c -- a workflow file or an ad-hoc actions file cut into one
 * text per top-level entry, the way Mistral stores each workflow and
 * action of an upload on its own: deleting or updating one of them then
 * leaves the others alone.
 *
 * Each part is "version: '2.0'" and the entry's text as written (its
 * comments and layout kept), found from the positions libyaml reports.
 * A part that does not parse back alone (an alias to an anchor in
 * another entry) makes the split fail: the caller keeps the file whole.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "dsl/dsl-int.h"

#define DSL_SPLIT_HEAD	"---\nversion: '2.0'\n\n"

/* Free the parts of a split. */
void
dsl_parts_free(struct dsl_part *parts, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(parts[i].name);
		free(parts[i].text);
	}
	free(parts);
}

/*
 * An entry ends at to: add it as a part, its key..to, unless it is the
 * version (*key NULL); the key is taken.
 */
static void
dsl_part_end(struct dsl_part **parts, size_t *n, char **key,
    const char *text, size_t from, size_t to)
{
	struct dsl_part	*p;

	if (*key == NULL)
		return;
	*parts = xreallocarray(*parts, *n + 1, sizeof **parts);
	p = &(*parts)[(*n)++];
	p->name = *key;
	*key = NULL;
	while (to > from && (text[to - 1] == '\n' || text[to - 1] == ' '))
		to--;
	xasprintf(&p->text, DSL_SPLIT_HEAD "%.*s\n", (int)(to - from),
	    text + from);
}

/* Does each part parse back alone to one workflow or action? */
static int
dsl_parts_check(struct dsl_part *parts, size_t n)
{
	struct dsl_workbook	*wb;
	struct dsl_errors	 errs;
	size_t			 i;
	int			 ok = 1;

	for (i = 0; ok && i < n; i++) {
		dsl_errors_init(&errs);
		wb = dsl_parse(parts[i].name, parts[i].text,
		    strlen(parts[i].text), NULL, &errs);
		ok = wb != NULL && errs.n == 0 &&
		    wb->nworkflows + wb->nactions == 1;
		dsl_workbook_free(wb);
		dsl_errors_free(&errs);
	}
	return (ok);
}

/*
 * Cut a workflow or actions file (not a workbook) into its top-level
 * entries, "version" left out.  Returns 0 with *parts (n of them), or
 * -1 when the text cannot be cut.
 */
int
dsl_split(const char *text, size_t len, struct dsl_part **parts, size_t *n)
{
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	char		*key = NULL;
	size_t		 kstart = 0;
	int		 depth = 0, done = 0, failed = 0, want_key = 1;

	*parts = NULL;
	*n = 0;
	if (!yaml_parser_initialize(&p))
		return (-1);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && !failed) {
		if (!yaml_parser_parse(&p, &ev)) {
			failed = 1;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == 0 && ev.type != YAML_MAPPING_START_EVENT)
				failed = 1;
			else if (depth == 1 && want_key)
				failed = 1;	/* a complex key */
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			if (depth == 0)
				done = 1;
			else if (depth == 1) {
				dsl_part_end(parts, n, &key, text, kstart,
				    ev.end_mark.index);
				want_key = 1;
			}
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			if (depth != 1)
				break;
			if (want_key) {
				if (ev.type != YAML_SCALAR_EVENT) {
					failed = 1;
					break;
				}
				free(key);
				key = strcmp((char *)ev.data.scalar.value,
				    "version") == 0 ? NULL :
				    xstrdup((char *)ev.data.scalar.value);
				kstart = ev.start_mark.index;
				want_key = 0;
			} else {
				dsl_part_end(parts, n, &key, text, kstart,
				    ev.end_mark.index);
				want_key = 1;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	free(key);
	yaml_parser_delete(&p);
	if (failed || *n == 0 || !dsl_parts_check(*parts, *n)) {
		dsl_parts_free(*parts, *n);
		*parts = NULL;
		*n = 0;
		return (-1);
	}
	return (0);
}
