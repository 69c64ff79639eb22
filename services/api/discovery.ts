// Discovery documents: how kubectl learns which kinds, verbs, short names and subresources exist.
import { RESOURCES, groupVersions, type ResourceInfo } from '../../shared/api/resources.ts';
import { METRICS_GROUP, metricsApiGroup } from './metrics-api.ts';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-wharf',
  gitCommit: 'wharf',
  gitTreeState: 'clean',
  buildDate: '2026-11-25T00:00:00Z',
  goVersion: 'n/a (Node.js)',
  compiler: 'tsx',
  platform: `${process.platform}/${process.arch}`,
};

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/**
 * Each group once, with every version it is served in; the preferred one is the version of its
 * stored kinds, which come first (autoscaling: v2, then v1).
 */
function servedGroups(): { name: string; versions: { groupVersion: string; version: string }[] }[] {
  const groups = new Map<string, { groupVersion: string; version: string }[]>();
  for (const gv of groupVersions()) {
    if (gv.group === '') continue;
    const versions = groups.get(gv.group) ?? [];
    versions.push({ groupVersion: `${gv.group}/${gv.version}`, version: gv.version });
    groups.set(gv.group, versions);
  }
  return [...groups].map(([name, versions]) => ({ name, versions }));
}

export function apiGroupList() {
  const groups = servedGroups().map((g) => ({ name: g.name, versions: g.versions, preferredVersion: g.versions[0] }));
  // Served by the API server itself, where metrics-server's APIService would put it: after the built-in groups.
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups, metricsApiGroup()] };
}

export function apiGroup(group: string) {
  if (group === METRICS_GROUP) return { kind: 'APIGroup', apiVersion: 'v1', ...metricsApiGroup() };
  const g = servedGroups().find((x) => x.name === group);
  if (!g) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: g.versions, preferredVersion: g.versions[0] };
}

function subresourceEntries(r: ResourceInfo) {
  return r.subresources.map((sub) => {
    switch (sub) {
      case 'scale':
        return { name: `${r.plural}/scale`, singularName: '', namespaced: r.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
      case 'status':
        return { name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] };
      case 'log':
        return { name: `${r.plural}/log`, singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] };
      case 'exec':
        return { name: `${r.plural}/exec`, singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] };
      case 'attach':
        return { name: `${r.plural}/attach`, singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] };
      case 'portforward':
        return { name: `${r.plural}/portforward`, singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] };
      case 'eviction':
        return { name: `${r.plural}/eviction`, singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
      case 'binding':
        return { name: `${r.plural}/binding`, singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] };
      case 'token':
        return { name: `${r.plural}/token`, singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] };
      case 'ephemeralcontainers':
        return { name: `${r.plural}/ephemeralcontainers`, singularName: '', namespaced: true, kind: r.kind, verbs: ['get', 'patch', 'update'] };
      case 'finalize':
        return { name: `${r.plural}/finalize`, singularName: '', namespaced: false, kind: r.kind, verbs: ['update'] };
      default:
        return { name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get'] };
    }
  });
}

export function apiResourceList(group: string, version: string) {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!resources.length) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: resources.flatMap((r) => [
      {
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.verbs,
        ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
        ...(r.categories.length ? { categories: r.categories } : {}),
      },
      ...subresourceEntries(r),
    ]),
  };
}
