// Parsing a YAML request body. The yaml library takes about a second a megabyte; on the event
// loop, a 3 MiB body would leave every other request of this API server (and /healthz) waiting for
// three seconds, where Kubernetes parses each request on a goroutine of its own. So a large body is
// parsed on a worker thread, before the handler runs (prepareYamlBody), and the handler's decoding
// finds the result there (preparedYaml); small bodies, and YAML bodies that are JSON, are decoded
// where they are, in microseconds. The same function parses in both places: the worker is given
// its source, so what a body decodes to, and the errors it gets, do not depend on its size.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { parseAllDocuments } from 'yaml';
import { checkYamlNesting, findDuplicateFields } from '../../shared/api/bounds.ts';

/** Aliases a YAML body may resolve: enough for any manifest, too few for an expansion bomb. */
export const MAX_YAML_ALIASES = 100;

/** From this size on, a YAML body that is not JSON is parsed on the worker thread. */
export const WORKER_THRESHOLD_BYTES = 64 * 1024;

/** The one document of a YAML body, or the first line of why it is not one (a 400's message, after "yaml: "). */
export type YamlOutcome = { value: unknown } | { error: string };

/**
 * Parses a YAML text of exactly one document. Self-contained (only its arguments, no closures, no
 * named inner functions): the worker thread runs it from its source text.
 */
export function parseYamlDocument(text: string, parseAll: typeof parseAllDocuments, maxAliases: number): YamlOutcome {
  const docs = parseAll(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const real = list.filter((d) => d.contents !== null);
  if (real.length !== 1) return { error: `expected exactly one document in the request body, found ${real.length}` };
  if (real[0].errors.length) return { error: real[0].errors[0].message.split('\n')[0] };
  try {
    return { value: real[0].toJS({ json: true, maxAliasCount: maxAliases }) };
  } catch (err) {
    // An alias bomb ("Excessive alias count ..."), or an alias of an alias nested past the stack.
    return { error: (err as Error).message.split('\n')[0] };
  }
}

/**
 * A YAML body that is JSON (what kubectl apply --server-side and most clients send), decoded as
 * JSON, as Kubernetes' YAML-or-JSON decoder sniffs it: the YAML parser takes about a second a
 * megabyte, JSON.parse 20 ms. Only when the two agree: a text JSON.parse refuses, or that names a
 * key twice (which YAML refuses and JSON.parse would let the last win), is left to the YAML parser.
 */
function jsonInYaml(text: string): unknown {
  if (!/^\s*[{[]/.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return findDuplicateFields(text).length ? undefined : value;
}

/**
 * A YAML body's one document, decoded where it is asked for: its nesting checked on the text
 * first (a 400 thrown past the limit), JSON read as JSON, anything else by the YAML parser.
 */
export function decodeYamlText(text: string): YamlOutcome {
  checkYamlNesting(text);
  const json = jsonInYaml(text);
  return json !== undefined ? { value: json } : parseYamlDocument(text, parseAllDocuments, MAX_YAML_ALIASES);
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { parseAllDocuments } = require(workerData.yamlModule);
// What a transpiler may wrap named functions in (esbuild's keepNames).
const __name = (f) => f;
const parse = (0, eval)('(' + workerData.parseSource + ')');
parentPort.on('message', ({ id, text }) => {
  let outcome;
  try {
    outcome = parse(text, parseAllDocuments, workerData.maxAliases);
  } catch (err) {
    outcome = { error: String(err && err.message || err).split('\\n')[0] };
  }
  parentPort.postMessage({ id, outcome });
});
`;

/** One worker thread, started on first use; a request's parse waits its turn there. */
class YamlWorker {
  private worker?: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, (outcome: YamlOutcome | undefined) => void>();

  /** The text's outcome; undefined when the worker failed under it. */
  parse(text: string): Promise<YamlOutcome | undefined> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    // Held while it parses (an idle worker must not keep the process alive).
    worker.ref();
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, text });
    });
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { yamlModule: createRequire(import.meta.url).resolve('yaml'), parseSource: parseYamlDocument.toString(), maxAliases: MAX_YAML_ALIASES },
    });
    worker.on('message', ({ id, outcome }: { id: number; outcome: YamlOutcome }) => {
      this.pending.get(id)?.(outcome);
      this.pending.delete(id);
      if (!this.pending.size) worker.unref();
    });
    const fail = () => {
      // Its 'error' and then its 'exit': only the first counts, and a newer worker is not this one.
      if (this.worker !== worker) return;
      // Whatever was in flight is parsed again where it was asked; the next large body starts a new worker.
      this.worker = undefined;
      for (const resolve of this.pending.values()) resolve(undefined);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return worker;
  }
}

const yamlWorker = new YamlWorker();
/** Outcomes parsed ahead, by the request body they are of. */
const prepared = new WeakMap<Buffer, YamlOutcome>();

/** Whether a body of this media type is YAML (the apply patch included). */
export function isYamlMediaType(mediaType: string): boolean {
  return mediaType === 'application/yaml' || mediaType === 'application/x-yaml' || mediaType === 'text/yaml' || mediaType === 'application/apply-patch+yaml';
}

/**
 * Parses a large YAML body that is not JSON on the worker thread, ahead of its handler (mediaType
 * as mediaTypeOf gives it). Never
 * throws: what it cannot settle (a small body, JSON, a worker that failed) is left to decodeBody.
 */
export async function prepareYamlBody(raw: unknown, mediaType: string): Promise<void> {
  if (!Buffer.isBuffer(raw) || raw.length < WORKER_THRESHOLD_BYTES || !isYamlMediaType(mediaType)) return;
  const text = raw.toString('utf8');
  try {
    // Too deep a text is refused before any parser sees it, where it is used.
    checkYamlNesting(text);
  } catch {
    return;
  }
  // JSON (as kubectl sends an apply) is decoded as JSON, fast, where it is used (decodeYamlText).
  if (jsonInYaml(text) !== undefined) return;
  const outcome = await yamlWorker.parse(text);
  if (outcome) prepared.set(raw, outcome);
}

/** The outcome prepareYamlBody parsed for this body, if it did. */
export function preparedYaml(raw: Buffer | undefined): YamlOutcome | undefined {
  return raw ? prepared.get(raw) : undefined;
}
