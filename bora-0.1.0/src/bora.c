/*
 * bora.c -- the bora command line; everything is in src/cli/ of
 * libbora.a.
 */
#include "config.h"

#include "cli/cli.h"

int
main(int argc, char **argv)
{
	return (cli_main(argc, argv));
}
