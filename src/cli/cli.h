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

/*
 * A command.  fn gets its own entry, so that one function may serve
 * several commands, each with what it works on in data (the workbook
 * and workflow commands share theirs this way).
 */
struct cli_cmd {
	const char	*name;		/* "run", "execution start", ... */
	const char	*args;		/* "FILE [WORKFLOW] [-i k=v]..." */
	const char	*summary;
	int		(*fn)(const struct cli_cmd *, int argc, char **argv);
	const char	*help;		/* description, options; or NULL */
	const void	*data;		/* for fn, or NULL */
};

int	 cli_main(int argc, char **argv);

/*
 * Global options, set by cli_main() before a command runs: the API
 * base URL (--url, BORA_URL, default http://127.0.0.1:8989), the bearer
 * token (--token, BORA_TOKEN, or NULL), the output format (-f) and
 * whether to print only ids (-q).
 */
extern const char	*cli_url;
extern const char	*cli_token;
extern int		 cli_fmt;
extern int		 cli_quiet;	/* -q: print only ids */

/*
 * Report a usage error of command name ("execution start"): prints
 * "bora: <message>" and the command's usage line; returns CLI_EXIT_USAGE.
 */
int	 cli_usage(const char *name, const char *fmt, ...)
	     __attribute__((format(printf, 2, 3)));

/* In-process commands. */
int	 cli_cmd_run(const struct cli_cmd *, int, char **);	/* cli-run.c */
int	 cli_cmd_validate(const struct cli_cmd *, int, char **);
					/* cli-validate.c */
int	 cli_cmd_import(const struct cli_cmd *, int, char **);
					/* cli-import.c */
int	 cli_cmd_trigger_test(const struct cli_cmd *, int, char **);
					/* cli-trigger.c */
int	 cli_cmd_sim(const struct cli_cmd *, int, char **);	/* cli-sim.c */

/* Commands through the API (cli-client.c). */
extern const struct cli_cmd cli_client_cmds[];	/* NULL-name terminated */
/* Environments and cron triggers (cli-mistral.c). */
extern const struct cli_cmd cli_mistral_cmds[];

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
/* The same, the last column's cells not cut when whole_last is set. */
void	 cli_print_table_cut(FILE *, json_t *rows, const char *const *cols,
	     size_t ncols, int whole_last);
/* One object as a two-column "Field  Value" table. */
void	 cli_print_record(FILE *, json_t *obj);
/* Parse "k=v" (v as JSON when it parses, else a string) into obj. */
int	 cli_parse_kv(json_t *obj, const char *kv, char **cause);
/* Symbol for a state: ✓ ✗ ▶ … ⏸ ○ (ASCII when not on a UTF-8 tty). */
const char *cli_state_symbol(const char *state);
/* Whether UTF-8 symbols are used; cli_set_utf8(-1) detects again. */
int	 cli_utf8(void);
void	 cli_set_utf8(int);
/*
 * Replace the JSON-in-string fields the API sends (input, output,
 * params, published, result, ...) by their decoded values, in one
 * object or in each object of an array.
 */
void	 cli_decode_fields(json_t *);
/* Display width of a UTF-8 string, in characters. */
size_t	 cli_strwidth(const char *);

#endif /* CLI_H */
