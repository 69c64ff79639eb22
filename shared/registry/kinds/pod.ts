// core/v1 Pod (Kubernetes pkg/registry/core/pod/strategy.go).
import type { KubeObject, Pod } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { addDefaultTolerations, defaultPodSpec } from '../../api/defaults.ts';
import { forbidden, podSpecErrors } from '../../api/validation.ts';
import { isPodTerminal, podRequests, podSchedulingView, podViewShard, POD_VIEW_SHARD_NAMES } from '../../api/podutil.ts';
import { resolvePriority } from '../../api/priority.ts';
import { admitPodServiceAccount } from '../../auth/service-account-admission.ts';
import { AGE, NAME, podRestarts, podStatusReason } from '../../api/printers.ts';
import { deepEqual } from '../../util.ts';
import { InvalidError } from '../../errors.ts';
import { admitLimitRanges } from '../../quota/limit-ranger.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo, type UsageOp } from '../strategy.ts';
import { admitPodSecurity } from '../pod-security-admission.ts';
import { ephemeralContainersUpdateErrors, withEphemeralContainers } from '../../api/ephemeral-containers.ts';

/** Kubernetes' GetPodQOS: Guaranteed when every container limits cpu and memory at its requests. */
export function qosClass(pod: KubeObject): string {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let anyRequest = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) anyRequest = true;
    for (const res of ['cpu', 'memory']) {
      if (!lim[res] || (req[res] && req[res] !== lim[res])) guaranteed = false;
    }
  }
  if (guaranteed) return 'Guaranteed';
  return anyRequest ? 'Burstable' : 'BestEffort';
}

const MUTABLE_SPEC = ['activeDeadlineSeconds', 'tolerations', 'terminationGracePeriodSeconds', 'schedulingGates'];

/** The spec with what a pod update may change taken out (images, the fields above, the binding). */
function immutablePart(spec: any): unknown {
  const s = structuredClone(spec ?? {});
  for (const k of MUTABLE_SPEC) delete s[k];
  for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
  delete s.nodeName;
  return s;
}

export const podStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'pods', kind: 'Pod', shortNames: ['po'], categories: ['all'], subresources: ['status', 'log', 'eviction', 'binding', 'ephemeralcontainers', 'exec', 'attach', 'portforward'] }),
  schema: schemaFor('Pod'),
  statusSubresource: true,
  nameErrors: NAMES.subdomain,
  defaults(pod, settings) {
    defaultPodSpec(pod.spec);
    // The DefaultTolerationSeconds admission plugin, for every writer alike.
    addDefaultTolerations(pod.spec, settings.podEvictionTolerationSeconds);
  },
  prepareForCreate(pod) {
    pod.status = { phase: 'Pending', qosClass: qosClass(pod) };
  },
  validate: (pod) => podSpecErrors('spec', pod.spec),
  validateUpdate(pod, old) {
    if (deepEqual(immutablePart(old.spec), immutablePart(pod.spec))) return [];
    return [forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)')];
  },
  // Ephemeral containers are added only through their subresource (kubectl debug), never changed or removed.
  partialWrites: {
    ephemeralcontainers: { prepare: withEphemeralContainers, validateUpdate: ephemeralContainersUpdateErrors },
  },
  async admit(pod, old, ctx) {
    // As Kubernetes' ValidatePodCreate: a new pod has none; they are added to a running one.
    if (!old && Array.isArray(pod.spec?.ephemeralContainers) && pod.spec.ephemeralContainers.length) {
      throw new InvalidError('Pod', pod.metadata.name ?? '', [forbidden('spec.ephemeralContainers', 'cannot be set on create')]);
    }
    // The mutating plugins act on a new pod only, in Kubernetes' order.
    if (!old) {
      // The LimitRanger sets a new pod's default requests and limits and checks its bounds; the pod
      // is validated again with what it set, and its QoS class follows its final resources.
      if (await admitLimitRanges(pod, ctx.reader)) {
        const causes = podSpecErrors('spec', pod.spec);
        if (causes.length) throw new InvalidError('Pod', pod.metadata.name ?? '', causes);
        if (pod.status) pod.status.qosClass = qosClass(pod);
      }
      // The ServiceAccount admission plugin names, checks and mounts a new pod's ServiceAccount.
      if (!ctx.settings.disabledPlugins?.includes('ServiceAccount')) await admitPodServiceAccount(pod as Pod, ctx.reader);
      // The Priority admission plugin resolves a new pod's class once.
      await resolvePriority(ctx.reader, pod.spec, pod.metadata.name ?? pod.metadata.generateName ?? '');
    }
    // Then PodSecurity, a validating plugin: the pod as it will be stored.
    await admitPodSecurity(pod, old, ctx);
  },
  nodeUsage(op, obj, old, checkCapacity): UsageOp {
    const pod = obj as Pod;
    const node = pod.spec?.nodeName;
    if (!node) return { op: '' };
    const uid = pod.metadata.uid!;
    if (op === 'delete' || isPodTerminal(pod)) return { op: 'release', node, uid };
    if (!(old as Pod | undefined)?.spec?.nodeName) {
      const req = podRequests(pod);
      return { op: checkCapacity ? 'charge' : 'force-charge', node, uid, cpu: req.cpuMillis, mem: req.memoryBytes };
    }
    return { op: '' };
  },
  view: (obj) => podSchedulingView(obj as Pod),
  viewShard: (view) => podViewShard(view as Pod),
  viewShards: POD_VIEW_SHARD_NAMES,
  deletionGraceSeconds(obj, requested) {
    const pod = obj as Pod;
    // An unbound or finished pod has nothing to stop.
    if (!pod.spec.nodeName || isPodTerminal(pod)) return 0;
    return Math.max(0, requested ?? pod.spec.terminationGracePeriodSeconds ?? 30);
  },
  holdsDeletion: (pod) => (pod.metadata.deletionGracePeriodSeconds ?? 0) > 0,
  columns: [
    NAME,
    { name: 'Ready', description: 'The aggregate readiness state of this pod for accepting traffic.', cell: (p) => `${(p.status?.containerStatuses ?? []).filter((c: any) => c.ready).length}/${(p.spec?.containers ?? []).length}` },
    { name: 'Status', description: 'The aggregate status of the containers in this pod.', cell: (p) => podStatusReason(p) },
    { name: 'Restarts', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.', cell: (p, now) => podRestarts(p, now) },
    AGE,
    { name: 'IP', priority: 1, description: 'IP address assigned to the pod', cell: (p) => p.status?.podIP ?? '<none>' },
    { name: 'Node', priority: 1, description: 'Name of the node assigned to the pod', cell: (p) => p.spec?.nodeName ?? '<none>' },
    { name: 'Nominated Node', priority: 1, description: 'Name of the nominated node', cell: (p) => p.status?.nominatedNodeName ?? '<none>' },
    { name: 'Readiness Gates', priority: 1, description: 'Pod readiness gates', cell: (p) => (p.spec?.readinessGates?.length ? `0/${p.spec.readinessGates.length}` : '<none>') },
  ],
});
