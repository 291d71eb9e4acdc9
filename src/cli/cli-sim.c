/*
 * cli-sim.c -- "bora sim": run the simulated cloud, bora-sim, found
 * next to this program (a build tree) or in the package's libexec
 * directory.  It is a program of its own so that bora does not load
 * libmicrohttpd; see src/sim/.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "cli/cli.h"

#ifndef BORA_LIBEXECDIR
#define BORA_LIBEXECDIR "/usr/local/libexec/bora"
#endif

/* Replace this process with bora-sim and the same arguments. */
int
cli_cmd_sim(const struct cli_cmd *cmd, int argc, char **argv)
{
	char	 self[PATH_MAX], *slash, *path = NULL, **args;
	ssize_t	 len;
	int	 i;

	len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len > 0) {
		self[len] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			xasprintf(&path, "%s/bora-sim", self);
			if (access(path, X_OK) != 0) {
				free(path);
				path = NULL;
			}
		}
	}
	if (path == NULL)
		path = xstrdup(BORA_LIBEXECDIR "/bora-sim");
	args = xcalloc((size_t)argc + 1, sizeof *args);
	args[0] = path;
	for (i = 1; i < argc; i++)
		args[i] = argv[i];
	fflush(stdout);
	execv(path, args);
	fprintf(stderr, "bora sim: %s: %s\n", path, strerror(errno));
	free(args);
	free(path);
	return (CLI_EXIT_FAIL);
}
