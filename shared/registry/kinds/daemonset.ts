// apps/v1 DaemonSet (Kubernetes pkg/registry/apps/daemonset/strategy.go).
import { schemaFor } from '../../api/schemas.ts';
import { defaultTemplate } from '../../api/defaults.ts';
import { forbidden, immutableErrors, rollingUpdateErrors, selectorErrors, templateErrors } from '../../api/validation.ts';
import { AGE, NAME, containers, images } from '../../api/printers.ts';
import { formatSelector } from '../../api/selectors.ts';
import { defineStrategy, NAMES, resetStatus } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { warnPodTemplate } from '../pod-security-admission.ts';

export const daemonSetStrategy = defineStrategy({
  resource: resourceInfo({ group: 'apps', plural: 'daemonsets', kind: 'DaemonSet', shortNames: ['ds'], categories: ['all'], subresources: ['status'] }),
  schema: schemaFor('DaemonSet'),
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  defaults({ spec }) {
    if (!spec || typeof spec !== 'object') return;
    spec.updateStrategy ??= {};
    spec.updateStrategy.type ??= 'RollingUpdate';
    if (spec.updateStrategy.type === 'RollingUpdate') {
      spec.updateStrategy.rollingUpdate ??= {};
      spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
      spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
    defaultTemplate(spec);
  },
  // The four counts of DaemonSetStatus have no omitempty.
  prepareForCreate: resetStatus(() => ({ currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 })),
  validate({ spec = {} }) {
    const out = [...selectorErrors('spec.selector', spec.selector), ...templateErrors('spec', spec, ['Always'])];
    const strategy = spec.updateStrategy ?? {};
    if (strategy.type === 'OnDelete' && strategy.rollingUpdate) out.push(forbidden('spec.updateStrategy.rollingUpdate', 'may not be specified when strategy `type` is \'OnDelete\''));
    if ((strategy.type ?? 'RollingUpdate') === 'RollingUpdate' && strategy.rollingUpdate) out.push(...rollingUpdateErrors('spec.updateStrategy.rollingUpdate', strategy.rollingUpdate));
    return out;
  },
  validateUpdate: (obj, old) => immutableErrors('spec.selector', obj.spec?.selector, old.spec?.selector),
  // PodSecurity only warns about a workload's template: its pods are enforced when they are created.
  admit: (obj, _old, ctx) => warnPodTemplate('DaemonSet', obj, ctx),
  columns: [
    NAME,
    { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod.', cell: (d) => d.status?.desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', cell: (d) => d.status?.currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', cell: (d) => d.status?.numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod', cell: (d) => d.status?.updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', cell: (d) => d.status?.numberAvailable ?? 0 },
    { name: 'Node Selector', description: 'NodeSelector is a selector which must be true for the pod to fit on a node.', cell: (d) => Object.entries(d.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>' },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: containers },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: images },
    { name: 'Selector', priority: 1, description: 'Label selector for pods.', cell: (d) => formatSelector(d.spec?.selector) || '<none>' },
  ],
});
