-- masakari.lua -- the decisions of Masakari's recovery flows (masakari
-- 14, masakari/engine/drivers/taskflow/*.py), for the shipped workbook
-- workflows/masakari.yaml.  Each function takes what Nova answered and
-- the workflow's data, says what comes next and emits Masakari's
-- progress messages, with its values, through progress().
--
-- Servers are Nova's server objects (GET /servers/{id} at microversion
-- 2.53): OS-EXT-STS:vm_state, OS-EXT-STS:task_state,
-- OS-EXT-STS:power_state, OS-EXT-SRV-ATTR:host, metadata, locked.

masakari = {}

local SHUTDOWN = 4	-- power_state of a server that is off

local function vm_state(s)
	return s['OS-EXT-STS:vm_state']
end

local function task_state(s)
	local t = s['OS-EXT-STS:task_state']
	if t == nil then
		return null
	end
	return t
end

-- masakari.bool(v): oslo's bool_from_string: true for "1", "t",
-- "true", "on", "y", "yes" (any case) and true; false otherwise.
function masakari.bool(v)
	if v == true then
		return true
	end
	if type(v) == 'number' then
		return v == 1
	end
	if type(v) ~= 'string' then
		return false
	end
	local s = string.lower(trim(v))
	return s == '1' or s == 't' or s == 'true' or s == 'on' or
	    s == 'y' or s == 'yes'
end

-- masakari.ha_enabled(server, key): the server's metadata says it is
-- to be recovered (key defaults to HA_Enabled).
function masakari.ha_enabled(server, key)
	local md = server.metadata
	if type(md) ~= 'table' then
		return false
	end
	return masakari.bool(md[key or 'HA_Enabled'])
end

-- masakari.polls(wait, interval): how many more times a state is asked
-- for after the first, every interval seconds for wait seconds.
function masakari.polls(wait, interval)
	if interval == nil or interval <= 0 then
		interval = 1
	end
	return math.max(0, math.floor(wait / interval))
end

------------------------------------------------------------------------
-- Host failure

-- masakari.prepare_instances(servers, _): PrepareHAEnabledInstancesTask
-- over the servers of the failed host: its messages, and the ids to
-- evacuate, HA-enabled ones first (an empty list: nothing to do).
function masakari.prepare_instances(servers, d)
	local host = d.host_name
	local key = d.ha_enabled_instance_metadata_key
	local ha, other = array(), array()

	progress(string.format("Total instances running on failed host "
	    .. "'%s' is %d", host, #servers), 0.3)
	for _, s in ipairs(servers) do
		local is_ha = masakari.ha_enabled(s, key)
		if truthy(d.ignore_instances_in_error_state) and
		    vm_state(s) == 'error' then
			if is_ha then
				progress(string.format("Ignoring recovery of "
				    .. "HA_Enabled instance '%s' as it is in "
				    .. "'error' state.", s.id), 0.4)
			end
		elseif is_ha then
			ha[#ha + 1] = s.id
		else
			other[#other + 1] = s.id
		end
	end
	progress(string.format("Total HA Enabled instances count: '%d'", #ha),
	    0.6)
	if truthy(d.evacuate_all_instances) then
		progress(string.format("Total Non-HA Enabled instances count: "
		    .. "'%d'", #other), 0.7)
		for _, id in ipairs(other) do
			ha[#ha + 1] = id
		end
		progress(string.format("All instances (HA Enabled/Non-HA "
		    .. "Enabled) should be considered for evacuation. Total "
		    .. "count is: '%d'", #ha), 0.8)
	end
	if #ha == 0 then
		progress(string.format("Skipped host '%s' recovery as no "
		    .. "instances needs to be evacuated", host), 1.0)
	else
		progress(string.format("Instances to be evacuated are: '%s'",
		    join(ha, ',')), 1.0)
	end
	return ha
end

-- masakari.aggregate_of(aggregates, host): the first aggregate holding
-- host (Masakari adds the reserved host to that one only), or null.
function masakari.aggregate_of(aggregates, host)
	for _, a in ipairs(aggregates) do
		if type(a.hosts) == 'table' and contains(a.hosts, host) then
			return a
		end
	end
	return null
end

-- masakari.evacuation_plan(server): what _evacuate_and_confirm does
-- around the evacuation of a server as it was found: reset its state to
-- error first (Nova evacuates only active, stopped and error servers
-- with no task), and stop it afterwards.
function masakari.evacuation_plan(s)
	local vm, ts = vm_state(s), task_state(s)
	local p = { vm_state = vm, reset = false, stop = true,
	    resized = false }

	if vm ~= 'active' and vm ~= 'error' and vm ~= 'stopped' then
		p.reset = true
		p.resized = vm == 'resized'
	elseif vm == 'stopped' and ts == null then
		p.stop = false
	elseif ts ~= null then
		p.reset = true
		if vm == 'active' then
			p.stop = false
		end
	end
	if vm == 'active' then
		p.stop = false
	end
	return p
end

-- masakari.after_reset(plan, server): the plan once the state was reset
-- (a resized server that is powered on is not stopped afterwards).
function masakari.after_reset(p, s)
	if p.resized and s['OS-EXT-STS:power_state'] ~= SHUTDOWN then
		p.stop = false
	end
	return p
end

-- masakari.evacuation_state(before, now, failed_host): 'done' when the
-- server runs elsewhere in the state it had (or active, from error),
-- 'failed' when it went to error, else 'wait'.
--
-- Masakari compares hypervisor_hostname with the failed host's name
-- and ignores the task state: with an FQDN hypervisor name it never
-- sees the end, and it takes a rebuild still running on the target
-- (task_state rebuilding) for the end.  This compares the compute host
-- and waits for the task state to clear.  And a server in error before
-- whose rebuild failed (error again, no task, still on the failed host:
-- Nova sets the task before it answers the evacuation) is a failure at
-- once, where Masakari waits wait_period_after_evacuation.
function masakari.evacuation_state(before, now, failed_host)
	local old, new = vm_state(before), vm_state(now)
	local host = now['OS-EXT-SRV-ATTR:host']

	if host == nil or host == null then
		host = now['OS-EXT-SRV-ATTR:hypervisor_hostname']
	end
	if new == 'error' and new ~= old then
		return 'failed'
	end
	if new == 'error' and host == failed_host and
	    task_state(now) == null then
		return 'failed'
	end
	if host ~= failed_host and task_state(now) == null and
	    ((old == 'error' and new == 'active') or old == new) then
		return 'done'
	end
	return 'wait'
end

-- masakari.evacuation_report(results, ids, host): after every server
-- was tried, which were evacuated (sorted) and which not, with
-- Masakari's messages; message is the failure's, or null.
function masakari.evacuation_report(results, ids, host)
	local ok, failed = array(), array()
	local msg = null

	for i, id in ipairs(ids) do
		local r = results[i]
		if type(r) == 'table' and r.evacuated == true then
			ok[#ok + 1] = id
		else
			failed[#failed + 1] = id
		end
	end
	table.sort(ok)
	if #ok > 0 then
		progress(string.format("Successfully evacuate instances '%s' "
		    .. "from host '%s'", join(ok, ','), host), 0.7)
	end
	if #failed > 0 then
		msg = string.format("Failed to evacuate instances '%s' from "
		    .. "host '%s'", join(failed, ','), host)
		progress(msg, 0.7)
	end
	return { evacuated = ok, failed = failed, message = msg }
end

------------------------------------------------------------------------
-- Instance failure

-- masakari.stop_decision(server, _): StopInstanceTask once the server
-- is known: 'skipped' (not HA-enabled), 'ignored' (paused or rescued),
-- 'reset' (resized: set active, then stop), 'stop', or 'wait' (it is
-- stopped already).
function masakari.stop_decision(s, d)
	local id = d.instance_uuid
	local vm = vm_state(s)

	if not truthy(d.process_all_instances) and
	    not masakari.ha_enabled(s, d.ha_enabled_instance_metadata_key) then
		progress(string.format("Skipping recovery for instance: %s as "
		    .. "it is not Ha_Enabled", id), 1.0)
		return 'skipped'
	end
	if vm == 'paused' or vm == 'rescued' then
		progress(string.format("Recovery of instance '%s' is ignored as "
		    .. "it is in '%s' state.", id, vm), 1.0)
		return 'ignored'
	end
	if vm == 'resized' then
		return 'reset'
	end
	if vm ~= 'stopped' then
		return 'stop'
	end
	return 'wait'
end
