import test from 'ava';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { loadConfig, parseDurationMs, ConfigError } from '../../shared/config.ts';

test('defaults with an empty environment', (t) => {
  const c = loadConfig({});
  t.like(c.common, { redisUrl: undefined, keyPrefix: 'wharf', logLevel: 'info', watchHistory: 20_000 });
  t.like(c.api, { host: '127.0.0.1', port: 8080, maxBodyBytes: 3 * 1024 * 1024 });
  t.like(c.api, { serviceAccountIssuer: 'https://kubernetes.default.svc.cluster.local', apiAudiences: ['https://kubernetes.default.svc.cluster.local'], serviceAccountMaxTokenExpirationSeconds: 0 });
  t.like(c.admission, { serviceCidr: '10.96.0.0/16', nodePortRange: '30000-32767', podEvictionTolerationSeconds: 300, disabledPlugins: [] });
  t.is(c.admission.podSecurity.defaults.enforce.level, 'baseline');
  t.is(c.local.stateDir, resolve('.wharf'));
  t.like(c.network, { serviceCidr: '10.96.0.0/16', nodePortRange: '30000-32767', clusterDomain: 'cluster.local', dnsServiceIp: '10.96.0.10', proxy: true, endpointDrainMs: 1000 });
  t.like(c.scheduler, { concurrency: 16, retryUnschedulableMs: 30_000, viewGatherMs: 100, feedGatherMs: 100 });
  t.like(c.controller, { concurrency: 16, resyncMs: 60_000, nodeMonitorGraceMs: 50_000, feedGatherMs: 10 });
  const n = c.nodeAgent;
  t.is(n.nodeName, hostname().toLowerCase());
  t.is(n.runtime, 'docker');
  t.is(n.simulatedNodes, 1);
  t.is(n.dockerHost, undefined);
  t.is(n.podNetwork, 'wharf');
  t.is(n.pauseImage, 'busybox:latest');
  t.is(n.heartbeatMs, 10_000);
  t.is(n.resyncMs, 10_000);
  t.is(n.concurrency, 32);
  t.is(n.backoffBaseMs, 10_000);
  t.is(n.backoffMaxMs, 300_000);
  t.is(n.backoffResetMs, 600_000);
  t.is(n.logPort, 10250);
  t.is(n.advertiseHost, '127.0.0.1');
  t.is(n.nodeAddress, undefined);
  t.is(n.cpuMillis, undefined);
  t.is(n.memoryBytes, undefined);
  t.is(n.maxPods, 110);
});

test('node agent data directory: default and override, resolved to an absolute path', (t) => {
  t.is(loadConfig({}).nodeAgent.dataDir, resolve('.wharf/agent'));
  t.is(loadConfig({ WHARF_AGENT_DATA_DIR: '/var/lib/wharf' }).nodeAgent.dataDir, '/var/lib/wharf');
  t.is(loadConfig({ WHARF_AGENT_DATA_DIR: 'rel/dir' }).nodeAgent.dataDir, resolve('rel/dir'));
});

test('empty strings count as unset', (t) => {
  const c = loadConfig({ REDIS_URL: '', WHARF_API_PORT: '', WHARF_HEARTBEAT: '', WHARF_RUNTIME: '', WHARF_NODE_CPU_MILLIS: '', WHARF_KEY_PREFIX: '' });
  t.is(c.common.redisUrl, undefined);
  t.is(c.api.port, 8080);
  t.is(c.nodeAgent.heartbeatMs, 10_000);
  t.is(c.nodeAgent.runtime, 'docker');
  t.is(c.nodeAgent.cpuMillis, undefined);
  t.is(c.common.keyPrefix, 'wharf');
});

test('values from the environment', (t) => {
  const c = loadConfig({
    REDIS_URL: 'redis://r:6379/2',
    WHARF_KEY_PREFIX: 'test',
    WHARF_LOG_LEVEL: 'debug',
    WHARF_WATCH_HISTORY: '500',
    WHARF_API_HOST: '0.0.0.0',
    WHARF_API_PORT: '6443',
    WHARF_API_MAX_BODY_BYTES: '2048',
    WHARF_SERVICE_CIDR: '10.0.0.0/24',
    WHARF_SCHEDULER_CONCURRENCY: '4',
    WHARF_SCHEDULER_RETRY: '5s',
    WHARF_SCHEDULER_VIEW_GATHER: '0',
    WHARF_SCHEDULER_FEED_GATHER: '250ms',
    WHARF_CONTROLLER_CONCURRENCY: '2',
    WHARF_CONTROLLER_RESYNC: '1m',
    WHARF_NODE_NAME: 'Worker-A',
    WHARF_RUNTIME: 'simulated',
    WHARF_SIMULATED_NODES: '50',
    DOCKER_HOST: 'unix:///var/run/docker.sock',
    WHARF_POD_NETWORK: 'pods',
    WHARF_PAUSE_IMAGE: 'pause:3.9',
    WHARF_HEARTBEAT: '500ms',
    WHARF_AGENT_RESYNC: '30s',
    WHARF_AGENT_CONCURRENCY: '3',
    WHARF_BACKOFF_BASE: '1s',
    WHARF_BACKOFF_MAX: '5m',
    WHARF_BACKOFF_RESET: '1h',
    WHARF_AGENT_PORT: '10251',
    WHARF_AGENT_ADVERTISE_HOST: 'agent.local',
    WHARF_NODE_ADDRESS: '192.168.1.5',
    WHARF_NODE_CPU_MILLIS: '4000',
    WHARF_NODE_MEMORY_BYTES: '8589934592',
    WHARF_NODE_MAX_PODS: '30',
  });
  t.like(c.common, { redisUrl: 'redis://r:6379/2', keyPrefix: 'test', logLevel: 'debug', watchHistory: 500 });
  t.like(c.api, { host: '0.0.0.0', port: 6443, maxBodyBytes: 2048 });
  t.like(c.network, { serviceCidr: '10.0.0.0/24', dnsServiceIp: '10.0.0.10' });
  t.like(c.scheduler, { concurrency: 4, retryUnschedulableMs: 5000, viewGatherMs: 0, feedGatherMs: 250 });
  t.like(c.controller, { concurrency: 2, resyncMs: 60_000 });
  // t.like: sections may grow new fields; these must hold.
  t.like(c.nodeAgent, {
    nodeName: 'worker-a',
    runtime: 'simulated',
    simulatedNodes: 50,
    dockerHost: 'unix:///var/run/docker.sock',
    podNetwork: 'pods',
    pauseImage: 'pause:3.9',
    heartbeatMs: 500,
    resyncMs: 30_000,
    concurrency: 3,
    backoffBaseMs: 1000,
    backoffMaxMs: 300_000,
    backoffResetMs: 3_600_000,
    logPort: 10251,
    advertiseHost: 'agent.local',
    nodeAddress: '192.168.1.5',
    cpuMillis: 4000,
    memoryBytes: 8589934592,
    maxPods: 30,
  });
});

const durations: [string, number][] = [
  ['500ms', 500],
  ['0ms', 0],
  ['10s', 10_000],
  ['1.5s', 1500],
  ['0.25s', 250],
  ['5m', 300_000],
  ['1h', 3_600_000],
  ['2.5h', 9_000_000],
  ['250', 250], // bare number: milliseconds
  ['0', 0],
  ['  10s  ', 10_000],
];

for (const [raw, ms] of durations) {
  test(`parseDurationMs(${JSON.stringify(raw)}) = ${ms}`, (t) => {
    t.is(parseDurationMs('X', raw), ms);
  });
}

const badDurations = ['10x', '-5s', '5 s', 's', '', 'ten seconds', '1d', '1m30s', '.5s', '5S'];

for (const raw of badDurations) {
  test(`parseDurationMs rejects ${JSON.stringify(raw)} with a ConfigError naming the variable`, (t) => {
    const err = t.throws(() => parseDurationMs('WHARF_HEARTBEAT', raw), { instanceOf: ConfigError });
    t.is(err!.variable, 'WHARF_HEARTBEAT');
    t.true(err!.message.startsWith('WHARF_HEARTBEAT: '), err!.message);
    t.true(err!.message.includes(`"${raw}"`), err!.message);
    t.is(err!.name, 'ConfigError');
  });
}

const badValues: [string, string][] = [
  ['WHARF_API_PORT', 'abc'],
  ['WHARF_API_PORT', '80.5'],
  ['WHARF_API_PORT', '-1'],
  ['WHARF_WATCH_HISTORY', '99'], // minimum 100
  ['WHARF_API_MAX_BODY_BYTES', '1023'], // minimum 1024
  ['WHARF_SCHEDULER_CONCURRENCY', '0'],
  ['WHARF_CONTROLLER_CONCURRENCY', 'many'],
  ['WHARF_SIMULATED_NODES', '0'],
  ['WHARF_AGENT_CONCURRENCY', '1e'],
  ['WHARF_NODE_MAX_PODS', '0'],
  ['WHARF_NODE_CPU_MILLIS', '0'],
  ['WHARF_NODE_CPU_MILLIS', '2 cores'],
  ['WHARF_NODE_MEMORY_BYTES', '8Gi'],
  ['WHARF_RUNTIME', 'podman'],
  ['WHARF_RUNTIME', 'Docker'],
  ['WHARF_SCHEDULER_RETRY', '30 seconds'],
  ['WHARF_CONTROLLER_RESYNC', '-1m'],
  ['WHARF_HEARTBEAT', 'fast'],
  ['WHARF_AGENT_RESYNC', '10sec'],
  ['WHARF_BACKOFF_BASE', 'x'],
  ['WHARF_BACKOFF_MAX', '5min'],
  ['WHARF_BACKOFF_RESET', '10 m'],
];

for (const [name, value] of badValues) {
  test(`loadConfig rejects ${name}=${JSON.stringify(value)} with a ConfigError naming it`, (t) => {
    const err = t.throws(() => loadConfig({ [name]: value }), { instanceOf: ConfigError });
    t.is(err!.variable, name);
    t.true(err!.message.startsWith(`${name}: `), err!.message);
    t.true(err!.message.includes(`"${value}"`), err!.message);
  });
}

test('loadConfig: WHARF_RUNTIME error lists the allowed values', (t) => {
  const err = t.throws(() => loadConfig({ WHARF_RUNTIME: 'podman' }), { instanceOf: ConfigError });
  t.true(err!.message.includes('docker, simulated'), err!.message);
});

test('loadConfig: integer minimums are accepted at the boundary', (t) => {
  const c = loadConfig({ WHARF_WATCH_HISTORY: '100', WHARF_API_MAX_BODY_BYTES: '1024', WHARF_API_PORT: '0', WHARF_SCHEDULER_CONCURRENCY: '1' });
  t.is(c.common.watchHistory, 100);
  t.is(c.api.maxBodyBytes, 1024);
  t.is(c.api.port, 0);
  t.is(c.scheduler.concurrency, 1);
});

test('loadConfig does not read process.env when given an environment', (t) => {
  const before = process.env.WHARF_API_PORT;
  process.env.WHARF_API_PORT = 'not-a-number';
  try {
    t.is(loadConfig({}).api.port, 8080);
  } finally {
    if (before === undefined) delete process.env.WHARF_API_PORT;
    else process.env.WHARF_API_PORT = before;
  }
});

test('loadConfig rejects a TCP port above 65535', (t) => {
  // BUG: int() only checks the minimum; WHARF_API_PORT=70000 (or WHARF_AGENT_PORT) is accepted and
  // only fails later when the server tries to listen (RangeError from net). It should be a ConfigError.
  const err = t.throws(() => loadConfig({ WHARF_API_PORT: '70000' }), { instanceOf: ConfigError });
  t.is(err?.variable, 'WHARF_API_PORT');
});

test('API server bounds: request deadline, Redis reply timeout and watch stall timeout, never 0', (t) => {
  t.like(loadConfig({}).api, { requestTimeoutMs: 60_000, redisTimeoutMs: 5_000, watchStallTimeoutMs: 30_000 });
  t.like(loadConfig({ WHARF_API_REQUEST_TIMEOUT: '2s', WHARF_API_REDIS_TIMEOUT: '500ms', WHARF_API_WATCH_STALL_TIMEOUT: '1m' }).api, { requestTimeoutMs: 2_000, redisTimeoutMs: 500, watchStallTimeoutMs: 60_000 });
  for (const name of ['WHARF_API_REQUEST_TIMEOUT', 'WHARF_API_REDIS_TIMEOUT', 'WHARF_API_WATCH_STALL_TIMEOUT']) {
    t.throws(() => loadConfig({ [name]: '0s' }), { instanceOf: ConfigError, message: new RegExp(`^${name}: expected a duration above 0`) });
  }
});

test('ServiceAccount token settings: the issuer follows the cluster domain, audiences and the longest lifetime are checked', (t) => {
  t.like(loadConfig({ WHARF_CLUSTER_DOMAIN: 'corp.local' }).api, { serviceAccountIssuer: 'https://kubernetes.default.svc.corp.local', apiAudiences: ['https://kubernetes.default.svc.corp.local'] });
  t.like(loadConfig({ WHARF_SERVICE_ACCOUNT_ISSUER: 'https://issuer.example', WHARF_API_AUDIENCES: 'a, b' }).api, { serviceAccountIssuer: 'https://issuer.example', apiAudiences: ['a', 'b'] });
  t.is(loadConfig({ WHARF_SERVICE_ACCOUNT_MAX_TOKEN_EXPIRATION: '2h' }).api.serviceAccountMaxTokenExpirationSeconds, 7200);
  t.throws(() => loadConfig({ WHARF_SERVICE_ACCOUNT_MAX_TOKEN_EXPIRATION: '5m' }), { instanceOf: ConfigError, message: /WHARF_SERVICE_ACCOUNT_MAX_TOKEN_EXPIRATION: expected a duration from 10m/ });
  t.deepEqual(loadConfig({ WHARF_DISABLE_ADMISSION_PLUGINS: 'ServiceAccount' }).admission.disabledPlugins, ['ServiceAccount']);
  t.throws(() => loadConfig({ WHARF_DISABLE_ADMISSION_PLUGINS: 'NamespaceLifecycle' }), { instanceOf: ConfigError, message: /unknown admission plugin "NamespaceLifecycle"/ });
});

test('API credentials: the admin token file, the kubeconfig written beside it, its server URL, extra serving names', (t) => {
  const none = loadConfig({});
  t.is(none.api.adminTokenFile, undefined);
  t.is(none.api.writeKubeconfig, undefined);
  t.is(none.api.kubeconfigServer, 'https://127.0.0.1:8080');
  t.deepEqual(none.api.tlsSans, []);
  t.is(loadConfig({ WHARF_API_HOST: '0.0.0.0', WHARF_API_PORT: '6443' }).api.kubeconfigServer, 'https://127.0.0.1:6443');
  t.is(loadConfig({ WHARF_API_HOST: '10.0.0.4' }).api.kubeconfigServer, 'https://10.0.0.4:8080');
  const set = loadConfig({ WHARF_ADMIN_TOKEN_FILE: 'state/token', WHARF_API_WRITE_KUBECONFIG: 'state/kubeconfig', WHARF_API_KUBECONFIG_SERVER: 'https://wharf.example:443', WHARF_API_TLS_SANS: 'wharf.example, 203.0.113.9,' });
  t.is(set.api.adminTokenFile, resolve('state/token'));
  t.is(set.api.writeKubeconfig, resolve('state/kubeconfig'));
  t.is(set.api.kubeconfigServer, 'https://wharf.example:443');
  t.deepEqual(set.api.tlsSans, ['wharf.example', '203.0.113.9']);
  const err = t.throws(() => loadConfig({ WHARF_API_WRITE_KUBECONFIG: 'k' }), { instanceOf: ConfigError });
  t.is(err?.variable, 'WHARF_API_WRITE_KUBECONFIG');
});

test('node agent endpoint: bound to the advertised host\'s address unless told another', (t) => {
  t.is(loadConfig({}).nodeAgent.bindAddress, undefined);
  t.is(loadConfig({ WHARF_AGENT_BIND_ADDRESS: '10.0.0.7' }).nodeAgent.bindAddress, '10.0.0.7');
});
