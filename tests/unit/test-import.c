/*
 * test-import.c -- unit tests of "bora import": the YAQL and Jinja
 * translator (each pair's Lua text, and the value the Lua gives in a
 * real sandbox with lua/ loaded, which is the value YAQL or Jinja gives
 * on the same data), flags (conditions, quotes), what cannot be
 * translated and why, templates, and whole YAML files whose scalars
 * keep or change their quoting.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "lib/lib.h"
#include "cli/cli-import.h"
#include "expr/expr.h"

#define J	IMPORT_JINJA

/* The data every pair is evaluated on. */
static const char *const import_data =
	"{\"a\": {\"b\": 1}, \"n\": null, \"l\": [1, 2, 3], "
	"\"d\": {\"a\": 1, \"b\": \"x\"}, \"s\": \"Hello\", \"e\": [], "
	"\"items\": [{\"id\": \"vm-1\", \"ha\": true, \"size\": 2}, "
	"{\"id\": \"vm-2\", \"ha\": false, \"size\": 5}], "
	"\"vms\": [{\"id\": \"vm-1\", \"ha\": true, \"size\": 2}, "
	"{\"id\": \"vm-2\", \"ha\": false, \"size\": 5}], "
	"\"host\": \"c3\", \"i\": 1, \"x\": 7}";

/*
 * Source, flags, the Lua expected, and the value YAQL (yaql 2.0 as
 * Mistral sets it up) or Jinja2 gives on import_data, as JSON (NULL:
 * not compared).
 */
struct import_pair {
	const char	*src;
	int		 flags;
	const char	*lua;
	const char	*value;
};

static const struct import_pair import_pairs[] = {
	/* YAQL */
	{ "$", 0, "_", NULL },
	{ "$.a", 0, "_.a", "{\"b\": 1}" },
	{ "$.a.b", 0, "_.a.b", "1" },
	{ "$.d.b", 0, "_.d.b", "\"x\"" },
	{ "$.l", 0, "_.l", "[1, 2, 3]" },
	{ "$.n", 0, "_.n", "null" },
	{ "$.l[0]", 0, "_.l[1]", "1" },
	{ "$.l[2]", 0, "_.l[3]", "3" },
	{ "$.l[-1]", 0, "at(_.l, -1)", "3" },
	{ "$.l[$.i]", 0, "at(_.l, _.i)", "2" },
	{ "$.d['a']", 0, "_.d.a", "1" },
	{ "$.d[\"b\"]", 0, "_.d.b", "\"x\"" },
	{ "$.a?.b", 0, "get(_.a, 'b')", "1" },
	{ "$.n?.b", 0, "get(_.n, 'b')", "null" },
	{ "1", 0, "1", "1" },
	{ "1.5", 0, "1.5", "1.5" },
	{ "-1", 0, "-1", "-1" },
	{ "- -1", 0, "-(-1)", "1" },
	{ "+3", 0, "3", "3" },
	{ "'text'", 0, "'text'", "\"text\"" },
	{ "\"text\"", 0, "'text'", "\"text\"" },
	{ "`verb\\`atim`", 0, "'verb`atim'", "\"verb`atim\"" },
	{ "'it\\'s'", 0, "\"it's\"", "\"it's\"" },
	{ "\"say \\\"hi\\\"\"", 0, "'say \"hi\"'", "\"say \\\"hi\\\"\"" },
	{ "'tab\\there'", 0, "'tab\\there'", "\"tab\\there\"" },
	{ "'line\\nbreak'", 0, "'line\\nbreak'", "\"line\\nbreak\"" },
	{ "'caf\\u00e9'", 0, "'café'", "\"caf\\u00e9\"" },
	{ "true", 0, "true", "true" },
	{ "false", 0, "false", "false" },
	{ "null", 0, "null", "null" },
	{ "1 + 2", 0, "1 + 2", "3" },
	{ "1 + 2 * 3", 0, "1 + 2 * 3", "7" },
	{ "(1 + 2) * 3", 0, "(1 + 2) * 3", "9" },
	{ "1 - (2 - 3)", 0, "1 - (2 - 3)", "2" },
	{ "1 - 2 - 3", 0, "1 - 2 - 3", "-4" },
	{ "2 * 3 mod 4", 0, "2 * 3 % 4", "2" },
	{ "10 / 4", 0, "10 // 4", "2" },
	{ "10 / 4.0", 0, "10 / 4.0", "2.5" },
	{ "$.x / 2", 0, "div(_.x, 2)", "3" },
	{ "$.x mod 3", 0, "_.x % 3", "1" },
	{ "-$.x", 0, "-_.x", "-7" },
	{ "-2 * 3", 0, "-2 * 3", "-6" },
	{ "-$.l[0]", 0, "-_.l[1]", "-1" },
	{ "$.x + 1", 0, "_.x + 1", "8" },
	{ "1 + $.x", 0, "1 + _.x", "8" },
	{ "$.x - 1", 0, "_.x - 1", "6" },
	{ "$.x * 2", 0, "_.x * 2", "14" },
	{ "1.5 + 2", 0, "1.5 + 2", "3.5" },
	{ "'a' + 'b'", 0, "'a' .. 'b'", "\"ab\"" },
	{ "'a' + $.s", 0, "'a' .. _.s", "\"aHello\"" },
	{ "$.s + 'a'", 0, "_.s .. 'a'", "\"Helloa\"" },
	{ "'a' + $.s + 'b'", 0, "'a' .. _.s .. 'b'", "\"aHellob\"" },
	{ "$.s + $.host", 0, "plus(_.s, _.host)", "\"Helloc3\"" },
	{ "$.l + [4]", 0, "plus(_.l, {4})", "[1, 2, 3, 4]" },
	{ "$.d + {c => 3}", 0, "merge(_.d, {c = 3})", "{\"a\": 1, \"b\": \"x\", \"c\": 3}" },
	{ "'ab' * 2", 0, "string.rep('ab', 2)", "\"abab\"" },
	{ "str($.x) + '!'", 0, "str(_.x) .. '!'", "\"7!\"" },
	{ "$.x = 7", 0, "_.x == 7", "true" },
	{ "$.x != 7", 0, "_.x ~= 7", "false" },
	{ "$.s = 'Hello'", 0, "_.s == 'Hello'", "true" },
	{ "$.s != 'x'", 0, "_.s ~= 'x'", "true" },
	{ "$.n = null", 0, "is_null(_.n)", "true" },
	{ "$.n != null", 0, "not is_null(_.n)", "false" },
	{ "null = $.n", 0, "is_null(_.n)", "true" },
	{ "$.l = [1, 2, 3]", 0, "eq(_.l, {1, 2, 3})", "true" },
	{ "$.d = $.d", 0, "eq(_.d, _.d)", "true" },
	{ "$.d != {a => 2}", 0, "not eq(_.d, {a = 2})", "true" },
	{ "$.x > 5", 0, "_.x > 5", "true" },
	{ "$.x >= 7", 0, "_.x >= 7", "true" },
	{ "$.x < 5", 0, "_.x < 5", "false" },
	{ "$.x <= 7", 0, "_.x <= 7", "true" },
	{ "$.x > 5 and $.x < 10", 0, "_.x > 5 and _.x < 10", "true" },
	{ "$.x < 5 or $.x > 6", 0, "_.x < 5 or _.x > 6", "true" },
	{ "not $.x > 5", 0, "not (_.x > 5)", "false" },
	{ "not ($.x > 5 and $.x < 6)", 0, "not (_.x > 5 and _.x < 6)", "true" },
	{ "not $.e", 0, "not bool(_.e)", "true" },
	{ "not $.l", 0, "not bool(_.l)", "false" },
	{ "$.l and $.x > 1", 0, "bool(_.l) and _.x > 1", "true" },
	{ "$.e or 'empty'", 0, "or_else(_.e, 'empty')", "\"empty\"" },
	{ "$.n or 'none'", 0, "or_else(_.n, 'none')", "\"none\"" },
	{ "$.s or 'none'", 0, "or_else(_.s, 'none')", "\"Hello\"" },
	{ "$.x > 1 and $.s", 0, "_.x > 1 and _.s", "\"Hello\"" },
	{ "2 in $.l", 0, "contains(_.l, 2)", "true" },
	{ "5 in $.l", 0, "contains(_.l, 5)", "false" },
	{ "'ell' in $.s", 0, "contains(_.s, 'ell')", "true" },
	{ "'a' in $.d.keys()", 0, "contains(keys(_.d), 'a')", "true" },
	{ "len($.l)", 0, "len(_.l)", "3" },
	{ "$.l.len()", 0, "len(_.l)", "3" },
	{ "len($.s)", 0, "len(_.s)", "5" },
	{ "len($.d)", 0, "len(_.d)", "2" },
	{ "$.l.count()", 0, "len(_.l)", "3" },
	{ "str($.x)", 0, "str(_.x)", "\"7\"" },
	{ "str(1.5)", 0, "str(1.5)", "\"1.5\"" },
	{ "str(1.0)", 0, "str(1.0)", "\"1.0\"" },
	{ "str(null)", 0, "str(null)", "\"null\"" },
	{ "str(true)", 0, "str(true)", "\"true\"" },
	{ "int('12')", 0, "int('12')", "12" },
	{ "int(2.7)", 0, "int(2.7)", "2" },
	{ "int(-2.7)", 0, "int(-2.7)", "-2" },
	{ "int(null)", 0, "int(null)", "0" },
	{ "float(2)", 0, "float(2)", "2.0" },
	{ "float('1.5')", 0, "float('1.5')", "1.5" },
	{ "bool($.e)", 0, "bool(_.e)", "false" },
	{ "bool($.l)", 0, "bool(_.l)", "true" },
	{ "bool(0)", 0, "bool(0)", "false" },
	{ "bool('')", 0, "bool('')", "false" },
	{ "bool('x')", 0, "bool('x')", "true" },
	{ "isList($.l)", 0, "is_array(_.l)", "true" },
	{ "isList($.d)", 0, "is_array(_.d)", "false" },
	{ "isDict($.d)", 0, "is_dict(_.d)", "true" },
	{ "isDict($.l)", 0, "is_dict(_.l)", "false" },
	{ "isString($.s)", 0, "is_string(_.s)", "true" },
	{ "isString($.x)", 0, "is_string(_.x)", "false" },
	{ "isInteger($.x)", 0, "is_integer(_.x)", "true" },
	{ "isNumber(1.5)", 0, "is_number(1.5)", "true" },
	{ "isBoolean(true)", 0, "is_bool(true)", "true" },
	{ "$.d.keys()", 0, "keys(_.d)", "[\"a\", \"b\"]" },
	{ "$.d.values()", 0, "values(_.d)", "[1, \"x\"]" },
	{ "$.l.first()", 0, "first(_.l)", "1" },
	{ "$.l.last()", 0, "last(_.l)", "3" },
	{ "$.e.first(0)", 0, "first(_.e, 0)", "0" },
	{ "$.l.where($ > 1)", 0, "filter(_.l, function(x) return x > 1 end)", "[2, 3]" },
	{ "$.l.where($ > 1).select($ * 10)", 0, "map(filter(_.l, function(x) return x > 1 end), function(x) return x * 10 end)", "[20, 30]" },
	{ "$.l.where($ > 1).select($ * 10).sum()", 0, "sum(map(filter(_.l, function(x) return x > 1 end), function(x) return x * 10 end))", "50" },
	{ "$.items.where($.ha).select($.id)", 0, "map(filter(_.items, function(x) return bool(x.ha) end), function(x) return x.id end)", "[\"vm-1\"]" },
	{ "$.items.where(not $.ha).select($.id).first()", 0, "first(map(filter(_.items, function(x) return not bool(x.ha) end), function(x) return x.id end))", "\"vm-2\"" },
	{ "$.items.select($.size).sum()", 0, "sum(map(_.items, function(x) return x.size end))", "7" },
	{ "$.items.where($.size > 1 and $.ha).len()", 0, "len(filter(_.items, function(x) return x.size > 1 and bool(x.ha) end))", "1" },
	{ "$.l.select([$, $ * 2])", 0, "map(_.l, function(x) return {x, x * 2} end)", "[[1, 2], [2, 4], [3, 6]]" },
	{ "$.l.select({v => $})", 0, "map(_.l, function(x) return {v = x} end)", "[{\"v\": 1}, {\"v\": 2}, {\"v\": 3}]" },
	{ "$.l.any($ > 2)", 0, "any(_.l, function(x) return x > 2 end)", "true" },
	{ "$.l.any($ > 5)", 0, "any(_.l, function(x) return x > 5 end)", "false" },
	{ "$.l.all($ > 0)", 0, "all(_.l, function(x) return x > 0 end)", "true" },
	{ "$.e.all($ > 0)", 0, "all(_.e, function(x) return x > 0 end)", "true" },
	{ "$.l.any()", 0, "any(_.l, bool)", "true" },
	{ "$.l.sum()", 0, "sum(_.l)", "6" },
	{ "$.l.max()", 0, "maximum(_.l)", "3" },
	{ "$.l.min()", 0, "minimum(_.l)", "1" },
	{ "max(1, $.x)", 0, "math.max(1, _.x)", "7" },
	{ "min($.x, 3)", 0, "math.min(_.x, 3)", "3" },
	{ "[3, 1, 2].sort()", 0, "sorted({3, 1, 2})", NULL },
	{ "[3, 1, 2].orderBy($)", 0, "order_by({3, 1, 2}, function(x) return x end)", "[1, 2, 3]" },
	{ "$.items.orderBy($.size).select($.id)", 0, "map(order_by(_.items, function(x) return x.size end), function(x) return x.id end)", "[\"vm-1\", \"vm-2\"]" },
	{ "$.items.orderByDescending($.size).select($.id)", 0, "map(order_by(_.items, function(x) return x.size end, true), function(x) return x.id end)", "[\"vm-2\", \"vm-1\"]" },
	{ "[1, 2, 1, 3].distinct()", 0, "unique({1, 2, 1, 3})", "[1, 2, 3]" },
	{ "$.l.reverse()", 0, "reversed(_.l)", "[3, 2, 1]" },
	{ "$.l.skip(1)", 0, "skip(_.l, 1)", "[2, 3]" },
	{ "$.l.limit(2)", 0, "take(_.l, 2)", "[1, 2]" },
	{ "[1, [2, [3]]].flatten()", 0, "flatten({1, {2, {3}}})", "[1, 2, 3]" },
	{ "$.l.aggregate($1 + $2, 10)", 0, "reduce(_.l, function(a, b) return plus(a, b) end, 10)", "16" },
	{ "$.l.indexOf(2)", 0, "index_of(_.l, 2)", "1" },
	{ "$.l.indexOf(9)", 0, "index_of(_.l, 9)", "-1" },
	{ "$.s.indexOf('l')", 0, "index_of(_.s, 'l')", "2" },
	{ "$.l.contains(2)", 0, "contains(_.l, 2)", "true" },
	{ "$.d.containsKey(a)", 0, "contains(_.d, 'a')", "true" },
	{ "$.d.containsValue('x')", 0, "contains(values(_.d), 'x')", "true" },
	{ "$.s.startsWith('He')", 0, "starts_with(_.s, 'He')", "true" },
	{ "$.s.endsWith('lo')", 0, "ends_with(_.s, 'lo')", "true" },
	{ "'a,b,c'.split(',')", 0, "split('a,b,c', ',')", "[\"a\", \"b\", \"c\"]" },
	{ "'a b  c'.split()", 0, "split('a b  c')", "[\"a\", \"b\", \"c\"]" },
	{ "$.l.join(', ')", 0, "join(_.l, ', ')", "\"1, 2, 3\"" },
	{ "', '.join($.l)", 0, "join(_.l, ', ')", "\"1, 2, 3\"" },
	{ "$.s.replace('l', 'L')", 0, "replace(_.s, 'l', 'L')", "\"HeLLo\"" },
	{ "$.s.replace('l', 'L', 1)", 0, "replace(_.s, 'l', 'L', 1)", "\"HeLlo\"" },
	{ "'  x  '.trim()", 0, "trim('  x  ')", "\"x\"" },
	{ "'  x  '.trimLeft()", 0, "trim_left('  x  ')", "\"x  \"" },
	{ "'  x  '.trimRight()", 0, "trim_right('  x  ')", "\"  x\"" },
	{ "$.s.toUpper()", 0, "string.upper(_.s)", "\"HELLO\"" },
	{ "$.s.toLower()", 0, "string.lower(_.s)", "\"hello\"" },
	{ "$.s.substring(1)", 0, "substring(_.s, 1)", "\"ello\"" },
	{ "$.s.substring(1, 3)", 0, "substring(_.s, 1, 3)", "\"ell\"" },
	{ "$.s.substring(-2)", 0, "substring(_.s, -2)", "\"lo\"" },
	{ "'{0} and {1}'.format($.s, $.x)", 0, "str(_.s) .. ' and ' .. str(_.x)", "\"Hello and 7\"" },
	{ "format('{}-{}', $.host, $.x)", 0, "str(_.host) .. '-' .. str(_.x)", "\"c3-7\"" },
	{ "concat('a', $.s)", 0, "'a' .. str(_.s)", "\"aHello\"" },
	{ "coalesce($.n, $.x)", 0, "coalesce(_.n, _.x)", "7" },
	{ "$.d.get(a)", 0, "_.d.a", "1" },
	{ "$.d.get(z, 5)", 0, "default(_.d.z, 5)", "5" },
	{ "switch($.x > 5 => 'big', $.x > 1 => 'medium', true => 'small')", 0, "_.x > 5 and 'big' or _.x > 1 and 'medium' or 'small'", "\"big\"" },
	{ "switch($.x > 10 => 'big')", 0, "_.x > 10 and 'big' or null", "null" },
	{ "switch($.x > 1 => $.n, true => 1)", 0, "(function() if _.x > 1 then return _.n end return 1 end)()", "null" },
	{ "let(a => 1, b => $.x) -> $a + $b", 0, "(function(a, b) return plus(a, b) end)(1, _.x)", "8" },
	{ "let(a => $.s) -> $a + '!'", 0, "(function(a) return a .. '!' end)(_.s)", "\"Hello!\"" },
	{ "let(1, 2) -> $1 + $2", 0, "(function(v1, v2) return plus(v1, v2) end)(1, 2)", "3" },
	{ "dict(a => 1, b => $.x)", 0, "{a = 1, b = _.x}", "{\"a\": 1, \"b\": 7}" },
	{ "dict()", 0, "{}", "{}" },
	{ "dict($.l.select([str($), $]))", 0, "dict_of(map(_.l, function(x) return {str(x), x} end))", "{\"1\": 1, \"2\": 2, \"3\": 3}" },
	{ "{a => 1, 'b c' => 2}", 0, "{a = 1, ['b c'] = 2}", "{\"a\": 1, \"b c\": 2}" },
	{ "{}", 0, "{}", "{}" },
	{ "[]", 0, "array()", "[]" },
	{ "[1, 'two', null]", 0, "{1, 'two', null}", "[1, \"two\", null]" },
	{ "list(1, 2)", 0, "{1, 2}", "[1, 2]" },
	{ "range(3)", 0, "range(0, 2)", "[0, 1, 2]" },
	{ "range(1, 4)", 0, "range(1, 3)", "[1, 2, 3]" },
	{ "range($.i)", 0, "range(0, _.i - 1)", "[0]" },
	{ "json_parse('{\"k\": [1, 2]}')", 0, "json_decode('{\"k\": [1, 2]}')", "{\"k\": [1, 2]}" },
	{ "json_parse(json_dump($.d)).b", 0, "json_decode(json_encode(_.d)).b", "\"x\"" },
	{ "len(uuid())", 0, "len(uuid())", "36" },
	{ "$.items.where($.id = 'vm-1').first().size", 0, "first(filter(_.items, function(x) return x.id == 'vm-1' end)).size", "2" },
	{ "$.items.select($.id).where($ != 'vm-1')", 0, "filter(map(_.items, function(x) return x.id end), function(x) return x ~= 'vm-1' end)", "[\"vm-2\"]" },
	{ "$.l.where($ = 2 or $ = 3)", 0, "filter(_.l, function(x) return x == 2 or x == 3 end)", "[2, 3]" },
	{ "$.l.select($ * 2).where($ > 2).len()", 0, "len(filter(map(_.l, function(x) return x * 2 end), function(x) return x > 2 end))", "2" },
	{ "$.items.where($.ha).select($.id).join(',')", 0, "join(map(filter(_.items, function(x) return bool(x.ha) end), function(x) return x.id end), ',')", "\"vm-1\"" },
	{ "not $.l.contains(5)", 0, "not contains(_.l, 5)", "true" },
	{ "$.x > 1 and not $.e", 0, "_.x > 1 and not bool(_.e)", "true" },
	/* Jinja */
	{ "_", J, "_", NULL },
	{ "_.a.b", J, "_.a.b", "1" },
	{ "_.l[0]", J, "_.l[1]", "1" },
	{ "_.l[-1]", J, "at(_.l, -1)", "3" },
	{ "_.d['b']", J, "_.d.b", "\"x\"" },
	{ "_.s | upper", J, "string.upper(_.s)", "\"HELLO\"" },
	{ "_.s | lower", J, "string.lower(_.s)", "\"hello\"" },
	{ "_.l | length", J, "len(_.l)", "3" },
	{ "_.l | count", J, "len(_.l)", "3" },
	{ "_.l | first", J, "first(_.l)", "1" },
	{ "_.l | last", J, "last(_.l)", "3" },
	{ "_.l | sum", J, "sum(_.l)", "6" },
	{ "_.l | max", J, "maximum(_.l)", "3" },
	{ "_.l | min", J, "minimum(_.l)", "1" },
	{ "_.l | join(', ')", J, "join(_.l, ', ')", "\"1, 2, 3\"" },
	{ "_.l | join", J, "join(_.l, '')", "\"123\"" },
	{ "_.l | reverse | list", J, "reversed(_.l)", "[3, 2, 1]" },
	{ "[3, 1, 2] | sort", J, "sorted({3, 1, 2})", "[1, 2, 3]" },
	{ "[1, 1, 2] | unique | list", J, "unique({1, 1, 2})", "[1, 2]" },
	{ "'  x ' | trim", J, "trim('  x ')", "\"x\"" },
	{ "'12' | int + 1", J, "int('12') + 1", "13" },
	{ "_.x | float", J, "float(_.x)", "7.0" },
	{ "_.x | string", J, "str(_.x)", "\"7\"" },
	{ "_.missing | default('d')", J, "defined_or(_.missing, 'd')", "\"d\"" },
	{ "_.n | default('d')", J, "defined_or(_.n, 'd')", "null" },
	{ "_.n | default('d', true)", J, "or_else(_.n, 'd')", "\"d\"" },
	{ "_.vms | selectattr('ha') | map(attribute='id') | list", J, "map(filter(_.vms, function(x) return bool(x.ha) end), function(x) return x.id end)", "[\"vm-1\"]" },
	{ "_.vms | rejectattr('ha') | map(attribute='id') | first", J, "first(map(filter(_.vms, function(x) return not bool(x.ha) end), function(x) return x.id end))", "\"vm-2\"" },
	{ "_.vms | selectattr('id', 'equalto', 'vm-2') | map(attribute='size') | list", J, "map(filter(_.vms, function(x) return x.id == 'vm-2' end), function(x) return x.size end)", "[5]" },
	{ "_.vms | map(attribute='size') | sum", J, "sum(map(_.vms, function(x) return x.size end))", "7" },
	{ "_.d | tojson", J, "json_encode(_.d)", NULL },
	{ "_.s.startswith('He')", J, "starts_with(_.s, 'He')", "true" },
	{ "_.s.endswith('x')", J, "ends_with(_.s, 'x')", "false" },
	{ "_.s.upper()", J, "string.upper(_.s)", "\"HELLO\"" },
	{ "_.s.replace('l', 'L')", J, "replace(_.s, 'l', 'L')", "\"HeLLo\"" },
	{ "'a,b'.split(',')", J, "split('a,b', ',')", "[\"a\", \"b\"]" },
	{ "', '.join(['a', 'b'])", J, "join({'a', 'b'}, ', ')", "\"a, b\"" },
	{ "_.d.get('a')", J, "_.d.a", "1" },
	{ "_.d.get('z', 0)", J, "default(_.d.z, 0)", "0" },
	{ "_.d.keys() | list", J, "keys(_.d)", "[\"a\", \"b\"]" },
	{ "_.missing is defined", J, "_.missing ~= nil", "false" },
	{ "_.s is defined", J, "_.s ~= nil", "true" },
	{ "_.n is none", J, "is_null(_.n)", "true" },
	{ "_.s is not none", J, "not is_null(_.s)", "true" },
	{ "_.s is string", J, "is_string(_.s)", "true" },
	{ "_.x is number", J, "is_number(_.x)", "true" },
	{ "_.d is mapping", J, "is_dict(_.d)", "true" },
	{ "_.x is divisibleby 7", J, "_.x % 7 == 0", "true" },
	{ "_.x is odd", J, "_.x % 2 == 1", "true" },
	{ "_.x is even", J, "_.x % 2 == 0", "false" },
	{ "_.x == 7", J, "_.x == 7", "true" },
	{ "_.x != 7", J, "_.x ~= 7", "false" },
	{ "_.s == 'Hello'", J, "_.s == 'Hello'", "true" },
	{ "_.l == [1, 2, 3]", J, "eq(_.l, {1, 2, 3})", "true" },
	{ "_.n == none", J, "is_null(_.n)", "true" },
	{ "_.x > 5 and _.x < 10", J, "_.x > 5 and _.x < 10", "true" },
	{ "_.x < 5 or _.s", J, "_.x < 5 or _.s", "\"Hello\"" },
	{ "not _.l", J, "not bool(_.l)", "false" },
	{ "not _.e", J, "not bool(_.e)", "true" },
	{ "2 in _.l", J, "contains(_.l, 2)", "true" },
	{ "5 not in _.l", J, "not contains(_.l, 5)", "true" },
	{ "'ell' in _.s", J, "contains(_.s, 'ell')", "true" },
	{ "1 + 2 * 3", J, "1 + 2 * 3", "7" },
	{ "(1 + 2) * 3", J, "(1 + 2) * 3", "9" },
	{ "10 / 4", J, "10 / 4", "2.5" },
	{ "10 // 4", J, "10 // 4", "2" },
	{ "10 % 3", J, "10 % 3", "1" },
	{ "2 ** 3", J, "2 ^ 3", "8" },
	{ "-_.x", J, "-_.x", "-7" },
	{ "'a' ~ _.x ~ 'b'", J, "'a' .. str(_.x) .. 'b'", "\"a7b\"" },
	{ "_.s ~ '!'", J, "str(_.s) .. '!'", "\"Hello!\"" },
	{ "_.s + '!'", J, "_.s .. '!'", "\"Hello!\"" },
	{ "_.l + [4]", J, "plus(_.l, {4})", "[1, 2, 3, 4]" },
	{ "_.x + 1", J, "_.x + 1", "8" },
	{ "'yes' if _.x > 5 else 'no'", J, "_.x > 5 and 'yes' or 'no'", "\"yes\"" },
	{ "_.s if _.l else 'none'", J, "(function() if bool(_.l) then return _.s end return 'none' end)()", "\"Hello\"" },
	{ "_.l | length > 2", J, "len(_.l) > 2", "true" },
	{ "range(3) | list", J, "range(0, 2)", "[0, 1, 2]" },
	{ "range(1, 4) | list", J, "range(1, 3)", "[1, 2, 3]" },
	{ "{'a': 1, 'b': _.x}", J, "{a = 1, b = _.x}", "{\"a\": 1, \"b\": 7}" },
	{ "[1, 'two', none]", J, "{1, 'two', null}", "[1, \"two\", null]" },
	{ "True", J, "true", "true" },
	{ "False", J, "false", "false" },
	{ "None", J, "null", "null" },
	{ "json_parse('[1, 2]')", J, "json_decode('[1, 2]')", "[1, 2]" },
	/* Mistral's functions */
	{ "task(get_vm).result.status", 0, "task('get_vm').result.status",
	  "\"ACTIVE\"" },
	{ "task().result.id", 0, "task().result.id", "\"vm-9\"" },
	{ "execution().input.host", 0, "execution().input.host", "\"c9\"" },
	{ "env().region", 0, "env().region", "\"north\"" },
	{ "global(x)", 0, "_.x", "7" },
	{ "$.items.select($.id).where(not $ in task(t).result.skip)", 0,
	  "filter(map(_.items, function(x) return x.id end), function(x) "
	  "return not contains(task('t').result.skip, x) end)",
	  "[\"vm-1\"]" },
	{ "task('get_vm').result.status", J, "task('get_vm').result.status",
	  "\"ACTIVE\"" },
	{ "execution().input.host | upper", J,
	  "string.upper(execution().input.host)", "\"C9\"" },
	/* Conditions: the truth of a value is YAQL's */
	{ "$.l", IMPORT_BOOL, "bool(_.l)", "true" },
	{ "$.e", IMPORT_BOOL, "bool(_.e)", "false" },
	{ "$.x > 1", IMPORT_BOOL, "_.x > 1", "true" },
	{ "$.n or $.e", IMPORT_BOOL, "bool(_.n) or bool(_.e)", "false" },
	{ "$.l and $.x", IMPORT_BOOL, "bool(_.l) and bool(_.x)", "true" },
	{ "not $.s", IMPORT_BOOL, "not bool(_.s)", "false" },
	{ "_.e", J | IMPORT_BOOL, "bool(_.e)", "false" },
	/* Quotes: refused ones are escaped, preferred ones chosen */
	{ "'a' + $.s", IMPORT_NOSQ, "\"a\" .. _.s", "\"aHello\"" },
	{ "\"it's\" + $.s", IMPORT_NOSQ, "\"it\\39s\" .. _.s",
	  "\"it'sHello\"" },
	{ "'say \"hi\"'", IMPORT_NODQ, "'say \\34hi\\34'", "\"say \\\"hi\\\"\"" },
	{ "'a'", IMPORT_PREFDQ, "\"a\"", "\"a\"" },
	{ "'a\"b'", IMPORT_PREFDQ, "'a\"b'", "\"a\\\"b\"" },
	{ "'100%>'", 0, "'100%\\62'", "\"100%>\"" },
	{ "'back\\\\slash'", 0, "'back\\\\slash'", "\"back\\\\slash\"" },
	/* Names that are not Lua names, locals that must not shadow */
	{ "$.d.end", 0, "_.d['end']", NULL },
	{ "let(len => 2) -> $len + len($.l)", 0,
	  "(function(len2) return len2 + len(_.l) end)(2)", "5" },
	{ "$.l.select($.x.where($ > $.y))", 0,
	  "map(_.l, function(x) return filter(x.x, function(x2) return "
	  "x2 > x2.y end) end)", NULL },
	{ NULL, 0, NULL, NULL }
};

/* Expressions that stay as they are, and the reason given. */
static const struct import_pair import_bad[] = {
	{ "$.a =~ 'x'", 0, "regular expressions", NULL },
	{ "$.a !~ 'x'", 0, "regular expressions", NULL },
	{ "regex('a').matches($.s)", 0, "regular expression", NULL },
	{ "tasks()", 0, "tasks() has no bora counterpart", NULL },
	{ "executions()", 0, "executions() has no bora counterpart", NULL },
	{ "yaml_dump($)", 0, "no YAML", NULL },
	{ "frobnicate(1)", 0, "unknown function frobnicate()", NULL },
	{ "$.l.frobnicate()", 0, "unknown method frobnicate()", NULL },
	{ "$nothing", 0, "unknown variable $nothing", NULL },
	{ "$.__execution.id", 0, "internal field", NULL },
	{ "$.a +", 0, "unexpected end", NULL },
	{ "$.a + * 2", 0, "unexpected '*'", NULL },
	{ "($.a", 0, "expected ')'", NULL },
	{ "'open", 0, "unterminated string", NULL },
	{ "$.a @ 1", 0, "unexpected character '@'", NULL },
	{ "", 0, "empty expression", NULL },
	{ "len()", 0, "takes 1 to 1 arguments", NULL },
	{ "len(1, 2)", 0, "takes 1 to 1 arguments", NULL },
	{ "$.l.where(x => 1)", 0, "no named arguments", NULL },
	{ "switch($.a, 1)", 0, "condition => value pairs", NULL },
	{ "let(a => 1)", 0, "only translated before '->'", NULL },
	{ "$.a -> $.b", 0, "'->' after something else", NULL },
	{ "$.l[1, 2]", 0, "an index other than [i]", NULL },
	{ "$.a.(1)", 0, "a name or a method must follow", NULL },
	{ "a => 1", 0, "unexpected '=>'", NULL },
	{ "f(a => 1 => 2)", 0, "expected ')'", NULL },
	{ "format($.f, 1)", 0, "literal format", NULL },
	{ "'{0:>4}'.format(1)", 0, "other than {}", NULL },
	{ "concat($.a, $.b)", 0, "not known to be strings", NULL },
	{ "range(1, 10, 2)", 0, "takes 1 to 2 arguments", NULL },
	{ "(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
	  "((1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))"
	  "))", 0, "nested too deeply", NULL },
	{ "loop.index", J, "unknown name 'loop'", NULL },
	{ "_.l[1:2]", J, "slices are not supported", NULL },
	{ "1 < _.x < 3", J, "chained comparisons", NULL },
	{ "'%s' % _.x", J, "'%' formatting of text", NULL },
	{ "_.l | frobnicate", J, "unknown filter 'frobnicate'", NULL },
	{ "_.l is frobnicated", J, "unknown test 'frobnicated'", NULL },
	{ "_.l | map('upper')", J, "map(attribute='name')", NULL },
	{ "_.l | selectattr('a', 'gt', 1)", J, "with the test 'gt'", NULL },
	{ "(1, 2)", J, "tuples are not supported", NULL },
	{ "1e3", J, "exponents", NULL },
	{ "_.a.b(", J, "unexpected end", NULL },
	{ "yaml_parse(_.t)", J, "no YAML", NULL },
	{ "_.s | lipsum", J, "unknown filter", NULL },
	{ NULL, 0, NULL, NULL }
};

/* task(name) for the evaluations. */
static json_t *
import_task_lookup(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "get_vm") == 0)
		return (json_pack("{s:s, s:s, s:{s:s}}", "name", "get_vm",
		    "state", "SUCCESS", "result", "status", "ACTIVE"));
	if (strcmp(name, "t") == 0)
		return (json_pack("{s:s, s:{s:[s]}}", "name", "t", "result",
		    "skip", "vm-2"));
	return (NULL);
}

/* Numbers equal as numbers (YAQL's 2.0 is Lua's 2.0 or 2). */
static int
import_same(json_t *a, json_t *b)
{
	size_t		 i;
	const char	*k;
	json_t		*v;

	if (json_is_number(a) && json_is_number(b))
		return (json_number_value(a) == json_number_value(b));
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return (0);
		for (i = 0; i < json_array_size(a); i++) {
			if (!import_same(json_array_get(a, i),
			    json_array_get(b, i)))
				return (0);
		}
		return (1);
	}
	if (json_is_object(a) && json_is_object(b)) {
		if (json_object_size(a) != json_object_size(b))
			return (0);
		json_object_foreach(a, k, v) {
			if (!import_same(v, json_object_get(b, k)))
				return (0);
		}
		return (1);
	}
	return (json_equal(a, b));
}

/* Every pair: the Lua text, then its value in a sandbox. */
static void
test_import_pairs(void **state)
{
	const struct import_pair *p;
	struct expr_ctx		 ctx;
	struct expr		*e;
	json_t			*data, *want, *got;
	char			*out, *cause = NULL, *s;
	size_t			 n = 0, evaluated = 0;

	(void)state;
	e = expr_create(NULL, BORA_SRCDIR "/lua", &cause);
	if (e == NULL)
		fail_msg("expr_create: %s", cause);
	data = json_loads(import_data, 0, NULL);
	assert_non_null(data);
	memset(&ctx, 0, sizeof ctx);
	ctx.data = data;
	ctx.task_lookup = import_task_lookup;
	ctx.cur_task = json_pack("{s:s, s:{s:s}}", "name", "cur", "result",
	    "id", "vm-9");
	ctx.execution = json_pack("{s:s, s:{s:s}}", "name", "wf", "input",
	    "host", "c9");
	ctx.env = json_pack("{s:s}", "region", "north");
	for (p = import_pairs; p->src != NULL; p++, n++) {
		if (import_expr(p->src, strlen(p->src), p->flags, &out,
		    &cause) != 0)
			fail_msg("%s: not translated: %s", p->src, cause);
		if (strcmp(out, p->lua) != 0)
			fail_msg("%s: got %s, want %s", p->src, out, p->lua);
		if (p->value != NULL) {
			want = json_loads(p->value, JSON_DECODE_ANY, NULL);
			assert_non_null(want);
			got = expr_eval_lua(e, out, &ctx, &cause);
			if (got == NULL)
				fail_msg("%s: %s: %s", p->src, out, cause);
			if (!import_same(got, want)) {
				s = json_dumps(got, JSON_ENCODE_ANY);
				fail_msg("%s: %s gives %s, want %s", p->src,
				    out, s, p->value);
			}
			json_decref(got);
			json_decref(want);
			evaluated++;
		}
		free(out);
	}
	assert_true(n >= 150);
	assert_true(evaluated >= 150);
	json_decref(data);
	json_decref(ctx.cur_task);
	json_decref(ctx.execution);
	json_decref(ctx.env);
	expr_free(e);
}

/* What cannot be translated says why. */
static void
test_import_untranslatable(void **state)
{
	const struct import_pair *p;
	char			*out = NULL, *cause = NULL;

	(void)state;
	for (p = import_bad; p->src != NULL; p++) {
		if (import_expr(p->src, strlen(p->src), p->flags, &out,
		    &cause) == 0)
			fail_msg("%s: translated to %s", p->src, out);
		if (strstr(cause, p->lua) == NULL)
			fail_msg("%s: reason '%s' lacks '%s'", p->src, cause,
			    p->lua);
		free(cause);
		cause = NULL;
	}
}

/* The translations compile as Lua (a sample through expr_check). */
static void
test_import_compiles(void **state)
{
	const struct import_pair *p;
	struct expr		*e;
	char			*cause = NULL;

	(void)state;
	e = expr_create(NULL, NULL, &cause);
	assert_non_null(e);
	for (p = import_pairs; p->src != NULL; p++) {
		if (expr_check(e, p->lua, &cause) != 0)
			fail_msg("%s: %s does not compile: %s", p->src, p->lua,
			    cause);
	}
	expr_free(e);
}

/* Templates: every expression found, text kept, problems placed. */
static void
test_import_template(void **state)
{
	struct import_result	 r;
	const char		*s;

	(void)state;
	memset(&r, 0, sizeof r);
	s = "vm <% $.a %> on {{ _.host }} ok";
	import_template(s, strlen(s), 0, 0, &r);
	assert_int_equal(r.nexprs, 2);
	assert_int_equal(r.nedits, 2);
	assert_int_equal(r.ndiags, 0);
	assert_int_equal(r.edits[0].start, 3);
	assert_int_equal(r.edits[0].end, 12);
	assert_string_equal(r.edits[0].text, "<% _.a %>");
	assert_string_equal(r.edits[1].text, "<% _.host %>");
	import_result_free(&r);

	/* Only a whole expression is a condition. */
	s = " <% $.l %> ";
	import_template(s, strlen(s), IMPORT_BOOL, 0, &r);
	assert_string_equal(r.edits[0].text, "<% bool(_.l) %>");
	import_result_free(&r);
	s = "n=<% $.l %>";
	import_template(s, strlen(s), IMPORT_BOOL, 0, &r);
	assert_string_equal(r.edits[0].text, "<% _.l %>");
	import_result_free(&r);

	/* Jinja's whitespace control. */
	s = "{{- _.a -}}";
	import_template(s, strlen(s), 0, 0, &r);
	assert_int_equal(r.edits[0].end, strlen(s));
	assert_string_equal(r.edits[0].text, "<% _.a %>");
	import_result_free(&r);

	/* Inside an inline "..." value: escapes undone, then redone. */
	s = "std.echo output=\"<% 'a \\\"b\\\"' + $.x %>\" n=<% 'q' %>";
	import_template(s, strlen(s), 0, 1, &r);
	assert_int_equal(r.nedits, 2);
	assert_string_equal(r.edits[0].text,
	    "<% 'a \\\"b\\\"' .. _.x %>");
	assert_string_equal(r.edits[1].text, "<% 'q' %>");
	import_result_free(&r);
	/* Inside '...': no ' in the Lua. */
	s = "fail msg='<% 'x' + $.y %>'";
	import_template(s, strlen(s), 0, 1, &r);
	assert_string_equal(r.edits[0].text, "<% \"x\" .. _.y %>");
	import_result_free(&r);

	/* A statement keeps the whole template as it is. */
	s = "{% if _.a %}{{ _.b }}{% endif %}";
	import_template(s, strlen(s), 0, 0, &r);
	assert_int_equal(r.nedits, 0);
	assert_int_equal(r.ndiags, 2);
	assert_int_equal(r.diags[0].pos, 0);
	assert_non_null(strstr(r.diags[0].msg, "Jinja statements"));
	import_result_free(&r);

	/* Unterminated, and one bad among good ones. */
	s = "<% $.a %> <% $.b =~ c %> <% $.c";
	import_template(s, strlen(s), 0, 0, &r);
	assert_int_equal(r.nedits, 1);
	assert_int_equal(r.ndiags, 2);
	assert_int_equal(r.diags[0].pos, 10);
	assert_int_equal(r.diags[1].pos, 25);
	assert_non_null(strstr(r.diags[1].msg, "no '%>' ends it"));
	import_result_free(&r);
}

/* Convert a YAML text; the diagnostics' count is checked. */
static char *
import_file_text(const char *in, size_t ndiags)
{
	struct import_result	 r;
	char			*out = NULL, *cause = NULL;
	size_t			 len;

	if (import_yaml(in, strlen(in), &out, &len, &r, &cause) != 0)
		fail_msg("import_yaml: %s", cause);
	assert_int_equal(r.ndiags, ndiags);
	assert_int_equal(strlen(out), len);
	import_result_free(&r);
	return (out);
}

/* One YAML conversion against its expected text. */
static void
import_yaml_case(const char *in, const char *want)
{
	char	*out;

	out = import_file_text(in, 0);
	if (strcmp(out, want) != 0)
		fail_msg("converted:\n%s\nwant:\n%s", out, want);
	free(out);
}

/* Scalars keep their style; comments, order and blank lines stay. */
static void
test_import_yaml_styles(void **state)
{
	(void)state;
	import_yaml_case(
	    "# head\n"
	    "b: <% $.x %>   # trailing\n"
	    "\n"
	    "a: '<% $.s + ''!'' %>'\n"
	    "c: \"<% $.s + \\\"!\\\" %>\\t\"\n"
	    "d: text\n",
	    "# head\n"
	    "b: <% _.x %>   # trailing\n"
	    "\n"
	    "a: '<% _.s .. \"!\" %>'\n"
	    "c: \"<% _.s .. '!' %>\\t\"\n"
	    "d: text\n");
	/* Block scalars, a multi-line expression made one line. */
	import_yaml_case(
	    "l: |\n"
	    "  a <% $.x\n"
	    "     + 1 %> b\n"
	    "  c\n"
	    "f: >-\n"
	    "  <% $.l.where($ > 1)\n"
	    "     .len() %>\n",
	    "l: |\n"
	    "  a <% _.x + 1 %> b\n"
	    "  c\n"
	    "f: >-\n"
	    "  <% len(filter(_.l, function(x) return x > 1 end)) %>\n");
	/* A multi-line plain scalar. */
	import_yaml_case(
	    "m: <% $.l.where($ > 1)\n"
	    "  .len() %> items\n",
	    "m: <% len(filter(_.l, function(x) return x > 1 end)) %> items\n");
	/* Non-ASCII text before an expression. */
	import_yaml_case(
	    "\xef\xbb\xbf" "é: \"é <% $.é %> ü\"\n",
	    "\xef\xbb\xbf" "é: \"é <% _['é'] %> ü\"\n");
}

/* A plain scalar is quoted only when its new text needs it. */
static void
test_import_yaml_requote(void **state)
{
	(void)state;
	/* Commas in a flow collection. */
	import_yaml_case(
	    "o: {a: <% $.x %>, b: <% $.l.join(';') %>}\n"
	    "s: [<% $.l.select($ * 2) %>]\n",
	    "o: {a: <% _.x %>, b: \"<% join(_.l, ';') %>\"}\n"
	    "s: ['<% map(_.l, function(x) return x * 2 end) %>']\n");
	/* Block context: commas are fine, ": " is not. */
	import_yaml_case(
	    "a: <% $.l.join(';') %>\n"
	    "b: <% dict(k => $.l) %>\n"
	    "c: [<% dict(k => $.l) %>]\n",
	    "a: <% join(_.l, ';') %>\n"
	    "b: <% {k = _.l} %>\n"
	    "c: ['<% {k = _.l} %>']\n");
}

/* Roles: conditions in transitions, inline parameters. */
static void
test_import_yaml_roles(void **state)
{
	(void)state;
	import_yaml_case(
	    "t:\n"
	    "  on-success:\n"
	    "    - a: <% $.l %>\n"
	    "    - fail msg='<% 'no ' + $.s %>'\n"
	    "  on-complete:\n"
	    "    publish:\n"
	    "      branch: {v: <% $.l %>}\n"
	    "    next:\n"
	    "      - b: <% not $.e %>\n"
	    "  retry:\n"
	    "    count: <% $.n %>\n"
	    "    break-on: <% $.e %>\n"
	    "  publish:\n"
	    "    x: <% $.l %>\n",
	    "t:\n"
	    "  on-success:\n"
	    "    - a: <% bool(_.l) %>\n"
	    "    - fail msg='<% \"no \" .. _.s %>'\n"
	    "  on-complete:\n"
	    "    publish:\n"
	    "      branch: {v: <% _.l %>}\n"
	    "    next:\n"
	    "      - b: <% not bool(_.e) %>\n"
	    "  retry:\n"
	    "    count: <% _.n %>\n"
	    "    break-on: <% bool(_.e) %>\n"
	    "  publish:\n"
	    "    x: <% _.l %>\n");
}

/* Problems are placed at their file line and column. */
static void
test_import_yaml_diags(void **state)
{
	struct import_result	 r;
	const char		*in;
	char			*out = NULL, *cause = NULL;
	size_t			 len;

	(void)state;
	in = "a: 1\n"
	    "b:\n"
	    "  c: x <% tasks() %> y <% $.ok %>\n"
	    "  d: |\n"
	    "    line\n"
	    "      {% if _.a %}z{% endif %}\n";
	assert_int_equal(import_yaml(in, strlen(in), &out, &len, &r, &cause),
	    0);
	assert_int_equal(r.ndiags, 3);
	assert_int_equal(r.diags[0].line, 3);
	assert_int_equal(r.diags[0].col, 8);
	assert_int_equal(r.diags[1].line, 6);
	assert_int_equal(r.diags[1].col, 7);
	assert_int_equal(r.diags[2].line, 6);
	assert_int_equal(r.diags[2].col, 20);
	assert_non_null(strstr(out, "x <% tasks() %> y <% _.ok %>"));
	assert_non_null(strstr(out, "{% if _.a %}z{% endif %}"));
	free(out);
	import_result_free(&r);

	/* Not YAML. */
	in = "a: [1, 2\nb: c\n";
	assert_int_equal(import_yaml(in, strlen(in), &out, &len, &r, &cause),
	    -1);
	assert_non_null(strstr(cause, "2:"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_pairs),
		cmocka_unit_test(test_import_untranslatable),
		cmocka_unit_test(test_import_compiles),
		cmocka_unit_test(test_import_template),
		cmocka_unit_test(test_import_yaml_styles),
		cmocka_unit_test(test_import_yaml_requote),
		cmocka_unit_test(test_import_yaml_roles),
		cmocka_unit_test(test_import_yaml_diags),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
