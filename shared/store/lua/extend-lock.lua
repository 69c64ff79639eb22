-- Extends a work-queue key lock only if this worker still holds it.
--
-- KEYS[1]  the lock key
-- ARGV[1]  the token the worker set when it took the lock
-- ARGV[2]  the new time to live in milliseconds
--
-- Returns 1 when extended, 0 when the lock was not ours.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
