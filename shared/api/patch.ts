// The patch formats of the Kubernetes API that do not need schemas: JSON merge patch (RFC 7386)
// and JSON patch (RFC 6902). Pure functions over plain JSON values.
import { ApiError, BadRequestError, InvalidError } from '../errors.ts';
import { deepEqual } from '../util.ts';
import { MAX_PATCHED_NESTING_DEPTH, boundedEncodedSize, patchedObjectTooDeep } from './bounds.ts';

/** As Kubernetes' patch handler (maxJSONPatchOperations). */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/**
 * How much `copy` operations may add to a document in one patch, as Kubernetes' JSONPatchMaxCopyBytes
 * (evanphx/json-patch's AccumulatedCopySizeLimit): each copy can double a document.
 */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

type Json = any;

function isObject(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** RFC 7386: objects merge recursively, null removes a key, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** A deep copy of a JSON value; far cheaper than structuredClone on many small objects (a copied document). */
function cloneJson(v: Json): Json {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  const out: Record<string, Json> = {};
  for (const k in v) out[k] = cloneJson(v[k]);
  return out;
}

interface Operation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new BadRequestError(`the server rejected our request due to an error in our request: invalid JSON pointer "${pointer}"`);
  const tokens = pointer.slice(1).split('/');
  // Nothing deeper can be in a patched object; refusing the path keeps each step's work shallow.
  if (tokens.length > MAX_PATCHED_NESTING_DEPTH) throw patchedObjectTooDeep();
  return tokens.map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function parentOf(doc: Json, tokens: string[], path: string): { parent: Json; key: string } {
  let node = doc;
  for (const t of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(t)] : isObject(node) ? node[t] : undefined;
    if (node === undefined) throw missing(path);
  }
  return { parent: node, key: tokens[tokens.length - 1] };
}

function missing(path: string): Error {
  return new InvalidError('', '', [{ reason: 'FieldValueInvalid', field: '', message: `doc is missing path: "${path}"` }]);
}

function getAt(doc: Json, path: string): Json {
  let node = doc;
  for (const t of parsePointer(path)) {
    node = Array.isArray(node) ? node[Number(t)] : isObject(node) ? node[t] : undefined;
    if (node === undefined) throw missing(path);
  }
  return node;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, key } = parentOf(doc, parsePointer(path), path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw missing(path);
    return parent.splice(i, 1)[0];
  }
  if (!isObject(parent) || !Object.hasOwn(parent, key)) throw missing(path);
  const v = parent[key];
  delete parent[key];
  return v;
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length || (replace && i >= parent.length)) throw missing(path);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    if (replace && !Object.hasOwn(parent, key)) throw missing(path);
    parent[key] = value;
  } else {
    throw missing(path);
  }
  return doc;
}

/**
 * RFC 6902, applied to a copy; a failed `test` or a missing path fails the whole patch. The number of
 * operations and what `copy` adds are bounded before the work is done, as Kubernetes bounds them.
 */
export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw new BadRequestError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`);
  }
  let doc = cloneJson(target);
  let copied = 0;
  for (const raw of operations as Operation[]) {
    if (!isObject(raw) || typeof raw.path !== 'string') throw new BadRequestError('json patch operations need "op" and "path"');
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, raw.path, cloneJson(raw.value), false);
        break;
      case 'replace':
        doc = addAt(doc, raw.path, cloneJson(raw.value), true);
        break;
      case 'remove':
        removeAt(doc, raw.path);
        break;
      case 'move': {
        const v = removeAt(doc, raw.from ?? '');
        doc = addAt(doc, raw.path, v, false);
        break;
      }
      case 'copy': {
        const value = getAt(doc, raw.from ?? '');
        copied += boundedEncodedSize(value, MAX_JSON_PATCH_COPY_BYTES - copied);
        if (copied > MAX_JSON_PATCH_COPY_BYTES) {
          throw new ApiError(422, 'Invalid', `Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${MAX_JSON_PATCH_COPY_BYTES}`);
        }
        doc = addAt(doc, raw.path, cloneJson(value), false);
        break;
      }
      case 'test':
        if (!deepEqual(getAt(doc, raw.path), raw.value)) {
          throw new InvalidError('', '', [{ reason: 'FieldValueInvalid', field: '', message: `testing value ${raw.path} failed` }]);
        }
        break;
      default:
        throw new BadRequestError(`Unexpected kind: ${String((raw as any).op)}`);
    }
  }
  return doc;
}
