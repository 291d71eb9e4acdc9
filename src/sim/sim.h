/*
 * sim.h -- `bora sim`: a simulated OpenStack cloud to rehearse recovery
 * flows on.  Keystone v3 (password and application credential tokens,
 * a catalog, token validation) and the Nova calls the flows make
 * (servers, server actions, compute services, hypervisors, aggregates,
 * migrations), stateful, with operations that take time and failures
 * injected from a scenario file.  Every call is logged as a JSON line.
 *
 * The simulator stands apart from the engine: it uses src/lib,
 * libmicrohttpd, jansson and libyaml only.  sim_handle() is the whole
 * cloud without HTTP, for tests.
 *
 * Ownership: a request is borrowed; a response's body and headers are
 * new references the caller releases with sim_response_clear().
 */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct sim;

/* One HTTP request: header names in lower case, query values as text. */
struct sim_request {
	const char	*method;
	const char	*path;		/* without the query string */
	json_t		*query;		/* object, or NULL */
	json_t		*headers;	/* object, or NULL */
	const char	*body;
	size_t		 body_len;
	const char	*base_url;	/* "http://127.0.0.1:8774", for links */
};

struct sim_response {
	int		 status;
	json_t		*body;		/* NULL: no body */
	json_t		*headers;	/* object of extra headers */
	int64_t		 latency_ms;	/* wait this long before answering */
};

/*
 * A cloud from a scenario file (NULL: the built-in one).  delay_s >= 0
 * replaces every operation's delay (0: operations end at the next call).
 * NULL + *cause ("file:line:col: why").
 */
struct sim	*sim_create(const char *scenario, double delay_s, char **cause);
void		 sim_free(struct sim *);
/* Answer one request; thread-safe. */
void		 sim_handle(struct sim *, const struct sim_request *,
		     struct sim_response *);
void		 sim_response_clear(struct sim_response *);
/*
 * The JSON line logged for a call (secrets and tokens masked: a token
 * is shown by its audit id); the caller frees it.
 */
char		*sim_log_line(struct sim *, const struct sim_request *,
		     const struct sim_response *, int64_t elapsed_ms);

/* The `bora sim` program (src/bora-sim.c). */
int		 sim_main(int argc, char **argv);

#endif /* SIM_H */
