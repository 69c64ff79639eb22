-- Reads the next entries of every change stream a consumer group follows, in one call, each in the
-- same step as the check that the group has not fallen behind that stream's compaction.
-- XREADGROUP alone would skip trimmed entries silently (the group's position just moves past
-- them), so a consumer that lagged by more than the retained history would lose events without
-- knowing.
--
-- KEYS[2i-1]  the i-th resource's change stream
-- KEYS[2i]    the i-th resource's compacted-resourceVersion marker
-- ARGV[1]     group
-- ARGV[2]     consumer
-- ARGV[3]     most entries to read from each stream
--
-- Returns one result per stream, in KEYS order:
--   { 'GAP', <last id> }            the group fell behind this stream's compaction: the owner must
--                                   relist, then move the group to <last id> (advance-group.lua).
--                                   The group stays where it is until then, so an owner killed
--                                   mid-relist leaves the gap for the next reader to find;
--   { 'OK', <position>, <entries> } the entries as XREADGROUP gives them (possibly none), and the
--                                   group's last delivered id after this read (where a wait for
--                                   the next entry starts).
-- Fails with NOGROUP if a stream or the group on it is gone (Redis lost its data).

if #KEYS % 2 ~= 0 then return redis.error_reply('ERR read-group.lua takes a stream and its compaction marker per resource') end
local group, consumer, count = ARGV[1], ARGV[2], tonumber(ARGV[3])

local function delivered(stream)
  if redis.call('EXISTS', stream) == 0 then return nil end
  for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local fields = {}
    for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
    if fields['name'] == group then return fields['last-delivered-id'] end
  end
  return nil
end

-- Every group is found before anything is read: a failure must not leave entries delivered to a
-- consumer that never receives the reply.
local positions = {}
for k = 1, #KEYS, 2 do
  positions[k] = delivered(KEYS[k])
  if not positions[k] then return redis.error_reply('NOGROUP no group ' .. group .. ' on ' .. KEYS[k]) end
end

local results = {}
for k = 1, #KEYS, 2 do
  local stream, position = KEYS[k], positions[k]
  local compacted = tonumber(redis.call('GET', KEYS[k + 1]) or '0')
  if tonumber(string.match(position, '^(%d+)-')) < compacted then
    local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
    results[#results + 1] = { 'GAP', newest and newest[1] or (compacted .. '-0') }
  else
    local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')
    local entries = {}
    if reply then entries = reply[1][2] end
    if #entries > 0 then position = entries[#entries][1] end
    results[#results + 1] = { 'OK', position, entries }
  end
end
return results
