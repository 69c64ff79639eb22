// Turning an HTTP request into what the API means: which resource, which object, which verb,
// and the decoded body and options. Everything here is pure or reads only the request, and every
// limit is checked before anything computes on the input.
import type { Request } from 'express';
import { decodeYamlText, isYamlMediaType, preparedYaml } from './yaml-body.ts';
import { findByPath, type ResourceInfo } from '../../shared/api/resources.ts';
import {
  MAX_NESTING_DEPTH,
  MAX_OBJECT_BYTES,
  checkJsonNesting,
  checkValueDepth,
  encodedSizeExceeds,
  findDuplicateFields,
  replaceLoneSurrogates,
} from '../../shared/api/bounds.ts';
import { BadRequestError, InvalidError, RequestEntityTooLargeError, UnsupportedMediaTypeError } from '../../shared/errors.ts';
import type { StatusCause } from '../../shared/types.ts';
import type { DeleteOptions } from '../../shared/store/store.ts';
import { decodeProtobuf, PROTOBUF } from './protobuf.ts';

export interface ResourcePath {
  group: string;
  version: string;
  resource: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** A legacy watch path (`/api/v1/watch/...`): a watch whatever the query says. */
  watch?: boolean;
}

/** A path segment decoded; a bad escape is a 400 that names it. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    const escape = /%(?![0-9a-fA-F]{2})[^%]{0,2}/.exec(segment)?.[0] ?? segment;
    throw new BadRequestError(`invalid URL escape "${escape}"`);
  }
}

/**
 * `/api/v1/namespaces/ns/pods/name/status`, `/apis/apps/v1/deployments`, `/api/v1/namespaces/x`,
 * and the legacy watch paths `/api/v1/watch/namespaces/ns/pods[/name]`. Returns undefined for
 * paths that name no resource Wharf serves (the server answers those 404 as Kubernetes does).
 */
export function parseResourcePath(path: string): ResourcePath | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeSegment);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  const watch = rest[0] === 'watch';
  if (watch) rest = rest.slice(1);
  let namespace: string | undefined;
  // namespaces/{ns}/{resource}/... unless it addresses the Namespace object itself (or its subresource)
  if (rest[0] === 'namespaces' && rest.length >= 3 && findByPath(group, version, rest[2])) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = findByPath(group, version, rest[0] ?? '');
  if (!resource || rest.length > 3) return undefined;
  const [, name, subresource] = rest;
  if (subresource !== undefined && (watch || !resource.subresources.includes(subresource))) return undefined;
  return { group, version, resource, namespace, name, subresource, ...(watch ? { watch } : {}) };
}

/**
 * parseResourcePath for those that only look at a request before it is handled (its deadline, its
 * metrics): a path with a bad escape names no route here, and its handler answers it 400.
 */
export function parseResourcePathQuietly(path: string): ResourcePath | undefined {
  try {
    return parseResourcePath(path);
  } catch {
    return undefined;
  }
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string): PatchType {
  const ct = contentType.split(';')[0].trim().toLowerCase();
  switch (ct) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/json-patch+json':
      return 'json';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+json':
      return 'apply';
    default:
      throw new UnsupportedMediaTypeError(contentType);
  }
}

/** The media type of a Content-Type header, lower-cased, without its parameters. */
export function mediaTypeOf(contentType: string | undefined, fallback = 'application/json'): string {
  return (contentType ?? fallback).split(';')[0].trim().toLowerCase();
}

/**
 * Decodes a JSON or YAML body (or patch). Malformed input is a 400 that says where; nesting past
 * MAX_NESTING_DEPTH is refused on the raw text, before a parser recurses into it; lone surrogates
 * in strings and keys become U+FFFD, as Go's decoder makes them.
 */
export function decodeBody(raw: Buffer | undefined, contentType: string | undefined): unknown {
  if (mediaTypeOf(contentType, '') === PROTOBUF) {
    if (!raw || !raw.length) throw new BadRequestError('the request body is empty');
    return decodeProtobuf(raw);
  }
  const text = raw && raw.length ? raw.toString('utf8') : '';
  if (!text.trim()) throw new BadRequestError('the request body is empty');
  const ct = mediaTypeOf(contentType);
  if (!isYamlMediaType(ct)) {
    if (!ct.endsWith('json') && ct !== '*/*' && ct !== 'text/plain') throw new UnsupportedMediaTypeError(ct);
    checkJsonNesting(text);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new BadRequestError(`json: ${(err as Error).message}`);
    }
    return replaceLoneSurrogates(value, text);
  }
  // A large body was checked and parsed on the worker thread before its handler ran (yaml-body.ts).
  const outcome = preparedYaml(raw) ?? decodeYamlText(text);
  if ('error' in outcome) throw new BadRequestError(`yaml: ${outcome.error}`);
  const value = outcome.value;
  // Aliases repeat what their anchor holds: the text's depth and size say nothing of the value's.
  checkValueDepth(value, MAX_NESTING_DEPTH, 'yaml');
  if (encodedSizeExceeds(value, MAX_OBJECT_BYTES)) throw new RequestEntityTooLargeError(MAX_OBJECT_BYTES);
  return replaceLoneSurrogates(value, text);
}

/**
 * Kubernetes' strict-decoding complaint about the fields a JSON body names twice in one object
 * (JSON.parse keeps the last): under Strict a 400, under Warn the warnings to send, under Ignore
 * nothing. `decoding` prefixes the message as a create or replace reports it ("Pod in version ...").
 */
export function duplicateFieldWarnings(raw: Buffer | undefined, contentType: string | undefined, validation: FieldValidation, decoding?: ResourceInfo): string[] {
  if (validation === 'Ignore' || !raw?.length) return [];
  const ct = mediaTypeOf(contentType);
  if (isYamlMediaType(ct) || ct === PROTOBUF) return []; // the YAML parser refuses repeated keys itself
  const fields = findDuplicateFields(raw.toString('utf8'));
  const warnings = fields.map((f) => `duplicate field "${f}"`);
  if (warnings.length && validation === 'Strict') {
    const prefix = decoding ? `${decoding.kind} in version "${decoding.version}" cannot be handled as a ${decoding.kind}: ` : '';
    throw new BadRequestError(`${prefix}strict decoding error: ${warnings.join(', ')}`, fields.map((f) => ({ reason: 'FieldValueDuplicate', message: `duplicate field "${f}"`, field: f })));
  }
  return warnings;
}

/** Kubernetes' warning recorder: at most this many characters of warnings, beyond which each is cut to ITEM. */
const WARNINGS_TOTAL_RUNES = 4 * 1024;
const WARNING_ITEM_RUNES = 256;

/** One Warning header value as Kubernetes' NewWarningHeader writes it, or undefined for a text with a control character. */
function warningHeader(text: string): string | undefined {
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) return undefined;
  // Node writes a header's characters as single bytes: the UTF-8 bytes go one character each.
  return Buffer.from(`299 - "${text.replace(/["\\]/g, '\\$&')}"`, 'utf8').toString('latin1');
}

/**
 * The Warning header values of a response, as Kubernetes' warning recorder adds them: code 299,
 * agent "-", the text quoted with `"` and `\` escaped, in UTF-8; each text once; a text with a
 * control character left out; and once the texts pass 4096 characters, every one cut to 256 and
 * no more added (a warning may quote a value of any size a client sent).
 */
export function warningHeaderValues(warnings: string[]): string[] {
  const seen = new Set<string>();
  const ordered: string[] = [];
  let out: string[] = [];
  let written = 0;
  let truncating = false;
  const cut = (text: string) => {
    const runes = Array.from(text);
    return runes.length > WARNING_ITEM_RUNES ? { text: runes.slice(0, WARNING_ITEM_RUNES).join(''), length: WARNING_ITEM_RUNES } : { text, length: runes.length };
  };
  for (const text of warnings) {
    if (!text || (truncating && written >= WARNINGS_TOTAL_RUNES) || seen.has(text)) continue;
    seen.add(text);
    ordered.push(text);
    const item = truncating ? cut(text) : { text, length: Array.from(text).length };
    const header = warningHeader(item.text);
    if (header === undefined) continue;
    if (truncating || written + item.length <= WARNINGS_TOTAL_RUNES) {
      written += item.length;
      out.push(header);
      continue;
    }
    // Over the limit: start again with every warning so far cut short.
    truncating = true;
    written = 0;
    out = [];
    for (const w of ordered) {
      const c = cut(w);
      const h = warningHeader(c.text);
      if (h === undefined) continue;
      written += c.length;
      out.push(h);
    }
  }
  return out;
}

// ---- query parameters, as Kubernetes' parameter codec converts them -------------------------

/** Every value of a parameter, in order (`?dryRun=All&dryRun=All` has two). */
export function queryValues(req: Pick<Request, 'query'>, name: string): string[] {
  const v = req.query[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** A parameter's value; given more than once, the first (as Kubernetes' conversion takes it). */
export function queryString(req: Pick<Request, 'query'>, name: string): string | undefined {
  return queryValues(req, name)[0];
}

/**
 * Kubernetes' boolean parameters (Convert_Slice_string_To_bool): every value but `0` and `false`
 * (any case) is true, so `watch=True`, `watch=1` and a bare `watch` all watch.
 */
export function parseBool(value: string | undefined): boolean {
  if (value === undefined) return false;
  return value !== '0' && value.toLowerCase() !== 'false';
}

export function queryBool(req: Pick<Request, 'query'>, name: string): boolean {
  return parseBool(queryString(req, name));
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** strconv.ParseInt(value, 10, 64): an optional sign and decimal digits, within int64, or a 400. */
export function parseInt64(value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw new BadRequestError(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  const n = BigInt(value);
  if (n < INT64_MIN || n > INT64_MAX) throw new BadRequestError(`strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
  return Number(n);
}

export function queryInt(req: Request, name: string): number | undefined {
  const v = queryString(req, name);
  return v === undefined ? undefined : parseInt64(v);
}

/** The longest delay a Node.js timer can hold (2^31-1 ms); longer ones fire at once. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * How long a watch runs: the client's timeoutSeconds (at most what a timer can hold), or, without
 * one, 30 to 60 minutes as Kubernetes spreads its watches over the --min-request-timeout.
 */
export function watchTimeoutSeconds(req: Request): number {
  const timeout = queryInt(req, 'timeoutSeconds');
  if (timeout && timeout > 0) return Math.min(timeout, MAX_TIMER_SECONDS);
  return 1800 + Math.floor(Math.random() * 1800);
}

/**
 * A list or watch's resourceVersion, refused with a 400 unless it is one (strconv.ParseUint, as
 * Kubernetes' storage parses it). Returned as a string Wharf's streams can address: one past
 * 2^53 is later than any Wharf will write, and stays as late.
 */
export function resourceVersionOf(req: Request): string | undefined {
  const rv = queryString(req, 'resourceVersion');
  if (rv === undefined || rv === '' || rv === '0') return rv;
  const fail = (why: string) => new BadRequestError(`invalid resource version: resourceVersion: Invalid value: ${JSON.stringify(rv)}: strconv.ParseUint: parsing ${JSON.stringify(rv)}: ${why}`);
  if (!/^\d+$/.test(rv)) throw fail('invalid syntax');
  const n = BigInt(rv);
  if (n > UINT64_MAX) throw fail('value out of range');
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? String(Number.MAX_SAFE_INTEGER) : String(n);
}

const LIST_OPTIONS = 'ListOptions';
const META_GROUP = 'meta.k8s.io';

/**
 * The list options Kubernetes validates before it reads anything (ValidateListOptions): the
 * resourceVersionMatch values and what they may be combined with, and resourceVersion beside continue.
 */
export function checkListOptions(req: Request, watch: boolean): void {
  const rv = resourceVersionOf(req);
  const match = queryString(req, 'resourceVersionMatch');
  const token = queryString(req, 'continue');
  if (token && rv && rv !== '0') throw new BadRequestError('specifying resource version is not allowed when using continue');
  if (!match) return;
  const causes: StatusCause[] = [];
  const forbidden = (message: string) => causes.push({ reason: 'FieldValueForbidden', field: 'resourceVersionMatch', message: `Forbidden: ${message}` });
  if (watch) {
    forbidden('resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
  } else {
    if (!rv) forbidden('resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (token) forbidden('resourceVersionMatch is forbidden when continue is provided');
    if (match !== 'Exact' && match !== 'NotOlderThan') {
      causes.push({ reason: 'FieldValueNotSupported', field: 'resourceVersionMatch', message: `Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan", ""` });
    }
    if (match === 'Exact' && rv === '0') forbidden('resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  }
  if (causes.length) throw new InvalidError(LIST_OPTIONS, '', causes, META_GROUP);
}

/** Where a paged list goes on: the resourceVersion it was read at and the last key it returned. */
export interface ContinueToken {
  rv: string;
  start: string;
}

const CONTINUE_VERSION = 'meta.k8s.io/v1';

/** Kubernetes' continue token: base64url (unpadded) JSON {"v", "rv", "start"}. */
export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: CONTINUE_VERSION, rv: Number(token.rv), start: token.start })).toString('base64url');
}

/**
 * A continue token a client sent back, checked as Kubernetes' storage checks it (DecodeContinue):
 * base64url, a JSON object of the known version, a positive integer resourceVersion, and a start
 * key of the form "namespace/name". Anything else is a 400 naming what is wrong.
 */
export function decodeContinue(value: string): ContinueToken {
  const invalid = (why?: string) => new BadRequestError(`invalid continue token: continue key is not valid${why ? `: ${why}` : ''}`);
  const illegal = /[^A-Za-z0-9_-]/.exec(value);
  if (illegal || value.length % 4 === 1) throw invalid(`illegal base64 data at input byte ${illegal ? illegal.index : value.length - 1}`);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch (err) {
    throw invalid((err as Error).message);
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    throw invalid(`json: cannot unmarshal ${goTypeOf(decoded)} into Go value of type storage.continueToken`);
  }
  const { v, rv, start } = decoded as Record<string, unknown>;
  for (const [field, fieldValue, type] of [['v', v, 'string'], ['rv', rv, 'number'], ['start', start, 'string']] as const) {
    if (fieldValue !== undefined && fieldValue !== null && typeof fieldValue !== type) {
      throw invalid(`json: cannot unmarshal ${goTypeOf(fieldValue)} into Go struct field continueToken.${field} of type ${type === 'number' ? 'int64' : 'string'}`);
    }
  }
  if (v !== CONTINUE_VERSION) throw invalid(`server does not recognize this encoded version ${JSON.stringify(v ?? '')}`);
  if (typeof rv !== 'number' || !Number.isSafeInteger(rv) || rv <= 0) {
    throw new BadRequestError(`invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version ${CONTINUE_VERSION})`);
  }
  if (typeof start !== 'string' || !start) throw new BadRequestError('invalid continue token: continue key is not valid: encoded start key empty');
  // Wharf's keys are "namespace/name" ("/name" for cluster-scoped objects); names hold no "/".
  if (!/^[^/]*\/[^/]+$/.test(start)) throw invalid(start);
  return { rv: String(rv), start };
}

/** Go's name for the JSON type of a value, as its "cannot unmarshal X" errors print it. */
function goTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return `number ${value}`;
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

export function isDryRun(req: Request): boolean {
  const v = queryString(req, 'dryRun');
  if (v === undefined) return false;
  if (v !== 'All') throw new BadRequestError(`Invalid dryRun value: ${v}: supported values: "All"`);
  return true;
}

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export function fieldValidationOf(req: Request): FieldValidation {
  const v = queryString(req, 'fieldValidation');
  if (v === undefined || v === '') return 'Warn';
  if (v !== 'Ignore' && v !== 'Warn' && v !== 'Strict') {
    throw new BadRequestError(`fieldValidation parameter unsupported: ${v}. Supported values are: Ignore, Warn, Strict`);
  }
  return v;
}

// ---- DeleteOptions -------------------------------------------------------------------------

/** meta/v1 DeleteOptions as a client sends them, before validation. */
interface RawDeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  orphanDependents?: boolean;
  propagationPolicy?: string;
  dryRun?: string[];
}

const DELETE_OPTIONS_VERSIONS = ['v1', 'meta.k8s.io/v1'];
const PROPAGATION_POLICIES = ['Foreground', 'Background', 'Orphan'];

function unmarshalError(value: unknown, field: string, goType: string): BadRequestError {
  return new BadRequestError(`json: cannot unmarshal ${goTypeOf(value)} into Go struct field ${field} of type ${goType}`);
}

/**
 * Decodes a DeleteOptions body as Kubernetes' decoder would (delete.go): a JSON object, of kind
 * DeleteOptions in v1 or meta.k8s.io/v1 if it says, each field of its Go type (null is unset).
 * Unknown fields are ignored, as the non-strict decoder ignores them.
 */
function decodeDeleteOptionsValue(value: unknown, what = 'DeleteOptions'): RawDeleteOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestError(`json: cannot unmarshal ${goTypeOf(value)} into Go value of type v1.DeleteOptions`);
  }
  const body = value as Record<string, unknown>;
  const set = (v: unknown) => v !== undefined && v !== null;
  for (const field of ['kind', 'apiVersion', 'propagationPolicy']) {
    if (set(body[field]) && typeof body[field] !== 'string') throw unmarshalError(body[field], `${what}.${field}`, 'string');
  }
  const { kind, apiVersion } = body as { kind?: string; apiVersion?: string };
  if ((kind && kind !== 'DeleteOptions') || (apiVersion && !DELETE_OPTIONS_VERSIONS.includes(apiVersion))) {
    throw new BadRequestError(`no kind ${JSON.stringify(kind || 'DeleteOptions')} is registered for version ${JSON.stringify(apiVersion || 'meta.k8s.io/v1')}: a DELETE body must be a DeleteOptions of ${DELETE_OPTIONS_VERSIONS.join(' or ')}`);
  }
  const out: RawDeleteOptions = {};
  const grace = body.gracePeriodSeconds;
  if (set(grace)) {
    if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < Number(INT64_MIN) || grace > Number(INT64_MAX)) {
      throw unmarshalError(grace, `${what}.gracePeriodSeconds`, 'int64');
    }
    out.gracePeriodSeconds = grace;
  }
  const pre = body.preconditions;
  if (set(pre)) {
    if (typeof pre !== 'object' || Array.isArray(pre)) throw unmarshalError(pre, `${what}.preconditions`, 'v1.Preconditions');
    out.preconditions = {};
    for (const field of ['uid', 'resourceVersion'] as const) {
      const v = (pre as Record<string, unknown>)[field];
      if (!set(v)) continue;
      if (typeof v !== 'string') throw unmarshalError(v, `Preconditions.${field}`, field === 'uid' ? 'types.UID' : 'string');
      out.preconditions[field] = v;
    }
  }
  if (set(body.orphanDependents)) {
    if (typeof body.orphanDependents !== 'boolean') throw unmarshalError(body.orphanDependents, `${what}.orphanDependents`, 'bool');
    out.orphanDependents = body.orphanDependents;
  }
  if (set(body.propagationPolicy)) out.propagationPolicy = body.propagationPolicy as string;
  if (set(body.dryRun)) {
    if (!Array.isArray(body.dryRun)) throw unmarshalError(body.dryRun, `${what}.dryRun`, '[]string');
    const bad = body.dryRun.find((v) => typeof v !== 'string');
    if (bad !== undefined) throw unmarshalError(bad, `${what}.dryRun`, 'string');
    out.dryRun = body.dryRun as string[];
  }
  return out;
}

/**
 * Kubernetes' ValidateDeleteOptions (422), then what the store needs: a negative grace period is
 * one second (as BeforeDelete makes it), and none is longer than a timer can hold, since a grace
 * period becomes the node agent's timer.
 */
function toStoreDeleteOptions(o: RawDeleteOptions): DeleteOptions {
  const causes: StatusCause[] = [];
  if (o.orphanDependents !== undefined && o.propagationPolicy !== undefined) {
    causes.push({ reason: 'FieldValueInvalid', field: 'propagationPolicy', message: `Invalid value: ${JSON.stringify(o.propagationPolicy)}: orphanDependents and deletionPropagation cannot be both set` });
  }
  if (o.propagationPolicy !== undefined && !PROPAGATION_POLICIES.includes(o.propagationPolicy)) {
    causes.push({ reason: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: ${JSON.stringify(o.propagationPolicy)}: supported values: "Foreground", "Background", "Orphan", "nil"` });
  }
  if (o.dryRun?.some((v) => v !== 'All')) {
    causes.push({ reason: 'FieldValueNotSupported', field: 'dryRun', message: `Unsupported value: []string{${o.dryRun.map((v) => JSON.stringify(v)).join(', ')}}: supported values: "All"` });
  }
  if (causes.length) throw new InvalidError('DeleteOptions', '', causes, META_GROUP);
  const grace = o.gracePeriodSeconds;
  return {
    propagationPolicy: (o.propagationPolicy ?? (o.orphanDependents ? 'Orphan' : undefined)) as DeleteOptions['propagationPolicy'],
    gracePeriodSeconds: grace === undefined ? undefined : grace < 0 ? 1 : Math.min(grace, MAX_TIMER_SECONDS),
    preconditions: o.preconditions,
    dryRun: !!o.dryRun?.length,
  };
}

/** The DeleteOptions inside another body (an Eviction's deleteOptions), decoded and validated. */
export function decodeDeleteOptions(value: unknown, what = 'DeleteOptions'): DeleteOptions {
  return toStoreDeleteOptions(decodeDeleteOptionsValue(value, what));
}

/**
 * A DELETE's options, as Kubernetes' delete handler reads them: from the body when there is one
 * (then the query is not read), otherwise from the query parameters.
 */
export function deleteOptionsOf(req: Request): DeleteOptions {
  const raw = req.body as Buffer | undefined;
  if (raw && raw.length && raw.toString('utf8').trim()) return decodeDeleteOptions(decodeBody(raw, req.headers['content-type']));
  const options: RawDeleteOptions = {};
  const grace = queryInt(req, 'gracePeriodSeconds');
  if (grace !== undefined) options.gracePeriodSeconds = grace;
  const policy = queryString(req, 'propagationPolicy');
  if (policy !== undefined) options.propagationPolicy = policy;
  if (queryString(req, 'orphanDependents') !== undefined) options.orphanDependents = queryBool(req, 'orphanDependents');
  const dryRun = queryValues(req, 'dryRun');
  if (dryRun.length) options.dryRun = dryRun;
  return toStoreDeleteOptions(options);
}
