-- Gives back the pod network blocks a node holds (its Node was deleted), and only that node's.
--
-- KEYS[1]  the hash of allocated blocks: field = block index, value = node name
-- ARGV[1]  the node's name
--
-- Returns how many blocks were released.
local all = redis.call('HGETALL', KEYS[1])
local released = 0
for i = 1, #all, 2 do
  if all[i + 1] == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    released = released + 1
  end
end
return released
