// Limits on what a client's JSON and YAML may be, checked before anything computes on them: how
// deep they nest (measured on the raw text, since a parser that recurses is exactly what a deep
// body overflows), how large a decoded or patched value is, and what its strings and keys hold.
// Pure functions over text and plain JSON values.
import { ApiError, BadRequestError, RequestEntityTooLargeError } from '../errors.ts';

/**
 * The deepest nesting a request body may have. Kubernetes manifests need a few dozen levels at
 * most (a field's managedFields entry mirrors its path about five levels deeper), and Redis' cjson
 * refuses anything past 1,000, which would leave an object that can be neither updated nor deleted.
 */
export const MAX_NESTING_DEPTH = 100;

/**
 * What a patched object may reach: a stored object can already sit a few levels deeper than any
 * body (its managedFields), and patching it must stay possible.
 */
export const MAX_PATCHED_NESTING_DEPTH = MAX_NESTING_DEPTH + 10;

/** The largest object a write may produce, as Kubernetes' MaxRequestBodyBytes (3 MiB). */
export const MAX_OBJECT_BYTES = 3 * 1024 * 1024;

function tooDeep(format: string, limit: number): BadRequestError {
  return new BadRequestError(`${format}: exceeded max depth of ${limit}`);
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Refuses JSON text that nests deeper than `limit`: a linear scan of the brackets outside string
 * literals, so it is safe to run before JSON.parse on any input (malformed text is left to the parser).
 */
export function checkJsonNesting(text: string, limit = MAX_NESTING_DEPTH): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Jump to the closing quote, skipping escaped characters.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) throw tooDeep('json', limit);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
}

/**
 * Refuses YAML text whose nesting may exceed `limit`, before the YAML parser sees it (which recurses,
 * and whose error reporting on a very deep flow collection exhausts the heap). An estimate from one
 * pass over the lines: each line's depth is its parent line's (found by indentation) plus the
 * collections it opens (`- `, `? `, `key:` and flow brackets). It never counts fewer levels than
 * a parser would open by more than a small factor, and counts one or two more for a list of maps;
 * the decoded value is then checked exactly with checkValueDepth.
 */
export function checkYamlNesting(text: string, limit = MAX_NESTING_DEPTH): void {
  // A backstop that needs no understanding of YAML: far more open brackets than close ones at any
  // point can only be a deep flow collection (or an absurd string), and is what exhausts the parser.
  let open = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++open > YAML_UNCLOSED_BRACKETS) throw tooDeep('yaml', limit);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) open--;
  }
  const scanner = new YamlLineScanner();
  const parents: { indent: number; depth: number; dash: boolean }[] = [];
  let blockScalarParent = -1;
  for (const line of text.split('\n')) {
    let indent = 0;
    while (indent < line.length && line.charCodeAt(indent) === 0x20) indent++;
    const blank = indent === line.length || line[indent] === '\r';
    if (blockScalarParent >= 0) {
      if (blank || indent > blockScalarParent) continue;
      blockScalarParent = -1;
    }
    if (scanner.continuing) {
      // Inside a flow collection or a quoted scalar that spans lines: indentation means nothing.
      const result = scanner.scan(line, 0, true);
      if (result.maxFlowDepth + (parents.at(-1)?.depth ?? 0) > limit) throw tooDeep('yaml', limit);
      continue;
    }
    if (blank || line[indent] === '#') continue;
    if (indent === 0 && (line.startsWith('---') || line.startsWith('...'))) {
      parents.length = 0;
      continue;
    }
    const dash = line[indent] === '-' && (indent + 1 === line.length || line[indent + 1] === ' ' || line[indent + 1] === '\r');
    // A `- ` at the indentation of a `key:` line is that key's list, as Kubernetes manifests write it.
    while (parents.length) {
      const top = parents[parents.length - 1];
      if (top.indent > indent || (top.indent === indent && (!dash || top.dash))) parents.pop();
      else break;
    }
    const result = scanner.scan(line, indent, false);
    const depth = (parents.at(-1)?.depth ?? 0) + result.opened;
    if (depth + result.maxFlowDepth > limit) throw tooDeep('yaml', limit);
    parents.push({ indent, depth, dash });
    if (result.blockScalar) blockScalarParent = indent;
  }
}

/**
 * The unclosed brackets, in quotes or not, checkYamlNesting tolerates: fewer than the YAML parser
 * survives (it reports a stack overflow near 800 levels, and exhausts the heap far beyond).
 */
const YAML_UNCLOSED_BRACKETS = 1000;

/** The character-level state of checkYamlNesting that carries from line to line. */
class YamlLineScanner {
  private flowDepth = 0;
  private quote: '' | '"' | "'" = '';

  get continuing(): boolean {
    return this.flowDepth > 0 || this.quote !== '';
  }

  /**
   * Scans one line from `start`. Returns the block collections it opens, the deepest flow nesting
   * reached, and whether it ends in a block scalar header (`|`, `>-`, ...), whose lines follow.
   */
  scan(line: string, start: number, continued: boolean): { opened: number; maxFlowDepth: number; blockScalar: boolean } {
    let opened = 0;
    let maxFlowDepth = this.flowDepth;
    // Quotes and brackets open something only where a scalar starts: `a: x[0]` and `it's` are plain text.
    let atScalarStart = !continued || this.flowDepth > 0;
    let lastToken = '';
    const n = line.length;
    for (let i = start; i < n; i++) {
      const ch = line[i];
      if (this.quote === '"') {
        if (ch === '\\') i++;
        else if (ch === '"') this.quote = '';
        continue;
      }
      if (this.quote === "'") {
        if (ch === "'") {
          if (line[i + 1] === "'") i++;
          else this.quote = '';
        }
        continue;
      }
      if (ch === ' ' || ch === '\t' || ch === '\r') continue;
      const next = line[i + 1];
      const separated = next === undefined || next === ' ' || next === '\t' || next === '\r';
      if (ch === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) break;
      if (this.flowDepth === 0 && (ch === '-' || ch === '?') && separated && atScalarStart) {
        opened++;
        lastToken = ch;
        continue;
      }
      // In flow collections a ':' may touch its value, as JSON writes it (`{"a":"b"}`).
      if (ch === ':' && (separated || this.flowDepth > 0)) {
        if (this.flowDepth === 0) opened++;
        atScalarStart = true;
        lastToken = ':';
        continue;
      }
      if ((ch === '[' || ch === '{') && (atScalarStart || this.flowDepth > 0)) {
        this.flowDepth++;
        maxFlowDepth = Math.max(maxFlowDepth, this.flowDepth);
        atScalarStart = true;
        lastToken = ch;
        continue;
      }
      if (this.flowDepth > 0 && (ch === ']' || ch === '}')) {
        this.flowDepth--;
        atScalarStart = false;
        lastToken = ch;
        continue;
      }
      if (this.flowDepth > 0 && ch === ',') {
        atScalarStart = true;
        lastToken = ',';
        continue;
      }
      if ((ch === '&' || ch === '!') && atScalarStart) {
        // An anchor or a tag comes before the node it names, which may be a collection.
        while (i + 1 < n && line[i + 1] !== ' ' && line[i + 1] !== '\t') i++;
        continue;
      }
      if ((ch === '"' || ch === "'") && atScalarStart) {
        this.quote = ch;
        atScalarStart = false;
        lastToken = ch;
        continue;
      }
      if ((ch === '|' || ch === '>') && atScalarStart && this.flowDepth === 0) {
        lastToken = '|';
        // Indicators may follow the header (`|-`, `>+2`); then only a comment.
        while (i + 1 < n && /[-+0-9]/.test(line[i + 1])) i++;
        atScalarStart = false;
        continue;
      }
      atScalarStart = false;
      lastToken = 'text';
    }
    return { opened, maxFlowDepth, blockScalar: lastToken === '|' && this.flowDepth === 0 && this.quote === '' };
  }
}

/**
 * The exact depth check on a decoded value, for what the raw scans cannot see: YAML aliases that
 * repeat a deep anchor, a patch that puts one deep value inside another. Recurses at most `limit` levels.
 */
export function valueExceedsDepth(value: unknown, limit: number): boolean {
  const exceeds = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object') return false;
    if (depth >= limit) return true;
    if (Array.isArray(v)) return v.some((e) => exceeds(e, depth + 1));
    for (const k in v) if (exceeds((v as Record<string, unknown>)[k], depth + 1)) return true;
    return false;
  };
  return exceeds(value, 0);
}

export function checkValueDepth(value: unknown, limit: number, format: string): void {
  if (valueExceedsDepth(value, limit)) throw tooDeep(format, limit);
}

/**
 * The size of `value` encoded as JSON (counted in UTF-16 units, a close enough measure for a
 * bound), counted only until it passes `limit`: aliases and copies can make a value far larger
 * than its text, and measuring one costs at most about `limit` steps however large it is.
 */
export function boundedEncodedSize(value: unknown, limit: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length && size <= limit) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 2;
    else if (typeof v === 'number' || typeof v === 'boolean') size += String(v).length;
    else if (v === null || v === undefined) size += 4;
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const e of v) stack.push(e);
    } else if (typeof v === 'object') {
      size += 2;
      for (const k in v) {
        size += k.length + 4;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return size;
}

export function encodedSizeExceeds(value: unknown, limit: number): boolean {
  return boundedEncodedSize(value, limit) > limit;
}

/** A patch whose result would be larger than an object may be (413, as Kubernetes' storage refuses it). */
export function checkPatchedObject(value: unknown): void {
  if (encodedSizeExceeds(value, MAX_OBJECT_BYTES)) throw new RequestEntityTooLargeError(MAX_OBJECT_BYTES);
  if (valueExceedsDepth(value, MAX_PATCHED_NESTING_DEPTH)) throw patchedObjectTooDeep();
}

/** A patch that would nest the object past MAX_PATCHED_NESTING_DEPTH (422, as a patch that cannot apply). */
export function patchedObjectTooDeep(): ApiError {
  return new ApiError(422, 'Invalid', `the patched object exceeded max depth of ${MAX_PATCHED_NESTING_DEPTH}`);
}

declare global {
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

// A `\uD800`-`\uDFFF` escape: the only way a lone surrogate reaches a decoded string, since the
// UTF-8 decoding of the raw bytes already replaced any invalid sequence with U+FFFD.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * Replaces lone UTF-16 surrogates in every string and key of a decoded value with U+FFFD, as Go's
 * decoder does: such a string cannot be encoded as UTF-8, and would poison the stored object.
 * Walks the value only when the text had a surrogate escape at all. Mutates and returns `value`.
 */
export function replaceLoneSurrogates<T>(value: T, text: string): T {
  if (!SURROGATE_ESCAPE.test(text)) return value;
  const fix = (v: unknown): unknown => {
    if (typeof v === 'string') return v.isWellFormed() ? v : v.toWellFormed();
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = fix(v[i]);
      return v;
    }
    const obj = v as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const fixed = fix(obj[key]);
      if (key.isWellFormed()) obj[key] = fixed;
      else {
        delete obj[key];
        obj[key.toWellFormed()] = fixed;
      }
    }
    return obj;
  };
  return fix(value) as T;
}

/**
 * The paths of the fields a JSON text names twice in one object (`metadata.name`,
 * `spec.containers[0].image`), as Kubernetes' strict decoding reports them; JSON.parse silently
 * keeps the last. One pass of a small tokenizer over text that JSON.parse has already accepted.
 */
export function findDuplicateFields(text: string): string[] {
  interface Frame {
    keys?: Set<string>;
    /** The key or index the value being read sits at. */
    at: string | number;
  }
  const stack: Frame[] = [];
  const duplicates: string[] = [];
  const pathTo = (key: string) => {
    let path = '';
    for (const f of stack.slice(0, -1)) path += typeof f.at === 'number' ? `[${f.at}]` : path ? `.${f.at}` : f.at;
    return path ? `${path}.${key}` : key;
  };
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const begin = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) {
          escaped = true;
          i++;
        } else if (s === QUOTE) break;
      }
      if (expectKey) {
        const frame = stack[stack.length - 1];
        const key = escaped ? (JSON.parse(text.slice(begin, i + 1)) as string) : text.slice(begin + 1, i);
        if (frame.keys!.has(key)) duplicates.push(pathTo(key));
        else frame.keys!.add(key);
        frame.at = key;
        expectKey = false;
      }
    } else if (c === OPEN_BRACE) {
      stack.push({ keys: new Set(), at: '' });
      expectKey = true;
    } else if (c === OPEN_BRACKET) {
      stack.push({ at: 0 });
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      const frame = stack[stack.length - 1];
      if (frame?.keys) expectKey = true;
      else if (frame) frame.at = (frame.at as number) + 1;
    }
  }
  return duplicates;
}
