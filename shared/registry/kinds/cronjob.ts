// batch/v1 CronJob (Kubernetes pkg/registry/batch/cronjob/strategy.go).
import { CronExpressionParser } from 'cron-parser';
import { schemaFor } from '../../api/schemas.ts';
import { annotationErrors, invalid, jobErrors, labelErrors, required } from '../../api/validation.ts';
import { AGE, NAME, humanDuration } from '../../api/printers.ts';
import { defineStrategy, NAMES, resetStatus } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { warnPodTemplate } from '../pod-security-admission.ts';
import { defaultJobSpec } from './job.ts';

function scheduleErrors(spec: any) {
  const schedule = String(spec?.schedule ?? '');
  if (!schedule) return [required('spec.schedule')];
  // Kubernetes' parser (robfig/cron's ParseStandard) takes five fields or a descriptor; cron-parser would fill in the fields left out.
  const fields = schedule.trim().split(/\s+/).filter(Boolean).length;
  if (!schedule.startsWith('@') && fields !== 5) return [invalid('spec.schedule', schedule, `expected exactly 5 fields, found ${fields}: ${schedule}`)];
  try {
    CronExpressionParser.parse(schedule, { tz: spec?.timeZone ?? 'UTC' });
    return [];
  } catch {
    return [invalid('spec.schedule', schedule, 'unparseable schedule')];
  }
}

const templateContainers = (c: any): any[] => c.spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];

export const cronJobStrategy = defineStrategy({
  resource: resourceInfo({ group: 'batch', plural: 'cronjobs', kind: 'CronJob', shortNames: ['cj'], categories: ['all'], subresources: ['status'] }),
  schema: schemaFor('CronJob'),
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  defaults({ spec }) {
    if (!spec || typeof spec !== 'object') return;
    spec.concurrencyPolicy ??= 'Allow';
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
    defaultJobSpec(spec.jobTemplate?.spec);
  },
  prepareForCreate: resetStatus(() => ({})),
  validate: ({ spec }) => [
    ...scheduleErrors(spec),
    // Kubernetes' ValidateJobTemplateSpec: the template's labels and annotations, then its job.
    ...labelErrors('spec.jobTemplate.metadata.labels', spec?.jobTemplate?.metadata?.labels),
    ...annotationErrors('spec.jobTemplate.metadata.annotations', spec?.jobTemplate?.metadata?.annotations),
    ...jobErrors('spec.jobTemplate.spec', spec?.jobTemplate?.spec),
  ],
  // PodSecurity only warns about a workload's template: its pods are enforced when they are created.
  admit: (obj, _old, ctx) => warnPodTemplate('CronJob', obj, ctx),
  columns: [
    NAME,
    { name: 'Schedule', description: 'The schedule in Cron format.', cell: (c) => c.spec?.schedule ?? '' },
    { name: 'Timezone', description: 'The time zone of the schedule.', cell: (c) => c.spec?.timeZone ?? '<none>' },
    { name: 'Suspend', type: 'boolean', description: 'Whether scheduling is suspended.', cell: (c) => (c.spec?.suspend ? 'True' : 'False') },
    { name: 'Active', type: 'integer', description: 'The number of running jobs.', cell: (c) => (c.status?.active ?? []).length },
    { name: 'Last Schedule', description: 'When the job was last scheduled.', cell: (c, now) => (c.status?.lastScheduleTime ? humanDuration(now - Date.parse(c.status.lastScheduleTime)) : '<none>') },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: (c) => templateContainers(c).map((x) => x.name).join(',') },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: (c) => templateContainers(c).map((x) => x.image).join(',') },
  ],
});
