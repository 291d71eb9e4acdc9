/*
 * msg-int.h -- shared by the msg module's own files: the catalog's
 * entries and the texts a deployer put in their place.
 */
#ifndef MSG_INT_H
#define MSG_INT_H

#include "msg/msg.h"

/*
 * One entry of the catalog.  vars names the placeholders its texts may
 * use, separated by spaces; a template writes them {name}, and "{{" or
 * "}}" for a brace.
 */
struct msg_entry {
	const char	*id;
	const char	*level;		/* "ERROR" or "WARNING" */
	const char	*resource;	/* "execution", "task", ... */
	const char	*vars;
	const char	*message;
	const char	*action;
};

extern const struct msg_entry	msg_entries[];
extern const size_t		msg_nentries;

/*
 * The deployer's texts, by entry index (NULL: the built-in one), set by
 * msg_catalog_load() before any thread reads them.
 */
extern char	*msg_over_message[];
extern char	*msg_over_action[];

/* The entry of an event id, or NULL. */
const struct msg_entry *msg_find(const char *id);
/* Is name one of the entry's placeholders? */
int		 msg_var_known(const struct msg_entry *, const char *name,
		     size_t len);

#endif /* MSG_INT_H */
