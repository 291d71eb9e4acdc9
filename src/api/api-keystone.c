/*
 * api-keystone.c -- callers authenticated by Keystone (keystone-auth):
 * an X-Auth-Token that masakari-monitors, Aodh (trust+http) or Vitrage's
 * Mistral notifier sends is checked with Keystone (GET /v3/auth/tokens,
 * with borad's own credentials' token, through os.request on the
 * engine's I/O loop) and must carry every role of keystone-roles.
 *
 * Answers are cached by the token's SHA-256, never the token itself: a
 * valid one until Keystone says it expires, a refused one for a few
 * seconds (so that a flood of bad tokens does not become a flood of
 * Keystone requests).  The token is never stored, logged nor used for
 * anything else: recoveries act with borad's credentials or the ones a
 * segment, trigger or execution names.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/actions.h"
#include "dl/dl.h"
#include "engine/engine.h"
#include "api/api-int.h"

#define KS_TIMEOUT_MS	10000		/* one Keystone check */
#define KS_NEGATIVE_MS	5000		/* a refused token is refused */
#define KS_CACHE_MAX	10000		/* tokens remembered */

/* The cache: token digest (hex) -> {until: ms, ok: bool, why}. */
static pthread_mutex_t	 ks_mtx = PTHREAD_MUTEX_INITIALIZER;
static json_t		*ks_cache;

/*
 * One check in flight: the HTTP thread waits for the I/O thread.  Both
 * hold a reference; the last to let go frees it, so a check that timed
 * out may still complete.
 */
struct ks_wait {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	int		 refs;
	int		 done;
	int		 ok;
	json_t		*result;
};

/* Let go of a check (w->mtx held); freed by the last. */
static void
ks_wait_put(struct ks_wait *w)
{
	if (--w->refs > 0) {
		pthread_mutex_unlock(&w->mtx);
		return;
	}
	pthread_mutex_unlock(&w->mtx);
	json_decref(w->result);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mtx);
	free(w);
}

/*
 * The hex SHA-256 of a token (out: 65 bytes).  libcrypto is loaded:
 * api_open() refuses to start without it.
 */
static void
ks_digest(const char *token, char *out)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 len = 0, i;

	EVP_Digest(token, strlen(token), md, &len, EVP_sha256(), NULL);
	for (i = 0; i < len && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * i] = '\0';
}

/* os.request finished (I/O thread): hand the result over. */
static void
ks_done(void *arg, int ok, json_t *result)
{
	struct ks_wait	*w = arg;

	pthread_mutex_lock(&w->mtx);
	w->ok = ok;
	w->result = result;
	w->done = 1;
	pthread_cond_signal(&w->cond);
	ks_wait_put(w);
}

/* Does the token (Keystone's "token" object) have every role asked? */
static int
ks_roles(json_t *tok, const struct api_config *cfg, char **why)
{
	json_t		*roles, *r;
	size_t		 i, j;
	const char	*name;

	roles = json_object_get(tok, "roles");
	for (i = 0; i < cfg->nkeystone_roles; i++) {
		json_array_foreach(roles, j, r) {
			name = json_string_value(json_object_get(r, "name"));
			if (name != NULL &&
			    strcmp(name, cfg->keystone_roles[i]) == 0)
				break;
		}
		if (j == json_array_size(roles)) {
			xasprintf(why, "the token lacks role '%s'",
			    cfg->keystone_roles[i]);
			return (0);
		}
	}
	return (1);
}

/* Ask Keystone; 1 valid, 0 refused (*why), -1 not asked (*why). */
static int
ks_ask(struct api *api, const char *token, int64_t *until, char **why)
{
	const struct action_entry	*entry;
	struct action_io		*io;
	struct action_ctx		 ctx;
	struct ks_wait			*w;
	struct timespec			 ts;
	json_t				*in, *tok;
	int64_t				 status;
	int				 rc;

	entry = action_find("os.request");
	io = api->engine != NULL ? engine_io(api->engine) : NULL;
	if (entry == NULL || io == NULL) {
		*why = xstrdup("no I/O loop to ask Keystone with");
		return (-1);
	}
	w = xcalloc(1, sizeof *w);
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->refs = 2;
	in = json_pack("{s:s,s:s,s:{s:s},s:[iii],s:i}", "service", "identity",
	    "path", "/v3/auth/tokens", "headers", "X-Subject-Token", token,
	    "expected", 200, 401, 404, "timeout", KS_TIMEOUT_MS / 1000);
	memset(&ctx, 0, sizeof ctx);
	action_run(entry, in, &ctx, io, ks_done, w);
	json_decref(in);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += KS_TIMEOUT_MS / 1000 + 5;
	pthread_mutex_lock(&w->mtx);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cond, &w->mtx, &ts) != 0)
			break;
	if (!w->done) {
		ks_wait_put(w);
		*why = xstrdup("Keystone did not answer");
		return (-1);
	}
	status = json_integer_value(json_object_get(w->result, "status"));
	tok = json_object_get(json_object_get(w->result, "content"), "token");
	if (!w->ok || status == 0) {
		xasprintf(why, "cannot ask Keystone: %s", json_is_string(
		    w->result) ? json_string_value(w->result) :
		    json_string_value(json_object_get(w->result, "message")) !=
		    NULL ? json_string_value(json_object_get(w->result,
		    "message")) : "error");
		rc = -1;
	} else if (status == 401) {
		*why = xstrdup("Keystone refused borad's own credentials");
		rc = -1;
	} else if (status != 200 || !json_is_object(tok)) {
		xasprintf(why, "Keystone does not know the token (%lld)",
		    (long long)status);
		rc = 0;
	} else if (json_string_value(json_object_get(tok,
	    "expires_at")) == NULL || time_parse_iso(json_string_value(
	    json_object_get(tok, "expires_at")), until) != 0 ||
	    *until <= time_now_ms()) {
		*why = xstrdup("the token has expired");
		rc = 0;
	} else
		rc = ks_roles(tok, &api->cfg, why);
	ks_wait_put(w);
	return (rc);
}

/*
 * Is this X-Auth-Token one Keystone vouches for, with the roles asked?
 * 1 yes; 0 no, with *why (the caller frees) saying why without the
 * token.
 */
int
api_keystone_check(struct api *api, const char *token, char **why)
{
	char		 key[65];
	json_t		*c;
	int64_t		 now = time_now_ms(), until = 0;
	int		 rc;

	*why = NULL;
	ks_digest(token, key);
	pthread_mutex_lock(&ks_mtx);
	if (ks_cache == NULL)
		ks_cache = json_object();
	c = json_object_get(ks_cache, key);
	if (c != NULL && json_integer_value(json_object_get(c, "until")) >
	    now) {
		rc = json_is_true(json_object_get(c, "ok"));
		if (!rc)
			*why = xstrdup(json_string_value(json_object_get(c,
			    "why")));
		pthread_mutex_unlock(&ks_mtx);
		return (rc);
	}
	pthread_mutex_unlock(&ks_mtx);

	rc = ks_ask(api, token, &until, why);
	if (rc < 0)
		return (0);		/* not remembered: ask again */
	pthread_mutex_lock(&ks_mtx);
	if (json_object_size(ks_cache) >= KS_CACHE_MAX)
		json_object_clear(ks_cache);
	json_object_set_new(ks_cache, key, json_pack("{s:I,s:b,s:s}",
	    "until", (json_int_t)(rc ? until : now + KS_NEGATIVE_MS),
	    "ok", rc, "why", *why != NULL ? *why : ""));
	pthread_mutex_unlock(&ks_mtx);
	return (rc);
}
