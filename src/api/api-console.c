/*
 * api-console.c -- the web console on the API's port: GET / answers a
 * browser (Accept: text/html) with the console's page and every other
 * client with the API versions, as before; GET /console/... serves the
 * compiled-in CSS and JavaScript modules.
 *
 * Every console answer carries an ETag (If-None-Match gets 304), a
 * strict Content-Security-Policy (scripts and styles from this origin
 * only, nothing inline), X-Content-Type-Options: nosniff and no
 * framing.  With a token configured, the page answers 401 without it
 * (the page itself asks the user for the token and sends it on every
 * API call); the scripts and styles hold no data and stay public.
 */
#include "config.h"

#include <string.h>

#include "lib/lib.h"
#include "console/console.h"
#include "api/api-int.h"

#define CONSOLE_CSP	"default-src 'none'; script-src 'self'; " \
			"style-src 'self'; img-src 'self' data:; " \
			"connect-src 'self'; base-uri 'none'; " \
			"form-action 'none'; frame-ancestors 'none'"

static const struct {
	const char	*name;
	const char	*value;
} api_console_headers[] = {
	{ "Content-Security-Policy", CONSOLE_CSP },
	{ "X-Content-Type-Options", "nosniff" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
	/* Revalidate each time: a 304 costs little, a stale file more. */
	{ "Cache-Control", "no-cache" },
};

/* Does If-None-Match name this ETag? */
static int
api_console_fresh(struct api_req *req, const char *etag)
{
	const char	*h;

	h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	return (h != NULL && (strstr(h, etag) != NULL || strcmp(h, "*") == 0));
}

/* Answer with file f (status 200 or 401), or 304 when it is fresh. */
static void
api_console_send(struct api_req *req, const struct console_file *f,
    unsigned status)
{
	struct MHD_Response	*resp;
	size_t			 i;
	int			 fresh;

	fresh = status == 200 && api_console_fresh(req, f->etag);
	resp = MHD_create_response_from_buffer(fresh ? 0 : f->len,
	    (void *)f->data, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		api_error(req, 500, "Cannot create the response");
		return;
	}
	for (i = 0; i < nitems(api_console_headers); i++)
		MHD_add_response_header(resp, api_console_headers[i].name,
		    api_console_headers[i].value);
	if (status == 200)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, f->etag);
	api_reply_response(req, fresh ? 304 : status, f->type, resp);
}

/* Would the client rather have HTML (a browser's navigation)? */
static int
api_console_wants_html(struct api_req *req)
{
	const char	*h;

	h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT);
	return (h != NULL && strstr(h, "text/html") != NULL);
}

/* GET /: the console's page for browsers, the API versions otherwise. */
void
api_console_root(struct api_req *req)
{
	const struct console_file	*f;

	if (!api_console_wants_html(req) ||
	    (f = console_find("index.html")) == NULL) {
		api_root(req);
		return;
	}
	api_console_send(req, f, api_token_ok(req) ? 200 : 401);
}

/* GET /console/...: one static file. */
void
api_console_file(struct api_req *req)
{
	const struct console_file	*f;
	char				*path = NULL;
	size_t				 i;

	for (i = 0; i < req->nparams; i++) {
		if (path == NULL)
			path = xstrdup(req->params[i]);
		else {
			path = xstrcat(path, "/");
			path = xstrcat(path, req->params[i]);
		}
	}
	if (path == NULL || (f = console_find(path)) == NULL)
		api_error(req, 404, "No such console file: %s", req->path);
	else
		api_console_send(req, f, 200);
	free(path);
}
