/*
 * dl.h -- libcurl, libpq, libssh, libsystemd and libcrypto, loaded with
 * dlopen on first use.
 *
 * Include this instead of <curl/curl.h>, <libpq-fe.h>,
 * <libssh/libssh.h>, <systemd/sd-daemon.h> and the OpenSSL headers.
 * Each function bora uses is a member of a table filled by dlsym, and a
 * macro maps the function's name to that member, so a call reads as
 * before: PQclear(res) is (dl_pq.PQclear)(res).  Call dl_X_load before
 * the first use; it is cheap once loaded.
 */
#ifndef DL_H
#define DL_H

#ifdef CURLINC_TYPECHECK_GCC_H
#error "include dl/dl.h before <curl/curl.h>"
#endif
/* curl's type-checking macros would hide the names mapped below. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <libpq-fe.h>
#include <libssh/libssh.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* The functions taken from each library (X-macro lists). */
#define DL_CURL_FUNCS(X)						\
	X(curl_easy_cleanup) X(curl_easy_escape) X(curl_easy_getinfo)	\
	X(curl_easy_init) X(curl_easy_perform) X(curl_easy_reset)	\
	X(curl_easy_setopt) X(curl_easy_strerror) X(curl_free)		\
	X(curl_global_cleanup) X(curl_global_init)			\
	X(curl_mime_addpart) X(curl_mime_data) X(curl_mime_encoder)	\
	X(curl_mime_free) X(curl_mime_init) X(curl_mime_subparts)	\
	X(curl_mime_type)						\
	X(curl_multi_add_handle) X(curl_multi_cleanup)			\
	X(curl_multi_info_read) X(curl_multi_init)			\
	X(curl_multi_perform) X(curl_multi_poll)			\
	X(curl_multi_remove_handle)					\
	X(curl_slist_append) X(curl_slist_free_all)

#define DL_PQ_FUNCS(X)							\
	X(PQbackendPID) X(PQclear) X(PQcmdTuples)			\
	X(PQconnectdbParams) X(PQconsumeInput) X(PQenterPipelineMode)	\
	X(PQerrorMessage) X(PQexec) X(PQexecParams) X(PQexecPrepared)	\
	X(PQexitPipelineMode) X(PQfinish) X(PQflush) X(PQfreemem)	\
	X(PQgetResult) X(PQgetisnull) X(PQgetvalue)			\
	X(PQnotifies) X(PQntuples) X(PQpipelineSync)		\
	X(PQresultErrorField) X(PQresultErrorMessage)			\
	X(PQresultStatus) X(PQsendFlushRequest) X(PQsendPrepare)	\
	X(PQsendQueryParams) X(PQsendQueryPrepared)			\
	X(PQsetErrorVerbosity) X(PQsetNoticeProcessor) X(PQsocket)	\
	X(PQstatus) X(PQtransactionStatus)

#define DL_SSH_FUNCS(X)							\
	X(ssh_channel_close) X(ssh_channel_free)			\
	X(ssh_channel_get_exit_status) X(ssh_channel_is_closed)		\
	X(ssh_channel_is_eof) X(ssh_channel_new)			\
	X(ssh_channel_open_session) X(ssh_channel_read_nonblocking)	\
	X(ssh_channel_request_exec) X(ssh_channel_send_eof)		\
	X(ssh_connect) X(ssh_disconnect) X(ssh_free) X(ssh_get_error)	\
	X(ssh_get_poll_flags) X(ssh_init) X(ssh_key_free) X(ssh_new)	\
	X(ssh_options_set) X(ssh_pki_import_privkey_base64)		\
	X(ssh_pki_import_privkey_file) X(ssh_session_is_known_server)	\
	X(ssh_set_blocking) X(ssh_userauth_password)			\
	X(ssh_userauth_publickey) X(ssh_userauth_publickey_auto)

#define DL_CRYPTO_FUNCS(X)						\
	X(CRYPTO_memcmp) X(EVP_DecodeBlock) X(EVP_Digest)		\
	X(EVP_EncodeBlock) X(EVP_MAC_CTX_free) X(EVP_MAC_CTX_new)	\
	X(EVP_MAC_fetch) X(EVP_MAC_final) X(EVP_MAC_free)		\
	X(EVP_MAC_init) X(EVP_MAC_update) X(EVP_Q_mac) X(EVP_sha256)	\
	X(OPENSSL_cleanse) X(OPENSSL_hexchar2int)			\
	X(OSSL_PARAM_construct_end) X(OSSL_PARAM_construct_utf8_string)	\
	X(SHA256)

#ifdef HAVE_SYSTEMD
#define DL_SYSTEMD_FUNCS(X)						\
	X(sd_notify) X(sd_watchdog_enabled)
#endif

#define DL_MEMBER(fn)	__typeof__(fn) *fn;

/* Filled by dl_curl_load; all NULL before. */
struct dl_curl_fns {
	DL_CURL_FUNCS(DL_MEMBER)
};
extern struct dl_curl_fns dl_curl;

/* Filled by dl_pq_load; all NULL before. */
struct dl_pq_fns {
	DL_PQ_FUNCS(DL_MEMBER)
};
extern struct dl_pq_fns dl_pq;

/* Filled by dl_ssh_load; all NULL before. */
struct dl_ssh_fns {
	DL_SSH_FUNCS(DL_MEMBER)
};
extern struct dl_ssh_fns dl_ssh;

/* Filled by dl_crypto_load; all NULL before. */
struct dl_crypto_fns {
	DL_CRYPTO_FUNCS(DL_MEMBER)
};
extern struct dl_crypto_fns dl_crypto;

#ifdef HAVE_SYSTEMD
/* Filled by dl_systemd_load; all NULL before. */
struct dl_systemd_fns {
	DL_SYSTEMD_FUNCS(DL_MEMBER)
};
extern struct dl_systemd_fns dl_systemd;
#endif

/*
 * Load the library once (thread-safe) and fill its table; 0, or -1 and
 * *cause ("cannot load libpq.so.5: ...; install libpq5") on failure,
 * the same failure on every later call.  dl_curl_load also runs
 * curl_global_init(CURL_GLOBAL_DEFAULT), once, and dl_ssh_load
 * ssh_init().  Without libsystemd at build time dl_systemd_load always
 * fails.  libcrypto (HMAC, SHA-256, base64) is in Debian's libssl3.
 */
int	 dl_curl_load(char **cause);
int	 dl_pq_load(char **cause);
int	 dl_ssh_load(char **cause);
int	 dl_crypto_load(char **cause);
int	 dl_systemd_load(char **cause);
/* dlopen by SONAME; NULL and *cause naming the package on failure. */
void	*dl_open(const char *soname, char **cause);

/*
 * Map each name to its table member.  dl.c, which fills the tables by
 * member name, defines DL_NO_MACROS.
 */
#ifndef DL_NO_MACROS
#undef curl_easy_getinfo
#undef curl_easy_setopt
#undef curl_multi_setopt
#define curl_easy_cleanup	(dl_curl.curl_easy_cleanup)
#define curl_easy_escape	(dl_curl.curl_easy_escape)
#define curl_easy_getinfo	(dl_curl.curl_easy_getinfo)
#define curl_easy_init		(dl_curl.curl_easy_init)
#define curl_easy_perform	(dl_curl.curl_easy_perform)
#define curl_easy_reset		(dl_curl.curl_easy_reset)
#define curl_easy_setopt	(dl_curl.curl_easy_setopt)
#define curl_easy_strerror	(dl_curl.curl_easy_strerror)
#define curl_free		(dl_curl.curl_free)
#define curl_global_cleanup	(dl_curl.curl_global_cleanup)
#define curl_global_init	(dl_curl.curl_global_init)
#define curl_mime_addpart	(dl_curl.curl_mime_addpart)
#define curl_mime_data		(dl_curl.curl_mime_data)
#define curl_mime_encoder	(dl_curl.curl_mime_encoder)
#define curl_mime_free		(dl_curl.curl_mime_free)
#define curl_mime_init		(dl_curl.curl_mime_init)
#define curl_mime_subparts	(dl_curl.curl_mime_subparts)
#define curl_mime_type		(dl_curl.curl_mime_type)
#define curl_multi_add_handle	(dl_curl.curl_multi_add_handle)
#define curl_multi_cleanup	(dl_curl.curl_multi_cleanup)
#define curl_multi_info_read	(dl_curl.curl_multi_info_read)
#define curl_multi_init		(dl_curl.curl_multi_init)
#define curl_multi_perform	(dl_curl.curl_multi_perform)
#define curl_multi_poll		(dl_curl.curl_multi_poll)
#define curl_multi_remove_handle (dl_curl.curl_multi_remove_handle)
#define curl_slist_append	(dl_curl.curl_slist_append)
#define curl_slist_free_all	(dl_curl.curl_slist_free_all)

#define PQbackendPID		(dl_pq.PQbackendPID)
#define PQclear			(dl_pq.PQclear)
#define PQcmdTuples		(dl_pq.PQcmdTuples)
#define PQconnectdbParams	(dl_pq.PQconnectdbParams)
#define PQconsumeInput		(dl_pq.PQconsumeInput)
#define PQenterPipelineMode	(dl_pq.PQenterPipelineMode)
#define PQerrorMessage		(dl_pq.PQerrorMessage)
#define PQexec			(dl_pq.PQexec)
#define PQexecParams		(dl_pq.PQexecParams)
#define PQexecPrepared		(dl_pq.PQexecPrepared)
#define PQexitPipelineMode	(dl_pq.PQexitPipelineMode)
#define PQfinish		(dl_pq.PQfinish)
#define PQflush			(dl_pq.PQflush)
#define PQfreemem		(dl_pq.PQfreemem)
#define PQgetResult		(dl_pq.PQgetResult)
#define PQgetisnull		(dl_pq.PQgetisnull)
#define PQgetvalue		(dl_pq.PQgetvalue)
#define PQnotifies		(dl_pq.PQnotifies)
#define PQntuples		(dl_pq.PQntuples)
#define PQpipelineSync		(dl_pq.PQpipelineSync)
#define PQresultErrorField	(dl_pq.PQresultErrorField)
#define PQresultErrorMessage	(dl_pq.PQresultErrorMessage)
#define PQresultStatus		(dl_pq.PQresultStatus)
#define PQsendFlushRequest	(dl_pq.PQsendFlushRequest)
#define PQsendPrepare		(dl_pq.PQsendPrepare)
#define PQsendQueryParams	(dl_pq.PQsendQueryParams)
#define PQsendQueryPrepared	(dl_pq.PQsendQueryPrepared)
#define PQsetErrorVerbosity	(dl_pq.PQsetErrorVerbosity)
#define PQsetNoticeProcessor	(dl_pq.PQsetNoticeProcessor)
#define PQsocket		(dl_pq.PQsocket)
#define PQstatus		(dl_pq.PQstatus)
#define PQtransactionStatus	(dl_pq.PQtransactionStatus)

#define ssh_channel_close	(dl_ssh.ssh_channel_close)
#define ssh_channel_free	(dl_ssh.ssh_channel_free)
#define ssh_channel_get_exit_status (dl_ssh.ssh_channel_get_exit_status)
#define ssh_channel_is_closed	(dl_ssh.ssh_channel_is_closed)
#define ssh_channel_is_eof	(dl_ssh.ssh_channel_is_eof)
#define ssh_channel_new		(dl_ssh.ssh_channel_new)
#define ssh_channel_open_session (dl_ssh.ssh_channel_open_session)
#define ssh_channel_read_nonblocking (dl_ssh.ssh_channel_read_nonblocking)
#define ssh_channel_request_exec (dl_ssh.ssh_channel_request_exec)
#define ssh_channel_send_eof	(dl_ssh.ssh_channel_send_eof)
#define ssh_connect		(dl_ssh.ssh_connect)
#define ssh_disconnect		(dl_ssh.ssh_disconnect)
#define ssh_free		(dl_ssh.ssh_free)
#define ssh_get_error		(dl_ssh.ssh_get_error)
#define ssh_get_poll_flags	(dl_ssh.ssh_get_poll_flags)
#define ssh_init		(dl_ssh.ssh_init)
#define ssh_key_free		(dl_ssh.ssh_key_free)
#define ssh_new			(dl_ssh.ssh_new)
#define ssh_options_set		(dl_ssh.ssh_options_set)
#define ssh_pki_import_privkey_base64 (dl_ssh.ssh_pki_import_privkey_base64)
#define ssh_pki_import_privkey_file (dl_ssh.ssh_pki_import_privkey_file)
#define ssh_session_is_known_server (dl_ssh.ssh_session_is_known_server)
#define ssh_set_blocking	(dl_ssh.ssh_set_blocking)
#define ssh_userauth_password	(dl_ssh.ssh_userauth_password)
#define ssh_userauth_publickey	(dl_ssh.ssh_userauth_publickey)
#define ssh_userauth_publickey_auto (dl_ssh.ssh_userauth_publickey_auto)

#define CRYPTO_memcmp		(dl_crypto.CRYPTO_memcmp)
#define EVP_DecodeBlock		(dl_crypto.EVP_DecodeBlock)
#define EVP_Digest		(dl_crypto.EVP_Digest)
#define EVP_EncodeBlock		(dl_crypto.EVP_EncodeBlock)
#define EVP_MAC_CTX_free	(dl_crypto.EVP_MAC_CTX_free)
#define EVP_MAC_CTX_new		(dl_crypto.EVP_MAC_CTX_new)
#define EVP_MAC_fetch		(dl_crypto.EVP_MAC_fetch)
#define EVP_MAC_final		(dl_crypto.EVP_MAC_final)
#define EVP_MAC_free		(dl_crypto.EVP_MAC_free)
#define EVP_MAC_init		(dl_crypto.EVP_MAC_init)
#define EVP_MAC_update		(dl_crypto.EVP_MAC_update)
#define EVP_Q_mac		(dl_crypto.EVP_Q_mac)
#define EVP_sha256		(dl_crypto.EVP_sha256)
#define OPENSSL_cleanse		(dl_crypto.OPENSSL_cleanse)
#define OPENSSL_hexchar2int	(dl_crypto.OPENSSL_hexchar2int)
#define OSSL_PARAM_construct_end (dl_crypto.OSSL_PARAM_construct_end)
#define OSSL_PARAM_construct_utf8_string \
	(dl_crypto.OSSL_PARAM_construct_utf8_string)
#define SHA256			(dl_crypto.SHA256)

#ifdef HAVE_SYSTEMD
#define sd_notify		(dl_systemd.sd_notify)
#define sd_watchdog_enabled	(dl_systemd.sd_watchdog_enabled)
#endif
#endif /* !DL_NO_MACROS */

#endif /* DL_H */
