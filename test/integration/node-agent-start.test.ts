// A node agent that cannot serve its endpoint (the log and exec port the API server proxies to)
// exits at once and says which address it could not bind, instead of dying of an unhandled
// 'error' event that names nothing.
import test from 'ava';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { Store } from '../../shared/store/store.ts';
import { eventually, startRedis, startService } from '../helpers/cluster.ts';

test('an agent whose endpoint port is taken exits with an error naming the address', async (t) => {
  const redis = await startRedis();
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  const agent = startService('node-agent', { REDIS_URL: redis.url, WHARF_RUNTIME: 'simulated', WHARF_NODE_NAME: 'port-taken', WHARF_AGENT_PORT: String(port) });
  t.teardown(async () => {
    await agent.kill();
    taken.close();
    await redis.stop();
  });
  const ended = await eventually(() => agent.ended(), { timeoutMs: 30_000, message: 'the agent to exit', detail: () => agent.logs() });
  t.is(ended, 'exit code 1');
  // The endpoint listens on the advertised host's address (127.0.0.1 by default), not on every address.
  t.regex(agent.logs(), new RegExp(`node agent endpoint 127\\.0\\.0\\.1:${port}: listen EADDRINUSE`));
});

test('an agent that registers before the API server made kube-node-lease keeps running and makes its Lease once the namespace is there', async (t) => {
  const redis = await startRedis();
  const connection = new Redis(redis.url);
  // No API server: nothing has made the system namespaces yet.
  const agent = startService('node-agent', { REDIS_URL: redis.url, WHARF_RUNTIME: 'simulated', WHARF_NODE_NAME: 'early', WHARF_AGENT_PORT: '0', WHARF_HEARTBEAT: '500ms' });
  t.teardown(async () => {
    await agent.kill();
    connection.disconnect();
    await redis.stop();
  });
  const store = new Store(connection, new Keys('wharf'));
  await eventually(async () => (await store.get('nodes', undefined, 'early')) ?? undefined, { timeoutMs: 30_000, message: 'the Node registered', detail: () => agent.logs() });
  await eventually(() => /namespace kube-node-lease does not exist yet/.test(agent.logs()), { timeoutMs: 10_000, message: 'the agent tried its Lease', detail: () => agent.logs() });
  t.is(agent.ended(), undefined, 'the agent is still running');
  await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-node-lease' } });
  const lease = await eventually(async () => (await store.get('leases', 'kube-node-lease', 'early')) ?? undefined, { timeoutMs: 10_000, message: 'the Lease made at a heartbeat', detail: () => agent.logs() });
  t.is((lease as any).spec.holderIdentity, 'early');
});
