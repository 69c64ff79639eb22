// YAML request bodies: a large one is parsed on a worker thread (a real one), with the same result
// and the same errors as the event loop's own parse, and the event loop goes on meanwhile.
import test from 'ava';
import { stringify } from 'yaml';
import { decodeBody } from '../../services/api/request.ts';
import { prepareYamlBody, preparedYaml, WORKER_THRESHOLD_BYTES } from '../../services/api/yaml-body.ts';
import { ApiError } from '../../shared/errors.ts';

const YAML = 'application/yaml';

/** A ConfigMap of about `bytes` of block-style YAML (not JSON). */
function largeManifest(bytes: number): { text: string; value: unknown } {
  const data: Record<string, string> = {};
  for (let i = 0; bytes > 0; i++, bytes -= 60) data[`key-${i}`] = `value ${i} ${'x'.repeat(40)}`;
  const value = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', labels: { app: 'yaml' } }, data };
  return { text: stringify(value), value };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return `${err.code} ${err.message}`;
    throw err;
  }
  return 'accepted';
}

test.serial('a large YAML body is parsed on the worker thread, and decodes to what the event loop would make of it', async (t) => {
  const { text, value } = largeManifest(300_000);
  const raw = Buffer.from(text);
  await prepareYamlBody(raw, YAML);
  t.truthy(preparedYaml(raw), 'parsed ahead');
  t.deepEqual(decodeBody(raw, YAML), value);
  // The same text, not prepared: parsed where it is decoded, to the same value.
  t.deepEqual(decodeBody(Buffer.from(text), YAML), value);
});

test.serial('errors are the same from the worker: two documents, a duplicate key, an alias bomb', async (t) => {
  const { text } = largeManifest(WORKER_THRESHOLD_BYTES);
  const bomb = ['a: &a [x,x,x,x,x,x,x,x,x]'].concat('bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)).join('\n');
  for (const bad of [`${text}---\n${text}`, `${text}data:\n  again: 1\n`, `${bomb}\n${text.replace(/^/gm, '# ')}`]) {
    const prepared = Buffer.from(bad);
    await prepareYamlBody(prepared, YAML);
    t.truthy(preparedYaml(prepared));
    const fromWorker = refusal(() => decodeBody(prepared, YAML));
    t.regex(fromWorker, /^400 yaml: /);
    t.is(fromWorker, refusal(() => decodeBody(Buffer.from(bad), YAML)));
  }
});

test.serial('small bodies, JSON and other media types are left to the event loop', async (t) => {
  const small = Buffer.from('a: 1\n');
  await prepareYamlBody(small, YAML);
  t.is(preparedYaml(small), undefined);
  const json = Buffer.from(JSON.stringify(largeManifest(200_000).value));
  await prepareYamlBody(json, 'application/apply-patch+yaml');
  t.is(preparedYaml(json), undefined);
  const notYaml = Buffer.from(largeManifest(200_000).text);
  await prepareYamlBody(notYaml, 'application/json');
  t.is(preparedYaml(notYaml), undefined);
});

test.serial('while a 1 MB YAML body is parsed, the event loop keeps running (about a second of work on the loop before)', async (t) => {
  const { text } = largeManifest(1_000_000);
  const raw = Buffer.from(text);
  let longestGapMs = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
  }, 10);
  const started = performance.now();
  await prepareYamlBody(raw, YAML);
  const parseMs = performance.now() - started;
  clearInterval(ticker);
  t.truthy(preparedYaml(raw));
  t.log(`parsed in ${parseMs.toFixed(0)} ms on the worker; the loop's longest gap ${longestGapMs.toFixed(0)} ms`);
  t.true(longestGapMs < Math.max(150, parseMs / 4), `the loop stopped for ${longestGapMs.toFixed(0)} ms of a ${parseMs.toFixed(0)} ms parse`);
});
