/*
 * actions-email.c -- std.email: a mail sent by libcurl's SMTP client as
 * a transfer of the I/O loop, so it holds no engine worker while the
 * server answers.
 *
 * The parameters are Mistral's: from_addr, to_addrs and smtp_server are
 * required; reply_to, cc_addrs, bcc_addrs, smtp_password, subject, body
 * and html_body are not.  As in Mistral, a password means STARTTLS and a
 * login as from_addr, and the password is never sent on a connection
 * that did not start TLS.  bora adds verify (as std.http: false, or a
 * CA file) and timeout (seconds, default 60).  smtp_server is
 * "host[:port]" (port 25) or an smtp:// or smtps:// URL (smtps: TLS
 * from the first byte).  Address lists are JSON lists or comma
 * separated text.  The message is MIME in UTF-8, quoted-printable: the
 * text, or the text and the HTML as multipart/alternative; a subject or
 * display name that is not ASCII is an RFC 2047 word.  The result is
 * null, as in Mistral.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/lib.h"
#include "actions/actions-int.h"

#define EMAIL_TIMEOUT_MS	(60 * 1000)
#define EMAIL_HEADER_MAX	990	/* a header line, within RFC 5322 */
#define EMAIL_WORD_MAX		60	/* encoded text in one RFC 2047 word */

/* One mail in flight; xfer comes first so the loop's pointer is ours. */
struct action_email {
	struct action_xfer	 xfer;
	char			*url;
	curl_mime		*mime;
	struct curl_slist	*rcpts;
	struct curl_slist	*headers;
	char			 errbuf[CURL_ERROR_SIZE];
	action_done_cb		 done;
	void			*arg;
};

static void	 action_email_run(const struct action_entry *, json_t *,
		     const struct action_ctx *, struct action_io *,
		     action_done_cb, void *);
static int	 action_email_setup(struct action_email *, json_t *,
		     char **);
static int	 action_email_addrs(json_t *, const char *, int, json_t **,
		     char **);
static char	*action_email_spec(const char *);
static char	*action_email_phrase(const char *);
static char	*action_email_word(const char *);
static int	 action_email_header(struct action_email *, const char *,
		     const char *, char **);
static int	 action_email_text(curl_mime *, const char *, const char *);
static void	 action_email_finish(struct action_xfer *, CURLcode, int);
static void	 action_email_free(struct action_email *);

static const struct action_param action_email_params[] = {
	{ "from_addr", NULL, 1 },
	{ "to_addrs", NULL, 1 },
	{ "smtp_server", NULL, 1 },
	{ "reply_to", "null", 0 },
	{ "cc_addrs", "null", 0 },
	{ "bcc_addrs", "null", 0 },
	{ "smtp_password", "null", 0 },
	{ "subject", "null", 0 },
	{ "body", "null", 0 },
	{ "html_body", "null", 0 },
	{ "verify", "true", 0 },
	{ "timeout", "60", 0 },
	{ NULL, NULL, 0 }
};

const struct action_entry action_std_email_entry = {
	.name = "std.email",
	.description = "Sends an email through an SMTP server (STARTTLS and "
	    "login when smtp_password is given); the result is null.",
	.params = action_email_params,
	.kind = ACTION_IO,
	.pure = 0,
	.run = action_email_run
};

/* Build the mail (loading libcurl first) and hand it to the loop. */
static void
action_email_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	struct action_email	*m;
	char			*cause;

	if (!action_can_start(ae, io, dl_curl_load, done, arg))
		return;
	m = xcalloc(1, sizeof *m);
	m->done = done;
	m->arg = arg;
	m->xfer.finish = action_email_finish;
	if ((m->xfer.easy = curl_easy_init()) == NULL)
		cause = xstrdup("curl_easy_init failed");
	if (m->xfer.easy == NULL || action_email_setup(m, input, &cause) != 0) {
		action_email_free(m);
		action_fail_cause(ae, done, arg, cause);
		return;
	}
	action_io_submit(io, &m->xfer);
}

/* Free a mail and its easy handle. */
static void
action_email_free(struct action_email *m)
{
	if (m->xfer.easy != NULL)
		curl_easy_cleanup(m->xfer.easy);
	if (m->mime != NULL)
		curl_mime_free(m->mime);
	curl_slist_free_all(m->rcpts);
	curl_slist_free_all(m->headers);
	free(m->url);
	free(m);
}

/*
 * Set up the easy handle: envelope, headers, MIME body, TLS and login.
 * Every input is checked here, so a bad one fails before connecting.
 */
static int
action_email_setup(struct action_email *m, json_t *input, char **cause)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec"
	};
	static const char *const texts[] = {
		"smtp_password", "subject", "body", "html_body"
	};
	CURL		*e = m->xfer.easy;
	json_t		*to = NULL, *cc = NULL, *bcc = NULL, *reply = NULL;
	json_t		*lists[3], *a, *item;
	const char	*from, *server, *password, *subject, *body, *html, *at;
	char		*spec = NULL, *s = NULL, *line;
	char		 id[UUID_STRLEN], date[64];
	struct buf	 b;
	struct tm	 tm;
	time_t		 now;
	size_t		 i, j;
	int64_t		 ms;
	curl_mime	*alt;
	curl_mimepart	*part;
	int		 rc = -1;

	buf_init(&b, 0);
	from = action_arg_string(input, "from_addr");
	server = action_arg_string(input, "smtp_server");
	password = action_arg_string(input, "smtp_password");
	subject = action_arg_string(input, "subject");
	body = action_arg_string(input, "body");
	html = action_arg_string(input, "html_body");
	if (from == NULL || strpbrk(from, "\r\n") != NULL ||
	    (spec = action_email_spec(from)) == NULL) {
		xasprintf(cause, "'from_addr' must be an address");
		goto out;
	}
	if (server == NULL || *server == '\0' ||
	    strpbrk(server, " \t\r\n") != NULL) {
		xasprintf(cause, "'smtp_server' must be host[:port] or an "
		    "smtp:// or smtps:// URL");
		goto out;
	}
	if (action_email_addrs(json_object_get(input, "to_addrs"), "to_addrs",
	    1, &to, cause) != 0 ||
	    action_email_addrs(json_object_get(input, "cc_addrs"), "cc_addrs",
	    0, &cc, cause) != 0 ||
	    action_email_addrs(json_object_get(input, "bcc_addrs"),
	    "bcc_addrs", 0, &bcc, cause) != 0 ||
	    action_email_addrs(json_object_get(input, "reply_to"), "reply_to",
	    0, &reply, cause) != 0)
		goto out;
	for (i = 0; i < nitems(texts); i++) {
		a = json_object_get(input, texts[i]);
		if (a != NULL && !json_is_null(a) && !json_is_string(a)) {
			xasprintf(cause, "'%s' must be text", texts[i]);
			goto out;
		}
	}

	/* Server URL: the scheme picks implicit TLS (smtps). */
	if (strstr(server, "://") != NULL) {
		if (strncmp(server, "smtp://", 7) != 0 &&
		    strncmp(server, "smtps://", 8) != 0) {
			xasprintf(cause, "'smtp_server' must be host[:port] or "
			    "an smtp:// or smtps:// URL, not %s", server);
			goto out;
		}
		m->url = xstrdup(server);
	} else
		xasprintf(&m->url, "smtp://%s", server);
	curl_easy_setopt(e, CURLOPT_URL, m->url);

	/* Envelope. */
	xasprintf(&line, "<%s>", spec);
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, line);
	free(line);
	lists[0] = to;
	lists[1] = cc;
	lists[2] = bcc;
	for (i = 0; i < nitems(lists); i++) {
		json_array_foreach(lists[i], j, a) {
			free(s);
			s = action_email_spec(json_string_value(a));
			xasprintf(&line, "<%s>", s);
			m->rcpts = curl_slist_append(m->rcpts, line);
			free(line);
		}
	}
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, m->rcpts);

	/* Headers (no Bcc: those stay in the envelope only). */
	free(s);
	s = action_email_phrase(from);
	if (action_email_header(m, "From", s, cause) != 0)
		goto out;
	for (i = 0; i < 3; i++) {
		a = i == 0 ? to : i == 1 ? cc : reply;
		if (json_array_size(a) == 0)
			continue;
		buf_reset(&b);
		json_array_foreach(a, j, item) {
			free(s);
			s = action_email_phrase(json_string_value(item));
			buf_printf(&b, "%s%s", j != 0 ? ", " : "", s);
		}
		if (action_email_header(m, i == 0 ? "To" : i == 1 ? "Cc" :
		    "Reply-To", b.data, cause) != 0)
			goto out;
	}
	if (subject != NULL) {
		if (strpbrk(subject, "\r\n") != NULL) {
			xasprintf(cause, "'subject' must be one line");
			goto out;
		}
		free(s);
		s = action_email_word(subject);
		if (action_email_header(m, "Subject", s, cause) != 0)
			goto out;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (action_email_header(m, "Date", date, cause) != 0)
		goto out;
	uuid_make(id);
	at = strrchr(spec, '@');
	buf_reset(&b);
	buf_printf(&b, "<%s@%s>", id, at != NULL ? at + 1 : "bora");
	if (action_email_header(m, "Message-ID", b.data, cause) != 0)
		goto out;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, m->headers);

	/* Body: text, or text and HTML as alternatives. */
	m->mime = curl_mime_init(e);
	if (html == NULL) {
		if (action_email_text(m->mime, "text/plain; charset=utf-8",
		    body != NULL ? body : "") != 0)
			goto nomem;
	} else {
		alt = curl_mime_init(e);
		if (action_email_text(alt, "text/plain; charset=utf-8",
		    body != NULL ? body : "") != 0 ||
		    action_email_text(alt, "text/html; charset=utf-8",
		    html) != 0 ||
		    (part = curl_mime_addpart(m->mime)) == NULL ||
		    curl_mime_subparts(part, alt) != CURLE_OK) {
			curl_mime_free(alt);
			goto nomem;
		}
		curl_mime_type(part, "multipart/alternative");
	}
	curl_easy_setopt(e, CURLOPT_MIMEPOST, m->mime);

	/* A password: STARTTLS required, then login as the sender. */
	if (password != NULL) {
		curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		curl_easy_setopt(e, CURLOPT_USERNAME, spec);
		curl_easy_setopt(e, CURLOPT_PASSWORD, password);
	}
	action_xfer_verify(e, json_object_get(input, "verify"));
	ms = EMAIL_TIMEOUT_MS;
	if (!json_is_null(json_object_get(input, "timeout")) &&
	    action_arg_seconds(input, "timeout", &ms, cause) != 0)
		goto out;
	if (ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ms);
	/*
	 * A connection of its own: libcurl would reuse one that another
	 * mail upgraded with STARTTLS under other TLS checks.
	 */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, m->errbuf);
	rc = 0;
	goto out;

nomem:
	xasprintf(cause, "cannot build the message");
out:
	json_decref(to);
	json_decref(cc);
	json_decref(bcc);
	json_decref(reply);
	buf_free(&b);
	free(spec);
	free(s);
	return (rc);
}

/*
 * An address list: a JSON list of strings or one string of addresses
 * separated by commas, into a new array of trimmed strings (*out).
 * Each must hold an address.  Absent or null is an empty list, unless
 * required.
 */
static int
action_email_addrs(json_t *v, const char *key, int required, json_t **out,
    char **cause)
{
	json_t		*list, *item;
	const char	*s, *p, *q;
	char		*one, *spec;
	size_t		 i;

	*out = NULL;
	list = json_array();
	if (json_is_string(v)) {
		s = json_string_value(v);
		for (p = s; *p != '\0'; p = *q != '\0' ? q + 1 : q) {
			q = p + strcspn(p, ",");
			while (p < q && (*p == ' ' || *p == '\t'))
				p++;
			one = xstrndup(p, q - p);
			i = strlen(one);
			while (i > 0 && (one[i - 1] == ' ' ||
			    one[i - 1] == '\t'))
				one[--i] = '\0';
			if (*one != '\0')
				json_array_append_new(list, json_string(one));
			free(one);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			if (!json_is_string(item)) {
				xasprintf(cause, "'%s' must be a list of "
				    "addresses", key);
				goto fail;
			}
			json_array_append(list, item);
		}
	} else if (v != NULL && !json_is_null(v)) {
		xasprintf(cause, "'%s' must be an address or a list of them",
		    key);
		goto fail;
	}
	json_array_foreach(list, i, item) {
		if (strpbrk(json_string_value(item), "\r\n") != NULL ||
		    (spec = action_email_spec(json_string_value(item))) ==
		    NULL) {
			xasprintf(cause, "'%s': not an address: %s", key,
			    json_string_value(item));
			goto fail;
		}
		free(spec);
	}
	if (required && json_array_size(list) == 0) {
		xasprintf(cause, "'%s' must name at least one address", key);
		goto fail;
	}
	*out = list;
	return (0);

fail:
	json_decref(list);
	return (-1);
}

/*
 * The bare address of "Name <a@b>" or "a@b" (caller frees); NULL when
 * there is none, or when it has spaces, line breaks or angle brackets.
 */
static char *
action_email_spec(const char *s)
{
	const char	*lt, *gt;
	char		*spec;

	if (s == NULL)
		return (NULL);
	if ((lt = strrchr(s, '<')) != NULL) {
		if ((gt = strchr(lt, '>')) == NULL || gt[1] != '\0')
			return (NULL);
		spec = xstrndup(lt + 1, gt - lt - 1);
	} else
		spec = xstrdup(s);
	if (*spec == '\0' || strchr(spec, '@') == NULL ||
	    strpbrk(spec, " \t\r\n<>,") != NULL) {
		free(spec);
		return (NULL);
	}
	return (spec);
}

/* "Name <a@b>" for a header: a name that is not ASCII is encoded. */
static char *
action_email_phrase(const char *s)
{
	const char	*lt;
	char		*name, *word, *out;
	size_t		 len;

	if ((lt = strrchr(s, '<')) == NULL)
		return (xstrdup(s));
	len = lt - s;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return (xstrdup(lt));
	name = xstrndup(s, len);
	word = action_email_word(name);
	xasprintf(&out, "%s %s", word, lt);
	free(word);
	free(name);
	return (out);
}

/*
 * Header text as is when it is printable ASCII, else as RFC 2047
 * Q-encoded UTF-8 words of at most EMAIL_WORD_MAX encoded bytes, each
 * holding whole characters (caller frees).
 */
static char *
action_email_word(const char *s)
{
	const unsigned char	*p, *c;
	struct buf		 b;
	size_t			 n, w = 0, clen;
	int			 plain = 1;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			plain = 0;
	}
	if (plain)
		return (xstrdup(s));

	buf_init(&b, 0);
	for (p = (const unsigned char *)s; *p != '\0'; p += clen) {
		/* One character: a lead byte and its continuation bytes. */
		clen = 1;
		while (p[clen] != '\0' && (p[clen] & 0xc0) == 0x80)
			clen++;
		n = 0;
		for (c = p; c < p + clen; c++) {
			if ((*c >= 'a' && *c <= 'z') ||
			    (*c >= 'A' && *c <= 'Z') ||
			    (*c >= '0' && *c <= '9') || *c == ' ' ||
			    strchr("!*+-/", *c) != NULL)
				n += 1;
			else
				n += 3;
		}
		if (w == 0 || w + n > EMAIL_WORD_MAX) {
			if (w != 0)
				buf_puts(&b, "?= ");
			buf_puts(&b, "=?UTF-8?Q?");
			w = 0;
		}
		for (c = p; c < p + clen; c++) {
			if (*c == ' ')
				buf_puts(&b, "_");
			else if ((*c >= 'a' && *c <= 'z') ||
			    (*c >= 'A' && *c <= 'Z') ||
			    (*c >= '0' && *c <= '9') ||
			    strchr("!*+-/", *c) != NULL)
				buf_add(&b, (const char *)c, 1);
			else
				buf_printf(&b, "=%02X", *c);
		}
		w += n;
	}
	buf_puts(&b, "?=");
	return (buf_take(&b));
}

/* Add "Name: value" to the message headers; one line, not too long. */
static int
action_email_header(struct action_email *m, const char *name,
    const char *value, char **cause)
{
	char	*line;

	if (strpbrk(value, "\r\n") != NULL) {
		xasprintf(cause, "%s: a line break is not allowed", name);
		return (-1);
	}
	xasprintf(&line, "%s: %s", name, value);
	if (strlen(line) > EMAIL_HEADER_MAX) {
		xasprintf(cause, "%s: longer than %d bytes", name,
		    EMAIL_HEADER_MAX);
		free(line);
		return (-1);
	}
	m->headers = curl_slist_append(m->headers, line);
	free(line);
	return (0);
}

/* Add a text part of type ctype, quoted-printable. */
static int
action_email_text(curl_mime *mime, const char *ctype, const char *text)
{
	curl_mimepart	*part;

	if ((part = curl_mime_addpart(mime)) == NULL)
		return (-1);
	if (curl_mime_data(part, text, CURL_ZERO_TERMINATED) != CURLE_OK ||
	    curl_mime_type(part, ctype) != CURLE_OK ||
	    curl_mime_encoder(part, "quoted-printable") != CURLE_OK)
		return (-1);
	return (0);
}

/* The transfer is over (on the I/O thread): complete the action. */
static void
action_email_finish(struct action_xfer *x, CURLcode rc, int stopping)
{
	struct action_email	*m = (struct action_email *)x;
	char			*msg;

	if (stopping)
		m->done(m->arg, 0, json_string("engine stopping"));
	else if (rc != CURLE_OK) {
		xasprintf(&msg, "std.email via %s: %s", m->url,
		    m->errbuf[0] != '\0' ? m->errbuf : curl_easy_strerror(rc));
		action_fail_new(m->done, m->arg, msg);
	} else
		m->done(m->arg, 1, json_null());
	action_email_free(m);
}
