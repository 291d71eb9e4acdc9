/*
 * api.h -- the REST API: Mistral v2 compatible resources, bora's
 * additions (events, health, metrics) on one libmicrohttpd server.
 *
 * Ownership: the configuration is copied; the engine is borrowed and
 * must outlive the server.
 */
#ifndef API_H
#define API_H

#include <stddef.h>
#include <stdint.h>

struct engine;
struct api;
struct alarm_auth;

struct api_config {
	const char	*listen;	/* "HOST:PORT"; port 0 picks one */
	const char	*db_url;	/* each HTTP thread opens its own */
	const char	*token;		/* bearer token, or NULL */
	size_t		 threads;	/* HTTP thread pool, default 4 */
	size_t		 max_connections; /* besides the reserve */
	int64_t		 timeout_ms;	/* idle connection timeout */
	size_t		 max_body;	/* JSON bodies (413 beyond) */
	size_t		 max_definition; /* YAML bodies (413 beyond) */
	size_t		 max_header;	/* request line + headers */
	int64_t		 request_timeout_ms; /* to receive one request */
	size_t		 max_client_connections; /* per address; 0: any */
	size_t		 reserve_connections; /* for /healthz, /readyz */
	/* The alarm intake (api-alarms.c). */
	const struct alarm_auth *alarm_auth; /* borrowed; NULL: API token */
	size_t		 alarm_max_events; /* alerts in one message */
	int		 alarm_max_depth; /* JSON nesting of a payload */
	/* Masakari: a repeated notification within this is a duplicate. */
	int64_t		 masakari_dup_ms;	/* default 180 s */
	/*
	 * Accept X-Auth-Tokens Keystone says are valid and carry every
	 * role of keystone_roles (copied), besides the token above.
	 */
	int		 keystone_auth;
	char *const	*keystone_roles;
	size_t		 nkeystone_roles;
};

/*
 * Bind and start serving; NULL + *cause on failure (also when libcrypto
 * cannot be loaded: the handlers need it).
 */
struct api	*api_open(struct engine *, const struct api_config *,
		     char **cause);
/* The port actually bound (useful with port 0). */
int		 api_port(struct api *);
/* Mark definitions as loaded (for /readyz). */
void		 api_set_ready(struct api *, int);
/* Stop accepting connections; requests in progress finish. */
void		 api_quiesce(struct api *);
/* Stop the server and free it; NULL is a no-op. */
void		 api_close(struct api *);

#endif /* API_H */
