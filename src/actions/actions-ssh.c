/*
 * actions-ssh.c -- std.ssh: a command run through libssh on one host,
 * or on several in turn, as a job of the I/O loop.  The session is
 * non-blocking and each step runs when its socket is ready, so a slow or
 * silent host holds no engine worker and delays no other action; only
 * the name lookup, which cannot be made non-blocking, runs on a thread
 * of its own (action_io_offload) before the job starts.
 *
 * Parameters are Mistral's -- cmd, host (a name or a list of names),
 * username, password, private_key_filename (relative: under ~/.ssh of
 * the daemon's user; ".." refused), private_key (the key's text) -- and
 * bora's: port (22); known_hosts (a file; default ~/.ssh/known_hosts);
 * host_key_check (true: the host's key must be in known_hosts and
 * match); timeout (seconds the command may run, 600); connect_timeout
 * (seconds to connect and log in, 30); max_output (bytes of stdout and
 * of stderr kept, 1 MiB; more fails the action).  A key is tried first
 * (the password is its passphrase), then the password; with neither,
 * the daemon user's keys and agent.
 *
 * The result is the command's stdout, or the list of them for a list of
 * hosts.  A non-zero exit status fails the action with that status and
 * the end of stderr; the next hosts are not tried.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "actions/actions-int.h"

#define SSH_TICK_MS		100	/* longest wait without a step */
#define SSH_READ_CHUNK		16384
#define SSH_STDERR_SHOWN	1000	/* bytes of stderr in an error */

/* Where the work of the current host stands. */
enum ssh_phase {
	SSH_CONNECT,		/* TCP connect in progress */
	SSH_HANDSHAKE,		/* ssh_connect */
	SSH_AUTH_KEY,
	SSH_AUTH_PASSWORD,
	SSH_AUTH_AUTO,
	SSH_OPEN,		/* the session channel */
	SSH_EXEC,
	SSH_READ		/* until EOF and the exit status */
};

/* What a phase step says. */
enum ssh_next {
	SSH_WAIT,		/* wait for the socket (events set) */
	SSH_GO,			/* phase changed: step again now */
	SSH_FAIL,		/* s->error is set */
	SSH_HOST_DONE		/* the command ended: s->status */
};

/*
 * One std.ssh action.  job comes first so that the loop's pointer is
 * ours.  The resolver thread fills addrs and gai (one per host) before
 * the job is submitted; from then on only the loop thread touches it.
 */
struct action_ssh {
	struct action_job	 job;
	struct action_io	*io;
	action_done_cb		 done;
	void			*arg;

	char			*cmd;
	char			*user;
	char			*password;	/* NULL when none */
	char			*keyfile;
	char			*keytext;
	char			*known_hosts;
	char			 port[8];
	int			 check_host;
	int64_t			 timeout_ms;
	int64_t			 connect_ms;
	size_t			 max_output;

	char			**hosts;
	size_t			 nhosts;
	struct addrinfo		**addrs;
	int			*gai;
	json_t			*results;

	/* The current host. */
	size_t			 cur;
	enum ssh_phase		 phase;
	struct addrinfo		*ai;		/* address being tried */
	int			 sock;		/* polled; see sock_owned */
	int			 sock_owned;	/* libssh closes sock */
	int			 last_errno;
	ssh_session		 sess;
	ssh_channel		 chan;
	ssh_key			 key;
	int64_t			 deadline;
	struct buf		 out;
	struct buf		 err;
	int			 status;
	char			*error;
};

static void	 action_ssh_run(const struct action_entry *, json_t *,
		     const struct action_ctx *, struct action_io *,
		     action_done_cb, void *);
static int	 action_ssh_input(struct action_ssh *, json_t *, char **);
static void	 action_ssh_resolve(void *);
static int	 action_ssh_step(struct action_job *, short, int);
static enum ssh_next action_ssh_connect(struct action_ssh *, short);
static enum ssh_next action_ssh_handshake(struct action_ssh *);
static enum ssh_next action_ssh_hostkey(struct action_ssh *);
static enum ssh_next action_ssh_auth(struct action_ssh *);
static enum ssh_next action_ssh_open(struct action_ssh *);
static enum ssh_next action_ssh_read(struct action_ssh *);
static void	 action_ssh_wait_session(struct action_ssh *, int64_t);
static void	 action_ssh_close_host(struct action_ssh *);
static void	 action_ssh_free(struct action_ssh *);

static const struct action_param action_ssh_params[] = {
	{ "cmd", NULL, 1 },
	{ "host", NULL, 1 },
	{ "username", NULL, 1 },
	{ "password", "\"\"", 0 },
	{ "private_key_filename", "null", 0 },
	{ "private_key", "null", 0 },
	{ "port", "22", 0 },
	{ "known_hosts", "null", 0 },
	{ "host_key_check", "true", 0 },
	{ "timeout", "600", 0 },
	{ "connect_timeout", "30", 0 },
	{ "max_output", "1048576", 0 },
	{ NULL, NULL, 0 }
};

const struct action_entry action_std_ssh_entry = {
	.name = "std.ssh",
	.description = "Runs a command on a host (or on each of a list of "
	    "hosts) over SSH; the result is its stdout.",
	.params = action_ssh_params,
	.kind = ACTION_IO,
	.pure = 0,
	.run = action_ssh_run
};

/* Check the input, then resolve the hosts on a thread of their own. */
static void
action_ssh_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	struct action_ssh	*s;
	char			*cause;

	if (!action_can_start(ae, io, dl_ssh_load, done, arg))
		return;
	s = xcalloc(1, sizeof *s);
	s->io = io;
	s->done = done;
	s->arg = arg;
	s->sock = -1;
	s->status = -1;
	s->job.fd = -1;
	s->job.step = action_ssh_step;
	buf_init(&s->out, 0);
	buf_init(&s->err, 0);
	if (action_ssh_input(s, input, &cause) != 0 ||
	    action_io_offload(io, action_ssh_resolve, s, &cause) != 0) {
		action_ssh_free(s);
		action_fail_cause(ae, done, arg, cause);
	}
}

/* Read and check the input into s. */
static int
action_ssh_input(struct action_ssh *s, json_t *input, char **cause)
{
	json_t		*v, *h;
	const char	*str, *home;
	char		*end;
	json_int_t	 n;
	size_t		 i;

	if ((str = action_arg_string(input, "cmd")) == NULL || *str == '\0') {
		xasprintf(cause, "'cmd' must be a non-empty string");
		return (-1);
	}
	s->cmd = xstrdup(str);
	if ((str = action_arg_string(input, "username")) == NULL ||
	    *str == '\0') {
		xasprintf(cause, "'username' must be a non-empty string");
		return (-1);
	}
	s->user = xstrdup(str);

	v = json_object_get(input, "host");
	if (json_is_string(v)) {
		s->hosts = xcalloc(1, sizeof *s->hosts);
		s->hosts[s->nhosts++] = xstrdup(json_string_value(v));
	} else if (json_is_array(v) && json_array_size(v) > 0) {
		s->hosts = xcalloc(json_array_size(v), sizeof *s->hosts);
		json_array_foreach(v, i, h) {
			if (!json_is_string(h)) {
				xasprintf(cause, "'host' must be a name or a "
				    "list of names");
				return (-1);
			}
			s->hosts[s->nhosts++] = xstrdup(json_string_value(h));
		}
	} else {
		xasprintf(cause, "'host' must be a name or a list of names");
		return (-1);
	}
	for (i = 0; i < s->nhosts; i++) {
		if (*s->hosts[i] == '\0' ||
		    strpbrk(s->hosts[i], " \t\r\n@") != NULL) {
			xasprintf(cause, "'host': not a host name: '%s'",
			    s->hosts[i]);
			return (-1);
		}
	}
	s->addrs = xcalloc(s->nhosts, sizeof *s->addrs);
	s->gai = xcalloc(s->nhosts, sizeof *s->gai);

	v = json_object_get(input, "password");
	if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
		xasprintf(cause, "'password' must be a string");
		return (-1);
	}
	if ((str = json_string_value(v)) != NULL && *str != '\0')
		s->password = xstrdup(str);

	if ((str = action_arg_string(input, "private_key_filename")) != NULL &&
	    *str != '\0') {
		if (strstr(str, "..") != NULL) {
			xasprintf(cause, "'private_key_filename' must not "
			    "contain '..': %s", str);
			return (-1);
		}
		if (*str == '/')
			s->keyfile = xstrdup(str);
		else {
			if ((home = getenv("HOME")) == NULL || *home == '\0')
				home = "/";
			xasprintf(&s->keyfile, "%s/.ssh/%s", home, str);
		}
	}
	if ((str = action_arg_string(input, "private_key")) != NULL &&
	    *str != '\0')
		s->keytext = xstrdup(str);
	if ((str = action_arg_string(input, "known_hosts")) != NULL &&
	    *str != '\0')
		s->known_hosts = xstrdup(str);
	s->check_host = action_arg_bool(json_object_get(input,
	    "host_key_check"), 1);

	v = json_object_get(input, "port");
	n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (json_is_string(v)) {
		str = json_string_value(v);
		errno = 0;
		n = strtol(str, &end, 10);
		if (errno != 0 || end == str || *end != '\0')
			n = -1;
	}
	if (n < 1 || n > 65535) {
		xasprintf(cause, "'port' must be a number from 1 to 65535");
		return (-1);
	}
	snprintf(s->port, sizeof s->port, "%d", (int)n);

	if (action_arg_seconds(input, "timeout", &s->timeout_ms, cause) != 0 ||
	    action_arg_seconds(input, "connect_timeout", &s->connect_ms,
	    cause) != 0)
		return (-1);
	if (s->timeout_ms == 0 || s->connect_ms == 0) {
		xasprintf(cause, "'timeout' and 'connect_timeout' must be "
		    "more than 0");
		return (-1);
	}
	v = json_object_get(input, "max_output");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		xasprintf(cause, "'max_output' must be a number of bytes");
		return (-1);
	}
	s->max_output = (size_t)json_integer_value(v);
	return (0);
}

/*
 * On a thread of its own: look every host up, then hand the job to the
 * loop (which may end it at once if it is stopping).
 */
static void
action_ssh_resolve(void *arg)
{
	struct action_ssh	*s = arg;
	struct addrinfo		 hints;
	size_t			 i;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	for (i = 0; i < s->nhosts; i++)
		s->gai[i] = getaddrinfo(s->hosts[i], s->port, &hints,
		    &s->addrs[i]);
	action_io_submit_job(s->io, &s->job);
}

/* Free an action, and the session of its current host if any. */
static void
action_ssh_free(struct action_ssh *s)
{
	size_t	 i;

	action_ssh_close_host(s);
	for (i = 0; i < s->nhosts; i++) {
		if (s->addrs[i] != NULL)
			freeaddrinfo(s->addrs[i]);
		free(s->hosts[i]);
	}
	free(s->hosts);
	free(s->addrs);
	free(s->gai);
	json_decref(s->results);
	buf_free(&s->out);
	buf_free(&s->err);
	free(s->cmd);
	free(s->user);
	if (s->password != NULL)
		explicit_bzero(s->password, strlen(s->password));
	free(s->password);
	free(s->keyfile);
	if (s->keytext != NULL)
		explicit_bzero(s->keytext, strlen(s->keytext));
	free(s->keytext);
	free(s->known_hosts);
	free(s->error);
	free(s);
}

/* Close the session of the current host (libssh closes its socket). */
static void
action_ssh_close_host(struct action_ssh *s)
{
	if (s->chan != NULL) {
		ssh_channel_close(s->chan);
		ssh_channel_free(s->chan);
		s->chan = NULL;
	}
	if (s->sess != NULL) {
		if (s->sock_owned)
			ssh_disconnect(s->sess);
		ssh_free(s->sess);
		s->sess = NULL;
	}
	if (!s->sock_owned && s->sock != -1)
		close(s->sock);
	s->sock = -1;
	s->sock_owned = 0;
	if (s->key != NULL) {
		ssh_key_free(s->key);
		s->key = NULL;
	}
	s->job.fd = -1;
}

/*
 * The job's step (loop thread): run the phases of the current host as
 * far as they go without blocking; move on to the next host when one
 * is done; complete the action at the end or at the first failure.
 */
static int
action_ssh_step(struct action_job *j, short revents, int stopping)
{
	struct action_ssh	*s = (struct action_ssh *)j;
	enum ssh_next		 next;
	const char		*host;
	char			*msg, *tail;
	size_t			 tlen;
	json_t			*res;

	if (stopping) {
		s->done(s->arg, 0, json_string("engine stopping"));
		action_ssh_free(s);
		return (0);
	}
	for (;;) {
		host = s->hosts[s->cur];
		if (s->phase != SSH_READ && s->deadline != 0 &&
		    time_mono_ms() >= s->deadline) {
			xasprintf(&s->error, "%s:%s: no connection and login "
			    "within %lld s", host, s->port,
			    (long long)(s->connect_ms / 1000));
			next = SSH_FAIL;
		} else if (s->phase == SSH_READ &&
		    time_mono_ms() >= s->deadline) {
			xasprintf(&s->error, "'%s' on %s did not end within "
			    "%lld s", s->cmd, host,
			    (long long)(s->timeout_ms / 1000));
			next = SSH_FAIL;
		} else {
			switch (s->phase) {
			case SSH_CONNECT:
				next = action_ssh_connect(s, revents);
				break;
			case SSH_HANDSHAKE:
				next = action_ssh_handshake(s);
				break;
			case SSH_AUTH_KEY:
			case SSH_AUTH_PASSWORD:
			case SSH_AUTH_AUTO:
				next = action_ssh_auth(s);
				break;
			case SSH_OPEN:
			case SSH_EXEC:
				next = action_ssh_open(s);
				break;
			default:
				next = action_ssh_read(s);
				break;
			}
		}
		revents = 0;
		if (next == SSH_WAIT)
			return (1);
		if (next == SSH_GO)
			continue;
		if (next == SSH_FAIL) {
			xasprintf(&msg, "std.ssh: %s", s->error);
			action_fail_new(s->done, s->arg, msg);
			action_ssh_free(s);
			return (0);
		}

		/* SSH_HOST_DONE */
		if (s->status != 0) {
			tlen = s->err.len;
			while (tlen > 0 && (s->err.data[tlen - 1] == '\n' ||
			    s->err.data[tlen - 1] == '\r'))
				tlen--;
			tail = s->err.data;
			if (tlen > SSH_STDERR_SHOWN) {
				tail += tlen - SSH_STDERR_SHOWN;
				tlen = SSH_STDERR_SHOWN;
			}
			if (s->status == -1)
				xasprintf(&msg, "std.ssh: '%s' on %s ended "
				    "without an exit status (killed by a "
				    "signal?)%s%.*s", s->cmd, host,
				    tlen != 0 ? ": " : "", (int)tlen,
				    tail != NULL ? tail : "");
			else
				xasprintf(&msg, "std.ssh: '%s' on %s exited "
				    "with status %d%s%.*s", s->cmd, host,
				    s->status, tlen != 0 ? ": " : "", (int)tlen,
				    tail != NULL ? tail : "");
			action_fail_new(s->done, s->arg, msg);
			action_ssh_free(s);
			return (0);
		}
		res = action_text(s->out.data != NULL ? s->out.data : "",
		    s->out.len);
		if (s->nhosts == 1) {
			s->done(s->arg, 1, res);
			action_ssh_free(s);
			return (0);
		}
		if (s->results == NULL)
			s->results = json_array();
		json_array_append_new(s->results, res);
		if (++s->cur == s->nhosts) {
			s->done(s->arg, 1, json_incref(s->results));
			action_ssh_free(s);
			return (0);
		}
		/* The next host, from the start. */
		action_ssh_close_host(s);
		buf_reset(&s->out);
		buf_reset(&s->err);
		s->phase = SSH_CONNECT;
		s->ai = NULL;
		s->deadline = 0;
		s->status = -1;
	}
}

/*
 * Connect to the current host: each of its addresses in turn, without
 * blocking.  The first call starts; later ones come with the socket
 * writable.
 */
static enum ssh_next
action_ssh_connect(struct action_ssh *s, short revents)
{
	const char	*host = s->hosts[s->cur];
	socklen_t	 len;
	int		 error;

	if (s->deadline == 0) {
		if (s->gai[s->cur] != 0) {
			xasprintf(&s->error, "cannot resolve %s: %s", host,
			    gai_strerror(s->gai[s->cur]));
			return (SSH_FAIL);
		}
		s->deadline = time_mono_ms() + s->connect_ms;
		s->ai = s->addrs[s->cur];
		s->last_errno = 0;
		revents = 0;
	} else if (s->sock != -1) {
		/* A connect in progress: finished when writable. */
		if ((revents & (POLLOUT | POLLERR | POLLHUP)) == 0) {
			s->job.events = POLLOUT;
			s->job.due = s->deadline;
			return (SSH_WAIT);
		}
		error = 0;
		len = sizeof error;
		if (getsockopt(s->sock, SOL_SOCKET, SO_ERROR, &error,
		    &len) == -1)
			error = errno;
		if (error == 0) {
			s->phase = SSH_HANDSHAKE;
			return (SSH_GO);
		}
		s->last_errno = error;
		close(s->sock);
		s->sock = -1;
		s->ai = s->ai->ai_next;
	}

	for (; s->ai != NULL; s->ai = s->ai->ai_next) {
		s->sock = socket(s->ai->ai_family, s->ai->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, s->ai->ai_protocol);
		if (s->sock == -1) {
			s->last_errno = errno;
			continue;
		}
		if (connect(s->sock, s->ai->ai_addr, s->ai->ai_addrlen) == 0) {
			s->phase = SSH_HANDSHAKE;
			return (SSH_GO);
		}
		if (errno == EINPROGRESS) {
			s->job.fd = s->sock;
			s->job.events = POLLOUT;
			s->job.due = s->deadline;
			return (SSH_WAIT);
		}
		s->last_errno = errno;
		close(s->sock);
		s->sock = -1;
	}
	xasprintf(&s->error, "cannot connect to %s port %s: %s", host, s->port,
	    strerror(s->last_errno != 0 ? s->last_errno : EHOSTUNREACH));
	return (SSH_FAIL);
}

/* Wait for the session's socket: readable, and writable if libssh is. */
static void
action_ssh_wait_session(struct action_ssh *s, int64_t until)
{
	int64_t	 tick = time_mono_ms() + SSH_TICK_MS;

	s->job.fd = s->sock;
	s->job.events = POLLIN;
	if (ssh_get_poll_flags(s->sess) & SSH_WRITE_PENDING)
		s->job.events |= POLLOUT;
	s->job.due = until < tick ? until : tick;
}

/* The SSH handshake on the connected socket, then the host key check. */
static enum ssh_next
action_ssh_handshake(struct action_ssh *s)
{
	const char	*host = s->hosts[s->cur];
	unsigned int	 port = (unsigned int)atoi(s->port);
	int		 off = 0, rc;

	if (s->sess == NULL) {
		if ((s->sess = ssh_new()) == NULL) {
			xasprintf(&s->error, "cannot make an SSH session");
			return (SSH_FAIL);
		}
		if (ssh_options_set(s->sess, SSH_OPTIONS_HOST, host) != 0 ||
		    ssh_options_set(s->sess, SSH_OPTIONS_PORT, &port) != 0 ||
		    ssh_options_set(s->sess, SSH_OPTIONS_USER, s->user) != 0 ||
		    ssh_options_set(s->sess, SSH_OPTIONS_PROCESS_CONFIG,
		    &off) != 0 ||
		    (s->known_hosts != NULL && ssh_options_set(s->sess,
		    SSH_OPTIONS_KNOWNHOSTS, s->known_hosts) != 0) ||
		    ssh_options_set(s->sess, SSH_OPTIONS_FD, &s->sock) != 0) {
			xasprintf(&s->error, "%s: %s", host,
			    ssh_get_error(s->sess));
			return (SSH_FAIL);
		}
		ssh_set_blocking(s->sess, 0);
	}
	/* From the first ssh_connect, libssh owns and closes the socket. */
	s->sock_owned = 1;
	rc = ssh_connect(s->sess);
	if (rc == SSH_AGAIN) {
		action_ssh_wait_session(s, s->deadline);
		return (SSH_WAIT);
	}
	if (rc != SSH_OK) {
		xasprintf(&s->error, "SSH handshake with %s port %s: %s", host,
		    s->port, ssh_get_error(s->sess));
		return (SSH_FAIL);
	}
	return (action_ssh_hostkey(s));
}

/* Check the host's key against known_hosts, unless told not to. */
static enum ssh_next
action_ssh_hostkey(struct action_ssh *s)
{
	const char	*host = s->hosts[s->cur];
	const char	*file, *why;
	char		 hp[300];

	file = s->known_hosts != NULL ? s->known_hosts : "~/.ssh/known_hosts";
	if (strcmp(s->port, "22") == 0)
		snprintf(hp, sizeof hp, "%s", host);
	else
		snprintf(hp, sizeof hp, "[%s]:%s", host, s->port);
	why = NULL;
	if (s->check_host) {
		switch (ssh_session_is_known_server(s->sess)) {
		case SSH_KNOWN_HOSTS_OK:
			break;
		case SSH_KNOWN_HOSTS_CHANGED:
			why = "its key does not match the one in";
			break;
		case SSH_KNOWN_HOSTS_OTHER:
			why = "its key is of another type than the one in";
			break;
		case SSH_KNOWN_HOSTS_NOT_FOUND:
			why = "there is no known_hosts file";
			break;
		case SSH_KNOWN_HOSTS_UNKNOWN:
			why = "it is not in";
			break;
		default:
			xasprintf(&s->error, "%s: checking the host key: %s",
			    hp, ssh_get_error(s->sess));
			return (SSH_FAIL);
		}
	}
	if (why != NULL) {
		xasprintf(&s->error, "host key of %s not trusted: %s %s (add "
		    "the key with: ssh-keyscan -p %s %s >> FILE, and give "
		    "known_hosts: FILE; or set host_key_check: false)", hp, why,
		    file, s->port, host);
		return (SSH_FAIL);
	}

	/* Log in: a key first, else the password, else the user's keys. */
	if (s->keyfile != NULL || s->keytext != NULL) {
		if ((s->keyfile != NULL ? ssh_pki_import_privkey_file(s->keyfile,
		    s->password, NULL, NULL, &s->key) :
		    ssh_pki_import_privkey_base64(s->keytext, s->password,
		    NULL, NULL, &s->key)) != SSH_OK) {
			xasprintf(&s->error, "cannot read the private key%s%s "
			    "(or its passphrase is wrong)", s->keyfile != NULL ?
			    " " : "", s->keyfile != NULL ? s->keyfile : "");
			return (SSH_FAIL);
		}
		s->phase = SSH_AUTH_KEY;
	} else if (s->password != NULL)
		s->phase = SSH_AUTH_PASSWORD;
	else
		s->phase = SSH_AUTH_AUTO;
	return (SSH_GO);
}

/* One authentication method, without blocking. */
static enum ssh_next
action_ssh_auth(struct action_ssh *s)
{
	const char	*how;
	int		 rc;

	switch (s->phase) {
	case SSH_AUTH_KEY:
		rc = ssh_userauth_publickey(s->sess, NULL, s->key);
		how = "with the key";
		break;
	case SSH_AUTH_PASSWORD:
		rc = ssh_userauth_password(s->sess, NULL, s->password);
		how = "with the password";
		break;
	default:
		rc = ssh_userauth_publickey_auto(s->sess, NULL, NULL);
		how = "with the daemon user's keys (no password nor key given)";
		break;
	}
	switch (rc) {
	case SSH_AUTH_SUCCESS:
		s->phase = SSH_OPEN;
		return (SSH_GO);
	case SSH_AUTH_AGAIN:
		action_ssh_wait_session(s, s->deadline);
		return (SSH_WAIT);
	case SSH_AUTH_DENIED:
	case SSH_AUTH_PARTIAL:
		if (s->phase == SSH_AUTH_KEY && s->password != NULL) {
			s->phase = SSH_AUTH_PASSWORD;
			return (SSH_GO);
		}
		xasprintf(&s->error, "%s@%s refused the login %s", s->user,
		    s->hosts[s->cur], how);
		return (SSH_FAIL);
	default:
		xasprintf(&s->error, "logging in to %s: %s", s->hosts[s->cur],
		    ssh_get_error(s->sess));
		return (SSH_FAIL);
	}
}

/* Open the session channel, then ask it to run the command. */
static enum ssh_next
action_ssh_open(struct action_ssh *s)
{
	int	 rc;

	if (s->chan == NULL && (s->chan = ssh_channel_new(s->sess)) == NULL) {
		xasprintf(&s->error, "%s: %s", s->hosts[s->cur],
		    ssh_get_error(s->sess));
		return (SSH_FAIL);
	}
	if (s->phase == SSH_OPEN)
		rc = ssh_channel_open_session(s->chan);
	else
		rc = ssh_channel_request_exec(s->chan, s->cmd);
	if (rc == SSH_AGAIN) {
		action_ssh_wait_session(s, s->deadline);
		return (SSH_WAIT);
	}
	if (rc != SSH_OK) {
		xasprintf(&s->error, "%s on %s: %s", s->phase == SSH_OPEN ?
		    "opening a channel" : "running the command",
		    s->hosts[s->cur], ssh_get_error(s->sess));
		return (SSH_FAIL);
	}
	if (s->phase == SSH_OPEN) {
		s->phase = SSH_EXEC;
		return (SSH_GO);
	}
	s->phase = SSH_READ;
	s->deadline = time_mono_ms() + s->timeout_ms;
	return (SSH_GO);
}

/*
 * Read stdout and stderr as far as they go, within max_output; the
 * command is over at EOF once its exit status came, or when the channel
 * closed without one.
 */
static enum ssh_next
action_ssh_read(struct action_ssh *s)
{
	char		 chunk[SSH_READ_CHUNK];
	struct buf	*b;
	int		 n, progress, stream;

	do {
		progress = 0;
		for (stream = 0; stream < 2; stream++) {
			n = ssh_channel_read_nonblocking(s->chan, chunk,
			    sizeof chunk, stream);
			if (n == SSH_ERROR) {
				xasprintf(&s->error, "reading from %s: %s",
				    s->hosts[s->cur], ssh_get_error(s->sess));
				return (SSH_FAIL);
			}
			if (n <= 0)
				continue;
			b = stream == 0 ? &s->out : &s->err;
			if (b->len + (size_t)n > s->max_output) {
				xasprintf(&s->error, "'%s' on %s wrote more "
				    "than %zu bytes on %s (max_output)", s->cmd,
				    s->hosts[s->cur], s->max_output,
				    stream == 0 ? "stdout" : "stderr");
				return (SSH_FAIL);
			}
			buf_add(b, chunk, (size_t)n);
			progress = 1;
		}
	} while (progress);

	if (ssh_channel_is_eof(s->chan) || ssh_channel_is_closed(s->chan)) {
		s->status = ssh_channel_get_exit_status(s->chan);
		if (s->status != -1 || ssh_channel_is_closed(s->chan))
			return (SSH_HOST_DONE);
	}
	action_ssh_wait_session(s, s->deadline);
	return (SSH_WAIT);
}
