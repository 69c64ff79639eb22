-- Releases a work-queue key lock only if this worker still holds it, so a worker whose lock
-- expired cannot release the lock another worker has since taken.
--
-- KEYS[1]  the lock key
-- ARGV[1]  the token the worker set when it took the lock
--
-- Returns 1 when released, 0 when the lock was not ours.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
