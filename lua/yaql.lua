-- yaql.lua -- functions with YAQL's meaning, for the expressions that
-- `bora import` translates from Mistral workbooks (and for anyone who
-- wants them).  Loaded after bora.lua, whose functions it uses.
-- Indices are 0-based here, as in YAQL: at(list, 0) is the first
-- element and index_of() counts from 0.

-- bool(v): YAQL's (Python's) truth: false for nil, null, false, 0, '',
-- and empty lists and dicts; true otherwise.
function bool(v)
	if v == nil or v == null or v == false or v == 0 or v == '' then
		return false
	end
	if type(v) == 'table' then
		return len(v) > 0
	end
	return true
end

-- or_else(a, b): a when bool(a), else b (YAQL's "a or b" on values).
function or_else(a, b)
	if bool(a) then
		return a
	end
	return b
end

-- defined_or(v, d): d when v is nil (Jinja's default filter: null is
-- a value).
function defined_or(v, d)
	if v == nil then
		return d
	end
	return v
end

-- str(v): YAQL's str(): 'null', 'true', 'false', integers without a
-- fraction, floats as Python writes them (1.0, 0.1), tables as JSON.
function str(v)
	if v == nil or v == null then
		return 'null'
	elseif v == true then
		return 'true'
	elseif v == false then
		return 'false'
	end
	local t = type(v)
	if t == 'string' then
		return v
	elseif t == 'number' then
		if math.type(v) == 'integer' then
			return string.format('%d', v)
		elseif v ~= v then
			return 'nan'
		elseif v == math.huge or v == -math.huge then
			return v > 0 and 'inf' or '-inf'
		elseif v == math.floor(v) and math.abs(v) < 1e16 then
			return string.format('%.1f', v)
		end
		local s = string.format('%.15g', v)
		if tonumber(s) ~= v then
			s = string.format('%.17g', v)
		end
		return s
	end
	return json_encode(v)
end

-- int(v): an integer from a number (truncated), a string, a boolean;
-- 0 for null.
function int(v)
	if v == nil or v == null then
		return 0
	elseif v == true then
		return 1
	elseif v == false then
		return 0
	end
	local n = v
	if type(v) == 'string' then
		n = tonumber(trim(v), 10)
		if n == nil then
			error("int: not an integer: '" .. v .. "'", 2)
		end
	end
	if type(n) ~= 'number' then
		error('int: cannot convert a ' .. type(v), 2)
	end
	if n >= 0 then
		n = math.floor(n)
	else
		n = math.ceil(n)
	end
	return math.tointeger(n) or n
end

-- float(v): a float from a number, a string, a boolean; 0.0 for null.
function float(v)
	if v == nil or v == null or v == false then
		return 0.0
	elseif v == true then
		return 1.0
	end
	local n = v
	if type(v) == 'string' then
		n = tonumber(trim(v))
		if n == nil then
			error("float: not a number: '" .. v .. "'", 2)
		end
	end
	if type(n) ~= 'number' then
		error('float: cannot convert a ' .. type(v), 2)
	end
	return n + 0.0
end

-- is_dict(v), is_string(v), is_number(v), is_integer(v), is_bool(v).
function is_dict(v)
	return type(v) == 'table' and not is_array(v)
end

function is_string(v)
	return type(v) == 'string'
end

function is_number(v)
	return type(v) == 'number'
end

function is_integer(v)
	return math.type(v) == 'integer'
end

function is_bool(v)
	return type(v) == 'boolean'
end

-- eq(a, b): YAQL's "=": deep equality of lists and dicts, nil and
-- null equal, 1 equal to 1.0.
function eq(a, b)
	if a == nil then
		a = null
	end
	if b == nil then
		b = null
	end
	if type(a) ~= 'table' or type(b) ~= 'table' then
		return a == b
	end
	if is_array(a) ~= is_array(b) or len(a) ~= len(b) then
		return false
	end
	for k, v in pairs(a) do
		if not eq(v, b[k]) then
			return false
		end
	end
	return true
end

-- plus(a, b): YAQL's "+": numbers add, strings and lists join, dicts
-- merge.
function plus(a, b)
	local ta, tb = type(a), type(b)
	if ta == 'number' and tb == 'number' then
		return a + b
	elseif ta == 'string' and tb == 'string' then
		return a .. b
	elseif ta == 'table' and tb == 'table' then
		if is_array(a) and is_array(b) then
			local r = array()
			for _, v in ipairs(a) do
				r[#r + 1] = v
			end
			for _, v in ipairs(b) do
				r[#r + 1] = v
			end
			return r
		elseif not is_array(a) and not is_array(b) then
			return merge(a, b)
		end
	end
	error('cannot add ' .. (a == null and 'null' or ta) .. ' and ' ..
	    (b == null and 'null' or tb), 2)
end

-- div(a, b): YAQL's "/": integer division of integers, else a / b.
function div(a, b)
	if math.type(a) == 'integer' and math.type(b) == 'integer' then
		if b == 0 then
			error('division by zero', 2)
		end
		return a // b
	end
	return a / b
end

-- The 0-based index i of something n long, or an error.
local function index0(i, n)
	local k = math.tointeger(i)
	if k == nil then
		error('index must be an integer', 3)
	end
	if k < 0 then
		k = n + k
	end
	if k < 0 or k >= n then
		error('index ' .. i .. ' out of range', 3)
	end
	return k
end

-- at(t, i): YAQL's t[i]: the element at 0-based i of a list (from the
-- end when negative), the character of a string, the key of a dict.
function at(t, i)
	if type(t) == 'string' then
		local k = index0(i, utf8.len(t))
		local s = utf8.offset(t, k + 1)
		return string.sub(t, s, utf8.offset(t, k + 2) - 1)
	elseif type(i) == 'number' and is_array(t) then
		return t[index0(i, len(t)) + 1]
	end
	return t[i]
end

-- index_of(t, v): 0-based place of v in a list, or of the text v in a
-- string (in characters); -1 when it is not there.
function index_of(t, v)
	if type(t) == 'string' then
		local p = string.find(t, v, 1, true)
		if p == nil then
			return -1
		end
		return utf8.len(t, 1, p - 1) or p - 1
	end
	for i, x in ipairs(t) do
		if eq(x, v) then
			return i - 1
		end
	end
	return -1
end

-- first(t[, d]), last(t[, d]): the first or last element, d when the
-- list is empty (an error without d).
function first(t, ...)
	if len(t) == 0 then
		if select('#', ...) > 0 then
			return (...)
		end
		error('first: the collection is empty', 2)
	end
	return t[1]
end

function last(t, ...)
	local n = len(t)
	if n == 0 then
		if select('#', ...) > 0 then
			return (...)
		end
		error('last: the collection is empty', 2)
	end
	return t[n]
end

-- maximum(t), minimum(t): the largest and smallest element.
function maximum(t)
	local m
	for _, v in ipairs(t) do
		if m == nil or v > m then
			m = v
		end
	end
	if m == nil then
		error('maximum: the collection is empty', 2)
	end
	return m
end

function minimum(t)
	local m
	for _, v in ipairs(t) do
		if m == nil or v < m then
			m = v
		end
	end
	if m == nil then
		error('minimum: the collection is empty', 2)
	end
	return m
end

-- order_by(t, f[, desc]): t sorted by f(v), stable, descending if desc.
function order_by(t, f, desc)
	local keyed, r = {}, array()
	for i, v in ipairs(t) do
		keyed[i] = { k = f(v), i = i, v = v }
	end
	table.sort(keyed, function(a, b)
		if a.k == b.k then
			return a.i < b.i
		end
		if desc then
			return a.k > b.k
		end
		return a.k < b.k
	end)
	for i, e in ipairs(keyed) do
		r[i] = e.v
	end
	return r
end

-- items(d): the [key, value] pairs of a dict, by key.
function items(d)
	local r = array()
	for _, k in ipairs(keys(d)) do
		r[#r + 1] = { k, d[k] }
	end
	return r
end

-- dict_of(pairs): a dict from a list of [key, value] pairs (or a copy
-- of a dict).
function dict_of(list)
	local r = {}
	if is_array(list) then
		for _, p in ipairs(list) do
			r[p[1]] = p[2]
		end
	else
		for k, v in pairs(list) do
			r[k] = v
		end
	end
	return r
end

-- replace(s, old, new[, count]): s with the plain text old replaced by
-- new, count times at most (all when count is nil or negative).
function replace(s, old, new, count)
	if old == '' then
		error('replace: the text to replace is empty', 2)
	end
	local out, init, n = {}, 1, 0
	count = count or -1
	while count < 0 or n < count do
		local a, b = string.find(s, old, init, true)
		if a == nil then
			break
		end
		out[#out + 1] = string.sub(s, init, a - 1)
		out[#out + 1] = new
		init = b + 1
		n = n + 1
	end
	out[#out + 1] = string.sub(s, init)
	return table.concat(out)
end

-- substring(s, start[, length]): characters from 0-based start (from
-- the end when negative), length of them or up to the end.
function substring(s, start, length)
	local n = utf8.len(s)
	if start < 0 then
		start = math.max(n + start, 0)
	end
	if length == nil or length < 0 then
		length = n
	end
	local stop = math.min(start + length, n)
	if start >= stop then
		return ''
	end
	return string.sub(s, utf8.offset(s, start + 1),
	    utf8.offset(s, stop + 1) - 1)
end

-- trim_left(s), trim_right(s): without leading or trailing white space.
function trim_left(s)
	return (string.gsub(s, '^%s+', ''))
end

function trim_right(s)
	local n = #s
	while n > 0 and string.find(string.sub(s, n, n), '^%s') do
		n = n - 1
	end
	return string.sub(s, 1, n)
end

-- reversed(t), skip(t, n), take(t, n): lists made from a list.
function reversed(t)
	local r, n = array(), len(t)
	for i = n, 1, -1 do
		r[#r + 1] = t[i]
	end
	return r
end

function skip(t, n)
	local r = array()
	for i = n + 1, len(t) do
		r[#r + 1] = t[i]
	end
	return r
end

function take(t, n)
	local r = array()
	for i = 1, math.min(n, len(t)) do
		r[i] = t[i]
	end
	return r
end

-- flatten(t): the elements of t with nested lists opened, at any depth.
function flatten(t)
	local r = array()
	local function walk(l)
		for _, v in ipairs(l) do
			if is_array(v) then
				walk(v)
			else
				r[#r + 1] = v
			end
		end
	end
	walk(t)
	return r
end
