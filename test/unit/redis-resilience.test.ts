// The pure decisions behind Wharf's behaviour when Redis fails: which failures a client sees as
// 503 or 504, and when an outage is worth a log line. The failures are real ioredis errors, made
// without a Redis: a port nothing listens on, and a server that accepts connections and never
// answers.
import test from 'ava';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { ApiError, ConflictError, REQUEST_DEADLINE_EXCEEDED, TimeoutError, storeFailure, toStatus } from '../../shared/errors.ts';
import { OutageState } from '../../shared/redis.ts';
import { freePort } from '../helpers/cluster.ts';

/** The error a command on this connection fails with. */
async function failureOf(connection: Redis, command: () => Promise<unknown>): Promise<Error> {
  try {
    await command();
  } catch (err) {
    return err as Error;
  } finally {
    connection.disconnect();
  }
  throw new Error('the command did not fail');
}

/** A TCP server that accepts connections and never says a word, as a SIGSTOPped Redis. */
async function silentServer(): Promise<{ port: number; server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server, sockets };
}

test('a command refused because Redis is unreachable is a 503 ServiceUnavailable Status that says when to retry', async (t) => {
  const port = await freePort();
  const connection = new Redis({ port, host: '127.0.0.1', enableOfflineQueue: false, retryStrategy: () => 50 });
  connection.on('error', () => undefined);
  const err = await failureOf(connection, () => connection.get('x'));
  const status = toStatus(err);
  t.like(status, { kind: 'Status', status: 'Failure', code: 503, reason: 'ServiceUnavailable', details: { retryAfterSeconds: 1 } });
  t.regex(status.message, /state store is unreachable/);
});

test('a command that was waiting when the connection failed (no retries) is a 503', async (t) => {
  const port = await freePort();
  const connection = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  connection.on('error', () => undefined);
  const err = await failureOf(connection, () => connection.get('x'));
  t.is(err.name, 'MaxRetriesPerRequestError');
  t.like(toStatus(err), { code: 503, reason: 'ServiceUnavailable' });
});

test('a command a hung Redis never answers is a 504 Timeout', async (t) => {
  const silent = await silentServer();
  const connection = new Redis({ port: silent.port, host: '127.0.0.1', commandTimeout: 100, retryStrategy: () => 50 });
  connection.on('error', () => undefined);
  const err = await failureOf(connection, () => connection.get('x'));
  const status = toStatus(err);
  t.like(status, { code: 504, reason: 'Timeout' });
  t.regex(status.message, /^Timeout: request did not complete within requested timeout/);
  for (const s of silent.sockets) s.destroy();
  silent.server.close();
});

test('a command Redis refused, and any other error, is not a store outage', (t) => {
  t.is(storeFailure(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')), undefined);
  t.is(storeFailure('a string'), undefined);
  t.like(toStatus(new Error('boom')), { code: 500, reason: 'InternalError' });
  // An ApiError keeps its own Status.
  t.like(toStatus(new ConflictError('configmaps', 'x')), { code: 409, reason: 'Conflict' });
});

test("the request deadline's Status is Kubernetes' words", (t) => {
  const status = toStatus(new TimeoutError(REQUEST_DEADLINE_EXCEEDED));
  t.deepEqual(status, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Timeout: request did not complete within the allotted timeout', reason: 'Timeout', code: 504 });
  t.true(new TimeoutError('x') instanceof ApiError);
});

test('an outage is one line when the first connection fails and one when none fails any more', (t) => {
  const state = new OutageState(60_000);
  const [a, b] = [{}, {}];
  t.deepEqual(state.failed(a, 'connect ECONNREFUSED', 1_000), { kind: 'started', message: 'connect ECONNREFUSED' });
  // Every further failure of any connection, within the minute, is silent.
  for (let now = 1_100; now < 30_000; now += 100) t.is(state.failed(now % 200 ? a : b, 'connect ECONNREFUSED', now), undefined);
  t.true(state.down);
  // a is back, b still fails: still down.
  t.is(state.recovered(a, 31_000), undefined);
  t.deepEqual(state.recovered(b, 32_000), { kind: 'ended', downMs: 31_000, errors: 290 });
  t.false(state.down);
  // A connection that is ready while nothing failed says nothing.
  t.is(state.recovered(a, 33_000), undefined);
});

test('a long outage is recalled once a reminder interval, not once a retry', (t) => {
  const state = new OutageState(60_000);
  const c = {};
  const reports = [];
  for (let now = 0; now <= 150_000; now += 500) reports.push(state.failed(c, 'connect ECONNREFUSED', now));
  t.deepEqual(reports.filter(Boolean).map((r) => r!.kind), ['started', 'ongoing', 'ongoing']);
  t.like(reports.filter(Boolean)[2], { downMs: 120_000 });
});

test('a connection closed for good neither holds an outage open nor ends it; the next one to reach Redis does', (t) => {
  const state = new OutageState();
  const [dying, other] = [{}, {}];
  state.failed(dying, 'connect ECONNREFUSED', 0);
  state.closed(dying);
  t.true(state.down, 'closing a failing connection is no sign that Redis is back');
  t.like(state.recovered(other, 5_000), { kind: 'ended', downMs: 5_000 });
});
