/*
 * engine-watch.c -- watched definition folders: every *.yaml (or *.yml)
 * under the workflows and actions folders is loaded at start, then
 * reloaded when it changes (inotify, with a short debounce so an
 * editor's burst of writes is one reload) or on engine_watch_reload()
 * (SIGHUP).
 *
 * Each file is one definition whose source is the file's path: a file
 * with top-level "name:" and "workflows:" (or "actions:") is a workbook
 * (stored under the workbook's name), any other file in a workflows folder is a
 * workflow file, and a file in an actions folder is an action catalog
 * (both stored under the path).  A folder is an actions folder when
 * its argument is written "actions:DIR" or its last component is
 * "actions".  A change saves a new version; a file whose text did not
 * change is left alone, so a restart does not add versions.  A file
 * that fails validation keeps its previous version in force and is
 * listed by engine_watch_errors(); failed files are retried on every
 * rescan, since a fix elsewhere (a missing action) may cure them.  A
 * file that disappears deletes its definition.
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "engine/engine-int.h"

#define WATCH_DEBOUNCE_MS	250
#define WATCH_MAX_FILE		(4 * 1024 * 1024)
#define WATCH_MAX_DEPTH		8
#define WATCH_EVENTS		(IN_CREATE | IN_DELETE | IN_MODIFY | \
	IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | \
	IN_DELETE_SELF | IN_MOVE_SELF)

/* One watched file and the outcome of its last load. */
struct watch_file {
	char	*path;
	char	*kind;		/* kind it was loaded as, or NULL */
	char	*name;		/* definition name it was loaded under */
	char	*text;		/* text of the last attempt */
	char	*errors;	/* last attempt's errors, or NULL when ok */
	int	 seen;		/* found by the current scan */
};

/* A file found by a scan. */
struct watch_found {
	char	*path;
	int	 actions;	/* lives in an actions folder */
	int	 order;		/* 0 actions, 1 workbooks, 2 workflows */
	char	*text;
	char	*kind;
};

struct watch {
	struct engine		*e;
	char			**dirs;
	int			*dir_actions;
	size_t			 ndirs;

	int			 ifd;		/* inotify */
	int			 pipe[2];	/* wake the thread */
	pthread_t		 thread;
	int			 running;
	atomic_int		 stop;		/* set by engine_watch_stop */
	atomic_int		 reload;	/* set by engine_watch_reload */

	pthread_mutex_t		 mtx;		/* guards files */
	struct watch_file	*files;
	size_t			 nfiles;
};

static void	watch_scan(struct watch *, int);
static void	*watch_main(void *);

/* The watch state of an engine. */
static struct watch *
watch_get(struct engine *e)
{
	return (e->watch);
}

/* Does the name end in .yaml or .yml (and is it not hidden)? */
static int
watch_is_yaml(const char *name)
{
	size_t	len = strlen(name);

	if (name[0] == '.')
		return (0);
	return ((len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
	    (len > 4 && strcmp(name + len - 4, ".yml") == 0));
}

/* A workbook has "name:" and "workflows:" (or "actions:") at the top. */
static int
watch_is_workbook(const char *text)
{
	const char	*p = text;
	int		 name = 0, wfs = 0;

	while (*p != '\0') {
		if (strncmp(p, "name:", 5) == 0)
			name = 1;
		else if (strncmp(p, "workflows:", 10) == 0 ||
		    strncmp(p, "actions:", 8) == 0 ||
		    strncmp(p, "triggers:", 9) == 0 ||
		    strncmp(p, "segments:", 9) == 0)
			wfs = 1;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
	return (name && wfs);
}

/* Walk a folder, watching it and its subfolders, collecting files. */
static void
watch_walk(struct watch *w, const char *dir, int actions, int depth,
    struct watch_found **found, size_t *nfound)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		*path;
	struct watch_found *f;

	if (depth > WATCH_MAX_DEPTH)
		return;
	if ((d = opendir(dir)) == NULL) {
		if (depth == 0 && errno != ENOENT)
			log_warn("watch: %s", dir);
		return;
	}
	if (w->ifd != -1 && inotify_add_watch(w->ifd, dir, WATCH_EVENTS) == -1)
		log_warn("watch: inotify %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if (stat(path, &sb) != 0) {
			free(path);
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			watch_walk(w, path, actions ||
			    strcmp(de->d_name, "actions") == 0, depth + 1,
			    found, nfound);
			free(path);
			continue;
		}
		if (!S_ISREG(sb.st_mode) || !watch_is_yaml(de->d_name)) {
			free(path);
			continue;
		}
		*found = xreallocarray(*found, *nfound + 1, sizeof **found);
		f = &(*found)[(*nfound)++];
		memset(f, 0, sizeof *f);
		f->path = path;
		f->actions = actions;
	}
	closedir(d);
}

static int
watch_found_cmp(const void *a, const void *b)
{
	const struct watch_found	*x = a, *y = b;

	if (x->order != y->order)
		return (x->order - y->order);
	return (strcmp(x->path, y->path));
}

static struct watch_file *
watch_file_find(struct watch *w, const char *path)
{
	size_t	i;

	for (i = 0; i < w->nfiles; i++) {
		if (strcmp(w->files[i].path, path) == 0)
			return (&w->files[i]);
	}
	return (NULL);
}

/* Load one file; 0 on success, else -1 with *errors set. */
static int
watch_load(struct watch *w, struct watch_found *f, char **name,
    char **errors)
{
	struct dsl_errors	 errs;
	struct store_def	*d = NULL;
	enum store_rc		 rc;

	*name = NULL;
	*errors = NULL;
	if (engine_def_current(w->e, f->kind, f->path, f->text, name))
		return (0);
	dsl_errors_init(&errs);
	rc = engine_def_load(w->e, f->kind, NULL, f->text, f->path, 0, &errs,
	    &d);
	if (rc == STORE_OK && d != NULL) {
		log_info("watch: %s: loaded as %s %s (version %d)", f->path,
		    f->kind, d->name, d->version);
		*name = xstrdup(d->name);
		store_def_free(d);
		dsl_errors_free(&errs);
		return (0);
	}
	if (errs.n > 0)
		*errors = dsl_errors_format(&errs);
	else
		xasprintf(errors, "%s: cannot save: %s\n", f->path,
		    store_rc_name(rc));
	dsl_errors_free(&errs);
	store_def_free(d);
	return (-1);
}

/* Forget the definition a file had loaded. */
static void
watch_unload(struct watch *w, struct watch_file *wf)
{
	enum store_rc	rc;

	if (wf->kind == NULL || wf->name == NULL)
		return;
	rc = engine_def_delete(w->e, wf->kind, wf->name);
	if (rc == STORE_OK)
		log_info("watch: %s: removed %s %s", wf->path, wf->kind,
		    wf->name);
	else if (rc != STORE_NOTFOUND)
		log_warnx("watch: %s: cannot remove %s %s: %s", wf->path,
		    wf->kind, wf->name, store_rc_name(rc));
}

/* Record the outcome for a file. */
static void
watch_record(struct watch *w, struct watch_found *f, char *name,
    char *errors)
{
	struct watch_file	*wf;
	char			*line, *p, *save;

	pthread_mutex_lock(&w->mtx);
	if ((wf = watch_file_find(w, f->path)) == NULL) {
		w->files = xreallocarray(w->files, w->nfiles + 1,
		    sizeof *w->files);
		wf = &w->files[w->nfiles++];
		memset(wf, 0, sizeof *wf);
		wf->path = xstrdup(f->path);
	}
	wf->seen = 1;
	free(wf->text);
	wf->text = xstrdup(f->text);
	free(wf->errors);
	wf->errors = errors;
	if (errors == NULL) {
		free(wf->kind);
		free(wf->name);
		wf->kind = xstrdup(f->kind);
		wf->name = name;
	} else {
		free(name);
		p = xstrdup(errors);
		for (line = strtok_r(p, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			log_warnx("watch: %s", line);
		free(p);
		log_warnx("watch: %s: not loaded; the previous version, if "
		    "any, stays in force", f->path);
	}
	pthread_mutex_unlock(&w->mtx);
}

/*
 * Rescan every folder and bring the definitions in line with the
 * files.  force retries every file even when its text did not change.
 */
static void
watch_scan(struct watch *w, int force)
{
	struct watch_found	*found = NULL, *f;
	struct watch_file	*wf, old;
	size_t			 nfound = 0, i, pass, left, ok;
	char			*cause, *name, *errors, **pending_err;
	int			*done;

	for (i = 0; i < w->ndirs; i++)
		watch_walk(w, w->dirs[i], w->dir_actions[i], 0, &found,
		    &nfound);
	for (i = 0; i < nfound; i++) {
		f = &found[i];
		f->text = file_read(f->path, WATCH_MAX_FILE, NULL, &cause);
		if (f->text == NULL) {
			log_warnx("watch: %s", cause);
			free(cause);
			continue;
		}
		if (f->actions) {
			f->kind = "actions";
			f->order = 0;
		} else if (watch_is_workbook(f->text)) {
			f->kind = "workbook";
			f->order = 1;
		} else {
			f->kind = "workflows";
			f->order = 2;
		}
	}
	if (nfound > 0)
		qsort(found, nfound, sizeof *found, watch_found_cmp);

	pthread_mutex_lock(&w->mtx);
	for (i = 0; i < w->nfiles; i++)
		w->files[i].seen = 0;
	pthread_mutex_unlock(&w->mtx);

	/*
	 * Load in passes: a file may need another file's workflow or
	 * action, so retry the failures while a pass makes progress.
	 */
	done = xcalloc(nfound + 1, sizeof *done);
	pending_err = xcalloc(nfound + 1, sizeof *pending_err);
	for (i = 0; i < nfound; i++) {
		f = &found[i];
		if (f->text == NULL) {
			done[i] = 1;
			pthread_mutex_lock(&w->mtx);
			if ((wf = watch_file_find(w, f->path)) != NULL)
				wf->seen = 1;	/* unreadable: keep it */
			pthread_mutex_unlock(&w->mtx);
			continue;
		}
		pthread_mutex_lock(&w->mtx);
		wf = watch_file_find(w, f->path);
		if (wf != NULL && !force && wf->errors == NULL &&
		    wf->text != NULL && strcmp(wf->text, f->text) == 0 &&
		    wf->kind != NULL && strcmp(wf->kind, f->kind) == 0) {
			wf->seen = 1;
			done[i] = 1;
		} else if (wf != NULL && wf->kind != NULL &&
		    strcmp(wf->kind, f->kind) != 0) {
			/* The file changed kind: drop the old definition. */
			old = *wf;
			pthread_mutex_unlock(&w->mtx);
			watch_unload(w, &old);
			pthread_mutex_lock(&w->mtx);
			wf = watch_file_find(w, f->path);
			free(wf->kind);
			wf->kind = NULL;
		}
		pthread_mutex_unlock(&w->mtx);
	}
	for (pass = 0;; pass++) {
		left = ok = 0;
		for (i = 0; i < nfound; i++) {
			if (done[i])
				continue;
			f = &found[i];
			if (watch_load(w, f, &name, &errors) == 0) {
				done[i] = 1;
				ok++;
				free(pending_err[i]);
				pending_err[i] = NULL;
				watch_record(w, f, name, NULL);
			} else {
				left++;
				free(pending_err[i]);
				pending_err[i] = errors;
			}
		}
		if (left == 0 || ok == 0)
			break;
	}
	for (i = 0; i < nfound; i++) {
		if (!done[i])
			watch_record(w, &found[i], NULL, pending_err[i]);
	}
	free(pending_err);
	free(done);

	/* Files that are gone take their definitions with them. */
	pthread_mutex_lock(&w->mtx);
	for (i = 0; i < w->nfiles; /* nothing */) {
		wf = &w->files[i];
		if (wf->seen) {
			i++;
			continue;
		}
		old = *wf;
		w->files[i] = w->files[--w->nfiles];
		pthread_mutex_unlock(&w->mtx);
		watch_unload(w, &old);
		free(old.path);
		free(old.kind);
		free(old.name);
		free(old.text);
		free(old.errors);
		pthread_mutex_lock(&w->mtx);
	}
	pthread_mutex_unlock(&w->mtx);

	for (i = 0; i < nfound; i++) {
		free(found[i].path);
		free(found[i].text);
	}
	free(found);
}

/*
 * Definitions saved from files under a watched folder whose file no
 * longer exists (removed while no engine was watching).
 */
static void
watch_prune(struct watch *w)
{
	struct engine		*e = w->e;
	struct engine_def	*d;
	char			**kinds = NULL, **names = NULL, **paths = NULL;
	size_t			 n = 0, i, j, len;
	struct stat		 sb;

	pthread_mutex_lock(&e->api_mtx);
	for (i = 0; i < e->ndefs; i++) {
		d = e->defs[i];
		if (!d->current || d->source == NULL || d->source[0] != '/')
			continue;
		for (j = 0; j < w->ndirs; j++) {
			len = strlen(w->dirs[j]);
			if (strncmp(d->source, w->dirs[j], len) == 0 &&
			    d->source[len] == '/')
				break;
		}
		if (j == w->ndirs || stat(d->source, &sb) == 0)
			continue;
		kinds = xreallocarray(kinds, n + 1, sizeof *kinds);
		names = xreallocarray(names, n + 1, sizeof *names);
		paths = xreallocarray(paths, n + 1, sizeof *paths);
		kinds[n] = xstrdup(d->kind);
		names[n] = xstrdup(d->name);
		paths[n] = xstrdup(d->source);
		n++;
	}
	pthread_mutex_unlock(&e->api_mtx);
	for (i = 0; i < n; i++) {
		if (engine_def_delete(e, kinds[i], names[i]) == STORE_OK)
			log_info("watch: %s is gone: removed %s %s", paths[i],
			    kinds[i], names[i]);
		free(kinds[i]);
		free(names[i]);
		free(paths[i]);
	}
	free(kinds);
	free(names);
	free(paths);
}

/* Load every folder now, then follow changes on a thread. */
int
engine_watch_start(struct engine *e, const char *const *dirs, size_t ndirs,
    char **cause)
{
	struct watch	*w;
	const char	*d, *base;
	size_t		 i, len;

	*cause = NULL;
	if (e->watch != NULL) {
		*cause = xstrdup("folders are already watched");
		return (-1);
	}
	w = xcalloc(1, sizeof *w);
	w->e = e;
	w->ifd = -1;
	w->pipe[0] = w->pipe[1] = -1;
	pthread_mutex_init(&w->mtx, NULL);
	w->dirs = xcalloc(ndirs + 1, sizeof *w->dirs);
	w->dir_actions = xcalloc(ndirs + 1, sizeof *w->dir_actions);
	for (i = 0; i < ndirs; i++) {
		d = dirs[i];
		if (strncmp(d, "actions:", 8) == 0) {
			w->dir_actions[w->ndirs] = 1;
			d += 8;
		} else if (strncmp(d, "workflows:", 10) == 0)
			d += 10;
		else {
			base = strrchr(d, '/');
			base = base != NULL ? base + 1 : d;
			w->dir_actions[w->ndirs] = strcmp(base, "actions") == 0;
		}
		w->dirs[w->ndirs] = xstrdup(d);
		len = strlen(w->dirs[w->ndirs]);
		while (len > 1 && w->dirs[w->ndirs][len - 1] == '/')
			w->dirs[w->ndirs][--len] = '\0';
		w->ndirs++;
	}
	if ((w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		xasprintf(cause, "inotify: %s", strerror(errno));
		goto fail;
	}
	if (pipe2(w->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		goto fail;
	}
	e->watch = w;
	watch_scan(w, 1);
	watch_prune(w);
	if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		e->watch = NULL;
		*cause = xstrdup("cannot start the watch thread");
		goto fail;
	}
	w->running = 1;
	return (0);
fail:
	if (w->ifd != -1)
		close(w->ifd);
	if (w->pipe[0] != -1) {
		close(w->pipe[0]);
		close(w->pipe[1]);
	}
	for (i = 0; i < w->ndirs; i++)
		free(w->dirs[i]);
	free(w->dirs);
	free(w->dir_actions);
	pthread_mutex_destroy(&w->mtx);
	free(w);
	return (-1);
}

/* Drain the inotify descriptor; 1 if any event arrived. */
static int
watch_drain(int fd)
{
	char	buf[4096] __attribute__((aligned(__alignof__(struct
		    inotify_event))));
	ssize_t	n;
	int	any = 0;

	while ((n = read(fd, buf, sizeof buf)) > 0)
		any = 1;
	return (any);
}

/*
 * The watch thread: wait for inotify events or a wake-up, and rescan
 * once the folders have been quiet for WATCH_DEBOUNCE_MS.
 */
static void *
watch_main(void *arg)
{
	struct watch	*w = arg;
	struct pollfd	 pfd[2];
	int64_t		 due = 0, now;
	int		 timeout;
	char		 c;

	pfd[0].fd = w->ifd;
	pfd[0].events = POLLIN;
	pfd[1].fd = w->pipe[0];
	pfd[1].events = POLLIN;
	while (!atomic_load(&w->stop)) {
		timeout = -1;
		if (due != 0) {
			now = time_mono_ms();
			timeout = due > now ? (int)(due - now) : 0;
		}
		if (poll(pfd, 2, timeout) == -1 && errno != EINTR) {
			log_warn("watch: poll");
			break;
		}
		while (read(w->pipe[0], &c, 1) == 1)
			continue;
		if (atomic_load(&w->stop))
			break;
		if (watch_drain(w->ifd))
			due = time_mono_ms() + WATCH_DEBOUNCE_MS;
		if (atomic_exchange(&w->reload, 0)) {
			log_info("watch: reloading every folder");
			watch_scan(w, 1);
			due = 0;
			continue;
		}
		if (due != 0 && time_mono_ms() >= due) {
			due = 0;
			watch_scan(w, 0);
		}
	}
	return (NULL);
}

/* Rescan at once (SIGHUP); callable from any thread. */
void
engine_watch_reload(struct engine *e)
{
	struct watch	*w = watch_get(e);
	ssize_t		 n;

	if (w == NULL)
		return;
	atomic_store(&w->reload, 1);
	n = write(w->pipe[1], "r", 1);
	(void)n;
}

/* Stop following changes and free the watch state. */
void
engine_watch_stop(struct engine *e)
{
	struct watch	*w = watch_get(e);
	size_t		 i;
	ssize_t		 n;

	if (w == NULL)
		return;
	atomic_store(&w->stop, 1);
	n = write(w->pipe[1], "s", 1);
	(void)n;
	if (w->running)
		pthread_join(w->thread, NULL);
	e->watch = NULL;
	close(w->ifd);
	close(w->pipe[0]);
	close(w->pipe[1]);
	for (i = 0; i < w->nfiles; i++) {
		free(w->files[i].path);
		free(w->files[i].kind);
		free(w->files[i].name);
		free(w->files[i].text);
		free(w->files[i].errors);
	}
	free(w->files);
	for (i = 0; i < w->ndirs; i++)
		free(w->dirs[i]);
	free(w->dirs);
	free(w->dir_actions);
	pthread_mutex_destroy(&w->mtx);
	free(w);
}

/* [{file, errors: ["F:L:C: msg (path)", ...]}] for files not loaded. */
json_t *
engine_watch_errors(struct engine *e)
{
	struct watch	*w = watch_get(e);
	json_t		*arr, *lines;
	char		*p, *line, *save;
	size_t		 i;

	arr = json_array();
	if (w == NULL)
		return (arr);
	pthread_mutex_lock(&w->mtx);
	for (i = 0; i < w->nfiles; i++) {
		if (w->files[i].errors == NULL)
			continue;
		lines = json_array();
		p = xstrdup(w->files[i].errors);
		for (line = strtok_r(p, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			json_array_append_new(lines, json_string(line));
		free(p);
		json_array_append_new(arr, json_pack("{s:s, s:o}", "file",
		    w->files[i].path, "errors", lines));
	}
	pthread_mutex_unlock(&w->mtx);
	return (arr);
}
