/*
 * dl.c -- load libcurl, libpq, libssh, libsystemd and libcrypto only
 * when they are needed.
 *
 * Linked normally, these bring some thirty more libraries with
 * them (OpenSSL, GnuTLS, Kerberos, LDAP...): the dynamic loader spent a
 * third of the time of a short `bora run` mapping and relocating them,
 * and curl_global_init another few percent initialising TLS, while most
 * processes never make an HTTP request, open an SSH session nor
 * connect to PostgreSQL, and sd_notify does nothing outside systemd.
 * libcrypto alone (HMAC and SHA-256 for alarm credentials, the HTTP
 * API and signed notifications) cost some 22,000 relocations at every
 * start.  So the libraries are opened with dlopen by SONAME (found by
 * configure) the first time a caller needs one, and the functions used
 * are taken with dlsym into tables that dl.h maps the usual names to.
 * Loading runs under pthread_once, and a missing library is an error
 * naming the package to install, not a crash.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#define DL_NO_MACROS
#include "dl/dl.h"

#ifndef DL_CURL_SONAME
#define DL_CURL_SONAME		"libcurl.so.4"
#endif
#ifndef DL_PQ_SONAME
#define DL_PQ_SONAME		"libpq.so.5"
#endif
#ifndef DL_SSH_SONAME
#define DL_SSH_SONAME		"libssh.so.4"
#endif
#ifndef DL_CRYPTO_SONAME
#define DL_CRYPTO_SONAME	"libcrypto.so.3"
#endif
#ifdef DL_CRYPTO_SONAME_TEST	/* tests/unit/test-dl-missing: not there */
#undef DL_CRYPTO_SONAME
#define DL_CRYPTO_SONAME	DL_CRYPTO_SONAME_TEST
#endif
#ifndef DL_SYSTEMD_SONAME
#define DL_SYSTEMD_SONAME	"libsystemd.so.0"
#endif

/* One library: loaded once; cause is set if that failed. */
struct dl_lib {
	const char	*soname;
	pthread_once_t	 once;
	void		*handle;
	char		*cause;
};

/* Take fn from handle h into table, or go to missing. */
#define DL_SYM(table, fn) do {						\
	if (((table).fn = (__typeof__((table).fn))dlsym(h, #fn)) == NULL) { \
		name = #fn;						\
		goto missing;						\
	}								\
} while (0);
#define DL_CURL_SYM(fn)		DL_SYM(dl_curl, fn)
#define DL_PQ_SYM(fn)		DL_SYM(dl_pq, fn)
#define DL_SSH_SYM(fn)		DL_SYM(dl_ssh, fn)
#define DL_CRYPTO_SYM(fn)	DL_SYM(dl_crypto, fn)
#define DL_SYSTEMD_SYM(fn)	DL_SYM(dl_systemd, fn)

struct dl_curl_fns	dl_curl;
struct dl_pq_fns	dl_pq;
struct dl_ssh_fns	dl_ssh;
struct dl_crypto_fns	dl_crypto;

static struct dl_lib	dl_curl_lib = { DL_CURL_SONAME, PTHREAD_ONCE_INIT,
			    NULL, NULL };
static struct dl_lib	dl_pq_lib = { DL_PQ_SONAME, PTHREAD_ONCE_INIT,
			    NULL, NULL };
static struct dl_lib	dl_ssh_lib = { DL_SSH_SONAME, PTHREAD_ONCE_INIT,
			    NULL, NULL };
static struct dl_lib	dl_crypto_lib = { DL_CRYPTO_SONAME,
			    PTHREAD_ONCE_INIT, NULL, NULL };

/* Libraries whose Debian package is named after another one. */
static const struct {
	const char	*lib;
	const char	*package;
} dl_packages[] = {
	{ "libcrypto", "libssl" }	/* libcrypto.so.3 is in libssl3 */
};

static char	*dl_package(const char *);
static void	*dl_lib_open(struct dl_lib *);
static void	 dl_lib_missing(struct dl_lib *, const char *, void *,
		     void *, size_t);
static int	 dl_lib_result(struct dl_lib *, char **);
static void	 dl_curl_once(void);
static void	 dl_pq_once(void);
static void	 dl_ssh_once(void);
static void	 dl_crypto_once(void);

/*
 * The Debian package shipping a SONAME: libpq.so.5 is in libpq5,
 * libcrypto.so.3 in libssl3 (dl_packages[]).
 */
static char *
dl_package(const char *soname)
{
	const char	*so, *ver, *name = soname;
	char		*pkg;
	size_t		 len, vlen, i;

	if ((so = strstr(soname, ".so.")) == NULL)
		return (xstrdup(soname));
	len = so - soname;
	ver = so + 4;
	vlen = strcspn(ver, ".");
	for (i = 0; i < nitems(dl_packages); i++) {
		if (strlen(dl_packages[i].lib) == len &&
		    strncmp(soname, dl_packages[i].lib, len) == 0) {
			name = dl_packages[i].package;
			len = strlen(name);
			break;
		}
	}
	if (len > 0 && name[len - 1] >= '0' && name[len - 1] <= '9')
		xasprintf(&pkg, "%.*s-%.*s", (int)len, name, (int)vlen, ver);
	else
		xasprintf(&pkg, "%.*s%.*s", (int)len, name, (int)vlen, ver);
	return (pkg);
}

/* dlopen by SONAME; NULL and *cause naming the package on failure. */
void *
dl_open(const char *soname, char **cause)
{
	void		*h;
	const char	*err;
	char		*pkg;
	size_t		 len;

	*cause = NULL;
	if ((h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) != NULL)
		return (h);
	if ((err = dlerror()) == NULL)
		err = "unknown error";
	len = strlen(soname);
	if (strncmp(err, soname, len) == 0 && err[len] == ':')
		err += len + 1 + (err[len + 1] == ' ');
	pkg = dl_package(soname);
	xasprintf(cause, "cannot load %s: %s; install %s", soname, err, pkg);
	free(pkg);
	return (NULL);
}

/* Open a library for its once function; NULL with lib->cause set. */
static void *
dl_lib_open(struct dl_lib *lib)
{
	lib->handle = dl_open(lib->soname, &lib->cause);
	return (lib->handle);
}

/* A symbol is missing: record why, close and clear the table. */
static void
dl_lib_missing(struct dl_lib *lib, const char *name, void *h, void *table,
    size_t size)
{
	const char	*err;
	char		*pkg;

	if ((err = dlerror()) == NULL)
		err = "not found";
	pkg = dl_package(lib->soname);
	xasprintf(&lib->cause, "cannot use %s: no %s (%s); install a newer "
	    "%s", lib->soname, name, err, pkg);
	free(pkg);
	memset(table, 0, size);
	dlclose(h);
	lib->handle = NULL;
}

/* The outcome of a once function: 0, or -1 and a copy of its cause. */
static int
dl_lib_result(struct dl_lib *lib, char **cause)
{
	*cause = NULL;
	if (lib->handle != NULL)
		return (0);
	*cause = xstrdup(lib->cause != NULL ? lib->cause : "not loaded");
	return (-1);
}

/* Load libcurl and initialise it (curl_global_init is not thread-safe). */
static void
dl_curl_once(void)
{
	void		*h;
	const char	*name;
	CURLcode	 rc;

	if ((h = dl_lib_open(&dl_curl_lib)) == NULL)
		return;
	DL_CURL_FUNCS(DL_CURL_SYM)
	if ((rc = dl_curl.curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		xasprintf(&dl_curl_lib.cause, "curl_global_init: %s",
		    dl_curl.curl_easy_strerror(rc));
		memset(&dl_curl, 0, sizeof dl_curl);
		dlclose(h);
		dl_curl_lib.handle = NULL;
	}
	return;

missing:
	dl_lib_missing(&dl_curl_lib, name, h, &dl_curl, sizeof dl_curl);
}

/* Load libcurl and run curl_global_init, once. */
int
dl_curl_load(char **cause)
{
	pthread_once(&dl_curl_lib.once, dl_curl_once);
	return (dl_lib_result(&dl_curl_lib, cause));
}

/* Load libpq. */
static void
dl_pq_once(void)
{
	void		*h;
	const char	*name;

	if ((h = dl_lib_open(&dl_pq_lib)) == NULL)
		return;
	DL_PQ_FUNCS(DL_PQ_SYM)
	return;

missing:
	dl_lib_missing(&dl_pq_lib, name, h, &dl_pq, sizeof dl_pq);
}

/* Load libpq, once. */
int
dl_pq_load(char **cause)
{
	pthread_once(&dl_pq_lib.once, dl_pq_once);
	return (dl_lib_result(&dl_pq_lib, cause));
}

/* Load libssh and initialise it (ssh_init is not thread-safe). */
static void
dl_ssh_once(void)
{
	void		*h;
	const char	*name;

	if ((h = dl_lib_open(&dl_ssh_lib)) == NULL)
		return;
	DL_SSH_FUNCS(DL_SSH_SYM)
	if (dl_ssh.ssh_init() != SSH_OK) {
		xasprintf(&dl_ssh_lib.cause, "ssh_init failed");
		memset(&dl_ssh, 0, sizeof dl_ssh);
		dlclose(h);
		dl_ssh_lib.handle = NULL;
	}
	return;

missing:
	dl_lib_missing(&dl_ssh_lib, name, h, &dl_ssh, sizeof dl_ssh);
}

/* Load libssh and run ssh_init, once. */
int
dl_ssh_load(char **cause)
{
	pthread_once(&dl_ssh_lib.once, dl_ssh_once);
	return (dl_lib_result(&dl_ssh_lib, cause));
}

/* Load libcrypto. */
static void
dl_crypto_once(void)
{
	void		*h;
	const char	*name;

	if ((h = dl_lib_open(&dl_crypto_lib)) == NULL)
		return;
	DL_CRYPTO_FUNCS(DL_CRYPTO_SYM)
	return;

missing:
	dl_lib_missing(&dl_crypto_lib, name, h, &dl_crypto, sizeof dl_crypto);
}

/* Load libcrypto, once. */
int
dl_crypto_load(char **cause)
{
	pthread_once(&dl_crypto_lib.once, dl_crypto_once);
	return (dl_lib_result(&dl_crypto_lib, cause));
}

#ifdef HAVE_SYSTEMD
struct dl_systemd_fns	dl_systemd;

static struct dl_lib	dl_systemd_lib = { DL_SYSTEMD_SONAME,
			    PTHREAD_ONCE_INIT, NULL, NULL };

static void	 dl_systemd_once(void);

/* Load libsystemd. */
static void
dl_systemd_once(void)
{
	void		*h;
	const char	*name;

	if ((h = dl_lib_open(&dl_systemd_lib)) == NULL)
		return;
	DL_SYSTEMD_FUNCS(DL_SYSTEMD_SYM)
	return;

missing:
	dl_lib_missing(&dl_systemd_lib, name, h, &dl_systemd,
	    sizeof dl_systemd);
}

/* Load libsystemd, once. */
int
dl_systemd_load(char **cause)
{
	pthread_once(&dl_systemd_lib.once, dl_systemd_once);
	return (dl_lib_result(&dl_systemd_lib, cause));
}
#else
/* Built without libsystemd: there is nothing to load. */
int
dl_systemd_load(char **cause)
{
	xasprintf(cause, "built without libsystemd");
	return (-1);
}
#endif
