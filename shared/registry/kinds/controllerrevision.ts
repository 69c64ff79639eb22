// apps/v1 ControllerRevision (Kubernetes pkg/registry/apps/controllerrevision/strategy.go): an
// immutable snapshot of a workload's template, which DaemonSets (and StatefulSets) keep as their
// history and `kubectl rollout history|undo` reads.
import { schemaFor } from '../../api/schemas.ts';
import { immutableErrors, invalid, required } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import type { KubeObject, StatusCause } from '../../types.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

/** `daemonset.apps/NAME`, as kubectl prints the controller of a ControllerRevision. */
function controllerOf(rev: KubeObject): string {
  const owner = (rev.metadata.ownerReferences ?? []).find((o) => o.controller);
  if (!owner) return '<none>';
  const group = owner.apiVersion.includes('/') ? owner.apiVersion.slice(0, owner.apiVersion.indexOf('/')) : '';
  return `${owner.kind.toLowerCase()}${group ? `.${group}` : ''}/${owner.name}`;
}

/** Kubernetes' ValidateControllerRevision: data is mandatory, the revision not negative. */
function revisionErrors(rev: Record<string, any>): StatusCause[] {
  const out: StatusCause[] = [];
  if (rev.data === undefined || rev.data === null) out.push(required('data', 'data is mandatory'));
  if (typeof rev.revision === 'number' && rev.revision < 0) out.push(invalid('revision', rev.revision, 'must be greater than or equal to 0'));
  return out;
}

export const controllerRevisionStrategy = defineStrategy({
  resource: resourceInfo({ group: 'apps', plural: 'controllerrevisions', kind: 'ControllerRevision' }),
  schema: schemaFor('ControllerRevision'),
  nameErrors: NAMES.subdomain,
  validate: revisionErrors,
  /** The snapshot never changes; only its revision number moves (a rollback renumbers it). */
  validateUpdate: (rev, old) => [...revisionErrors(rev), ...immutableErrors('data', rev.data, old.data)],
  columns: [
    NAME,
    { name: 'Controller', description: 'The workload that owns this revision.', cell: controllerOf },
    { name: 'Revision', type: 'integer', description: 'Revision indicates the revision of the state represented by Data.', cell: (r) => r.revision ?? 0 },
    AGE,
  ],
});
