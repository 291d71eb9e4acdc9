/*
 * console.c -- lookup of the console's static files in the table that
 * gen-console.sh generates (console-files.c).
 */
#include "config.h"

#include <string.h>

#include "console/console.h"

extern const struct console_file	console_files[];
extern const size_t			console_nfiles;

/* The file at path, or NULL; ".." never matches a table entry. */
const struct console_file *
console_find(const char *path)
{
	size_t	i;

	for (i = 0; i < console_nfiles; i++) {
		if (strcmp(console_files[i].path, path) == 0)
			return (&console_files[i]);
	}
	return (NULL);
}
