// Wharf on Redis Sentinel: 1 primary + 2 replicas + 3 sentinels (real redis-server processes on
// 127.0.0.1), and an API server, controller manager, scheduler and a simulated node agent that
// know only the sentinels. Every object write waits for 1 replica (WAIT) before it is
// acknowledged. While a client writes continuously, the primary is killed (SIGKILL); no Wharf
// process is restarted, and:
//  - every write acknowledged before (and after) the kill is in the store afterwards;
//  - writes resume within a bound (the figure is logged: kill to first acknowledged write);
//  - kubectl works, a Deployment scaled after the failover gets its pods scheduled and running;
//  - a watch opened before the failover delivers an object created after it (or ends with 410
//    Expired, Kubernetes' signal to relist, if its position was lost with the primary).
// Then, with the remaining replica hung (SIGSTOP), a write gets a 504 Status within the WAIT
// timeout instead of a false success, and succeeds again once the replica resumes.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Keys } from '../../shared/keys.ts';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { startSentinelGroup, type SentinelGroup } from '../helpers/redis-sentinel.ts';
import { kubectlRunner, kubectlAssertions } from '../helpers/kubectl.ts';

/** WHARF_REDIS_WAIT_TIMEOUT: how long a write waits for its replica. */
const WAIT_TIMEOUT_MS = 1_000;
/** Sentinel's down-after-milliseconds: the failover starts this long after the primary stops answering. */
const DOWN_AFTER_MS = 2_000;
/**
 * The bound on kill -> first acknowledged write: the sentinels' own failover (about 3 s here, see
 * MULTIHOST-NOTES.md) plus the clients' reconnect pace (500 ms) and a loaded 2-core machine's room.
 */
const FAILOVER_BOUND_MS = 15_000;

let group: SentinelGroup;
let cluster: Cluster;
const work = mkdtempSync(join(tmpdir(), 'wharf-sentinel-test-'));
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig, timeout: 30_000 }));
const k = kubectlAssertions(kubectl);
const node = `sentinel-${randomBytes(3).toString('hex')}`;

test.before(async () => {
  cluster = await startCluster({
    redis: async (prefix) => {
      group = await startSentinelGroup({ prefix, replicas: 2, sentinels: 3, downAfterMs: DOWN_AFTER_MS });
      return group.handle;
    },
    env: {
      WHARF_REDIS_WAIT_REPLICAS: '1',
      WHARF_REDIS_WAIT_TIMEOUT: `${WAIT_TIMEOUT_MS}ms`,
      WHARF_API_REDIS_TIMEOUT: '3s',
    },
    agents: [{ WHARF_NODE_NAME: node, WHARF_RUNTIME: 'simulated' }],
  });
});

test.after.always(async (t) => {
  if (process.env.WHARF_TEST_DEBUG) t.log(cluster?.dumpLogs());
  await cluster?.stop();
  // A cluster that failed to start leaves its Redis to us.
  await group?.stop();
  rmSync(work, { recursive: true, force: true });
});

const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

async function post(path: string, body: unknown): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  try {
    const res = await cluster.fetch(`${cluster.apiUrls[0]}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, ms: Date.now() - started };
  } catch (err) {
    return { status: 0, body: (err as Error).message, ms: Date.now() - started };
  }
}

const pods = async (app: string) => (await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items ?? [];

test.serial('the primary is killed under a writing client: nothing acknowledged is lost, and the cluster goes on without restarting a process', async (t) => {
  // A Deployment running before the failover, scaled after it.
  await k.ok(t, 'create', 'deployment', 'web', '--image=busybox:latest', '--replicas=2');
  await eventually(async () => {
    const items = await pods('web');
    return items.length === 2 && items.every((p: any) => p.spec.nodeName === node && p.status?.phase === 'Running');
  }, { timeoutMs: 60_000, message: '2 pods of web running' });

  // A watch opened before the failover, from the current resourceVersion.
  const rv = (await cluster.api.get(CONFIGMAPS)).body.metadata.resourceVersion;
  const watching = cluster.api.watch(
    `${CONFIGMAPS}?watch=1&resourceVersion=${rv}&allowWatchBookmarks=false`,
    (events) => events.some((e) => e.type === 'ERROR' || e.object?.metadata?.name === 'after-failover'),
    90_000,
  );

  // The writing client: unique ConfigMaps one after another, a log of every acknowledged one.
  // started: when the request was sent; at: when its 201 came.
  const acknowledged: { name: string; started: number; at: number }[] = [];
  const failures = new Map<number, number>();
  let stop = false;
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      const name = `w-${i}`;
      const started = Date.now();
      const r = await post(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { i: String(i) } });
      if (r.status === 201) acknowledged.push({ name, started, at: Date.now() });
      else {
        failures.set(r.status, (failures.get(r.status) ?? 0) + 1);
        // A 5xx is not an acknowledgement: the write may or may not have been applied, and a
        // client tries again later (this one moves on to a new name, keeping every name unique).
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  })();

  await eventually(() => acknowledged.length >= 30, { timeoutMs: 60_000, message: '30 writes before the kill' });
  const oldPrimary = await group.primaryPort();
  const victim = group.nodes.find((n) => n.port === oldPrimary)!;
  const killedAt = Date.now();
  await victim.signal('SIGKILL');
  const beforeKill = acknowledged.filter((a) => a.at <= killedAt).length;

  // The first write sent after the kill that was acknowledged (one in flight at the kill may be
  // answered just after it, from the old primary).
  const firstAfter = await eventually(() => acknowledged.find((a) => a.started > killedAt), { timeoutMs: FAILOVER_BOUND_MS + 5_000, intervalMs: 20, message: 'a write acknowledged after the kill' });
  const failoverMs = firstAfter.at - killedAt;
  const newPrimary = await group.settled(1);
  t.log(`kill -9 of the primary (port ${oldPrimary}) to the first acknowledged write: ${failoverMs} ms; new primary: port ${newPrimary}; writes acknowledged before the kill: ${beforeKill}; failed attempts meanwhile by status: ${JSON.stringify(Object.fromEntries(failures))}`);
  t.not(newPrimary, oldPrimary, 'the sentinels promoted a replica');
  t.true(failoverMs < FAILOVER_BOUND_MS, `writes resumed ${failoverMs} ms after the kill`);

  await eventually(() => acknowledged.length >= beforeKill + 20, { timeoutMs: 30_000, message: '20 more writes after the failover' });
  stop = true;
  await writer;
  t.true([...failures.keys()].every((s) => s === 503 || s === 504 || s === 0), `only 503/504 (or a dropped connection) while failing over: ${JSON.stringify(Object.fromEntries(failures))}`);

  // Every acknowledged write is there, read through Wharf and straight from the new primary.
  const listed = new Set(((await cluster.api.get(CONFIGMAPS)).body.items as any[]).map((c) => c.metadata.name));
  const missing = acknowledged.filter((a) => !listed.has(a.name)).map((a) => a.name);
  t.deepEqual(missing, [], `acknowledged writes missing after the failover (of ${acknowledged.length})`);
  const direct = group.admin(newPrimary);
  try {
    const stored = new Set(await direct.hkeys(new Keys(cluster.prefix).objects('configmaps', 'default')));
    t.deepEqual(acknowledged.filter((a) => !stored.has(a.name)).map((a) => a.name), [], 'acknowledged writes missing from the new primary');
  } finally {
    direct.disconnect();
  }

  // kubectl keeps working, and the controllers and scheduler followed the failover by themselves.
  await eventually(async () => (await kubectl(['create', 'configmap', 'after-failover', '--from-literal=k=v'])).code === 0, { timeoutMs: 30_000, message: 'kubectl create after the failover' });
  t.regex(await k.ok(t, 'get', 'configmap', 'after-failover', '-o', 'name'), /configmap\/after-failover/);
  await k.ok(t, 'scale', 'deployment', 'web', '--replicas=4');
  await eventually(async () => {
    const items = await pods('web');
    return items.length === 4 && items.every((p: any) => p.spec.nodeName === node && p.status?.phase === 'Running');
  }, { timeoutMs: 60_000, message: '4 pods of web running after the failover' });

  // The watch opened before the failover: it delivered the object created after it, or told its
  // client to relist (410) because its position was lost with the old primary.
  const watched = await watching;
  const error = watched.events.find((e) => e.type === 'ERROR');
  if (error) t.is(error.object.code, 410, JSON.stringify(error.object));
  else t.true(watched.events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'after-failover'), 'the watch delivered an object created after the failover');
  t.log(error ? 'the watch ended with 410 Expired (its position was lost with the primary)' : `the watch kept delivering across the failover (${watched.events.length} events)`);

  // resourceVersions went on rising: the object written after the failover is newer than every one before.
  const maxBefore = Math.max(...((await cluster.api.get(CONFIGMAPS)).body.items as any[]).filter((c) => c.metadata.name !== 'after-failover').map((c) => Number(c.metadata.resourceVersion)));
  const after = Number((await cluster.api.get(`${CONFIGMAPS}/after-failover`)).body.metadata.resourceVersion);
  t.true(after > maxBefore, `resourceVersion ${after} after the failover > ${maxBefore}`);
});

test.serial('with its one replica hung, a write gets 504 within the WAIT timeout, never a false success; it succeeds once the replica is back', async (t) => {
  const primary = await group.settled(1);
  const replica = group.nodes.find((n) => n.port !== primary && n.running())!;
  await replica.signal('SIGSTOP');
  try {
    // A 503 (the API server's connection dropped by a late +switch-master) was not applied: a
    // client tries again, as client-go does on Retry-After.
    const r = await eventually(async () => {
      const attempt = await post(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unconfirmed' }, data: { k: 'v' } });
      return attempt.status === 503 ? false : attempt;
    }, { timeoutMs: 10_000, message: 'a write answered other than 503' });
    t.is(r.status, 504, JSON.stringify(r.body));
    t.is(r.body.kind, 'Status');
    t.is(r.body.reason, 'Timeout');
    t.regex(r.body.message, /confirmed by 0 of the 1 replica/);
    t.true(r.ms < WAIT_TIMEOUT_MS + 2_000, `answered in ${r.ms} ms`);
    // kubectl says so too, and exits non-zero.
    const run = await kubectl(['create', 'configmap', 'unconfirmed-kubectl', '--from-literal=k=v']);
    t.not(run.code, 0);
    t.regex(run.stderr, /replica/);
    // Reads go on meanwhile: WAIT holds only the writers' connection.
    t.is((await cluster.api.get(`${CONFIGMAPS}/after-failover`)).status, 200);
  } finally {
    await replica.signal('SIGCONT');
  }
  await eventually(async () => (await post(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `confirmed-${Date.now()}` } })).status === 201, { timeoutMs: 30_000, message: 'a write confirmed once the replica is back' });
});

test.serial('the Wharf users were refused nothing on the new primary (WAIT, INFO in write-object.lua, the sentinel-mode handshake)', async (t) => {
  const admin = group.admin(await group.primaryPort());
  try {
    const log = (await admin.call('ACL', 'LOG', '100')) as unknown[][];
    const entries = log.map((e) => Object.fromEntries(Array.from({ length: e.length / 2 }, (_, i) => [e[2 * i], e[2 * i + 1]])) as Record<string, string>);
    t.deepEqual(entries.map((e) => `${e.username} ${e.reason} ${e.context} ${e.object}`), []);
  } finally {
    admin.disconnect();
  }
});
