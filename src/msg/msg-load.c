/*
 * msg-load.c -- a deployer's texts in place of the catalog's: a YAML
 * file (messages-file in borad.conf) mapping event ids to new texts,
 *
 *	BORA-TSK-001:
 *	  message: "La tâche {task} de {workflow} a échoué : {reason}."
 *	  action: "Relancez-la avec `bora execution rerun {task_id}`."
 *
 * checked whole at start: an unknown event id or key, a placeholder the
 * entry does not have, a brace left open, a value that is not text.
 * Every problem is reported as file:line:col, and a file with any
 * leaves the catalog as it was.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/lib.h"
#include "msg/msg-int.h"

#define MSG_FILE_MAX	(1024 * 1024)

/* Where the problems of one file are collected. */
struct msg_load {
	const char	*path;
	yaml_document_t	*doc;
	char		*errs;
	size_t		 nerrs;
};

static void	 msg_load_error(struct msg_load *, const yaml_node_t *,
		     const char *, ...) printflike(3, 4);

/* Add "path:line:col: why" to the problems. */
static void
msg_load_error(struct msg_load *l, const yaml_node_t *n, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*why, *line;

	va_start(ap, fmt);
	xvasprintf(&why, fmt, ap);
	va_end(ap);
	xasprintf(&line, "%s%s:%zu:%zu: %s", l->nerrs > 0 ? "\n" : "",
	    l->path, n->start_mark.line + 1, n->start_mark.column + 1, why);
	l->errs = xstrcat(l->errs, line);
	l->nerrs++;
	free(line);
	free(why);
}

/* A scalar's text (borrowed), or NULL. */
static const char *
msg_scalar(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return (NULL);
	return ((const char *)n->data.scalar.value);
}

/* Check a template's placeholders against entry m. */
static void
msg_load_template(struct msg_load *l, const yaml_node_t *n,
    const struct msg_entry *m, const char *what, const char *s)
{
	const char	*p, *end;

	for (p = s; *p != '\0'; p++) {
		if (p[0] == '{' && p[1] == '{') {
			p++;
			continue;
		}
		if (*p != '{')
			continue;
		if ((end = strchr(p, '}')) == NULL) {
			msg_load_error(l, n, "%s.%s: '{' is not closed (write "
			    "'{{' for a brace)", m->id, what);
			return;
		}
		if (!msg_var_known(m, p + 1, (size_t)(end - p - 1)))
			msg_load_error(l, n, "%s.%s: unknown placeholder "
			    "{%.*s} (this message has: %s)", m->id, what,
			    (int)(end - p - 1), p + 1, m->vars);
		p = end;
	}
}

/* Read the texts of one entry into msgs[i], acts[i]. */
static void
msg_load_entry(struct msg_load *l, const yaml_node_t *key,
    const yaml_node_t *v, char **msgs, char **acts)
{
	const struct msg_entry	*m;
	const char		*id = msg_scalar(key), *k, *s;
	const char		*ids[64];
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	size_t			 i;
	char			**slot;

	if (id == NULL) {
		msg_load_error(l, key, "expected an event id");
		return;
	}
	if ((m = msg_find(id)) == NULL) {
		for (i = 0; i < msg_nentries && i < nitems(ids); i++)
			ids[i] = msg_entries[i].id;
		s = lib_closest(id, ids, i);
		msg_load_error(l, key, "unknown event id '%s'%s%s%s", id,
		    s != NULL ? " (did you mean '" : "", s != NULL ? s : "",
		    s != NULL ? "'?)" : "");
		return;
	}
	i = (size_t)(m - msg_entries);
	if ((s = msg_scalar(v)) != NULL) {
		/* A bare text replaces the message only. */
		msg_load_template(l, v, m, "message", s);
		free(msgs[i]);
		msgs[i] = xstrdup(s);
		return;
	}
	if (v->type != YAML_MAPPING_NODE) {
		msg_load_error(l, v, "%s: expected a text or a mapping of "
		    "message and action", id);
		return;
	}
	for (pair = v->data.mapping.pairs.start;
	    pair < v->data.mapping.pairs.top; pair++) {
		kn = yaml_document_get_node(l->doc, pair->key);
		vn = yaml_document_get_node(l->doc, pair->value);
		k = msg_scalar(kn);
		if (k != NULL && strcmp(k, "message") == 0)
			slot = &msgs[i];
		else if (k != NULL && strcmp(k, "action") == 0)
			slot = &acts[i];
		else {
			msg_load_error(l, kn, "%s: unknown key '%s' (expected "
			    "message or action)", id, k != NULL ? k : "?");
			continue;
		}
		if ((s = msg_scalar(vn)) == NULL) {
			msg_load_error(l, vn, "%s.%s: expected a text", id, k);
			continue;
		}
		if (*s == '\0' && slot == &msgs[i]) {
			msg_load_error(l, vn, "%s.message: empty", id);
			continue;
		}
		msg_load_template(l, vn, m, k, s);
		free(*slot);
		*slot = xstrdup(s);
	}
}

/* Free a set of texts, one per entry of the catalog. */
static void
msg_texts_free(char **v)
{
	size_t	 i;

	for (i = 0; i < msg_nentries; i++) {
		free(v[i]);
		v[i] = NULL;
	}
}

/* See msg.h. */
int
msg_catalog_load(const char *path, char **cause)
{
	struct msg_load		 l;
	yaml_parser_t		 p;
	yaml_document_t		 doc;
	yaml_node_t		*root;
	yaml_node_pair_t	*pair;
	char			*text, **msgs, **acts;
	size_t			 len, i;
	int			 rc = -1;

	*cause = NULL;
	if (path == NULL) {
		msg_texts_free(msg_over_message);
		msg_texts_free(msg_over_action);
		return (0);
	}
	if ((text = file_read(path, MSG_FILE_MAX, &len, cause)) == NULL)
		return (-1);
	memset(&l, 0, sizeof l);
	l.path = path;
	l.doc = &doc;
	msgs = xcalloc(msg_nentries, sizeof *msgs);
	acts = xcalloc(msg_nentries, sizeof *acts);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		xasprintf(cause, "%s:%zu:%zu: %s", path,
		    p.problem_mark.line + 1, p.problem_mark.column + 1,
		    p.problem != NULL ? p.problem : "invalid YAML");
		yaml_parser_delete(&p);
		goto out;
	}
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && root->type != YAML_MAPPING_NODE)
		msg_load_error(&l, root, "expected a mapping of event ids "
		    "to texts");
	else if (root != NULL) {
		for (pair = root->data.mapping.pairs.start;
		    pair < root->data.mapping.pairs.top; pair++)
			msg_load_entry(&l, yaml_document_get_node(&doc,
			    pair->key), yaml_document_get_node(&doc,
			    pair->value), msgs, acts);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	if (l.nerrs > 0) {
		*cause = l.errs;
		goto out;
	}
	for (i = 0; i < msg_nentries; i++) {
		if (msgs[i] != NULL) {
			free(msg_over_message[i]);
			msg_over_message[i] = msgs[i];
			msgs[i] = NULL;
		}
		if (acts[i] != NULL) {
			free(msg_over_action[i]);
			msg_over_action[i] = acts[i];
			acts[i] = NULL;
		}
	}
	rc = 0;
out:
	msg_texts_free(msgs);
	msg_texts_free(acts);
	free(msgs);
	free(acts);
	free(text);
	return (rc);
}
