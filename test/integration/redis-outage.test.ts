// Every request the API server takes is answered within a bounded time, whatever Redis does:
// while Redis is down (crashed) each verb gets a 503 ServiceUnavailable Status at once and
// /readyz says 503 from the connection's state; while Redis hangs (SIGSTOP) each gets a 504
// Timeout or 503 within the command timeout; /healthz answers throughout; once Redis is back
// everything works, and each process logged the outage once when it began and once when it ended,
// never a raw ioredis stack. The request deadline bounds what the command timeout does not, and a
// client that sends half a body is cut off, while watches outlive both.
//
// What a client may conclude from a failed write: a 503 means the write never reached Redis (the
// API server queues nothing and re-sends nothing), so it was not applied; a 504 means the outcome
// is unknown, as on Kubernetes after a storage timeout: Redis may still apply it, once, when it
// resumes. Both are tested below.
import test from 'ava';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { startCluster, eventually, freePort, type Cluster, type ServiceHandle } from '../helpers/cluster.ts';

let cluster: Cluster;

/** A Redis command gets this long (WHARF_API_REDIS_TIMEOUT) before its request fails with 504. */
const REDIS_TIMEOUT_MS = 1_000;
/** "At once": well under a second's work, with room for a loaded 2-core machine. */
const QUICK_MS = 1_500;
/** A hung Redis: the command timeout, plus the same room. */
const HUNG_MS = REDIS_TIMEOUT_MS + QUICK_MS;

const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';
const cm = (name: string, data: Record<string, string> = { v: '1' }) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

test.before(async () => {
  cluster = await startCluster({ env: { WHARF_API_REDIS_TIMEOUT: `${REDIS_TIMEOUT_MS}ms` } });
});

test.after.always(async () => {
  await cluster?.stop();
});

interface Timed {
  status: number;
  body: any;
  ms: number;
  retryAfter: string | null;
}

/** One request, timed; a request that takes over 20 s fails the test rather than hanging it. */
async function timed(method: string, path: string, body?: unknown, contentType = 'application/json', base = cluster.apiUrls[0]): Promise<Timed> {
  const started = Date.now();
  const res = await cluster.fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, ms: Date.now() - started, retryAfter: res.headers.get('retry-after') };
}

/** The five verbs against one ConfigMap, and a create of another. */
function everyVerb(name: string, created: string, base?: string): Record<string, () => Promise<Timed>> {
  return {
    get: () => timed('GET', `${CONFIGMAPS}/${name}`, undefined, undefined, base),
    list: () => timed('GET', CONFIGMAPS, undefined, undefined, base),
    post: () => timed('POST', CONFIGMAPS, cm(created), undefined, base),
    patch: () => timed('PATCH', `${CONFIGMAPS}/${name}`, { data: { v: 'patched' } }, 'application/merge-patch+json', base),
    delete: () => timed('DELETE', `${CONFIGMAPS}/${name}`, undefined, undefined, base),
  };
}

function api(): ServiceHandle {
  return cluster.services.find((s) => s.label === 'api-0')!;
}

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

async function untilReady(base = cluster.apiUrls[0]): Promise<void> {
  await eventually(async () => (await cluster.fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) })).status === 200, { timeoutMs: 30_000, message: `${base}/readyz`, detail: cluster.dumpLogs });
}

/** Everything works: every verb, on a fresh object. */
async function assertEverythingWorks(t: any, name: string): Promise<void> {
  t.is((await timed('POST', CONFIGMAPS, cm(name))).status, 201);
  t.is((await timed('GET', `${CONFIGMAPS}/${name}`)).status, 200);
  t.true((await timed('GET', CONFIGMAPS)).body.items.some((o: any) => o.metadata.name === name));
  t.is((await timed('PATCH', `${CONFIGMAPS}/${name}`, { data: { v: '2' } }, 'application/merge-patch+json')).body.data.v, '2');
  t.is((await timed('DELETE', `${CONFIGMAPS}/${name}`)).status, 200);
}

test.serial('while Redis is down every verb is a quick 503 Status, /readyz is 503 at once, and a write answered 503 was not applied', async (t) => {
  t.is((await timed('POST', CONFIGMAPS, cm('kept'))).status, 201);
  const logsBefore = cluster.services.map((s) => s.logs().length);

  await cluster.redis.signal('SIGKILL');
  const down = Date.now();
  const answers: Record<string, Timed> = {};
  for (const [verb, send] of Object.entries(everyVerb('kept', 'sent-while-down'))) answers[verb] = await send();
  t.log(`down: ${Object.entries(answers).map(([verb, a]) => `${verb} ${a.status} ${a.ms} ms`).join(', ')}`);
  for (const [verb, a] of Object.entries(answers)) {
    t.is(a.status, 503, `${verb}: ${JSON.stringify(a.body)}`);
    t.like(a.body, { kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503 }, verb);
    t.is(a.retryAfter, '1', `${verb} says when to retry`);
    t.true(a.ms < QUICK_MS, `${verb} took ${a.ms} ms`);
  }
  const readyz = await timed('GET', '/readyz');
  t.is(readyz.status, 503);
  t.true(readyz.ms < QUICK_MS, `/readyz took ${readyz.ms} ms`);
  const healthz = await timed('GET', '/healthz');
  t.is(healthz.status, 200);
  t.true(healthz.ms < QUICK_MS, `/healthz took ${healthz.ms} ms`);
  // Let every process's connections fail and retry a good many times over.
  await new Promise((r) => setTimeout(r, Math.max(0, 4_000 - (Date.now() - down))));

  await cluster.redis.restart();
  await untilReady();
  // The refused writes changed nothing.
  t.is((await timed('GET', `${CONFIGMAPS}/sent-while-down`)).status, 404, 'the create answered 503 was not applied');
  const kept = await timed('GET', `${CONFIGMAPS}/kept`);
  t.is(kept.status, 200, 'the delete answered 503 was not applied');
  t.deepEqual(kept.body.data, { v: '1' }, 'the patch answered 503 was not applied');
  await assertEverythingWorks(t, 'after-the-crash');

  // Each process (API server, scheduler, controller manager) logged the outage once when it began
  // and once when it ended, with no stack traces: 4 s of a dozen connections retrying.
  await eventually(() => cluster.services.every((s, i) => /Redis reachable again/.test(s.logs().slice(logsBefore[i]))), { message: 'every process saw Redis come back', detail: cluster.dumpLogs });
  for (const [i, s] of cluster.services.entries()) {
    const during = s.logs().slice(logsBefore[i]);
    t.is(count(during, /Unhandled error event/g), 0, `${s.label}:\n${during}`);
    t.is(count(during, /"msg":"Redis unreachable"/g), 1, `${s.label}:\n${during}`);
    t.is(count(during, /"msg":"Redis reachable again"/g), 1, `${s.label}:\n${during}`);
    t.false(/\n\s+at /.test(during), `${s.label} logged a stack trace:\n${during}`);
  }
  const apiLines = api().logs().slice(logsBefore[cluster.services.indexOf(api())]).split('\n').filter(Boolean);
  t.log(`the API server's log during the outage:\n${apiLines.join('\n')}`);
  t.true(apiLines.length <= 5, apiLines.join('\n'));
});

test.serial('while Redis hangs every verb is a 504 or 503 Status within the command timeout, /readyz is 503 and /healthz 200', async (t) => {
  t.is((await timed('POST', CONFIGMAPS, cm('kept-through-hang'))).status, 201);
  const logBefore = api().logs().length;
  await cluster.redis.signal('SIGSTOP');
  let resumed = false;
  try {
    const answers: [string, Timed][] = [];
    for (const [verb, send] of Object.entries(everyVerb('kept-through-hang', 'sent-while-hung'))) answers.push([verb, await send()]);
    t.log(`hung: ${answers.map(([verb, a]) => `${verb} ${a.status} ${a.ms} ms`).join(', ')}`);
    for (const [verb, a] of answers) {
      t.true(a.status === 504 || a.status === 503, `${verb}: ${a.status} ${JSON.stringify(a.body)}`);
      t.like(a.body, { kind: 'Status', status: 'Failure', reason: a.status === 504 ? 'Timeout' : 'ServiceUnavailable' }, verb);
      t.true(a.ms < HUNG_MS, `${verb} took ${a.ms} ms`);
    }
    // The first request found the connection up and waited out the command timeout; the
    // connection was then dropped, so the requests after it did not wait again.
    t.is(answers[0][1].status, 504, JSON.stringify(answers[0][1].body));
    t.regex(answers[0][1].body.message, /^Timeout: request did not complete within requested timeout/);
    const readyz = await timed('GET', '/readyz');
    t.is(readyz.status, 503);
    t.true(readyz.ms < QUICK_MS, `/readyz took ${readyz.ms} ms`);
    const healthz = await timed('GET', '/healthz');
    t.is(healthz.status, 200);
    t.true(healthz.ms < QUICK_MS, `/healthz took ${healthz.ms} ms`);
    const postAnswer = answers.find(([verb]) => verb === 'post')![1];

    await cluster.redis.signal('SIGCONT');
    resumed = true;
    await untilReady();
    const sent = await timed('GET', `${CONFIGMAPS}/sent-while-hung`);
    if (postAnswer.status === 503) t.is(sent.status, 404, 'a create answered 503 was not applied');
    else t.true(sent.status === 404 || sent.status === 200, 'a create answered 504 may have been applied');
    await assertEverythingWorks(t, 'after-the-hang');
    const during = api().logs().slice(logBefore);
    t.is(count(during, /Unhandled error event/g), 0, during);
    t.is(count(during, /"msg":"Redis unreachable"/g), 1, during);
    t.false(/\n\s+at /.test(during), during);
  } finally {
    if (!resumed) await cluster.redis.signal('SIGCONT');
  }
});

test.serial('the request deadline answers 504 where the command timeout is longer; a half-sent body is cut off; a watch outlives both', async (t) => {
  // A second API server whose Redis commands may wait 20 s, but whose requests may take only 2 s.
  const port = await freePort();
  const base = `https://127.0.0.1:${port}`;
  cluster.start('api', { WHARF_API_PORT: String(port), WHARF_API_HOST: '127.0.0.1', WHARF_API_REDIS_TIMEOUT: '20s', WHARF_API_REQUEST_TIMEOUT: '2s' }, 'api-deadline');
  await untilReady(base);
  t.is((await timed('POST', CONFIGMAPS, cm('deadline'), undefined, base)).status, 201);

  // A watch, open beyond the request timeout, still gets its events.
  const watch = await cluster.fetch(`${base}${CONFIGMAPS}?watch=true&resourceVersion=0`, { signal: AbortSignal.timeout(30_000) });
  const reader = watch.body!.getReader();
  const seen: string[] = [];
  let text = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += new TextDecoder().decode(value);
      let nl: number;
      while ((nl = text.indexOf('\n')) >= 0) {
        seen.push(JSON.parse(text.slice(0, nl)).object.metadata.name);
        text = text.slice(nl + 1);
      }
    }
  })().catch(() => undefined);

  // A client that sends its headers and half its body, then nothing: cut off within the
  // request timeout and the server's once-a-second check of it.
  const started = Date.now();
  const socket: TLSSocket = connectTls({ port, host: '127.0.0.1', ca: cluster.ca });
  let reply = '';
  socket.on('data', (d) => (reply += d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(`POST ${CONFIGMAPS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${cluster.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"apiVersion":"v1",`);
  await closed;
  const cutOffMs = Date.now() - started;
  t.true(cutOffMs < 2_000 + QUICK_MS, `cut off after ${cutOffMs} ms`);
  t.regex(reply, /^HTTP\/1\.1 (504|408)/, reply);

  await cluster.redis.signal('SIGSTOP');
  try {
    const answers = await Promise.all(Object.entries(everyVerb('deadline', 'sent-past-deadline', base)).map(async ([verb, send]) => [verb, await send()] as const));
    t.log(`past the deadline: ${answers.map(([verb, a]) => `${verb} ${a.status} ${a.ms} ms`).join(', ')}; half a body cut off after ${cutOffMs} ms`);
    for (const [verb, a] of answers) {
      t.is(a.status, 504, `${verb}: ${JSON.stringify(a.body)}`);
      t.deepEqual(a.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Timeout: request did not complete within the allotted timeout', reason: 'Timeout', code: 504 }, verb);
      t.true(a.ms >= 1_900 && a.ms < 2_000 + QUICK_MS, `${verb} took ${a.ms} ms`);
    }
  } finally {
    await cluster.redis.signal('SIGCONT');
  }
  await untilReady(base);
  t.true(Date.now() - started > 4_000, 'the watch has been open well beyond the request timeout');
  t.is((await timed('POST', CONFIGMAPS, cm('seen-by-the-old-watch'), undefined, base)).status, 201);
  await eventually(() => seen.includes('seen-by-the-old-watch'), { message: `the watch saw the new object: ${seen.join(', ')}` });
  await reader.cancel();
  await reading;
  const deadlineServer = cluster.services.find((s) => s.label === 'api-deadline')!;
  t.false(/"level":50/.test(deadlineServer.logs()), `no request failed with an error:\n${deadlineServer.logs()}`);
});
