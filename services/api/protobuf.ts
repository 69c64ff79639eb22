// Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), which
// kubectl's typed clients send for built-in kinds (`kubectl create deployment|job|service|...`,
// `kubectl debug --copy-to`, the DeleteOptions of `kubectl drain --disable-eviction`) and never
// retry as JSON. The envelope is the magic `k8s\0` then a runtime.Unknown {typeMeta, raw}; `raw` is
// the object in the field numbers of Kubernetes' generated.proto, described in protobuf/*.ts.
//
// The decoded object is what the same Go object looks like in Kubernetes' JSON, so that the rest
// of the API server cannot tell the two encodings apart: pointer fields keep an explicit zero,
// omitempty fields drop it, structs are always written (see protobuf/schema.ts). Decoding is
// linear in the body: every byte is read once, unknown fields are skipped by their length, and
// malformed input is a 400 naming the field, never an exception that escapes as a 500.
import { UnsupportedMediaTypeError, BadRequestError } from '../../shared/errors.ts';
import { isValidQuantity } from '../../shared/api/quantity.ts';
import { RESOURCES, apiVersionOf } from '../../shared/api/resources.ts';
import { defineMessages, type Field, type Message } from './protobuf/schema.ts';
import { META_MESSAGES } from './protobuf/meta.ts';
import { POD_MESSAGES } from './protobuf/core-pod.ts';
import { CORE_MESSAGES } from './protobuf/core.ts';
import { GROUP_MESSAGES } from './protobuf/groups.ts';
import { AUTHENTICATION_MESSAGES } from './protobuf/authentication.ts';
import { AUTHZ_MESSAGES } from './protobuf/authz.ts';
import { AUTOSCALING_MESSAGES } from './protobuf/autoscaling.ts';
import { STORAGE_MESSAGES } from './protobuf/storage.ts';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/**
 * Messages may nest no deeper than this. The tables are not recursive and their deepest path is
 * 12 messages (CronJob > ... > PodAffinityTerm > LabelSelector > LabelSelectorRequirement), so only
 * a broken table could reach it; it bounds the recursion whatever the tables say.
 */
export const MAX_DEPTH = 32;

export const MESSAGES = defineMessages(META_MESSAGES, POD_MESSAGES, CORE_MESSAGES, GROUP_MESSAGES, AUTHENTICATION_MESSAGES, AUTHZ_MESSAGES, AUTOSCALING_MESSAGES, STORAGE_MESSAGES);

/**
 * The message of each `apiVersion/kind` a body may carry: each kind Wharf serves has the message of
 * its name; besides, the types only posted to a subresource, and events.k8s.io's Event.
 */
const KINDS: Record<string, string> = {
  ...Object.fromEntries(RESOURCES.map((r) => [`${apiVersionOf(r)}/${r.kind}`, r.kind])),
  'events.k8s.io/v1/Event': 'events.Event',
  'policy/v1/Eviction': 'Eviction',
  'autoscaling/v1/Scale': 'Scale',
  'autoscaling/v1/HorizontalPodAutoscaler': 'autoscalingv1.HorizontalPodAutoscaler',
  'authentication.k8s.io/v1/TokenRequest': 'TokenRequest',
};

/** The message for a body's type, if described. DeleteOptions is registered in every group version. */
export function messageFor(apiVersion: string, kind: string): Message | undefined {
  const name = kind === 'DeleteOptions' ? 'DeleteOptions' : KINDS[`${apiVersion}/${kind}`];
  return name === undefined ? undefined : MESSAGES.get(name);
}

/** A body that is not valid protobuf for its message; `path` grows as the error leaves each level. */
class MalformedError extends Error {
  readonly path: string[] = [];
}

/** JSON's own density at most ("[0,0,…]"), plus room for the zero structs of a small body. */
const VALUES_PER_BYTE = 0.5;
const VALUES_ALLOWANCE = 10_000;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

/**
 * One reader for the whole body. A length-delimited field is read by narrowing the window to it
 * (`enter`) and widening it again (`leave`), so nested messages cost no copies or new readers.
 */
class Reader {
  pos: number;
  end: number;
  /** How many JSON values the body may decode into, and how many are left (see `spend`). */
  private readonly valueLimit: number;
  private valuesLeft: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
    this.valueLimit = Math.floor(VALUES_PER_BYTE * (end - start)) + VALUES_ALLOWANCE;
    this.valuesLeft = this.valueLimit;
  }

  /**
   * Counts the values decoded. An empty element of a list is two bytes that Go's JSON writes as a
   * whole zero struct (a ContainerStatus is 8 values): 3 MiB of them would be 12 million values.
   * JSON of the same size holds at most one value per two bytes, and so may this.
   */
  spend(): void {
    this.valuesLeft -= 1;
    if (this.valuesLeft < 0) throw new MalformedError(`the body decodes to more than ${this.valueLimit} values, more than JSON of its size could hold`);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint: a number while it fits in 49 bits (as nearly all do), else a bigint. */
  varint(): number | bigint {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    let big = BigInt(value);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      const b = this.byte();
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        if (shift === 63n && b > 1) throw new MalformedError('varint overflows 64 bits');
        return big;
      }
    }
    throw new MalformedError('varint longer than 10 bytes');
  }

  /** A tag or a length: a non-negative number. */
  count(): number {
    const v = this.varint();
    if (typeof v === 'bigint') throw new MalformedError('length or tag out of range');
    return v;
  }

  /** Reads a length and narrows the window to the field it delimits; returns the outer end. */
  enter(): number {
    const length = this.count();
    if (length > this.end - this.pos) throw new MalformedError(`length ${length} runs past the end of the body`);
    const outer = this.end;
    this.end = this.pos + length;
    return outer;
  }

  /** Steps past the field entered last and restores the outer window. */
  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  text(encoding: 'utf8' | 'base64'): string {
    const outer = this.enter();
    const value = this.buf.toString(encoding, this.pos, this.end);
    this.leave(outer);
    return value;
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LENGTH) this.leave(this.enter());
    else if (wire === WIRE_FIXED64) this.advance(8);
    else if (wire === WIRE_FIXED32) this.advance(4);
    else throw new MalformedError(`unsupported wire type ${wire}`);
  }

  private byte(): number {
    if (this.pos >= this.end) throw new MalformedError('truncated varint');
    return this.buf[this.pos++];
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new MalformedError('truncated fixed-width field');
    this.pos += n;
  }
}

function int64(v: number | bigint): number {
  return typeof v === 'number' ? v : Number(BigInt.asIntN(64, v));
}

function int32(v: number | bigint): number {
  // A negative int32 arrives sign-extended to 64 bits; Go keeps the low 32.
  return typeof v === 'number' ? v | 0 : Number(BigInt.asIntN(32, v));
}

function expectWire(wire: number, expected: number): void {
  if (wire !== expected) throw new MalformedError(`wire type ${wire} where ${expected} was expected`);
}

function isVarintType(type: string): boolean {
  return type === 'int32' || type === 'int64' || type === 'bool';
}

/** One scalar as JSON has it: a number, a boolean, a string, or bytes in base64. */
function readScalar(r: Reader, type: string, wire: number): unknown {
  r.spend();
  if (isVarintType(type)) {
    expectWire(wire, WIRE_VARINT);
    const v = r.varint();
    if (type === 'bool') return v !== 0 && v !== 0n;
    return type === 'int32' ? int32(v) : int64(v);
  }
  expectWire(wire, WIRE_LENGTH);
  return r.text(type === 'bytes' ? 'base64' : 'utf8');
}

/** RFC 3339 in UTC, as metav1.Time (whole seconds) and MicroTime (six decimals) write it. */
function formatTime(seconds: number, micros: number | undefined): string {
  const date = new Date(seconds * 1000);
  if (!Number.isFinite(date.getTime()) || date.getUTCFullYear() < 0 || date.getUTCFullYear() > 9999) throw new MalformedError(`time ${seconds}s is out of range`);
  const text = date.toISOString().slice(0, 19);
  return micros === undefined ? `${text}Z` : `${text}.${String(micros).padStart(6, '0')}Z`;
}

/** Reads the fields of a small message inside the current window, by number. */
function eachField(r: Reader, read: (number: number, wire: number) => boolean): void {
  while (!r.done()) {
    const tag = r.count();
    if (!read(Math.floor(tag / 8), tag & 7)) r.skip(tag & 7);
  }
}

/** The types with JSON forms of their own, each a small message on the wire (the window). */
function readSpecial(r: Reader, type: string): unknown {
  r.spend();
  switch (type) {
    case 'Time':
    case 'MicroTime': {
      // An empty message is the zero time, which JSON writes as null.
      if (r.done()) return null;
      let seconds = 0;
      let nanos = 0;
      eachField(r, (number, wire) => {
        if (number === 1 && wire === WIRE_VARINT) seconds = int64(r.varint());
        else if (number === 2 && wire === WIRE_VARINT) nanos = int32(r.varint());
        else return false;
        return true;
      });
      // Time keeps whole seconds (its protobuf decoding drops nanos); MicroTime truncates to µs.
      if (type === 'Time') return formatTime(seconds, undefined);
      if (nanos < 0 || nanos > 999_999_999) throw new MalformedError(`nanos ${nanos} out of range`);
      return formatTime(seconds, Math.floor(nanos / 1000));
    }
    case 'Quantity': {
      let text: string | undefined;
      eachField(r, (number, wire) => number === 1 && wire === WIRE_LENGTH && (text = r.text('utf8')) !== undefined);
      if (text === undefined) return '0';
      if (!isValidQuantity(text.trim())) throw new MalformedError(`quantity "${text}" is not a valid quantity`);
      return text.trim();
    }
    case 'IntOrString': {
      let isString = false;
      let intVal = 0;
      let strVal = '';
      eachField(r, (number, wire) => {
        if (number === 1 && wire === WIRE_VARINT) isString = int64(r.varint()) === 1;
        else if (number === 2 && wire === WIRE_VARINT) intVal = int32(r.varint());
        else if (number === 3 && wire === WIRE_LENGTH) strVal = r.text('utf8');
        else return false;
        return true;
      });
      return isString ? strVal : intVal;
    }
    case 'FieldsV1':
    case 'RawExtension': {
      // Both are JSON already: their one field holds the raw document.
      let raw: string | undefined;
      eachField(r, (number, wire) => number === 1 && wire === WIRE_LENGTH && (raw = r.text('utf8')) !== undefined);
      if (raw === undefined) return null;
      try {
        return JSON.parse(raw);
      } catch {
        throw new MalformedError(type === 'FieldsV1' ? 'fieldsV1 is not JSON' : 'a RawExtension is not JSON');
      }
    }
    default:
      throw new Error(`protobuf: no reader for ${type}`);
  }
}

/** The zero value of a field's type, as Go's JSON writes an unset non-pointer field. */
function zeroOf(r: Reader, field: Field, depth: number): unknown {
  r.spend();
  if (field.repeated || field.map || field.type === 'bytes') return null;
  switch (field.type) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'int32':
    case 'int64':
    case 'IntOrString':
      return 0;
    case 'Quantity':
      return '0';
    case 'Time':
    case 'MicroTime':
    case 'FieldsV1':
    case 'RawExtension':
      return null;
  }
  const out: Record<string, unknown> = {};
  complete(r, field.message!, out, depth + 1);
  return out;
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

/**
 * Writes the fields Go's JSON has although the wire did not carry them: the zero of each `always`
 * field, and those of an inlined struct. Fields already there (from an earlier occurrence of the
 * same message, which protobuf merges) stay.
 */
function complete(r: Reader, message: Message, out: Record<string, unknown>, depth: number): void {
  if (depth > MAX_DEPTH) throw new MalformedError(`messages nest deeper than ${MAX_DEPTH}`);
  for (const field of message.writtenWhenUnset) {
    if (field.presence === 'inline') complete(r, field.message!, out, depth);
    else if (out[field.name] === undefined) out[field.name] = zeroOf(r, field, depth);
  }
}

/** A value of the field's type that is not a list or map element by itself. */
function readValue(r: Reader, field: Field, wire: number, depth: number): unknown {
  if (field.type === 'string' || field.type === 'bytes' || isVarintType(field.type)) return readScalar(r, field.type, wire);
  expectWire(wire, WIRE_LENGTH);
  const outer = r.enter();
  let value: unknown;
  if (field.message) {
    const out: Record<string, unknown> = {};
    decodeInto(r, field.message, out, depth + 1);
    value = out;
  } else {
    value = readSpecial(r, field.type);
  }
  r.leave(outer);
  return value;
}

/** A map entry {1: key, 2: value}; a missing value is the zero of its type, as Go leaves it. */
function readMapEntry(r: Reader, field: Field, wire: number, depth: number): [string, unknown] {
  expectWire(wire, WIRE_LENGTH);
  const outer = r.enter();
  const valueField: Field = { ...field, map: false };
  let key = '';
  let value: unknown;
  eachField(r, (number, entryWire) => {
    if (number === 1) key = readScalar(r, 'string', entryWire) as string;
    else if (number === 2) value = readValue(r, valueField, entryWire, depth);
    else return false;
    return true;
  });
  r.leave(outer);
  if (value === undefined) value = field.type === 'bytes' ? '' : zeroOf(r, valueField, depth);
  return [key, value];
}

function readField(r: Reader, field: Field, wire: number, out: Record<string, unknown>, depth: number): void {
  if (field.presence === 'inline' || (field.message && !field.repeated && !field.map)) {
    // A struct given twice is merged, as protobuf does; an inlined one is merged into the parent.
    expectWire(wire, WIRE_LENGTH);
    const outer = r.enter();
    const into = field.presence === 'inline' ? out : ((out[field.name] as Record<string, unknown> | undefined) ?? {});
    decodeInto(r, field.message!, into, depth + 1);
    if (field.presence !== 'inline') out[field.name] = into;
    r.leave(outer);
    return;
  }
  if (field.map) {
    const [key, value] = readMapEntry(r, field, wire, depth);
    // A key is data ("__proto__" included): an own property, as JSON.parse would make it.
    Object.defineProperty((out[field.name] ??= {}) as object, key, { value, enumerable: true, writable: true, configurable: true });
    return;
  }
  if (field.repeated) {
    const list = (out[field.name] ??= []) as unknown[];
    if (wire === WIRE_LENGTH && isVarintType(field.type)) {
      // Packed: one length-delimited run of varints.
      const outer = r.enter();
      while (!r.done()) list.push(readScalar(r, field.type, WIRE_VARINT));
      r.leave(outer);
      // An omitempty list that an empty run left empty is not written.
      if (list.length === 0 && field.presence === 'omitempty') delete out[field.name];
    } else {
      list.push(readValue(r, field, wire, depth));
    }
    return;
  }
  const value = readValue(r, field, wire, depth);
  // The last one wins, as protobuf has it; omitempty drops a zero that a later value may replace.
  if (field.presence === 'omitempty' && isZero(value)) delete out[field.name];
  else out[field.name] = value;
}

function labelOf(field: Field, out: Record<string, unknown>): string {
  if (field.presence === 'inline') return '';
  if (!field.repeated) return field.name;
  const list = out[field.name];
  return `${field.name}[${Array.isArray(list) ? list.length : 0}]`;
}

/** Decodes the fields in the reader's window into `out` (a fresh object, or the parent of an inlined struct). */
function decodeInto(r: Reader, message: Message, out: Record<string, unknown>, depth: number): void {
  if (depth > MAX_DEPTH) throw new MalformedError(`messages nest deeper than ${MAX_DEPTH}`);
  r.spend();
  while (!r.done()) {
    const tag = r.count();
    const number = Math.floor(tag / 8);
    const wire = tag & 7;
    if (number === 0) throw new MalformedError('field number 0');
    const field = message.fields.get(number);
    if (!field) {
      r.skip(wire);
      continue;
    }
    try {
      readField(r, field, wire, out, depth);
    } catch (err) {
      if (err instanceof MalformedError) err.path.unshift(labelOf(field, out));
      throw err;
    }
  }
  complete(r, message, out, depth);
}

/**
 * Decodes the bytes of one message (no envelope) into its JSON form. Malformed input is a
 * BadRequestError naming the field, e.g. `protobuf: spec.template.spec.containers[0].ports[1]: ...`.
 */
export function decodeMessage(buf: Buffer, message: Message): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  try {
    decodeInto(new Reader(buf), message, out, 1);
  } catch (err) {
    if (!(err instanceof MalformedError)) throw err;
    const where = err.path.filter(Boolean).join('.');
    throw new BadRequestError(`protobuf: ${where ? `${where}: ` : ''}${err.message}`);
  }
  return out;
}

const TYPE_META = defineMessages({ TypeMeta: { 1: 'apiVersion string', 2: 'kind string' } }).get('TypeMeta')!;

/** The runtime.Unknown envelope: its type, and the object's bytes. */
function readEnvelope(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  const r = new Reader(body, MAGIC.length);
  let typeMeta: Record<string, unknown> = {};
  let raw = body.subarray(0, 0);
  let contentEncoding = '';
  try {
    eachField(r, (number, wire) => {
      if (number < 1 || number > 3) return false;
      expectWire(wire, WIRE_LENGTH);
      const outer = r.enter();
      if (number === 1) typeMeta = decodeMessage(body.subarray(r.pos, r.end), TYPE_META);
      else if (number === 2) raw = body.subarray(r.pos, r.end);
      else contentEncoding = body.toString('utf8', r.pos, r.end);
      r.leave(outer);
      return true;
    });
  } catch (err) {
    if (err instanceof MalformedError) throw new BadRequestError(`protobuf: envelope: ${err.message}`);
    throw err;
  }
  if (contentEncoding) throw new BadRequestError(`protobuf: content encoding "${contentEncoding}" is not supported`);
  const kind = String(typeMeta.kind ?? '');
  if (!kind) throw new BadRequestError('protobuf: the envelope names no kind');
  return { apiVersion: String(typeMeta.apiVersion ?? ''), kind, raw };
}

/** Decodes a protobuf request body into the JSON object it stands for. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) throw new BadRequestError('protobuf: the body does not start with the Kubernetes protobuf envelope');
  const { apiVersion, kind, raw } = readEnvelope(body);
  const message = messageFor(apiVersion, kind);
  if (!message) throw new UnsupportedMediaTypeError(`${PROTOBUF} (for ${kind} ${apiVersion}; send application/json)`);
  return { apiVersion, kind, ...decodeMessage(raw, message) };
}
