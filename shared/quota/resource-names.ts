// Kubernetes' classification of resource names (pkg/apis/core/helper): which names a container,
// a LimitRange or a ResourceQuota may use, which count whole objects, which scopes fit which.

const STANDARD_CONTAINER = new Set(['cpu', 'memory', 'ephemeral-storage']);
const HUGEPAGES = 'hugepages-';
const REQUESTS_HUGEPAGES = 'requests.hugepages-';

/** Object counts a quota may name without the count/ prefix. */
export const LEGACY_COUNTS = new Set([
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);

const STANDARD_QUOTA = new Set([
  ...LEGACY_COUNTS,
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
]);

const STANDARD_RESOURCES = new Set([...STANDARD_QUOTA, 'storage']);

export const COUNT_PREFIX = 'count/';

export function isStandardContainerResourceName(name: string): boolean {
  return STANDARD_CONTAINER.has(name) || name.startsWith(HUGEPAGES);
}

export function isStandardQuotaResourceName(name: string): boolean {
  return STANDARD_QUOTA.has(name) || name.startsWith(HUGEPAGES) || name.startsWith(REQUESTS_HUGEPAGES);
}

export function isStandardResourceName(name: string): boolean {
  return STANDARD_RESOURCES.has(name) || name.startsWith(HUGEPAGES) || name.startsWith(REQUESTS_HUGEPAGES);
}

/** Names whose quantities must be whole numbers: object counts, and extended (domain-prefixed) resources. */
export function isIntegerResourceName(name: string): boolean {
  if (LEGACY_COUNTS.has(name) || name.startsWith(COUNT_PREFIX)) return true;
  return isExtendedResourceName(name);
}

/** A domain-prefixed resource outside kubernetes.io (example.com/gpu), not requests.-prefixed. */
export function isExtendedResourceName(name: string): boolean {
  if (!name.includes('/') || name.startsWith('requests.')) return false;
  const domain = name.slice(0, name.indexOf('/'));
  return domain !== 'kubernetes.io' && !domain.endsWith('.kubernetes.io');
}

export const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'] as const;

const POD_COMPUTE = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);

/** IsResourceQuotaScopeValidForResource: BestEffort counts pods only; the other pod scopes also their compute resources. */
export function scopeFitsResource(scope: string, name: string): boolean {
  switch (scope) {
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
    case 'CrossNamespacePodAffinity':
      return name === 'pods' || POD_COMPUTE.has(name);
    case 'BestEffort':
      return name === 'pods';
    default:
      return true;
  }
}
