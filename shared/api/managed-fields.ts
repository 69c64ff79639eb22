// metadata.managedFields as Kubernetes keeps them (k8s.io/apimachinery's managedfields over
// sigs.k8s.io/structured-merge-diff), as pure functions over plain JSON objects:
//
// - recordUpdate: a create, update, patch or subresource write by a field manager (operation
//   "Update"): the fields the write added or changed become that manager's and leave every other
//   manager's set; the fields it removed leave every set.
// - apply: server-side apply (operation "Apply"): the configuration merges into the live object,
//   the applier owns exactly its configuration's fields, fields it applied before and leaves out
//   now are removed unless another manager owns them, and changing a field another manager owns
//   is a 409 conflict unless forced.
//
// Which lists are keyed, sets or atomic, and which objects are atomic or free-form maps, comes from
// ./field-shapes.ts (the table strategic merge patch reads too); field sets and their FieldsV1 form
// from ./field-set.ts. Each walk visits every field once and stops at MAX_FIELD_DEPTH.
import type { KubeObject, StatusCause } from '../types.ts';
import { ApplyConflictError, BadRequestError, InvalidError } from '../errors.ts';
import { deepEqual, now } from '../util.ts';
import { fieldShape, type FieldShape } from './field-shapes.ts';
import {
  FieldSet,
  MalformedFieldsError,
  NO_FIELDS,
  fieldElement,
  fromFieldsV1,
  goQuote,
  intersect,
  isPrintable,
  keyElement,
  memberPaths,
  minus,
  pathString,
  setOfFields,
  toFieldsV1,
  union,
  valueElement,
  withFieldsAsMembers,
  withoutSubtrees,
  type FieldsV1,
} from './field-set.ts';

export type { FieldsV1 } from './field-set.ts';

type Json = any;
type JsonObject = Record<string, Json>;

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
  /** The time to stamp on the entry the write changes (default: now). */
  now?: Date;
}

export interface ApplyWrite extends FieldManagerWrite {
  /** Take over fields other managers own instead of failing with a conflict (force=true). */
  force?: boolean;
}

export const FIELD_MANAGER_MAX_LENGTH = 128;
/** Above this many Update entries the oldest merge into one per apiVersion (Kubernetes' DefaultMaxUpdateManagers). */
export const MAX_UPDATE_MANAGERS = 10;
/** Object nesting the walks accept: far beyond any Kubernetes kind, well within the call stack. */
export const MAX_FIELD_DEPTH = 1000;
const MAX_SUBRESOURCE_LENGTH = 256;
const ANCIENT_CHANGES = 'ancient-changes';
const BEFORE_FIRST_APPLY = 'before-first-apply';
const UNKNOWN_MANAGER = 'unknown';

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The object does not fit its kind's schema (a keyed item without its key, a set holding maps), or nests too deep. */
class UntypedError extends Error {}

// Identity fields the API server sets are never anyone's (Kubernetes' stripMetaManager).
const STRIPPED = setOfFields([
  ['apiVersion'],
  ['kind'],
  ['metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['metadata', f]),
]);
const REPLICAS = ['f:spec', 'f:replicas'];

// ---------------------------------------------------------------------------------------------
// Walking an object with its kind's shapes

/** Where a walk is: a path linked from the root, so that descending copies nothing. */
interface At {
  readonly kind: string;
  readonly parent: At | undefined;
  /** The path element from the parent; undefined at the root. */
  readonly pe: string | undefined;
  /** The field name from the parent; undefined for a list item. */
  readonly name: string | undefined;
  /** Inside a free-form map's entry: no declared shapes below. */
  readonly untyped: boolean;
  readonly depth: number;
  /** Field names from the root, list positions left out (what field-shapes.ts reads); made when first asked. */
  names?: readonly string[];
}

const PLAIN: FieldShape = {};
const ATOMIC: FieldShape = { atomic: true };
const NONE: readonly Json[] = [];

function rootAt(kind: string): At {
  return { kind, parent: undefined, pe: undefined, name: undefined, untyped: false, depth: 0 };
}

function deeper(at: At): number {
  if (at.depth >= MAX_FIELD_DEPTH) throw new UntypedError(`the object nests deeper than ${MAX_FIELD_DEPTH} levels`);
  return at.depth + 1;
}

/** The field `name` of the object at `at`, whose shape is `shape`. */
function fieldAt(at: At, shape: FieldShape, name: string): At {
  return { kind: at.kind, parent: at, pe: fieldElement(name), name, untyped: at.untyped || shape.freeMap === true, depth: deeper(at) };
}

/** The declared shape of the field `name` of the object at `at`, whose shape is `shape`. */
function shapeOfField(at: At, shape: FieldShape, name: string): FieldShape {
  return at.untyped || shape.freeMap ? PLAIN : fieldShape(at.kind, namesOf(at), name);
}

function itemAt(at: At, pe: string): At {
  return { kind: at.kind, parent: at, pe, name: undefined, untyped: at.untyped, depth: deeper(at) };
}

function namesOf(at: At): readonly string[] {
  if (!at.names) at.names = !at.parent ? [] : at.name === undefined ? namesOf(at.parent) : [...namesOf(at.parent), at.name];
  return at.names;
}

function pathOf(at: At): string[] {
  const path: string[] = [];
  for (let a: At | undefined = at; a?.parent; a = a.parent) path.push(a.pe!);
  return path.reverse();
}

function nodeAt(set: FieldSet, at: At): FieldSet {
  return at.parent ? nodeAt(set, at.parent).child(at.pe!) : set;
}

function insertAt(set: FieldSet, at: At): void {
  nodeAt(set, at).member = true;
}

function isGranularList(shape: FieldShape): boolean {
  return !shape.atomic && (shape.list === 'map' || shape.list === 'set');
}

function itemShape(shape: FieldShape): FieldShape {
  return shape.atomicItems ? ATOMIC : PLAIN;
}

function elementWhere(at: At, index: number): string {
  return `${pathString(pathOf(at)) || '.'}: element ${index}`;
}

/** The path element of an item of a keyed or set list (structured-merge-diff's listItemToPathElement). */
function itemElement(item: Json, shape: FieldShape, at: At, index: number): string {
  if (shape.list === 'set') {
    if (item === null) throw new UntypedError(`${elementWhere(at, index)}: associative list without keys has an element that's an explicit null`);
    if (typeof item === 'object') throw new UntypedError(`${elementWhere(at, index)}: associative list without keys has an element that's a ${Array.isArray(item) ? 'list' : 'map'} type`);
    return valueElement(item);
  }
  if (item === null) throw new UntypedError(`${elementWhere(at, index)}: associative list with keys may not have a null element`);
  if (!isObject(item)) throw new UntypedError(`${elementWhere(at, index)}: associative list with keys may not have non-map elements`);
  const key: [string, Json][] = [];
  for (const name of shape.keys ?? []) {
    if (item[name] !== undefined) key.push([name, item[name]]);
    else if (shape.keyDefaults && Object.hasOwn(shape.keyDefaults, name)) key.push([name, shape.keyDefaults[name]]);
  }
  if (!key.length) {
    throw new UntypedError(`${elementWhere(at, index)}: associative list with keys has an element that omits all key fields ${JSON.stringify(shape.keys)} (and doesn't have default values for any key fields)`);
  }
  return keyElement(key);
}

/** Items of a keyed or set list grouped by path element, in first-seen order. */
function indexItems(list: readonly Json[], shape: FieldShape, at: At, allowDuplicates: boolean): Map<string, Json[]> {
  const byElement = new Map<string, Json[]>();
  for (let i = 0; i < list.length; i++) {
    const pe = itemElement(list[i], shape, at, i);
    const same = byElement.get(pe);
    if (!same) byElement.set(pe, [list[i]]);
    else if (allowDuplicates) same.push(list[i]);
    else throw new UntypedError(`${pathString(pathOf(at)) || '.'}: duplicate entries for key ${pathString([pe])}`);
  }
  return byElement;
}

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
        node.setChild(pe, child);
      }
    }
  } else {
    for (const name of Object.keys(value)) {
      const entry = value[name];
      if (entry === undefined) continue;
      const child = fieldsOfValue(entry, shapeOfField(at, shape, name), fieldAt(at, shape, name), allowDuplicates);
      // An empty or null value is owned itself; so is a map's entry, whatever it holds.
      if (entry === null || (isObject(entry) && Object.keys(entry).length === 0) || shape.freeMap) child.member = true;
      if (child.member || !child.empty) node.setChild(fieldElement(name), child);
    }
  }
  return node;
}

/** The FieldsV1 a manager applying `config` to a `kind` owns (identity metadata left out). */
export function appliedFields(kind: string, config: JsonObject): FieldsV1 {
  return toFieldsV1(minus(fieldsOfValue(config, PLAIN, rootAt(kind), false), STRIPPED));
}

// ---------------------------------------------------------------------------------------------
// Comparing two versions of an object (structured-merge-diff's Compare)

interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

function compareLeaf(before: Json, after: Json, at: At, cmp: Comparison): void {
  if (before === undefined) insertAt(cmp.added, at);
  else if (after === undefined) insertAt(cmp.removed, at);
  else if (!deepEqual(before, after)) insertAt(cmp.modified, at);
}

function hasFields(obj: JsonObject): boolean {
  for (const name in obj) if (obj[name] !== undefined && Object.hasOwn(obj, name)) return true;
  return false;
}

/** Absent or null (which counts as an empty one), or of the expected kind. */
function fits(value: Json, ofKind: boolean): boolean {
  return value === undefined || value === null || ofKind;
}

function compareValues(before: Json, after: Json, shape: FieldShape, at: At, cmp: Comparison): void {
  const beforeList = Array.isArray(before);
  const afterList = Array.isArray(after);
  const beforeMap = isObject(before);
  const afterMap = isObject(after);
  if (shape.atomic || (!beforeList && !afterList && !beforeMap && !afterMap)) return compareLeaf(before, after, at, cmp);
  if (beforeList || afterList) {
    if (!fits(before, beforeList) || !fits(after, afterList) || !isGranularList(shape)) return compareLeaf(before, after, at, cmp);
    const left: readonly Json[] = beforeList ? before : NONE;
    const right: readonly Json[] = afterList ? after : NONE;
    if (!left.length && !right.length) return compareLeaf(before, after, at, cmp);
    compareItems(left, right, shape, at, cmp);
  } else {
    if (!fits(before, beforeMap) || !fits(after, afterMap)) return compareLeaf(before, after, at, cmp);
    const left: JsonObject = beforeMap ? before : {};
    const right: JsonObject = afterMap ? after : {};
    if (!hasFields(left) && !hasFields(right)) return compareLeaf(before, after, at, cmp);
    for (const name of Object.keys(left)) {
      if (left[name] === undefined && right[name] === undefined) continue;
      compareValues(left[name], right[name], shapeOfField(at, shape, name), fieldAt(at, shape, name), cmp);
    }
    for (const name of Object.keys(right)) {
      if (right[name] === undefined || Object.hasOwn(left, name)) continue;
      compareValues(undefined, right[name], shapeOfField(at, shape, name), fieldAt(at, shape, name), cmp);
    }
  }
  // A map, struct or list item that appears or goes whole is itself added or removed.
  if (before === undefined) insertAt(cmp.added, at);
  else if (after === undefined) insertAt(cmp.removed, at);
}

function compareItems(left: readonly Json[], right: readonly Json[], shape: FieldShape, at: At, cmp: Comparison): void {
  const before = indexItems(left, shape, at, true);
  const after = indexItems(right, shape, at, true);
  for (const [pe, items] of before) compareItemGroups(items, after.get(pe) ?? NONE, itemShape(shape), itemAt(at, pe), cmp);
  for (const [pe, items] of after) if (!before.has(pe)) compareItemGroups(NONE, items, itemShape(shape), itemAt(at, pe), cmp);
}

/** The items of both versions under one path element; duplicated items (which only updates may hold) compare as one atomic value. */
function compareItemGroups(left: readonly Json[], right: readonly Json[], shape: FieldShape, at: At, cmp: Comparison): void {
  if (left.length <= 1 && right.length <= 1) compareValues(left[0], right[0], shape, at, cmp);
  else if (left.length >= 2 && right.length >= 2) {
    if (!deepEqual(left, right)) insertAt(cmp.modified, at);
  } else if (left.length >= 2) {
    if (right.length) compareValues(undefined, right[0], shape, at, cmp);
    insertAt(cmp.removed, at);
  } else {
    if (left.length) compareValues(left[0], undefined, shape, at, cmp);
    insertAt(cmp.added, at);
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

function struct(fields?: Record<string, ZeroShape>): ZeroShape {
  return { absent: 'struct', fields };
}

const NULL_LIST: ZeroShape = { absent: 'null' };
const CONTAINER = { resources: struct() };
const POD_SPEC = struct({ containers: { absent: 'null', items: CONTAINER }, initContainers: { items: CONTAINER } });
const POD_TEMPLATE = struct({ metadata: struct(), spec: POD_SPEC });
const METADATA = { metadata: struct() };
const ZERO: Record<string, ZeroShape> = {
  Pod: struct({ ...METADATA, spec: POD_SPEC, status: struct() }),
  Deployment: struct({ ...METADATA, spec: struct({ selector: NULL_LIST, template: POD_TEMPLATE, strategy: struct() }), status: struct() }),
  ReplicaSet: struct({ ...METADATA, spec: struct({ selector: NULL_LIST, template: POD_TEMPLATE }), status: struct() }),
  DaemonSet: struct({ ...METADATA, spec: struct({ selector: NULL_LIST, template: POD_TEMPLATE, updateStrategy: struct() }), status: struct() }),
  Job: struct({ ...METADATA, spec: struct({ template: POD_TEMPLATE }), status: struct() }),
  CronJob: struct({ ...METADATA, spec: struct({ jobTemplate: struct({ metadata: struct(), spec: struct({ template: POD_TEMPLATE }) }) }), status: struct() }),
  Service: struct({ ...METADATA, spec: struct(), status: struct({ loadBalancer: struct() }) }),
  Namespace: struct({ ...METADATA, spec: struct(), status: struct() }),
  Node: struct({ ...METADATA, spec: struct(), status: struct({ daemonEndpoints: struct({ kubeletEndpoint: struct() }), nodeInfo: struct() }) }),
  PodDisruptionBudget: struct({ ...METADATA, spec: struct(), status: struct() }),
  Lease: struct({ ...METADATA, spec: struct() }),
  EndpointSlice: struct({ ...METADATA, endpoints: NULL_LIST }),
  Event: struct({ ...METADATA, involvedObject: struct(), source: struct() }),
};
const ZERO_OTHER = struct(METADATA);

/** `value` with the zero fields a typed object has filled in (copying only what it fills). */
function withZeroFields(value: Json, zero: ZeroShape): Json {
  if (value === undefined) {
    if (zero.absent === 'null') return null;
    return zero.absent === 'struct' ? withZeroFields({}, { fields: zero.fields }) : undefined;
  }
  if (Array.isArray(value) && zero.items) {
    const itemZero = { fields: zero.items };
    return value.map((item) => (isObject(item) ? withZeroFields(item, itemZero) : item));
  }
  if (!isObject(value) || !zero.fields) return value;
  const out = { ...value };
  for (const name of Object.keys(zero.fields)) {
    const filled = withZeroFields(value[name], zero.fields[name]);
    if (filled !== undefined) out[name] = filled;
  }
  return out;
}

function compareObjects(kind: string, before: JsonObject | undefined, after: JsonObject): Comparison {
  const zero = ZERO[kind] ?? ZERO_OTHER;
  const cmp: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareValues(withZeroFields(before, zero), withZeroFields(after, zero), PLAIN, rootAt(kind), cmp);
  return cmp;
}

function withoutManagedFields(obj: KubeObject): JsonObject {
  return { ...obj, metadata: { ...obj.metadata, managedFields: undefined } };
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

type Writer = Omit<Manager, 'fields' | 'time'>;

/** The identity Kubernetes keys entries by (BuildManagerIdentifier): an Apply entry is one per manager, whatever its apiVersion. */
function identity(m: Writer): string {
  const id: JsonObject = {};
  if (m.manager) id.manager = m.manager;
  id.operation = m.operation;
  if (m.operation === 'Update' && m.apiVersion) id.apiVersion = m.apiVersion;
  if (m.subresource) id.subresource = m.subresource;
  return JSON.stringify(id);
}

type Managers = Map<string, Manager>;

/** Decodes entries as Kubernetes' DecodeManagedFields does; throws MalformedFieldsError on a malformed one. */
function decodeManagers(entries: unknown): Managers {
  if (!Array.isArray(entries)) throw new MalformedFieldsError('managedFields must be a list');
  const managers: Managers = new Map();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (!isObject(entry)) throw new MalformedFieldsError(`managed fields entry ${i} must be an object`);
    const { manager = '', operation, apiVersion, time, fieldsType, fieldsV1, subresource } = entry;
    if (operation !== 'Apply' && operation !== 'Update') throw new MalformedFieldsError('operation must be `Apply` or `Update`');
    if (typeof apiVersion !== 'string' || !apiVersion) throw new MalformedFieldsError('apiVersion must not be empty');
    if (fieldsType !== 'FieldsV1') throw new MalformedFieldsError(fieldsType ? `invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}` : `missing fieldsType in managed fields entry ${i}`);
    if (typeof manager !== 'string' || (subresource != null && typeof subresource !== 'string')) throw new MalformedFieldsError(`managed fields entry ${i} has a field of the wrong type`);
    if (time != null && (typeof time !== 'string' || Number.isNaN(Date.parse(time)))) throw new MalformedFieldsError(`managed fields entry ${i} has an invalid time`);
    const fields = fieldsV1 == null ? new FieldSet() : fromFieldsV1(fieldsV1, MAX_FIELD_DEPTH);
    const decoded: Manager = { manager, operation, apiVersion, subresource: subresource || undefined, time: time ?? undefined, fields };
    managers.set(identity(decoded), decoded);
  }
  return managers;
}

/** The live object's entries; ones that do not decode count as none, as Kubernetes treats them on update. */
function liveManagers(live: KubeObject | undefined): Managers {
  const entries = live?.metadata?.managedFields;
  if (entries === undefined) return new Map();
  try {
    return decodeManagers(entries);
  } catch (err) {
    if (err instanceof MalformedFieldsError) return new Map();
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

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byAge([idA, a]: [string, Manager], [idB, b]: [string, Manager]): number {
  return seconds(a.time) - seconds(b.time) || compareStrings(idA, idB);
}

/** Merges the oldest Update entries into one "ancient-changes" entry per apiVersion above the cap (Kubernetes' capManagersManager). */
function capUpdateManagers(managers: Managers): void {
  const updaters = [...managers.entries()].filter(([, m]) => m.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort(byAge);
  const firstOfVersion = new Map<string, string>();
  let count = updaters.length;
  for (const [id, m] of updaters) {
    if (count <= MAX_UPDATE_MANAGERS) break;
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(m.apiVersion, id);
      continue;
    }
    // The oldest entry of an apiVersion becomes the bucket once a second one joins it.
    const bucket = identity({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: m.apiVersion });
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

function byEncodingOrder(a: Manager, b: Manager): number {
  return (
    compareStrings(a.operation, b.operation) ||
    seconds(a.time) - seconds(b.time) ||
    compareStrings(a.manager, b.manager) ||
    compareStrings(a.apiVersion, b.apiVersion) ||
    compareStrings(a.subresource ?? '', b.subresource ?? '')
  );
}

function encodeManagers(managers: Managers): ManagedFieldsEntry[] | undefined {
  const entries = [...managers.values()].filter((m) => !m.fields.empty);
  if (!entries.length) return undefined;
  entries.sort(byEncodingOrder);
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
  if (write.resetFields) return setOfFields(write.resetFields);
  if (!write.subresource) return setOfFields([['status']]);
  return write.subresource === 'status' ? setOfFields([['spec']]) : NO_FIELDS;
}

function writerOf(write: FieldManagerWrite, operation: 'Apply' | 'Update'): Writer {
  return { manager: write.manager || UNKNOWN_MANAGER, operation, apiVersion: write.apiVersion, subresource: write.subresource || undefined };
}

/** Every other entry loses the fields a write changed or removed; entries left with nothing go. */
function release(managers: Managers, except: string | undefined, changed: FieldSet, removed: FieldSet): void {
  for (const [id, m] of managers) {
    if (id === except) continue;
    const rest = minus(minus(m.fields, changed), removed);
    if (rest.empty) managers.delete(id);
    else if (rest !== m.fields) managers.set(id, { ...m, fields: rest });
  }
}

/**
 * The fields a write changed become `writer`'s, taken from every other entry; the fields it removed
 * leave every entry (structured-merge-diff's Updater.Update inside Kubernetes' managedFieldsUpdater
 * and stripMetaManager). Changes `managers`.
 */
function recordChanges(managers: Managers, cmp: Comparison, reset: FieldSet, writer: Writer, time: string): void {
  const changed = withoutSubtrees(union(cmp.added, cmp.modified), reset);
  release(managers, undefined, changed, withoutSubtrees(cmp.removed, reset));
  const taken = minus(changed, STRIPPED);
  if (taken.empty) return;
  const id = identity(writer);
  const previous = managers.get(id);
  managers.set(id, { ...writer, time, fields: previous ? union(taken, previous.fields) : taken });
}

// ---------------------------------------------------------------------------------------------
// Updates

/** The managers a write starts from, as Kubernetes' decodeLiveOrNew picks them. */
function startingManagers(live: KubeObject | undefined, updated: KubeObject, write: FieldManagerWrite): Managers {
  const sent = updated.metadata?.managedFields;
  if (write.subresource || sent == null) return liveManagers(live);
  if (isReset(sent)) return new Map();
  try {
    const managers = decodeManagers(sent);
    return managers.size ? managers : liveManagers(live);
  } catch (err) {
    if (err instanceof MalformedFieldsError) return liveManagers(live);
    throw err;
  }
}

/**
 * The managedFields to store after a create, update, patch or subresource write (operation
 * "Update"), or undefined for none. `live` is the stored object (undefined for a create);
 * `updated` is the object about to be stored, defaulted, carrying the managedFields the client
 * sent (or the live ones it was patched from). As in Kubernetes: the client's managedFields, when
 * they decode, replace the live ones ([] or [{}] clears them; subresource writes ignore them); an
 * existing object nobody manages stays untracked until someone applies to it; a scale write is
 * tracked only once someone owns .spec.replicas; an object that does not fit its schema keeps its
 * live entries. Throws InvalidError when an entry the client sent names an invalid manager.
 */
export function recordUpdate(live: KubeObject | undefined, updated: KubeObject, write: FieldManagerWrite): ManagedFieldsEntry[] | undefined {
  const kept = live?.metadata?.managedFields as ManagedFieldsEntry[] | undefined;
  const managers = startingManagers(live, updated, write);
  if (live && !managers.size) return undefined;
  if (write.subresource === 'scale' && ![...managers.values()].some((m) => m.fields.has(REPLICAS))) return kept;
  try {
    const cmp = compareObjects(write.kind, live && withoutManagedFields(live), withoutManagedFields(updated));
    recordChanges(managers, cmp, resetFieldsOf(write), writerOf(write, 'Update'), now(write.now));
  } catch (err) {
    // As Kubernetes' UpdateNoErrors: the write goes ahead with the entries it had.
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

function groupVersionKind(apiVersion: unknown, kind: unknown): string {
  const version = typeof apiVersion === 'string' ? apiVersion : '';
  return `${version.includes('/') ? version : `/${version}`}, Kind=${typeof kind === 'string' ? kind : ''}`;
}

/**
 * The object after `write.manager` applies `config` to `live` (undefined: the object does not
 * exist yet), with metadata.managedFields updated, not yet defaulted. Throws ApplyConflictError
 * (409) when the configuration changes a field another manager owns and `write.force` is not set,
 * BadRequestError (400) for a configuration that is not an object of the endpoint's kind or does
 * not fit its schema.
 */
export function apply(live: KubeObject | undefined, config: unknown, write: ApplyWrite): KubeObject {
  if (!isObject(config)) throw new BadRequestError('error decoding patch: the configuration must be an object');
  if (config.apiVersion !== write.apiVersion || config.kind !== write.kind) throw new BadRequestError(`invalid object type: ${groupVersionKind(config.apiVersion, config.kind)}`);
  if (config.metadata?.managedFields != null) throw new BadRequestError('metadata.managedFields must be nil');
  const described = `${config.metadata?.namespace ?? live?.metadata.namespace ?? ''}/${config.metadata?.name ?? ''}; ${groupVersionKind(write.apiVersion, write.kind)}`;
  // Anything else of the wrong type reaches the kind's structural check in the merged object; metadata
  // would not, as the merge makes it an object again (and the live labels and annotations went with it).
  if (config.metadata != null && !isObject(config.metadata)) throw new BadRequestError(`failed to create typed patch object (${described}): .metadata: expected map, got ${JSON.stringify(config.metadata)}`);
  const reset = resetFieldsOf(write);
  let applied: FieldSet;
  try {
    applied = withoutSubtrees(fieldsOfValue(config, PLAIN, rootAt(write.kind), false), reset);
  } catch (err) {
    if (err instanceof UntypedError) throw new BadRequestError(`failed to create typed patch object (${described}): ${err.message}`);
    throw err;
  }
  try {
    return applyFields(live, config, applied, reset, write);
  } catch (err) {
    if (err instanceof UntypedError) throw new BadRequestError(`failed to create typed live object (${described}): ${err.message}`);
    throw err;
  }
}

function applyFields(live: KubeObject | undefined, config: JsonObject, applied: FieldSet, reset: FieldSet, write: ApplyWrite): KubeObject {
  const time = now(write.now);
  const base: JsonObject = live ? withoutManagedFields(live) : {};
  const managers = liveManagers(live);
  // What an object nobody managed holds belongs to "before-first-apply", so applying over it conflicts.
  if (live && !managers.size) recordChanges(managers, compareObjects(write.kind, undefined, base), reset, { ...writerOf(write, 'Update'), manager: BEFORE_FIRST_APPLY }, time);
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
  const changed = withoutSubtrees(union(cmp.added, cmp.modified), reset);
  const conflicts: Conflict[] = [];
  for (const [otherId, m] of managers) {
    if (otherId === id) continue;
    const taken = intersect(m.fields, changed);
    if (!taken.empty) conflicts.push({ id: otherId, manager: m, paths: [...memberPaths(taken)] });
  }
  if (conflicts.length && !write.force) throw conflictError(conflicts);
  release(managers, id, changed, withoutSubtrees(cmp.removed, reset));

  const mine = minus(applied, STRIPPED);
  // As Kubernetes: an apply that changes nothing leaves the entry's time as it was.
  const objectChanged = !deepEqual(base, { ...merged, metadata: { ...merged.metadata, managedFields: undefined } });
  if (mine.empty) managers.delete(id);
  else managers.set(id, { ...writer, time: objectChanged ? time : previous?.time, fields: mine });

  const entries = encodeManagers(managers);
  merged.metadata = { ...merged.metadata };
  if (entries) merged.metadata.managedFields = entries;
  else delete merged.metadata.managedFields;
  return merged as KubeObject;
}

interface Conflict {
  id: string;
  manager: Manager;
  paths: string[][];
}

function printManager(m: Manager): string {
  let printed = goQuote(m.manager);
  if (m.subresource) printed += ` with subresource ${goQuote(m.subresource)}`;
  if (m.operation === 'Update') printed += ` using ${m.apiVersion}`;
  return printed;
}

function byIdentity(a: Conflict, b: Conflict): number {
  return compareStrings(a.id, b.id);
}

/** Kubernetes' apply conflict (NewConflictError): one Status cause per field, the message listing them by manager. */
function conflictError(conflicts: Conflict[]): ApplyConflictError {
  conflicts.sort(byIdentity);
  const causes: StatusCause[] = [];
  const lines: string[] = [];
  for (const { manager, paths } of conflicts) {
    lines.push(`conflicts with ${printManager(manager)}:`);
    for (const path of paths) {
      causes.push({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(manager)}`, field: pathString(path) });
      lines.push(`- ${pathString(path)}`);
    }
  }
  if (causes.length === 1) return new ApplyConflictError(`Apply failed with 1 conflict: ${causes[0].message}: ${causes[0].field}`, causes);
  return new ApplyConflictError(`Apply failed with ${causes.length} conflicts: ${lines.join('\n')}`, causes);
}

/**
 * `config` merged into `live` as structured-merge-diff merges: maps and structs field by field,
 * keyed lists and sets item by item, everything else replaced; a null in the configuration
 * removes the field. Shares unchanged subtrees with its inputs.
 */
function mergeValues(live: Json, config: Json, shape: FieldShape, at: At): Json {
  if (config === undefined) return live;
  if (config === null) {
    // A null struct, map or keyed list merges as an empty one: what the live one holds stays.
    const keepsLive = !shape.atomic && ((isObject(live) && Object.keys(live).length > 0) || (Array.isArray(live) && live.length > 0 && isGranularList(shape)));
    return keepsLive ? live : undefined;
  }
  if (shape.atomic || typeof config !== 'object') return withoutNulls(config, at.depth);
  if (Array.isArray(config)) {
    if (!Array.isArray(live) || !isGranularList(shape) || (!live.length && !config.length)) return withoutNulls(config, at.depth);
    return mergeItems(live, config, shape, at);
  }
  if (!isObject(live)) return withoutNulls(config, at.depth);
  const out: JsonObject = { ...live };
  for (const name of Object.keys(config)) {
    const merged = mergeValues(live[name], config[name], shapeOfField(at, shape, name), fieldAt(at, shape, name));
    if (merged === undefined) delete out[name];
    else out[name] = merged;
  }
  return out;
}

function withoutNulls(value: Json, depth: number): Json {
  if (depth > MAX_FIELD_DEPTH) throw new UntypedError(`the object nests deeper than ${MAX_FIELD_DEPTH} levels`);
  if (Array.isArray(value)) return value.map((v) => withoutNulls(v, depth + 1));
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const name of Object.keys(value)) if (value[name] !== null) out[name] = withoutNulls(value[name], depth + 1);
  return out;
}

/**
 * structured-merge-diff's list merge: the configuration's items in its order, each merged with
 * the live item of the same key, and live-only items kept where they stood.
 */
function mergeItems(live: Json[], config: Json[], shape: FieldShape, at: At): Json[] {
  const liveItems = indexItems(live, shape, at, true);
  const configItems = indexItems(config, shape, at, false);
  const liveOrder = [...liveItems.keys()];
  const configOrder = [...configItems.keys()];
  const shared = configOrder.filter((pe) => liveItems.has(pe));
  let nextShared = 0;
  const emitted = new Set<string>();
  const out: Json[] = [];
  for (let l = 0, c = 0; l < liveOrder.length || c < configOrder.length; ) {
    if (l < liveOrder.length && c < configOrder.length) {
      const pe = liveOrder[l];
      if (pe === configOrder[c]) {
        out.push(mergeItem(pe, liveItems, configItems, shape, at, emitted));
        l++;
        c++;
        nextShared++;
        continue;
      }
      // A shared item comes when the configuration reaches it, unless it is the next one due.
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
      out.push(mergeItem(pe, liveItems, configItems, shape, at, emitted));
      c++;
      if (shared[nextShared] === pe) nextShared++;
    }
  }
  return out;
}

function mergeItem(pe: string, liveItems: Map<string, Json[]>, configItems: Map<string, Json[]>, shape: FieldShape, at: At, emitted: Set<string>): Json {
  emitted.add(pe);
  const liveItem = liveItems.get(pe);
  // Duplicated live items give way to the configuration's one.
  return mergeValues(liveItem?.length === 1 ? liveItem[0] : undefined, configItems.get(pe)![0], itemShape(shape), itemAt(at, pe));
}

/**
 * Removes from `obj` (a fresh copy) what the applier applied last time, leaves out now, and nobody
 * owns: a field, map entry or list item goes with everything under it.
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
    const name = pe.slice(2);
    return isObject(obj) ? { value: obj[name], shape: shapeOfField(at, shape, name), at: fieldAt(at, shape, name) } : undefined;
  }
  if (!Array.isArray(obj)) return undefined;
  for (let i = 0; i < obj.length; i++) {
    if (matchesElement(obj[i], i, pe, shape, at)) return { value: obj[i], shape: itemShape(shape), at: itemAt(at, pe) };
  }
  return undefined;
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
  if (!isGranularList(shape)) return false;
  try {
    return itemElement(item, shape, at, index) === pe;
  } catch (err) {
    if (err instanceof UntypedError) return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Managers' names, write options, and the managedFields a client may send

/** The manager of a request that names none: the User-Agent up to its first '/', printable, at most 128 bytes (Kubernetes' prefixFromUserAgent). */
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

/** The field manager of a write: the fieldManager parameter, else derived from the User-Agent (Kubernetes' managerOrUserAgent). */
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
  for (let i = 0; i < entries.length; i++) {
    const at = `metadata.managedFields[${i}]`;
    const entry = isObject(entries[i]) ? (entries[i] as JsonObject) : {};
    if (!entry.operation) causes.push({ reason: 'FieldValueRequired', field: `${at}.operation`, message: 'Required value: must not be empty' });
    else if (entry.operation !== 'Apply' && entry.operation !== 'Update') {
      causes.push({ reason: 'FieldValueNotSupported', field: `${at}.operation`, message: `Unsupported value: ${goQuote(String(entry.operation))}: supported values: "Apply", "Update"` });
    }
    if (entry.fieldsType && entry.fieldsType !== 'FieldsV1') causes.push({ reason: 'FieldValueInvalid', field: `${at}.fieldsType`, message: `Invalid value: ${goQuote(String(entry.fieldsType))}: must be \`FieldsV1\`` });
    causes.push(...validateFieldManager(typeof entry.manager === 'string' ? entry.manager : '', `${at}.manager`));
    if (typeof entry.subresource === 'string' && Buffer.byteLength(entry.subresource) > MAX_SUBRESOURCE_LENGTH) {
      causes.push({ reason: 'FieldValueTooLong', field: `${at}.subresource`, message: `Too long: may not be more than ${MAX_SUBRESOURCE_LENGTH} bytes` });
    }
  }
  return causes;
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}
