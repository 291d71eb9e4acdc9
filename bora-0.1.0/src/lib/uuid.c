/*
 * uuid.c -- random identifiers through libuuid.
 */
#include "config.h"

#include <uuid/uuid.h>

#include "lib/lib.h"

void
uuid_make(char *out)
{
	uuid_t	 u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

int
uuid_valid(const char *s)
{
	uuid_t	 u;

	return (s != NULL && uuid_parse(s, u) == 0);
}
