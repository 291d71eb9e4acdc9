/*
 * engine-outbox.c -- the sender of notifications: one thread per engine
 * that claims due rows of the outbox (engine-tell.c writes them with
 * the moves they report), posts each to its receiver on a curl multi
 * handle of its own, and records the outcome.  The engine's loop never
 * waits for a receiver.
 *
 * Delivery is at least once: a row is claimed under a lease and marked
 * SENT only after a 2xx; a receiver that fails or does not answer gets
 * the row again after a backoff that doubles (notify-backoff, up to
 * notify-backoff-max), and after notify-max-attempts it is given up
 * (DEAD), with a user message saying so, in one transaction.  An engine
 * killed mid-delivery leaves claims that expire (or, on the same host,
 * are taken back at once when the next engine starts), so the row goes
 * again; receivers tell repeats apart by the Idempotency-Key header,
 * the row's id.  The rows of one execution and receiver go out one at a
 * time, in order (the claim takes only the first pending one).  With
 * notify-secret each request carries X-Bora-Timestamp and
 * X-Bora-Signature: sha256=hex(HMAC-SHA256(secret, "TIMESTAMP:BODY"));
 * a request that cannot be signed (libcrypto missing) is not sent
 * unsigned but fails, and is retried like one its receiver refused.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dl/dl.h"
#include "msg/msg.h"
#include "engine/engine-int.h"

#define OUTBOX_POLL_MS		1000	/* look for due rows at least so */
#define OUTBOX_LEASE_EXTRA_MS	30000	/* a claim outlives a request so */
#define OUTBOX_ERR_MAX		200

/* One delivery in flight. */
struct outbox_send {
	struct store_outbox	*row;
	CURL			*h;
	struct curl_slist	*hdrs;
	char			*body;
	char			 err[CURL_ERROR_SIZE];
};

/* The outcome of a delivery, until the store has it. */
struct outbox_done {
	struct store_outbox	*row;
	int			 ok;
	char			*error;
};

struct engine_outbox {
	struct engine		*e;
	pthread_t		 thread;
	int			 wake;		/* e->outbox_wake[0] */
	atomic_int		 stop;
	CURLM			*multi;
	struct outbox_send	**fly;
	size_t			 nfly;
	struct outbox_done	*done;		/* not recorded yet */
	size_t			 ndone;
	int64_t			 lease_ms;
	int64_t			 next_claim;
};

/*
 * Wake the sender: new rows are in the outbox.  The pipe lives as long
 * as the engine, so any thread may poke at any time (a full pipe has
 * pokes enough).
 */
void
engine_outbox_poke(struct engine *e)
{
	ssize_t	 n;

	if (e->outbox_wake[1] != -1)
		n = write(e->outbox_wake[1], "p", 1);
	(void)n;
}

/* Discard what a receiver answers: only its status counts. */
static size_t
outbox_write_cb(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return (size * n);
}

/*
 * hex(HMAC-SHA256(key, "ts:body")) into out (65 bytes), libcrypto loaded
 * first; -1 and *cause if it fails.
 */
static int
outbox_sign(const char *key, const char *ts, const char *body, char *out,
    char **cause)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	char		*msg;
	size_t		 len = 0, i;
	int		 rc = -1;

	if (dl_crypto_load(cause) != 0)
		return (-1);
	xasprintf(&msg, "%s:%s", ts, body);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, strlen(key),
	    (unsigned char *)msg, strlen(msg), mac, sizeof mac, &len) !=
	    NULL && len == 32) {
		for (i = 0; i < len; i++) {
			out[2 * i] = "0123456789abcdef"[mac[i] >> 4];
			out[2 * i + 1] = "0123456789abcdef"[mac[i] & 15];
		}
		out[2 * len] = '\0';
		rc = 0;
	} else
		*cause = xstrdup("HMAC-SHA256 is not available");
	free(msg);
	return (rc);
}

/* A header line added to a request. */
static struct curl_slist *
outbox_header(struct curl_slist *l, const char *name, const char *value)
{
	struct curl_slist	*n;
	char			*line;

	xasprintf(&line, "%s: %s", name, value);
	n = curl_slist_append(l, line);
	free(line);
	return (n != NULL ? n : l);
}

/* Start delivering a claimed row. */
static void
outbox_send_start(struct engine_outbox *ob, struct store_outbox *row)
{
	struct engine		*e = ob->e;
	struct outbox_send	*x;
	const char		*k;
	json_t			*v;
	char			 ts[32], sig[80], hex[65], n[16], *why;

	x = xcalloc(1, sizeof *x);
	x->row = row;
	x->body = json_dumps(row->body != NULL ? row->body : json_null(),
	    JSON_COMPACT | JSON_ENCODE_ANY);
	if (x->body == NULL)
		x->body = xstrdup("null");
	x->hdrs = outbox_header(NULL, "Content-Type", "application/json");
	x->hdrs = outbox_header(x->hdrs, "Idempotency-Key", row->id);
	x->hdrs = outbox_header(x->hdrs, "X-Bora-Event", row->event);
	x->hdrs = outbox_header(x->hdrs, "X-Bora-Execution",
	    row->execution_id);
	snprintf(n, sizeof n, "%d", row->attempts + 1);
	x->hdrs = outbox_header(x->hdrs, "X-Bora-Attempt", n);
	json_object_foreach(row->headers, k, v) {
		if (json_is_string(v))
			x->hdrs = outbox_header(x->hdrs, k,
			    json_string_value(v));
	}
	if (e->notify_secret != NULL) {
		snprintf(ts, sizeof ts, "%lld",
		    (long long)(time_now_ms() / 1000));
		if (outbox_sign(e->notify_secret, ts, x->body, hex,
		    &why) != 0) {
			snprintf(x->err, sizeof x->err, "cannot sign: %s", why);
			log_warnx("notification %s: %s", row->id, x->err);
			free(why);
			goto fail;
		}
		snprintf(sig, sizeof sig, "sha256=%s", hex);
		x->hdrs = outbox_header(x->hdrs, "X-Bora-Timestamp", ts);
		x->hdrs = outbox_header(x->hdrs, "X-Bora-Signature", sig);
	}
	if ((x->h = curl_easy_init()) == NULL) {
		snprintf(x->err, sizeof x->err, "cannot make a request");
		goto fail;
	}
	curl_easy_setopt(x->h, CURLOPT_URL, row->target);
	curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(x->body));
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS,
	    (long)e->cfg.notify_timeout_ms);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->h, CURLOPT_USERAGENT, PACKAGE "/" VERSION);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->err);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, outbox_write_cb);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(ob->multi, x->h) != CURLM_OK) {
		snprintf(x->err, sizeof x->err, "cannot start a request");
		goto fail;
	}
	ob->fly = xreallocarray(ob->fly, ob->nfly + 1, sizeof *ob->fly);
	ob->fly[ob->nfly++] = x;
	return;
fail:
	ob->done = xreallocarray(ob->done, ob->ndone + 1, sizeof *ob->done);
	ob->done[ob->ndone].row = row;
	ob->done[ob->ndone].ok = 0;
	ob->done[ob->ndone++].error = xstrdup(x->err);
	if (x->h != NULL)
		curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	free(x->body);
	free(x);
}

/* A delivery ended: keep its outcome for the store, free the rest. */
static void
outbox_send_end(struct engine_outbox *ob, struct outbox_send *x,
    CURLcode cc)
{
	struct outbox_done	*d;
	long			 status = 0;
	size_t			 i;

	for (i = 0; i < ob->nfly; i++) {
		if (ob->fly[i] == x) {
			ob->fly[i] = ob->fly[--ob->nfly];
			break;
		}
	}
	curl_multi_remove_handle(ob->multi, x->h);
	ob->done = xreallocarray(ob->done, ob->ndone + 1, sizeof *ob->done);
	d = &ob->done[ob->ndone++];
	d->row = x->row;
	if (cc == CURLE_OK)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	d->ok = cc == CURLE_OK && status >= 200 && status <= 299;
	if (cc != CURLE_OK)
		xasprintf(&d->error, "%.*s", OUTBOX_ERR_MAX, x->err[0] != '\0' ?
		    x->err : curl_easy_strerror(cc));
	else if (!d->ok)
		xasprintf(&d->error, "HTTP %ld", status);
	else
		d->error = NULL;
	curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	free(x->body);
	free(x);
}

/* When the next attempt of a row is due: the backoff doubles. */
static int64_t
outbox_next_at(struct engine *e, int attempts)
{
	int64_t	 d = e->cfg.notify_backoff_ms;
	int	 i;

	for (i = 0; i < attempts && d < e->cfg.notify_backoff_max_ms; i++)
		d *= 2;
	if (d > e->cfg.notify_backoff_max_ms)
		d = e->cfg.notify_backoff_max_ms;
	/* Up to a tenth more, so that receivers are not hit in step. */
	d += d > 10 ? (int64_t)(random() % (d / 10)) : 0;
	return (time_now_ms() + d);
}

/*
 * The change set recording one outcome: sent, a retry, or given up with
 * a message to the user.  Returns the counter to bump.
 */
static enum engine_stat
outbox_record(struct engine *e, struct store *st, struct outbox_done *d,
    struct store_tx *tx)
{
	struct store_outbox	*r = d->row;
	struct store_exec	*ex = NULL;
	struct msg_about	 about;
	char			 n[16];

	if (d->ok) {
		store_tx_outbox_sent(tx, r->id, e->id);
		return (ENGINE_NOTIFY_SENT);
	}
	if (r->attempts + 1 < e->cfg.notify_max_attempts) {
		store_tx_outbox_retry(tx, r->id, e->id,
		    outbox_next_at(e, r->attempts), d->error);
		return (ENGINE_NOTIFY_RETRIED);
	}
	store_tx_outbox_dead(tx, r->id, e->id, d->error);
	(void)store_exec_load(st, r->execution_id, &ex);
	memset(&about, 0, sizeof about);
	about.resource_uuid = r->id;
	about.request_id = ex != NULL ? ex->request_id : NULL;
	about.project_id = ex != NULL ? json_string_value(json_object_get(
	    ex->params, "project_id")) : NULL;
	snprintf(n, sizeof n, "%d", r->attempts + 1);
	msg_tx_add(tx, MSG_NOTIFY_DEAD, &about, "event", r->event,
	    "execution", r->execution_id, "target", r->target, "attempts", n,
	    "reason", d->error, "notification", r->id, (char *)NULL);
	store_exec_free(ex);
	return (ENGINE_NOTIFY_DEAD);
}

/*
 * Record the outcomes in the store.  One that cannot be recorded now
 * (the store is down) waits for the next turn; one whose claim was lost
 * meanwhile (it took longer than the lease) is dropped: another sender
 * has it.
 */
static void
outbox_flush(struct engine_outbox *ob)
{
	struct engine		*e = ob->e;
	struct store		*st;
	struct store_tx		*tx;
	struct outbox_done	*d;
	enum engine_stat	 k;
	enum store_rc		 rc;
	char			*cause = NULL;
	size_t			 i, kept = 0;

	if (ob->ndone == 0)
		return;
	if ((st = store_pool_get(e->pool, &cause)) == NULL) {
		free(cause);
		return;
	}
	for (i = 0; i < ob->ndone; i++) {
		d = &ob->done[i];
		tx = store_tx_create();
		k = outbox_record(e, st, d, tx);
		rc = store_tx_commit(st, tx);
		store_tx_free(tx);
		if (rc == STORE_UNAVAILABLE) {
			ob->done[kept++] = *d;
			continue;
		}
		if (rc == STORE_OK)
			atomic_fetch_add(&e->stats[k], 1);
		else
			log_warnx("notification %s: %s", d->row->id,
			    store_error(st));
		if (rc == STORE_OK && k == ENGINE_NOTIFY_DEAD)
			log_warnx("notification %s (%s of execution %s): given "
			    "up after %d attempts: %s", d->row->id,
			    d->row->event, d->row->execution_id,
			    d->row->attempts + 1, d->error);
		store_outbox_free(d->row);
		free(d->error);
	}
	store_pool_put(e->pool);
	ob->ndone = kept;
}

/* Claim due rows, as many as may be in flight, and start them. */
static void
outbox_claim(struct engine_outbox *ob)
{
	struct engine		*e = ob->e;
	struct store_outbox	**rows = NULL;
	struct store		*st;
	char			*cause = NULL;
	size_t			 want, n = 0, i;

	want = e->cfg.notify_concurrency - ob->nfly;
	if (want == 0 || ob->ndone > 0)
		return;
	if ((st = store_pool_get(e->pool, &cause)) == NULL) {
		free(cause);
		return;
	}
	if (store_outbox_claim(st, e->id, ob->lease_ms, want, &rows, &n) !=
	    STORE_OK)
		log_debug("outbox: claim: %s", store_error(st));
	store_pool_put(e->pool);
	for (i = 0; i < n; i++)
		outbox_send_start(ob, rows[i]);
	free(rows);
}

/* Take back at start the claims of engines of this host that died. */
static void
outbox_takeover(struct engine_outbox *ob)
{
	struct engine	*e = ob->e;
	struct store	*st;
	char		**owners = NULL, *cause = NULL;
	size_t		 n = 0, i, got;

	if ((st = store_pool_get(e->pool, &cause)) == NULL) {
		free(cause);
		return;
	}
	if (store_outbox_owners(st, &owners, &n) == STORE_OK) {
		for (i = 0; i < n; i++) {
			if (engine_owner_dead(owners[i]) &&
			    store_outbox_release(st, owners[i], &got) ==
			    STORE_OK && got > 0)
				log_info("outbox: %zu notifications of %s, "
				    "gone, go again", got, owners[i]);
		}
	}
	for (i = 0; i < n; i++)
		free(owners[i]);
	free(owners);
	store_pool_put(e->pool);
}

/* Wait for a transfer, a poke or the next claim; drain the pokes. */
static void
outbox_wait(struct engine_outbox *ob)
{
	struct curl_waitfd	 w;
	int64_t			 ms;
	char			 buf[64];

	ms = ob->next_claim - time_mono_ms();
	if (ms < 0 || ob->ndone > 0)
		ms = ob->ndone > 0 ? 200 : 0;
	if (ms > OUTBOX_POLL_MS)
		ms = OUTBOX_POLL_MS;
	memset(&w, 0, sizeof w);
	w.fd = ob->wake;
	w.events = CURL_WAIT_POLLIN;
	curl_multi_poll(ob->multi, &w, 1, (int)ms, NULL);
	if (w.revents & CURL_WAIT_POLLIN) {
		while (read(ob->wake, buf, sizeof buf) > 0)
			continue;
		ob->next_claim = 0;	/* new rows: claim now */
	}
}

/* The sender's thread. */
static void *
outbox_thread(void *arg)
{
	struct engine_outbox	*ob = arg;
	struct engine		*e = ob->e;
	CURLMsg			*m;
	struct outbox_send	*x;
	char			*cause = NULL;
	size_t			 i, n;
	int			 running, left;

	outbox_takeover(ob);
	while (!atomic_load(&ob->stop)) {
		if (time_mono_ms() >= ob->next_claim) {
			ob->next_claim = time_mono_ms() + OUTBOX_POLL_MS;
			outbox_claim(ob);
		}
		curl_multi_perform(ob->multi, &running);
		while ((m = curl_multi_info_read(ob->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			x = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&x);
			if (x != NULL)
				outbox_send_end(ob, x, m->data.result);
		}
		n = ob->ndone;
		outbox_flush(ob);
		/* Something ended: its stream's next row may be due. */
		if (n > 0 && ob->ndone < n)
			ob->next_claim = 0;
		if (!atomic_load(&ob->stop))
			outbox_wait(ob);
	}
	/* Stopping: transfers cut short go again, from any engine. */
	for (i = 0; i < ob->nfly; i++) {
		x = ob->fly[i];
		curl_multi_remove_handle(ob->multi, x->h);
		curl_easy_cleanup(x->h);
		curl_slist_free_all(x->hdrs);
		store_outbox_free(x->row);
		free(x->body);
		free(x);
	}
	ob->nfly = 0;
	outbox_flush(ob);
	for (i = 0; i < ob->ndone; i++) {
		store_outbox_free(ob->done[i].row);
		free(ob->done[i].error);
	}
	ob->ndone = 0;
	{
		struct store	*st;

		if ((st = store_pool_get(e->pool, &cause)) != NULL) {
			(void)store_outbox_release(st, e->id, &n);
			store_pool_put(e->pool);
		}
		free(cause);
	}
	return (NULL);
}

/* Start the sender (see engine-int.h). */
int
engine_outbox_start(struct engine *e, char **cause)
{
	struct engine_outbox	*ob;

	if (e->outbox != NULL)
		return (0);
	if (e->outbox_wake[0] == -1) {
		xasprintf(cause, "outbox: no wake-up pipe");
		return (-1);
	}
	if (dl_curl_load(cause) != 0)
		return (-1);
	ob = xcalloc(1, sizeof *ob);
	ob->e = e;
	ob->wake = e->outbox_wake[0];
	ob->lease_ms = e->cfg.notify_timeout_ms + OUTBOX_LEASE_EXTRA_MS;
	if ((ob->multi = curl_multi_init()) == NULL) {
		xasprintf(cause, "outbox: curl_multi_init failed");
		free(ob);
		return (-1);
	}
	if (pthread_create(&ob->thread, NULL, outbox_thread, ob) != 0) {
		xasprintf(cause, "outbox: pthread_create: %s",
		    strerror(errno));
		curl_multi_cleanup(ob->multi);
		free(ob);
		return (-1);
	}
	e->outbox = ob;
	return (0);
}

/* Stop the sender: claims it holds go back; not started: no-op. */
void
engine_outbox_stop(struct engine *e)
{
	struct engine_outbox	*ob = e->outbox;

	if (ob == NULL)
		return;
	atomic_store(&ob->stop, 1);
	engine_outbox_poke(e);
	pthread_join(ob->thread, NULL);
	e->outbox = NULL;
	curl_multi_cleanup(ob->multi);
	free(ob->fly);
	free(ob->done);
	free(ob);
}
