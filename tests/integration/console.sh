#!/bin/sh
#
# console.sh -- the web console in headless Chromium (Debian's
# chromium, driven by playwright-core from tests/console/node_modules,
# which .ci/deps installs): a real borad on a temporary store serves
# it; tests/console/console.test.mjs lists executions, checks a graph's
# nodes, edges and states, watches a node change state live, pauses and
# resumes from the buttons, reads a with-items counter, draws a 500-task
# graph, shows an alarm sent to borad with its verdicts and the
# execution it started, the message of a failed execution (and deletes
# it), a workbook's workflows, and (with --api-token) gets 401 and the
# token form; before that, tests/console/layout.test.mjs checks the
# graph layout in Node.js.
# Screenshots go to tests/integration/console-screenshots/.

. "$(dirname "$0")/lib.sh"

need node
if node --test --test-reporter=tap "$SRCDIR/tests/console/layout.test.mjs" \
    >"$TMP/layout.tap" 2>&1; then
	ok "graph layout (tests/console/layout.test.mjs)"
else
	not_ok "graph layout (tests/console/layout.test.mjs)"
	sed 's/^/# /' "$TMP/layout.tap"
fi
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "$CHROMIUM is not installed (sh .ci/deps)"
TESTS_DIR=${BORA_TESTS_DIR:-$SRCDIR/tests/console}
[ -f "$TESTS_DIR/node_modules/playwright-core/package.json" ] ||
    skip "playwright-core is not installed in $TESTS_DIR (sh .ci/deps)"
SHOTS=$BUILDDIR/tests/integration/console-screenshots
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
export CHROMIUM SHOTS

cp "$SRCDIR"/tests/data/console/*.yaml "$TMP/workflows/"
sh "$SRCDIR/tests/data/console/gen-big.sh" 500 >"$TMP/workflows/big.yaml"
printf 'version: "2.0"\nbroken: [\n' >"$TMP/workflows/broken.yaml"

# browser SUITE [TOKEN]: run the browser tests of SUITE against $URL.
browser()
{
	if BORA_URL=$URL BORA_SUITE=$1 BORA_TOKEN=${2:-} BORA_SHOTS=$SHOTS \
	    BORA_TESTS_DIR=$TESTS_DIR node --test --test-reporter=tap \
	    --test-concurrency=1 "$SRCDIR/tests/console/console.test.mjs" \
	    >"$TMP/browser-$1.tap" 2>&1; then
		ok "browser tests ($1)"
	else
		not_ok "browser tests ($1)"
	fi
	sed 's/^/# /' "$TMP/browser-$1.tap"
}

borad_start || { not_ok "borad starts"; finish; }
ok "borad starts"
browser main
borad_stop
check "borad exits with status 0" test $? -eq 0

borad_start --api-token s3cret || { not_ok "borad starts with a token"; finish; }
ok "borad starts with a token"
browser auth s3cret
ls "$SHOTS"/*.png | sed 's/^/# screenshot: /'
check "every test saved a screenshot" test "$(ls "$SHOTS"/*.png | wc -l)" -ge 15
finish
