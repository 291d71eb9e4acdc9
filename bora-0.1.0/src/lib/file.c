/*
 * file.c -- whole-file reads with a size cap, and the "did you mean"
 * helper used by validation and the CLI.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"

/* Read path (max bytes, 0: no cap); NUL-terminated; NULL + *cause. */
char *
file_read(const char *path, size_t max, size_t *len, char **cause)
{
	FILE		*f;
	struct buf	 b;
	char		 chunk[65536];
	size_t		 n;

	if ((f = fopen(path, "rb")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	buf_init(&b, max);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (buf_add(&b, chunk, n) != 0) {
			xasprintf(cause, "%s: file is larger than %zu bytes",
			    path, max);
			goto fail;
		}
	}
	if (ferror(f)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	if (len != NULL)
		*len = b.len;
	return (buf_take(&b));
fail:
	fclose(f);
	buf_free(&b);
	return (NULL);
}

/* Levenshtein distance, bounded to short words. */
static size_t
lib_distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, prev, tmp, *row;

	if (la > 64 || lb > 64)
		return ((size_t)-1);
	row = xcalloc(lb + 1, sizeof *row);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	tmp = row[lb];
	free(row);
	return (tmp);
}

/* The candidate closest to word, if within a third of its length. */
const char *
lib_closest(const char *word, const char *const *cands, size_t n)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = (size_t)-1, limit;

	limit = strlen(word) / 3 + 1;
	for (i = 0; i < n; i++) {
		d = lib_distance(word, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return (bestd <= limit ? best : NULL);
}
