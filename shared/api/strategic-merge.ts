// Strategic merge patch, the patch kubectl apply/edit/label send: like a JSON merge patch, except
// that the lists Kubernetes declares as keyed (containers by name, ports by containerPort, ...)
// merge element by element, and the $patch / $retainKeys / $setElementOrder /
// $deleteFromPrimitiveList directives are honoured.
import { ApiError, BadRequestError } from '../errors.ts';
import { fieldShape } from './field-shapes.ts';

type Json = any;
type Path = string[];

function isObject(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Lists merged by a key, per Kubernetes' patchMergeKey tags (the table server-side apply shares). */
function mergeKeyFor(kind: string, path: Path, field: string): string | undefined {
  return fieldShape(kind, path, field).mergeKey;
}

/** Primitive lists with patchStrategy "merge": union rather than replace. */
function isMergedPrimitiveList(kind: string, path: Path, field: string): boolean {
  return fieldShape(kind, path, field).mergeScalars === true;
}

const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

export function strategicMergePatch(kind: string, original: Json, patch: Record<string, Json>): Json {
  return mergeMap(kind, [], isObject(original) ? original : {}, patch);
}

// Kubernetes' mergepatch errors for directives of the wrong shape, each a 400 (interpretStrategicMergePatchError).
const BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
const BAD_SET_ELEMENT_ORDER = 'invalid patch format of setElementOrder list';

/**
 * Refuses the directives of a patch map whose values are not of their shape, before any of them
 * is applied: $patch a known string, $retainKeys a list of strings naming every field the map
 * sets (422 otherwise, as Kubernetes), $setElementOrder/ and $deleteFromPrimitiveList/ lists.
 */
function checkDirectives(patch: Record<string, Json>): void {
  const directive = patch.$patch;
  if (directive !== undefined && directive !== 'replace' && directive !== 'merge' && directive !== 'delete') {
    throw new BadRequestError(`unknown patch type: ${typeof directive === 'string' ? directive : JSON.stringify(directive)} in map`);
  }
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    if (!Array.isArray(retain) || retain.some((k) => typeof k !== 'string')) throw new BadRequestError(BAD_RETAIN_KEYS);
    const keep = new Set<string>(retain);
    const stray = Object.entries(patch).find(([k, v]) => !k.startsWith('$') && v !== null && !keep.has(k));
    if (stray) throw new ApiError(422, 'Invalid', "patch content doesn't match retainKeys list");
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_PRIMITIVE) && !Array.isArray(value)) throw new BadRequestError(BAD_PRIMITIVE_LIST);
    if (key.startsWith(SET_ORDER) && !Array.isArray(value)) throw new BadRequestError(BAD_SET_ELEMENT_ORDER);
  }
}

function mergeMap(kind: string, path: Path, original: Record<string, Json>, patch: Record<string, Json>): Json {
  checkDirectives(patch);
  const directive = patch.$patch;
  if (directive === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (directive === 'delete') return undefined;
  let out: Record<string, Json> = { ...original };
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set<string>(patch.$retainKeys);
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith(DELETE_PRIMITIVE)) {
      const field = key.slice(DELETE_PRIMITIVE.length);
      const remove = new Set(value as Json[]);
      if (Array.isArray(out[field])) out[field] = out[field].filter((v: Json) => !remove.has(v));
      continue;
    }
    if (key.startsWith(SET_ORDER)) continue; // applied after the list itself is merged
    if (value === null) {
      delete out[key];
      continue;
    }
    const current = out[key];
    if (isObject(value)) {
      const merged = mergeMap(kind, [...path, key], isObject(current) ? current : {}, value);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else if (Array.isArray(value)) {
      out[key] = mergeList(kind, path, key, Array.isArray(current) ? current : [], value);
    } else {
      out[key] = value;
    }
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ORDER) || !Array.isArray(order)) continue;
    const field = key.slice(SET_ORDER.length);
    if (Array.isArray(out[field])) out[field] = applyOrder(kind, path, field, out[field], order);
  }
  return out;
}

function mergeList(kind: string, path: Path, field: string, original: Json[], patch: Json[]): Json[] {
  const mergeKey = mergeKeyFor(kind, path, field);
  if (patch.some((e) => isObject(e) && e.$patch === 'replace' && Object.keys(e).length === 1)) {
    return stripDirectives(patch.filter((e) => !(isObject(e) && e.$patch === 'replace')));
  }
  if (!mergeKey) {
    if (isMergedPrimitiveList(kind, path, field)) return [...original, ...patch.filter((v) => !original.includes(v))];
    return stripDirectives(patch);
  }
  const out = original.map((e) => structuredClone(e));
  for (const element of patch) {
    if (!isObject(element)) {
      throw new BadRequestError(`the element of ${[...path, field].join('.')} must be an object keyed by ${mergeKey}`);
    }
    // Kubernetes' mergeSlice: an element names the item it merges into or deletes, or it is no patch.
    if (!Object.hasOwn(element, mergeKey)) throw new BadRequestError(`map: ${goPrint(element)} does not contain declared merge key: ${mergeKey}`);
    const keyValue = element[mergeKey];
    const index = out.findIndex((e) => isObject(e) && e[mergeKey] === keyValue);
    if (element.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) out[index] = mergeMap(kind, [...path, field], out[index], element);
    else out.push(stripDirectives(element));
  }
  return out;
}

function applyOrder(kind: string, path: Path, field: string, list: Json[], order: Json[]): Json[] {
  const mergeKey = mergeKeyFor(kind, path, field);
  const keyOf = (e: Json) => (mergeKey && isObject(e) ? e[mergeKey] : e);
  const position = new Map(order.map((o, i) => [mergeKey && isObject(o) ? o[mergeKey] : o, i]));
  return [...list].sort((a, b) => (position.get(keyOf(a)) ?? Infinity) - (position.get(keyOf(b)) ?? Infinity));
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  checkDirectives(v);
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

/** A decoded JSON value as Go's %v prints it (map[a:1 b:[x y]]), for the messages Kubernetes formats so. */
function goPrint(v: Json): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (isObject(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goPrint(v[k])}`).join(' ')}]`;
  return String(v);
}
