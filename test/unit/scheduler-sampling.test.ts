import test from 'ava';
import { nodesToScore, window } from '../../services/scheduler/sampling.ts';
import type { NodeInfo } from '../../services/scheduler/plugins.ts';

test('nodesToScore follows kube-scheduler adaptive percentageOfNodesToScore', (t) => {
  t.is(nodesToScore(3), 3);
  t.is(nodesToScore(100), 100);
  t.is(nodesToScore(200), 100); // 48% would be 96: at least 100
  t.is(nodesToScore(1000), 420); // 50 - 8 = 42%
  t.is(nodesToScore(5000), 500); // 50 - 40 = 10%
  t.is(nodesToScore(20000), 1000); // at least 5%
});

test('window wraps around and rotates over every node', (t) => {
  const nodes = Array.from({ length: 10 }, (_, i) => ({ node: { metadata: { name: `n${i}` } } }) as unknown as NodeInfo);
  const names = (w: NodeInfo[]) => w.map((n) => n.node.metadata.name);
  t.deepEqual(names(window(nodes, 8, 4)), ['n8', 'n9', 'n0', 'n1']);
  t.deepEqual(names(window(nodes, 12, 3)), ['n2', 'n3', 'n4']);
  t.deepEqual(names(window(nodes, 0, 10)).length, 10);
});
