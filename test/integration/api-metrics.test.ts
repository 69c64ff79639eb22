// The API server's GET /metrics counts each request as Kubernetes' apiserver does, in
// apiserver_request_total and apiserver_request_duration_seconds: a namespaced LIST, a GET of a
// cluster-scoped object, a create, a status update, a server-side apply, a watch the client hangs
// up on, a 404 of a missing object and one of a path that names nothing, each under its verb,
// group, version, resource, subresource, scope and code.
import test from 'ava';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';

let cluster: Cluster;

test.before(async () => {
  cluster = await startCluster({ schedulers: 0, controllerManagers: 0 });
});

test.after.always(async () => {
  await cluster?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format's samples (`name{a="x",b="y"} value`), labels unescaped. */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(): Promise<Sample[]> {
  const res = await cluster.fetch(`${cluster.apiUrls[0]}/metrics`);
  return samples(await res.text());
}

/** The one sample of `name` whose labels are exactly these, or undefined. */
function find(all: Sample[], name: string, labels: Record<string, string>): Sample | undefined {
  const keys = Object.keys(labels).sort();
  return all.find((s) => s.name === name && Object.keys(s.labels).sort().join() === keys.join() && keys.every((k) => s.labels[k] === labels[k]));
}

const base = { dry_run: '', component: 'apiserver' };
const pods = { ...base, group: '', version: 'v1', resource: 'pods' };

test.serial('each kind of request is counted under Kubernetes\' labels, and timed', async (t) => {
  const api = cluster.api;
  t.is((await api.get('/api/v1/namespaces/default/configmaps')).status, 200);
  t.is((await api.get('/apis/scheduling.k8s.io/v1/priorityclasses/system-node-critical')).status, 200);
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'counted' }, spec: { containers: [{ name: 'c', image: 'busybox:latest' }] } };
  const created = await api.post('/api/v1/namespaces/default/pods', pod);
  t.is(created.status, 201, JSON.stringify(created.body));
  const status = await api.put('/api/v1/namespaces/default/pods/counted/status', { ...created.body, status: { ...created.body.status, message: 'counted' } });
  t.is(status.status, 200, JSON.stringify(status.body));
  const applied = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/applied?fieldManager=metrics-test', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { a: '1' } }, 'application/apply-patch+yaml');
  t.is(applied.status, 201, JSON.stringify(applied.body));
  t.is((await api.get('/api/v1/namespaces/default/pods/missing')).status, 404);
  t.is((await api.get('/api/v1/widgets')).status, 404);

  // A watch, read until its first event, then hung up on by the client: it never finishes, and
  // is counted once the connection closes.
  const hangUp = new AbortController();
  const watch = await cluster.fetch(`${cluster.apiUrls[0]}/api/v1/namespaces/default/pods?watch=1`, { signal: hangUp.signal });
  t.is(watch.status, 200);
  const reader = watch.body!.getReader();
  t.regex(new TextDecoder().decode((await reader.read()).value), /"type":"ADDED"/);
  hangUp.abort();

  const expected: [Record<string, string>, string][] = [
    [{ ...base, verb: 'LIST', group: '', version: 'v1', resource: 'configmaps', subresource: '', scope: 'namespace' }, '200'],
    [{ ...base, verb: 'GET', group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', subresource: '', scope: 'resource' }, '200'],
    [{ ...pods, verb: 'POST', subresource: '', scope: 'resource' }, '201'],
    [{ ...pods, verb: 'PUT', subresource: 'status', scope: 'resource' }, '200'],
    [{ ...base, verb: 'APPLY', group: '', version: 'v1', resource: 'configmaps', subresource: '', scope: 'resource' }, '201'],
    [{ ...pods, verb: 'GET', subresource: '', scope: 'resource' }, '404'],
    [{ ...base, verb: 'GET', group: '', version: '', resource: '', subresource: 'other', scope: '' }, '404'],
    [{ ...pods, verb: 'WATCH', subresource: '', scope: 'namespace' }, '200'],
  ];
  const all = await eventually(async () => {
    const scraped = await scrape();
    return find(scraped, 'apiserver_request_total', { ...expected.at(-1)![0], code: '200' }) ? scraped : undefined;
  }, { timeoutMs: 10_000, message: 'the closed watch counted' });
  for (const [labels, code] of expected) {
    const counted = find(all, 'apiserver_request_total', { ...labels, code });
    t.is(counted?.value, 1, `apiserver_request_total ${JSON.stringify({ ...labels, code })}`);
    const timed = find(all, 'apiserver_request_duration_seconds_count', labels);
    t.is(timed?.value, 1, `apiserver_request_duration_seconds_count ${JSON.stringify(labels)}`);
    t.is(find(all, 'apiserver_request_duration_seconds_bucket', { ...labels, le: '+Inf' })?.value, 1);
  }
  // Labels take few values: resources are the served plurals, never a namespace or a version.
  const resources = new Set(all.filter((s) => s.name === 'apiserver_request_total').map((s) => s.labels.resource));
  t.deepEqual([...resources].filter((r) => !['', 'pods', 'configmaps', 'namespaces', 'priorityclasses'].includes(r)), [], [...resources].join());
});
