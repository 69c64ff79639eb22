-- Reads one page of a resource's objects in key order ("namespace/name"), for list requests with a
-- limit: only the names are read and sorted, and only the page's objects are fetched, so paging
-- through N objects costs N names per page instead of N objects.
--
-- KEYS[1]  the resourceVersion counter
-- KEYS[2]  the set of namespaces holding objects of this resource
-- ARGV[1]  the objects-hash key prefix for this resource (the namespace is appended)
-- ARGV[2]  a namespace, or '' for every namespace (and for cluster-scoped kinds)
-- ARGV[3]  '1' when the resource is namespaced
-- ARGV[4]  the key the page starts after ('' for the first page)
-- ARGV[5]  the page size
--
-- Returns { resourceVersion, remaining, lastKey, json1, json2, ... }

local namespaces
if ARGV[3] == '1' and ARGV[2] == '' then
  namespaces = redis.call('SMEMBERS', KEYS[2])
else
  namespaces = { ARGV[2] }
end
local after = ARGV[4]
local limit = tonumber(ARGV[5])
local keys = {}
for _, ns in ipairs(namespaces) do
  local names = redis.call('HKEYS', ARGV[1] .. ns)
  for i = 1, #names do
    local key = ns .. '/' .. names[i]
    if key > after then keys[#keys + 1] = key end
  end
end
table.sort(keys)
local out = { redis.call('GET', KEYS[1]) or '0', math.max(0, #keys - limit), '' }
for i = 1, math.min(limit, #keys) do
  local key = keys[i]
  local slash = string.find(key, '/', 1, true)
  local json = redis.call('HGET', ARGV[1] .. string.sub(key, 1, slash - 1), string.sub(key, slash + 1))
  if json then out[#out + 1] = json end
  out[3] = key
end
return out
