// The kinds Wharf serves, as the API sees them: the API server routes, discovery, the store and the
// controllers read these lookups instead of spelling group/version/plural again. Each kind is one
// strategy in the registry (shared/registry/registry.ts); this is its ResourceInfo face.
import { allConversions, allStrategies, CREATE_ONLY_KINDS, onKindsChanged } from '../registry/registry.ts';
import type { ResourceInfo } from '../registry/strategy.ts';

export type { ResourceInfo };

/** The kinds the store holds, each once (its namespaced objects, its indexes). Custom kinds come and go: see refresh(). */
export const STORED_RESOURCES: ResourceInfo[] = [];

/** Every resource served: the stored kinds, the other versions some of them are served in, and the create-only kinds. */
export const RESOURCES: ResourceInfo[] = [];

/** Both lists rebuilt in place (their readers hold the arrays), whenever the custom kinds change. */
function refresh(): void {
  const stored = allStrategies().map((s) => s.resource);
  STORED_RESOURCES.splice(0, STORED_RESOURCES.length, ...stored);
  RESOURCES.splice(0, RESOURCES.length, ...stored, ...allConversions().map((c) => c.resource), ...CREATE_ONLY_KINDS.map((c) => c.resource));
}
refresh();
onKindsChanged(refresh);

export function apiVersionOf(r: ResourceInfo): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** `deployments.apps`, `pods`: the qualified name kubectl prints in errors. */
export function qualifiedName(r: ResourceInfo): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

export function findByPath(group: string, version: string, plural: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function findByKind(kind: string, apiVersion?: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.kind === kind && (apiVersion === undefined || apiVersionOf(r) === apiVersion));
}

export function mustFindByPlural(plural: string): ResourceInfo {
  const r = RESOURCES.find((x) => x.plural === plural);
  if (!r) throw new Error(`unknown resource ${plural}`);
  return r;
}

export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}
