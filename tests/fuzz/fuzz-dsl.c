/*
 * fuzz-dsl.c -- libFuzzer target of the YAML workflow parser: the input
 * is a workbook or workflow file, parsed and validated (expressions are
 * compiled in a sandbox) as a definition upload would be, and its
 * errors formatted.  Nothing may crash, leak or hang.
 *
 * FUZZ-SEEDS: tests/data/valid:.yaml tests/data/invalid:.yaml
 * FUZZ-SEEDS: tests/data/invalid-ok:.yaml tests/data/multi:.yaml
 * FUZZ-SEEDS: tests/data/api:.yaml tests/data/resume:.yaml
 * FUZZ-SEEDS: workflows/examples:.yaml
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "dsl/dsl.h"
#include "expr/expr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct expr	*fuzz_expr;

/* The std.* actions exist, nothing else outside the workbook. */
static int
fuzz_action_exists(void *arg, const char *name)
{
	return (strncmp(name, "std.", 4) == 0);
}

static int
fuzz_workflow_exists(void *arg, const char *name)
{
	return (strcmp(name, "other") == 0);
}

static int
fuzz_expr_check(void *arg, const char *lua, char **cause)
{
	return (expr_check(fuzz_expr, lua, cause));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsl_resolver	 res;
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	size_t			*starts, i;
	char			*s, *cause;

	if (fuzz_expr == NULL &&
	    (fuzz_expr = expr_create(NULL, NULL, &cause)) == NULL)
		fatalx("expr_create: %s", cause);
	memset(&res, 0, sizeof res);
	res.action_exists = fuzz_action_exists;
	res.workflow_exists = fuzz_workflow_exists;
	res.expr_check = fuzz_expr_check;

	dsl_errors_init(&errs);
	wb = dsl_parse("fuzz.yaml", (const char *)data, size, NULL, &errs);
	if (wb != NULL) {
		dsl_validate(wb, &res, &errs);
		for (i = 0; i < wb->nworkflows; i++) {
			dsl_start_tasks(&wb->workflows[i], &starts);
			free(starts);
		}
	}
	s = dsl_errors_format(&errs);
	free(s);
	dsl_errors_free(&errs);
	dsl_workbook_free(wb);
	return (0);
}
