-- Reads every object of one resource, in one namespace or across all of them, together with the
-- resourceVersion they were read at, so a watch started from that resourceVersion misses nothing.
--
-- KEYS[1]  the resourceVersion counter
-- KEYS[2]  the set of namespaces holding objects of this resource
-- ARGV[1]  the objects-hash key prefix for this resource (the namespace is appended)
-- ARGV[2]  a namespace, or '' for every namespace (and for cluster-scoped kinds, whose namespace is '')
-- ARGV[3]  '1' when the resource is namespaced
--
-- Returns { resourceVersion, namespace1, name1, value1, namespace2, name2, value2, ... }: each
-- stored value with where it was stored, which an encrypted value is authenticated with.

local out = { redis.call('GET', KEYS[1]) or '0' }
local namespaces
if ARGV[3] == '1' and ARGV[2] == '' then
  namespaces = redis.call('SMEMBERS', KEYS[2])
else
  namespaces = { ARGV[2] }
end
for _, ns in ipairs(namespaces) do
  local fields = redis.call('HGETALL', ARGV[1] .. ns)
  for i = 1, #fields, 2 do
    out[#out + 1] = ns
    out[#out + 1] = fields[i]
    out[#out + 1] = fields[i + 1]
  end
end
return out
