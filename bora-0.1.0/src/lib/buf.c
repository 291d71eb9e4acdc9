/*
 * buf.c -- growable, NUL-terminated byte buffers with a maximum size
 * (like curl's dynbuf "toobig"): request bodies, action output, logs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"

/* Initialise an empty buffer that may grow to max bytes (0: no limit). */
void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

/* Append len bytes; -1 if that would pass the maximum. */
int
buf_add(struct buf *b, const void *p, size_t len)
{
	size_t	 want;

	if (b->max != 0 && (len > b->max || b->len > b->max - len))
		return (-1);
	want = b->len + len + 1;
	if (want > b->cap) {
		size_t ncap = b->cap == 0 ? 64 : b->cap;
		while (ncap < want)
			ncap *= 2;
		b->data = xrealloc(b->data, ncap);
		b->cap = ncap;
	}
	if (len != 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return (0);
}

int
buf_puts(struct buf *b, const char *s)
{
	return (buf_add(b, s, strlen(s)));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n, rc;

	va_start(ap, fmt);
	n = xvasprintf(&s, fmt, ap);
	va_end(ap);
	rc = buf_add(b, s, (size_t)n);
	free(s);
	return (rc);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Hand the data to the caller (never NULL) and reset the buffer. */
char *
buf_take(struct buf *b)
{
	char	*p;

	if (b->data == NULL)
		return (xstrdup(""));
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return (p);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
