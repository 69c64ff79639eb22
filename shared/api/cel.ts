// CEL as Kubernetes' API server uses it (k8s.io/apiserver/pkg/cel): expressions compiled once,
// with the variables a context declares, and evaluated over JSON values. The evaluator is
// @bufbuild/cel; what it lacks is added here: a compile step that refuses what cel-go's checker
// refuses for a dynamic environment (undeclared references, unknown functions, fields a structural
// schema does not declare, results of the wrong type), cel-go's error format with its caret line,
// the Kubernetes CEL libraries operators lean on most (lists, regex, quantity) and the optional
// values optionalOldSelf rules use. Pure: no I/O.
import { celEnv, celFunc, celMethod, CelScalar, isCelError, isCelList, isCelMap, isCelUint, listType, mapType, parse, plan, type CelEnv, type CelMap, type CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { cmpQ, formatQuantity, tryParseExact, valueOf, type Quantity } from './exact-quantity.ts';

export type JSONSchemaProps = Record<string, any>;

const { DYN, STRING, BOOL, INT } = CelScalar;
const DYN_LIST = listType(DYN);

/** A CEL value back as JSON (maps as objects, ints as numbers); what messageExpression and variables hand out. */
export function fromCel(v: CelValue | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (isCelUint(v)) return Number(v.value);
  if (isCelList(v)) return [...v].map(fromCel);
  if (isCelMap(v) && isCelList(v.get(OPTIONAL_KEY))) return fromCel((v.get(OPTIONAL_KEY) as any).get(0));
  if (isCelMap(v) && typeof v.get('@quantity') === 'string') return formatQuantity({ nanos: BigInt(v.get('@quantity') as string), format: 'DecimalSI' });
  if (isCelMap(v)) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(isCelUint(k) ? k.value : k), fromCel(x)]));
  if (typeof v === 'object' && 'kind' in (v as object)) return String(v);
  return v;
}

function sameValue(a: CelValue, b: CelValue): boolean {
  return JSON.stringify(fromCel(a)) === JSON.stringify(fromCel(b));
}

function compare(a: CelValue, b: CelValue): number {
  const x = typeof a === 'bigint' ? Number(a) : (a as any);
  const y = typeof b === 'bigint' ? Number(b) : (b as any);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

function listOrThrow(list: Iterable<CelValue>, what: string): CelValue[] {
  const items = [...list];
  if (!items.length) throw new Error(`${what} called on empty list`);
  return items;
}

/** Kubernetes' CEL lists library (k8s.io/apiserver/pkg/cel/library/lists.go) and regex library (regex.go). */
const KUBERNETES_LIBRARY = [
  celMethod('isSorted', DYN_LIST, [], BOOL, function () {
    const items = [...this];
    return items.every((v, i) => i === 0 || compare(items[i - 1], v) <= 0);
  }),
  celMethod('sum', DYN_LIST, [], DYN, function () {
    const items = [...this];
    if (!items.length) return 0n;
    if (items.every((v) => typeof v === 'bigint')) return (items as bigint[]).reduce((a, b) => a + b, 0n);
    return items.reduce<number>((a, b) => a + Number(b as any), 0);
  }),
  celMethod('min', DYN_LIST, [], DYN, function () {
    return listOrThrow(this, 'min').reduce((a, b) => (compare(b, a) < 0 ? b : a)) as any;
  }),
  celMethod('max', DYN_LIST, [], DYN, function () {
    return listOrThrow(this, 'max').reduce((a, b) => (compare(b, a) > 0 ? b : a)) as any;
  }),
  celMethod('indexOf', DYN_LIST, [DYN], INT, function (x) {
    return BigInt([...this].findIndex((v) => sameValue(v, x)));
  }),
  celMethod('lastIndexOf', DYN_LIST, [DYN], INT, function (x) {
    const items = [...this];
    for (let i = items.length - 1; i >= 0; i--) if (sameValue(items[i], x)) return BigInt(i);
    return -1n;
  }),
  celMethod('find', STRING, [STRING], STRING, function (re) {
    return new RegExp(re).exec(this)?.[0] ?? '';
  }),
  celMethod('findAll', STRING, [STRING], listType(STRING), function (re) {
    return [...this.matchAll(new RegExp(re, 'g'))].map((m) => m[0]);
  }),
  celMethod('findAll', STRING, [STRING, INT], listType(STRING), function (re, n) {
    const all = [...this.matchAll(new RegExp(re, 'g'))].map((m) => m[0]);
    return n < 0n ? all : all.slice(0, Number(n));
  }),
];

// Kubernetes' quantity library (library/quantity.go). The evaluator has no way to add a type of
// our own, so a quantity is a map holding its exact value in nano-units under a key no JSON object
// of the API has: equal quantities are equal maps, and its methods check for that key.
const QUANTITY_KEY = '@quantity';
const ANY_MAP = mapType(STRING, DYN);
const DOUBLE = CelScalar.DOUBLE;

function quantityOf(text: string): Record<string, string> {
  const q = tryParseExact(text);
  if (!q) throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  return { [QUANTITY_KEY]: q.nanos.toString() };
}

function nanosOf(m: CelMap | bigint): bigint {
  if (typeof m === 'bigint') return m * 1_000_000_000n;
  const v = m.get(QUANTITY_KEY);
  if (typeof v !== 'string') throw new Error('no such overload: the value is not a quantity');
  return BigInt(v);
}

const asQuantity = (nanos: bigint): Quantity => ({ nanos, format: 'DecimalSI' });

const QUANTITY_LIBRARY = [
  celFunc('quantity', [STRING], ANY_MAP, (text) => quantityOf(text)),
  celFunc('isQuantity', [STRING], BOOL, (text) => tryParseExact(text) !== undefined),
  celMethod('isGreaterThan', ANY_MAP, [ANY_MAP], BOOL, function (other) { return nanosOf(this) > nanosOf(other); }),
  celMethod('isLessThan', ANY_MAP, [ANY_MAP], BOOL, function (other) { return nanosOf(this) < nanosOf(other); }),
  celMethod('compareTo', ANY_MAP, [ANY_MAP], INT, function (other) { return BigInt(cmpQ(asQuantity(nanosOf(this)), asQuantity(nanosOf(other)))); }),
  celMethod('add', ANY_MAP, [ANY_MAP], ANY_MAP, function (other) { return { [QUANTITY_KEY]: (nanosOf(this) + nanosOf(other)).toString() }; }),
  celMethod('add', ANY_MAP, [INT], ANY_MAP, function (other) { return { [QUANTITY_KEY]: (nanosOf(this) + nanosOf(other)).toString() }; }),
  celMethod('sub', ANY_MAP, [ANY_MAP], ANY_MAP, function (other) { return { [QUANTITY_KEY]: (nanosOf(this) - nanosOf(other)).toString() }; }),
  celMethod('sub', ANY_MAP, [INT], ANY_MAP, function (other) { return { [QUANTITY_KEY]: (nanosOf(this) - nanosOf(other)).toString() }; }),
  celMethod('sign', ANY_MAP, [], INT, function () { const n = nanosOf(this); return n > 0n ? 1n : n < 0n ? -1n : 0n; }),
  celMethod('isInteger', ANY_MAP, [], BOOL, function () { return nanosOf(this) % 1_000_000_000n === 0n; }),
  celMethod('asInteger', ANY_MAP, [], INT, function () {
    const n = nanosOf(this);
    if (n % 1_000_000_000n !== 0n) throw new Error('cannot convert value to integer');
    const v = valueOf(asQuantity(n));
    if (v > 9223372036854775807n || v < -9223372036854775808n) throw new Error('cannot convert value to integer');
    return v;
  }),
  celMethod('asApproximateFloat', ANY_MAP, [], DOUBLE, function () { return Number(nanosOf(this)) / 1e9; }),
];

// CEL's optional values, as far as Kubernetes' optionalOldSelf rules use them: oldSelf.hasValue(),
// .value(), .orValue(x), optional.none() and optional.of(x) (the `?.` syntax the parser lacks).
// Like a quantity, an optional is a map under a key no API object has.
const OPTIONAL_KEY = '@optional';

/** An optional holding value, or none (undefined), as a CEL input. */
export function optionalOf(value: unknown): Record<string, unknown> {
  return value === undefined ? { [OPTIONAL_KEY]: [] } : { [OPTIONAL_KEY]: [value] };
}

function optionalContent(m: CelMap): CelValue[] {
  const v = m.get(OPTIONAL_KEY);
  if (!isCelList(v)) throw new Error('no such overload: the value is not an optional');
  return [...v];
}

const OPTIONAL_LIBRARY = [
  celMethod('hasValue', ANY_MAP, [], BOOL, function () { return optionalContent(this).length > 0; }),
  celMethod('value', ANY_MAP, [], DYN, function () {
    const [v] = optionalContent(this);
    if (v === undefined) throw new Error('optional.none() dereference');
    return v as any;
  }),
  celMethod('orValue', ANY_MAP, [DYN], DYN, function (other) { const c = optionalContent(this); return (c.length ? c[0] : other) as any; }),
  // optional.none() and optional.of(x): methods of the `optional` variable a rule that may read them is given.
  celMethod('none', ANY_MAP, [], ANY_MAP, function () { return optionalOf(undefined) as any; }),
  celMethod('of', ANY_MAP, [DYN], ANY_MAP, function (v) { return optionalOf(v) as any; }),
];

/** The binding of the `optional` identifier (optional.none(), optional.of(x)). */
export const OPTIONAL_NAMESPACE = { '@optional-namespace': true };

/**
 * Functions of Kubernetes' CEL libraries this server does not have: named as such when a rule uses
 * one, so the refusal says why instead of "undeclared reference".
 */
const UNSUPPORTED_KUBERNETES_FUNCTIONS = new Set(['url', 'isURL', 'getScheme', 'getHost', 'getHostname', 'getPort', 'getEscapedPath', 'getQuery', 'ip', 'isIP', 'cidr', 'isCIDR', 'family', 'isUnspecified', 'isLoopback', 'isLinkLocalMulticast', 'isLinkLocalUnicast', 'isGlobalUnicast', 'containsIP', 'containsCIDR', 'masked', 'prefixLength', 'semver', 'isSemver', 'ofNonZeroValue', 'base64.encode', 'base64.decode', 'sets.contains', 'sets.equivalent', 'sets.intersects']);

const ENV: CelEnv = celEnv({ funcs: [...strings, ...KUBERNETES_LIBRARY, ...QUANTITY_LIBRARY, ...OPTIONAL_LIBRARY] });
const FUNCTIONS = new Set([...ENV.funcs].map((f) => f.name));
/** Operators the parser produces that are not functions of the environment (logic, ternary, index). */
const BUILTIN_CALLS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '@not_strictly_false', 'has']);

/** The type denotations an expression may name (`type(x) == string`). */
const TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);

// ---- types the compile step follows ---------------------------------------------------------

/**
 * What the compile step knows of an expression's value: a schema node (a custom resource's
 * structural schema; fields it does not declare are "undefined field"), or nothing (dyn).
 */
export type StaticType = { schema: JSONSchemaProps; root?: boolean } | undefined;

/** The root of a custom resource: its schema plus apiVersion, kind and metadata.name/generateName (as Kubernetes' WithTypeAndObjectMeta). */
const ROOT_EXTRAS: Record<string, JSONSchemaProps> = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } },
};

const CEL_TYPE_NAMES: Record<string, string> = { string: 'string', integer: 'int', number: 'double', boolean: 'bool' };

function fieldType(t: StaticType, field: string): { ok: boolean; type: StaticType; why?: string } {
  if (!t) return { ok: true, type: undefined };
  const s = t.schema;
  if (t.root && ROOT_EXTRAS[field]) return { ok: true, type: { schema: s.properties?.[field] && field !== 'metadata' ? s.properties[field] : ROOT_EXTRAS[field] } };
  if (s.properties && field in s.properties) return { ok: true, type: { schema: s.properties[field] } };
  if (s.additionalProperties && typeof s.additionalProperties === 'object') return { ok: true, type: { schema: s.additionalProperties } };
  if (['string', 'integer', 'number', 'boolean'].includes(s.type) && !s['x-kubernetes-int-or-string']) {
    return { ok: false, type: undefined, why: `type '${CEL_TYPE_NAMES[s.type]}' does not support field selection` };
  }
  const open = s['x-kubernetes-preserve-unknown-fields'] === true || s['x-kubernetes-int-or-string'] === true || s.additionalProperties === true || s.type !== 'object';
  return { ok: open, type: undefined };
}

function elementType(t: StaticType): StaticType {
  if (!t) return undefined;
  const s = t.schema;
  if (s.type === 'array' && s.items && typeof s.items === 'object') return { schema: s.items };
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') return { schema: { type: 'string' } };
  return undefined;
}

// ---- compiling ------------------------------------------------------------------------------

class CompileError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

/** cel-go's rendering of an error: location, message, the source line and a caret under the column. */
function formatError(source: string, offset: number, message: string): string {
  const before = source.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = offset - lineStart;
  const text = source.split('\n')[line - 1] ?? '';
  return `ERROR: <input>:${line}:${column + 1}: ${message}\n | ${text}\n | ${'.'.repeat(column)}^`;
}

export interface CompiledExpression {
  source: string;
  /** The variables the expression reads (so a rule reading oldSelf is a transition rule). */
  references: Set<string>;
  evaluate(bindings: Record<string, unknown>): { value: CelValue } | { error: string };
}

interface Walk {
  positions: Record<string, number>;
  /** What is known of each identifier's and field's type, by expression id (for outputKind). */
  types: Map<string, StaticType>;
  declared: Map<string, StaticType>;
  references: Set<string>;
}

function walk(e: any, w: Walk, scope: Map<string, StaticType>): StaticType {
  const t = walkNode(e, w, scope);
  if (t && e?.id !== undefined) w.types.set(String(e.id), t);
  return t;
}

function walkNode(e: any, w: Walk, scope: Map<string, StaticType>): StaticType {
  if (!e?.exprKind) return undefined;
  const at = (expr: any) => w.positions[String(expr.id)] ?? 0;
  const { case: kind, value } = e.exprKind;
  switch (kind) {
    case 'identExpr': {
      if (scope.has(value.name)) return scope.get(value.name);
      if (TYPE_NAMES.has(value.name)) return undefined;
      if (w.declared.has(value.name)) {
        w.references.add(value.name);
        return w.declared.get(value.name);
      }
      throw new CompileError(at(e), `undeclared reference to '${value.name}' (in container '')`);
    }
    case 'selectExpr': {
      const operand = walk(value.operand, w, scope);
      const f = fieldType(operand, value.field);
      if (!f.ok) throw new CompileError(at(e), f.why ?? `undefined field '${value.field}'`);
      return value.testOnly ? undefined : f.type;
    }
    case 'callExpr': {
      const target = value.target ? walk(value.target, w, scope) : undefined;
      const args = (value.args ?? []).map((a: any) => walk(a, w, scope));
      const fn: string = value.function;
      if (UNSUPPORTED_KUBERNETES_FUNCTIONS.has(fn)) throw new CompileError(at(e), `function '${fn}' of Kubernetes' CEL libraries is not supported by this server`);
      if (!FUNCTIONS.has(fn) && !BUILTIN_CALLS.has(fn)) {
        throw new CompileError(at(e), `undeclared reference to '${fn}' (in container '')`);
      }
      if (fn === '_[_]') return elementType(value.target ? target : args[0]);
      return undefined;
    }
    case 'comprehensionExpr': {
      const range = walk(value.iterRange, w, scope);
      walk(value.accuInit, w, scope);
      const inner = new Map(scope);
      inner.set(value.iterVar, elementType(range));
      if (value.iterVar2) inner.set(value.iterVar2, undefined);
      inner.set(value.accuVar, undefined);
      walk(value.loopCondition, w, inner);
      walk(value.loopStep, w, inner);
      const outer = new Map(scope);
      outer.set(value.accuVar, undefined);
      walk(value.result, w, outer);
      return undefined;
    }
    case 'listExpr':
      for (const x of value.elements ?? []) walk(x, w, scope);
      return undefined;
    case 'structExpr':
      for (const entry of value.entries ?? []) {
        if (entry.keyKind?.case === 'mapKey') walk(entry.keyKind.value, w, scope);
        walk(entry.value, w, scope);
      }
      return undefined;
    default:
      return undefined;
  }
}

/** A JSON value as CEL sees it: integers as int (bigint) unless the schema says number, other numbers as double. */
export function toCel(v: unknown, schema?: JSONSchemaProps): unknown {
  if (typeof v === 'number') return Number.isInteger(v) && schema?.type !== 'number' ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map((x) => toCel(x, schema?.items));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const sub = schema?.properties?.[k] ?? (typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      out[k] = toCel(x, sub);
    }
    return out;
  }
  return v;
}

/**
 * Compiles an expression for an environment that declares `variables` (each with what is known of
 * its type): the compile error in cel-go's words, or the program.
 */
export function compile(source: string, variables: Record<string, StaticType>, expect?: 'bool' | 'string'): CompiledExpression | CompileFailure {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    const message = (err as Error).message;
    const m = /^<input>:(\d+):(\d+): (.*)$/s.exec(message);
    if (!m) return { error: `ERROR: <input>: Syntax error: ${message}` };
    const lines = source.split('\n');
    const offset = lines.slice(0, Number(m[1]) - 1).reduce((n, l) => n + l.length + 1, 0) + Number(m[2]) - 1;
    return { error: formatError(source, offset, `Syntax error: ${m[3]}`) };
  }
  const w: Walk = { positions: Object.fromEntries(Object.entries(parsed.sourceInfo?.positions ?? {}).map(([k, v]) => [k, Number(v)])), declared: new Map(Object.entries(variables)), references: new Set(), types: new Map() };
  try {
    walk(parsed.expr, w, new Map());
  } catch (err) {
    if (err instanceof CompileError) return { error: formatError(source, err.offset, err.message) };
    throw err;
  }
  if (expect) {
    const kind = outputKind(parsed.expr, w.types);
    if (kind !== 'dyn' && kind !== expect) return { error: expect === 'bool' ? 'cel expression must evaluate to a bool' : 'must evaluate to string', typeError: true };
  }
  const program = plan(ENV, parsed);
  return {
    source,
    references: w.references,
    evaluate(bindings) {
      let result: ReturnType<typeof program>;
      try {
        result = program(bindings as any);
      } catch (err) {
        return { error: (err as Error).message };
      }
      // cel-go's words for a missing key, which rules check with has() first.
      if (isCelError(result)) return { error: result.message.replace(/^field not found: /, 'no such key: ') };
      return { value: result };
    },
  };
}

/** Why an expression does not compile; typeError when it parses and checks but gives the wrong type. */
export interface CompileFailure {
  error: string;
  typeError?: boolean;
}

const NON_BOOL_CALLS = new Set(['_+_', '_-_', '_*_', '_/_', '_%_', '-_', 'size', 'int', 'uint', 'double', 'string', 'bytes', 'duration', 'timestamp', 'lowerAscii', 'upperAscii', 'replace', 'substring', 'trim', 'charAt', 'indexOf', 'lastIndexOf', 'split', 'join', 'find', 'findAll', 'sum', 'min', 'max', 'format', 'strings.quote']);
const STRING_CALLS = new Set(['string', 'lowerAscii', 'upperAscii', 'replace', 'substring', 'trim', 'charAt', 'join', 'find', 'format', 'strings.quote']);
const BOOL_CALLS = new Set(['_&&_', '_||_', '!_', '_==_', '_!=_', '_<_', '_<=_', '_>_', '_>=_', '@in', 'contains', 'startsWith', 'endsWith', 'matches', 'isSorted', 'bool']);

/** What the checker could tell of an expression's result without full type inference: enough to refuse `self.replicas` as a rule. */
function outputKind(e: any, types: Map<string, StaticType>): 'bool' | 'string' | 'other' | 'dyn' {
  const { case: kind, value } = e?.exprKind ?? {};
  if (kind === 'constExpr') {
    const c = value.constantKind?.case;
    return c === 'boolValue' ? 'bool' : c === 'stringValue' ? 'string' : c === 'nullValue' ? 'other' : 'other';
  }
  if (kind === 'listExpr' || kind === 'structExpr') return 'other';
  if (kind === 'selectExpr' && value.testOnly) return 'bool';
  if (kind === 'selectExpr' || kind === 'identExpr') {
    const t = types.get(String(e.id))?.schema;
    if (!t || t['x-kubernetes-preserve-unknown-fields'] || t['x-kubernetes-int-or-string']) return 'dyn';
    return t.type === 'boolean' ? 'bool' : t.type === 'string' ? 'string' : t.type ? 'other' : 'dyn';
  }
  if (kind === 'callExpr') {
    if (value.function === '_+_' || value.function === '_?_:_') {
      // Concatenation is a string's when a side is; a conditional is what both branches agree on.
      const kinds = (value.function === '_+_' ? value.args : value.args.slice(1)).map((a: any) => outputKind(a, types));
      if (value.function === '_?_:_') return kinds[0] === kinds[1] ? kinds[0] : 'dyn';
      return kinds.includes('string') ? 'string' : kinds.includes('dyn') ? 'dyn' : 'other';
    }
    if (BOOL_CALLS.has(value.function)) return 'bool';
    if (STRING_CALLS.has(value.function)) return 'string';
    if (NON_BOOL_CALLS.has(value.function)) return 'other';
    return 'dyn';
  }
  if (kind === 'comprehensionExpr') {
    // all/exists/exists_one accumulate a bool (exists_one a count compared at the end); map/filter a list.
    const init = value.accuInit?.exprKind?.case;
    if (init === 'listExpr') return 'other';
    return 'bool';
  }
  return 'dyn';
}

export function isCompileError(c: CompiledExpression | CompileFailure): c is CompileFailure {
  return 'error' in c;
}
