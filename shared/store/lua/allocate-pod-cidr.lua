-- Gives a node one block of the cluster's pod network (node IPAM), atomically, so that controller
-- managers running side by side never hand the same block to two nodes. A node that holds a block
-- already gets that one again (the call is idempotent).
--
-- KEYS[1]  the hash of allocated blocks: field = block index, value = node name
-- ARGV[1]  the node's name
-- ARGV[2]  how many blocks the cluster network has
-- ARGV[3]  the block the node's spec already names (its index), or -1: taken if free
--
-- Returns the node's block index, or -1 when every block is taken, or -2 when the block ARGV[3]
-- names belongs to another node.
local all = redis.call('HGETALL', KEYS[1])
local taken = {}
for i = 1, #all, 2 do
  if all[i + 1] == ARGV[1] then return tonumber(all[i]) end
  taken[all[i]] = true
end
local wanted = tonumber(ARGV[3])
if wanted >= 0 then
  if taken[tostring(wanted)] then return -2 end
  redis.call('HSET', KEYS[1], tostring(wanted), ARGV[1])
  return wanted
end
for i = 0, tonumber(ARGV[2]) - 1 do
  if not taken[tostring(i)] then
    redis.call('HSET', KEYS[1], tostring(i), ARGV[1])
    return i
  end
end
return -1
