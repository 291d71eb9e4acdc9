-- bora.lua -- functions available to expressions and Lua actions,
-- written in Lua.  The C library (src/expr/expr-lib.c) provides the
-- rest.  Each file in this folder runs once when a sandbox is created;
-- the globals it defines become visible to expressions.  They cannot be
-- changed afterwards.

-- default(v, d): d when v is nil or null, else v.
function default(v, d)
	if v == nil or v == null then
		return d
	end
	return v
end

-- coalesce(...): the first argument that is neither nil nor null.
function coalesce(...)
	for i = 1, select('#', ...) do
		local v = select(i, ...)
		if v ~= nil and v ~= null then
			return v
		end
	end
	return null
end

-- get(t, path, d): t.a.b.c for path "a.b.c" (array indices as numbers),
-- or d when a step is missing, null or not a table.
function get(t, path, d)
	local cur = t
	for part in string.gmatch(path, "[^.]+") do
		if type(cur) ~= "table" then
			return d
		end
		local n = math.tointeger(tonumber(part))
		local nxt = cur[part]
		if nxt == nil and n ~= nil then
			nxt = cur[n]
		end
		if nxt == nil or nxt == null then
			return d
		end
		cur = nxt
	end
	return cur
end

-- sum(list): the sum of the numbers of list (0 when empty).
function sum(list)
	local s = 0
	for _, v in ipairs(list) do
		s = s + v
	end
	return s
end

-- range(a[, b[, step]]): the array a..b (or 1..a) by step.
function range(a, b, step)
	if b == nil then
		a, b = 1, a
	end
	step = step or 1
	if step == 0 then
		error("range: step must not be 0", 2)
	end
	local r = array()
	for i = a, b, step do
		r[#r + 1] = i
	end
	return r
end

-- sorted(list[, less]): a sorted copy of list.
function sorted(list, less)
	local r = array()
	for i, v in ipairs(list) do
		r[i] = v
	end
	table.sort(r, less)
	return r
end

-- unique(list): list without repeated elements, first ones kept.
function unique(list)
	local seen, r = {}, array()
	for _, v in ipairs(list) do
		if not seen[v] then
			seen[v] = true
			r[#r + 1] = v
		end
	end
	return r
end

-- reduce(list, f, init): f(acc, v) folded over list from init.
function reduce(list, f, init)
	local acc = init
	for _, v in ipairs(list) do
		acc = f(acc, v)
	end
	return acc
end

-- any(list[, f]): whether f(v) (or v) is true for some element.
function any(list, f)
	for _, v in ipairs(list) do
		local r = v
		if f ~= nil then
			r = f(v)
		end
		if truthy(r) then
			return true
		end
	end
	return false
end

-- all(list[, f]): whether f(v) (or v) is true for every element.
function all(list, f)
	for _, v in ipairs(list) do
		local r = v
		if f ~= nil then
			r = f(v)
		end
		if not truthy(r) then
			return false
		end
	end
	return true
end
