-- Reads one page of a resource's objects in key order ("namespace/name"), for list requests with a
-- limit. The resource's object index keeps the keys sorted, so a page costs one range read of the
-- page's keys and a count, not a sort of every key of the resource; only the page's objects are
-- fetched.
--
-- KEYS[1]  the resourceVersion counter
-- KEYS[2]  the set of namespaces holding objects of this resource
-- KEYS[3]  the resource's object index: sorted set of "namespace/name", all scores 0
-- KEYS[4]  the marker set once that index also holds the objects written before it existed
-- ARGV[1]  the objects-hash key prefix for this resource (the namespace is appended)
-- ARGV[2]  a namespace, or '' for every namespace (and for cluster-scoped kinds)
-- ARGV[3]  '1' when the resource is namespaced
-- ARGV[4]  the key the page starts after ('' for the first page)
-- ARGV[5]  the page size
-- ARGV[6]  ZRANGEBYLEX min of the page: after ARGV[4], inside ARGV[2]
-- ARGV[7]  ZRANGEBYLEX max: the end of ARGV[2]'s keys, or '+'
--
-- Returns { resourceVersion, remaining, lastKey, key1, value1, key2, value2, ... }: each stored
-- value after its "namespace/name", which an encrypted value is authenticated with.

local after = ARGV[4]
local limit = tonumber(ARGV[5])
local out = { redis.call('GET', KEYS[1]) or '0', 0, '' }

local function fetch(key)
  local slash = string.find(key, '/', 1, true)
  local json = redis.call('HGET', ARGV[1] .. string.sub(key, 1, slash - 1), string.sub(key, slash + 1))
  if json then
    out[#out + 1] = key
    out[#out + 1] = json
  end
  out[3] = key
end

if redis.call('EXISTS', KEYS[4]) == 1 then
  local keys = redis.call('ZRANGEBYLEX', KEYS[3], ARGV[6], ARGV[7], 'LIMIT', 0, limit)
  if #keys == limit and limit > 0 then
    out[2] = redis.call('ZLEXCOUNT', KEYS[3], '(' .. keys[#keys], ARGV[7])
  end
  for i = 1, #keys do fetch(keys[i]) end
  return out
end

-- Until the index is complete: read and sort every key of the resource.
local namespaces
if ARGV[3] == '1' and ARGV[2] == '' then
  namespaces = redis.call('SMEMBERS', KEYS[2])
else
  namespaces = { ARGV[2] }
end
local keys = {}
for _, ns in ipairs(namespaces) do
  local names = redis.call('HKEYS', ARGV[1] .. ns)
  for i = 1, #names do
    local key = ns .. '/' .. names[i]
    if key > after then keys[#keys + 1] = key end
  end
end
table.sort(keys)
out[2] = math.max(0, #keys - limit)
for i = 1, math.min(limit, #keys) do fetch(keys[i]) end
return out
