/*
 * cli-int.h -- shared by the files of the cli module only: the HTTP
 * calls to the API and the live watch of an execution.
 */
#ifndef CLI_INT_H
#define CLI_INT_H

#include <jansson.h>

/*
 * Call the API: method, path ("/v2/executions?limit=5"), an optional
 * body with its content type.  On success *out is the decoded response
 * (NULL when empty) and CLI_EXIT_OK is returned; otherwise the error is
 * printed as "bora: ..." and CLI_EXIT_FAIL (the API said no) or
 * CLI_EXIT_UNREACHABLE (no answer) is returned.
 */
int	 cli_http(const char *method, const char *path, const char *ctype,
	     const char *body, json_t **out);
/* A path component or query value, %-escaped (caller frees). */
char	*cli_http_escape(const char *);

/* Whether an execution state is final. */
int	 cli_state_final(const char *);
/* Exit status for a final execution state: 0 SUCCESS, 1 otherwise. */
int	 cli_state_exit(const char *);
/* Seconds between two API times ("YYYY-MM-DD HH:MM:SS"); -1 if unknown. */
long	 cli_time_diff(const char *from, const char *to);
/* "1h02m", "3m05s", "12s". */
void	 cli_duration(long secs, char *out, size_t len);
/* Duration of a task or execution row so far; "" when unknown. */
void	 cli_row_duration(json_t *row, char *out, size_t len);

/* Follow an execution until it ends (cli-watch.c); exit like --wait. */
int	 cli_watch(const char *id, double interval);

#endif /* CLI_INT_H */
