/*
 * alarms-auth.c -- how each alarm source proves who it is, from the
 * alarm-auth entries of borad.conf:
 *
 *	alarm-auth:
 *	  - alertmanager bearer token-file=/etc/bora/am.token
 *	  - vitrage bearer header=X-Auth-Token token-file=/etc/bora/vt
 *	  - zabbix basic user=zabbix password-file=/etc/bora/zbx.pw
 *	  - grafana hmac secret-file=/etc/bora/gf.key
 *	      header=X-Grafana-Alerting-Signature
 *	      timestamp-header=X-Grafana-Alerting-Signature-Timestamp
 *	  - aodh none
 *
 * Each method is one row of alarm_auth_methods[] with the options it
 * takes.  Secrets come inline (token=, password=, secret=) or from files
 * (token-file=, ...), read once when the configuration is loaded.
 * Tokens and passwords are compared through their SHA-256 digests and
 * signatures as bytes, both with CRYPTO_memcmp, so the time taken says
 * nothing about the secret.  No message holds a secret or what was
 * sent in its place.  libcrypto is loaded when the first entry is
 * parsed: without entries nothing here calls it.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "dl/dl.h"
#include "alarms/alarms-int.h"

#define AUTH_SECRET_MAX		(64 * 1024)	/* bytes of a secret file */
#define AUTH_TOLERANCE_MS	(5 * 60 * 1000)
#define AUTH_SIG_MAX		1024		/* characters of base64 or hex */

enum auth_method { AUTH_NONE = 0, AUTH_BEARER, AUTH_BASIC, AUTH_HMAC };
enum auth_encoding { AUTH_HEX = 0, AUTH_BASE64 };

/* One source's rule. */
struct auth_entry {
	char			*source;
	enum auth_method	 method;
	char			*header;	/* bearer, hmac */
	char			*user;		/* basic */
	unsigned char		*secret;	/* token, password, key */
	size_t			 secret_len;
	enum auth_encoding	 encoding;	/* hmac */
	char			*prefix;	/* hmac: "sha256=" */
	char			*ts_header;	/* hmac */
	int64_t			 tolerance_ms;	/* hmac */
};

struct alarm_auth {
	struct auth_entry	*v;
	size_t			 n;
};

/* Options, and which methods take them ('b'earer, b'a'sic, 'h'mac). */
static const struct {
	const char	*name;
	const char	*methods;
	int		 secret;	/* 1 value, 2 file */
} auth_options[] = {
	{ "token", "b", 1 },
	{ "token-file", "b", 2 },
	{ "header", "bh", 0 },
	{ "user", "a", 0 },
	{ "password", "a", 1 },
	{ "password-file", "a", 2 },
	{ "secret", "h", 1 },
	{ "secret-file", "h", 2 },
	{ "encoding", "h", 0 },
	{ "prefix", "h", 0 },
	{ "timestamp-header", "h", 0 },
	{ "tolerance", "h", 0 }
};

static const struct {
	const char		*name;
	char			 letter;	/* in auth_options[].methods */
	const char		*challenge;
} auth_methods[] = {
	{ "none", '-', NULL },
	{ "bearer", 'b', "Bearer" },
	{ "basic", 'a', "Basic realm=\"bora\"" },
	{ "hmac", 'h', NULL }
};

/* Headers that carry credentials whatever the configuration says. */
static const char *const auth_secret_headers[] = {
	"Authorization", "Proxy-Authorization", "X-Auth-Token", "Cookie"
};

/* ---- configuration ---------------------------------------------------- */

/* Wipe and free a secret. */
static void
auth_secret_free(unsigned char *s, size_t len)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, len);
	free(s);
}

static void
auth_entry_clear(struct auth_entry *a)
{
	free(a->source);
	free(a->header);
	free(a->user);
	auth_secret_free(a->secret, a->secret_len);
	free(a->prefix);
	free(a->ts_header);
}

void
alarm_auth_free(struct alarm_auth *auth)
{
	size_t	i;

	if (auth == NULL)
		return;
	for (i = 0; i < auth->n; i++)
		auth_entry_clear(&auth->v[i]);
	free(auth->v);
	free(auth);
}

/* Read a secret file, without its final line end. */
static int
auth_secret_file(struct auth_entry *a, const char *path, char **cause)
{
	char	*text, *why;
	size_t	 len;

	if ((text = file_read(path, AUTH_SECRET_MAX, &len, &why)) == NULL) {
		xasprintf(cause, "%s", why);
		free(why);
		return (-1);
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len == 0) {
		auth_secret_free((unsigned char *)text, len);
		xasprintf(cause, "%s: the secret file is empty", path);
		return (-1);
	}
	auth_secret_free(a->secret, a->secret_len);
	a->secret = (unsigned char *)text;
	a->secret_len = len;
	return (0);
}

/* Apply one "key=value" option to an entry. */
static int
auth_option(struct auth_entry *a, const char *opt, char **cause)
{
	const char	*eq, *val, *cands[nitems(auth_options)], *near;
	char		*key, *why;
	size_t		 i, n = 0;
	int64_t		 ms;
	char		 letter = auth_methods[a->method].letter;
	int		 rc = -1;

	if ((eq = strchr(opt, '=')) == NULL || eq == opt) {
		xasprintf(cause, "expected key=value, not '%.*s'",
		    (int)strcspn(opt, "="), opt);
		return (-1);
	}
	key = xstrndup(opt, (size_t)(eq - opt));
	val = eq + 1;
	for (i = 0; i < nitems(auth_options); i++) {
		if (strchr(auth_options[i].methods, letter) != NULL)
			cands[n++] = auth_options[i].name;
		if (strcmp(auth_options[i].name, key) == 0 &&
		    strchr(auth_options[i].methods, letter) != NULL)
			break;
	}
	if (i == nitems(auth_options)) {
		near = lib_closest(key, cands, n);
		xasprintf(cause, "unknown option '%s' for %s%s%s%s", key,
		    auth_methods[a->method].name, near != NULL ?
		    " (did you mean '" : "", near != NULL ? near : "",
		    near != NULL ? "'?)" : "");
		goto out;
	}
	if (*val == '\0') {
		xasprintf(cause, "%s: a value is needed", key);
		goto out;
	}
	if (auth_options[i].secret == 1) {
		auth_secret_free(a->secret, a->secret_len);
		a->secret_len = strlen(val);
		a->secret = (unsigned char *)xstrdup(val);
	} else if (auth_options[i].secret == 2) {
		if (auth_secret_file(a, val, cause) != 0)
			goto out;
	} else if (strcmp(key, "header") == 0) {
		free(a->header);
		a->header = xstrdup(val);
	} else if (strcmp(key, "user") == 0) {
		free(a->user);
		a->user = xstrdup(val);
	} else if (strcmp(key, "prefix") == 0) {
		free(a->prefix);
		a->prefix = xstrdup(val);
	} else if (strcmp(key, "timestamp-header") == 0) {
		free(a->ts_header);
		a->ts_header = xstrdup(val);
	} else if (strcmp(key, "encoding") == 0) {
		if (strcmp(val, "hex") == 0)
			a->encoding = AUTH_HEX;
		else if (strcmp(val, "base64") == 0)
			a->encoding = AUTH_BASE64;
		else {
			xasprintf(cause, "encoding: expected hex or base64, "
			    "not '%s'", val);
			goto out;
		}
	} else if (strcmp(key, "tolerance") == 0) {
		if (time_parse_duration(val, &ms, &why) != 0) {
			xasprintf(cause, "tolerance: %s", why);
			free(why);
			goto out;
		}
		a->tolerance_ms = ms;
	}
	rc = 0;
out:
	free(key);
	return (rc);
}

/* Parse one entry "SOURCE METHOD [key=value]...". */
static int
auth_entry_parse(struct auth_entry *a, const char *text, char **cause)
{
	char	*copy, *tok, *save, *why;
	size_t	 i;
	int	 rc = -1, w = 0;

	memset(a, 0, sizeof *a);
	a->tolerance_ms = AUTH_TOLERANCE_MS;
	copy = xstrdup(text);
	for (tok = strtok_r(copy, " \t\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\n", &save), w++) {
		if (w == 0) {
			if (alarm_source_check(NULL, tok, &why) != 0) {
				*cause = why;
				goto out;
			}
			a->source = xstrdup(tok);
			continue;
		}
		if (w == 1) {
			for (i = 0; i < nitems(auth_methods); i++) {
				if (strcmp(tok, auth_methods[i].name) == 0)
					break;
			}
			if (i == nitems(auth_methods)) {
				xasprintf(cause, "unknown method '%s' "
				    "(expected none, bearer, basic or hmac)",
				    tok);
				goto out;
			}
			a->method = (enum auth_method)i;
			continue;
		}
		if (a->method == AUTH_NONE) {
			xasprintf(cause, "none takes no options");
			goto out;
		}
		if (auth_option(a, tok, cause) != 0)
			goto out;
	}
	if (w < 2) {
		xasprintf(cause, "expected SOURCE METHOD [key=value]...");
		goto out;
	}
	switch (a->method) {
	case AUTH_NONE:
		break;
	case AUTH_BEARER:
		if (a->secret == NULL) {
			xasprintf(cause, "bearer needs token= or token-file=");
			goto out;
		}
		if (a->header == NULL)
			a->header = xstrdup("Authorization");
		break;
	case AUTH_BASIC:
		if (a->user == NULL || a->secret == NULL ||
		    strchr(a->user, ':') != NULL) {
			xasprintf(cause, "basic needs user= (without ':') and "
			    "password= or password-file=");
			goto out;
		}
		break;
	case AUTH_HMAC:
		if (a->secret == NULL) {
			xasprintf(cause, "hmac needs secret= or secret-file=");
			goto out;
		}
		if (a->header == NULL)
			a->header = xstrdup("X-Signature");
		break;
	}
	rc = 0;
out:
	free(copy);
	return (rc);
}

/* The entry of a source, or NULL. */
static const struct auth_entry *
auth_find(const struct alarm_auth *auth, const char *source)
{
	size_t	i;

	for (i = 0; auth != NULL && i < auth->n; i++) {
		if (strcmp(auth->v[i].source, source) == 0)
			return (&auth->v[i]);
	}
	return (NULL);
}

/*
 * Parse every entry; one per source.  Entries need libcrypto (secrets
 * are wiped with it, requests checked with it): it is loaded first.
 */
struct alarm_auth *
alarm_auth_create(const struct conf_list *l, char **cause)
{
	struct alarm_auth	*auth;
	struct auth_entry	*a = NULL;
	char			*why = NULL;
	size_t			 i;

	*cause = NULL;
	if (l != NULL && l->n > 0 && dl_crypto_load(&why) != 0) {
		xasprintf(cause, "alarm-auth: %s", why);
		free(why);
		return (NULL);
	}
	auth = xcalloc(1, sizeof *auth);
	auth->v = xcalloc(l != NULL && l->n > 0 ? l->n : 1, sizeof *auth->v);
	for (i = 0; l != NULL && i < l->n; i++) {
		a = &auth->v[auth->n];
		if (auth_entry_parse(a, l->v[i], &why) != 0)
			goto fail;
		if (auth_find(auth, a->source) != NULL) {
			why = xstrdup("a second entry for this source");
			goto fail;
		}
		auth->n++;
	}
	return (auth);
fail:
	/* The entry is named by its place and source, never its text. */
	xasprintf(cause, "alarm-auth entry %zu%s%s%s: %s", i + 1,
	    a->source != NULL ? " (" : "", a->source != NULL ? a->source : "",
	    a->source != NULL ? ")" : "", why);
	free(why);
	auth_entry_clear(a);
	alarm_auth_free(auth);
	return (NULL);
}

const char *
alarm_auth_challenge(const struct alarm_auth *auth, const char *source)
{
	const struct auth_entry	*a;

	if ((a = auth_find(auth, source)) == NULL)
		return (NULL);
	if (a->method == AUTH_BEARER &&
	    strcasecmp(a->header, "Authorization") != 0)
		return (NULL);
	return (auth_methods[a->method].challenge);
}

/* 1 if a header of a request of source must not be stored. */
int
alarm_auth_is_secret_header(const struct alarm_auth *auth,
    const char *source, const char *header)
{
	const struct auth_entry	*a;
	size_t			 i;

	for (i = 0; i < nitems(auth_secret_headers); i++) {
		if (strcasecmp(header, auth_secret_headers[i]) == 0)
			return (1);
	}
	if ((a = auth_find(auth, source)) != NULL && a->header != NULL &&
	    a->method == AUTH_BEARER && strcasecmp(a->header, header) == 0)
		return (1);
	return (0);
}

/* ---- checks ----------------------------------------------------------- */

/* Equal in constant time, whatever the lengths: compare digests. */
static int
auth_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned char	da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];

	SHA256(a, alen, da);
	SHA256(b, blen, db);
	return (CRYPTO_memcmp(da, db, sizeof da) == 0 && alen == blen);
}

/* The credentials after "Scheme " in an Authorization value, or NULL. */
static const char *
auth_scheme(const char *value, const char *scheme)
{
	size_t	n = strlen(scheme);

	if (value == NULL || strncasecmp(value, scheme, n) != 0 ||
	    value[n] != ' ')
		return (NULL);
	value += n;
	while (*value == ' ')
		value++;
	return (value);
}

/* Decode base64 (with or without padding); -1 when it is not. */
static int
auth_base64(const char *s, unsigned char *out, size_t outsz, size_t *len)
{
	unsigned char	 buf[AUTH_SIG_MAX + 4];
	size_t		 n = strlen(s), pad = 0;
	int		 r;

	while (n > 0 && s[n - 1] == '=') {
		n--;
		pad++;
	}
	if (n == 0 || pad > 2 || n > AUTH_SIG_MAX ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/") != n || n % 4 == 1)
		return (-1);
	memcpy(buf, s, n);
	while (n % 4 != 0)
		buf[n++] = '=';
	/* EVP_DecodeBlock counts padding as zero bytes. */
	if ((r = EVP_DecodeBlock(out, buf, (int)n)) < 0)
		return (-1);
	*len = (size_t)r;
	while (*len > 0 && n > 0 && buf[--n] == '=')
		(*len)--;
	return (*len <= outsz ? 0 : -1);
}

/* Decode hex; -1 when it is not. */
static int
auth_hex(const char *s, unsigned char *out, size_t outsz, size_t *len)
{
	size_t	n = strlen(s), i;
	int	hi, lo;

	if (n == 0 || n % 2 != 0 || n / 2 > outsz)
		return (-1);
	for (i = 0; i < n; i += 2) {
		hi = OPENSSL_hexchar2int((unsigned char)s[i]);
		lo = OPENSSL_hexchar2int((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return (-1);
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return (0);
}

static int
auth_bearer(const struct auth_entry *a, const struct alarm_request *req,
    char **reason)
{
	const char	*v, *tok;

	if ((v = alarm_header_find(req, a->header)) == NULL) {
		xasprintf(reason, "no %s header", a->header);
		return (-1);
	}
	tok = strcasecmp(a->header, "Authorization") == 0 ?
	    auth_scheme(v, "Bearer") : v;
	if (tok == NULL) {
		xasprintf(reason, "the Authorization header is not Bearer");
		return (-1);
	}
	if (!auth_equal(tok, strlen(tok), a->secret, a->secret_len)) {
		xasprintf(reason, "wrong token in the %s header", a->header);
		return (-1);
	}
	return (0);
}

static int
auth_basic(const struct auth_entry *a, const struct alarm_request *req,
    char **reason)
{
	unsigned char	 got[AUTH_SIG_MAX];
	const char	*cred;
	char		*want;
	size_t		 glen, ulen = strlen(a->user), wlen;
	int		 ok;

	cred = auth_scheme(alarm_header_find(req, "Authorization"), "Basic");
	if (cred == NULL) {
		xasprintf(reason, "no Basic Authorization header");
		return (-1);
	}
	if (auth_base64(cred, got, sizeof got, &glen) != 0) {
		xasprintf(reason, "the Basic credentials are not base64");
		return (-1);
	}
	wlen = ulen + 1 + a->secret_len;
	want = xmalloc(wlen);
	memcpy(want, a->user, ulen);
	want[ulen] = ':';
	memcpy(want + ulen + 1, a->secret, a->secret_len);
	ok = auth_equal(got, glen, want, wlen);
	OPENSSL_cleanse(want, wlen);
	OPENSSL_cleanse(got, sizeof got);
	free(want);
	if (!ok) {
		xasprintf(reason, "wrong user or password");
		return (-1);
	}
	return (0);
}

/*
 * HMAC-SHA256 of the body, or of "TIMESTAMP:BODY" when a timestamp
 * header is configured (Grafana's form), itself within the tolerance.
 */
static int
auth_hmac(const struct auth_entry *a, const struct alarm_request *req,
    int64_t now_ms, char **reason)
{
	unsigned char	 want[EVP_MAX_MD_SIZE], got[AUTH_SIG_MAX];
	const char	*sig, *ts = NULL;
	char		*end;
	size_t		 glen, wlen = 0;
	long long	 t;
	int64_t		 skew;
	EVP_MAC		*mac;
	EVP_MAC_CTX	*mctx;
	OSSL_PARAM	 params[2];
	int		 ok;

	if ((sig = alarm_header_find(req, a->header)) == NULL) {
		xasprintf(reason, "no %s header", a->header);
		return (-1);
	}
	if (a->prefix != NULL) {
		if (strncasecmp(sig, a->prefix, strlen(a->prefix)) != 0) {
			xasprintf(reason, "the %s header does not start "
			    "with %s", a->header, a->prefix);
			return (-1);
		}
		sig += strlen(a->prefix);
	}
	if (a->ts_header != NULL) {
		if ((ts = alarm_header_find(req, a->ts_header)) == NULL) {
			xasprintf(reason, "no %s header", a->ts_header);
			return (-1);
		}
		errno = 0;
		t = strtoll(ts, &end, 10);
		if (errno != 0 || end == ts || *end != '\0' || t < 0 ||
		    t > INT64_MAX / 1000) {
			xasprintf(reason, "the %s header is not a Unix time "
			    "in seconds", a->ts_header);
			return (-1);
		}
		skew = now_ms - (int64_t)t * 1000;
		if (skew < 0)
			skew = -skew;
		if (skew > a->tolerance_ms) {
			xasprintf(reason, "the %s header is %lld s away from "
			    "now, more than the tolerance of %lld s (a "
			    "replay?)", a->ts_header, (long long)(skew / 1000),
			    (long long)(a->tolerance_ms / 1000));
			return (-1);
		}
	}
	if ((a->encoding == AUTH_HEX ? auth_hex(sig, got, sizeof got, &glen) :
	    auth_base64(sig, got, sizeof got, &glen)) != 0) {
		xasprintf(reason, "the %s header is not %s", a->header,
		    a->encoding == AUTH_HEX ? "hex" : "base64");
		return (-1);
	}

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	mctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = mctx != NULL &&
	    EVP_MAC_init(mctx, a->secret, a->secret_len, params) == 1 &&
	    (ts == NULL || (EVP_MAC_update(mctx, (const unsigned char *)ts,
	    strlen(ts)) == 1 && EVP_MAC_update(mctx,
	    (const unsigned char *)":", 1) == 1)) &&
	    EVP_MAC_update(mctx, (const unsigned char *)req->body,
	    req->len) == 1 &&
	    EVP_MAC_final(mctx, want, &wlen, sizeof want) == 1;
	EVP_MAC_CTX_free(mctx);
	EVP_MAC_free(mac);
	if (!ok) {
		xasprintf(reason, "HMAC-SHA256 is not available");
		return (-1);
	}
	if (glen != wlen || CRYPTO_memcmp(got, want, wlen) != 0) {
		xasprintf(reason, "wrong signature in the %s header",
		    a->header);
		return (-1);
	}
	return (0);
}

/* Check a request of a source. */
enum alarm_auth_rc
alarm_auth_check(const struct alarm_auth *auth, const char *source,
    const struct alarm_request *req, int64_t now_ms, char **reason)
{
	const struct auth_entry	*a;
	int			 rc = 0;

	*reason = NULL;
	if ((a = auth_find(auth, source)) == NULL)
		return (ALARM_AUTH_NONE);
	switch (a->method) {
	case AUTH_NONE:
		break;
	case AUTH_BEARER:
		rc = auth_bearer(a, req, reason);
		break;
	case AUTH_BASIC:
		rc = auth_basic(a, req, reason);
		break;
	case AUTH_HMAC:
		rc = auth_hmac(a, req, now_ms, reason);
		break;
	}
	return (rc == 0 ? ALARM_AUTH_OK : ALARM_AUTH_DENIED);
}

/*
 * The nonce of a request signed with a timestamp: the signature as bytes
 * (hex, whatever encoding was sent), so that it is accepted once while
 * its timestamp is within the tolerance.
 */
char *
alarm_auth_nonce(const struct alarm_auth *auth, const char *source,
    const struct alarm_request *req, int64_t *expires_ms)
{
	const struct auth_entry	*a;
	unsigned char		 got[AUTH_SIG_MAX];
	const char		*sig, *ts;
	char			*out, *end;
	size_t			 glen, i;
	long long		 t;

	*expires_ms = 0;
	if ((a = auth_find(auth, source)) == NULL || a->method != AUTH_HMAC ||
	    a->ts_header == NULL ||
	    (sig = alarm_header_find(req, a->header)) == NULL ||
	    (ts = alarm_header_find(req, a->ts_header)) == NULL)
		return (NULL);
	if (a->prefix != NULL) {
		if (strncasecmp(sig, a->prefix, strlen(a->prefix)) != 0)
			return (NULL);
		sig += strlen(a->prefix);
	}
	t = strtoll(ts, &end, 10);
	if (end == ts || *end != '\0' || t < 0 || t > INT64_MAX / 1000 -
	    a->tolerance_ms)
		return (NULL);
	if ((a->encoding == AUTH_HEX ? auth_hex(sig, got, sizeof got, &glen) :
	    auth_base64(sig, got, sizeof got, &glen)) != 0)
		return (NULL);
	out = xmalloc(strlen(source) + 2 + 2 * glen);
	i = (size_t)sprintf(out, "%s:", source);
	for (end = out + i, i = 0; i < glen; i++)
		end += sprintf(end, "%02x", got[i]);
	*expires_ms = (int64_t)t * 1000 + a->tolerance_ms;
	return (out);
}
