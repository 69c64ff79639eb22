// apps/v1 Deployment (Kubernetes pkg/registry/apps/deployment/strategy.go).
import { schemaFor } from '../../api/schemas.ts';
import { defaultTemplate } from '../../api/defaults.ts';
import { forbidden, immutableErrors, invalid, rollingUpdateErrors, selectorErrors, templateErrors } from '../../api/validation.ts';
import { AGE, NAME, containers, images } from '../../api/printers.ts';
import { formatSelector } from '../../api/selectors.ts';
import { defineStrategy, NAMES, resetStatus } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { warnPodTemplate } from '../pod-security-admission.ts';

export const deploymentStrategy = defineStrategy({
  resource: resourceInfo({ group: 'apps', plural: 'deployments', kind: 'Deployment', shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] }),
  schema: schemaFor('Deployment'),
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  defaults({ spec }) {
    if (!spec || typeof spec !== 'object') return;
    spec.replicas ??= 1;
    spec.strategy ??= {};
    spec.strategy.type ??= 'RollingUpdate';
    if (spec.strategy.type === 'RollingUpdate') {
      spec.strategy.rollingUpdate ??= {};
      spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
      spec.strategy.rollingUpdate.maxSurge ??= '25%';
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    defaultTemplate(spec);
  },
  // DeploymentStatus has no field without omitempty: a new one is {}.
  prepareForCreate: resetStatus(() => ({})),
  validate({ spec = {} }) {
    const out = [...selectorErrors('spec.selector', spec.selector), ...templateErrors('spec', spec, ['Always'])];
    const strategy = spec.strategy ?? {};
    if (strategy.type === 'Recreate' && strategy.rollingUpdate) out.push(forbidden('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\''));
    if ((strategy.type ?? 'RollingUpdate') === 'RollingUpdate' && strategy.rollingUpdate) out.push(...rollingUpdateErrors('spec.strategy.rollingUpdate', strategy.rollingUpdate));
    if (spec.progressDeadlineSeconds !== undefined && spec.minReadySeconds !== undefined && spec.progressDeadlineSeconds <= spec.minReadySeconds) {
      out.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
    return out;
  },
  validateUpdate: (obj, old) => immutableErrors('spec.selector', obj.spec?.selector, old.spec?.selector),
  // PodSecurity only warns about a workload's template: its pods are enforced when they are created.
  admit: (obj, _old, ctx) => warnPodTemplate('Deployment', obj, ctx),
  columns: [
    NAME,
    { name: 'Ready', description: 'Number of the pod with ready state', cell: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}` },
    { name: 'Up-to-date', type: 'integer', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', cell: (d) => d.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', cell: (d) => d.status?.availableReplicas ?? 0 },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: containers },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: images },
    { name: 'Selector', priority: 1, description: 'Label selector for pods.', cell: (d) => formatSelector(d.spec?.selector) || '<none>' },
  ],
});
