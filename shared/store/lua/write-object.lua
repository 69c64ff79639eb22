-- Writes one object atomically: compare-and-set on its resourceVersion, a new cluster-wide
-- resourceVersion, the watch event on the kind's stream, the uid, owner and list-order indexes, and
-- the node resource accounting that keeps schedulers from overcommitting a node.
--
-- Each call carries a write id, and the resourceVersion it produced is recorded under that id for
-- a few minutes, in the same atomic step. A client library re-sends the commands that were in
-- flight when its connection dropped; if the first run had been applied, the re-run would fail its
-- own compare-and-set (a 409 or 404 for a write that succeeded). Instead it answers the recorded
-- resourceVersion and writes nothing.
--
-- KEYS[1]  the resourceVersion counter
-- KEYS[2]  the objects hash of (resource, namespace)
-- KEYS[3]  the set of namespaces holding objects of this resource
-- KEYS[4]  the resource's change stream
-- KEYS[5]  the resource's compacted-resourceVersion marker
-- KEYS[6]  the uid index hash
-- KEYS[7]  the node usage hash touched by ARGV[13] (any key when ARGV[13] is '')
-- KEYS[8]  the claims hash: a unique value (a Service's cluster IP, a node port) -> owner uid
-- KEYS[9]  the resource's object index: sorted set of "namespace/name"
-- KEYS[10] this write's record, named by its write id (unique to the write, the same when the same
--          command is sent again): the resourceVersion the write produced
-- KEYS[11] the replication id of the primary that made the last write (the failover epoch)
-- KEYS[12] the sorted set of resourceVersions skipped at failovers (member: the last one the new
--          primary had; score: the first one it issued)
-- KEYS[13] the view stream of the view's event (Strategy.view; any key when ARGV[20] is '')
-- KEYS[14] that view stream's compacted-resourceVersion marker
-- KEYS[15] the view stream of a second view event (a view moving between shards, Strategy.viewShard:
--          it leaves one and enters the other; any key when ARGV[23] is '')
-- KEYS[16] that view stream's compacted-resourceVersion marker
-- KEYS[17 .. 17+ARGV[11]-1]           dependents sets to add this object to
-- KEYS[17+ARGV[11] .. +ARGV[12]-1]    dependents sets to remove this object from
--
-- ARGV[1]  op: create | update | delete
-- ARGV[2]  object name (field of the objects hash)
-- ARGV[3]  expected current resourceVersion for update/delete ('' = any)
-- ARGV[4]  the stored value up to its resourceVersion: object JSON, or for an encrypted kind
--          `k8s:enc:<provider>:v1:<key>:<ciphertext>:` (shared/store/encryption.ts)
-- ARGV[5]  the stored value after its resourceVersion ('' for an encrypted value)
-- ARGV[6]  watch event type: ADDED | MODIFIED | DELETED
-- ARGV[7]  how many events the stream keeps (approximately) before compacting
-- ARGV[8]  object uid
-- ARGV[9]  uid index value: "resource|namespace|name"
-- ARGV[10] namespace
-- ARGV[11] number of dependents sets to add to
-- ARGV[12] number of dependents sets to remove from
-- ARGV[13] node usage op: '' | charge | force-charge | release | allocatable
-- ARGV[14] pod uid (charge/release)
-- ARGV[15] cpu millicores (charge, allocatable)
-- ARGV[16] memory bytes (charge, allocatable)
-- ARGV[17] pods (allocatable)
-- ARGV[18] number of claims this write takes
-- ARGV[19] number of claims this write gives up
-- ARGV[20] the view's event type: ADDED | MODIFIED | DELETED, or '' when the write leaves the view
--          as it was (no entry on the view stream)
-- ARGV[21] the view's stored value up to its resourceVersion (as ARGV[4])
-- ARGV[22] the view's stored value after its resourceVersion (as ARGV[5])
-- ARGV[23], ARGV[24], ARGV[25] the second view event's type ('' for none) and stored value
-- ARGV[26] how many events a view stream keeps (approximately) before compacting
-- ARGV[27 ..] the claims taken, then the claims given up
--
-- Returns the new resourceVersion (for a write id seen before: the one its first run produced,
-- without writing anything), or an error reply:
--   WHARF_NOT_FOUND, WHARF_EXISTS, WHARF_CONFLICT <current rv>, WHARF_INSUFFICIENT <resource> <detail>,
--   WHARF_CLAIMED <claim> (another object holds that unique value)

-- ioredis re-sends as soon as it has reconnected, so a few minutes covers any outage a client
-- waits through; a write re-sent after a longer one may again meet its own first run.
local WRITE_RECORD_TTL_SECONDS = 300

local done = redis.call('GET', KEYS[10])
if done then return tonumber(done) end

local op = ARGV[1]
local name = ARGV[2]
local current = redis.call('HGET', KEYS[2], name)

if op == 'create' then
  if current then return redis.error_reply('WHARF_EXISTS') end
else
  if not current then return redis.error_reply('WHARF_NOT_FOUND') end
  if ARGV[3] ~= '' then
    local currentRv
    if string.sub(current, 1, 8) == 'k8s:enc:' then
      -- An encrypted value carries its resourceVersion in clear, after the last ':'.
      currentRv = string.match(current, ':(%d+)$')
    else
      currentRv = cjson.decode(current)['metadata']['resourceVersion']
    end
    if currentRv ~= ARGV[3] then return redis.error_reply('WHARF_CONFLICT ' .. tostring(currentRv)) end
  end
end

-- Unique values are checked before anything is written, so a refused write changes nothing.
local takes = tonumber(ARGV[18])
local gives = tonumber(ARGV[19])
for i = 1, takes do
  local owner = redis.call('HGET', KEYS[8], ARGV[26 + i])
  if owner and owner ~= ARGV[8] then return redis.error_reply('WHARF_CLAIMED ' .. ARGV[26 + i]) end
end

-- Node accounting is checked before anything is written, so a refused bind changes nothing.
local usageOp = ARGV[13]
local usage = KEYS[7]
if usageOp == 'charge' or usageOp == 'force-charge' then
  local podField = 'pod:' .. ARGV[14]
  if redis.call('HEXISTS', usage, podField) == 0 then
    local cpu = tonumber(ARGV[15])
    local mem = tonumber(ARGV[16])
    if usageOp == 'charge' then
      local v = redis.call('HMGET', usage, 'alloc.cpu', 'alloc.memory', 'alloc.pods', 'used.cpu', 'used.memory', 'used.pods')
      if not v[1] then return redis.error_reply('WHARF_INSUFFICIENT node not registered') end
      local usedCpu, usedMem, usedPods = tonumber(v[4] or 0), tonumber(v[5] or 0), tonumber(v[6] or 0)
      if usedPods + 1 > tonumber(v[3]) then return redis.error_reply('WHARF_INSUFFICIENT pods') end
      if usedCpu + cpu > tonumber(v[1]) then return redis.error_reply('WHARF_INSUFFICIENT cpu') end
      if usedMem + mem > tonumber(v[2]) then return redis.error_reply('WHARF_INSUFFICIENT memory') end
    end
    redis.call('HINCRBY', usage, 'used.cpu', cpu)
    redis.call('HINCRBY', usage, 'used.memory', mem)
    redis.call('HINCRBY', usage, 'used.pods', 1)
    redis.call('HSET', usage, podField, cpu .. ' ' .. mem)
  end
elseif usageOp == 'release' then
  local podField = 'pod:' .. ARGV[14]
  local charged = redis.call('HGET', usage, podField)
  if charged then
    local cpu, mem = string.match(charged, '^(%d+) (%d+)$')
    -- 0 - x rather than -x: Lua's -0 reaches Redis as "-0", which is not an integer to HINCRBY.
    redis.call('HINCRBY', usage, 'used.cpu', 0 - tonumber(cpu))
    redis.call('HINCRBY', usage, 'used.memory', 0 - tonumber(mem))
    redis.call('HINCRBY', usage, 'used.pods', -1)
    redis.call('HDEL', usage, podField)
  end
elseif usageOp == 'allocatable' then
  redis.call('HSET', usage, 'alloc.cpu', ARGV[15], 'alloc.memory', ARGV[16], 'alloc.pods', ARGV[17])
end

-- A replica promoted by a failover has the counter only as far as it was replicated: the old
-- primary may have issued (and watchers seen) resourceVersions past it, in writes now lost. The
-- first write of a new primary (its replication id is new) skips FAILOVER_SKIP versions, so no
-- version is issued twice for different writes, and records the skipped range, so a watch whose
-- position falls inside it relists instead of resuming. FAILOVER_SKIP bounds how many writes a
-- failover may lose; Lua prints numbers with 14 digits, so 10^8 failovers fit.
local FAILOVER_SKIP = 1000000
local replid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)')
local epoch = redis.call('GET', KEYS[11])
if replid and epoch ~= replid then
  -- No epoch yet: the first write with this script (a new cluster, or one made before it).
  if epoch then
    local last = tonumber(redis.call('GET', KEYS[1]) or '0')
    redis.call('INCRBY', KEYS[1], FAILOVER_SKIP)
    redis.call('ZADD', KEYS[12], last + FAILOVER_SKIP + 1, last)
  end
  redis.call('SET', KEYS[11], replid)
end

local rv = redis.call('INCR', KEYS[1])
local json = ARGV[4] .. rv .. ARGV[5]

if op == 'delete' then
  redis.call('HDEL', KEYS[2], name)
  if redis.call('HLEN', KEYS[2]) == 0 then redis.call('SREM', KEYS[3], ARGV[10]) end
  redis.call('HDEL', KEYS[6], ARGV[8])
  redis.call('ZREM', KEYS[9], ARGV[10] .. '/' .. name)
else
  redis.call('HSET', KEYS[2], name, json)
  redis.call('SADD', KEYS[3], ARGV[10])
  redis.call('HSET', KEYS[6], ARGV[8], ARGV[9])
  -- Only a new key joins the index; objects older than the index were added by index-objects.lua.
  if op == 'create' then redis.call('ZADD', KEYS[9], 0, ARGV[10] .. '/' .. name) end
end

for i = 1, takes do redis.call('HSET', KEYS[8], ARGV[26 + i], ARGV[8]) end
for i = 1, gives do
  local claim = ARGV[26 + takes + i]
  if redis.call('HGET', KEYS[8], claim) == ARGV[8] then redis.call('HDEL', KEYS[8], claim) end
end

local adds = tonumber(ARGV[11])
local removes = tonumber(ARGV[12])
for i = 1, adds do redis.call('SADD', KEYS[16 + i], ARGV[9]) end
for i = 1, removes do redis.call('SREM', KEYS[16 + adds + i], ARGV[9]) end

-- Appends an event to a change stream, trimming it and recording where its history now starts.
-- k: where the object lives, which an encrypted value is authenticated with.
local function append(stream, compacted, eventType, value, keep)
  redis.call('XADD', stream, rv .. '-0', 't', eventType, 'o', value, 'k', ARGV[9])
  -- Approximate trimming removes whole stream nodes, so it costs nothing on most writes.
  if redis.call('XTRIM', stream, 'MAXLEN', '~', keep) > 0 then
    local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
    local firstRv = tonumber(string.match(first[1], '^(%d+)-'))
    redis.call('SET', compacted, firstRv - 1)
  end
end

append(KEYS[4], KEYS[5], ARGV[6], json, tonumber(ARGV[7]))
-- The view's event carries the same resourceVersion: a follower of the view can list the objects
-- and resume on the view stream from the list's resourceVersion.
if ARGV[20] ~= '' then append(KEYS[13], KEYS[14], ARGV[20], ARGV[21] .. rv .. ARGV[22], tonumber(ARGV[26])) end
if ARGV[23] ~= '' then append(KEYS[15], KEYS[16], ARGV[23], ARGV[24] .. rv .. ARGV[25], tonumber(ARGV[26])) end

redis.call('SET', KEYS[10], rv, 'EX', WRITE_RECORD_TTL_SECONDS)
return rv
