/*
 * conf-data.c -- where bora's data folders (lua/, workflows/, actions/)
 * are: the one place bora and borad look for them.
 *
 * A program run from its build tree uses the source tree's folders, so
 * "./src/borad" and "./src/bora run" work before "make install"; a
 * program moved elsewhere with its data finds them beside it; else the
 * installed folders are used.
 */
#include "config.h"

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "conf/conf.h"

#ifndef BORA_DATADIR
#define BORA_DATADIR "/usr/local/share/bora"
#endif

/* 1 when path is a folder. */
static int
conf_data_isdir(const char *path)
{
	struct stat	 sb;

	return (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
}

/* The folder of the running program (resolved), or NULL. */
static char *
conf_data_exedir(void)
{
	char	 buf[PATH_MAX], *slash;
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", buf, sizeof buf - 1)) <= 0)
		return (NULL);
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		return (NULL);
	*slash = '\0';
	return (xstrdup(buf[0] == '\0' ? "/" : buf));
}

/* 1 when dir is the src/ folder of the build tree this was built in. */
static int
conf_data_in_build(const char *dir)
{
#if defined(BORA_BUILDDIR) && defined(BORA_SRCDIR)
	char	 a[PATH_MAX], b[PATH_MAX];

	if (realpath(BORA_BUILDDIR "/src", a) == NULL ||
	    realpath(dir, b) == NULL)
		return (0);
	return (strcmp(a, b) == 0);
#else
	(void)dir;
	return (0);
#endif
}

/* The data folder name (lua, workflows, actions); see conf.h. */
char *
conf_data_dir(const char *name)
{
	char	*exedir, *p = NULL, buf[PATH_MAX];

	exedir = conf_data_exedir();
#ifdef BORA_SRCDIR
	if (exedir != NULL && conf_data_in_build(exedir)) {
		xasprintf(&p, "%s/%s", BORA_SRCDIR, name);
		if (conf_data_isdir(p))
			goto out;
		free(p);
	}
#endif
	if (exedir != NULL) {
		xasprintf(&p, "%s/%s", exedir, name);
		if (conf_data_isdir(p))
			goto out;
		free(p);
		xasprintf(&p, "%s/../share/bora/%s", exedir, name);
		if (conf_data_isdir(p))
			goto out;
		free(p);
	}
	xasprintf(&p, "%s/%s", BORA_DATADIR, name);
	if (conf_data_isdir(p))
		goto out;
	free(p);
	p = NULL;
out:
	free(exedir);
	if (p != NULL && realpath(p, buf) != NULL) {
		free(p);
		p = xstrdup(buf);
	}
	return (p);
}

