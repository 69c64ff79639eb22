-- Stores a credential pair once for the whole cluster: its public half in the public credentials
-- hash, its private half in the private one (the cluster CA's certificate and key; a signing
-- key's public and private halves). API servers racing at the first start each offer a pair they
-- made; the first one stored wins, and every caller gets that one back.
--
-- KEYS[1]  the public credentials hash (Keys.clusterPublicCredentials)
-- KEYS[2]  the private credentials hash (Keys.clusterPrivateCredentials)
-- ARGV[1]  the public half's field ("ca.crt")
-- ARGV[2]  the public half offered
-- ARGV[3]  the private half's field ("ca.key")
-- ARGV[4]  the private half offered
--
-- Returns {public, private, created}: the pair the cluster holds, and 1 if it is the one offered.
local private = redis.call('HGET', KEYS[2], ARGV[3])
if private then
  local public = redis.call('HGET', KEYS[1], ARGV[1])
  if public then
    return {public, private, 0}
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
return {ARGV[2], ARGV[4], 1}
