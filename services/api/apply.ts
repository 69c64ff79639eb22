// Server-side apply (PATCH application/apply-patch+yaml), in a reduced but faithful form: the
// applied configuration merges into the live object (strategic merge), and each field manager's
// applied field set is recorded in metadata.managedFields (FieldsV1), so that a field the manager
// applied before and has now left out of its configuration is removed, as Kubernetes does.
// Reduced: lists are tracked as whole (atomic) fields, and conflicts with other managers are not
// detected (every apply behaves as with --force-conflicts).
import type { KubeObject } from '../../shared/types.ts';
import { strategicMergePatch } from '../../shared/api/strategic-merge.ts';
import { BadRequestError } from '../../shared/errors.ts';
import { now } from '../../shared/util.ts';

type Fields = { [key: string]: Fields };

// Identity and system-owned metadata are never part of a manager's field set.
const SYSTEM_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);

function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The FieldsV1 set of a configuration: maps by key, everything else (lists included) a leaf. */
export function fieldSet(config: Record<string, any>, top = true, inMetadata = false): Fields {
  const out: Fields = {};
  for (const [key, value] of Object.entries(config)) {
    if (top && (key === 'apiVersion' || key === 'kind')) continue;
    if (inMetadata && SYSTEM_METADATA.has(key)) continue;
    if (value === null || value === undefined) continue;
    const sub = isObject(value) && Object.keys(value).length ? fieldSet(value, false, top && key === 'metadata') : {};
    if (top && key === 'metadata' && !Object.keys(sub).length) continue; // only identity: nothing owned
    out[`f:${key}`] = sub;
  }
  return out;
}

/** Removes from obj every leaf that `previous` holds and `next` does not. */
function removeDropped(obj: Record<string, any>, previous: Fields, next: Fields | undefined): void {
  for (const [key, sub] of Object.entries(previous)) {
    if (!key.startsWith('f:')) continue;
    const name = key.slice(2);
    const still = next?.[key];
    if (!still) {
      delete obj[name];
      continue;
    }
    if (Object.keys(sub).length && isObject(obj[name])) {
      removeDropped(obj[name], sub, still);
      if (!Object.keys(obj[name]).length && !Object.keys(still).length) delete obj[name];
    }
  }
}

interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Fields;
  subresource?: string;
}

export function managerOf(fieldManager: string | undefined): string {
  if (!fieldManager) throw new BadRequestError('PATCH, application/apply-patch+yaml requests require a fieldManager query parameter');
  if (fieldManager.length > 128) throw new BadRequestError('fieldManager: Too long: may not be more than 128 bytes');
  return fieldManager;
}

/** The object after `manager` applies `config` to `live` (undefined live: a create). */
export function serverSideApply(kind: string, live: KubeObject | undefined, config: Record<string, any>, manager: string): KubeObject {
  if (!isObject(config)) throw new BadRequestError('apply patch must be an object');
  const entries = ((live?.metadata.managedFields ?? []) as ManagedFieldsEntry[]).filter((e) => isObject(e));
  const own = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  const applied = fieldSet(config);
  const { managedFields: _ignored, ...configMeta } = (config.metadata ?? {}) as Record<string, any>;
  let merged: KubeObject = structuredClone(live ?? ({ metadata: {} } as KubeObject));
  if (own?.fieldsV1) removeDropped(merged, own.fieldsV1, applied);
  merged = strategicMergePatch(kind, merged, { ...config, metadata: configMeta });
  const entry: ManagedFieldsEntry = {
    manager,
    operation: 'Apply',
    apiVersion: String(config.apiVersion ?? live?.apiVersion ?? ''),
    time: now(),
    fieldsType: 'FieldsV1',
    fieldsV1: applied,
  };
  merged.metadata.managedFields = [...entries.filter((e) => !(e.manager === manager && e.operation === 'Apply')), entry];
  return merged;
}
