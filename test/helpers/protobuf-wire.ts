// Protobuf wire encoding for tests that build request bodies by hand, field by field, as a
// Kubernetes client's generated code would write them (varints, length-delimited fields, the
// `k8s\0` envelope of application/vnd.kubernetes.protobuf).

export function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? low | 0x80 : low);
  } while (v);
  return Buffer.from(out);
}
export const key = (field: number, wire: number) => varint(field * 8 + wire);
/** A varint field. */
export const num = (field: number, n: number | bigint) => Buffer.concat([key(field, 0), varint(n)]);
/** A length-delimited field: a string, bytes, or a message of the parts given. */
export const len = (field: number, ...parts: (Buffer | string)[]) => {
  const payload = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  return Buffer.concat([key(field, 2), varint(payload.length), payload]);
};
/** The body of one object: the envelope naming its apiVersion and kind, around its raw message. */
export const envelope = (apiVersion: string, kind: string, ...raw: Buffer[]) =>
  Buffer.concat([Buffer.from('k8s\0', 'latin1'), len(1, len(1, apiVersion), len(2, kind)), len(2, ...raw)]);
