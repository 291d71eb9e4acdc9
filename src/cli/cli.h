/*
 * cli.h -- the bora command line: a table of subcommands, each a
 * function taking its own argc/argv, and the output formats.
 *
 * Exit codes: 0 success, 1 the thing asked about failed (workflow
 * ERROR, invalid file, API error), 2 bad usage, 3 cannot reach the
 * server or the store.
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>
#include <jansson.h>

#define CLI_EXIT_OK		0
#define CLI_EXIT_FAIL		1
#define CLI_EXIT_USAGE		2
#define CLI_EXIT_UNREACHABLE	3

struct cli_cmd {
	const char	*name;		/* "run", "execution start", ... */
	const char	*args;		/* "FILE [WORKFLOW] [-i k=v]..." */
	const char	*summary;
	int		(*fn)(int argc, char **argv);
};

int	 cli_main(int argc, char **argv);

/* In-process commands. */
int	 cli_cmd_run(int, char **);		/* cli-run.c */
int	 cli_cmd_validate(int, char **);		/* cli-validate.c */

/* Commands through the API (cli-client.c). */
extern const struct cli_cmd cli_client_cmds[];	/* NULL-name terminated */

/* ---- output formats (cli-format.c) ------------------------------ */
enum cli_format { CLI_FMT_TABLE = 0, CLI_FMT_JSON, CLI_FMT_YAML };

/* "table", "json", "yaml"; -1 when unknown. */
int	 cli_format_parse(const char *);
/* Pretty JSON followed by a newline. */
void	 cli_print_json(FILE *, json_t *);
/* Block-style YAML of any JSON value. */
void	 cli_print_yaml(FILE *, json_t *);
/*
 * A table of rows (array of objects) over the given columns, with a
 * header; values are rendered compactly and cut at width chars.
 */
void	 cli_print_table(FILE *, json_t *rows, const char *const *cols,
	     size_t ncols);
/* One object as a two-column "Field  Value" table. */
void	 cli_print_record(FILE *, json_t *obj);
/* Parse "k=v" (v as JSON when it parses, else a string) into obj. */
int	 cli_parse_kv(json_t *obj, const char *kv, char **cause);
/* Symbol for a state: ✓ ✗ ▶ … ⏸ ○ (ASCII when not on a UTF-8 tty). */
const char *cli_state_symbol(const char *state);

#endif /* CLI_H */
