// Events (kind Event) for what controllers, the scheduler and agents do. Identical events about
// the same object are folded into one whose count rises, as Kubernetes' event correlator does —
// by a deterministic name, so that replicas of a component fold into the same object too.
import { createHash } from 'node:crypto';
import type { KubeObject } from './types.ts';
import type { Store } from './store/store.ts';
import { isAlreadyExists, isNotFound } from './errors.ts';
import { now } from './util.ts';
import type { Logger } from './log.ts';

export class EventRecorder {
  constructor(
    private readonly store: Store,
    private readonly component: string,
    private readonly host: string,
    private readonly log: Logger,
  ) {}

  normal(obj: KubeObject, reason: string, message: string): Promise<void> {
    return this.record(obj, 'Normal', reason, message);
  }

  warning(obj: KubeObject, reason: string, message: string): Promise<void> {
    return this.record(obj, 'Warning', reason, message);
  }

  /** Never throws: an event that cannot be written must not fail the work it describes. */
  async record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): Promise<void> {
    const namespace = obj.metadata.namespace ?? 'default';
    const digest = createHash('sha1').update(`${obj.metadata.uid}|${type}|${reason}|${message}|${this.component}`).digest('hex').slice(0, 16);
    const name = `${obj.metadata.name}.${digest}`;
    const ts = now();
    try {
      try {
        // Most events are new: create first, fold into an existing one only when it is taken.
        await this.store.create('events', {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace },
          involvedObject: {
            kind: obj.kind,
            namespace: obj.metadata.namespace,
            name: obj.metadata.name,
            uid: obj.metadata.uid,
            apiVersion: obj.apiVersion,
            resourceVersion: obj.metadata.resourceVersion,
            ...(fieldPath ? { fieldPath } : {}),
          },
          reason,
          message,
          type,
          source: { component: this.component, host: this.host },
          firstTimestamp: ts,
          lastTimestamp: ts,
          // MicroTime; events.k8s.io/v1 clients (the Python one) require it of every event they read.
          eventTime: new Date().toISOString().replace(/Z$/, '000Z'),
          count: 1,
          reportingComponent: this.component,
          reportingInstance: this.host,
        });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        await this.store.guaranteedUpdate('events', namespace, name, (ev) => {
          ev.count = (ev.count ?? 1) + 1;
          ev.lastTimestamp = ts;
          return ev;
        });
      }
    } catch (err) {
      if (!isNotFound(err)) this.log.debug({ err: (err as Error).message, reason }, 'could not record event');
    }
  }
}
