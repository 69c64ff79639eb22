// No request can hurt the API server: each class of hostile or malformed input, sent through HTTP
// to a real API server over a real redis-server, gets a Kubernetes Status with the right code,
// leaves the store as it was, and leaves the server answering /healthz within a second.
import test from 'ava';
import { connect } from 'node:tls';
import { Redis } from 'ioredis';
import { startCluster, type ApiResponse, type Cluster } from '../helpers/cluster.ts';
import { storeSnapshot } from '../helpers/store-snapshot.ts';

let cluster: Cluster;
let redis: Redis;

const CMS = '/api/v1/namespaces/default/configmaps';
const configMap = (name: string, data: Record<string, string> = { a: '1' }) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

/** Everything Wharf stores, to prove that refused requests leave it unchanged. */
const snapshot = () => storeSnapshot(redis, cluster.prefix);

async function healthyWithinASecond(): Promise<boolean> {
  const res = await cluster.fetch(`${cluster.api.base}/healthz`, { signal: AbortSignal.timeout(1000) });
  return res.ok && (await res.text()) === 'ok';
}

/** The first `count` lines of a watch (or fewer if it ends), read for at most `timeoutMs`. */
function watchLines(path: string, count: number, timeoutMs = 5000): Promise<{ status: number; events: any[]; ended: boolean }> {
  return cluster.api.watch(path, (events) => events.length >= count, timeoutMs);
}

test.before(async () => {
  // Only the API server: no controllers, so the store holds exactly what the tests write.
  cluster = await startCluster({ schedulers: 0, controllerManagers: 0 });
  redis = new Redis(cluster.redis.url);
  for (const name of ['target', 'other']) {
    const created = await cluster.api.post(CMS, configMap(name));
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  }
});

test.after.always(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

type Case = [what: string, call: () => Promise<ApiResponse>, code: number, message?: string | RegExp];

async function refuses(t: any, cases: Case[]): Promise<void> {
  const before = await snapshot();
  for (const [what, call, code, message] of cases) {
    const res = await call();
    t.is(res.status, code, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
    t.like(res.body, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code }, what);
    if (typeof message === 'string') t.is(res.body.message, message, what);
    else if (message) t.regex(res.body.message, message, what);
    t.true(await healthyWithinASecond(), `${what}: the server answers /healthz within 1 s afterwards`);
  }
  t.is(await snapshot(), before, 'no refused request changed the store');
}

test.serial('a doubling chain of JSON patch copies is refused within a second, with bounded memory', async (t) => {
  const before = await snapshot();
  // 26 copies of the whole object into itself: 979 bytes that would make 2^26 copies of it.
  const ops = Array.from({ length: 26 }, (_, i) => ({ op: 'copy', from: '', path: `/c${i}` }));
  const body = JSON.stringify(ops);
  t.true(body.length < 1000, `${body.length} bytes`);
  const started = performance.now();
  const res = await cluster.api.patch(`${CMS}/target`, body, 'application/json-patch+json');
  const elapsed = performance.now() - started;
  t.is(res.status, 422, JSON.stringify(res.body));
  t.regex(res.body.message, /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/);
  t.true(elapsed < 1000, `refused in ${Math.round(elapsed)} ms`);
  t.true(await healthyWithinASecond());
  const { peakKiB } = cluster.services.find((s) => s.label === 'api-0')!.memory();
  // An unbounded chain drove an API server to 4 GB; this one never held more than a few copies of 3 MiB.
  t.true(peakKiB < 512 * 1024, `the API server's peak RSS is ${peakKiB} KiB`);
  t.is(await snapshot(), before);
});

test.serial('bodies: nesting, YAML alias bombs, JSON patch size, strategic merge directives, malformed paths and selectors', async (t) => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    .concat('bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`))
    .join('\n');
  const smp = (patch: unknown) => () => cluster.api.patch(`${CMS}/target`, patch, 'application/strategic-merge-patch+json');
  await refuses(t, [
    ['10,000-deep JSON', () => cluster.api.post(CMS, '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)), 400, 'json: exceeded max depth of 100'],
    ['101-deep JSON merge patch', () => cluster.api.patch(`${CMS}/target`, `{"data":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`), 400, 'json: exceeded max depth of 100'],
    ['100,000-deep YAML flow', () => cluster.api.post(CMS, '['.repeat(100_000), 'application/yaml'), 400, 'yaml: exceeded max depth of 100'],
    ['10,000-deep YAML sequence', () => cluster.api.post(CMS, '- '.repeat(10_000) + 'x', 'application/yaml'), 400, 'yaml: exceeded max depth of 100'],
    ['YAML alias bomb', () => cluster.api.post(CMS, bomb, 'application/yaml'), 400, /^yaml: Excessive alias count/],
    ['10,001 JSON patch operations', () => cluster.api.patch(`${CMS}/target`, Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/data/a', value: '1' })), 'application/json-patch+json'), 413,
      'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001'],
    ['$deleteFromPrimitiveList of a number', smp({ metadata: { '$deleteFromPrimitiveList/finalizers': 5 } }), 400, 'invalid patch format of primitive list'],
    ['$setElementOrder of a string', smp({ metadata: { '$setElementOrder/finalizers': 'a' } }), 400, 'invalid patch format of setElementOrder list'],
    ['$retainKeys of a number', smp({ data: { $retainKeys: 7 } }), 400, 'invalid patch format of retainKeys'],
    ['$patch: bogus', smp({ data: { $patch: 'bogus' } }), 400, 'unknown patch type: bogus in map'],
    ['malformed percent-encoding', () => cluster.api.get('/api/v1/namespaces/%zz/pods'), 400, 'invalid URL escape "%zz"'],
    ['label selector syntax', () => cluster.api.get(`${CMS}?labelSelector=${encodeURIComponent('a in (b')}`), 400, "unable to parse requirement: found '', expected: ',' or ')'"],
    ['label selector value', () => cluster.api.get(`${CMS}?labelSelector=${encodeURIComponent('a=b@c')}`), 400, /^unable to parse requirement: values\[0\]\[a\]: Invalid value: "b@c"/],
    ['field selector escape', () => cluster.api.get(`${CMS}?fieldSelector=${encodeURIComponent('metadata.name=a=b')}`), 400, 'invalid field selector: unescaped character in value: 61'],
    ['duplicate fields under Strict', () => cluster.api.request('POST', `${CMS}?fieldValidation=Strict`, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup2"}}'), 400,
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "metadata.name"'],
    ['duplicate fields in a patch under Strict', () => cluster.api.request('PATCH', `${CMS}/target?fieldValidation=Strict`, '{"data":{"a":"1","a":"2"}}', 'application/merge-patch+json'), 400,
      'strict decoding error: duplicate field "data.a"'],
  ]);
});

test.serial('a large YAML body (not JSON) is parsed off the event loop: /healthz answers all along, and the object is created', async (t) => {
  // 900 KB of data (a ConfigMap may hold 1 MiB) in block-style YAML: about a second of the YAML parser.
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: large-yaml', 'data:'];
  for (let i = 0; i < 15_000; i++) lines.push(`  key-${i}: value ${i} ${'x'.repeat(40)}`);
  const body = lines.join('\n');
  const posting = cluster.api.post(CMS, body, 'application/yaml');
  let slowestHealthMs = 0;
  let polls = 0;
  let done = false;
  void posting.finally(() => (done = true));
  while (!done) {
    const started = performance.now();
    t.true(await healthyWithinASecond(), 'the server answers /healthz within 1 s while it parses');
    slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
    polls++;
    await new Promise((r) => setTimeout(r, 50));
  }
  const res = await posting;
  t.is(res.status, 201, JSON.stringify(res.body).slice(0, 300));
  t.is(Object.keys(res.body.data).length, 15_000);
  t.log(`/healthz polled ${polls} times during the create, slowest ${slowestHealthMs.toFixed(0)} ms`);
  t.true(polls >= 2, `${polls} polls`);
  t.is((await cluster.api.delete(`${CMS}/large-yaml`)).status, 200);
});

test.serial('a duplicate field under Warn is a Warning header, as Kubernetes sends it', async (t) => {
  const res = await cluster.api.request('POST', `${CMS}?dryRun=All`, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup2"}}');
  t.is(res.status, 201);
  t.is(res.body.metadata.name, 'dup2');
  t.is(res.headers.get('warning'), '299 - "duplicate field \\"metadata.name\\""');
});

test.serial('lone surrogates become U+FFFD, so the object can still be updated and deleted', async (t) => {
  // Keys are replaced as well (see the unit tests), but a ConfigMap's keys must be plain names.
  const created = await cluster.api.post(CMS, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"surrogate","annotations":{"a":"\\udfff"}},"data":{"k":"v\\ud800x","pair":"\\ud83d\\ude00"}}');
  t.is(created.status, 201, JSON.stringify(created.body));
  t.deepEqual(created.body.data, { k: 'v\ufffdx', pair: '😀' });
  t.is(created.body.metadata.annotations.a, '\ufffd');
  const patched = await cluster.api.patch(`${CMS}/surrogate`, { data: { more: 'x' } });
  t.is(patched.status, 200, JSON.stringify(patched.body));
  t.is((await cluster.api.delete(`${CMS}/surrogate`)).status, 200);
});

test.serial('query parameters: integers as int64, resourceVersions, continue tokens, resourceVersionMatch', async (t) => {
  await refuses(t, [
    ['limit past int64', () => cluster.api.get(`${CMS}?limit=99999999999999999999`), 400, 'strconv.ParseInt: parsing "99999999999999999999": value out of range'],
    ['limit not a number', () => cluster.api.get(`${CMS}?limit=ten`), 400, 'strconv.ParseInt: parsing "ten": invalid syntax'],
    ['forged continue token', () => cluster.api.get(`${CMS}?limit=1&continue=${Buffer.from('{"rv":"x","start":5}').toString('base64url')}`), 400, /^invalid continue token: continue key is not valid: /],
    ['continue token of illegal base64', () => cluster.api.get(`${CMS}?limit=1&continue=%21%21`), 400, 'invalid continue token: continue key is not valid: illegal base64 data at input byte 0'],
    ['list from resourceVersion abc', () => cluster.api.get(`${CMS}?resourceVersion=abc`), 400, /^invalid resource version: resourceVersion: Invalid value: "abc"/],
    ['bad resourceVersionMatch', () => cluster.api.get(`${CMS}?resourceVersion=1&resourceVersionMatch=bogus`), 422, /resourceVersionMatch: Unsupported value: "bogus"/],
    ['timeoutSeconds past int64', () => cluster.api.get(`${CMS}?watch=true&timeoutSeconds=1e30`), 400, 'strconv.ParseInt: parsing "1e30": invalid syntax'],
  ]);
});

test.serial('a page\'s continue token leads to the next page', async (t) => {
  const first = await cluster.api.get(`${CMS}?limit=1`);
  t.truthy(first.body.metadata.continue);
  const second = await cluster.api.get(`${CMS}?limit=1&continue=${encodeURIComponent(first.body.metadata.continue)}`);
  t.is(second.status, 200);
  t.not(second.body.items[0].metadata.name, first.body.items[0].metadata.name);
});

test.serial('watches from a resourceVersion that is not one are 400s at once; a too old one is 410', async (t) => {
  for (const rv of ['abc', '-1', '1.5', '1e30']) {
    const started = performance.now();
    const res = await watchLines(`${CMS}?watch=true&resourceVersion=${rv}`, 1);
    t.is(res.status, 400, rv);
    t.like(res.events[0], { kind: 'Status', code: 400, reason: 'BadRequest' }, rv);
    t.regex(res.events[0].message, /^invalid resource version: /);
    t.true(performance.now() - started < 1000, `${rv}: answered in ${Math.round(performance.now() - started)} ms`);
  }
  await redis.set(`${cluster.prefix}:compacted:configmaps`, '1000000');
  const expired = await watchLines(`${CMS}?watch=true&resourceVersion=5`, 1);
  await redis.del(`${cluster.prefix}:compacted:configmaps`);
  t.like(expired.events[0], { type: 'ERROR', object: { code: 410, reason: 'Expired' } });
});

test.serial('booleans are true unless 0 or false: watch=True watches; watch=False lists', async (t) => {
  const watched = await watchLines(`${CMS}?watch=True&fieldSelector=metadata.name%3Dtarget`, 1);
  t.is(watched.status, 200);
  t.like(watched.events[0], { type: 'ADDED', object: { metadata: { name: 'target' } } });
  const listed = await cluster.api.get(`${CMS}?watch=False`);
  t.is(listed.body.kind, 'ConfigMapList');
  const zero = await cluster.api.get(`${CMS}?watch=0`);
  t.is(zero.body.kind, 'ConfigMapList');
});

test.serial('a huge timeoutSeconds keeps the watch open instead of overflowing the timer', async (t) => {
  const start = (await cluster.api.get(CMS)).body.metadata.resourceVersion;
  const pending = watchLines(`${CMS}?watch=true&resourceVersion=${start}&timeoutSeconds=9223372036854775807`, 1);
  // The watch has to be open before the write it waits for; a write every 100 ms until it reports one.
  let n = 0;
  const writer = setInterval(() => void cluster.api.post(CMS, configMap(`tick-${n++}`)), 100);
  const res = await pending;
  clearInterval(writer);
  t.is(res.status, 200);
  t.false(res.ended, 'the watch did not end at once');
  t.is(res.events[0]?.type, 'ADDED');
});

test.serial('legacy watch paths are watches; one of a named object sees only it', async (t) => {
  const all = await watchLines('/api/v1/watch/namespaces/default/configmaps', 2);
  t.is(all.status, 200);
  t.true(all.events.length >= 2 && all.events.every((e) => e.type === 'ADDED'), JSON.stringify(all).slice(0, 500));
  const cluster_wide = await watchLines('/api/v1/watch/configmaps', 1);
  t.is(cluster_wide.events[0]?.type, 'ADDED');
  const start = (await cluster.api.get(CMS)).body.metadata.resourceVersion;
  // It ends at its first event: a long bound costs nothing, and a machine loaded by the fuzz suite
  // beside it can take more than the default 5 s to deliver it (seen in CI).
  const one = watchLines(`/api/v1/watch/namespaces/default/configmaps/other?resourceVersion=${start}`, 1, 30_000);
  await new Promise((r) => setTimeout(r, 200)); // the watch reads from `start`, so no event is lost either way
  await cluster.api.patch(`${CMS}/target`, { data: { b: '2' } });
  await cluster.api.patch(`${CMS}/other`, { data: { b: '2' } });
  const events = (await one).events;
  t.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['MODIFIED other']);
  const apps = await watchLines('/apis/apps/v1/watch/namespaces/default/deployments?timeoutSeconds=1', 1, 3000);
  t.is(apps.status, 200);
  t.true(apps.ended, 'an empty watch ends at its timeout');
  await refuses(t, [
    ['a name and a field selector for another', () => cluster.api.get('/api/v1/watch/namespaces/default/configmaps/other?fieldSelector=metadata.name%3Dtarget'), 400, "fieldSelector metadata.name doesn't match requested name"],
    ['POST to a watch path', () => cluster.api.post('/api/v1/watch/namespaces/default/configmaps', configMap('nope')), 405],
  ]);
});

test.serial('resources Wharf does not serve are 404s as Kubernetes answers them', async (t) => {
  for (const path of ['/apis/autoscaling/v2beta2/namespaces/default/horizontalpodautoscalers', '/api/v1/namespaces/default/widgets', '/apis/nope/v1/things', '/api/v2']) {
    const res = await cluster.api.get(path);
    t.is(res.status, 404, path);
    t.like(res.body, { kind: 'Status', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' }, path);
    t.deepEqual(res.body.details.causes, [{ reason: 'UnexpectedServerResponse', message: '404 page not found', field: '' }], path);
  }
});

test.serial('DELETE bodies are decoded strictly as DeleteOptions; a refused one deletes nothing', async (t) => {
  const del = (body: string) => () => cluster.api.request('DELETE', `${CMS}/target`, body);
  await refuses(t, [
    ['a string', del('"just a string"'), 400, 'json: cannot unmarshal string into Go value of type v1.DeleteOptions'],
    ['a number', del('5'), 400, 'json: cannot unmarshal number 5 into Go value of type v1.DeleteOptions'],
    ['dryRun as a string', del('{"dryRun":"All"}'), 400, 'json: cannot unmarshal string into Go struct field DeleteOptions.dryRun of type []string'],
    ['gracePeriodSeconds 1e300', del('{"gracePeriodSeconds":1e300}'), 400, /gracePeriodSeconds of type int64$/],
    ['another kind', del('{"kind":"Pod","apiVersion":"v1"}'), 400, /^no kind "Pod" is registered/],
    ['unknown propagationPolicy', del('{"propagationPolicy":"Sometimes"}'), 422, /propagationPolicy: Unsupported value: "Sometimes"/],
    ['dryRun of an unknown value', del('{"dryRun":["Some"]}'), 422, /dryRun: Unsupported value/],
    ['query gracePeriodSeconds past int64', () => cluster.api.delete(`${CMS}/target?gracePeriodSeconds=99999999999999999999`), 400, /value out of range/],
  ]);
  t.is((await cluster.api.get(`${CMS}/target`)).status, 200, 'still there');
  const dryRun = await cluster.api.request('DELETE', `${CMS}/target`, '{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["All"]}');
  t.is(dryRun.status, 200);
  t.is((await cluster.api.get(`${CMS}/target`)).status, 200, 'a dry run deletes nothing');
  const withNull = await cluster.api.request('DELETE', `${CMS}/target`, '{"preconditions":null,"gracePeriodSeconds":null}');
  t.is(withNull.status, 200, JSON.stringify(withNull.body));
  t.is((await cluster.api.get(`${CMS}/target`)).status, 404);
  t.true(await healthyWithinASecond());
});

test.serial('an eviction whose body is a list is refused and evicts nothing', async (t) => {
  // Found by the API fuzz suite: `[]` passed for an Eviction with no options, and the pod went.
  const pods = '/api/v1/namespaces/default/pods';
  const created = await cluster.api.post(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'evictee' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } });
  t.is(created.status, 201, JSON.stringify(created.body));
  await refuses(t, [
    ['a list', () => cluster.api.post(`${pods}/evictee/eviction`, '[]'), 400, 'the body of an eviction must be a policy/v1 Eviction'],
    ['a list of Evictions', () => cluster.api.post(`${pods}/evictee/eviction`, [{ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evictee' } }]), 400, 'the body of an eviction must be a policy/v1 Eviction'],
  ]);
  t.is((await cluster.api.get(`${pods}/evictee`)).status, 200, 'the pod is still there');
});

/** Sends raw bytes to the API server (over TLS) and reads what it answers until it closes the connection. */
function rawRequest(text: string): Promise<string> {
  const { port } = new URL(cluster.api.base);
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(port), host: '127.0.0.1', ca: cluster.ca }, () => socket.write(text));
    let answer = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer within 5 s: ${answer}`)));
    socket.on('data', (d) => (answer += d));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

test.serial('requests the HTTP parser refuses are answered with a Status too', async (t) => {
  // Found by the API fuzz suite: Node answered an unknown method with a bare 400 and no body.
  const before = await snapshot();
  const method = await cluster.api.request('FROBNICATE', `${CMS}/target`);
  t.is(method.status, 405);
  t.like(method.body, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 405, reason: 'MethodNotAllowed', message: 'the server does not allow this method on the requested resource' });
  t.regex(await rawRequest('hello\r\n\r\n'), /^HTTP\/1\.1 405 Method Not Allowed\r\n/, 'a request line that is no HTTP names no method Node knows');
  const headers = await cluster.api.request('GET', `${CMS}/target`, undefined, undefined, { 'x-big': 'h'.repeat(20_000) });
  t.is(headers.status, 431);
  t.like(headers.body, { kind: 'Status', code: 431, reason: 'RequestEntityTooLarge' });
  for (const garbage of ['GET /a b HTTP/1.1\r\n\r\n', 'GET /api HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n', 'GET /api HTTP/9.9\r\n\r\n']) {
    const answer = await rawRequest(garbage);
    t.regex(answer, /^HTTP\/1\.1 400 Bad Request\r\n/, JSON.stringify(garbage));
    const status = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    t.like(status, { kind: 'Status', code: 400, reason: 'BadRequest' }, JSON.stringify(garbage));
    t.regex(status.message, /^malformed HTTP request: /);
  }
  t.true(await healthyWithinASecond());
  t.is(await snapshot(), before);
});
