// A fuzz suite of the API: a few thousand generated requests — wrong types in every field of the
// main kinds, odd values, unknown and duplicate fields, malformed JSON, YAML and protobuf, wrong
// content types, invalid patches of all four types, garbage selectors, forged continue tokens, odd
// resourceVersions, paths, subresources and DeleteOptions — against one API server over a real
// redis-server. Every answer must be a 2xx or a 4xx Kubernetes Status (a request Kubernetes refuses
// must be a 4xx), none may take 5 s, a refused request must leave the store as it was, /healthz must
// answer within 1 s throughout, and the API server's memory must stay bounded.
//
// The requests come from a seeded generator (test/helpers/fuzz-requests.ts): the seed is printed,
// and WHARF_FUZZ_SEED=<seed> replays a run request for request; WHARF_FUZZ_SCALE=<n> runs n times
// more of each class (for a deeper run than CI's).
import test from 'ava';
import { randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { snapshotDifference, storeSnapshot } from '../helpers/store-snapshot.ts';
import { FUZZ_KINDS, FUZZ_NAMESPACE, fixtureName } from '../helpers/fuzz-manifests.ts';
import { encode, generate, reproduce, type FuzzBatch, type FuzzRequest } from '../helpers/fuzz-requests.ts';
import { Keys } from '../../shared/keys.ts';

const SEED = process.env.WHARF_FUZZ_SEED ? Number(process.env.WHARF_FUZZ_SEED) : randomInt(2 ** 31);
/** More of each class of requests, for a deeper run than CI's (4 visits every field: about 8,000 requests in 40 s). */
const SCALE = Number(process.env.WHARF_FUZZ_SCALE ?? 1);
/** How long any request may take to be answered (a watch: to start streaming). */
const REQUEST_TIMEOUT_MS = 5_000;
const HEALTH_BUDGET_MS = 1_000;
const HEALTH_INTERVAL_MS = 100;
/** The API server's peak resident memory may not pass this (it starts near 180 MiB, and peaked near 280 MiB in the runs so far). */
const PEAK_RSS_LIMIT_KIB = 512 * 1024;

let cluster: Cluster;
let redis: Redis;

test.before(async () => {
  // Only the API server: no controllers, so the store holds exactly what the requests write.
  cluster = await startCluster({ schedulers: 0, controllerManagers: 0 });
  redis = new Redis(cluster.redis.url);
  // Privileged: the fixtures' pods hold every field a PodSpec may (an unsafe sysctl among them),
  // which the default baseline Pod Security level would refuse before the fuzzer got to them.
  const created = await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: FUZZ_NAMESPACE, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } });
  if (created.status !== 201) throw new Error(`namespace ${FUZZ_NAMESPACE}: ${JSON.stringify(created.body)}`);
  // The fixtures: the objects each kind's refusal-expected requests aim at.
  for (const k of FUZZ_KINDS) {
    const res = await cluster.api.post(k.collection, k.manifest(fixtureName(k)));
    if (res.status !== 201) throw new Error(`fixture ${k.label}: ${JSON.stringify(res.body).slice(0, 500)}`);
  }
});

test.after.always(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

/** How long a watch is read for its first event before the fuzzer hangs up. */
const FIRST_EVENT_MS = 300;

interface Answer {
  status: number;
  /** The body; of a watch, the first event (if one came within FIRST_EVENT_MS). */
  body: string;
  streaming: boolean;
  elapsedMs: number;
  /** Set when no answer came within REQUEST_TIMEOUT_MS, or the connection failed. */
  error?: string;
}

async function send(r: FuzzRequest): Promise<Answer> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const res = await cluster.fetch(`${cluster.api.base}${r.path}`, { method: r.method, headers: r.headers, body: r.body, signal: controller.signal });
    // A watch or a log stream answers without a length and goes on: its head and first event are the answer.
    if (res.status < 300 && res.headers.get('content-length') === null) {
      const body = await firstLine(res);
      controller.abort();
      return { status: res.status, body, streaming: true, elapsedMs: performance.now() - started };
    }
    const body = await res.text();
    return { status: res.status, body, streaming: false, elapsedMs: performance.now() - started };
  } catch (err) {
    const error = controller.signal.aborted ? `no answer within ${REQUEST_TIMEOUT_MS} ms` : String((err as Error).cause ?? err);
    return { status: 0, body: '', streaming: false, elapsedMs: performance.now() - started, error };
  } finally {
    clearTimeout(timer);
  }
}

/** The first line a stream sends within FIRST_EVENT_MS ('' if none). */
async function firstLine(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + FIRST_EVENT_MS;
  while (!text.includes('\n') && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.max(0, deadline - Date.now())))]);
    if (!chunk || chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  void reader.cancel().catch(() => {});
  return text.includes('\n') ? text.slice(0, text.indexOf('\n')) : '';
}

/** What is wrong with an answer as an answer (whatever was expected), if anything. */
function answerProblem(a: Answer): string | undefined {
  if (a.error) return a.error;
  if (a.status >= 500) return `a ${a.status}`;
  if (a.status >= 400) {
    let status: any;
    try {
      status = JSON.parse(a.body);
    } catch {
      return `a ${a.status} whose body is no JSON`;
    }
    const ok = status?.kind === 'Status' && status.apiVersion === 'v1' && status.status === 'Failure' && status.code === a.status && typeof status.reason === 'string' && status.reason && typeof status.message === 'string' && status.message;
    return ok ? undefined : `a ${a.status} whose body is no Status with code, reason and message`;
  }
  if (a.status < 200 || a.status >= 300) return `a ${a.status}`;
  if (a.streaming && !a.body) return undefined;
  let body: any;
  try {
    body = JSON.parse(a.body);
  } catch {
    return a.streaming ? 'a watch whose first event is no JSON' : `a ${a.status} whose body is no JSON`;
  }
  if (a.streaming && !(typeof body?.type === 'string' && body.object && typeof body.object === 'object')) return 'a watch whose first event is no watch event';
  return undefined;
}

/** Polls /healthz from a thread of its own, so that the fuzzer's own work never delays a poll. */
function startHealthPoller(url: string): { stop(): Promise<{ polls: number; slow: { at: number; ms: number; error?: string }[]; maxMs: number }> } {
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const https = require('node:https');
    // Over HTTPS with the cluster CA, one kept-alive connection as fetch would keep.
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const poll = () => new Promise((resolve) => {
      const req = https.get(workerData.url, { ca: workerData.ca, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(res.statusCode === 200 && text === 'ok' ? undefined : 'answered ' + res.statusCode + ' ' + text.slice(0, 100)));
        res.on('error', (err) => resolve(String(err)));
      });
      const timer = setTimeout(() => req.destroy(new Error('no answer within ' + workerData.budget + ' ms')), workerData.budget);
      req.on('close', () => clearTimeout(timer));
      req.on('error', (err) => resolve(err.message));
    });
    const slow = [];
    let polls = 0, maxMs = 0, stopped = false;
    (async () => {
      while (!stopped) {
        const at = Date.now();
        const started = performance.now();
        const error = await poll();
        const ms = performance.now() - started;
        polls++;
        maxMs = Math.max(maxMs, ms);
        if (error || ms > workerData.budget) slow.push({ at, ms: Math.round(ms), error });
        await new Promise((r) => setTimeout(r, workerData.interval));
      }
      parentPort.postMessage({ polls, slow, maxMs: Math.round(maxMs) });
    })();
    parentPort.on('message', () => { stopped = true; });
  `, { eval: true, workerData: { url, ca: cluster.ca, budget: HEALTH_BUDGET_MS, interval: HEALTH_INTERVAL_MS } });
  return {
    stop: () => new Promise((resolve, reject) => {
      worker.once('message', (m) => {
        void worker.terminate();
        resolve(m);
      });
      worker.once('error', reject);
      worker.postMessage('stop');
    }),
  };
}

const keys = () => new Keys(cluster.prefix);
const resourceVersion = async () => redis.get(keys().resourceVersion);
const snapshot = () => storeSnapshot(redis, cluster.prefix);

/** What the run found, each finding cut to read in the test's log and whole (every byte of each body) for a file. */
class Findings {
  readonly cut: string[] = [];
  readonly whole: string[] = [];

  add(why: string, requests: FuzzRequest[], a?: Answer): void {
    const answer = a ? `\n  answer: ${a.status} ${a.body.slice(0, 400)}` : '';
    this.cut.push(`${why}:\n${requests.map((r) => reproduce(r)).join('\n') || '(none)'}${answer}`);
    this.whole.push(`${why}:\n${requests.map((r) => reproduce(r, true)).join('\n') || '(none)'}${answer}`);
  }

  /** Writes every finding whole to a file of its own, and returns its path. */
  save(seed: number): string {
    const path = join(mkdtempSync(join(tmpdir(), 'wharf-fuzz-')), `failures-${seed}.txt`);
    writeFileSync(path, this.whole.join('\n\n'));
    return path;
  }
}

interface Sent {
  at: number;
  until: number;
  r: FuzzRequest;
  ms: number;
}

/**
 * Sends one batch, request after request, and checks each answer, and the store after each refusal:
 * a refused or harmless request may not move the resourceVersion; one marked snapshotAround may not
 * change anything; and a batch that wrote nothing must leave the whole store as it found it.
 */
async function runBatch(batch: FuzzBatch, findings: Findings, sent: Sent[], tally: Record<string, number>): Promise<void> {
  for (const r of batch.setup ?? []) {
    const a = await send(r);
    if (a.status < 200 || a.status >= 300) findings.add('the setup of a batch failed', [r], a);
  }
  const baseline = await snapshot();
  let wrote = false;
  for (const r of batch.requests) {
    const rvBefore = await resourceVersion();
    const around = r.snapshotAround ? await snapshot() : undefined;
    const at = Date.now();
    const a = await send(r);
    sent.push({ at, until: Date.now(), r, ms: a.elapsedMs });
    const accepted = a.status >= 200 && a.status < 300;
    const outcome = a.error ? 'no answer' : accepted ? (r.harmless ? 'accepted (changing nothing)' : 'accepted') : `refused ${a.status}`;
    tally[outcome] = (tally[outcome] ?? 0) + 1;
    const problem = answerProblem(a);
    if (problem) findings.add(problem, [r], a);
    else if (r.expect === 'refuse' && accepted) findings.add('accepted a request Kubernetes refuses', [r], a);
    else if (r.expect === 'succeed' && !accepted) findings.add('refused a valid request', [r], a);
    if (accepted && !r.harmless) {
      wrote = true;
      continue;
    }
    const rvAfter = await resourceVersion();
    if (rvAfter !== rvBefore) findings.add(`${accepted ? 'a request that changes nothing' : 'a refused request'} moved the resourceVersion from ${rvBefore} to ${rvAfter}`, [r], a);
    if (around !== undefined) {
      const after = await snapshot();
      if (after !== around) findings.add(`a refused request changed the store ${snapshotDifference(around, after)}`, [r], a);
    }
  }
  if (!wrote) {
    const after = await snapshot();
    if (after !== baseline) findings.add(`batch "${batch.name}" changed the store though it wrote nothing ${snapshotDifference(baseline, after)}; its requests`, batch.requests);
  }
}

test.serial('no generated request hurts the API server', async (t) => {
  t.timeout(240_000);
  const { batches, count } = generate(SEED, SCALE);
  const replay = `WHARF_FUZZ_SEED=${SEED}${SCALE === 1 ? '' : ` WHARF_FUZZ_SCALE=${SCALE}`}`;
  t.log(`seed ${SEED} (replay with ${replay}): ${count} requests in ${batches.length} batches`);
  console.log(`api-fuzz: seed ${SEED}, ${count} requests`);
  const api = cluster.services.find((s) => s.label === 'api-0')!;
  const memoryBefore = api.memory();
  const findings = new Findings();
  const sent: Sent[] = [];
  const tally: Record<string, number> = {};

  const poller = startHealthPoller(`${cluster.api.base}/healthz`);
  const started = performance.now();
  for (const batch of batches) await runBatch(batch, findings, sent, tally);
  const seconds = (performance.now() - started) / 1000;
  const health = await poller.stop();
  const memoryAfter = api.memory();

  for (const slow of health.slow) {
    const during = sent.filter((e) => e.until >= slow.at - HEALTH_BUDGET_MS && e.at <= slow.at + slow.ms).map((e) => e.r);
    findings.add(`/healthz took ${slow.ms} ms${slow.error ? ` (${slow.error})` : ''} while these requests ran`, during);
  }
  const figures = `${count} requests in ${seconds.toFixed(1)} s (${Math.round(count / seconds)}/s); ${JSON.stringify(tally)}; /healthz polled ${health.polls} times, slowest ${health.maxMs} ms; API server RSS ${Math.round(memoryBefore.rssKiB / 1024)} MiB before, ${Math.round(memoryAfter.rssKiB / 1024)} MiB after, peak ${Math.round(memoryAfter.peakKiB / 1024)} MiB`;
  const slowest = [...sent].sort((a, b) => b.ms - a.ms).slice(0, 5).map((e) => `${Math.round(e.ms)} ms: ${e.r.what}`);
  t.log(`${figures}\nslowest requests:\n${slowest.join('\n')}`);
  console.log(`api-fuzz: ${figures}`);
  if (findings.cut.length) t.log(`${findings.cut.length} failures (${replay}), all of them whole in ${findings.save(SEED)}; the first 40:\n\n${findings.cut.slice(0, 40).join('\n\n')}`);
  t.is(findings.cut.length, 0, `${findings.cut.length} failures; replay with ${replay}`);
  t.true(memoryAfter.peakKiB < PEAK_RSS_LIMIT_KIB, `the API server's peak RSS is ${memoryAfter.peakKiB} KiB`);
  t.is(api.ended(), undefined, 'the API server still runs');
});

test.serial('after the fuzzing, every fixture still reads, updates and deletes', async (t) => {
  for (const k of FUZZ_KINDS) {
    const path = `${k.collection}/${fixtureName(k)}`;
    const got = await cluster.api.get(path);
    t.is(got.status, 200, `${k.label}: ${JSON.stringify(got.body).slice(0, 300)}`);
    const patched = await cluster.api.request('PATCH', path, encode({ metadata: { labels: { after: 'fuzz' } } }), 'application/merge-patch+json');
    t.is(patched.status, 200, `${k.label}: ${JSON.stringify(patched.body).slice(0, 300)}`);
    const deleted = await cluster.api.delete(path);
    t.is(deleted.status, 200, `${k.label}: ${JSON.stringify(deleted.body).slice(0, 300)}`);
  }
});
