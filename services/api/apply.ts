// Server-side apply (PATCH application/apply-patch+yaml): the request's fieldManager and force
// parameters checked as Kubernetes checks PatchOptions, then shared/api/managed-fields.ts's apply
// merges the configuration into the live object, removes what the manager stopped applying,
// records its fields in metadata.managedFields and refuses to change fields other managers own
// unless force=true.
import type { Request } from 'express';
import type { KubeObject } from '../../shared/types.ts';
import { apiVersionOf, type ResourceInfo } from '../../shared/api/resources.ts';
import { apply, checkWriteOptions } from '../../shared/api/managed-fields.ts';
import { queryString } from './request.ts';

/** The object after the request's manager applies `config` to `live` (undefined live: a create), before defaulting. */
export function serverSideApply(r: ResourceInfo, live: KubeObject | undefined, config: unknown, req: Request): KubeObject {
  const manager = queryString(req, 'fieldManager');
  const { force } = checkWriteOptions('PatchOptions', { fieldManager: manager, force: queryString(req, 'force'), apply: true });
  return apply(live, config, { kind: r.kind, apiVersion: apiVersionOf(r), manager: manager!, force });
}
