/*
 * engine-owner.c -- who owns an execution: an engine's id, "host:pid:x",
 * and whether the engine an id names is a process of this host that is
 * gone (its leases can then be taken at once).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine-int.h"

/* See engine-int.h. */
void
engine_owner_make(char *id, size_t size)
{
	char	 host[128];

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(id, size, "%.40s:%ld:%04x", host, (long)getpid(),
	    (unsigned)(time_mono_ms() & 0xffff));
}

/*
 * An owner "host:pid:x" on this host whose process is gone: its leases
 * can be taken at once instead of waiting for them to expire.
 */
int
engine_owner_dead(const char *owner)
{
	char	 host[128], *colon;
	long	 pid;
	size_t	 hl;

	if (owner == NULL)
		return (0);
	if (gethostname(host, sizeof host) != 0)
		return (0);
	host[sizeof host - 1] = '\0';
	hl = strlen(host) > 40 ? 40 : strlen(host);
	if (strncmp(owner, host, hl) != 0 || owner[hl] != ':')
		return (0);
	pid = strtol(owner + hl + 1, &colon, 10);
	if (pid <= 0 || *colon != ':')
		return (0);
	if (pid == (long)getpid())
		return (0);
	return (kill((pid_t)pid, 0) != 0 && errno == ESRCH);
}
