// How many nodes a scheduling cycle looks at, as kube-scheduler's percentageOfNodesToScore: in a
// large cluster filtering and scoring every node for every pod is the scheduler's main cost (about
// 4 ms a pod at 1,000 nodes here), and any of a few hundred feasible nodes is a good enough
// choice. Below 100 nodes every node is considered; above, an adaptive share (50% less 1% per 125
// nodes, at least 5%, at least 100 nodes), taken round-robin from a rotating start so that
// successive pods see different nodes.
import type { NodeInfo } from './plugins.ts';

export const MIN_NODES_TO_SCORE = 100;

/** kube-scheduler's numFeasibleNodesToFind with the adaptive percentage. */
export function nodesToScore(total: number): number {
  if (total <= MIN_NODES_TO_SCORE) return total;
  const percent = Math.max(5, 50 - Math.floor(total / 125));
  return Math.min(total, Math.max(MIN_NODES_TO_SCORE, Math.floor((total * percent) / 100)));
}

/** `count` nodes from `start` on, wrapping around. */
export function window(nodes: NodeInfo[], start: number, count: number): NodeInfo[] {
  const from = start % nodes.length;
  const end = from + count;
  return end <= nodes.length ? nodes.slice(from, end) : [...nodes.slice(from), ...nodes.slice(0, end - nodes.length)];
}
