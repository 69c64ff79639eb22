-- Adds one chunk of an objects hash to the resource's object index, for objects written before the
-- index existed. Reading the chunk and indexing it in one step is what keeps a concurrent delete
-- from leaving a key behind: the delete's ZREM comes either after this ZADD, or before the HSCAN,
-- which then no longer sees the object.
--
-- KEYS[1]  the objects hash of (resource, namespace)
-- KEYS[2]  the resource's object index: sorted set of "namespace/name"
-- ARGV[1]  the HSCAN cursor ('0' for the first chunk)
-- ARGV[2]  the namespace ('' for cluster-scoped kinds)
-- ARGV[3]  about how many objects a chunk holds
--
-- Returns the next cursor: '0' once the whole hash has been indexed.

local reply = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', tonumber(ARGV[3]))
local fields = reply[2]
local members = {}
-- ZADD in bounded batches: a small hash is returned whole whatever COUNT says, and unpack has a limit.
for i = 1, #fields, 2 do
  members[#members + 1] = 0
  members[#members + 1] = ARGV[2] .. '/' .. fields[i]
  if #members >= 1000 then
    redis.call('ZADD', KEYS[2], unpack(members))
    members = {}
  end
end
if #members > 0 then redis.call('ZADD', KEYS[2], unpack(members)) end
return reply[1]
