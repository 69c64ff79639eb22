// batch/v1 Job (Kubernetes pkg/registry/batch/job/strategy.go).
import type { KubeObject } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { defaultTemplate } from '../../api/defaults.ts';
import { immutableErrors, invalid, jobErrors, selectorErrors } from '../../api/validation.ts';
import { AGE, NAME, containers, humanDuration, images, jobStatus } from '../../api/printers.ts';
import { formatSelector } from '../../api/selectors.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { warnPodTemplate } from '../pod-security-admission.ts';

export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';

/** Job defaults, shared with a CronJob's jobTemplate. */
export function defaultJobSpec(spec: any): void {
  if (!spec || typeof spec !== 'object') return;
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  defaultTemplate(spec);
}

/**
 * As Kubernetes' generateSelector: unless the Job asks for a manual selector, its pods carry its
 * uid and name as labels, and it selects them by the uid, so that no other pod is ever its own
 * (`kubectl logs job/NAME` finds its pods by this selector).
 */
function generateSelector(job: KubeObject): void {
  const spec = job.spec;
  if (!spec || typeof spec !== 'object' || spec.manualSelector === true || !spec.template || typeof spec.template !== 'object') return;
  const template = spec.template;
  template.metadata ??= {};
  const labels = (template.metadata.labels ??= {});
  for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) labels[key] ??= job.metadata.name!;
  for (const key of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) labels[key] ??= job.metadata.uid!;
  spec.selector ??= {};
  spec.selector.matchLabels ??= {};
  spec.selector.matchLabels[CONTROLLER_UID_LABEL] ??= job.metadata.uid!;
}

export const jobStrategy = defineStrategy({
  resource: resourceInfo({ group: 'batch', plural: 'jobs', kind: 'Job', categories: ['all'], subresources: ['status'] }),
  schema: schemaFor('Job'),
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  defaults: (job) => defaultJobSpec(job.spec),
  prepareForCreate(job) {
    job.status = {};
    generateSelector(job);
  },
  validate({ spec }) {
    const out = [];
    if (spec?.selector) out.push(...selectorErrors('spec.selector', spec.selector));
    out.push(...jobErrors('spec', spec));
    return out;
  },
  validateUpdate(job, old) {
    const out = immutableErrors('spec.selector', job.spec?.selector, old.spec?.selector);
    if (old.spec?.template && JSON.stringify(old.spec.template) !== JSON.stringify(job.spec?.template)) out.push(invalid('spec.template', '', 'field is immutable'));
    return out;
  },
  // PodSecurity only warns about a workload's template: its pods are enforced when they are created.
  admit: (obj, _old, ctx) => warnPodTemplate('Job', obj, ctx),
  columns: [
    NAME,
    { name: 'Status', description: 'Status of the job.', cell: jobStatus },
    { name: 'Completions', description: 'The completion status of the job.', cell: (j) => `${j.status?.succeeded ?? 0}/${j.spec?.completions ?? 1}` },
    { name: 'Duration', description: 'Time required to complete the job.', cell: (j, now) => (j.status?.startTime ? humanDuration((j.status.completionTime ? Date.parse(j.status.completionTime) : now) - Date.parse(j.status.startTime)) : '') },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: containers },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: images },
    { name: 'Selector', priority: 1, description: 'Label selector for pods.', cell: (j) => formatSelector(j.spec?.selector) || `${CONTROLLER_UID_LABEL}=${j.metadata.uid}` },
  ],
});
