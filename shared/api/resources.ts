// The kinds Wharf serves, described once: the API server routes, discovery, the store and the
// controllers all read this table instead of spelling group/version/plural again.

export interface ResourceInfo {
  group: string; // '' for the core group
  version: string;
  plural: string; // the URL segment and the store's key
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: string[]; // e.g. ['status', 'scale']
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function resource(r: Partial<ResourceInfo> & Pick<ResourceInfo, 'plural' | 'kind'>): ResourceInfo {
  return {
    group: '',
    version: 'v1',
    singular: r.kind.toLowerCase(),
    listKind: `${r.kind}List`,
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    subresources: [],
    ...r,
  };
}

export const RESOURCES: ResourceInfo[] = [
  resource({ plural: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'] }),
  resource({ plural: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status'] }),
  resource({ plural: 'pods', kind: 'Pod', shortNames: ['po'], categories: ['all'], subresources: ['status', 'log', 'eviction', 'binding'] }),
  resource({ plural: 'services', kind: 'Service', shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  resource({ plural: 'endpoints', kind: 'Endpoints', singular: 'endpoints', shortNames: ['ep'] }),
  resource({ plural: 'events', kind: 'Event', shortNames: ['ev'] }),
  resource({ plural: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] }),
  resource({ plural: 'secrets', kind: 'Secret' }),
  resource({ group: 'apps', plural: 'deployments', kind: 'Deployment', shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] }),
  resource({ group: 'apps', plural: 'replicasets', kind: 'ReplicaSet', shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] }),
  resource({ group: 'apps', plural: 'daemonsets', kind: 'DaemonSet', shortNames: ['ds'], categories: ['all'], subresources: ['status'] }),
  resource({ group: 'batch', plural: 'jobs', kind: 'Job', categories: ['all'], subresources: ['status'] }),
  resource({ group: 'batch', plural: 'cronjobs', kind: 'CronJob', shortNames: ['cj'], categories: ['all'], subresources: ['status'] }),
  resource({ group: 'coordination.k8s.io', plural: 'leases', kind: 'Lease' }),
  resource({ group: 'policy', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', shortNames: ['pdb'], subresources: ['status'] }),
  resource({ group: 'scheduling.k8s.io', plural: 'priorityclasses', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'] }),
  resource({ group: 'discovery.k8s.io', plural: 'endpointslices', kind: 'EndpointSlice' }),
];

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
