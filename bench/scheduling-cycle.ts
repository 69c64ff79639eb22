// The two costs a scheduler pays per pod, measured in one process with nothing else running (no
// Redis, no I/O): deciding a pod (a scheduling cycle over the sampled nodes, then assuming the
// decision into the cache) and following a pod another scheduler placed (its scheduling view
// parsed from JSON and applied to the cache). These are the inputs of the model in README's
// "How scheduling scales": with N schedulers a pod is decided once and followed N times, so the
// following cost is the only part that grows with N. The figures are of a warm, busy process;
// bench/scheduling.ts measures the same work end to end with Redis and the processes in between.
//
//   node --import tsx bench/scheduling-cycle.ts [nodes=1000] [podsPerNode=30] [rounds=3]
import { SchedulerCache } from '../services/scheduler/cache.ts';
import { decide } from '../services/scheduler/plugins.ts';
import { nodesToScore, window } from '../services/scheduler/sampling.ts';
import { podSchedulingView } from '../shared/api/podutil.ts';
import type { Pod } from '../shared/types.ts';
import { median, range, schedulingBenchNode, schedulingBenchPod } from './measure.ts';

const nodes = Number(process.argv[2] ?? 1000);
const podsPerNode = Number(process.argv[3] ?? 30);
const rounds = Number(process.argv[4] ?? 3);
const PODS_A_ROUND = 5_000;

let uids = 0;
const pod = (i: number, nodeName?: string): Pod => schedulingBenchPod(`bench-${i}`, `uid-${uids++}`, String(i + 1), nodeName);

function freshCache(): SchedulerCache {
  const cache = new SchedulerCache();
  cache.replaceNodes(Array.from({ length: nodes }, (_, i) => schedulingBenchNode(`node-${i}`)));
  cache.replacePods(Array.from({ length: podsPerNode * nodes }, (_, i) => pod(i, `node-${i % nodes}`)));
  return cache;
}

/** µs a pod: a cycle over the sampled share of the nodes, as the scheduler's batch path runs it, and the assume. */
function decideRound(cache: SchedulerCache, from: number): number {
  const count = nodesToScore(nodes);
  let start = from % nodes;
  const begun = performance.now();
  for (let i = 0; i < PODS_A_ROUND; i++) {
    const p = pod(1_000_000 + from + i);
    const decision = decide(p, window(cache.nodes(), start, count), undefined, undefined, Math.random, 3);
    start = (start + count) % nodes;
    cache.assume(p, decision.ranked[0]);
  }
  return ((performance.now() - begun) * 1000) / PODS_A_ROUND;
}

/** µs a pod: another scheduler's placement, as its view arrives on the stream (JSON), applied to the cache. */
function followRound(cache: SchedulerCache, from: number): number {
  const texts = Array.from({ length: PODS_A_ROUND }, (_, i) => JSON.stringify(podSchedulingView(pod(2_000_000 + from + i, `node-${(from + i) % nodes}`))));
  const begun = performance.now();
  for (let i = 0; i < texts.length; i++) cache.applyPod({ type: 'ADDED', object: JSON.parse(texts[i]) as Pod, rv: 2_000_000 + from + i });
  return ((performance.now() - begun) * 1000) / PODS_A_ROUND;
}

const cache = freshCache();
// Warm-up: V8 optimises the hot paths over the first few thousand pods.
decideRound(cache, 0);
followRound(cache, 0);
const decided: number[] = [];
const followed: number[] = [];
for (let r = 1; r <= rounds; r++) {
  decided.push(decideRound(cache, r * PODS_A_ROUND));
  followed.push(followRound(cache, r * PODS_A_ROUND));
}
console.log(`scheduling cycle at ${nodes} nodes (${nodesToScore(nodes)} sampled a pod), ${podsPerNode} pods a node, ${rounds} round(s) of ${PODS_A_ROUND} pods:`);
console.log(`  deciding a pod (filters, scores, assume): ${range(decided, 1)} µs`);
console.log(`  following a pod another scheduler placed (view parsed, applied): ${range(followed, 1)} µs`);
console.log(`  following is ${(median(followed) / median(decided)).toFixed(2)}x deciding: with N schedulers a pod costs one decision, and N - 1 schedulers follow it (its own confirms its assumption)`);
