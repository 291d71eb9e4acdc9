/*
 * msg-clean.c -- text from anywhere (an action's error, an HTTP answer,
 * a Lua error, an alarm) made fit for a user: no traceback, no body,
 * no secret, one line, bounded.
 *
 * The order matters: what follows a traceback marker goes first, then a
 * JSON or HTML body is replaced by the message it carries, then only
 * the first line is kept, then secrets are masked (before anything is
 * cut, so that no prefix of a secret is left), then the text is bounded.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "lib/lib.h"
#include "msg/msg-int.h"

#define MSG_OMITTED	"(body omitted)"
#define MSG_SECRET	"***"
#define MSG_OPAQUE_MIN	40	/* a run of token characters this long */

/* Where a traceback begins: nothing from there on is shown. */
static const char *const msg_traces[] = {
	"Traceback (most recent call last)", "stack traceback:",
	"\n  File \"", "\n\tat "
};

/* Where an HTML or XML body begins. */
static const char *const msg_markup[] = {
	"<!doctype", "<html", "<head", "<body", "<?xml"
};

/* Keys of a JSON body that carry its message, by preference. */
static const char *const msg_keys[] = {
	"message", "faultstring", "error_message", "detail", "title",
	"description", "error", "reason", "msg"
};

/*
 * Secrets, each a pattern and the subexpression replaced by "***" (its
 * number counts every parenthesis before it, nested ones too): a
 * credential given by name ("password=x", "token: x", "api_key": "x"),
 * an Authorization scheme's credentials, and the password of a URL.
 * A pattern runs only on a text holding one of its words (any case),
 * without which it cannot match: most texts hold none, and the
 * patterns are compiled on first need.
 */
static const struct {
	const char	*re;
	int		 sub;
	const char	*words[12];
} msg_secret_res[] = {
	{ "(bearer|basic|negotiate|digest)[[:space:]]+"
	  "([A-Za-z0-9._~+/=:-]{4,})", 2,
	  { "bearer", "basic", "negotiate", "digest", NULL } },
	{ "(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|"
	  "auth|credentials?|private[_-]?key|access[_-]?key|"
	  "session[_-]?id|cookie)[\"']?[[:space:]]*[:=][[:space:]]*"
	  "(\"[^\"]*\"|'[^']*'|[^][:space:],;&(){}\"']+)", 3,
	  { "pass", "pwd", "secret", "token", "api", "auth", "credential",
	    "private", "access", "session", "cookie", NULL } },
	{ "://[^/@[:space:]:]+:([^/@[:space:]]+)@", 1, { "://", NULL } }
};

static regex_t		 msg_res[nitems(msg_secret_res)];
static pthread_once_t	 msg_res_once = PTHREAD_ONCE_INIT;

static void
msg_res_init(void)
{
	size_t	 i;

	for (i = 0; i < nitems(msg_secret_res); i++) {
		if (regcomp(&msg_res[i], msg_secret_res[i].re,
		    REG_EXTENDED | REG_ICASE) != 0)
			fatalx("%s: bad pattern %zu", __func__, i);
	}
}

/* Case-insensitive strstr. */
static char *
msg_strcasestr(const char *s, const char *what)
{
	size_t	 n = strlen(what);

	for (; *s != '\0'; s++) {
		if (strncasecmp(s, what, n) == 0)
			return ((char *)s);
	}
	return (NULL);
}

/* Whether s holds one of the words of secret pattern i. */
static int
msg_secret_hinted(const char *s, size_t i)
{
	const char *const	*w;

	for (w = msg_secret_res[i].words; *w != NULL; w++) {
		if (msg_strcasestr(s, *w) != NULL)
			return (1);
	}
	return (0);
}

/* Cut s at the first of the markers (case-insensitive when nocase). */
static int
msg_cut_at(char *s, const char *const *marks, size_t n, int nocase)
{
	char	*p, *first = NULL;
	size_t	 i;

	for (i = 0; i < n; i++) {
		p = nocase ? msg_strcasestr(s, marks[i]) : strstr(s, marks[i]);
		if (p != NULL && (first == NULL || p < first))
			first = p;
	}
	if (first == NULL)
		return (0);
	*first = '\0';
	return (1);
}

/* The message a JSON body carries (borrowed), up to depth levels in. */
static const char *
msg_json_message(json_t *v, int depth)
{
	const char	*s;
	json_t		*x;
	size_t		 i;
	const char	*key;

	if (!json_is_object(v) || depth < 0)
		return (NULL);
	for (i = 0; i < nitems(msg_keys); i++) {
		x = json_object_get(v, msg_keys[i]);
		if (json_is_string(x) && json_string_length(x) > 0)
			return (json_string_value(x));
	}
	json_object_foreach(v, key, x) {
		if ((s = msg_json_message(x, depth - 1)) != NULL)
			return (s);
	}
	return (NULL);
}

/*
 * Replace the first JSON object of s that parses by the message it
 * carries, or by MSG_OMITTED; a brace that opens a long text that does
 * not parse (a body cut short) ends s there.
 */
static char *
msg_body(char *s)
{
	json_error_t	 err;
	json_t		*v;
	const char	*m;
	struct buf	 b;
	char		*p;

	if ((p = strchr(s, '{')) == NULL)
		return (s);
	v = json_loadb(p, strlen(p), JSON_DISABLE_EOF_CHECK, &err);
	if (v == NULL) {
		if (strlen(p) > MSG_OPAQUE_MIN) {
			*p = '\0';
			s = xstrcat(s, MSG_OMITTED);
		}
		return (s);
	}
	m = msg_json_message(v, 3);
	buf_init(&b, 0);
	buf_add(&b, s, (size_t)(p - s));
	buf_puts(&b, m != NULL ? m : MSG_OMITTED);
	buf_puts(&b, p + err.position);
	json_decref(v);
	free(s);
	return (buf_take(&b));
}

/* Replace subexpression sub of every match of re in s by "***". */
static char *
msg_mask(char *s, const regex_t *re, int sub)
{
	regmatch_t	 m[6];
	struct buf	 b;
	const char	*p = s;

	buf_init(&b, 0);
	while (*p != '\0' && regexec(re, p, nitems(m), m, p == s ? 0 :
	    REG_NOTBOL) == 0 && m[0].rm_eo > m[0].rm_so) {
		if (m[sub].rm_so < 0) {
			buf_add(&b, p, (size_t)m[0].rm_eo);
		} else {
			buf_add(&b, p, (size_t)m[sub].rm_so);
			buf_puts(&b, MSG_SECRET);
			buf_add(&b, p + m[sub].rm_eo,
			    (size_t)(m[0].rm_eo - m[sub].rm_eo));
		}
		p += m[0].rm_eo;
	}
	buf_puts(&b, p);
	free(s);
	return (buf_take(&b));
}

/* A character of a token (base64, base64url, hex). */
static int
msg_tokenchar(int c)
{
	return (isalnum(c) || c == '_' || c == '-' || c == '+' || c == '=');
}

/*
 * Mask long runs of token characters mixing lower case, upper case and
 * digits: tokens and keys, not names or identifiers.
 */
static void
msg_mask_opaque(struct buf *b, const char *s)
{
	const char	*p = s, *q;
	int		 lo, up, dg;

	while (*p != '\0') {
		if (!msg_tokenchar((unsigned char)*p)) {
			buf_add(b, p++, 1);
			continue;
		}
		lo = up = dg = 0;
		for (q = p; msg_tokenchar((unsigned char)*q); q++) {
			lo |= islower((unsigned char)*q) != 0;
			up |= isupper((unsigned char)*q) != 0;
			dg |= isdigit((unsigned char)*q) != 0;
		}
		if (q - p >= MSG_OPAQUE_MIN && lo && up && dg)
			buf_puts(b, MSG_SECRET);
		else
			buf_add(b, p, (size_t)(q - p));
		p = q;
	}
}

/* See msg.h. */
char *
msg_clean(const char *raw, size_t max)
{
	struct buf	 b;
	char		*s, *p, *out;
	size_t		 i, cut;
	int		 space = 0;

	if (raw == NULL || *raw == '\0')
		return (xstrdup("unknown"));
	s = xstrdup(raw);
	(void)msg_cut_at(s, msg_traces, nitems(msg_traces), 0);
	if (msg_cut_at(s, msg_markup, nitems(msg_markup), 1))
		s = xstrcat(s, MSG_OMITTED);
	s = msg_body(s);
	/* The first line with something on it. */
	for (p = s; *p != '\0' && isspace((unsigned char)*p); p++)
		;
	p[strcspn(p, "\r\n")] = '\0';
	memmove(s, p, strlen(p) + 1);
	for (i = 0; i < nitems(msg_secret_res); i++) {
		if (!msg_secret_hinted(s, i))
			continue;
		pthread_once(&msg_res_once, msg_res_init);
		s = msg_mask(s, &msg_res[i], msg_secret_res[i].sub);
	}
	buf_init(&b, 0);
	msg_mask_opaque(&b, s);
	free(s);
	s = buf_take(&b);

	/* Control characters become spaces; runs of spaces one. */
	buf_init(&b, 0);
	for (p = s; *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p) || isspace((unsigned char)*p)) {
			space = b.len > 0;
			continue;
		}
		if (space)
			buf_add(&b, " ", 1);
		space = 0;
		buf_add(&b, p, 1);
	}
	free(s);
	out = buf_take(&b);
	if (*out == '\0') {
		free(out);
		return (xstrdup("unknown"));
	}
	if (max > 3 && strlen(out) > max) {
		cut = max - 3;
		while (cut > 0 && ((unsigned char)out[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(out + cut, "...", 4);
	}
	return (out);
}
