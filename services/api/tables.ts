// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for, with the columns
// each kind's strategy lists (as Kubernetes prints them). Priority-1 columns appear with `-o wide`.
import type { Request } from 'express';
import type { KubeObject, WatchEventType } from '../../shared/types.ts';
import { type ResourceInfo, apiVersionOf } from '../../shared/api/resources.ts';
import { conversionFor, strategyFor } from '../../shared/registry/registry.ts';
import type { Column } from '../../shared/registry/strategy.ts';

export function wantsTable(req: Request): boolean {
  const accept = req.headers.accept ?? '';
  return accept.split(',')[0].includes('as=Table');
}

function columnsFor(r: ResourceInfo): Column[] {
  return strategyFor(r.plural).columns;
}

function partialMetadata(r: ResourceInfo, obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

function includeObject(req: Request): 'None' | 'Metadata' | 'Object' {
  const v = req.query.includeObject;
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function row(r: ResourceInfo, obj: KubeObject, req: Request, nowMs: number) {
  const mode = includeObject(req);
  const object = mode === 'Object' ? { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(r), kind: obj.kind ?? r.kind } : mode === 'Metadata' ? partialMetadata(r, obj) : undefined;
  // Another version of a stored kind prints as the stored kind does (events.k8s.io Events as Events).
  const printed = conversionFor(r)?.toStorage(obj) ?? obj;
  return { cells: columnsFor(r).map((c) => c.cell(printed, nowMs)), object };
}

function columnDefinitions(r: ResourceInfo) {
  return columnsFor(r).map((c) => ({
    name: c.name,
    type: c.type ?? 'string',
    format: c.format ?? '',
    description: c.description ?? '',
    priority: c.priority ?? 0,
  }));
}

export function renderList(r: ResourceInfo, items: KubeObject[], resourceVersion: string, req: Request) {
  const nowMs = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columnDefinitions(r),
    rows: items.map((o) => row(r, o, req, nowMs)),
  };
}

/** A watch event's object: the object itself, or a one-row Table (column definitions only in the first). */
export function renderWatchObject(r: ResourceInfo, obj: KubeObject, req: Request, first: boolean): unknown {
  if (!wantsTable(req)) return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(r), kind: obj.kind ?? r.kind };
  const table = renderList(r, [obj], obj.metadata.resourceVersion ?? '', req);
  return first ? table : { ...table, columnDefinitions: [] };
}

export type { WatchEventType };
