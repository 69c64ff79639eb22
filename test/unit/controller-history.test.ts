import test from 'ava';
import { liveHashes, planHistory, revisionTemplate, templatePatch, REVISION_HASH, type ControllerRevision, type TemplatedOwner } from '../../services/controller-manager/history.ts';
import { templateHash } from '../../services/controller-manager/deployment/plan.ts';
import type { Pod, PodTemplateSpec } from '../../shared/types.ts';

const template = (image: string): PodTemplateSpec => ({ metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image }] } });
const owner = (image: string, limit?: number): TemplatedOwner => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd', namespace: 'default', uid: 'u1' }, spec: { template: template(image), revisionHistoryLimit: limit } });
const revision = (image: string, number: number, name = `d-${templateHash(template(image))}`): ControllerRevision => ({
  apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name, labels: { app: 'd', [REVISION_HASH]: templateHash(template(image)) } }, data: templatePatch(template(image)), revision: number,
});
const hashOf = (image: string) => templateHash(template(image));

test('the data is a patch that replaces the whole template, and gives the template back', (t) => {
  const data = templatePatch(template('a'));
  t.is(data.spec!.template!.$patch, 'replace');
  t.deepEqual(revisionTemplate(revision('a', 1)), template('a'));
});

test('a first template makes revision 1, named after the owner and the hash', (t) => {
  t.deepEqual(planHistory(owner('a'), [], hashOf('a'), new Set()), { create: { name: `d-${hashOf('a')}`, revision: 1 }, delete: [] });
});

test('a new template takes the next number; the template already held changes nothing', (t) => {
  const history = [revision('a', 1), revision('b', 2)];
  t.deepEqual(planHistory(owner('c'), history, hashOf('c'), new Set()).create, { name: `d-${hashOf('c')}`, revision: 3 });
  t.deepEqual(planHistory(owner('b'), history, hashOf('b'), new Set()), { delete: [] });
});

test('a rollback to an older template renumbers its revision to the next, as kubectl rollout undo expects', (t) => {
  const history = [revision('a', 1), revision('b', 2), revision('c', 3)];
  t.deepEqual(planHistory(owner('a'), history, hashOf('a'), new Set()), { renumber: { name: `d-${hashOf('a')}`, revision: 4 }, delete: [] });
});

test('the template is recognised by its content (a client\'s nulls and empty maps aside), not by the revision\'s name', (t) => {
  const spelled = revision('a', 1, 'd-other-name');
  spelled.data.spec!.template!.metadata!.annotations = {};
  t.deepEqual(planHistory(owner('a'), [spelled], hashOf('a'), new Set()), { delete: [] });
});

test('doubles of the current template: the highest-numbered stays, the rest go', (t) => {
  const plan = planHistory(owner('a'), [revision('a', 1, 'x1'), revision('a', 3, 'x3'), revision('b', 2)], hashOf('a'), new Set());
  t.deepEqual(plan, { delete: ['x1'] });
});

test('beyond revisionHistoryLimit the oldest go first, never one a live pod runs', (t) => {
  const history = [revision('a', 1), revision('b', 2), revision('c', 3), revision('d', 4)];
  t.deepEqual(planHistory(owner('d', 1), history, hashOf('d'), new Set()).delete, [`d-${hashOf('a')}`, `d-${hashOf('b')}`]);
  t.deepEqual(planHistory(owner('d', 1), history, hashOf('d'), new Set([hashOf('a')])).delete, [`d-${hashOf('b')}`, `d-${hashOf('c')}`]);
  t.deepEqual(planHistory(owner('d', 0), history, hashOf('d'), new Set()).delete, [`d-${hashOf('a')}`, `d-${hashOf('b')}`, `d-${hashOf('c')}`]);
  t.deepEqual(planHistory(owner('d'), history, hashOf('d'), new Set()).delete, [], 'the default keeps 10');
  t.deepEqual(planHistory(owner('d', 1), history, hashOf('d'), new Set([`d-${hashOf('a')}`])).delete, [`d-${hashOf('b')}`, `d-${hashOf('c')}`], 'a revision named live (a StatefulSet\'s pods and currentRevision) stays too');
});

test('live hashes are the pods\' revision labels', (t) => {
  const pod = (hash?: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { labels: hash ? { [REVISION_HASH]: hash } : {} }, spec: { containers: [] } });
  t.deepEqual([...liveHashes([pod('h1'), pod(), pod('h2'), pod('h1')])], ['h1', 'h2']);
});
