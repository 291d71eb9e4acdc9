/*
 * conf-args.c -- borad's command line: its own flags and one long flag
 * per option of the table, the sources applied in order (defaults, the
 * -f file, the environment, the flags), paths made absolute, and the
 * checks that need nothing opened.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "conf/conf.h"

#ifndef BORA_DATADIR
#define BORA_DATADIR "/usr/local/share/bora"
#endif

/* getopt_long values of the flags that are not options. */
#define CONF_ARGS_MDOC		999
#define CONF_ARGS_OPTION	1000	/* + index in conf_options[] */

struct conf_flag {
	const char	*name;
	const char	*value;
};

/* Usage (help 0) or the options with their descriptions (help 1). */
static void
conf_usage(FILE *f, int help)
{
	size_t	 i;

	fprintf(f, "usage: borad [-dhnVv] [-f file] [--db URL] "
	    "[--listen HOST:PORT] [--workflows DIR]\n"
	    "             [--actions DIR] [--lua DIR] [--api-token TOKEN]\n"
	    "             [--grace SECONDS] [--log-json] "
	    "[--OPTION VALUE ...]\n");
	if (help)
		fprintf(f, "\n  -d  stay in the foreground, log to stderr\n"
		    "  -f  read options from a YAML file\n"
		    "  -n  check the configuration and every definition, "
		    "then exit\n"
		    "  -V  print the version\n"
		    "  -v  log more (repeatable)\n");
	fprintf(f, "\noptions (also BORA_<OPTION> in the environment, "
	    "and in the -f file):\n");
	for (i = 0; i < conf_noptions; i++) {
		fprintf(f, "  --%-22s %s\n", conf_options[i].name,
		    conf_options[i].arg);
		if (help && conf_options[i].help != NULL)
			fprintf(f, "      %s\n", conf_options[i].help);
	}
	if (help)
		fprintf(f, "\nSee borad(8) and borad.conf(5).\n");
}

/* An absolute path for a folder (the daemon changes to /). */
static char *
conf_abs_path(const char *p)
{
	char	 buf[PATH_MAX], *out;

	if (realpath(p, buf) != NULL)
		return (xstrdup(buf));
	if (p[0] == '/' || getcwd(buf, sizeof buf) == NULL)
		return (xstrdup(p));
	xasprintf(&out, "%s/%s", buf, p);
	return (out);
}

/* Make the store's file and the folders absolute. */
static void
conf_absolute(struct conf *conf)
{
	struct conf_list	*lists[] = { &conf->workflows, &conf->actions };
	char			*p;
	size_t			 i, j;

	if (conf->db != NULL && strncmp(conf->db, "sqlite:", 7) == 0 &&
	    conf->db[7] != '/' && strcmp(conf->db + 7, ":memory:") != 0) {
		p = conf_abs_path(conf->db + 7);
		free(conf->db);
		xasprintf(&conf->db, "sqlite:%s", p);
		free(p);
	}
	for (i = 0; i < nitems(lists); i++) {
		for (j = 0; j < lists[i]->n; j++) {
			p = conf_abs_path(lists[i]->v[j]);
			free(lists[i]->v[j]);
			lists[i]->v[j] = p;
		}
	}
	if (conf->lua != NULL) {
		p = conf_abs_path(conf->lua);
		free(conf->lua);
		conf->lua = p;
	}
}

/* Read borad's command line into conf (see conf.h). */
int
conf_args(struct conf *conf, struct conf_args *a, int argc, char **argv,
    int *status)
{
	struct option		*longopts;
	struct conf_flag	*flags = NULL;
	size_t			 nflags = 0, i;
	int			 ch, idx, verbose = 0, rc = 1;
	char			*cause = NULL, vbuf[16];

	memset(a, 0, sizeof *a);
	*status = 1;
	/* One long flag per option in the table. */
	longopts = xcalloc(conf_noptions + 3, sizeof *longopts);
	for (i = 0; i < conf_noptions; i++) {
		longopts[i].name = conf_options[i].name;
		longopts[i].has_arg = conf_options[i].type == CONF_BOOL ?
		    optional_argument : required_argument;
		longopts[i].val = CONF_ARGS_OPTION + (int)i;
	}
	longopts[i].name = "options-mdoc";
	longopts[i].val = CONF_ARGS_MDOC;
	longopts[i + 1].name = "help";
	longopts[i + 1].val = 'h';
	while ((ch = getopt_long(argc, argv, "df:hnVv", longopts, &idx)) != -1) {
		switch (ch) {
		case 'd':
			a->debug = 1;
			break;
		case 'f':
			a->file = optarg;
			break;
		case 'h':
			conf_usage(stdout, 1);
			*status = 0;
			goto out;
		case 'n':
			a->check = 1;
			break;
		case 'V':
			printf("borad %s\n", VERSION);
			*status = 0;
			goto out;
		case 'v':
			verbose++;
			break;
		case CONF_ARGS_MDOC:
			conf_print_mdoc(stdout);
			*status = 0;
			goto out;
		default:
			if (ch < CONF_ARGS_OPTION ||
			    ch >= CONF_ARGS_OPTION + (int)conf_noptions)
				goto usage;
			flags = xreallocarray(flags, nflags + 1,
			    sizeof *flags);
			flags[nflags].name =
			    conf_options[ch - CONF_ARGS_OPTION].name;
			flags[nflags].value = optarg != NULL ? optarg : "true";
			nflags++;
			break;
		}
	}
	if (optind != argc)
		goto usage;

	/* Defaults, then the file, the environment and the flags. */
	conf_init(conf);
	if (a->file != NULL && conf_load_file(conf, a->file, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		goto bad;
	}
	if (conf_load_env(conf, &cause) != 0) {
		fprintf(stderr, "borad: %s\n", cause);
		goto bad;
	}
	for (i = 0; i < nflags; i++) {
		if (conf_set(conf, flags[i].name, flags[i].value,
		    CONF_SRC_FLAG, &cause) != 0) {
			fprintf(stderr, "borad: --%s\n", cause);
			goto bad;
		}
	}
	if (verbose > 0) {
		snprintf(vbuf, sizeof vbuf, "%d", verbose > 2 ? 2 : verbose);
		if (conf_set(conf, "verbose", vbuf, CONF_SRC_FLAG,
		    &cause) != 0)
			fatalx("%s", cause);
	}
	conf_absolute(conf);
	rc = 0;
	goto out;

usage:
	conf_usage(stderr, 0);
	goto out;
bad:
	free(cause);
	conf_free(conf);
out:
	free(flags);
	free(longopts);
	return (rc);
}

/* Append a line to a list of errors. */
static void printflike(2, 3)
conf_check_add(char **errs, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;

	va_start(ap, fmt);
	xvasprintf(&line, fmt, ap);
	va_end(ap);
	if (*errs != NULL)
		*errs = xstrcat(*errs, "\n");
	*errs = xstrcat(*errs, line);
	free(line);
}

/* Check what can be checked without opening anything (see conf.h). */
int
conf_check(const struct conf *conf, char **cause)
{
	const struct conf_option	*o;
	struct stat			 sb;
	const char			*p, *why;
	char				*errs = NULL;

	*cause = NULL;
	if (conf->db == NULL || (strncmp(conf->db, "sqlite:", 7) != 0 &&
	    strncmp(conf->db, "postgresql://", 13) != 0 &&
	    strncmp(conf->db, "postgres://", 11) != 0))
		conf_check_add(&errs, "db: expected sqlite:PATH or "
		    "postgresql://..., not '%s'", conf->db != NULL ?
		    conf->db : "");
	if (conf->listen == NULL || (p = strrchr(conf->listen, ':')) ==
	    NULL || p[1] == '\0' || strspn(p + 1, "0123456789") !=
	    strlen(p + 1) || atoi(p + 1) > 65535)
		conf_check_add(&errs, "listen: expected HOST:PORT, not "
		    "'%s'", conf->listen != NULL ? conf->listen : "");
	/* The Lua library: none is an error, unless unset on purpose. */
	why = NULL;
	if (conf->lua != NULL && stat(conf->lua, &sb) != 0)
		why = strerror(errno);
	else if (conf->lua != NULL && !S_ISDIR(sb.st_mode))
		why = "not a folder";
	o = conf_find("lua");
	if (why != NULL && conf->src[o - conf_options] == CONF_SRC_DEFAULT)
		conf_check_add(&errs, "lua: no Lua library found: none in "
		    "the build tree, beside the program or at %s; name one "
		    "with --lua DIR", conf->lua);
	else if (why != NULL)
		conf_check_add(&errs, "lua: no Lua library at %s: %s",
		    conf->lua, why);
	if (errs != NULL) {
		*cause = errs;
		return (-1);
	}
	return (0);
}
