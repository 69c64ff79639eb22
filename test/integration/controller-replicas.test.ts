// Controller managers as replicas: the periodic full resync, which lists every object the
// controllers follow, is run by one replica a period (the first to take the period's turn in
// Redis), not by each of them: N replicas must not read everything N times.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { startRedis, startService, eventually, type RedisHandle, type ServiceHandle } from '../helpers/cluster.ts';

let redis: RedisHandle;
const managers: ServiceHandle[] = [];

test.before(async () => {
  redis = await startRedis();
});

test.after.always(async () => {
  await Promise.all(managers.map((m) => m.kill('SIGKILL')));
  await redis?.stop();
});

/** The resync passes a manager's debug log shows so far, and how many of them were its turn. */
function turns(manager: ServiceHandle): { passes: number; mine: number } {
  const lines = manager.logs().split('\n').filter((l) => l.includes('"msg":"resync turn"'));
  return { passes: lines.length, mine: lines.filter((l) => l.includes('"mine":true')).length };
}

test('two controller managers resync once a period between them, not once each', async (t) => {
  const env = { REDIS_URL: redis.url, WHARF_KEY_PREFIX: `cr${randomBytes(3).toString('hex')}`, WHARF_LOG_LEVEL: 'debug', WHARF_CONTROLLER_RESYNC: '1s' };
  for (let i = 0; i < 2; i++) managers.push(startService('controller-manager', env, `replica-${i}`));
  await eventually(() => managers.every((m) => m.logs().includes('controller manager started')), { timeoutMs: 60_000, message: 'both managers started' });
  const start = managers.map(turns);
  // Six periods' worth of passes in each replica (12 in all), however loaded the machine.
  await eventually(() => managers.every((m, i) => turns(m).passes - start[i].passes >= 6), { timeoutMs: 60_000, intervalMs: 200, message: 'six passes in each replica' });
  const passes = managers.map((m, i) => turns(m).passes - start[i].passes);
  const resyncs = managers.map((m, i) => turns(m).mine - start[i].mine);
  const total = resyncs.reduce((a, b) => a + b, 0);
  t.log(`passes ${passes.join(' + ')}, resyncs run ${resyncs.join(' + ')}`);
  // Each period's turn goes to one replica: about half the passes resync, never all of them.
  t.true(total >= 4, `${total} resyncs in ${passes.join(' + ')} passes`);
  t.true(total <= Math.ceil((passes[0] + passes[1]) * 0.7), `${total} resyncs in ${passes.join(' + ')} passes`);
});
