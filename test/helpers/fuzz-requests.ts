// The API fuzz suite's requests (test/integration/api-fuzz.test.ts): a seeded, deterministic
// generator of hostile, malformed and odd requests over the main kinds. Each request says what it
// expects: `refuse` (Kubernetes refuses it, so the answer must be a 4xx Status and the store must
// not change) or `any` (valid or not: a 2xx or a 4xx Status). Requests that may be accepted either
// run as dry runs, change nothing by construction (reads), or aim at a throwaway object created for
// them, so that every refusal can be checked against the store.
import { stringify as toYaml } from 'yaml';
import { FUZZ_KINDS, FUZZ_NAMESPACE, fixtureName, isMap, takesStringOrNumber, type FuzzKind, type Path } from './fuzz-manifests.ts';

export interface FuzzRequest {
  /** What the request is, in words: the class, the kind and the mutation. */
  what: string;
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  expect: 'refuse' | 'any' | 'succeed';
  /** Changes nothing even when accepted (a read, a dry run). */
  harmless: boolean;
  /** Compare whole snapshots of the store around this request (a non-dry-run request that may be accepted). */
  snapshotAround?: boolean;
}

export interface FuzzBatch {
  name: string;
  /** Requests that prepare the batch (a throwaway object): each must succeed. */
  setup?: FuzzRequest[];
  requests: FuzzRequest[];
}

// ---- a seeded random source ---------------------------------------------------------------

/** mulberry32: a small, fast, seedable generator; the same seed gives the same requests. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---- JSON text with what JSON.stringify cannot write -------------------------------------

/** A number (or any token) written as given: `-0`, `9223372036854775807`, `1E400`. */
const raw = (text: string) => `@@raw:${text}@@`;
/** A key suffix that is dropped from the text, making the key a duplicate of its sibling. */
const DUP = '@@dup@@';
/** Stands for "remove this value" where a mutation replaces a value. */
const REMOVE = Symbol('remove');

export function encode(value: unknown): string {
  return JSON.stringify(value).replace(/"@@raw:(.*?)@@"/g, (_, text) => text).replaceAll(DUP, '');
}

// ---- paths in objects -----------------------------------------------------------------------

function walk(value: unknown, path: Path = [], out: [Path, unknown][] = []): [Path, unknown][] {
  if (path.length) out.push([path, value]);
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k], out);
  return out;
}

function setAt(obj: any, path: Path, value: unknown): any {
  const copy = structuredClone(obj);
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key];
  const last = path[path.length - 1];
  if (value === REMOVE) {
    if (Array.isArray(at)) at.splice(last as number, 1);
    else delete at[last];
  } else at[last] = value;
  return copy;
}

function getAt(obj: any, path: Path): any {
  return path.reduce((v, k) => v?.[k], obj);
}

/** The field path as Kubernetes prints it: spec.template.spec.containers[0].image. */
export function fieldPath(path: Path): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');
}

const pointer = (path: Path) => path.map((k) => `/${String(k).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

/**
 * A merge patch that sets what `mutated` has at `path`: the objects along the path, and the first
 * list on it whole (a merge patch replaces lists).
 */
function mergePatchFor(mutated: any, path: Path): any {
  const firstIndex = path.findIndex((k) => typeof k === 'number');
  const upTo = firstIndex < 0 ? path : path.slice(0, firstIndex);
  const patch: any = {};
  let at = patch;
  upTo.forEach((key, i) => {
    if (i === upTo.length - 1) {
      const v = getAt(mutated, upTo);
      at[key] = v === undefined ? null : v;
    } else at = at[key] = {};
  });
  return patch;
}

// ---- values -----------------------------------------------------------------------------------

function deep(levels: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

const LONG = 'x'.repeat(300);
const VERY_LONG = 'y'.repeat(70_000);

/** Values of another JSON type than a field's, which Kubernetes' decoder refuses. */
const WRONG_TYPES: Record<string, unknown[]> = {
  string: [12345, -1, 0, 1e300, 2 ** 31, true, false, [], ['x'], {}, { a: 'b' }, deep(20)],
  number: ['5', 'abc', '', 'NaN', 'Infinity', '-0', '1e300', true, false, [], [1], {}, { a: 1 }],
  boolean: ['true', 'false', '', 1, 0, [], [true], {}, 'yes'],
  array: [{}, { a: 1 }, 'x', '', 1, 0, true],
  object: [[], [{}], 'x', '', 1, 0, true],
};

/** Odd values of a field's own type (and null, and its removal): valid or not, Kubernetes may take them. */
const ODD_VALUES: Record<string, unknown[]> = {
  string: ['', ' ', LONG, VERY_LONG, '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\u202eevil', '👍🏽', '日本語', 'a\nb', '\t', '../..', '%00', '\\', '"', "'", '${HOME}', '\ufeff', '\u2028', 'UPPER', '-lead', 'trail-', 'a/b', '0', 'null', 'ǅ', 'e\u0301'],
  number: ['0', '-0', '-1', '1.5', '2147483647', '2147483648', '-2147483649', '9007199254740993', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '1e300', '-1e300', '1E400', '1e-400', '1e2', '100.0', '4294967296'].map(raw),
  boolean: [],
  array: [[], [null], [{}]],
  object: [{}, deep(60)],
};

function typeOf(v: unknown): 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null' {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as 'string' | 'number' | 'boolean' | 'object';
}

function wrongTypes(path: Path, value: unknown): unknown[] {
  const type = typeOf(value);
  const values = WRONG_TYPES[type] ?? [];
  if (!takesStringOrNumber(path)) return values;
  return values.filter((v) => typeof v !== (type === 'string' ? 'number' : 'string'));
}

function oddValues(value: unknown): unknown[] {
  const type = typeOf(value);
  const own = [...(ODD_VALUES[type] ?? [])];
  if (type === 'boolean') own.push(!value);
  if (type === 'array' && (value as unknown[]).length) {
    const list = value as unknown[];
    own.push([...list, ...list], Array.from({ length: 1000 }, () => list[0]));
  }
  return [null, REMOVE, ...own];
}

/** A metav1.Time or MicroTime in a manifest: Kubernetes' decoder refuses any string that is no RFC 3339 time there. */
const isTime = (v: unknown) => typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v);

/**
 * Fields whose values Kubernetes' validation holds to a set (none of the odd strings is in one), by
 * the field's name and its parent's where the name alone is ambiguous; `true` where an empty string
 * is defaulted (to TCP, IfNotPresent, ...) rather than refused.
 */
const ENUM_FIELDS: Record<string, boolean> = {
  restartPolicy: true, dnsPolicy: true, imagePullPolicy: true, terminationMessagePolicy: true, protocol: true, scheme: true,
  'tolerations.operator': true, 'tolerations.effect': true, 'matchExpressions.operator': false, whenUnsatisfiable: false,
  'strategy.type': true, 'updateStrategy.type': true, 'spec.type': true, sessionAffinity: true, internalTrafficPolicy: true, ipFamilyPolicy: true,
  concurrencyPolicy: true, completionMode: true, unhealthyPodEvictionPolicy: false, preemptionPolicy: false, addressType: false,
  'seccompProfile.type': false, procMount: false, fsGroupChangePolicy: false,
};

function isEnumField(path: Path): 'refuse empty' | 'take empty' | undefined {
  const names = path.filter((k): k is string => typeof k === 'string');
  const last = names.at(-1) ?? '';
  const known = ENUM_FIELDS[`${names.at(-2)}.${last}`] ?? (last === 'type' || last === 'operator' || last === 'effect' || last === 'status' ? undefined : ENUM_FIELDS[last]);
  return known === undefined ? undefined : known ? 'take empty' : 'refuse empty';
}

/**
 * What Kubernetes does with an odd value of a field's own type: a string that is no time in a time
 * field, or none of an enumeration's values, it refuses; the rest it may take.
 */
function expectOdd(path: Path, original: unknown, value: unknown): 'refuse' | 'any' {
  if (typeof value !== 'string' || value.startsWith('@@raw:')) return 'any';
  if (isTime(original)) return 'refuse';
  const enumeration = isEnumField(path);
  if (enumeration === 'refuse empty' || (enumeration === 'take empty' && value !== '')) return 'refuse';
  if (isLabelValue(path) && !(value.length <= 63 && LABEL_VALUE.test(value))) return 'refuse';
  if (path.join('.') === 'metadata.name' && !(value.length <= 253 && DNS_SUBDOMAIN.test(value))) return 'refuse';
  const names = path.filter((k): k is string => typeof k === 'string');
  const [parent, last] = [names.at(-2), names.at(-1)];
  // Names and addresses ValidatePodSpec checks (not those of volume sources or image pull secrets, which it only requires).
  if (last === 'name' && ['containers', 'initContainers', 'volumes', 'volumeMounts'].includes(parent!) && !(value.length <= 63 && DNS_LABEL.test(value))) return 'refuse';
  if ((last === 'hostname' || last === 'subdomain') && parent === 'spec' && value !== '' && !(value.length <= 63 && DNS_LABEL.test(value))) return 'refuse';
  if (last === 'serviceAccountName' && value !== '' && !(value.length <= 253 && DNS_SUBDOMAIN.test(value))) return 'refuse';
  if (last === 'name' && ['configMapKeyRef', 'secretKeyRef'].includes(parent!) && !(value.length <= 253 && DNS_SUBDOMAIN.test(value))) return 'refuse';
  // envFrom's names are checked as prefixes (ValidateConfigMapName(name, true)): a last dash is allowed.
  if (last === 'name' && ['configMapRef', 'secretRef'].includes(parent!) && !(value.length <= 253 && DNS_SUBDOMAIN.test(value.replace(/-$/, 'a')))) return 'refuse';
  if (((last === 'ip' && parent === 'hostAliases') || last === 'nameservers') && !/^\d+\.\d+\.\d+\.\d+$/.test(value)) return 'refuse';
  // A container's image (ValidatePodSpec); the image a container status reports is not checked.
  if (last === 'image' && ['containers', 'initContainers', 'ephemeralContainers'].includes(parent!) && (value === '' || value.trim() !== value)) return 'refuse';
  if (last === 'name' && parent === 'ports' && names.includes('containers') && !(value.length <= 15 && IANA_SVC_NAME.test(value))) return 'refuse';
  if (last === 'schedule' && value.trim().split(/\s+/).length !== 5 && !value.startsWith('@')) return 'refuse';
  return 'any';
}

// Kubernetes' IsValidLabelValue and IsDNS1123Subdomain (apimachinery's validation), for the oracle.
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** IsValidPortName: at most 15 lowercase letters, digits and single hyphens, at least one letter. */
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*$/;

/** A value Kubernetes validates as a label value: of labels, matchLabels, a nodeSelector or a Service's selector. */
function isLabelValue(path: Path): boolean {
  const parent = path.at(-2);
  return parent === 'labels' || parent === 'matchLabels' || parent === 'nodeSelector' || (parent === 'selector' && path.length === 3 && path[0] === 'spec');
}

function describe(v: unknown): string {
  if (v === REMOVE) return '(removed)';
  if (typeof v === 'string' && v.startsWith('@@raw:')) return v.slice(6, -2);
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 40)}…(${text.length} chars)` : text;
}

/**
 * Whether a path is a pod template's in a workload kind: the Pod fixture has each of those fields
 * already, so the workloads take a share of them, enough to cover each template's own handling.
 */
function inPodTemplate(k: FuzzKind, path: Path): boolean {
  return k.kind !== 'Pod' && path.includes('template') && path.indexOf('spec', path.indexOf('template')) >= 0;
}

/** The paths of a kind's manifest a class of requests visits: all, but a share of pod template ones. */
function pathsToVisit(k: FuzzKind, random: Random, templateShare: number): [Path, unknown][] {
  return walk(k.manifest('x')).filter(([path]) => !inPodTemplate(k, path) || random.chance(templateShare));
}

// ---- requests -------------------------------------------------------------------------------

const JSON_TYPE = 'application/json';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
const MERGE = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const APPLY = 'application/apply-patch+yaml';

type Verb = 'POST' | 'PUT' | 'merge' | 'strategic' | 'json' | 'apply';
const VERBS: Verb[] = ['POST', 'PUT', 'merge', 'strategic', 'json', 'apply'];

function withQuery(path: string, query: Record<string, string | undefined>): string {
  const parts = Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(v!)}`);
  return parts.length ? `${path}${path.includes('?') ? '&' : '?'}${parts.join('&')}` : path;
}

export const objectPath = (k: FuzzKind, name: string) => `${k.collection}/${encodeURIComponent(name)}`;

interface Target {
  kind: FuzzKind;
  /** The existing object a PUT or PATCH aims at. */
  name: string;
  /** The name a POST creates. */
  newName: string;
}

/**
 * One write of `mutated` (a whole manifest) through `verb`: a create of newName, a replace or a
 * patch of name (the patch carrying what `mutated` has at `path`).
 */
function write(t: Target, verb: Verb, mutated: any, path: Path, query: Record<string, string | undefined>): Pick<FuzzRequest, 'method' | 'path' | 'headers' | 'body'> {
  const named = objectPath(t.kind, t.name);
  switch (verb) {
    case 'POST':
      return { method: 'POST', path: withQuery(t.kind.collection, query), headers: { 'content-type': JSON_TYPE }, body: encode(mutated) };
    case 'PUT':
      return { method: 'PUT', path: withQuery(named, query), headers: { 'content-type': JSON_TYPE }, body: encode(mutated) };
    case 'merge':
    case 'strategic':
      return { method: 'PATCH', path: withQuery(named, query), headers: { 'content-type': verb === 'merge' ? MERGE : STRATEGIC }, body: encode(mergePatchFor(mutated, path)) };
    case 'json': {
      const value = getAt(mutated, path);
      const op = value === undefined ? { op: 'remove', path: pointer(path) } : { op: 'add', path: pointer(path), value };
      return { method: 'PATCH', path: withQuery(named, query), headers: { 'content-type': JSON_PATCH }, body: encode([op]) };
    }
    case 'apply':
      return { method: 'PATCH', path: withQuery(named, { fieldManager: 'fuzzer', force: 'true', ...query }), headers: { 'content-type': APPLY }, body: encode(mutated) };
  }
}

const verbLabel = (verb: Verb) => (verb === 'POST' || verb === 'PUT' ? verb : `PATCH (${verb})`);

export interface Generated {
  batches: FuzzBatch[];
  /** The requests in all batches, setup excluded. */
  count: number;
}

/** A share of a class's requests, grown by the run's scale (never past all of them). */
type Share = (base: number) => number;

/**
 * Every batch of one run, from the seed alone. `scale` (WHARF_FUZZ_SCALE) multiplies the shares of
 * fields and throwaway objects visited, for deeper runs than CI's.
 */
export function generate(seed: number, scale = 1): Generated {
  const random = new Random(seed);
  const share: Share = (base) => Math.min(1, base * scale);
  let serial = 0;
  const fresh = () => `fz-new-${seed.toString(36)}-${(serial++).toString(36)}`;
  const batches: FuzzBatch[] = [];
  const add = (name: string, requests: FuzzRequest[]) => {
    // Batches of at most 40: a store difference at the end of one is reported with its requests.
    for (let i = 0; i < requests.length; i += 40) batches.push({ name, requests: requests.slice(i, i + 40) });
  };
  const target = (k: FuzzKind): Target => ({ kind: k, name: fixtureName(k), newName: fresh() });

  for (const k of FUZZ_KINDS) {
    add(`wrong types: ${k.label}`, wrongTypeRequests(k, random, target, share));
    add(`required fields: ${k.label}`, requiredFieldRequests(k, fresh));
    add(`unknown fields: ${k.label}`, unknownFieldRequests(k, random, target, share));
    add(`odd values (dry run): ${k.label}`, oddValueRequests(k, random, target, share));
    batches.push(...throwawayBatches(k, random, fresh, scale));
    if (k.status) add(`status: ${k.label}`, statusRequests(k, random));
  }
  add('duplicate fields', duplicateFieldRequests(random, target));
  add('malformed bodies', malformedBodyRequests(random, target));
  add('content types', contentTypeRequests(random, target));
  add('protobuf', protobufRequests(random, target));
  add('JSON patches', jsonPatchRequests(random));
  add('merge and strategic merge patches', mergePatchRequests(random));
  add('server-side apply', applyRequests(random, fresh));
  add('query parameters', queryRequests(random));
  add('paths', pathRequests(random));
  add('scale', scaleRequests());
  add('eviction and log', evictionAndLogRequests(random));
  add('delete', deleteRequests(random));
  add('deletecollection', deleteCollectionRequests(random));
  add('verbs', verbRequests());
  add('sizes', sizeRequests(target));
  return { batches, count: batches.reduce((n, b) => n + b.requests.length, 0) };
}

/** Every field of the kind's manifest, one at a time, given a value of a type Kubernetes refuses there. */
function wrongTypeRequests(k: FuzzKind, random: Random, target: (k: FuzzKind) => Target, share: Share): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  for (const [path] of pathsToVisit(k, random, share(0.25))) {
    const t = target(k);
    const verb = random.pick(VERBS);
    const manifest = k.manifest(verb === 'POST' ? t.newName : t.name);
    const original = getAt(manifest, path);
    const candidates = wrongTypes(path, original);
    if (!candidates.length) continue;
    const value = random.pick(candidates);
    out.push({
      what: `${verbLabel(verb)} ${k.label} with ${fieldPath(path)} := ${describe(value)} (a ${typeOf(value)} for a ${typeOf(original)})`,
      ...write(t, verb, setAt(manifest, path, value), path, {}),
      expect: 'refuse',
      harmless: false,
    });
  }
  return out;
}

function requiredFieldRequests(k: FuzzKind, fresh: () => string): FuzzRequest[] {
  return k.required.map((path) => {
    const manifest = setAt(k.manifest(fresh()), path, REMOVE);
    return { what: `POST ${k.label} without ${fieldPath(path)}`, method: 'POST', path: k.collection, headers: { 'content-type': JSON_TYPE }, body: encode(manifest), expect: 'refuse', harmless: false };
  });
}

/** An unknown field in every object of the manifest (maps aside), under fieldValidation=Strict. */
function unknownFieldRequests(k: FuzzKind, random: Random, target: (k: FuzzKind) => Target, share: Share): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const objects = pathsToVisit(k, random, share(0.3)).filter(([path, v]) => typeOf(v) === 'object' && !isMap(path, k.kind)).map(([path]) => path);
  for (const path of [[] as Path, ...objects]) {
    const t = target(k);
    const verb = random.pick(VERBS);
    const manifest = k.manifest(verb === 'POST' ? t.newName : t.name);
    const fieldAt = [...path, 'fuzzUnknownField'];
    out.push({
      what: `${verbLabel(verb)} ${k.label} with an unknown field ${fieldPath(fieldAt)} under fieldValidation=Strict`,
      ...write(t, verb, setAt(manifest, fieldAt, random.pick(['x', 1, {}])), fieldAt, { fieldValidation: 'Strict' }),
      expect: 'refuse',
      harmless: false,
    });
  }
  return out;
}

/** Odd values of each field's own type, null and removal, as dry runs against the fixture or a new name. */
function oddValueRequests(k: FuzzKind, random: Random, target: (k: FuzzKind) => Target, share: Share): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  for (const [path] of pathsToVisit(k, random, share(0.25))) {
    if (!random.chance(share(0.4))) continue;
    const t = target(k);
    const verb = random.pick(VERBS);
    const manifest = k.manifest(verb === 'POST' ? t.newName : t.name);
    const value = random.pick(oddValues(getAt(manifest, path)));
    out.push({
      what: `${verbLabel(verb)} ${k.label} with ${fieldPath(path)} := ${describe(value)}, dry run`,
      ...write(t, verb, setAt(manifest, path, value), path, { dryRun: 'All', fieldValidation: random.pick([undefined, 'Ignore', 'Warn', 'Strict']) }),
      expect: expectOdd(path, getAt(manifest, path), value),
      harmless: true,
    });
  }
  return out;
}

/**
 * Odd values written for real, each to a throwaway object made for it: accepted or refused, the
 * object must still read back and delete, and a refusal must change nothing.
 */
function throwawayBatches(k: FuzzKind, random: Random, fresh: () => string, scale: number): FuzzBatch[] {
  const out: FuzzBatch[] = [];
  const paths = walk(k.manifest('x')).map(([path]) => path);
  const count = Math.round((k.kind === 'Namespace' ? 3 : 8) * scale);
  for (let i = 0; i < count; i++) {
    const name = fresh();
    const t: Target = { kind: k, name, newName: name };
    const named = objectPath(k, name);
    const manifest = k.manifest(name);
    const odd = oddWrite(k, t, manifest, paths, random);
    out.push({
      name: `odd values written: ${k.label}`,
      setup: [{ what: `POST ${k.label} ${name} (a throwaway)`, method: 'POST', path: k.collection, headers: { 'content-type': JSON_TYPE }, body: encode(manifest), expect: 'succeed', harmless: false }],
      requests: [
        odd,
        { what: `GET ${k.label} ${name} after an odd write`, method: 'GET', path: named, expect: 'succeed', harmless: true },
        { what: `GET ${k.label} ${name} as a Table (kubectl get) after an odd write`, method: 'GET', path: named, headers: { accept: TABLE }, expect: 'succeed', harmless: true },
        { what: `PATCH ${k.label} ${name}'s labels after an odd write`, method: 'PATCH', path: named, headers: { 'content-type': MERGE }, body: encode({ metadata: { labels: { touched: 'yes' } } }), expect: 'any', harmless: false, snapshotAround: true },
        { what: `DELETE ${k.label} ${name} after an odd write`, method: 'DELETE', path: named, expect: 'succeed', harmless: false },
      ],
    });
  }
  return out;
}

/** An odd value written for real to a throwaway object: through the object, its status or its scale. */
function oddWrite(k: FuzzKind, t: Target, manifest: any, paths: Path[], random: Random): FuzzRequest {
  const named = objectPath(k, t.name);
  const through = random.pick(['object', 'object', ...(k.status ? ['status'] : []), ...(k.scale ? ['scale'] : [])]);
  if (through === 'status') {
    const object = { ...manifest, status: k.status };
    const path = ['status', ...random.pick(walk(k.status).map(([p]) => p))];
    const original = getAt(object, path);
    const value = random.chance(0.8) ? random.pick(oddValues(original)) : random.pick(wrongTypes(path, original).concat([null]));
    const patch = random.chance(0.5);
    const mutated = setAt(object, path, value);
    return {
      what: `${patch ? 'PATCH (merge)' : 'PUT'} ${k.label} ${t.name}/status with ${fieldPath(path)} := ${describe(value)}`,
      method: patch ? 'PATCH' : 'PUT',
      path: `${named}/status`,
      headers: { 'content-type': patch ? MERGE : JSON_TYPE },
      body: encode(patch ? mergePatchFor(mutated, path) : mutated),
      expect: expectOdd(path, original, value),
      harmless: false,
      snapshotAround: true,
    };
  }
  if (through === 'scale') {
    const replicas = random.pick([0, 1, 2 ** 31 - 1, raw('-0'), raw('1.0'), raw('1e2'), null]);
    return {
      what: `PUT ${k.label} ${t.name}/scale with spec.replicas := ${describe(replicas)}`,
      method: 'PUT',
      path: `${named}/scale`,
      headers: { 'content-type': JSON_TYPE },
      body: encode({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: t.name, namespace: FUZZ_NAMESPACE }, spec: { replicas } }),
      expect: 'any',
      harmless: false,
      snapshotAround: true,
    };
  }
  const path = random.pick(paths);
  const verb = random.pick(['PUT', 'merge', 'strategic', 'json', 'apply'] as Verb[]);
  const original = getAt(manifest, path);
  const value = random.chance(0.8) ? random.pick(oddValues(original)) : random.pick(wrongTypes(path, original).concat([null]));
  return { what: `${verbLabel(verb)} ${k.label} ${t.name} with ${fieldPath(path)} := ${describe(value)}`, ...write(t, verb, setAt(manifest, path, value), path, {}), expect: expectOdd(path, original, value), harmless: false, snapshotAround: true };
}

/** Wrong types and odd values in each field of a valid status, through /status. */
function statusRequests(k: FuzzKind, random: Random): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const name = fixtureName(k);
  const statusPath = `${objectPath(k, name)}/status`;
  const object = { ...k.manifest(name), status: k.status };
  for (const [rel] of walk(k.status)) {
    const path = ['status', ...rel];
    const original = getAt(object, path);
    const wrong = wrongTypes(path, original);
    if (wrong.length) {
      const value = random.pick(wrong);
      const mutated = setAt(object, path, value);
      const patch = random.chance(0.5);
      out.push({
        what: `${patch ? 'PATCH (merge)' : 'PUT'} ${k.label}/status with ${fieldPath(path)} := ${describe(value)}`,
        method: patch ? 'PATCH' : 'PUT',
        path: statusPath,
        headers: { 'content-type': patch ? MERGE : JSON_TYPE },
        body: encode(patch ? mergePatchFor(mutated, path) : mutated),
        expect: 'refuse',
        harmless: false,
      });
    }
    if (random.chance(0.3)) {
      const value = random.pick(oddValues(original));
      out.push({
        what: `PATCH (merge) ${k.label}/status with ${fieldPath(path)} := ${describe(value)}, dry run`,
        method: 'PATCH',
        path: `${statusPath}?dryRun=All`,
        headers: { 'content-type': MERGE },
        body: encode(mergePatchFor(setAt(object, path, value), path)),
        expect: expectOdd(path, original, value),
        harmless: true,
      });
    }
  }
  out.push({ what: `PUT ${k.label}/status with status := "x"`, method: 'PUT', path: statusPath, headers: { 'content-type': JSON_TYPE }, body: encode({ ...object, status: 'x' }), expect: 'refuse', harmless: false });
  out.push({ what: `PATCH (json) ${k.label}/status moving spec into status`, method: 'PATCH', path: statusPath, headers: { 'content-type': JSON_PATCH }, body: encode([{ op: 'move', from: '/metadata/labels', path: '/status' }]), expect: 'any', harmless: false });
  return out;
}

/** Objects that name a field twice: under Strict refused, under Warn a warning (as dry runs). */
function duplicateFieldRequests(random: Random, target: (k: FuzzKind) => Target): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  for (const k of FUZZ_KINDS) {
    const objects = walk(k.manifest('x')).filter(([, v]) => typeOf(v) === 'object').map(([path]) => path);
    for (let i = 0; i < 4; i++) {
      const t = target(k);
      const verb = random.pick(['POST', 'PUT'] as Verb[]);
      const manifest = k.manifest(verb === 'POST' ? t.newName : t.name);
      const path = random.pick([[] as Path, ...objects]);
      const obj = getAt(manifest, path) as Record<string, unknown>;
      const key = random.pick(Object.keys(obj).length ? Object.keys(obj) : ['solo']);
      obj[`${key}${DUP}`] = random.pick(['dup', 1, null, {}]);
      const strict = random.chance(0.5);
      out.push({
        what: `${verb} ${k.label} naming ${fieldPath([...path, key])} twice${strict ? ' under Strict' : ', dry run'}`,
        ...write(t, verb, manifest, [], strict ? { fieldValidation: 'Strict' } : { dryRun: 'All' }),
        expect: strict ? 'refuse' : 'any',
        harmless: !strict,
      });
    }
  }
  return out;
}

const YAML = 'application/yaml';

/** Bodies that are not JSON or YAML, are cut short, bomb, nest, or hold what no object is. */
function malformedBodyRequests(random: Random, target: (k: FuzzKind) => Target): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const refuse = (what: string, method: string, path: string, body: string | Uint8Array, contentType = JSON_TYPE) =>
    out.push({ what, method, path, headers: { 'content-type': contentType }, body, expect: 'refuse', harmless: false });
  const dryRun = (what: string, method: string, path: string, body: string | Uint8Array, contentType = JSON_TYPE) =>
    out.push({ what, method, path: withQuery(path, { dryRun: 'All' }), headers: { 'content-type': contentType }, body, expect: 'any', harmless: true });
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'].concat('bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)).join('\n');
  const notObjects = ['null', '[]', '5', '"a string"', 'true', '{', '}', '[{}]', '{"a":1}{"b":2}', '{"apiVersion":"v1",}', '{\'a\':1}', '{"a":NaN}', '{"a":Infinity}', '{"a":01}', '{"a":1} // comment', '\u0000', '{"a":"\\x41"}', '{"a":"\\u12"}', '{"a":"unterminated', ' '.repeat(10_000), '\n\n', '---', '...'];
  for (const k of FUZZ_KINDS) {
    const t = target(k);
    const named = objectPath(k, t.name);
    const text = encode(k.manifest(t.newName));
    const cut = 1 + random.int(text.length - 2);
    refuse(`POST ${k.label} cut short at byte ${cut} of ${text.length}`, 'POST', k.collection, text.slice(0, cut));
    const own = encode(k.manifest(t.name));
    refuse(`PUT ${k.label} cut short`, 'PUT', named, own.slice(0, 1 + random.int(own.length - 2)));
    refuse(`PATCH (merge) ${k.label} cut short`, 'PATCH', named, '{"metadata":{"labels":{"a":', MERGE);
    refuse(`POST ${k.label} followed by garbage`, 'POST', k.collection, `${text}x`);
    const body = random.pick(notObjects);
    refuse(`POST ${k.label} with the body ${JSON.stringify(body).slice(0, 40)}`, 'POST', k.collection, body);
    refuse(`PUT ${k.label} with the body ${JSON.stringify(body).slice(0, 40)}`, 'PUT', named, random.pick(notObjects));
    refuse(`PATCH (${random.pick(['merge', 'strategic'])}) ${k.label} with a body that is no object`, 'PATCH', named, random.pick(notObjects), random.pick([MERGE, STRATEGIC]));
    refuse(`POST ${k.label} as a YAML alias bomb`, 'POST', k.collection, bomb, YAML);
    refuse(`POST ${k.label} as two YAML documents`, 'POST', k.collection, `${toYaml(k.manifest(t.newName))}---\n${toYaml(k.manifest(t.newName))}`, YAML);
    refuse(`POST ${k.label} 150 levels deep`, 'POST', k.collection, encode({ ...k.manifest(t.newName), metadata: { name: t.newName, annotations: deep(150) } }));
    refuse(`POST ${k.label} as YAML 150 levels deep`, 'POST', k.collection, `${'- '.repeat(150)}x`, YAML);
    const yaml = toYaml(k.manifest(t.newName));
    const lines = yaml.split('\n');
    const at = 1 + random.int(lines.length - 2);
    dryRun(`POST ${k.label} as YAML cut after line ${at}`, 'POST', k.collection, lines.slice(0, at).join('\n'), YAML);
    const tabbed = [...lines];
    tabbed[at] = tabbed[at].replace(/^( *)/, (s) => `\t${s}`);
    dryRun(`POST ${k.label} as YAML with a tab opening line ${at}`, 'POST', k.collection, tabbed.join('\n'), YAML);
    const tag = random.pick(['!!binary aGVsbG8=', '!!set {a, b}', '!!omap [a: 1]', '!!timestamp 2001-12-14', '!!float .nan', '!!int 0x1F', '!custom x', '!!python/object:os.system ls', '.inf', '~', 'yes', 'no', 'on', '0o17', '1_000', '2001-12-14', '*undefined', '&anchor x', '<<: {a: 1}', '? complex\n: key']);
    const scalarLine = lines.findIndex((l, i) => i > 0 && /: \S/.test(l));
    if (scalarLine > 0) {
      const tagged = [...lines];
      tagged[scalarLine] = tagged[scalarLine].replace(/: .*$/, `: ${tag}`);
      dryRun(`POST ${k.label} as YAML with "${tag.replaceAll('\n', ' ')}" on line ${scalarLine}`, 'POST', k.collection, tagged.join('\n'), YAML);
    }
    dryRun(`POST ${k.label} as YAML with merge keys`, 'POST', k.collection, `base: &base {app: fz}\n${yaml.replace('labels:\n', 'labels:\n    <<: *base\n')}`, YAML);
    dryRun(`POST ${k.label} after a byte order mark`, 'POST', k.collection, `\ufeff${text}`);
    const bytes = Buffer.from(text);
    const invalidUtf8 = Buffer.concat([bytes.subarray(0, bytes.indexOf('"fuzz"') + 2), Buffer.from([0xff, 0xfe, 0xc3]), bytes.subarray(bytes.indexOf('"fuzz"') + 2)]);
    dryRun(`POST ${k.label} with bytes that are no UTF-8 in a string`, 'POST', k.collection, new Uint8Array(invalidUtf8));
    dryRun(`POST ${k.label} as UTF-16`, 'POST', k.collection, new Uint8Array(Buffer.from(text, 'utf16le')));
  }
  refuse('POST a ConfigMap of random bytes', 'POST', FUZZ_KINDS.find((k) => k.kind === 'ConfigMap')!.collection, new Uint8Array(Array.from({ length: 512 }, () => random.int(256))));
  return out;
}

/** Bodies sent as what they are not, and patches sent as what no patch is. */
function contentTypeRequests(random: Random, target: (k: FuzzKind) => Target): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const unsupported = ['application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'image/png', 'application/', 'a/b/c', ';;;', 'application/cbor'];
  const maybe = ['text/plain', 'application/json; charset=utf-16', 'application/json;;', '*/*', 'APPLICATION/JSON', 'application/yaml; charset=latin1', 'application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml', 'text/yaml', 'application/x-yaml', 'application/json; foo="bar', 'application/vnd.kubernetes.protobuf', ''];
  for (const k of FUZZ_KINDS) {
    const t = target(k);
    const body = encode(k.manifest(t.newName));
    const ct = random.pick(unsupported);
    out.push({ what: `POST ${k.label} as ${ct}`, method: 'POST', path: k.collection, headers: { 'content-type': ct }, body, expect: 'refuse', harmless: false });
    const odd = random.pick(maybe);
    out.push({ what: `POST ${k.label} as "${odd}", dry run`, method: 'POST', path: `${k.collection}?dryRun=All`, headers: odd ? { 'content-type': odd } : {}, body: odd ? body : new Uint8Array(Buffer.from(body)), expect: 'any', harmless: true });
    const patchCt = random.pick(['application/json', 'text/plain', 'application/yaml', 'application/xml', 'application/merge-patch+yaml', 'application/strategic-merge-patch+yaml', 'application/json-patch+yaml', 'application/vnd.kubernetes.protobuf']);
    out.push({ what: `PATCH ${k.label} as ${patchCt}`, method: 'PATCH', path: objectPath(k, t.name), headers: { 'content-type': patchCt }, body: encode({ metadata: { labels: { a: 'b' } } }), expect: 'refuse', harmless: false });
    out.push({ what: `PATCH ${k.label} without a content type`, method: 'PATCH', path: objectPath(k, t.name), body: new Uint8Array(Buffer.from(encode({ metadata: { labels: { a: 'b' } } }))), expect: 'refuse', harmless: false });
  }
  return out;
}

// ---- protobuf ---------------------------------------------------------------------------------

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
const lengthDelimited = (field: number, payload: number[]) => [...varint((field << 3) | 2), ...varint(payload.length), ...payload];
const text = (field: number, s: string) => lengthDelimited(field, [...Buffer.from(s)]);

/** A valid protobuf ConfigMap (runtime.Unknown envelope with the k8s\0 magic). */
function protobufConfigMap(name: string, apiVersion = 'v1', kind = 'ConfigMap'): number[] {
  const meta = [...text(1, name), ...text(3, FUZZ_NAMESPACE)];
  const raw = [...lengthDelimited(1, meta), ...lengthDelimited(2, [...text(1, 'a'), ...text(2, 'one')])];
  const typeMeta = [...text(1, apiVersion), ...text(2, kind)];
  return [0x6b, 0x38, 0x73, 0x00, ...lengthDelimited(1, typeMeta), ...lengthDelimited(2, raw)];
}

function protobufRequests(random: Random, target: (k: FuzzKind) => Target): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const k = FUZZ_KINDS.find((x) => x.kind === 'ConfigMap')!;
  const PROTOBUF = 'application/vnd.kubernetes.protobuf';
  const send = (what: string, bytes: number[], expect: 'refuse' | 'any') => {
    out.push({ what, method: 'POST', path: expect === 'any' ? `${k.collection}?dryRun=All` : k.collection, headers: { 'content-type': PROTOBUF }, body: new Uint8Array(bytes), expect, harmless: expect === 'any' });
  };
  send('POST a protobuf ConfigMap, dry run', protobufConfigMap(target(k).newName), 'any');
  for (let i = 0; i < 50; i++) {
    const bytes = protobufConfigMap(target(k).newName);
    const how = random.int(5);
    if (how === 0) {
      const flips = 1 + random.int(4);
      for (let f = 0; f < flips; f++) bytes[4 + random.int(bytes.length - 4)] = random.int(256);
      send(`POST a protobuf ConfigMap with ${flips} random bytes, dry run`, bytes, 'any');
    } else if (how === 1) {
      const cut = 5 + random.int(bytes.length - 6);
      send(`POST a protobuf ConfigMap cut at byte ${cut}, dry run`, bytes.slice(0, cut), 'any');
    } else if (how === 2) {
      const at = 4 + random.int(bytes.length - 4);
      const noise = Array.from({ length: 1 + random.int(8) }, () => random.int(256));
      send(`POST a protobuf ConfigMap with ${noise.length} bytes inserted at ${at}, dry run`, [...bytes.slice(0, at), ...noise, ...bytes.slice(at)], 'any');
    } else if (how === 3) {
      // A length far past the body, and a varint that never ends.
      const huge = random.chance(0.5) ? [0x12, 0xff, 0xff, 0xff, 0xff, 0x0f] : [0x12, ...Array(12).fill(0xff)];
      send('POST a protobuf ConfigMap with a length past the body', [0x6b, 0x38, 0x73, 0x00, ...huge], 'refuse');
    } else {
      // Unknown fields nested deep inside one another, each skipped by its length.
      let nested: number[] = text(1, 'x');
      for (let d = 0; d < 200; d++) nested = lengthDelimited(99, nested);
      send('POST a protobuf ConfigMap with 200 levels of unknown fields, dry run', [...bytes, ...lengthDelimited(2, nested)], 'any');
    }
  }
  send('POST protobuf without the magic', Array.from({ length: 64 }, () => random.int(256)), 'refuse');
  send('POST protobuf of an unknown kind', protobufConfigMap('x', 'v1', 'Widget'), 'refuse');
  send('POST protobuf of another kind than the path', protobufConfigMap('x', 'v1', 'Secret'), 'refuse');
  send('POST protobuf with only the magic', [0x6b, 0x38, 0x73, 0x00], 'refuse');
  return out;
}

// ---- patches ----------------------------------------------------------------------------------

const CONFIGMAP = () => FUZZ_KINDS.find((k) => k.kind === 'ConfigMap')!;
const DEPLOYMENT = () => FUZZ_KINDS.find((k) => k.kind === 'Deployment')!;
const POD = () => FUZZ_KINDS.find((k) => k.kind === 'Pod')!;

/** JSON patches that cannot apply, and pathological ones (as dry runs when they might). */
function jsonPatchRequests(random: Random): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const must: unknown[] = [
    {}, 'x', 5, null, [1], ['x'], [null], [[]], [{ path: '/metadata/labels/a' }], [{ op: 'frob', path: '/metadata/labels/a', value: 'x' }],
    [{ op: 'add', value: 'x' }], [{ op: 'add', path: 'metadata/labels/a', value: 'x' }], [{ op: 'add', path: 5, value: 'x' }], [{ op: 5, path: '/a' }],
    [{ op: 'test', path: '/metadata/name', value: 'nope' }], [{ op: 'remove', path: '/metadata/labels/nope' }], [{ op: 'replace', path: '/metadata/nope/deeper', value: 1 }],
    [{ op: 'move', from: '/metadata/nope', path: '/metadata/labels/x' }], [{ op: 'copy', from: '/nope', path: '/metadata/labels/x' }],
    [{ op: 'move', from: '/metadata', path: '/metadata/labels/x' }], [{ op: 'add', path: '/metadata/finalizers/99', value: 'x' }],
    [{ op: 'add', path: '/metadata/finalizers/-1', value: 'x' }], [{ op: 'add', path: '/metadata/finalizers/01', value: 'x' }],
    [{ op: 'add', path: '/metadata/finalizers/1e2', value: 'x' }], [{ op: 'add', path: '/metadata/finalizers/99999999999999999999', value: 'x' }],
    [{ op: 'add', path: '/metadata/labels/~2', value: 'x' }], [{ op: 'replace', path: '/metadata/name', value: 'other' }],
    [{ op: 'replace', path: '/kind', value: 'Other' }], [{ op: 'replace', path: '/apiVersion', value: 'v9' }], [{ op: 'remove', path: '' }],
    [{ op: 'replace', path: '', value: 5 }], [{ op: 'replace', path: '', value: [] }], [{ op: 'test', path: '/metadata/labels', value: { nope: 'x' } }],
    [{ op: 'add', path: '/metadata/labels/a', value: 5 }], [{ op: 'add', path: '/metadata', value: 'x' }],
    [{ op: 'copy', from: '/metadata', path: '/metadata/annotations/self' }],
  ];
  const maybe: unknown[] = [
    [], [{ op: 'add', path: '/metadata/labels/new', value: 'x' }], [{ op: 'add', path: '/metadata/finalizers', value: [] }, { op: 'add', path: '/metadata/finalizers/-', value: 'example.com/x' }],
    [{ op: 'test', path: '/metadata/name', value: 'fz-configmap' }], [{ op: 'remove', path: '/metadata/labels' }], [{ op: 'replace', path: '/data', value: null }],
    [{ op: 'move', from: '/data', path: '/binaryData' }], [{ op: 'copy', from: '/data', path: '/metadata/annotations' }], [{ op: 'remove', path: '/metadata' }],
    [{ op: 'replace', path: '', value: {} }], [{ op: 'add', path: '/metadata/labels/a', value: 'b', extra: 'field' }], [{ op: 'ADD', path: '/metadata/labels/a', value: 'b' }],
    [{ op: 'add', path: '/metadata/managedFields', value: [{ manager: 'x', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } }] }],
    [{ op: 'add', path: '/metadata/ownerReferences', value: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u' }] }],
    Array.from({ length: 500 }, (_, i) => ({ op: 'add', path: `/metadata/annotations/k${i}`, value: 'v' })),
    Array.from({ length: 200 }, () => ({ op: 'copy', from: '/data', path: '/metadata/labels' })),
    [{ op: 'add', path: '/metadata/resourceVersion', value: '1' }], [{ op: 'remove', path: '/metadata/uid' }], [{ op: 'replace', path: '/metadata/creationTimestamp', value: 'soon' }],
  ];
  const path = objectPath(CONFIGMAP(), fixtureName(CONFIGMAP()));
  for (const patch of must) out.push({ what: `PATCH (json) ConfigMap with ${encode(patch).slice(0, 120)}`, method: 'PATCH', path, headers: { 'content-type': JSON_PATCH }, body: encode(patch), expect: 'refuse', harmless: false });
  for (const patch of maybe) out.push({ what: `PATCH (json) ConfigMap with ${encode(patch).slice(0, 120)}, dry run`, method: 'PATCH', path: `${path}?dryRun=All`, headers: { 'content-type': JSON_PATCH }, body: encode(patch), expect: 'any', harmless: true });
  // Random operations at random pointers into each kind's fixture.
  for (let i = 0; i < 85; i++) {
    const k = FUZZ_KINDS[i % FUZZ_KINDS.length];
    const pointers = walk(k.manifest(fixtureName(k))).map(([p]) => pointer(p));
    const ops = Array.from({ length: 1 + random.int(4) }, () => {
      const op = random.pick(['add', 'remove', 'replace', 'move', 'copy', 'test']);
      const value = random.pick([null, 'x', 1, raw('1e300'), [], {}, true, deep(30), '2024-01-01T00:00:00Z']);
      return { op, path: random.pick([...pointers, '/-', '/metadata/finalizers/-', '']), from: random.pick(pointers), value };
    });
    out.push({ what: `PATCH (json) ${k.label} with ${encode(ops).slice(0, 160)}, dry run`, method: 'PATCH', path: `${objectPath(k, fixtureName(k))}?dryRun=All`, headers: { 'content-type': JSON_PATCH }, body: encode(ops), expect: 'any', harmless: true });
  }
  return out;
}

function mergePatchRequests(random: Random): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const deployPath = objectPath(DEPLOYMENT(), fixtureName(DEPLOYMENT()));
  const podPath = objectPath(POD(), fixtureName(POD()));
  const must: [string, unknown, string][] = [
    [deployPath, { apiVersion: 'apps/v2' }, MERGE], [deployPath, { kind: 'ReplicaSet' }, MERGE], [deployPath, { metadata: { name: 'other' } }, MERGE],
    [deployPath, { metadata: { namespace: 'default' } }, MERGE], [deployPath, { metadata: { resourceVersion: '1' } }, MERGE],
    [deployPath, { metadata: { resourceVersion: 5 } }, MERGE], [deployPath, { metadata: { resourceVersion: 'abc' } }, MERGE],
    [deployPath, { metadata: { ownerReferences: [{}] } }, MERGE], [deployPath, { metadata: { managedFields: 'x' } }, MERGE],
    [deployPath, { metadata: 'x' }, MERGE], [deployPath, { spec: [] }, MERGE], [deployPath, { spec: { replicas: -1 } }, MERGE],
    [deployPath, { spec: { selector: { matchLabels: { app: 'other' } } } }, MERGE], [deployPath, { spec: { template: { spec: { containers: [] } } } }, MERGE],
    [deployPath, { $patch: 5 }, STRATEGIC], [deployPath, { metadata: { $patch: 'bogus' } }, STRATEGIC], [deployPath, { $patch: 'frob' }, STRATEGIC],
    [deployPath, { metadata: { '$deleteFromPrimitiveList/finalizers': 'x' } }, STRATEGIC], [deployPath, { metadata: { '$setElementOrder/finalizers': 'x' } }, STRATEGIC],
    [deployPath, { spec: { $retainKeys: 'x' } }, STRATEGIC], [deployPath, { spec: { template: { spec: { containers: [{ name: 5 }] } } } }, STRATEGIC],
    [deployPath, { spec: { template: { spec: { containers: [{ image: 'no-name' }] } } } }, STRATEGIC],
    [deployPath, { spec: { template: { spec: { containers: 'x' } } } }, STRATEGIC], [deployPath, { spec: { template: { spec: { containers: [5] } } } }, STRATEGIC],
    [deployPath, { spec: { template: { spec: { '$setElementOrder/containers': 'x' } } } }, STRATEGIC],
    [deployPath, { spec: { template: { spec: { containers: [{ name: 'main', $patch: 'bogus' }] } } } }, STRATEGIC],
    [deployPath, { spec: { template: { spec: { containers: [{ $patch: 'delete' }] } } } }, STRATEGIC],
    [podPath, { spec: { containers: [{ name: 'main', image: 'other:1' , ports: 'x' }] } }, STRATEGIC], [podPath, { spec: { nodeName: 5 } }, MERGE],
    [podPath, { spec: { containers: [{ name: 'sidecar', image: 'busybox' }] } }, STRATEGIC],
  ];
  const maybe: [string, unknown, string][] = [
    [deployPath, { metadata: null }, MERGE], [deployPath, { spec: null }, MERGE], [deployPath, {}, MERGE], [deployPath, { metadata: { uid: 'x' } }, MERGE],
    [deployPath, { metadata: { creationTimestamp: 'garbage' } }, MERGE], [deployPath, { metadata: { generation: -5 } }, MERGE], [deployPath, { metadata: { finalizers: ['example.com/x'] } }, MERGE],
    [deployPath, { metadata: { deletionTimestamp: '2000-01-01T00:00:00Z' } }, MERGE], [deployPath, { status: { replicas: 'x' } }, MERGE], [deployPath, { metadata: { labels: null } }, MERGE],
    [deployPath, { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'y', uid: '' }] } }, MERGE],
    [deployPath, { metadata: { managedFields: [{ garbage: 1 }] } }, MERGE], [deployPath, { $patch: 'delete' }, STRATEGIC], [deployPath, { $patch: 'replace' }, STRATEGIC],
    [deployPath, { spec: { $patch: 'replace', replicas: 1 } }, STRATEGIC], [deployPath, { metadata: { $retainKeys: ['name'] } }, STRATEGIC],
    [deployPath, { spec: { template: { spec: { containers: [{ name: 'main', $patch: 'delete' }] } } } }, STRATEGIC],
    [deployPath, { spec: { template: { spec: { containers: [{ name: 'main', $patch: 'replace' }] } } } }, STRATEGIC],
    [deployPath, { spec: { template: { spec: { containers: [{ $patch: 'replace' }] } } } }, STRATEGIC],
    [deployPath, { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'zzz' }, { name: 'main' }] } } } }, STRATEGIC],
    [deployPath, { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 5 }] } } } }, STRATEGIC],
    [deployPath, { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } }, STRATEGIC], [deployPath, { spec: { template: { spec: { volumes: [{ name: 'scratch', $patch: 'delete' }] } } } }, STRATEGIC],
    [deployPath, { spec: { template: { metadata: { labels: { $patch: 'replace', app: 'fz' } } } } }, STRATEGIC], [deployPath, { 'x/y': { '~': 1 } }, MERGE],
    [podPath, { spec: { containers: [{ name: 'main', image: 'busybox:1.37' }] } }, STRATEGIC], [podPath, { spec: { tolerations: [{ operator: 'Exists' }] } }, STRATEGIC],
  ];
  for (const [path, patch, ct] of must) out.push({ what: `PATCH (${ct === MERGE ? 'merge' : 'strategic'}) ${path.split('/').at(-2)} with ${encode(patch).slice(0, 120)}`, method: 'PATCH', path, headers: { 'content-type': ct }, body: encode(patch), expect: 'refuse', harmless: false });
  for (const [path, patch, ct] of maybe) out.push({ what: `PATCH (${ct === MERGE ? 'merge' : 'strategic'}) ${path.split('/').at(-2)} with ${encode(patch).slice(0, 120)}, dry run`, method: 'PATCH', path: `${path}?dryRun=All`, headers: { 'content-type': ct }, body: encode(patch), expect: 'any', harmless: true });
  // Directive keys in random places of a strategic merge patch.
  const directives = ['$patch', '$retainKeys', '$setElementOrder/containers', '$deleteFromPrimitiveList/args', '$setElementOrder/ports', '$setElementOrder/args'];
  const deployment = DEPLOYMENT().manifest(fixtureName(DEPLOYMENT()));
  const objects = walk(deployment).filter(([, v]) => typeOf(v) === 'object').map(([p]) => p);
  for (let i = 0; i < 40; i++) {
    const path = random.pick(objects);
    const mutated = setAt(deployment, [...path, random.pick(directives)], random.pick(['delete', 'replace', 'merge', 'x', 5, null, [], ['main'], [{ name: 'main' }], {}, [5]]));
    out.push({ what: `PATCH (strategic) Deployment with a directive under ${fieldPath(path) || 'the root'}, dry run`, method: 'PATCH', path: `${deployPath}?dryRun=All`, headers: { 'content-type': STRATEGIC }, body: encode(mergePatchFor(mutated, path.length ? path : ['spec'])), expect: 'any', harmless: true });
  }
  return out;
}

function applyRequests(random: Random, fresh: () => string): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const k = CONFIGMAP();
  const path = objectPath(k, fixtureName(k));
  const manifest = k.manifest(fixtureName(k));
  const must: [string, string, string][] = [
    ['without a fieldManager', path, encode(manifest)],
    ['with an empty fieldManager', `${path}?fieldManager=`, encode(manifest)],
    ['with a fieldManager of 129 characters', `${path}?fieldManager=${'m'.repeat(129)}`, encode(manifest)],
    ['with an odd force', `${path}?fieldManager=fuzzer&force=maybe`, encode(manifest)],
    ['of YAML garbage', `${path}?fieldManager=fuzzer`, 'a: [b\n'],
    ['of a list', `${path}?fieldManager=fuzzer`, '[]'],
    ['of a string', `${path}?fieldManager=fuzzer`, '"x"'],
    ['without apiVersion and kind', `${path}?fieldManager=fuzzer`, encode({ metadata: { name: fixtureName(k) }, data: { a: 'b' } })],
    ['of another kind', `${path}?fieldManager=fuzzer`, encode({ ...manifest, kind: 'Secret' })],
    ['of another name', `${path}?fieldManager=fuzzer`, encode({ ...manifest, metadata: { name: 'other' } })],
    ['of another namespace', `${path}?fieldManager=fuzzer`, encode({ ...manifest, metadata: { name: fixtureName(k), namespace: 'default' } })],
    ['of a YAML alias bomb', `${path}?fieldManager=fuzzer`, 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]'],
    ['with data as a list', `${path}?fieldManager=fuzzer`, encode({ ...manifest, data: ['x'] })],
    ['with a stale resourceVersion', `${path}?fieldManager=fuzzer`, encode({ ...manifest, metadata: { ...manifest.metadata, resourceVersion: '1' } })],
  ];
  for (const [what, p, body] of must) out.push({ what: `PATCH (apply) ConfigMap ${what}`, method: 'PATCH', path: p, headers: { 'content-type': APPLY }, body, expect: 'refuse', harmless: false });
  const maybe: [string, unknown][] = [
    ['with managedFields', { ...manifest, metadata: { ...manifest.metadata, managedFields: [{ manager: 'x', operation: 'Apply' }] } }],
    ['with a null data', { ...manifest, data: null }], ['with only the name', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: fixtureName(k) } }],
    ['with a uid', { ...manifest, metadata: { ...manifest.metadata, uid: 'not-the-uid' } }], ['with status', { ...manifest, status: { x: 1 } }],
  ];
  for (const [what, body] of maybe) {
    out.push({ what: `PATCH (apply) ConfigMap ${what}, dry run`, method: 'PATCH', path: `${path}?fieldManager=fuzzer&dryRun=All&force=${random.pick(['true', 'false'])}`, headers: { 'content-type': random.pick([APPLY, 'application/apply-patch+json']) }, body: encode(body), expect: 'any', harmless: true });
  }
  // Apply creates what does not exist, so a refusal must leave no half-made object behind.
  for (const kk of FUZZ_KINDS) {
    const name = fresh();
    const bad = setAt(kk.manifest(name), ['metadata', 'labels'], random.pick([['x'], 'x', 5]));
    out.push({ what: `PATCH (apply) creating ${kk.label} ${name} with labels of the wrong type`, method: 'PATCH', path: `${objectPath(kk, name)}?fieldManager=fuzzer`, headers: { 'content-type': APPLY }, body: encode(bad), expect: 'refuse', harmless: false });
  }
  return out;
}

// ---- queries, paths, subresources -------------------------------------------------------------

function labelSelectorGarbage(random: Random): string {
  const tokens = ['a', 'b', 'app', 'tier', '=', '==', '!=', ',', ' in ', ' notin ', '(', ')', '!', 'x.y/z', '-', '_', '.', ' ', '\t', 'é', '%', '"', '*', 'a'.repeat(70), '\u0000', 'fz', 'backend', '>', '<', ' gt ', '1', '/', '\\', 'example.com/'];
  return Array.from({ length: 1 + random.int(8) }, () => random.pick(tokens)).join('');
}

function fieldSelectorGarbage(random: Random): string {
  const tokens = ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase', 'spec.foo', 'type', '=', '==', '!=', ',', '\\', '\\,', 'x', '', ' ', 'fz-pod', '\u0000', 'é', 'a'.repeat(300)];
  return Array.from({ length: 1 + random.int(6) }, () => random.pick(tokens)).join('');
}

function continueGarbage(random: Random): string {
  const tokenObject = () => {
    const o: Record<string, unknown> = {};
    if (random.chance(0.8)) o.v = random.pick(['meta.k8s.io/v1', 'x', 5, null, '']);
    if (random.chance(0.8)) o.rv = random.pick([1, -1, 0, 1.5, 1e300, '5', 2 ** 53, null, 99999999]);
    if (random.chance(0.8)) o.start = random.pick(['fuzz/fz-pod', 'fuzz/', '/x', '', 'a', '../../', 'fuzz/\u0000', 5, 'x'.repeat(1000), 'fuzz/zzzz', '/', '//']);
    return o;
  };
  switch (random.int(6)) {
    case 0: return Buffer.from(JSON.stringify(tokenObject())).toString('base64url');
    case 1: return Buffer.from(JSON.stringify(tokenObject())).toString('base64');
    case 2: return Buffer.from(random.pick(['[]', '"x"', '5', 'null', '{', '{"v":"meta.k8s.io/v1","rv":1,"start":"fuzz/a","extra":[1]}'])).toString('base64url');
    case 3: return Array.from({ length: 1 + random.int(40) }, () => random.pick([...'ABCxyz019-_+/=%!.~ '])).join('');
    case 4: return 'A'.repeat(10_000);
    default: return Buffer.from(Array.from({ length: random.int(64) }, () => random.int(256))).toString('base64url');
  }
}

const ODD_INTS = ['-1', '0', '1', '2', '500', 'abc', '1.5', '1e3', '', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '99999999999999999999', ' 1', '0x10', '+1', '00001'];
const ODD_RVS = ['', '0', '1', '-1', 'abc', '1.5', '1e3', '18446744073709551615', '18446744073709551616', '9'.repeat(40), ' 1', '0x10', '+1', '00001', '1\u0000', '999999999'];
const ODD_BOOLS = ['true', 'false', '1', '0', '', 'True', 'yes', 'FALSE', '2', 'nope'];

/** Lists, gets and watches with every query parameter odd, and writes with odd write options. */
function queryRequests(random: Random): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  for (let i = 0; i < 240; i++) {
    const k = random.pick(FUZZ_KINDS);
    const query: Record<string, string | undefined> = {};
    const params: [string, () => string][] = [
      ['limit', () => random.pick(ODD_INTS)], ['continue', () => continueGarbage(random)], ['resourceVersion', () => random.pick(ODD_RVS)],
      ['resourceVersionMatch', () => random.pick(['Exact', 'NotOlderThan', 'exact', '', 'x'])], ['timeoutSeconds', () => random.pick(ODD_INTS)],
      ['watch', () => random.pick(ODD_BOOLS)], ['labelSelector', () => labelSelectorGarbage(random)], ['fieldSelector', () => fieldSelectorGarbage(random)],
      ['allowWatchBookmarks', () => random.pick(ODD_BOOLS)], ['sendInitialEvents', () => random.pick(ODD_BOOLS)], ['pretty', () => random.pick(ODD_BOOLS)],
      ['includeObject', () => random.pick(['None', 'Object', 'Metadata', 'x'])],
    ];
    for (const [name, value] of params) if (random.chance(0.3)) query[name] = value();
    // A watch is only opened to see its first answer: the runner reads the head and hangs up.
    if (query.watch !== undefined && query.timeoutSeconds === undefined && random.chance(0.5)) query.timeoutSeconds = '1';
    const named = random.chance(0.25);
    const path = withQuery(named ? objectPath(k, random.pick([fixtureName(k), 'nope'])) : k.collection, query);
    const accept = random.pick([undefined, 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', '*/*', 'text/html', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io']);
    out.push({ what: `GET ${path.slice(0, 200)}${accept ? ` accepting ${accept}` : ''}`, method: 'GET', path, headers: accept ? { accept } : {}, expect: 'any', harmless: true });
  }
  // Each odd value of each parameter at least once, whatever the seed.
  const sweeps: [string, string[], Record<string, string>][] = [
    ['limit', ODD_INTS, {}], ['resourceVersion', ODD_RVS, {}], ['resourceVersion', ODD_RVS, { watch: 'true', timeoutSeconds: '1' }],
    ['timeoutSeconds', ODD_INTS, { watch: 'true' }], ['watch', ODD_BOOLS, { timeoutSeconds: '1' }], ['resourceVersionMatch', ['Exact', 'NotOlderThan', 'exact', '', 'x'], { resourceVersion: '1' }],
  ];
  for (const [name, values, extra] of sweeps) {
    for (const value of values) {
      const k = random.pick(FUZZ_KINDS);
      const path = withQuery(k.collection, { ...extra, [name]: value });
      out.push({ what: `GET ${path}`, method: 'GET', path, expect: 'any', harmless: true });
    }
  }
  // The list paths of every group, cluster-wide, with garbage selectors.
  for (let i = 0; i < 30; i++) {
    const k = random.pick(FUZZ_KINDS);
    const clusterWide = k.collection.replace(`/namespaces/${FUZZ_NAMESPACE}`, '');
    const path = withQuery(clusterWide, { labelSelector: labelSelectorGarbage(random), fieldSelector: random.chance(0.5) ? fieldSelectorGarbage(random) : undefined, limit: random.pick(ODD_INTS) });
    out.push({ what: `GET ${path.slice(0, 200)}`, method: 'GET', path, expect: 'any', harmless: true });
  }
  // Writes with odd write options: refused unless valid, and then dry runs.
  const writeOptions: [Record<string, string>, boolean][] = [
    [{ dryRun: 'all' }, true], [{ dryRun: '' }, false], [{ dryRun: 'None' }, true], [{ dryRun: 'All,All' }, true], [{ dryRun: 'x' }, true],
    [{ fieldValidation: 'strict' }, true], [{ fieldValidation: 'x' }, true], [{ fieldManager: 'm'.repeat(129) }, true], [{ fieldManager: 'tab\there' }, true],
    [{ fieldManager: 'nul\u0000' }, true], [{ fieldManager: 'é', dryRun: 'All' }, false], [{ fieldManager: 'm'.repeat(128), dryRun: 'All' }, false], [{ fieldManager: '', dryRun: 'All' }, false],
  ];
  for (const k of FUZZ_KINDS) {
    const [options, refused] = random.pick(writeOptions);
    const verb = random.pick(['POST', 'PUT', 'merge'] as Verb[]);
    const t: Target = { kind: k, name: fixtureName(k), newName: `fz-opt-${k.label.replace(/\W/g, '').toLowerCase()}` };
    const query = refused ? options : { dryRun: 'All', ...options };
    out.push({
      what: `${verbLabel(verb)} ${k.label} with ${JSON.stringify(options)}${refused ? '' : ', dry run'}`,
      ...write(t, verb, k.manifest(verb === 'POST' ? t.newName : t.name), ['metadata', 'labels'], query),
      expect: refused ? 'refuse' : 'any',
      harmless: !refused,
    });
  }
  return out;
}

const ODD_SEGMENTS = ['%2F', '%00', '%zz', '%', '%2', '%E2%80%AE', '%F0%9F%98%80', '..', '.', '%2e%2e', 'a%20b', 'UPPER', 'x'.repeat(254), 'x'.repeat(5000), '%25', ';', '~', "'", '%22', '%3Cscript%3E', '%C0%AE', '%FF', 'a%2Fb', '-', '_', 'a.b', '0'];

/** Paths that name odd objects, namespaces, groups, versions, resources and subresources. */
function pathRequests(random: Random): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const fixed = [
    '/apis/fake.example.com/v1/things', '/apis/apps/v2/deployments', '/apis/apps', '/apis/apps/', '/api', '/api/', '/api/v1/', '/api/v2/pods', '/apis//v1/pods',
    '//api/v1/pods', '/api//v1/pods', '/api/v1/namespaces//pods', '/api/v1/namespaces/fuzz/pods/', '/api/v1/namespaces/fuzz/pods//status',
    '/api/v1/namespaces/fuzz/pods/fz-pod/exec', '/api/v1/namespaces/fuzz/pods/fz-pod/status/extra', '/api/v1/namespaces/fuzz/pods/fz-pod/binding',
    '/api/v1/namespaces/fuzz/configmaps/fz-configmap/scale', '/api/v1/namespaces/fuzz/configmaps/fz-configmap/status', '/apis/apps/v1/namespaces/fuzz/deployments/fz-deployment/rollback',
    '/api/v1/watch', '/api/v1/watch/namespaces', '/api/v1/watch/namespaces/fuzz/pods/fz-pod/status', '/api/v1/namespaces/fuzz', '/api/v1/namespaces/fuzz/status',
    '/api/v1/namespaces/fuzz/finalize', '/api/v1/namespaces/nowhere/pods', '/api/v1/namespaces/nowhere/pods/x', '/api/v1/priorityclasses', '/apis/scheduling.k8s.io/v1/namespaces/fuzz/priorityclasses',
    '/apis/scheduling.k8s.io/v1/namespaces/fuzz/priorityclasses/fz-priorityclass', '/api/v1/nodes/x/proxy', '/api/v1/namespaces/fuzz/services/fz-service/proxy/',
    '/api/v1/namespaces/fuzz/pods/fz-pod/log/extra', '/openapi/v3/nope', '/openapi/v3/apis/nope/v1', '/openapi/v2', '/version/x', '/healthz/x', '/metrics/x',
    '/apis/events.k8s.io/v1/events', '/apis/events.k8s.io/v1beta1/events', '/apis/policy/v1/namespaces/fuzz/poddisruptionbudgets/fz-poddisruptionbudget/status/x',
  ];
  const discovery = ['/api', '/apis', '/api/v1', '/apis/apps/v1', '/apis/events.k8s.io', '/openapi/v3', '/openapi/v3/api/v1', '/openapi/v3/apis/apps/v1?hash=x', '/version'];
  for (const path of discovery) {
    const accept = random.pick(['application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json', 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf', 'application/vnd.kubernetes.protobuf', 'text/html', '*/*', '']);
    out.push({ what: `GET ${path} accepting ${accept}`, method: 'GET', path, headers: accept ? { accept } : {}, expect: 'any', harmless: true });
  }
  for (const path of fixed) {
    for (const method of ['GET', random.pick(['POST', 'PUT', 'PATCH', 'DELETE'])]) {
      const write = method !== 'GET';
      const full = write ? withQuery(path, { dryRun: 'All' }) : path;
      out.push({ what: `${method} ${full}`, method, path: full, headers: write ? { 'content-type': method === 'PATCH' ? MERGE : JSON_TYPE } : {}, body: write ? encode({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }) : undefined, expect: 'any', harmless: true });
    }
  }
  for (let i = 0; i < 120; i++) {
    const k = random.pick(FUZZ_KINDS);
    const segment = random.pick(ODD_SEGMENTS);
    const where = random.int(3);
    let path: string;
    if (where === 0) path = `${k.collection}/${segment}`;
    else if (where === 1) path = k.collection.includes(`/namespaces/${FUZZ_NAMESPACE}/`) ? k.collection.replace(`/namespaces/${FUZZ_NAMESPACE}/`, `/namespaces/${segment}/`) : `${k.collection}/${segment}`;
    else path = `${objectPath(k, fixtureName(k))}/${segment}`;
    const method = random.pick(['GET', 'GET', 'PUT', 'PATCH', 'DELETE', 'POST']);
    if (method === 'GET') {
      out.push({ what: `GET ${path.slice(0, 200)}`, method, path, expect: 'any', harmless: true });
    } else {
      // The body names what the path names, so that only the path is odd.
      let name = segment;
      try {
        name = decodeURIComponent(segment);
      } catch {
        /* an escape that is not one: the server must say so */
      }
      const body = method === 'PATCH' ? encode({ metadata: { labels: { a: 'b' } } }) : encode({ ...k.manifest(name), metadata: { name } });
      out.push({ what: `${method} ${path.slice(0, 200)}, dry run`, method, path: withQuery(path, { dryRun: 'All' }), headers: { 'content-type': method === 'PATCH' ? MERGE : JSON_TYPE }, body, expect: 'any', harmless: true });
    }
  }
  return out;
}

/** The scale subresource of Deployments and ReplicaSets, with odd Scales and patches. */
function scaleRequests(): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  for (const k of FUZZ_KINDS.filter((x) => x.scale)) {
    const path = `${objectPath(k, fixtureName(k))}/scale`;
    const scale = (spec: unknown, extra: Record<string, unknown> = {}) => encode({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: fixtureName(k), namespace: FUZZ_NAMESPACE }, spec, ...extra });
    out.push({ what: `GET ${k.label}/scale`, method: 'GET', path, expect: 'succeed', harmless: true });
    for (const replicas of ['x', '5', true, [], {}, raw('-1'), raw('2147483648'), raw('1e300'), raw('1.5'), raw('9223372036854775808'), raw('-9223372036854775809')]) {
      out.push({ what: `PUT ${k.label}/scale with spec.replicas := ${describe(replicas)}`, method: 'PUT', path, headers: { 'content-type': JSON_TYPE }, body: scale({ replicas }), expect: 'refuse', harmless: false });
    }
    for (const body of ['[]', '"x"', '5', 'null', scale('x'), scale([]), scale({ replicas: 1 }, { metadata: { name: fixtureName(k), resourceVersion: '1' } }), '{']) {
      out.push({ what: `PUT ${k.label}/scale with ${body.slice(0, 80)}`, method: 'PUT', path, headers: { 'content-type': JSON_TYPE }, body, expect: 'refuse', harmless: false });
    }
    for (const body of [scale({ replicas: 0 }), scale({ replicas: null }), scale({}), scale({ replicas: raw('-0') }), scale({ replicas: 3 }, { kind: 'Deployment' }), scale({ replicas: 3 }, { metadata: { name: 'other' } }), encode({ spec: { replicas: 2 } })]) {
      out.push({ what: `PUT ${k.label}/scale with ${body.slice(0, 80)}, dry run`, method: 'PUT', path: `${path}?dryRun=All`, headers: { 'content-type': JSON_TYPE }, body, expect: 'any', harmless: true });
    }
    const patches: [unknown, string, boolean][] = [
      [{ spec: { replicas: 'x' } }, MERGE, true], [{ spec: { replicas: -1 } }, MERGE, true], [{ spec: 'x' }, MERGE, true], [[{ op: 'replace', path: '/spec/replicas', value: 'x' }], JSON_PATCH, true],
      [[{ op: 'remove', path: '/spec/nope' }], JSON_PATCH, true], [{ spec: { replicas: 3 } }, APPLY, true], [{ spec: { replicas: raw('1e300') } }, STRATEGIC, true], ['x', MERGE, true],
      [{ spec: { replicas: 4 } }, MERGE, false], [[{ op: 'remove', path: '/spec/replicas' }], JSON_PATCH, false], [{ spec: { replicas: null } }, MERGE, false], [{ metadata: { name: 'other' } }, STRATEGIC, false],
    ];
    for (const [patch, ct, refused] of patches) {
      out.push({ what: `PATCH ${k.label}/scale as ${ct} with ${encode(patch).slice(0, 80)}${refused ? '' : ', dry run'}`, method: 'PATCH', path: refused ? path : `${path}?dryRun=All`, headers: { 'content-type': ct }, body: encode(patch), expect: refused ? 'refuse' : 'any', harmless: !refused });
    }
  }
  for (const k of FUZZ_KINDS.filter((x) => !x.scale).slice(0, 4)) {
    out.push({ what: `GET ${k.label}/scale, which it does not have`, method: 'GET', path: `${objectPath(k, fixtureName(k))}/scale`, expect: 'refuse', harmless: true });
  }
  return out;
}

function evictionAndLogRequests(random: Random): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const pod = POD();
  const eviction = `${objectPath(pod, fixtureName(pod))}/eviction`;
  const ev = (extra: Record<string, unknown>) => encode({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: fixtureName(pod), namespace: FUZZ_NAMESPACE }, ...extra });
  const must = ['[]', '"x"', '5', '{', ev({ metadata: { name: 'other' } }), ev({ kind: 'Pod' }), ev({ deleteOptions: 'x' }), ev({ deleteOptions: { gracePeriodSeconds: 'x' } }),
    ev({ deleteOptions: { dryRun: 'All' } }), ev({ deleteOptions: { dryRun: ['Some'] } }), ev({ deleteOptions: { propagationPolicy: 'Sometimes' } }), ev({ deleteOptions: { preconditions: { uid: 'not-it' } } }),
    ev({ deleteOptions: { preconditions: { resourceVersion: '1' } } }), ev({ deleteOptions: { preconditions: 'x' } }), ev({ deleteOptions: { gracePeriodSeconds: 1e300 } }), ev({ deleteOptions: { kind: 'Pod' } })];
  for (const body of must) out.push({ what: `POST pods/eviction with ${body.slice(0, 100)}`, method: 'POST', path: eviction, headers: { 'content-type': JSON_TYPE }, body, expect: 'refuse', harmless: false });
  for (const body of [ev({ deleteOptions: { dryRun: ['All'] } }), ev({ deleteOptions: { dryRun: ['All'], gracePeriodSeconds: -5 } }), ev({ deleteOptions: { dryRun: ['All'], gracePeriodSeconds: raw('9223372036854775807') } })]) {
    out.push({ what: `POST pods/eviction with ${body.slice(0, 100)}`, method: 'POST', path: eviction, headers: { 'content-type': JSON_TYPE }, body, expect: 'any', harmless: true });
  }
  out.push({ what: 'POST pods/eviction of a pod that does not exist', method: 'POST', path: `${pod.collection}/nope/eviction`, headers: { 'content-type': JSON_TYPE }, body: ev({ metadata: { name: 'nope' } }), expect: 'refuse', harmless: false });
  out.push({ what: 'GET pods/eviction', method: 'GET', path: eviction, expect: 'refuse', harmless: true });
  const log = `${objectPath(pod, fixtureName(pod))}/log`;
  for (let i = 0; i < 30; i++) {
    const query: Record<string, string | undefined> = {};
    for (const [name, value] of [['container', () => random.pick(['main', 'init', 'nope', '', '%00', 'x'.repeat(300)])], ['tailLines', () => random.pick(ODD_INTS)], ['sinceSeconds', () => random.pick(ODD_INTS)],
      ['limitBytes', () => random.pick(ODD_INTS)], ['follow', () => random.pick(ODD_BOOLS)], ['previous', () => random.pick(ODD_BOOLS)], ['timestamps', () => random.pick(ODD_BOOLS)],
      ['sinceTime', () => random.pick(['2024-01-01T00:00:00Z', 'x', ''])]] as [string, () => string][]) {
      if (random.chance(0.4)) query[name] = value();
    }
    const path = withQuery(log, query);
    out.push({ what: `GET ${path.slice(0, 200)}`, method: 'GET', path, expect: 'any', harmless: true });
  }
  return out;
}

/** DELETE with DeleteOptions bodies and query parameters of every odd kind. */
function deleteRequests(random: Random): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const must: unknown[] = [
    // Not 9223372036854775808: decoded, it is the same double as the largest int64, which Kubernetes takes.
    'x', 5, [], true, { gracePeriodSeconds: 'x' }, { gracePeriodSeconds: 1.5 }, { gracePeriodSeconds: raw('1e300') }, { gracePeriodSeconds: raw('9223372036854777856') },
    { gracePeriodSeconds: [] }, { propagationPolicy: 5 }, { propagationPolicy: 'Sometimes' }, { propagationPolicy: 'orphan' }, { orphanDependents: 'yes' },
    { orphanDependents: true, propagationPolicy: 'Orphan' }, { dryRun: 'All' }, { dryRun: ['Some'] }, { dryRun: [5] }, { preconditions: 'x' }, { preconditions: { uid: 5 } },
    { preconditions: { uid: 'not-the-uid' } }, { preconditions: { resourceVersion: '1' } }, { preconditions: { resourceVersion: 5 } }, { kind: 'Pod', apiVersion: 'v1' },
    { kind: 'DeleteOptions', apiVersion: 'v2' }, { kind: 5 }, { apiVersion: [] },
  ];
  const maybe: unknown[] = [
    { dryRun: ['All'] }, { dryRun: ['All'], gracePeriodSeconds: 0 }, { dryRun: ['All'], gracePeriodSeconds: -1 }, { dryRun: ['All'], gracePeriodSeconds: raw('9223372036854775807') },
    { dryRun: ['All'], gracePeriodSeconds: raw('-9223372036854775808') }, { dryRun: ['All'], propagationPolicy: 'Foreground' }, { dryRun: ['All'], propagationPolicy: 'Orphan' },
    { dryRun: ['All'], orphanDependents: true }, { dryRun: ['All'], preconditions: {} }, { dryRun: ['All'], unknown: 'field' }, { dryRun: ['All'], kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' },
    { dryRun: ['All'], preconditions: { uid: null, resourceVersion: null } }, { dryRun: ['All', 'All'] },
  ];
  for (const k of FUZZ_KINDS) {
    const path = objectPath(k, fixtureName(k));
    const body = random.pick(must);
    out.push({ what: `DELETE ${k.label} with ${encode(body).slice(0, 100)}`, method: 'DELETE', path, headers: { 'content-type': JSON_TYPE }, body: encode(body), expect: 'refuse', harmless: false });
    const fine = random.pick(maybe);
    out.push({ what: `DELETE ${k.label} with ${encode(fine).slice(0, 100)}`, method: 'DELETE', path, headers: { 'content-type': JSON_TYPE }, body: encode(fine), expect: 'any', harmless: true });
    const query: Record<string, string> = {};
    if (random.chance(0.7)) query.gracePeriodSeconds = random.pick(ODD_INTS);
    if (random.chance(0.5)) query.propagationPolicy = random.pick(['Foreground', 'Background', 'Orphan', '', 'orphan', 'x']);
    if (random.chance(0.3)) query.orphanDependents = random.pick(ODD_BOOLS);
    out.push({ what: `DELETE ${k.label} with ${JSON.stringify(query)}, dry run`, method: 'DELETE', path: withQuery(path, { ...query, dryRun: 'All' }), expect: 'any', harmless: true });
    out.push({ what: `DELETE ${k.label} that does not exist`, method: 'DELETE', path: objectPath(k, 'fz-nothing-here'), expect: 'refuse', harmless: false });
    out.push({ what: `DELETE ${k.label} with malformed JSON`, method: 'DELETE', path, headers: { 'content-type': JSON_TYPE }, body: '{"gracePeriodSeconds":', expect: 'refuse', harmless: false });
  }
  return out;
}

function deleteCollectionRequests(random: Random): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  for (let i = 0; i < 40; i++) {
    const k = random.pick(FUZZ_KINDS);
    const query: Record<string, string | undefined> = { dryRun: 'All' };
    if (random.chance(0.7)) query.labelSelector = labelSelectorGarbage(random);
    if (random.chance(0.4)) query.fieldSelector = fieldSelectorGarbage(random);
    if (random.chance(0.3)) query.gracePeriodSeconds = random.pick(ODD_INTS);
    if (random.chance(0.3)) query.resourceVersion = random.pick(ODD_RVS);
    if (random.chance(0.2)) query.limit = random.pick(ODD_INTS);
    const path = withQuery(k.collection, query);
    out.push({ what: `DELETE (collection) ${path.slice(0, 200)}`, method: 'DELETE', path, expect: 'any', harmless: true });
  }
  for (const k of FUZZ_KINDS) {
    out.push({ what: `DELETE (collection) ${k.label} selecting nothing`, method: 'DELETE', path: `${k.collection}?labelSelector=fuzz-nothing%3Dyes`, expect: 'any', harmless: true });
    out.push({ what: `DELETE (collection) ${k.label} with a DeleteOptions of the wrong type`, method: 'DELETE', path: k.collection, headers: { 'content-type': JSON_TYPE }, body: encode({ gracePeriodSeconds: 'x', dryRun: ['All'] }), expect: 'refuse', harmless: false });
  }
  return out;
}

function verbRequests(): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  for (const k of FUZZ_KINDS) {
    const named = objectPath(k, fixtureName(k));
    const body = encode(k.manifest(fixtureName(k)));
    out.push({ what: `POST to the named ${k.label}`, method: 'POST', path: named, headers: { 'content-type': JSON_TYPE }, body, expect: 'refuse', harmless: false });
    out.push({ what: `PUT to the ${k.label} collection`, method: 'PUT', path: k.collection, headers: { 'content-type': JSON_TYPE }, body, expect: 'refuse', harmless: false });
    out.push({ what: `PATCH the ${k.label} collection`, method: 'PATCH', path: k.collection, headers: { 'content-type': MERGE }, body: '{}', expect: 'refuse', harmless: false });
    out.push({ what: `OPTIONS ${k.label}`, method: 'OPTIONS', path: named, expect: 'refuse', harmless: false });
    out.push({ what: `FROBNICATE ${k.label}`, method: 'FROBNICATE', path: named, expect: 'refuse', harmless: false });
    out.push({ what: `POST ${k.label} that exists`, method: 'POST', path: k.collection, headers: { 'content-type': JSON_TYPE }, body, expect: 'refuse', harmless: false });
    out.push({ what: `PUT ${k.label} that does not exist`, method: 'PUT', path: objectPath(k, 'fz-nothing-here'), headers: { 'content-type': JSON_TYPE }, body: encode(k.manifest('fz-nothing-here')), expect: 'refuse', harmless: false });
    out.push({ what: `PATCH ${k.label} that does not exist`, method: 'PATCH', path: objectPath(k, 'fz-nothing-here'), headers: { 'content-type': MERGE }, body: '{}', expect: 'refuse', harmless: false });
  }
  return out;
}

/** Names, labels, annotations, data and bodies at and past Kubernetes' limits. */
function sizeRequests(target: (k: FuzzKind) => Target): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  const cm = CONFIGMAP();
  const post = (what: string, body: string, expect: 'refuse' | 'any') => out.push({ what, method: 'POST', path: expect === 'any' ? `${cm.collection}?dryRun=All` : cm.collection, headers: { 'content-type': JSON_TYPE }, body, expect, harmless: expect === 'any' });
  const manifest = (extra: (m: any) => void) => {
    const m = cm.manifest(target(cm).newName);
    extra(m);
    return encode(m);
  };
  post('POST a ConfigMap with a label value of 64 characters', manifest((m) => (m.metadata.labels.long = 'v'.repeat(64))), 'refuse');
  post('POST a ConfigMap with a label key of 64 characters', manifest((m) => (m.metadata.labels['k'.repeat(64)] = 'v')), 'refuse');
  post('POST a ConfigMap with a name of 254 characters', manifest((m) => (m.metadata.name = 'n'.repeat(254))), 'refuse');
  post('POST a ConfigMap with a generateName of 300 characters', manifest((m) => { delete m.metadata.name; m.metadata.generateName = 'g'.repeat(300); }), 'refuse');
  post('POST a ConfigMap with 300 KiB of annotations', manifest((m) => (m.metadata.annotations.big = 'a'.repeat(300 * 1024))), 'refuse');
  post('POST a ConfigMap with 1 MiB and a byte of data', manifest((m) => (m.data = { a: 'd'.repeat(1024 * 1024 + 1) })), 'refuse');
  post('POST a ConfigMap of 3 MiB', manifest((m) => (m.data = { a: 'd'.repeat(3 * 1024 * 1024) })), 'refuse');
  post('POST a ConfigMap with a data key of 254 characters', manifest((m) => (m.data = { ['k'.repeat(254)]: 'v' })), 'refuse');
  post('POST a ConfigMap with a data key ".."', manifest((m) => (m.data = { '..': 'v' })), 'refuse');
  post('POST a ConfigMap with the same key in data and binaryData', manifest((m) => (m.binaryData = { a: 'AA==' })), 'refuse');
  post('POST a ConfigMap with 10,000 labels, dry run', manifest((m) => (m.metadata.labels = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v'])))), 'any');
  // Large enough that anything worse than linear in the number of entries takes seconds (20,000² steps),
  // small enough that linear work stays well within /healthz's second on a busy 2-core machine
  // (50,000 took 0.6 to 1.7 s there, most of it allocating the managedFields entry).
  post('POST a ConfigMap with 20,000 finalizers, dry run', manifest((m) => (m.metadata.finalizers = Array.from({ length: 20_000 }, (_, i) => `example.com/f${i}`))), 'any');
  post('POST a ConfigMap with 250 KiB of annotations, dry run', manifest((m) => (m.metadata.annotations.big = 'a'.repeat(250 * 1024))), 'any');
  post('POST a ConfigMap with a label value of 63 characters, dry run', manifest((m) => (m.metadata.labels.long = 'v'.repeat(63))), 'any');
  post('POST a ConfigMap with 1 MiB of data less a little, dry run', manifest((m) => (m.data = { a: 'd'.repeat(1024 * 1024 - 4096) })), 'any');
  post('POST a ConfigMap with 20,000 keys, dry run', manifest((m) => (m.data = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, ''])))), 'any');
  post('POST a ConfigMap with a string of 1 MiB of NULs, dry run', manifest((m) => (m.data = { a: '\u0000'.repeat(1024 * 256) })), 'any');
  post('POST a ConfigMap with 20,000 lone surrogates, dry run', manifest((m) => (m.data = { a: '\ud800'.repeat(20_000) })), 'any');
  const pod = POD();
  const podBody = (extra: (m: any) => void) => {
    const m = pod.manifest(target(pod).newName);
    extra(m);
    return encode(m);
  };
  out.push({ what: 'POST a Pod with 5,000 containers, dry run', method: 'POST', path: `${pod.collection}?dryRun=All`, headers: { 'content-type': JSON_TYPE }, body: podBody((m) => (m.spec.containers = Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, image: 'busybox' })))), expect: 'any', harmless: true });
  out.push({ what: 'POST a Pod with 5,000 containers of one name', method: 'POST', path: pod.collection, headers: { 'content-type': JSON_TYPE }, body: podBody((m) => (m.spec.containers = Array.from({ length: 5000 }, () => ({ name: 'same', image: 'busybox' })))), expect: 'refuse', harmless: false });
  out.push({ what: 'POST a Pod with 2,000 env vars referring to each other, dry run', method: 'POST', path: `${pod.collection}?dryRun=All`, headers: { 'content-type': JSON_TYPE }, body: podBody((m) => (m.spec.containers[0].env = Array.from({ length: 2000 }, (_, i) => ({ name: `V${i}`, value: `$(V${i - 1})$(V${i - 1})` })))), expect: 'any', harmless: true });
  out.push({ what: 'POST a Pod with a command of 100,000 arguments, dry run', method: 'POST', path: `${pod.collection}?dryRun=All`, headers: { 'content-type': JSON_TYPE }, body: podBody((m) => (m.spec.containers[0].args = Array.from({ length: 100_000 }, () => 'a'))), expect: 'any', harmless: true });
  return out;
}

/**
 * What a generated request is, in a form that reproduces it: method, path, headers and body (binary
 * bodies in hex), cut to a readable length unless `whole`.
 */
export function reproduce(r: FuzzRequest, whole = false): string {
  const cut = (text: string, max: number) => (whole || text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`);
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : `<${r.body.length} bytes, hex: ${Buffer.from(r.body).toString('hex')}>`;
  const headers = Object.entries(r.headers ?? {}).map(([k, v]) => ` -H '${k}: ${v}'`).join('');
  return `${r.what}\n  ${r.method} ${cut(r.path, 400)}${headers}${body ? `\n  body: ${cut(body, 600)}` : ''}`;
}
