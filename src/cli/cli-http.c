/*
 * cli-http.c -- the bora command line's calls to borad's REST API,
 * through one libcurl handle (libcurl is loaded on the first call).
 *
 * Errors from the API are printed as "bora: <faultstring>"; no answer
 * at all is "bora: cannot reach URL: why -- is borad running?".
 */
#include "config.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "lib/lib.h"
#include "dl/dl.h"
#include "cli/cli.h"
#include "cli/cli-int.h"

#define CLI_BODY_MAX	(64 * 1024 * 1024)	/* largest response */

/* One API response: its body and the error header if any. */
struct cli_reply {
	struct buf	 body;
	char		*error;		/* Server-Error-Message */
};

static CURL	*cli_curl;
/* Headers of the next calls (cli_http_headers()), borrowed. */
static const char *const *cli_extra;
static size_t		  cli_nextra;

static void	 cli_http_cleanup(void);
static CURL	*cli_http_handle(void);
static size_t	 cli_http_write(char *, size_t, size_t, void *);
static size_t	 cli_http_header(char *, size_t, size_t, void *);
static char	*cli_http_base(void);

/* Free the shared curl handle at exit. */
static void
cli_http_cleanup(void)
{
	if (cli_curl != NULL)
		curl_easy_cleanup(cli_curl);
	cli_curl = NULL;
	curl_global_cleanup();
}

/* The shared curl handle, made on first use (libcurl is loaded then). */
static CURL *
cli_http_handle(void)
{
	char	*cause;

	if (cli_curl == NULL) {
		if (dl_curl_load(&cause) != 0)
			fatalx("%s", cause);
		if ((cli_curl = curl_easy_init()) == NULL)
			fatalx("curl_easy_init failed");
		atexit(cli_http_cleanup);
	}
	return (cli_curl);
}

/* A path component or query value, %-escaped (caller frees). */
char *
cli_http_escape(const char *s)
{
	CURL	*c;
	char	*e, *out;

	c = cli_http_handle();	/* loads libcurl: before naming its function */
	e = curl_easy_escape(c, s, 0);
	if (e == NULL)
		fatalx("curl_easy_escape failed");
	out = xstrdup(e);
	curl_free(e);
	return (out);
}

/* Send these "Name: value" headers with the next calls; NULL, 0: none. */
void
cli_http_headers(const char *const *h, size_t n)
{
	cli_extra = h;
	cli_nextra = n;
}

/* curl write callback: append to the reply body, within its maximum. */
static size_t
cli_http_write(char *p, size_t size, size_t n, void *arg)
{
	struct cli_reply	*r = arg;

	if (buf_add(&r->body, p, size * n) != 0)
		return (0);
	return (size * n);
}

/* curl header callback: keep Server-Error-Message. */
static size_t
cli_http_header(char *p, size_t size, size_t n, void *arg)
{
	struct cli_reply	*r = arg;
	const char		*name = "Server-Error-Message:";
	size_t			 len = size * n, nl = strlen(name);

	if (len > nl && strncasecmp(p, name, nl) == 0) {
		p += nl;
		len -= nl;
		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		free(r->error);
		r->error = xstrndup(p, len);
	}
	return (size * n);
}

/* The base URL without a trailing slash (caller frees). */
static char *
cli_http_base(void)
{
	char	*base;
	size_t	 len;

	base = xstrdup(cli_url);
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		base[--len] = '\0';
	return (base);
}

/* Call the API; see cli-int.h. */
int
cli_http(const char *method, const char *path, const char *ctype,
    const char *body, json_t **out)
{
	CURL			*c;
	CURLcode		 cc;
	struct curl_slist	*hdrs = NULL;
	struct cli_reply	 r;
	json_error_t		 jerr;
	json_t			*v = NULL, *fault;
	char			*base, *url = NULL, *h;
	char			 errbuf[CURL_ERROR_SIZE];
	const char		*why, *dash;
	long			 status = 0, oserr = 0;
	int			 rc = CLI_EXIT_FAIL, own_auth = 0;
	size_t			 i;

	*out = NULL;
	buf_init(&r.body, CLI_BODY_MAX);
	r.error = NULL;
	c = cli_http_handle();
	curl_easy_reset(c);
	base = cli_http_base();
	xasprintf(&url, "%s%s", base, path);

	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (ctype != NULL) {
		xasprintf(&h, "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	for (i = 0; i < cli_nextra; i++) {
		hdrs = curl_slist_append(hdrs, cli_extra[i]);
		if (strncasecmp(cli_extra[i], "Authorization:", 14) == 0)
			own_auth = 1;
	}
	if (cli_token != NULL && *cli_token != '\0' && !own_auth) {
		xasprintf(&h, "Authorization: Bearer %s", cli_token);
		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "bora/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cli_http_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, cli_http_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);

	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		if (cc == CURLE_URL_MALFORMAT ||
		    cc == CURLE_UNSUPPORTED_PROTOCOL) {
			fprintf(stderr, "bora: invalid URL '%s': %s\n", url,
			    curl_easy_strerror(cc));
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		if (cc == CURLE_WRITE_ERROR) {
			fprintf(stderr, "bora: %s %s: response larger than "
			    "%d bytes\n", method, path, CLI_BODY_MAX);
			goto out;
		}
		if (cc == CURLE_COULDNT_CONNECT && oserr != 0)
			why = strerror((int)oserr);
		else if (errbuf[0] != '\0')
			why = errbuf;
		else
			why = curl_easy_strerror(cc);
		dash = strcasecmp(nl_langinfo(CODESET), "UTF-8") == 0 ?
		    "\xe2\x80\x94" : "--";
		fprintf(stderr, "bora: cannot reach %s: %s %s is borad "
		    "running?\n", base, why, dash);
		rc = CLI_EXIT_UNREACHABLE;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

	if (r.body.len != 0) {
		v = json_loadb(r.body.data, r.body.len, JSON_DECODE_ANY, &jerr);
		if (v == NULL && status < 400) {
			fprintf(stderr, "bora: %s %s: invalid JSON in the "
			    "response (line %d: %s)\n", method, path, jerr.line,
			    jerr.text);
			goto out;
		}
	}
	if (status >= 400) {
		fault = json_object_get(v, "faultstring");
		if (json_is_string(fault))
			fprintf(stderr, "bora: %s\n", json_string_value(fault));
		else if (r.error != NULL)
			fprintf(stderr, "bora: %s\n", r.error);
		else
			fprintf(stderr, "bora: %s %s: HTTP %ld\n", method, path,
			    status);
		goto out;
	}
	*out = v;
	v = NULL;
	rc = CLI_EXIT_OK;
out:
	json_decref(v);
	curl_slist_free_all(hdrs);
	free(r.error);
	buf_free(&r.body);
	free(url);
	free(base);
	return (rc);
}

/* Call the API with a JSON body; see cli-int.h. */
int
cli_http_json(const char *method, const char *path, json_t *body,
    json_t **out)
{
	char	*text;
	int	 rc;

	if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps failed", __func__);
	rc = cli_http(method, path, "application/json", text, out);
	free(text);
	return (rc);
}

/* "/v2/<coll>/<id>[<rest>]", the id %-escaped (caller frees). */
char *
cli_http_path(const char *coll, const char *id, const char *rest)
{
	char	*e, *path;

	e = cli_http_escape(id);
	xasprintf(&path, "/v2/%s/%s%s", coll, e, rest != NULL ? rest : "");
	free(e);
	return (path);
}
