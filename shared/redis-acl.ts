// Redis users, one per kind of Wharf process, as a Redis 7 ACL file: what each may run and which
// keys it may read and write. Redis holds the whole cluster, so a Redis without credentials is a
// cluster without authentication; and since node agents and controllers talk to Redis directly,
// their users are what bounds a compromised node or controller.
//
// Every user:
//   - runs only the command families Wharf and BullMQ use (strings, hashes, sets, sorted sets,
//     lists, streams, Lua scripts, transactions, pub/sub, INFO and CLIENT SETNAME for BullMQ) and
//     none of the administrative or dangerous ones (CONFIG, ACL, DEBUG, FLUSHALL, KEYS, SHUTDOWN,
//     MONITOR, MIGRATE, REPLICAOF, SCRIPT FLUSH, FUNCTION ...);
//   - reaches only its cluster's keys (Keys' prefix), never another cluster's in the same Redis.
// Then by kind:
//   api                 every key of the cluster, the private credentials (CA key, ServiceAccount
//                       signing key, admin token digest) included; no other user reads or writes
//                       those.
//   controller-manager  reads and writes every object (garbage collection and namespace deletion
//                       delete objects of any kind); reads the public credentials; never the
//                       private ones.
//   scheduler           reads every object; writes only Pods and Events (binding, status,
//                       preemption), PersistentVolumeClaims (the selected node of a claim that
//                       waits for its first consumer) and the scheduler's own queues; public
//                       credentials read-only.
//   node-agent          reads every object (a pod's Secrets and ConfigMaps, Services for the
//                       proxy); writes only Pods, Nodes, Leases, Events and PersistentVolumes (its
//                       local-path provisioner), its own back-off and
//                       routing keys, the queues, the token request list (and its replies), and
//                       its pods' and node's resource usage samples;
//                       public credentials read-only.
// What ACLs cannot express is left to the trust model in the README: a key pattern cannot say
// "only this node's pods", so a node agent may write any Pod's status, and the write script's
// shared indexes (uids, claims, node usage, the resourceVersion counter, quota markers) are
// writable by every user that writes any object, and a node agent could read a token reply meant
// for another node (the API servers' NodeRestriction-like checks decide what a token is for).
import { createHash, randomBytes } from 'node:crypto';
import { Keys } from './keys.ts';

export const REDIS_USER_KINDS = ['api', 'controller-manager', 'scheduler', 'node-agent'] as const;
export type RedisUserKind = (typeof REDIS_USER_KINDS)[number];

/** The Redis user name of a kind of process. */
export function redisUserName(kind: RedisUserKind): string {
  return `wharf-${kind}`;
}

/**
 * The commands every Wharf user may run. Categories first, then the dangerous ones taken away,
 * then the few single commands BullMQ and ioredis need back (INFO for the version and ready
 * checks, CLIENT SETNAME/INFO for naming connections).
 */
const COMMANDS = [
  'resetchannels',
  '&*',
  '-@all',
  '+@read',
  '+@write',
  '+@string',
  '+@hash',
  '+@list',
  '+@set',
  '+@sortedset',
  '+@stream',
  '+@scripting',
  '+@transaction',
  '+@pubsub',
  '+@connection',
  '-@admin',
  '-@dangerous',
  '-script|flush',
  '-script|kill',
  '-function',
  '-fcall',
  '-fcall_ro',
  '+info',
  '+client|setname',
  '+client|getname',
  '+client|info',
  '+client|id',
  // Redis' clock, the one all replicas share (the schedulers' membership lapses by it).
  '+time',
];

/** The objects of these resources, with their change streams and indexes. */
function objectsOf(keys: Keys, resources: string[]): string[] {
  return resources.flatMap((r) => [keys.objects(r, '*'), keys.namespacesOf(r), keys.objectIndex(r)]);
}

/**
 * What every object write touches besides the object's own keys: write-object.lua's KEYS, and the
 * in-flight markers of quota admission (an update that grows a pod's usage holds one).
 */
function writeScriptShared(keys: Keys): string[] {
  return [keys.resourceVersion, keys.resourceVersionEpoch, keys.lostResourceVersions, keys.uids, keys.claims, keys.nodeUsage('*'), keys.writeRecord('*'), keys.dependents('*'), keys.quotaAdmissions('*')];
}

/** The resource usage samples a node agent writes (shared/resource-metrics.ts). */
function usageSamples(keys: Keys): string[] {
  return [keys.podMetrics('*'), keys.podMetricsNamespaces, keys.nodeMetrics];
}

/** The key rules (`~` read and write, `%R~` read only) of a kind's user. */
export function keyRules(kind: RedisUserKind, keys: Keys): string[] {
  const all = `${keys.prefix}:*`;
  const bull = `${keys.bullPrefix}:*`;
  if (kind === 'api') return [`~${all}`, `~${bull}`, `~${keys.clusterPublicCredentials}`, `~${keys.clusterPrivateCredentials}`];
  const common = [`~${bull}`, `%R~${all}`, `%R~${keys.clusterPublicCredentials}`];
  if (kind === 'controller-manager') return [...common, `~${all}`];
  // Consumer groups (XREADGROUP, XACK, XAUTOCLAIM) are writes to the streams they read, and
  // Redis takes a (read-write) script's keys as written: read-group.lua's compaction markers.
  const queues = [keys.stream('*'), keys.compacted('*'), keys.workEpoch('*', '*'), keys.workLock('*', '*')];
  const own =
    kind === 'scheduler'
      ? [...objectsOf(keys, ['pods', 'events', 'persistentvolumeclaims']), keys.unschedulablePods, keys.resyncTurn('scheduler'), keys.members('scheduler')]
      : // and its pods' ServiceAccount tokens, asked of the API servers (it never holds the signing key)
        [...objectsOf(keys, ['pods', 'nodes', 'leases', 'events', 'persistentvolumes']), keys.agentEndpoints, keys.nodeQueueRoutes, keys.backoff('*'), keys.tokenRequests, keys.tokenReply('*'), ...usageSamples(keys), keys.serviceTraffic('*', '*')];
  // `~` (read and write), not `%W~`: Redis grants a command's access to a key only when one single
  // pattern allows all of it, and most writes (HSET, INCR, EVALSHA's keys) also read.
  return [...common, ...[...queues, ...writeScriptShared(keys), ...own].map((k) => `~${k}`)];
}

/** One user's line of an ACL file: on, its password (as a SHA-256, so the file holds no password), commands, keys. */
export function aclUserLine(name: string, password: string, rules: string[]): string {
  return ['user', name, 'reset', 'on', `#${sha256(password)}`, ...rules].join(' ');
}

export const HEALTHCHECK_USER = 'wharf-healthcheck';

export interface AclUsers {
  /** user name -> password */
  passwords: Record<string, string>;
  /** The ACL file (redis-server --aclfile) defining them. */
  file: string;
}

/** Redis' own administrator: every right, behind a password no Wharf process is given. */
export const ADMIN_USER = 'default';

/**
 * A user per kind of Wharf process for the cluster whose keys start with keys.prefix, each with a
 * new random password (or the one given); optionally a health-check user that may only PING; and
 * the default user as the administrator (an operator's redis-cli, tests that inspect Redis), with a
 * password of its own. A client that does not authenticate can do nothing (NOAUTH): the default
 * user is no longer password-less. It keeps every right because Redis 7.0 replays the append-only
 * file as the default user — a default user without rights would load an empty Redis after a
 * restart.
 */
export function aclUsers(keys: Keys, opts: { passwords?: Partial<Record<string, string>>; healthcheck?: boolean } = {}): AclUsers {
  const passwords: Record<string, string> = {};
  passwords[ADMIN_USER] = opts.passwords?.[ADMIN_USER] ?? newPassword();
  const lines = [aclUserLine(ADMIN_USER, passwords[ADMIN_USER], ['~*', '&*', '+@all'])];
  for (const kind of REDIS_USER_KINDS) {
    const name = redisUserName(kind);
    passwords[name] = opts.passwords?.[name] ?? newPassword();
    lines.push(aclUserLine(name, passwords[name], [...COMMANDS, ...keyRules(kind, keys)]));
  }
  if (opts.healthcheck) {
    // For a container's health check: may PING, nothing else.
    passwords[HEALTHCHECK_USER] = opts.passwords?.[HEALTHCHECK_USER] ?? newPassword();
    lines.push(aclUserLine(HEALTHCHECK_USER, passwords[HEALTHCHECK_USER], ['resetchannels', '-@all', '+ping']));
  }
  return { passwords, file: `${lines.join('\n')}\n` };
}

/** redis://user:password@host:port for one user, from the server's address. */
export function redisUrlFor(base: string, user: string, password: string): string {
  const url = new URL(base);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString().replace(/\/$/, '');
}

/** 32 random bytes, hex: long enough that guessing is hopeless, and safe in a URL. */
export function newPassword(): string {
  return randomBytes(32).toString('hex');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
