/*
 * console.h -- the web console's static files (HTML, CSS, JavaScript
 * modules), compiled into the program by gen-console.sh so borad
 * serves them with nothing else installed and no network.
 *
 * Ownership: everything returned is static and read-only.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stddef.h>

struct console_file {
	const char		*path;	/* "index.html", "js/app.js" */
	const char		*type;	/* Content-Type */
	const char		*etag;	/* "\"crc-size\"", quoted */
	const unsigned char	*data;
	size_t			 len;
};

/* The file at path (relative to src/console), or NULL. */
const struct console_file *console_find(const char *path);

#endif /* CONSOLE_H */
