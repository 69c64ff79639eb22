-- Moves a consumer group forward to an id of its stream, after its owner relisted what the group
-- had fallen behind on (read-group.lua's GAP). Never backwards: another consumer of the group may
-- have relisted later and moved it further already.
--
-- KEYS[1]  the change stream
-- ARGV[1]  group
-- ARGV[2]  the id to move to ("<ms>-<seq>")
--
-- Returns 1 if the group moved, 0 if it was there or beyond already (or is gone).

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for _, info in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
  if fields['name'] == ARGV[1] then
    local ms, seq = parse(fields['last-delivered-id'])
    local toMs, toSeq = parse(ARGV[2])
    if ms > toMs or (ms == toMs and seq >= toSeq) then return 0 end
    redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], ARGV[2])
    return 1
  end
end
return 0
