-- Reads the next entries of a change stream for one consumer of a group, in the same step as the
-- check that the group has not fallen behind the stream's compaction. XREADGROUP alone would skip
-- trimmed entries silently (the group's position just moves past them), so a consumer that lagged
-- by more than the retained history would lose events without knowing.
--
-- KEYS[1]  the resource's change stream
-- KEYS[2]  the resource's compacted-resourceVersion marker
-- ARGV[1]  group
-- ARGV[2]  consumer
-- ARGV[3]  most entries to read
--
-- Returns { 'GAP' } after moving the group to the end of the stream (the owner must relist), or
-- { 'OK', <the group's last delivered id before this read>, <entries as XREADGROUP gives them> }.

if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOGROUP the stream is gone') end
local delivered
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  if fields['name'] == ARGV[1] then delivered = fields['last-delivered-id'] end
end
if not delivered then return redis.error_reply('NOGROUP no such group') end

local compacted = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(string.match(delivered, '^(%d+)-')) < compacted then
  redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], '$')
  return { 'GAP' }
end

local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[3]), 'STREAMS', KEYS[1], '>')
local entries = {}
if reply then entries = reply[1][2] end
return { 'OK', delivered, entries }
