// Secrets encrypted at rest and Redis protected by users per kind of process. A dump of the whole
// keyspace (and the append-only file) holds no Secret value in clear, while the API and a pod's
// node agent read them; a key rotation (A, then [B, A] and a rewrite, then [B]) re-encrypts
// everything with `kubectl replace` as in Kubernetes; a value under an unknown key or tampered with
// is a clear 500, not a crash; and the Redis users are confined as shared/redis-acl.ts says.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually, freePort, startCluster, ApiClient, type Cluster } from '../helpers/cluster.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';
import { Keys } from '../../shared/keys.ts';
import { Store } from '../../shared/store/store.ts';
import { AESGCM_PREFIX, loadEncryptionConfig } from '../../shared/store/encryption.ts';

let cluster: Cluster;
let admin: Redis;
let keys: Keys;
const work = mkdtempSync(join(tmpdir(), 'wharf-secrets-'));
const dataDir = join(work, 'agent');
const NODE = 'secrets-node';
let server = '';
const kubectl = kubectlRunner(() => ({ server, cacheDir: join(work, 'cache'), kubeconfig: join(work, 'none') }));

// Distinct values, so finding one anywhere in Redis can only mean a leak.
const FROM_DATA = `data-${randomBytes(6).toString('hex')}`;
const FROM_STRING_DATA = `string-${randomBytes(6).toString('hex')}`;
const FROM_KUBECTL = `kubectl-${randomBytes(6).toString('hex')}`;
const VALUES = [FROM_DATA, FROM_STRING_DATA, FROM_KUBECTL];
const b64 = (s: string) => Buffer.from(s).toString('base64');
const FORBIDDEN = VALUES.flatMap((v) => [v, b64(v)]);

test.before(async () => {
  cluster = await startCluster({ agents: [{ WHARF_RUNTIME: 'simulated', WHARF_NODE_NAME: NODE, WHARF_SERVICE_PROXY: 'off', WHARF_AGENT_DATA_DIR: dataDir }] });
  server = cluster.apiUrls[0];
  admin = new Redis(cluster.redis.url);
  keys = new Keys(cluster.prefix);
  await cluster.waitForNodes([NODE]);
});

test.after.always(async () => {
  admin?.disconnect();
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Every key of the keyspace with its content as text, read by type (streams included), and each key's DUMP. */
async function dumpRedis(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, found] = await admin.scan(cursor, 'MATCH', '*', 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const type = await admin.type(key);
      let content: unknown;
      if (type === 'string') content = await admin.get(key);
      else if (type === 'hash') content = await admin.hgetall(key);
      else if (type === 'list') content = await admin.lrange(key, 0, -1);
      else if (type === 'set') content = await admin.smembers(key);
      else if (type === 'zset') content = await admin.zrange(key, '0', '-1');
      else if (type === 'stream') content = await admin.xrange(key, '-', '+');
      const dumped = await admin.dumpBuffer(key);
      out.set(key, `${type} ${JSON.stringify(content)} ${dumped?.toString('latin1') ?? ''}`);
    }
  } while (cursor !== '0');
  return out;
}

function leaks(dump: Map<string, string>): string[] {
  return [...dump].flatMap(([key, text]) => FORBIDDEN.filter((v) => text.includes(v)).map((v) => `${key} holds ${v}`));
}

/** Sends inline commands over a plain socket and resolves the first line of each reply. */
function rawRedis(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const lines = text.split('\r\n').filter(Boolean);
      if (lines.length >= commands.length) {
        socket.destroy();
        resolve(lines.slice(0, commands.length));
      }
    });
    socket.on('error', reject);
    socket.on('connect', () => socket.write(commands.map((c) => `${c}\r\n`).join('')));
  });
}

async function startApi(label: string, env: Record<string, string>): Promise<ApiClient> {
  const port = await freePort();
  cluster.start('api', { WHARF_API_PORT: String(port), WHARF_API_HOST: '127.0.0.1', ...env }, label);
  const client = cluster.client(`https://127.0.0.1:${port}`);
  await eventually(async () => (await cluster.fetch(`${client.base}/readyz`)).ok, { timeoutMs: 90_000, message: `${label} ready`, detail: cluster.dumpLogs });
  return client;
}

/** The EncryptionConfiguration the cluster started with (one aesgcm key "key1"), and another with the given keys before identity. */
function encryptionFile(name: string, keyList: { name: string; secret: string }[]): string {
  const path = join(work, `${name}.yaml`);
  writeFileSync(path, JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: keyList } }, { identity: {} }] }] }));
  return path;
}

const storedSecret = (namespace: string, name: string) => admin.hget(keys.objects('secrets', namespace), name);

test.serial('Secrets created with data, stringData and kubectl are stored encrypted everywhere in Redis, and read back in clear through the API', async (t) => {
  const data = await cluster.api.post('/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's-data' }, data: { password: b64(FROM_DATA) } });
  t.is(data.status, 201, JSON.stringify(data.body));
  const stringData = await cluster.api.post('/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's-string' }, stringData: { password: FROM_STRING_DATA } });
  t.is(stringData.status, 201, JSON.stringify(stringData.body));
  const created = await kubectl(['create', 'secret', 'generic', 's-kubectl', `--from-literal=token=${FROM_KUBECTL}`]);
  t.is(created.stdout, 'secret/s-kubectl created\n', created.stderr);
  // An update too: the MODIFIED event carries the object as well.
  const patched = await cluster.api.patch('/api/v1/namespaces/default/secrets/s-data', { metadata: { labels: { rotated: 'no' } } });
  t.is(patched.status, 200, JSON.stringify(patched.body));

  // Read back decrypted: get, list, kubectl, and a watch from the start (the change stream).
  t.is((await cluster.api.get('/api/v1/namespaces/default/secrets/s-data')).body.data.password, b64(FROM_DATA));
  t.is((await cluster.api.get('/api/v1/namespaces/default/secrets/s-string')).body.data.password, b64(FROM_STRING_DATA));
  const listed = (await cluster.api.get('/api/v1/secrets')).body.items as any[];
  t.deepEqual(listed.filter((s) => s.metadata.name.startsWith('s-')).map((s) => Object.values(s.data)[0]).sort(), VALUES.map(b64).sort());
  const got = await kubectl(['get', 'secret', 's-kubectl', '-o', 'jsonpath={.data.token}']);
  t.is(Buffer.from(got.stdout, 'base64').toString(), FROM_KUBECTL, got.stderr);
  const watched = await cluster.api.watch('/api/v1/namespaces/default/secrets?watch=true&resourceVersion=0', (events) => events.length >= 3);
  t.true(watched.events.some((e) => e.object.data?.token === b64(FROM_KUBECTL)), 'watch events are decrypted');
  const fromHistory = await cluster.api.watch(`/api/v1/namespaces/default/secrets?watch=true&resourceVersion=${data.body.metadata.resourceVersion}`, (events) => events.length >= 3);
  t.deepEqual(fromHistory.events.map((e) => e.type), ['ADDED', 'ADDED', 'MODIFIED'], 'events replayed from the change stream');
  t.is(fromHistory.events[2].object.data.password, b64(FROM_DATA));

  // Stored: the objects hash holds the aesgcm prefix and key name, the stream the same.
  for (const name of ['s-data', 's-string', 's-kubectl']) t.true((await storedSecret('default', name))!.startsWith(`${AESGCM_PREFIX}key1:`), name);
  const stream = await admin.xrange(keys.stream('secrets'), '-', '+');
  t.true(stream.length >= 4);
  for (const [, fields] of stream) t.true(fields[fields.indexOf('o') + 1].startsWith(`${AESGCM_PREFIX}key1:`));

  // Nowhere in the keyspace, in any form, and not in the append-only file either.
  const dump = await dumpRedis();
  t.true(dump.size > 20, `dumped ${dump.size} keys`);
  t.deepEqual(leaks(dump), []);
  const aofDir = join(cluster.redis.dir, 'appendonlydir');
  // The AOF is written every second: once it holds the last secret's name, it holds its writes.
  const aof = () => (existsSync(aofDir) ? readdirSync(aofDir).map((f) => readFileSync(join(aofDir, f), 'latin1')).join('\n') : '');
  await eventually(() => aof().includes('s-kubectl'), { timeoutMs: 10_000, message: 'the append-only file has the writes' });
  t.deepEqual(FORBIDDEN.filter((v) => aof().includes(v)), []);
});

test.serial('a pod gets the Secret decrypted by its node agent, in a volume and in its environment', async (t) => {
  const pod = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'uses-secret' },
    spec: {
      nodeName: NODE,
      containers: [{
        name: 'c',
        image: 'busybox:latest',
        // A missing key would keep the container from starting (CreateContainerConfigError).
        env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 's-string', key: 'password' } } }],
        volumeMounts: [{ name: 'secret', mountPath: '/etc/secret' }],
      }],
      volumes: [{ name: 'secret', secret: { secretName: 's-data' } }],
    },
  });
  t.is(pod.status, 201, JSON.stringify(pod.body));
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/default/pods/uses-secret')).body.status?.phase === 'Running', { timeoutMs: 60_000, message: 'the pod Running', detail: cluster.dumpLogs });
  const file = join(dataDir, 'pods', pod.body.metadata.uid, 'volumes', 'secret', 'secret', 'password');
  t.is(readFileSync(file, 'utf8'), FROM_DATA);
  const broken = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'missing-key' },
    spec: { nodeName: NODE, containers: [{ name: 'c', image: 'busybox:latest', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's-string', key: 'nope' } } }] }] },
  });
  t.is(broken.status, 201);
  // The contrast that shows the agent read the Secret's keys: a key it lacks is reported as such.
  const waiting = await eventually(async () => (await cluster.api.get('/api/v1/namespaces/default/pods/missing-key')).body.status?.containerStatuses?.[0]?.state?.waiting, { timeoutMs: 60_000, message: 'missing-key waiting' });
  t.is(waiting.reason, 'CreateContainerConfigError');
  t.regex(waiting.message, /couldn't find key nope in Secret default\/s-string/);
  for (const name of ['uses-secret', 'missing-key']) await cluster.api.delete(`/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`);
});

test.serial('a ciphertext tampered with, or moved to another Secret, is a clear 500 and the API server keeps serving', async (t) => {
  await cluster.api.post('/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'victim' }, stringData: { a: 'b' } });
  await cluster.api.post('/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tampered' }, stringData: { a: 'b' } });
  // Another Secret's ciphertext (and resourceVersion) copied onto "victim".
  await admin.hset(keys.objects('secrets', 'default'), 'victim', (await storedSecret('default', 's-data'))!);
  const moved = await cluster.api.get('/api/v1/namespaces/default/secrets/victim');
  t.is(moved.status, 500);
  t.is(moved.body.reason, 'InternalError');
  t.is(moved.body.message, 'Internal error occurred: unable to transform key "/registry/secrets/default/victim": cipher: message authentication failed (aesgcm key "key1")');
  // One byte of the ciphertext flipped.
  const stored = (await storedSecret('default', 'tampered'))!;
  const i = `${AESGCM_PREFIX}key1:`.length + 30;
  await admin.hset(keys.objects('secrets', 'default'), 'tampered', `${stored.slice(0, i)}${stored[i] === 'A' ? 'B' : 'A'}${stored.slice(i + 1)}`);
  const flipped = await cluster.api.get('/api/v1/namespaces/default/secrets/tampered');
  t.is(flipped.status, 500);
  t.regex(flipped.body.message, /unable to transform key "\/registry\/secrets\/default\/tampered": cipher: message authentication failed/);
  t.is((await cluster.api.get('/api/v1/namespaces/default/secrets/s-data')).status, 200, 'the others still read');
  t.true((await cluster.fetch(`${server}/readyz`)).ok, 'and the server is ready');
  // A pod using it: the node agent reports it on the pod, as a configuration error, and goes on.
  const pod = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'uses-tampered' },
    spec: { nodeName: NODE, containers: [{ name: 'c', image: 'busybox:latest', envFrom: [{ secretRef: { name: 'tampered' } }] }] },
  });
  t.is(pod.status, 201);
  const waiting = await eventually(async () => (await cluster.api.get('/api/v1/namespaces/default/pods/uses-tampered')).body.status?.containerStatuses?.[0]?.state?.waiting, { timeoutMs: 60_000, message: 'uses-tampered waiting', detail: cluster.dumpLogs });
  t.is(waiting.reason, 'CreateContainerConfigError');
  t.is(waiting.message, 'secret "tampered" cannot be read: unable to transform key "/registry/secrets/default/tampered": cipher: message authentication failed (aesgcm key "key1")');
  await cluster.api.delete('/api/v1/namespaces/default/pods/uses-tampered?gracePeriodSeconds=0');
  // Gone again, for the rotation that follows (the API cannot delete what it cannot read, as Kubernetes).
  for (const name of ['victim', 'tampered']) {
    await admin.hdel(keys.objects('secrets', 'default'), name);
    await admin.zrem(keys.objectIndex('secrets'), `default/${name}`);
  }
});

test.serial('rotation: with [B, A] a replace of every Secret re-encrypts them under B; then [B] alone reads them all; A alone reads none', async (t) => {
  const original = loadEncryptionConfig(cluster.env.WHARF_ENCRYPTION_CONFIG).forResource('secrets').providers[0] as { keys: { name: string; secret: Buffer }[] };
  const a = { name: 'key1', secret: original.keys[0].secret.toString('base64') };
  const b = { name: 'keyB', secret: randomBytes(32).toString('base64') };
  // Written before encryption was on: plaintext, which identity still reads, and which a rewrite encrypts.
  const legacy = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'legacy', namespace: 'default', uid: 'legacy-uid', resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z' }, type: 'Opaque', data: { old: b64('plain-before-encryption') } };
  await admin.hset(keys.objects('secrets', 'default'), 'legacy', JSON.stringify(legacy));
  await admin.sadd(keys.namespacesOf('secrets'), 'default');
  await admin.zadd(keys.objectIndex('secrets'), 0, 'default/legacy');

  const ba = await startApi('api-rotating', { WHARF_ENCRYPTION_CONFIG: encryptionFile('ba', [b, a]) });
  server = ba.base;
  t.is((await ba.get('/api/v1/namespaces/default/secrets/s-kubectl')).body.data.token, b64(FROM_KUBECTL), '[B, A] reads what A wrote');
  // Kubernetes' documented way: every Secret read and replaced as it is. (--validate=false: kubectl
  // validates a List client-side against /openapi/v2, which Wharf does not serve; single objects
  // are validated by the server.)
  const all = await kubectl(['get', 'secrets', '-A', '-o', 'json']);
  t.is(all.code, 0, all.stderr);
  const count = JSON.parse(all.stdout).items.length;
  const replaced = await kubectl(['replace', '--validate=false', '-f', '-'], { input: all.stdout });
  t.is(replaced.code, 0, replaced.stderr);
  t.is(replaced.stdout.trim().split('\n').length, count);

  const hashes = await admin.smembers(keys.namespacesOf('secrets'));
  const stored = (await Promise.all(hashes.map((ns) => admin.hgetall(keys.objects('secrets', ns))))).flatMap((h) => Object.entries(h));
  t.is(stored.length, count);
  t.deepEqual(stored.filter(([, v]) => !v.startsWith(`${AESGCM_PREFIX}keyB:`)).map(([name]) => name), [], 'every Secret stored under keyB');

  const onlyB = await startApi('api-b-only', { WHARF_ENCRYPTION_CONFIG: encryptionFile('b', [b]) });
  const readByB = (await onlyB.get('/api/v1/secrets')).body.items as any[];
  t.is(readByB.length, count);
  t.is(readByB.find((s) => s.metadata.name === 'legacy').data.old, b64('plain-before-encryption'));
  t.is(readByB.find((s) => s.metadata.name === 's-string').data.password, b64(FROM_STRING_DATA));

  // The cluster's first API server still has only key A: a clear 500 naming the key, no crash.
  const stale = await cluster.api.get('/api/v1/namespaces/default/secrets/s-data');
  t.is(stale.status, 500);
  t.is(stale.body.message, 'Internal error occurred: unable to transform key "/registry/secrets/default/s-data": no matching prefix found: the value is encrypted with aesgcm key "keyB", which the encryption configuration does not list');
  t.is((await cluster.api.get('/api/v1/namespaces/default/configmaps')).status, 200, 'everything else still served');
  t.true((await cluster.fetch(`${cluster.apiUrls[0]}/readyz`)).ok);
  t.deepEqual(leaks(await dumpRedis()), [], 'still nothing in clear');
});

test.serial('npm run rotate-secrets rewrites what an older key wrote, and only that', async (t) => {
  // The store as the rotation command runs it, with the API server's Redis user: a new key C put
  // before every key the Secrets may be stored under so far (the cluster's, and B's after the test before).
  const keysSoFar = ['ba', 'b'].filter((f) => existsSync(join(work, `${f}.yaml`))).map((f) => join(work, `${f}.yaml`));
  const known = [cluster.env.WHARF_ENCRYPTION_CONFIG, ...keysSoFar].flatMap((f) => (loadEncryptionConfig(f).forResource('secrets').providers[0] as { keys: { name: string; secret: Buffer }[] }).keys);
  const unique = [...new Map(known.map((k) => [k.name, { name: k.name, secret: k.secret.toString('base64') }])).values()];
  const c = { name: 'keyC', secret: randomBytes(32).toString('base64') };
  const cb = loadEncryptionConfig(encryptionFile('cb', [c, ...unique]));
  const connection = new Redis(cluster.redis.urlFor('api'));
  try {
    const store = new Store(connection, keys, 1000, undefined, cb);
    const first = await store.rewriteStale('secrets');
    t.true(first.total > 0);
    t.is(first.rewritten, first.total);
    t.deepEqual(await store.rewriteStale('secrets'), { rewritten: 0, total: first.total });
    const values = Object.values(await admin.hgetall(keys.objects('secrets', 'default')));
    t.true(values.every((v) => v.startsWith(`${AESGCM_PREFIX}keyC:`)));
  } finally {
    connection.disconnect();
  }
});

test.serial('Redis users: no credentials get NOAUTH; agents, schedulers and controllers cannot reach the private credentials; each runs only its commands', async (t) => {
  // Everything every process did in this file under its user was allowed: Redis logged no refusal.
  const refusals = ((await admin.call('ACL', 'LOG', '200')) as unknown[][]).map((e) => {
    const m = Object.fromEntries(Array.from({ length: e.length / 2 }, (_, i) => [e[2 * i], e[2 * i + 1]])) as Record<string, string>;
    return `${m.username} ${m.reason} ${m.context} ${m.object}`;
  });
  t.deepEqual(refusals, []);
  // In the protocol itself, as any client without credentials would speak it.
  t.deepEqual(await rawRedis(cluster.redis.port, ['PING', `HGETALL ${keys.objects('secrets', 'default')}`, 'AUTH wharf-api not-the-password']), [
    '-NOAUTH Authentication required.',
    '-NOAUTH Authentication required.',
    '-WRONGPASS invalid username-password pair or user is disabled.',
  ]);

  const users = Object.fromEntries((['api', 'controller-manager', 'scheduler', 'node-agent'] as const).map((k) => [k, new Redis(cluster.redis.urlFor(k))]));
  try {
    await users.api.hset(keys.clusterPrivateCredentials, 'probe', 'x');
    t.deepEqual(await users.api.hgetall(keys.clusterPrivateCredentials), { ...(await admin.hgetall(keys.clusterPrivateCredentials)) });
    for (const kind of ['controller-manager', 'scheduler', 'node-agent'] as const) {
      await t.throwsAsync(users[kind].hgetall(keys.clusterPrivateCredentials), { message: /^NOPERM/ }, `${kind} reads the private credentials`);
      await t.throwsAsync(users[kind].hset(keys.clusterPrivateCredentials, 'ca.key', 'x'), { message: /^NOPERM/ });
      await t.throwsAsync(users[kind].hset(keys.clusterPublicCredentials, 'ca.crt', 'x'), { message: /^NOPERM/ }, `${kind} writes the public credentials`);
      t.truthy(await users[kind].hgetall(keys.clusterPublicCredentials), `${kind} reads the public credentials`);
      for (const command of [['CONFIG', 'GET', 'requirepass'], ['FLUSHALL'], ['KEYS', '*'], ['ACL', 'LIST'], ['SCRIPT', 'FLUSH'], ['CLIENT', 'KILL', 'ID', '1'], ['MONITOR'], ['SHUTDOWN']]) {
        await t.throwsAsync(users[kind].call(command[0], ...command.slice(1)), { message: /^NOPERM/ }, `${kind} runs ${command.join(' ')}`);
      }
      await t.throwsAsync(users[kind].get('another-cluster:rv'), { message: /^NOPERM/ }, `${kind} reads another cluster's keys`);
    }
    // Agents and schedulers read objects but write only their own kinds.
    for (const kind of ['scheduler', 'node-agent'] as const) {
      t.truthy(await users[kind].hget(keys.objects('secrets', 'default'), 's-data'));
      await t.throwsAsync(users[kind].hset(keys.objects('secrets', 'default'), 's-data', '{}'), { message: /^NOPERM/ }, `${kind} writes a Secret`);
      await t.throwsAsync(users[kind].hset(keys.objects('deployments', 'default'), 'x', '{}'), { message: /^NOPERM/ }, `${kind} writes a Deployment`);
      await t.throwsAsync(users[kind].del(keys.objects('namespaces', '')), { message: /^NOPERM/ }, `${kind} deletes Namespaces`);
    }
    await t.notThrowsAsync(users['node-agent'].hget(keys.objects('pods', 'default'), 'none'));
    // The controller manager deletes objects of every kind (garbage collection, namespace deletion).
    await users['controller-manager'].hdel(keys.objects('secrets', 'default'), 'no-such-secret');
  } finally {
    for (const u of Object.values(users)) u.disconnect();
  }
});
