-- Removes a consumer from a change stream's consumer group, if it has been idle at least a bound
-- and has nothing pending: what a process that died leaves behind (every restart is a new
-- consumer name). Any live member of the group may call it for any other. The check and the
-- removal are one step, because XGROUP DELCONSUMER drops the consumer's pending entries: checked
-- apart, a consumer that read entries in between would lose them unhandled. A live consumer
-- removed anyway (it was idle that long with nothing pending) is created again by its next read.
--
-- KEYS[1]  the change stream
-- ARGV[1]  group
-- ARGV[2]  consumer
-- ARGV[3]  the least idle time, in milliseconds, for the consumer to be removed
--
-- Returns 1 if the consumer was removed, 0 if it is busy, recently seen, or gone already.

if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local fields = {}
  for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
  if fields['name'] == ARGV[2] then
    if fields['pending'] ~= 0 or fields['idle'] < tonumber(ARGV[3]) then return 0 end
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
    return 1
  end
end
return 0
