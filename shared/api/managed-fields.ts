// metadata.managedFields as Kubernetes keeps them (k8s.io/apimachinery's managedfields and
// sigs.k8s.io/structured-merge-diff), over plain JSON objects:
//
// - recordUpdate: a create, update, patch or subresource write by a field manager (operation
//   "Update"): the fields the write added or changed become that manager's, and leave every other
//   manager's set; fields it removed leave every set.
// - apply: server-side apply (operation "Apply"): the configuration merges into the live object,
//   the applier owns exactly its configuration's fields, fields it applied before and leaves out now
//   are removed unless another manager owns them, and changing a field another manager owns is a
//   409 conflict unless forced.
//
// A field set is a tree of path elements, serialized as FieldsV1: `f:<name>` for a field or map
// entry, `k:{"name":"c"}` for an item of a list keyed by name, `v:"x"` for a value of a set, and
// `.` for a node that is owned itself as well as having owned children. Which lists are keyed,
// sets or atomic, and which objects are atomic, comes from ./field-shapes.ts (shared with strategic
// merge patch). Objects are walked once per comparison, with a depth guard.
import type { KubeObject, StatusCause } from '../types.ts';
import { ApplyConflictError, BadRequestError, InvalidError } from '../errors.ts';
import { deepEqual, now } from '../util.ts';
import { fieldShape, type FieldShape } from './field-shapes.ts';

type Json = any;
type JsonObject = Record<string, Json>;

export type FieldsV1 = { [pathElement: string]: FieldsV1 };

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldsV1;
  subresource?: string;
}

/** Who writes, through which endpoint: what a managed-fields entry is keyed by. */
export interface FieldManagerWrite {
  /** The object's kind: picks the keyed lists and atomic fields. */
  kind: string;
  /** The group/version the request was made in ("apps/v1", "v1"). */
  apiVersion: string;
  /** The field manager (fieldManagerFrom: the fieldManager parameter, or the User-Agent's prefix). */
  manager: string;
  /** "status" or "scale" for a subresource write. */
  subresource?: string;
  /**
   * Fields the endpoint's strategy resets, which no manager owns through it (Kubernetes'
   * GetResetFields), as paths of field names. Default: status on the main resource, spec on the
   * status subresource, nothing on scale.
   */
  resetFields?: readonly (readonly string[])[];
  /** The time to stamp on changed entries (default: now). */
  now?: Date;
}

export interface ApplyWrite extends FieldManagerWrite {
  /** Take over fields other managers own instead of failing with a conflict (force=true). */
  force?: boolean;
}

export const FIELD_MANAGER_MAX_LENGTH = 128;
/** Above this many Update entries the oldest merge into one per apiVersion (Kubernetes' DefaultMaxUpdateManagers). */
export const MAX_UPDATE_MANAGERS = 10;
/** Object nesting the walks accept; far beyond any Kubernetes kind, short of the call stack's limit. */
export const MAX_FIELD_DEPTH = 1000;
const MAX_SUBRESOURCE_LENGTH = 256;
const ANCIENT_CHANGES = 'ancient-changes';
const BEFORE_FIRST_APPLY = 'before-first-apply';
const UNKNOWN_MANAGER = 'unknown';

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The object does not fit the schema (a keyed item without its key, a set holding objects), or nests too deep. */
class UntypedError extends Error {}

// ---------------------------------------------------------------------------------------------
// Field sets

/** A node of a field set: owned itself (`member`), a parent of owned nodes, or both. */
class FieldSet {
  member = false;
  readonly children = new Map<string, FieldSet>();

  get empty(): boolean {
    return this.children.size === 0;
  }

  insert(path: readonly string[]): void {
    let node: FieldSet = this;
    for (const pe of path) {
      let next = node.children.get(pe);
      if (!next) node.children.set(pe, (next = new FieldSet()));
      node = next;
    }
    node.member = true;
  }

  has(path: readonly string[]): boolean {
    let node: FieldSet | undefined = this;
    for (const pe of path) node = node?.children.get(pe);
    return node?.member === true;
  }
}

const NO_FIELDS = new FieldSet();
const isBare = (n: FieldSet) => !n.member && n.children.size === 0;

// Set operations build new trees and never change their inputs, so subtrees can be shared.
function union(a: FieldSet, b: FieldSet): FieldSet {
  const out = new FieldSet();
  out.member = a.member || b.member;
  for (const [pe, child] of a.children) {
    const other = b.children.get(pe);
    out.children.set(pe, other ? union(child, other) : child);
  }
  for (const [pe, child] of b.children) if (!a.children.has(pe)) out.children.set(pe, child);
  return out;
}

/** a without b's members (b's members' children stay unless b holds them too). */
function minus(a: FieldSet, b: FieldSet): FieldSet {
  const out = new FieldSet();
  out.member = a.member && !b.member;
  for (const [pe, child] of a.children) {
    const other = b.children.get(pe);
    const rest = other ? minus(child, other) : child;
    if (!isBare(rest)) out.children.set(pe, rest);
  }
  return out;
}

function intersect(a: FieldSet, b: FieldSet): FieldSet {
  const out = new FieldSet();
  out.member = a.member && b.member;
  for (const [pe, child] of a.children) {
    const other = b.children.get(pe);
    if (!other) continue;
    const both = intersect(child, other);
    if (!isBare(both)) out.children.set(pe, both);
  }
  return out;
}

/** a without b's members and everything under them (structured-merge-diff's RecursiveDifference). */
function withoutSubtrees(a: FieldSet, b: FieldSet): FieldSet {
  const out = new FieldSet();
  out.member = a.member;
  for (const [pe, child] of a.children) {
    const other = b.children.get(pe);
    if (other?.member) continue;
    const rest = other ? withoutSubtrees(child, other) : child;
    if (!isBare(rest)) out.children.set(pe, rest);
  }
  return out;
}

/** Every field (`f:`) on the way to a member counts as owned: what prune compares (EnsureNamedFieldsAreMembers). */
function withFieldsAsMembers(a: FieldSet): FieldSet {
  const out = new FieldSet();
  out.member = a.member;
  for (const [pe, child] of a.children) {
    const copy = withFieldsAsMembers(child);
    if (pe.startsWith('f:')) copy.member = true;
    out.children.set(pe, copy);
  }
  return out;
}

function* memberPaths(a: FieldSet, prefix: string[] = []): Generator<string[]> {
  for (const pe of sortedElements(a)) {
    const child = a.children.get(pe)!;
    const path = [...prefix, pe];
    if (child.member) yield path;
    yield* memberPaths(child, path);
  }
}

function setOfPaths(paths: readonly (readonly string[])[]): FieldSet {
  const set = new FieldSet();
  for (const path of paths) set.insert(path.map((name) => `f:${name}`));
  return set;
}

// Identity fields the API server sets are never anyone's (Kubernetes' stripMetaManager).
const STRIPPED = setOfPaths([['apiVersion'], ['kind'], ['metadata'], ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['metadata', f])]);
const REPLICAS = ['f:spec', 'f:replicas'];

// ---------------------------------------------------------------------------------------------
// Path elements: `f:name`, `k:{...}`, `v:value`, `i:index`, serialized as structured-merge-diff does.

/** JSON as Go's encoding/json writes it (HTML-safe escapes), so keys compare byte for byte with Kubernetes'. */
function goJson(value: Json): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function keyElement(fields: [string, Json][]): string {
  const sorted = [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `k:{${sorted.map(([name, v]) => `${goJson(name)}:${goJson(v)}`).join(',')}}`;
}

const valueElement = (v: Json) => `v:${goJson(v)}`;

/** The canonical form of a serialized path element, undefined for a kind this version does not know, or throws. */
function canonicalElement(pe: string): string | undefined {
  try {
    return canonicalElementOrThrow(pe);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UntypedError(`invalid path element ${JSON.stringify(pe)}: ${err.message}`);
    throw err;
  }
}

function canonicalElementOrThrow(pe: string): string | undefined {
  if (pe.length < 2 || pe[1] !== ':') throw new UntypedError(`invalid path element ${JSON.stringify(pe)}`);
  const body = pe.slice(2);
  switch (pe[0]) {
    case 'f':
      return pe;
    case 'k': {
      const key = JSON.parse(body);
      if (!isObject(key)) throw new UntypedError(`invalid key ${body}`);
      return keyElement(Object.entries(key));
    }
    case 'v':
      return valueElement(JSON.parse(body));
    case 'i':
      if (!/^-?\d+$/.test(body)) throw new UntypedError(`invalid index ${body}`);
      return `i:${Number(body)}`;
    default:
      return undefined; // structured-merge-diff drops kinds it does not know
  }
}

const ELEMENT_RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

function valueRank(v: Json): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isObject(v)) return 4;
  return 5;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** structured-merge-diff's value order: numbers, strings, booleans, lists, maps, null. */
function compareJson(a: Json, b: Json): number {
  const rank = valueRank(a) - valueRank(b);
  if (rank !== 0) return rank;
  if (typeof a === 'number' || typeof a === 'boolean') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string') return compareStrings(a, b);
  if (Array.isArray(a)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareJson(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (isObject(a)) return compareFieldLists(Object.entries(a), Object.entries(b));
  return 0;
}

function compareFieldLists(a: [string, Json][], b: [string, Json][]): number {
  const byName = ([x]: [string, Json], [y]: [string, Json]) => compareStrings(x, y);
  const left = [...a].sort(byName);
  const right = [...b].sort(byName);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const c = compareStrings(left[i][0], right[i][0]) || compareJson(left[i][1], right[i][1]);
    if (c !== 0) return c;
  }
  return left.length - right.length;
}

function sortedElements(set: FieldSet): string[] {
  const decorated = [...set.children.keys()].map((pe) => ({ pe, rank: ELEMENT_RANK[pe[0]] ?? 4, body: pe[0] === 'k' || pe[0] === 'v' ? JSON.parse(pe.slice(2)) : pe.slice(2) }));
  decorated.sort((a, b) => {
    if (a.rank !== b.rank) return a.rank - b.rank;
    if (a.pe[0] === 'k') return compareFieldLists(Object.entries(a.body), Object.entries(b.body));
    if (a.pe[0] === 'v') return compareJson(a.body, b.body);
    if (a.pe[0] === 'i') return Number(a.body) - Number(b.body);
    return compareStrings(a.body, b.body);
  });
  return decorated.map((d) => d.pe);
}

/** Go's %q, for messages Kubernetes formats with it. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (isPrintable(ch)) out += ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
function isPrintable(ch: string): boolean {
  return PRINTABLE.test(ch);
}

/** A value as structured-merge-diff prints it in a path. */
function valueString(v: Json): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  if (isObject(v)) return Object.entries(v).map(([k, x]) => `${k}=${valueString(x)}`).join('');
  return String(v);
}

/** A path as Kubernetes prints it in conflicts: `.spec.containers[name="app"].image`. */
export function pathString(path: readonly string[]): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k':
          return `[${Object.entries(JSON.parse(body) as JsonObject).map(([k, v]) => `${k}=${valueString(v)}`).join(',')}]`;
        case 'v':
          return `[=${valueString(JSON.parse(body))}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}

// ---------------------------------------------------------------------------------------------
// FieldsV1

export function toFieldsV1(set: FieldSet): FieldsV1 {
  const out: FieldsV1 = {};
  for (const pe of sortedElements(set)) {
    const child = set.children.get(pe)!;
    if (child.empty) {
      out[pe] = {};
      continue;
    }
    out[pe] = child.member ? { '.': {}, ...toFieldsV1(child) } : toFieldsV1(child);
  }
  return out;
}

function fromFieldsV1(fields: unknown, depth = 0): FieldSet {
  if (depth > MAX_FIELD_DEPTH) throw new UntypedError(`fieldsV1 nests deeper than ${MAX_FIELD_DEPTH} levels`);
  if (!isObject(fields)) throw new UntypedError('fieldsV1 must be an object');
  const set = new FieldSet();
  for (const [key, value] of Object.entries(fields)) {
    if (key === '.') continue;
    const pe = canonicalElement(key);
    if (pe === undefined) continue;
    const child = fromFieldsV1(value, depth + 1);
    // A node is owned itself when it says so ('.') or when nothing is owned under it.
    if (child.empty || Object.hasOwn(value as object, '.')) child.member = true;
    const existing = set.children.get(pe);
    set.children.set(pe, existing ? union(existing, child) : child);
  }
  return set;
}

// ---------------------------------------------------------------------------------------------
// Walking objects with their shapes

interface At {
  kind: string;
  /** Field names from the root to this value, list positions left out: what field-shapes.ts reads. */
  names: readonly string[];
  /** Path elements from the root to this value. */
  pes: string[];
  /** Inside a free-form map's entry: no declared shapes below. */
  untyped: boolean;
  depth: number;
}

const PLAIN: FieldShape = {};
const ATOMIC: FieldShape = { atomic: true };

function childAt(at: At, name: string): At {
  if (at.depth >= MAX_FIELD_DEPTH) throw new UntypedError(`the object nests deeper than ${MAX_FIELD_DEPTH} levels`);
  return { kind: at.kind, names: [...at.names, name], pes: [...at.pes, `f:${name}`], untyped: at.untyped, depth: at.depth + 1 };
}

function itemAt(at: At, pe: string): At {
  if (at.depth >= MAX_FIELD_DEPTH) throw new UntypedError(`the object nests deeper than ${MAX_FIELD_DEPTH} levels`);
  return { ...at, pes: [...at.pes, pe], depth: at.depth + 1 };
}

function shapeOf(at: At, field: string): FieldShape {
  return at.untyped ? PLAIN : fieldShape(at.kind, at.names, field);
}

/** The shape of an entry of an object with the given shape. */
function entryAt(parent: At, parentShape: FieldShape, name: string): { at: At; shape: FieldShape } {
  const at = childAt(parent, name);
  if (parentShape.freeMap) return { at: { ...at, untyped: true }, shape: PLAIN };
  return { at, shape: shapeOf(parent, name) };
}

/** The path element of an item of a keyed or set list. */
function itemElement(item: Json, shape: FieldShape, at: At, index: number): string {
  const where = () => `${pathString(at.pes) || '.'}: element ${index}`;
  if (shape.list === 'set') {
    if (item === null) throw new UntypedError(`${where()}: associative list without keys has an element that's an explicit null`);
    if (typeof item === 'object') throw new UntypedError(`${where()}: associative list without keys has an element that's a ${Array.isArray(item) ? 'list' : 'map'} type`);
    return valueElement(item);
  }
  if (item === null) throw new UntypedError(`${where()}: associative list with keys may not have a null element`);
  if (!isObject(item)) throw new UntypedError(`${where()}: associative list with keys may not have non-map elements`);
  const key: [string, Json][] = [];
  for (const name of shape.keys ?? []) {
    if (item[name] !== undefined) key.push([name, item[name]]);
    else if (shape.keyDefaults && Object.hasOwn(shape.keyDefaults, name)) key.push([name, shape.keyDefaults[name]]);
  }
  if (!key.length) {
    throw new UntypedError(`${where()}: associative list with keys has an element that omits all key fields ${goJson(shape.keys)} (and doesn't have default values for any key fields)`);
  }
  return keyElement(key);
}

function itemShape(shape: FieldShape): FieldShape {
  return shape.atomicItems ? ATOMIC : PLAIN;
}

/** Items of a keyed or set list grouped by path element, in first-seen order. */
function indexItems(list: Json[], shape: FieldShape, at: At, allowDuplicates: boolean): Map<string, Json[]> {
  const byElement = new Map<string, Json[]>();
  list.forEach((item, i) => {
    const pe = itemElement(item, shape, at, i);
    const same = byElement.get(pe);
    if (!same) byElement.set(pe, [item]);
    else if (allowDuplicates) same.push(item);
    else throw new UntypedError(`${pathString(at.pes) || '.'}: duplicate entries for key ${pathString([pe])}`);
  });
  return byElement;
}

const isGranularList = (shape: FieldShape) => !shape.atomic && (shape.list === 'map' || shape.list === 'set');

// ---------------------------------------------------------------------------------------------
// The fields of a configuration (structured-merge-diff's ToFieldSet)

function fieldsOfValue(value: Json, shape: FieldShape, at: At, allowDuplicates: boolean): FieldSet {
  const node = new FieldSet();
  if (value === null || typeof value !== 'object' || shape.atomic) {
    node.member = true;
  } else if (Array.isArray(value)) {
    if (!isGranularList(shape)) node.member = true;
    else {
      for (const [pe, items] of indexItems(value, shape, at, allowDuplicates)) {
        // Duplicated items are owned whole, as one.
        const child = items.length > 1 ? new FieldSet() : fieldsOfValue(items[0], itemShape(shape), itemAt(at, pe), allowDuplicates);
        child.member = true;
        node.children.set(pe, child);
      }
    }
  } else {
    for (const [name, entry] of Object.entries(value)) {
      if (entry === undefined) continue;
      const child = entryAt(at, shape, name);
      const set = fieldsOfValue(entry, child.shape, child.at, allowDuplicates);
      // An empty or null value is owned itself; so is a map's entry, whatever it holds.
      if (entry === null || (isObject(entry) && !Object.keys(entry).length) || shape.freeMap) set.member = true;
      if (!isBare(set)) node.children.set(`f:${name}`, set);
    }
  }
  return node;
}

function rootAt(kind: string): At {
  return { kind, names: [], pes: [], untyped: false, depth: 0 };
}

/** The FieldsV1 a manager applying `config` to a `kind` owns (identity metadata left out). */
export function appliedFields(kind: string, config: JsonObject): FieldsV1 {
  return toFieldsV1(minus(fieldsOfValue(config, PLAIN, rootAt(kind), false), STRIPPED));
}

// ---------------------------------------------------------------------------------------------
// Comparing two versions of an object (structured-merge-diff's Compare)

class Comparison {
  readonly added = new FieldSet();
  readonly modified = new FieldSet();
  readonly removed = new FieldSet();

  changed(): FieldSet {
    return union(this.added, this.modified);
  }
}

function compareValues(before: Json, after: Json, shape: FieldShape, at: At, cmp: Comparison): void {
  const leaf = () => {
    if (before === undefined) cmp.added.insert(at.pes);
    else if (after === undefined) cmp.removed.insert(at.pes);
    else if (!deepEqual(before, after)) cmp.modified.insert(at.pes);
  };
  const isList = Array.isArray(before) || Array.isArray(after);
  const isMap = isObject(before) || isObject(after);
  const fits = (v: Json, ok: boolean) => v === undefined || v === null || ok;
  if (shape.atomic || (!isList && !isMap)) return leaf();
  if (isList) {
    if (!fits(before, Array.isArray(before)) || !fits(after, Array.isArray(after))) return leaf();
    const left: Json[] = before ?? [];
    const right: Json[] = after ?? [];
    if (!isGranularList(shape) || (!left.length && !right.length)) return leaf();
    compareItems(left, right, shape, at, cmp);
  } else {
    if (!fits(before, isObject(before)) || !fits(after, isObject(after))) return leaf();
    const left: JsonObject = before ?? {};
    const right: JsonObject = after ?? {};
    const names = new Set([...Object.keys(left), ...Object.keys(right)]);
    if (!names.size) return leaf();
    for (const name of names) {
      if (left[name] === undefined && right[name] === undefined) continue;
      const child = entryAt(at, shape, name);
      compareValues(left[name], right[name], child.shape, child.at, cmp);
    }
  }
  // A map, struct or list item that appears or goes whole is itself added or removed.
  if (before === undefined) cmp.added.insert(at.pes);
  else if (after === undefined) cmp.removed.insert(at.pes);
}

function compareItems(left: Json[], right: Json[], shape: FieldShape, at: At, cmp: Comparison): void {
  const before = indexItems(left, shape, at, true);
  const after = indexItems(right, shape, at, true);
  const elements = new Set([...before.keys(), ...after.keys()]);
  for (const pe of elements) {
    const l = before.get(pe) ?? [];
    const r = after.get(pe) ?? [];
    const item = itemAt(at, pe);
    const compareItem = (x: Json, y: Json) => compareValues(x, y, itemShape(shape), item, cmp);
    // Duplicated items (which only updates may hold) compare as one atomic value.
    if (l.length <= 1 && r.length <= 1) compareItem(l[0], r[0]);
    else if (l.length >= 2 && r.length >= 2) {
      if (!deepEqual(l, r)) cmp.modified.insert(item.pes);
    } else if (l.length >= 2) {
      if (r.length) compareItem(undefined, r[0]);
      cmp.removed.insert(item.pes);
    } else {
      if (l.length) compareItem(l[0], undefined);
      cmp.added.insert(item.pes);
    }
  }
}

// Structs Go always writes, even empty, and lists it writes as null: a typed object has them, so
// Kubernetes finds them present and marks no '.' on them (f:spec, f:containers, f:strategy...).
interface ZeroShape {
  absent?: 'struct' | 'null';
  fields?: Record<string, ZeroShape>;
  /** Zero fields of every item of a list. */
  items?: Record<string, ZeroShape>;
}

const struct = (fields?: Record<string, ZeroShape>): ZeroShape => ({ absent: 'struct', fields });
const NULL: ZeroShape = { absent: 'null' };
const POD_SPEC = struct({ containers: { absent: 'null', items: { resources: struct() } }, initContainers: { items: { resources: struct() } } });
const POD_TEMPLATE = struct({ metadata: struct(), spec: POD_SPEC });
const WITH_META = { metadata: struct() };
const ZERO: Record<string, ZeroShape> = {
  Pod: struct({ ...WITH_META, spec: POD_SPEC, status: struct() }),
  Deployment: struct({ ...WITH_META, spec: struct({ selector: NULL, template: POD_TEMPLATE, strategy: struct() }), status: struct() }),
  ReplicaSet: struct({ ...WITH_META, spec: struct({ selector: NULL, template: POD_TEMPLATE }), status: struct() }),
  DaemonSet: struct({ ...WITH_META, spec: struct({ selector: NULL, template: POD_TEMPLATE, updateStrategy: struct() }), status: struct() }),
  Job: struct({ ...WITH_META, spec: struct({ template: POD_TEMPLATE }), status: struct() }),
  CronJob: struct({ ...WITH_META, spec: struct({ jobTemplate: struct({ metadata: struct(), spec: struct({ template: POD_TEMPLATE }) }) }), status: struct() }),
  Service: struct({ ...WITH_META, spec: struct(), status: struct({ loadBalancer: struct() }) }),
  Namespace: struct({ ...WITH_META, spec: struct(), status: struct() }),
  Node: struct({ ...WITH_META, spec: struct(), status: struct({ daemonEndpoints: struct({ kubeletEndpoint: struct() }), nodeInfo: struct() }) }),
  PodDisruptionBudget: struct({ ...WITH_META, spec: struct(), status: struct() }),
  Lease: struct({ ...WITH_META, spec: struct() }),
  EndpointSlice: struct({ ...WITH_META, endpoints: NULL }),
  Event: struct({ ...WITH_META, involvedObject: struct(), source: struct() }),
};
const ZERO_OTHER = struct(WITH_META);

/** `value` with the zero fields a typed object has filled in (copies only what it fills). */
function withZeroFields(value: Json, zero: ZeroShape, depth = 0): Json {
  if (depth > 32) return value; // zero shapes are a few levels deep; objects deeper need nothing
  if (value === undefined) {
    if (zero.absent === 'null') return null;
    return zero.absent === 'struct' ? withZeroFields({}, { fields: zero.fields }, depth + 1) : undefined;
  }
  if (Array.isArray(value) && zero.items) return value.map((item) => (isObject(item) ? withZeroFields(item, { fields: zero.items }, depth + 1) : item));
  if (!isObject(value) || !zero.fields) return value;
  const out = { ...value };
  for (const [name, shape] of Object.entries(zero.fields)) {
    const filled = withZeroFields(value[name], shape, depth + 1);
    if (filled !== undefined) out[name] = filled;
  }
  return out;
}

function compareObjects(kind: string, before: JsonObject | undefined, after: JsonObject): Comparison {
  const zero = ZERO[kind] ?? ZERO_OTHER;
  const cmp = new Comparison();
  compareValues(withZeroFields(before, zero), withZeroFields(after, zero), PLAIN, rootAt(kind), cmp);
  return cmp;
}

// ---------------------------------------------------------------------------------------------
// Managed-fields entries

interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time?: string;
  fields: FieldSet;
}

/** The identity Kubernetes keys entries by: an Apply entry is one per manager whatever its apiVersion. */
function identity(m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  const id: JsonObject = {};
  if (m.manager) id.manager = m.manager;
  id.operation = m.operation;
  if (m.operation === 'Update' && m.apiVersion) id.apiVersion = m.apiVersion;
  if (m.subresource) id.subresource = m.subresource;
  return JSON.stringify(id);
}

type Managers = Map<string, Manager>;

/** Decodes entries as Kubernetes' DecodeManagedFields does; throws UntypedError on a malformed one. */
function decodeManagers(entries: unknown): Managers {
  if (!Array.isArray(entries)) throw new UntypedError('managedFields must be a list');
  const managers: Managers = new Map();
  entries.forEach((entry, i) => {
    if (!isObject(entry)) throw new UntypedError(`managed fields entry ${i} must be an object`);
    const { manager = '', operation, apiVersion, time, fieldsType, fieldsV1, subresource } = entry;
    if (operation !== 'Apply' && operation !== 'Update') throw new UntypedError('operation must be `Apply` or `Update`');
    if (typeof apiVersion !== 'string' || !apiVersion) throw new UntypedError('apiVersion must not be empty');
    if (fieldsType !== 'FieldsV1') throw new UntypedError(fieldsType ? `invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}` : `missing fieldsType in managed fields entry ${i}`);
    if (typeof manager !== 'string' || (subresource !== undefined && typeof subresource !== 'string')) throw new UntypedError(`managed fields entry ${i} has a field of the wrong type`);
    if (time !== undefined && time !== null && (typeof time !== 'string' || Number.isNaN(Date.parse(time)))) throw new UntypedError(`managed fields entry ${i} has an invalid time`);
    const decoded: Manager = { manager, operation, apiVersion, subresource: subresource || undefined, time: time ?? undefined, fields: fieldsV1 == null ? new FieldSet() : fromFieldsV1(fieldsV1) };
    managers.set(identity(decoded), decoded);
  });
  return managers;
}

/** The live object's entries; ones that do not decode count as none, as Kubernetes treats them. */
function liveManagers(live: KubeObject | undefined): Managers {
  const entries = live?.metadata?.managedFields;
  if (entries === undefined) return new Map();
  try {
    return decodeManagers(entries);
  } catch (err) {
    if (err instanceof UntypedError) return new Map();
    throw err;
  }
}

/** `[]` and `[{}]` clear managedFields (Kubernetes' isResetManagedFields). */
function isReset(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  return entries.length === 1 && isObject(entries[0]) && Object.values(entries[0]).every((v) => v === undefined || v === null || v === '');
}

function seconds(time: string | undefined): number {
  const ms = time ? Date.parse(time) : NaN;
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** Merges the oldest Update entries into one "ancient-changes" entry per apiVersion above the cap (Kubernetes' capManagersManager). */
function capUpdateManagers(managers: Managers): void {
  const updaters = [...managers.entries()].filter(([, m]) => m.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort(([ida, a], [idb, b]) => seconds(a.time) - seconds(b.time) || compareStrings(ida, idb));
  const firstOfVersion = new Map<string, string>();
  let count = updaters.length;
  for (const [id, m] of updaters) {
    if (count <= MAX_UPDATE_MANAGERS) break;
    const bucket = identity({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: m.apiVersion });
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(m.apiVersion, id);
      continue;
    }
    if (!managers.has(bucket)) {
      const moved = managers.get(first)!;
      managers.delete(first);
      managers.set(bucket, { ...moved, manager: ANCIENT_CHANGES, subresource: undefined });
    }
    const existing = managers.get(bucket)!;
    managers.set(bucket, { ...existing, fields: union(m.fields, existing.fields), time: m.time });
    managers.delete(id);
    count--;
  }
}

function encodeManagers(managers: Managers): ManagedFieldsEntry[] | undefined {
  const entries = [...managers.values()].filter((m) => !m.fields.empty);
  if (!entries.length) return undefined;
  entries.sort(
    (a, b) =>
      compareStrings(a.operation, b.operation) ||
      seconds(a.time) - seconds(b.time) ||
      compareStrings(a.manager, b.manager) ||
      compareStrings(a.apiVersion, b.apiVersion) ||
      compareStrings(a.subresource ?? '', b.subresource ?? ''),
  );
  // In the order of Kubernetes' fields, so stored objects read the same.
  return entries.map((m) => ({
    manager: m.manager,
    operation: m.operation,
    apiVersion: m.apiVersion,
    ...(m.time ? { time: m.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(m.fields),
    ...(m.subresource ? { subresource: m.subresource } : {}),
  }));
}

function resetFieldsOf(write: FieldManagerWrite): FieldSet {
  if (write.resetFields) return setOfPaths(write.resetFields);
  switch (write.subresource) {
    case undefined:
    case '':
      return setOfPaths([['status']]);
    case 'status':
      return setOfPaths([['spec']]);
    default:
      return NO_FIELDS;
  }
}

function withoutManagedFields(obj: KubeObject): JsonObject {
  return { ...obj, metadata: { ...obj.metadata, managedFields: undefined } };
}

function stampOf(write: FieldManagerWrite): string {
  return now(write.now ?? new Date());
}

function writerOf(write: FieldManagerWrite, operation: 'Apply' | 'Update'): Omit<Manager, 'fields' | 'time'> {
  return { manager: write.manager || UNKNOWN_MANAGER, operation, apiVersion: write.apiVersion, subresource: write.subresource || undefined };
}

/**
 * The fields a write changed become `writer`'s; they, and the fields it removed, leave every other
 * entry (structured-merge-diff's Updater.Update, with Kubernetes' managedFieldsUpdater and
 * stripMetaManager around it). Changes `managers` in place.
 */
function applyUpdate(managers: Managers, cmp: Comparison, reset: FieldSet, writer: Omit<Manager, 'fields' | 'time'>, time: string): void {
  const changed = withoutSubtrees(cmp.changed(), reset);
  const removed = withoutSubtrees(cmp.removed, reset);
  for (const [id, m] of managers) {
    const rest = minus(minus(m.fields, changed), removed);
    if (rest.empty) managers.delete(id);
    else managers.set(id, { ...m, fields: rest });
  }
  const taken = minus(changed, STRIPPED);
  if (taken.empty) return;
  const id = identity(writer);
  const previous = managers.get(id);
  managers.set(id, { ...writer, time, fields: previous ? union(taken, previous.fields) : taken });
}

// ---------------------------------------------------------------------------------------------
// Updates

/**
 * The managedFields to store after a create, update, patch or subresource write (operation
 * "Update"), or undefined for none. `live` is the stored object (undefined for a create); `updated`
 * is the object about to be stored, after defaulting, carrying the managedFields the client sent
 * (or the live ones it was patched from). Kubernetes' rules hold: the client's managedFields, when
 * valid, replace the live ones ([] or [{}] clears them; subresource writes ignore them); an existing
 * object nobody manages stays untracked until someone applies to it; a scale write is tracked only
 * once someone owns .spec.replicas; fields that do not decode leave the live entries as they were.
 * Throws InvalidError when an entry the client sent names an invalid manager.
 */
export function recordUpdate(live: KubeObject | undefined, updated: KubeObject, write: FieldManagerWrite): ManagedFieldsEntry[] | undefined {
  const sent = updated.metadata?.managedFields;
  const kept = live?.metadata?.managedFields as ManagedFieldsEntry[] | undefined;
  let managers: Managers;
  if (write.subresource || sent === undefined || sent === null) managers = liveManagers(live);
  else if (isReset(sent)) managers = new Map();
  else {
    try {
      managers = decodeManagers(sent);
      if (!managers.size) managers = liveManagers(live);
    } catch (err) {
      if (!(err instanceof UntypedError)) throw err;
      managers = liveManagers(live);
    }
  }
  if (live && !managers.size) return undefined;
  if (write.subresource === 'scale' && ![...managers.values()].some((m) => m.fields.has(REPLICAS))) return kept;
  try {
    const cmp = compareObjects(write.kind, live && withoutManagedFields(live), withoutManagedFields(updated));
    applyUpdate(managers, cmp, resetFieldsOf(write), writerOf(write, 'Update'), stampOf(write));
  } catch (err) {
    // As Kubernetes' UpdateNoErrors: an object that does not fit its schema keeps its entries.
    if (err instanceof UntypedError) return kept;
    throw err;
  }
  capUpdateManagers(managers);
  const entries = encodeManagers(managers);
  const causes = validateManagedFields(entries ?? []);
  if (causes.length) throw new InvalidError(write.kind, updated.metadata?.name ?? '', causes, groupOf(write.apiVersion));
  return entries;
}

// ---------------------------------------------------------------------------------------------
// Apply

/**
 * The object after `write.manager` applies `config` to `live` (undefined: the object does not
 * exist yet), with metadata.managedFields updated; the result is not yet defaulted. Throws
 * ApplyConflictError (409) when the configuration changes a field another manager owns and
 * `write.force` is not set, BadRequestError (400) for a configuration that is not an object of
 * the endpoint's kind or does not fit its schema.
 */
export function apply(live: KubeObject | undefined, config: unknown, write: ApplyWrite): KubeObject {
  if (!isObject(config)) throw new BadRequestError('error decoding patch: the configuration must be an object');
  const gvk = `${write.apiVersion.includes('/') ? write.apiVersion : `/${write.apiVersion}`}, Kind=${write.kind}`;
  if (config.apiVersion !== write.apiVersion || config.kind !== write.kind) {
    const sentVersion = typeof config.apiVersion === 'string' ? config.apiVersion : '';
    throw new BadRequestError(`invalid object type: ${sentVersion.includes('/') ? sentVersion : `/${sentVersion}`}, Kind=${typeof config.kind === 'string' ? config.kind : ''}`);
  }
  if (config.metadata?.managedFields !== undefined && config.metadata?.managedFields !== null) throw new BadRequestError('metadata.managedFields must be nil');
  const describe = `${config.metadata?.namespace ?? live?.metadata.namespace ?? ''}/${config.metadata?.name ?? ''}; ${gvk}`;

  let applied: FieldSet;
  try {
    applied = fieldsOfValue(config, PLAIN, rootAt(write.kind), false);
  } catch (err) {
    if (err instanceof UntypedError) throw new BadRequestError(`failed to create typed patch object (${describe}): ${err.message}`);
    throw err;
  }
  const reset = resetFieldsOf(write);
  applied = withoutSubtrees(applied, reset);
  const time = stampOf(write);
  const base: JsonObject = live ? withoutManagedFields(live) : {};

  try {
    const managers = liveManagers(live);
    // What an object nobody managed holds belongs to "before-first-apply", so applying over it conflicts.
    if (live && !managers.size) {
      applyUpdate(managers, compareObjects(write.kind, undefined, base), reset, { ...writerOf(write, 'Update'), manager: BEFORE_FIRST_APPLY }, time);
    }
    const writer = writerOf(write, 'Apply');
    const id = identity(writer);
    const previous = managers.get(id);
    managers.set(id, { ...writer, time: previous?.time, fields: applied });

    const merged = structuredClone(mergeValues(base, config, PLAIN, rootAt(write.kind))) as JsonObject;
    if (previous) {
      const owned = withFieldsAsMembers([...managers.values()].reduce((all, m) => union(all, m.fields), new FieldSet()));
      prune(merged, withFieldsAsMembers(previous.fields), owned, PLAIN, rootAt(write.kind));
    }

    const cmp = compareObjects(write.kind, base, merged);
    const changed = withoutSubtrees(cmp.changed(), reset);
    const removed = withoutSubtrees(cmp.removed, reset);
    const conflicts: { id: string; m: Manager; paths: string[][] }[] = [];
    for (const [otherId, m] of managers) {
      if (otherId === id) continue;
      const taken = intersect(m.fields, changed);
      if (!taken.empty) conflicts.push({ id: otherId, m, paths: [...memberPaths(taken)] });
    }
    if (conflicts.length && !write.force) throw conflictError(conflicts);
    for (const [otherId, m] of managers) {
      if (otherId === id) continue;
      const rest = minus(minus(m.fields, changed), removed);
      if (rest.empty) managers.delete(otherId);
      else managers.set(otherId, { ...m, fields: rest });
    }
    const mine = minus(applied, STRIPPED);
    const objectChanged = !deepEqual(base, { ...merged, metadata: { ...merged.metadata, managedFields: undefined } });
    if (mine.empty) managers.delete(id);
    else managers.set(id, { ...writer, time: objectChanged ? time : previous?.time, fields: mine });

    const entries = encodeManagers(managers);
    merged.metadata = { ...(merged.metadata ?? {}) };
    if (entries) merged.metadata.managedFields = entries;
    else delete merged.metadata.managedFields;
    return merged as KubeObject;
  } catch (err) {
    if (err instanceof UntypedError) throw new BadRequestError(`failed to create typed live object (${describe}): ${err.message}`);
    throw err;
  }
}

function printManager(m: Manager): string {
  let printed = goQuote(m.manager);
  if (m.subresource) printed += ` with subresource ${goQuote(m.subresource)}`;
  if (m.operation === 'Update') printed += ` using ${m.apiVersion}`;
  return printed;
}

/** Kubernetes' apply conflict: one Status cause per field, the message listing them by manager. */
function conflictError(conflicts: { id: string; m: Manager; paths: string[][] }[]): ApplyConflictError {
  conflicts.sort((a, b) => compareStrings(a.id, b.id));
  const count = conflicts.reduce((n, c) => n + c.paths.length, 0);
  const causes: StatusCause[] = conflicts.flatMap(({ m, paths }) => paths.map((p) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(m)}`, field: pathString(p) })));
  if (count === 1) return new ApplyConflictError(`Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].m)}: ${causes[0].field}`, causes);
  const lines = conflicts.flatMap(({ m, paths }) => [`conflicts with ${printManager(m)}:`, ...paths.map((p) => `- ${pathString(p)}`)]);
  return new ApplyConflictError(`Apply failed with ${count} conflicts: ${lines.join('\n')}`, causes);
}

/**
 * `config` merged into `live` as structured-merge-diff merges: maps and structs field by field,
 * keyed lists and sets item by item (the configuration's order, live-only items where they were),
 * everything else replaced. A null in the configuration removes the field. Shares unchanged
 * subtrees with its inputs.
 */
function mergeValues(live: Json, config: Json, shape: FieldShape, at: At): Json {
  if (config === undefined) return live;
  if (config === null) {
    // A null struct, map or list in Kubernetes' merge keeps what the live one holds.
    const keepsLive = !shape.atomic && ((isObject(live) && Object.keys(live).length > 0) || (Array.isArray(live) && live.length > 0 && isGranularList(shape)));
    return keepsLive ? live : undefined;
  }
  if (shape.atomic || typeof config !== 'object') return withoutNulls(config);
  if (Array.isArray(config)) {
    if (!Array.isArray(live) || !isGranularList(shape) || (!live.length && !config.length)) return withoutNulls(config);
    return mergeItems(live, config, shape, at);
  }
  if (!isObject(live)) return withoutNulls(config);
  const out: JsonObject = { ...live };
  for (const [name, value] of Object.entries(config)) {
    const child = entryAt(at, shape, name);
    const merged = mergeValues(live[name], value, child.shape, child.at);
    if (merged === undefined) delete out[name];
    else out[name] = merged;
  }
  return out;
}

function withoutNulls(value: Json, depth = 0): Json {
  if (depth > MAX_FIELD_DEPTH) throw new UntypedError(`the object nests deeper than ${MAX_FIELD_DEPTH} levels`);
  if (Array.isArray(value)) return value.map((v) => withoutNulls(v, depth + 1));
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v, depth + 1);
  return out;
}

/** structured-merge-diff's list merge order: the configuration's items in its order, live-only items kept in place. */
function mergeItems(live: Json[], config: Json[], shape: FieldShape, at: At): Json[] {
  const liveItems = indexItems(live, shape, at, true);
  const configItems = indexItems(config, shape, at, false);
  const liveOrder = [...liveItems.keys()];
  const configOrder = [...configItems.keys()];
  const shared = configOrder.filter((pe) => liveItems.has(pe));
  let nextShared = 0;
  const emitted = new Set<string>();
  const out: Json[] = [];
  const mergeItem = (pe: string) => {
    emitted.add(pe);
    const liveItem = liveItems.get(pe);
    // Duplicated live items give way to the configuration's one.
    out.push(mergeValues(liveItem?.length === 1 ? liveItem[0] : undefined, configItems.get(pe)![0], itemShape(shape), itemAt(at, pe)));
  };
  for (let l = 0, c = 0; l < liveOrder.length || c < configOrder.length; ) {
    if (l < liveOrder.length && c < configOrder.length) {
      const pe = liveOrder[l];
      if (pe === configOrder[c]) {
        mergeItem(pe);
        l++;
        c++;
        nextShared++;
        continue;
      }
      if (configItems.has(pe) && nextShared < shared.length && shared[nextShared] !== pe) {
        l++;
        continue;
      }
    }
    if (l < liveOrder.length) {
      const pe = liveOrder[l];
      if (!configItems.has(pe)) {
        out.push(...liveItems.get(pe)!);
        l++;
        continue;
      }
      if (emitted.has(pe)) l++;
    }
    if (c < configOrder.length) {
      const pe = configOrder[c];
      mergeItem(pe);
      c++;
      if (shared[nextShared] === pe) nextShared++;
    }
  }
  return out;
}

/**
 * Removes from `obj` (a fresh copy) what the applier applied last time, left out now, and nobody
 * else owns: a field, map entry or list item goes with everything under it.
 */
function prune(obj: Json, last: FieldSet, owned: FieldSet, shape: FieldShape, at: At): void {
  for (const [pe, lastChild] of last.children) {
    const ownedChild = owned.children.get(pe) ?? NO_FIELDS;
    if (lastChild.member && !ownedChild.member) {
      removeElement(obj, pe, shape, at);
      continue;
    }
    if (lastChild.empty) continue;
    const found = findElement(obj, pe, shape, at);
    if (!found || found.value === null || typeof found.value !== 'object') continue;
    prune(found.value, lastChild, ownedChild, found.shape, found.at);
    // Go drops a map or list left empty (omitempty); a struct stays.
    const emptied = Array.isArray(found.value) ? !found.value.length : found.shape.freeMap === true && !Object.keys(found.value).length;
    if (emptied) removeElement(obj, pe, shape, at);
  }
}

function findElement(obj: Json, pe: string, shape: FieldShape, at: At): { value: Json; shape: FieldShape; at: At } | undefined {
  if (pe.startsWith('f:')) {
    if (!isObject(obj)) return undefined;
    const child = entryAt(at, shape, pe.slice(2));
    return { value: obj[pe.slice(2)], shape: child.shape, at: child.at };
  }
  if (!Array.isArray(obj)) return undefined;
  const index = obj.findIndex((item, i) => matchesElement(item, i, pe, shape, at));
  if (index < 0) return undefined;
  return { value: obj[index], shape: itemShape(shape), at: itemAt(at, pe) };
}

function removeElement(obj: Json, pe: string, shape: FieldShape, at: At): void {
  if (pe.startsWith('f:')) {
    if (isObject(obj)) delete obj[pe.slice(2)];
    return;
  }
  if (!Array.isArray(obj)) return;
  for (let i = obj.length - 1; i >= 0; i--) if (matchesElement(obj[i], i, pe, shape, at)) obj.splice(i, 1);
}

function matchesElement(item: Json, index: number, pe: string, shape: FieldShape, at: At): boolean {
  if (pe.startsWith('i:')) return Number(pe.slice(2)) === index;
  try {
    return isGranularList(shape) && itemElement(item, shape, at, index) === pe;
  } catch (err) {
    if (err instanceof UntypedError) return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Managers' names and the managedFields a client may send

/** The manager of a request that names none: the User-Agent up to its first '/', printable and at most 128 bytes (Kubernetes' prefixFromUserAgent). */
export function managerFromUserAgent(userAgent: string | undefined): string {
  let out = '';
  let bytes = 0;
  for (const ch of (userAgent ?? '').split('/')[0]) {
    if (!isPrintable(ch)) continue;
    const size = Buffer.byteLength(ch);
    if (bytes + size > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** The field manager of a write: the fieldManager parameter, else derived from the User-Agent. */
export function fieldManagerFrom(fieldManager: string | undefined, userAgent: string | undefined): string {
  return fieldManager || managerFromUserAgent(userAgent);
}

/** Kubernetes' ValidateFieldManager: at most 128 bytes, printable characters only. */
export function validateFieldManager(fieldManager: string, field = 'fieldManager'): StatusCause[] {
  const causes: StatusCause[] = [];
  if (Buffer.byteLength(fieldManager) > FIELD_MANAGER_MAX_LENGTH) {
    causes.push({ reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes` });
  }
  let position = 0;
  for (const ch of fieldManager) {
    if (!isPrintable(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      causes.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${goQuote(fieldManager)}: invalid character U+${code} (at position ${position})` });
    }
    position += Buffer.byteLength(ch);
  }
  return causes;
}

export interface WriteOptions {
  fieldManager?: string;
  /** The force query parameter as sent. */
  force?: string;
  /** For PatchOptions: whether the patch is an apply patch. */
  apply?: boolean;
}

/**
 * Checks a write's fieldManager and force parameters as Kubernetes' Validate{Create,Update,Patch}Options
 * do (422 naming the options kind; an unparsable force is 400) and returns force.
 */
export function checkWriteOptions(optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions', options: WriteOptions): { force: boolean } {
  let force = false;
  if (options.force !== undefined) {
    const parsed = parseGoBool(options.force);
    if (parsed === undefined) throw new BadRequestError(`strconv.ParseBool: parsing ${goQuote(options.force)}: invalid syntax`);
    force = parsed;
  }
  const causes: StatusCause[] = [];
  if (optionsKind === 'PatchOptions') {
    if (options.apply && !options.fieldManager) causes.push({ reason: 'FieldValueRequired', field: 'fieldManager', message: 'Required value: is required for apply patch' });
    if (!options.apply && options.force !== undefined) causes.push({ reason: 'FieldValueForbidden', field: 'force', message: 'Forbidden: may not be specified for non-apply patch' });
  }
  causes.push(...validateFieldManager(options.fieldManager ?? ''));
  if (causes.length) throw new InvalidError(optionsKind, '', causes, 'meta.k8s.io');
  return { force: optionsKind === 'PatchOptions' && force };
}

function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** Kubernetes' ValidateManagedFields over entries as they are stored (metadata.managedFields[i]...). */
export function validateManagedFields(entries: readonly unknown[]): StatusCause[] {
  const causes: StatusCause[] = [];
  entries.forEach((entry, i) => {
    const at = `metadata.managedFields[${i}]`;
    const e = isObject(entry) ? entry : {};
    if (!e.operation) causes.push({ reason: 'FieldValueRequired', field: `${at}.operation`, message: 'Required value: must not be empty' });
    else if (e.operation !== 'Apply' && e.operation !== 'Update') {
      causes.push({ reason: 'FieldValueNotSupported', field: `${at}.operation`, message: `Unsupported value: ${goQuote(String(e.operation))}: supported values: "Apply", "Update"` });
    }
    if (e.fieldsType && e.fieldsType !== 'FieldsV1') causes.push({ reason: 'FieldValueInvalid', field: `${at}.fieldsType`, message: `Invalid value: ${goQuote(String(e.fieldsType))}: must be \`FieldsV1\`` });
    causes.push(...validateFieldManager(typeof e.manager === 'string' ? e.manager : '', `${at}.manager`));
    if (typeof e.subresource === 'string' && Buffer.byteLength(e.subresource) > MAX_SUBRESOURCE_LENGTH) {
      causes.push({ reason: 'FieldValueTooLong', field: `${at}.subresource`, message: `Too long: may not be more than ${MAX_SUBRESOURCE_LENGTH} bytes` });
    }
  });
  return causes;
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}
