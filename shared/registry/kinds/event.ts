// core/v1 Event (Kubernetes pkg/registry/core/event/strategy.go), also served as events.k8s.io/v1
// Event (pkg/apis/events/v1/conversion.go: the same object under that group's field names).
import { schemaFor } from '../../api/schemas.ts';
import type { KubeObject, StatusCause } from '../../types.ts';
import { invalid, required } from '../../api/validation.ts';
import { age } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo, type Conversion } from '../strategy.ts';

export const eventStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'events', kind: 'Event', shortNames: ['ev'] }),
  schema: schemaFor('Event'),
  nameErrors: NAMES.subdomain,
  validate(ev) {
    // An event about a namespaced object lives in that object's namespace.
    const involved = ev.involvedObject?.namespace;
    if (involved && involved !== ev.metadata.namespace) return [invalid('involvedObject.namespace', involved, 'does not match event.namespace')];
    return [];
  },
  columns: [
    { name: 'Last Seen', description: 'Time since the event was last seen.', cell: (e, now) => age(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp, now) },
    { name: 'Type', description: 'Type of this event.', cell: (e) => e.type ?? 'Normal' },
    { name: 'Reason', description: 'Why the action was taken.', cell: (e) => e.reason ?? '' },
    { name: 'Object', description: 'The object this event is about.', cell: (e) => `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}` },
    { name: 'Subobject', priority: 1, description: 'The subobject this event is about.', cell: (e) => e.involvedObject?.fieldPath ?? '' },
    { name: 'Source', priority: 1, description: 'The component reporting this event.', cell: (e) => [e.source?.component, e.source?.host].filter(Boolean).join(', ') },
    { name: 'Message', description: 'A human-readable description of the status of this operation.', cell: (e) => e.message ?? '' },
    { name: 'First Seen', priority: 1, description: 'Time since the event was first seen.', cell: (e, now) => age(e.firstTimestamp ?? e.metadata.creationTimestamp, now) },
    { name: 'Count', priority: 1, type: 'integer', description: 'How many times this event has occurred.', cell: (e) => e.count ?? 1 },
    { name: 'Name', priority: 1, format: 'name', description: 'Name of the event.', cell: (e) => e.metadata.name },
  ],
});

/** core/v1 field -> events.k8s.io/v1 field, for the fields whose names differ. */
const RENAMED: [string, string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['reportingComponent', 'reportingController'],
];
const SAME = ['eventTime', 'series', 'reportingInstance', 'action', 'reason', 'related', 'type'];

function convert(obj: KubeObject, apiVersion: string, pairs: [string, string][]): KubeObject {
  const out: KubeObject = { apiVersion, kind: 'Event', metadata: obj.metadata };
  for (const key of SAME) if (obj[key] !== undefined) out[key] = obj[key];
  for (const [from, to] of pairs) if (obj[from] !== undefined) out[to] = obj[from];
  return out;
}

export const eventsV1Conversion: Conversion = {
  resource: resourceInfo({ group: 'events.k8s.io', plural: 'events', kind: 'Event', shortNames: ['ev'] }),
  schema: schemaFor('events.k8s.io/v1/Event')!,
  /** Kubernetes' ValidateEventCreate for events.k8s.io/v1 clients: an event says when, who and what. */
  validate(ev) {
    const out: StatusCause[] = [];
    if (!ev.eventTime) out.push(required('eventTime'));
    if (!ev.reportingController) out.push(required('reportingController'));
    if (!ev.reportingInstance) out.push(required('reportingInstance'));
    if (!ev.action) out.push(required('action'));
    if (!ev.reason) out.push(required('reason'));
    if (ev.type !== undefined && ev.type !== 'Normal' && ev.type !== 'Warning') out.push(invalid('type', ev.type, 'has invalid value: must be one of Normal, Warning'));
    if (typeof ev.note === 'string' && Buffer.byteLength(ev.note) > 1024) out.push({ reason: 'FieldValueTooLong', field: 'note', message: 'Too long: may not be more than 1024 bytes' });
    return out;
  },
  toStorage: (ev) => convert(ev, 'v1', RENAMED.map(([core, v1]) => [v1, core])),
  fromStorage: (ev) => convert(ev, 'events.k8s.io/v1', RENAMED),
};
