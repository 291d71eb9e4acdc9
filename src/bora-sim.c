/*
 * bora-sim.c -- the simulated OpenStack cloud that `bora sim` runs; all
 * of it is in src/sim/ of libbora.a.  A program of its own so that
 * bora, which has no server, does not load libmicrohttpd.
 */
#include "config.h"

#include "sim/sim.h"

int
main(int argc, char **argv)
{
	return (sim_main(argc, argv));
}
