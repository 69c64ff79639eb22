// core/v1 Event (Kubernetes pkg/registry/core/event/strategy.go).
import { schemaFor } from '../../api/schemas.ts';
import { invalid } from '../../api/validation.ts';
import { age } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

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
