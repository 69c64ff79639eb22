import test from 'ava';
import { applyPriority, globalDefaultClass, type PriorityClass } from '../../shared/api/priority.ts';
import { validateObject } from '../../shared/registry/admission.ts';
import { ForbiddenError } from '../../shared/errors.ts';
import type { PodSpec } from '../../shared/types.ts';

const pc = (name: string, value: number, extra: Partial<PriorityClass> = {}): PriorityClass => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...extra });
const spec = (extra: Record<string, unknown> = {}): PodSpec => ({ containers: [{ name: 'c', image: 'x' }], ...extra });

test('applyPriority: a named class sets priority and preemptionPolicy', (t) => {
  const s = spec({ priorityClassName: 'high' });
  applyPriority(s, 'p', [pc('high', 1000, { preemptionPolicy: 'Never' })]);
  t.is(s.priority, 1000);
  t.is(s.preemptionPolicy, 'Never');
});

test('applyPriority: an unknown class is forbidden, with Kubernetes\' message', (t) => {
  const err = t.throws(() => applyPriority(spec({ priorityClassName: 'nope' }), 'p', []));
  t.true(err instanceof ForbiddenError);
  t.is(err!.message, 'pods "p" is forbidden: no PriorityClass with name nope was found');
});

test('applyPriority: the built-in system classes resolve without being stored', (t) => {
  const s = spec({ priorityClassName: 'system-node-critical' });
  applyPriority(s, 'p', []);
  t.is(s.priority, 2000001000);
  const c = spec({ priorityClassName: 'system-cluster-critical' });
  applyPriority(c, 'p', []);
  t.is(c.priority, 2000000000);
});

test('applyPriority: without a class the globalDefault (lowest of several) applies, else 0', (t) => {
  const s = spec();
  applyPriority(s, 'p', [pc('a', 10, { globalDefault: true }), pc('b', 5, { globalDefault: true }), pc('c', 1)]);
  t.is(s.priority, 5);
  t.is(s.priorityClassName, 'b');
  const none = spec();
  applyPriority(none, 'p', [pc('c', 1)]);
  t.is(none.priority, 0);
  t.is(none.priorityClassName, undefined);
  t.is(globalDefaultClass([]), undefined);
});

test('applyPriority: a spec.priority that contradicts the class is forbidden; the same value is accepted', (t) => {
  t.throws(() => applyPriority(spec({ priorityClassName: 'high', priority: 7 }), 'p', [pc('high', 1000)]), { instanceOf: ForbiddenError });
  t.notThrows(() => applyPriority(spec({ priorityClassName: 'high', priority: 1000 }), 'p', [pc('high', 1000)]));
});

test('PriorityClass validation: value required, user values at most 1e9, system- prefix reserved, value immutable', (t) => {
  const fields = (obj: any, old?: any) => validateObject('PriorityClass', obj, old ? { old } : {}).causes.map((c) => c.field);
  t.deepEqual(fields(pc('ok', 1000)), []);
  t.true(fields({ ...pc('x', 0), value: undefined }).length > 0);
  t.deepEqual(fields(pc('big', 1_000_000_001)), ['value']);
  t.deepEqual(fields(pc('system-mine', 10)), ['metadata.name']);
  t.deepEqual(fields(pc('system-node-critical', 2000001000)), []);
  t.deepEqual(fields(pc('ok', 2), pc('ok', 1)), ['value']);
});
