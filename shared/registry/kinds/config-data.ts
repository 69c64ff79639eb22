// What ConfigMaps and Secrets share: their keys, their 1 MiB bound, and `immutable`.
import type { KubeObject, StatusCause } from '../../types.ts';
import { forbidden, invalid } from '../../api/validation.ts';

/** Kubernetes' MaxSecretSize, the bound of a ConfigMap's or Secret's data. */
export const MAX_DATA_BYTES = 1024 * 1024;

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Kubernetes' IsConfigMapKey. */
export function configKeyErrors(field: string, key: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (key.length > 253) out.push(invalid(field, key, 'must be no more than 253 characters'));
  if (!CONFIG_KEY.test(key)) out.push(invalid(field, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
  if (key === '.' || key === '..' || key.startsWith('..')) out.push(invalid(field, key, "must not be '.' or '..' or start with '..'"));
  return out;
}

/** A base64 value (Secret data, ConfigMap binaryData), as Go's encoding/json decodes []byte. */
export function base64Errors(field: string, value: unknown, shown: string): StatusCause[] {
  return typeof value === 'string' && BASE64.test(value) ? [] : [invalid(field, shown, 'must be base64-encoded')];
}

/** The bytes a map of values holds, decoded where base64. */
export function dataBytes(map: Record<string, unknown> | undefined, base64: boolean): number {
  let total = 0;
  for (const v of Object.values(map ?? {})) {
    if (typeof v !== 'string') continue;
    total += base64 ? Buffer.byteLength(v, 'base64') : Buffer.byteLength(v);
  }
  return total;
}

export function tooLarge(total: number): StatusCause[] {
  return total > MAX_DATA_BYTES ? [{ reason: 'FieldValueTooLong', field: '[]', message: `Too long: may not be more than ${MAX_DATA_BYTES} bytes` }] : [];
}

/** Once `immutable` is set, neither the data nor the flag may change. */
export function immutableDataErrors(obj: KubeObject, old: KubeObject, fields: string[]): StatusCause[] {
  if (old.immutable !== true) return [];
  const out: StatusCause[] = [];
  if (obj.immutable !== true) out.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (JSON.stringify(obj[f] ?? {}) !== JSON.stringify(old[f] ?? {})) out.push(forbidden(f, 'field is immutable when `immutable` is set'));
  return out;
}
