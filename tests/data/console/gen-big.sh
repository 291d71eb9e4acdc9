#!/bin/sh
# gen-big.sh N -- print a workflow "big" of N tasks for the console's
# large-graph test and benchmark: chains of ten that fan out from one
# start task, cross over to the next chain every third step, and join
# at the end.
n=${1:-500}
awk -v n="$n" 'BEGIN {
	print "---\nversion: '\''2.0'\''\n\nbig:\n  tasks:"
	print "    t0:\n      action: std.noop\n      on-success:"
	chains = int((n - 2) / 10)
	for (c = 0; c < chains; c++)
		printf "        - t%d\n", 1 + c * 10
	for (c = 0; c < chains; c++) {
		for (k = 0; k < 10; k++) {
			i = 1 + c * 10 + k
			printf "    t%d:\n      action: std.noop\n", i
			if (k < 9) {
				printf "      on-success:\n        - t%d\n", i + 1
				if (k % 3 == 2 && c + 1 < chains)
					printf "        - t%d\n", i + 11
			} else
				printf "      on-success: end\n"
		}
	}
	for (i = 1 + chains * 10; i < n - 1; i++)
		printf "    t%d:\n      action: std.noop\n      on-success: end\n", i
	print "    end:\n      join: all\n      action: std.noop"
}'
