// apps/v1 StatefulSet (Kubernetes pkg/registry/apps/statefulset/strategy.go and
// pkg/apis/apps/validation): pods with stable names NAME-ORDINAL, each its own hostname under the
// governing Service, created, updated and removed in ordinal order.
import { schemaFor } from '../../api/schemas.ts';
import { defaultTemplate } from '../../api/defaults.ts';
import { duplicate, forbidden, intOrPercent, invalid, required, selectorErrors, templateErrors, unsupported } from '../../api/validation.ts';
import { claimSpecErrors } from './persistentvolumeclaim.ts';
import { AGE, NAME, containers, images } from '../../api/printers.ts';
import type { StatusCause } from '../../types.ts';
import { defineStrategy, NAMES, resetStatus } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { warnPodTemplate } from '../pod-security-admission.ts';

const nonNegative = (field: string, v: unknown): StatusCause[] => (typeof v === 'number' && v < 0 ? [invalid(field, v, 'must be greater than or equal to 0')] : []);

/** The spec with a pod volume for each claim template the template's volumes do not already name. */
function withClaimVolumes(spec: Record<string, any>, claims: any[]): Record<string, any> {
  if (!claims.length || !spec.template?.spec || typeof spec.template.spec !== 'object') return spec;
  const volumes = Array.isArray(spec.template.spec.volumes) ? spec.template.spec.volumes : [];
  const added = claims.filter((c) => c?.metadata?.name && !volumes.some((v: any) => v?.name === c.metadata.name)).map((c) => ({ name: c.metadata.name, persistentVolumeClaim: { claimName: c.metadata.name } }));
  return { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, volumes: [...volumes, ...added] } } };
}

/** Kubernetes' ValidateStatefulSetSpec. */
function specErrors(spec: Record<string, any>): StatusCause[] {
  const out: StatusCause[] = [];
  const policy = spec.podManagementPolicy;
  if (!policy) out.push(required('spec.podManagementPolicy'));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') out.push(invalid('spec.podManagementPolicy', policy, "must be 'OrderedReady' or 'Parallel'"));

  const strategy = spec.updateStrategy ?? {};
  if (!strategy.type) out.push(required('spec.updateStrategy'));
  else if (strategy.type === 'OnDelete') {
    if (strategy.rollingUpdate) out.push(invalid('spec.updateStrategy.rollingUpdate', strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  } else if (strategy.type === 'RollingUpdate') {
    const rolling = strategy.rollingUpdate ?? {};
    out.push(...nonNegative('spec.updateStrategy.rollingUpdate.partition', rolling.partition));
    const unavailable = intOrPercent('spec.updateStrategy.rollingUpdate.maxUnavailable', rolling.maxUnavailable);
    out.push(...unavailable.causes);
    if (unavailable.zero) out.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', rolling.maxUnavailable, 'must be greater than 0'));
  } else {
    out.push(invalid('spec.updateStrategy', strategy, "must be 'RollingUpdate' or 'OnDelete'"));
  }

  out.push(...nonNegative('spec.replicas', spec.replicas), ...nonNegative('spec.minReadySeconds', spec.minReadySeconds), ...nonNegative('spec.ordinals.start', spec.ordinals?.start));
  const selector = spec.selector;
  if (!selector) out.push(required('spec.selector'));
  else {
    out.push(...selectorErrors('spec.selector', selector));
    if (Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length === 0) out.push(invalid('spec.selector', selector, 'empty selector is not valid for statefulset.'));
  }
  // The pods get a volume per claim template (the controller adds them): mounts may name those.
  const claims = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [];
  out.push(...templateErrors('spec', withClaimVolumes(spec, claims), ['Always']));
  claims.forEach((c: any, i: number) => {
    const field = `spec.volumeClaimTemplates[${i}]`;
    const name = c?.metadata?.name;
    if (!name) out.push(required(`${field}.metadata.name`));
    else {
      out.push(...NAMES.subdomain(`${field}.metadata.name`, name, false));
      if (claims.findIndex((o: any) => o?.metadata?.name === name) !== i) out.push(duplicate(`${field}.metadata.name`, name));
    }
    out.push(...claimSpecErrors(`${field}.spec`, c?.spec));
  });
  if (spec.template?.spec?.activeDeadlineSeconds !== undefined) out.push(invalid('spec.template.spec.activeDeadlineSeconds', spec.template.spec.activeDeadlineSeconds, 'must not be specified'));
  for (const when of ['whenDeleted', 'whenScaled']) {
    const v = spec.persistentVolumeClaimRetentionPolicy?.[when];
    if (v !== undefined && v !== 'Retain' && v !== 'Delete') out.push(unsupported(`spec.persistentVolumeClaimRetentionPolicy.${when}`, v, ['Retain', 'Delete']));
  }
  return out;
}

/** The fields an update may change (Kubernetes' ValidateStatefulSetUpdate). */
const MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function withoutMutable(spec: Record<string, any> = {}): string {
  const rest = Object.fromEntries(Object.entries(spec).filter(([k]) => !MUTABLE.includes(k)).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify(rest);
}

export const statefulSetStrategy = defineStrategy({
  resource: resourceInfo({ group: 'apps', plural: 'statefulsets', kind: 'StatefulSet', shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'] }),
  schema: schemaFor('StatefulSet'),
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  /** Kubernetes' SetDefaults_StatefulSet. */
  defaults({ spec }) {
    if (!spec || typeof spec !== 'object') return;
    spec.replicas ??= 1;
    spec.podManagementPolicy ??= 'OrderedReady';
    spec.updateStrategy ??= {};
    spec.updateStrategy.type ??= 'RollingUpdate';
    if (spec.updateStrategy.type === 'RollingUpdate') {
      spec.updateStrategy.rollingUpdate ??= {};
      spec.updateStrategy.rollingUpdate.partition ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
    spec.persistentVolumeClaimRetentionPolicy ??= {};
    spec.persistentVolumeClaimRetentionPolicy.whenDeleted ??= 'Retain';
    spec.persistentVolumeClaimRetentionPolicy.whenScaled ??= 'Retain';
    defaultTemplate(spec);
    // SetDefaults_StatefulSet defaults each claim template as a claim.
    for (const c of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) {
      if (!c || typeof c !== 'object') continue;
      c.apiVersion ??= 'v1';
      c.kind ??= 'PersistentVolumeClaim';
      if (c.spec && typeof c.spec === 'object') c.spec.volumeMode ??= 'Filesystem';
      c.status ??= { phase: 'Pending' };
    }
  },
  // StatefulSetStatus.replicas has no omitempty.
  prepareForCreate: resetStatus(() => ({ replicas: 0, availableReplicas: 0 })),
  validate: ({ spec = {} }) => specErrors(spec),
  validateUpdate(obj, old) {
    if (withoutMutable(obj.spec) === withoutMutable(old.spec)) return [];
    return [forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
  },
  // PodSecurity only warns about a workload's template: its pods are enforced when they are created.
  admit: (obj, _old, ctx) => warnPodTemplate('StatefulSet', obj, ctx),
  columns: [
    NAME,
    { name: 'Ready', description: 'Number of the pod with ready state', cell: (s) => `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 0}` },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: containers },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: images },
  ],
});
