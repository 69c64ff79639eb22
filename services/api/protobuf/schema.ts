// The table form in which the protobuf decoder knows Kubernetes' messages. Each message is a
// record from field number (as in Kubernetes' generated.proto) to one line that reads like the
// Go field it comes from:
//
//   'replicas *int32'           JSON name, then the Go type: `*` a pointer, `[]` repeated,
//   'labels map[string]string'  `map[string]V` a map (repeated key/value entries on the wire),
//   'containerPort int32 always'  `always`: the Go json tag has no omitempty,
//   '...ProbeHandler'           an embedded struct whose fields JSON inlines into its parent.
//
// Types are the scalars string, bytes, bool, int32, int64; the apimachinery types Time,
// MicroTime, Quantity, IntOrString, FieldsV1 and RawExtension, which have JSON forms of their own; or another
// message by name. The pointer / omitempty / always marks decide what Go's JSON would write for a
// field, which is what the decoded object must look like (see `Presence`).
//
// Field numbers come from Kubernetes' generated.proto (k8s.io/api, k8s.io/apimachinery), and the
// marks from the Go field and json tag behind each (types.go), as of mid-2026: newer than
// kubectl 1.32, but a field newer than a client is one it never sends.

export type Scalar = 'string' | 'bytes' | 'bool' | 'int32' | 'int64';
export type Special = 'Time' | 'MicroTime' | 'Quantity' | 'IntOrString' | 'FieldsV1' | 'RawExtension';
const SCALARS = new Set<string>(['string', 'bytes', 'bool', 'int32', 'int64']);
const SPECIALS = new Set<string>(['Time', 'MicroTime', 'Quantity', 'IntOrString', 'FieldsV1', 'RawExtension']);

/**
 * What JSON holds for a field, by Go's rules for the Go field behind it:
 * - `omitempty`: written only when not zero ('' / 0 / false / empty list or map);
 * - `pointer`: written whenever it is set, zero included (`replicas: 0`, `optional: false`);
 * - `always`: written even when unset — the zero value, `null` for a list, map or []byte, and for
 *   a struct (Go never omits one) the struct with its own zero fields (`resources: {}`,
 *   `creationTimestamp: null`, `divisor: "0"`, `targetPort: 0`);
 * - `inline`: the fields of an embedded struct, written into the parent object.
 */
export type Presence = 'omitempty' | 'pointer' | 'always' | 'inline';

export interface Field {
  number: number;
  /** The JSON name; '' for an inlined struct. */
  name: string;
  /** A scalar, a special type, or a message name. */
  type: Scalar | Special | string;
  repeated: boolean;
  map: boolean;
  presence: Presence;
  /** Set for message types once every table is read. */
  message?: Message;
}

export interface Message {
  name: string;
  fields: Map<number, Field>;
  /** The `always` and `inline` fields: those JSON has even when the wire does not carry them. */
  writtenWhenUnset: Field[];
}

/** Messages by name, each a record of field number → field line. */
export type MessageTable = Record<string, Record<number, string>>;

const LINE = /^(?:\.\.\.(\w+(?:\.\w+)?)|(\w+) (\*)?(\[\])?(map\[string\])?(\w+(?:\.\w+)?)( always)?)$/;

function parseField(messageName: string, number: number, line: string): Field {
  const m = LINE.exec(line);
  if (!m) throw new Error(`protobuf schema ${messageName}.${number}: cannot read "${line}"`);
  if (m[1]) return { number, name: '', type: m[1], repeated: false, map: false, presence: 'inline' };
  const [, , name, pointer, repeated, map, type, always] = m;
  const structLike = !SCALARS.has(type) && !repeated && !map;
  const presence: Presence = pointer ? 'pointer' : always || structLike ? 'always' : 'omitempty';
  if (pointer && always) throw new Error(`protobuf schema ${messageName}.${name}: a pointer is never "always"`);
  return { number, name, type, repeated: !!repeated, map: !!map, presence };
}

/** Reads the tables into messages, each field of a message type linked to its message. */
export function defineMessages(...tables: MessageTable[]): Map<string, Message> {
  const messages = new Map<string, Message>();
  for (const table of tables) {
    for (const [name, lines] of Object.entries(table)) {
      if (messages.has(name)) throw new Error(`protobuf schema: ${name} is described twice`);
      const fields = new Map<number, Field>();
      for (const [number, line] of Object.entries(lines)) fields.set(Number(number), parseField(name, Number(number), line));
      const writtenWhenUnset = [...fields.values()].filter((f) => f.presence === 'always' || f.presence === 'inline');
      messages.set(name, { name, fields, writtenWhenUnset });
    }
  }
  for (const message of messages.values()) {
    for (const field of message.fields.values()) {
      if (SCALARS.has(field.type) || SPECIALS.has(field.type)) continue;
      field.message = messages.get(field.type);
      if (!field.message) throw new Error(`protobuf schema ${message.name}.${field.name}: no message ${field.type}`);
    }
  }
  return messages;
}
