// Field sets as structured-merge-diff keeps them (fieldpath.Set), and their FieldsV1 form.
//
// A set is a tree of path elements: `f:<name>` for a field or map entry, `k:{"name":"c"}` for an
// item of a list keyed by name (key fields sorted, values as Go's encoding/json writes them), `v:"x"`
// for a value of a set, `i:0` for a position. Each node is owned itself (a member), a parent of
// owned nodes, or both; FieldsV1 writes a node that is both with a `.` child. Children serialize in
// structured-merge-diff's order: fields, then keys, values and positions, each sorted.
//
// Set operations build new trees and never change their inputs, so unchanged subtrees are shared
// between sets rather than copied.

type Json = any;

function isObject(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** FieldsV1 that does not decode: a malformed path element, a non-object node, or too deep. */
export class MalformedFieldsError extends Error {}

export type FieldsV1 = { [pathElement: string]: FieldsV1 };

/** A node of a field set: owned itself (`member`), a parent of owned nodes, or both. */
export class FieldSet {
  member = false;
  // Most nodes are leaves: their map is made only when a child comes.
  private childMap: Map<string, FieldSet> | undefined;

  get children(): ReadonlyMap<string, FieldSet> {
    return this.childMap ?? NO_CHILDREN;
  }

  get empty(): boolean {
    return this.childMap === undefined || this.childMap.size === 0;
  }

  /** Sets the node at `pe` (only while building a set). */
  setChild(pe: string, node: FieldSet): void {
    (this.childMap ??= new Map()).set(pe, node);
  }

  /** The node at `pe`, made if missing (only while building a set). */
  child(pe: string): FieldSet {
    let next = this.childMap?.get(pe);
    if (!next) this.setChild(pe, (next = new FieldSet()));
    return next;
  }

  insert(path: readonly string[]): void {
    let node: FieldSet = this;
    for (const pe of path) node = node.child(pe);
    node.member = true;
  }

  has(path: readonly string[]): boolean {
    let node: FieldSet | undefined = this;
    for (const pe of path) node = node?.children.get(pe);
    return node?.member === true;
  }
}

const NO_CHILDREN: ReadonlyMap<string, FieldSet> = new Map();
export const NO_FIELDS = new FieldSet();

function isBare(n: FieldSet): boolean {
  return !n.member && n.empty;
}

export function union(a: FieldSet, b: FieldSet): FieldSet {
  if (b.empty && !b.member) return a;
  if (a.empty && !a.member) return b;
  const out = new FieldSet();
  out.member = a.member || b.member;
  for (const [pe, child] of a.children) {
    const other = b.children.get(pe);
    out.setChild(pe, other ? union(child, other) : child);
  }
  for (const [pe, child] of b.children) if (!a.children.has(pe)) out.setChild(pe, child);
  return out;
}

/** a without b's members; what b holds only as a parent stays (structured-merge-diff's Difference). */
export function minus(a: FieldSet, b: FieldSet): FieldSet {
  if (b.empty && !b.member) return a;
  const out = new FieldSet();
  out.member = a.member && !b.member;
  for (const [pe, child] of a.children) {
    const other = b.children.get(pe);
    const rest = other ? minus(child, other) : child;
    if (!isBare(rest)) out.setChild(pe, rest);
  }
  return out;
}

export function intersect(a: FieldSet, b: FieldSet): FieldSet {
  const out = new FieldSet();
  out.member = a.member && b.member;
  for (const [pe, child] of a.children) {
    const other = b.children.get(pe);
    if (!other) continue;
    const both = intersect(child, other);
    if (!isBare(both)) out.setChild(pe, both);
  }
  return out;
}

/** a without b's members and everything under them (structured-merge-diff's RecursiveDifference). */
export function withoutSubtrees(a: FieldSet, b: FieldSet): FieldSet {
  if (b.empty) return a;
  const out = new FieldSet();
  out.member = a.member;
  for (const [pe, child] of a.children) {
    const other = b.children.get(pe);
    if (other?.member) continue;
    const rest = other ? withoutSubtrees(child, other) : child;
    if (!isBare(rest)) out.setChild(pe, rest);
  }
  return out;
}

/** Every field (`f:`) on the way to a member counts as owned itself (EnsureNamedFieldsAreMembers). */
export function withFieldsAsMembers(a: FieldSet): FieldSet {
  const out = new FieldSet();
  out.member = a.member;
  for (const [pe, child] of a.children) {
    const copy = withFieldsAsMembers(child);
    if (pe.startsWith('f:')) copy.member = true;
    out.setChild(pe, copy);
  }
  return out;
}

/** The members' paths, in serialization order. */
export function* memberPaths(a: FieldSet, prefix: string[] = []): Generator<string[]> {
  for (const pe of sortedElements(a)) {
    const child = a.children.get(pe)!;
    const path = [...prefix, pe];
    if (child.member) yield path;
    yield* memberPaths(child, path);
  }
}

/** The set of the given paths of field names. */
export function setOfFields(paths: readonly (readonly string[])[]): FieldSet {
  const set = new FieldSet();
  for (const path of paths) set.insert(path.map(fieldElement));
  return set;
}

// ---------------------------------------------------------------------------------------------
// Path elements

/** JSON as Go's encoding/json writes it (HTML-safe escapes), so keys compare byte for byte with Kubernetes'. */
function goJson(value: Json): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function byName(a: [string, Json], b: [string, Json]): number {
  return compareStrings(a[0], b[0]);
}

export function fieldElement(name: string): string {
  return `f:${name}`;
}

export function keyElement(fields: [string, Json][]): string {
  const sorted = fields.length > 1 ? [...fields].sort(byName) : fields;
  let out = 'k:{';
  for (let i = 0; i < sorted.length; i++) out += `${i ? ',' : ''}${goJson(sorted[i][0])}:${goJson(sorted[i][1])}`;
  return `${out}}`;
}

export function valueElement(v: Json): string {
  return `v:${goJson(v)}`;
}

// Path elements repeat from write to write (the same containers, the same ports): decoding each
// anew would parse and re-serialize every key of every entry on every write.
const canonicalCache = new Map<string, string | undefined>();
const CANONICAL_CACHE_SIZE = 10_000;

/** The canonical form of a serialized path element; undefined for a kind structured-merge-diff does not know (it drops those). */
function canonicalElement(pe: string): string | undefined {
  if (pe.startsWith('f:')) return pe;
  const cached = canonicalCache.get(pe);
  if (cached !== undefined || canonicalCache.has(pe)) return cached;
  let canonical: string | undefined;
  try {
    canonical = parseElement(pe);
  } catch (err) {
    if (err instanceof SyntaxError) throw new MalformedFieldsError(`invalid path element ${JSON.stringify(pe)}: ${err.message}`);
    throw err;
  }
  if (canonicalCache.size >= CANONICAL_CACHE_SIZE) canonicalCache.clear();
  canonicalCache.set(pe, canonical);
  return canonical;
}

function parseElement(pe: string): string | undefined {
  if (pe.length < 2 || pe[1] !== ':') throw new MalformedFieldsError(`invalid path element ${JSON.stringify(pe)}`);
  const body = pe.slice(2);
  switch (pe[0]) {
    case 'k': {
      const key = JSON.parse(body);
      if (!isObject(key)) throw new MalformedFieldsError(`invalid key ${body}`);
      return keyElement(Object.entries(key));
    }
    case 'v':
      return valueElement(JSON.parse(body));
    case 'i':
      if (!/^-?\d+$/.test(body)) throw new MalformedFieldsError(`invalid index ${body}`);
      return `i:${Number(body)}`;
    default:
      return undefined;
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
  const left = [...a].sort(byName);
  const right = [...b].sort(byName);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const c = compareStrings(left[i][0], right[i][0]) || compareJson(left[i][1], right[i][1]);
    if (c !== 0) return c;
  }
  return left.length - right.length;
}

interface Decorated {
  pe: string;
  rank: number;
  body: Json;
}

function compareDecorated(a: Decorated, b: Decorated): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.pe[0] === 'k') return compareFieldLists(Object.entries(a.body), Object.entries(b.body));
  if (a.pe[0] === 'v') return compareJson(a.body, b.body);
  if (a.pe[0] === 'i') return Number(a.body) - Number(b.body);
  return compareStrings(a.body, b.body);
}

function decorate(pe: string): Decorated {
  return { pe, rank: ELEMENT_RANK[pe[0]] ?? 4, body: pe[0] === 'k' || pe[0] === 'v' ? JSON.parse(pe.slice(2)) : pe.slice(2) };
}

function sortedElements(set: FieldSet): string[] {
  const keys = [...set.children.keys()];
  if (keys.every((pe) => pe.startsWith('f:'))) return keys.sort(compareStrings);
  return keys.map(decorate).sort(compareDecorated).map((d) => d.pe);
}

// ---------------------------------------------------------------------------------------------
// Printing, as Kubernetes prints paths and values in messages

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrintable(ch: string): boolean {
  return PRINTABLE.test(ch);
}

/** Go's %q, for messages Kubernetes formats with it. */
export function goQuote(s: string): string {
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

/** A value as structured-merge-diff prints it in a path. */
function valueString(v: Json): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  if (isObject(v)) return Object.entries(v).map(([k, x]) => `${k}=${valueString(x)}`).join('');
  return String(v);
}

function elementString(pe: string): string {
  const body = pe.slice(2);
  switch (pe[0]) {
    case 'f':
      return `.${body}`;
    case 'k':
      return `[${Object.entries(JSON.parse(body) as Record<string, Json>).map(([k, v]) => `${k}=${valueString(v)}`).join(',')}]`;
    case 'v':
      return `[=${valueString(JSON.parse(body))}]`;
    default:
      return `[${body}]`;
  }
}

/** A path as Kubernetes prints it in conflicts: `.spec.containers[name="app"].image`. */
export function pathString(path: readonly string[]): string {
  return path.map(elementString).join('');
}

// ---------------------------------------------------------------------------------------------
// FieldsV1

export function toFieldsV1(set: FieldSet): FieldsV1 {
  const out: FieldsV1 = {};
  for (const pe of sortedElements(set)) {
    const child = set.children.get(pe)!;
    if (child.empty) out[pe] = {};
    else if (child.member) out[pe] = { '.': {}, ...toFieldsV1(child) };
    else out[pe] = toFieldsV1(child);
  }
  return out;
}

/** Decodes FieldsV1 as structured-merge-diff reads it: a node with nothing under it is owned, so is one with '.'. */
export function fromFieldsV1(fields: unknown, maxDepth: number, depth = 0): FieldSet {
  if (depth > maxDepth) throw new MalformedFieldsError(`fieldsV1 nests deeper than ${maxDepth} levels`);
  if (!isObject(fields)) throw new MalformedFieldsError('fieldsV1 must be an object');
  const set = new FieldSet();
  for (const [key, value] of Object.entries(fields)) {
    if (key === '.') continue;
    const pe = canonicalElement(key);
    if (pe === undefined) continue;
    const child = fromFieldsV1(value, maxDepth, depth + 1);
    if (child.empty || Object.hasOwn(value as object, '.')) child.member = true;
    const existing = set.children.get(pe);
    set.setChild(pe, existing ? union(existing, child) : child);
  }
  return set;
}
