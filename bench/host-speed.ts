// A probe of the host's speed: the CPU a fixed piece of scheduler work takes (a pod decided over
// 420 of 1,000 nodes, assumed and forgotten, and the pod's JSON written and read as a bind does),
// run in the bench's own process while nothing else of the bench runs. This VM's host drifts by
// up to 40% between runs minutes apart and reports no steal time, so a run's CPU a pod is only
// comparable with another's measured at the same host speed: the probe before and after each run
// says what that speed was.
import { pathToFileURL } from 'node:url';
import { SchedulerCache } from '../services/scheduler/cache.ts';
import { decide } from '../services/scheduler/plugins.ts';
import { nodesToScore, window } from '../services/scheduler/sampling.ts';
import type { Pod } from '../shared/types.ts';
import { schedulingBenchNode } from './measure.ts';

const NODES = 1000;
const DECISIONS = 1500;

function probePod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `probe-${i}`, namespace: 'default', uid: `probe-${i}`, labels: { app: 'probe' }, resourceVersion: '1' },
    spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
    status: { phase: 'Pending' },
  };
}

/** Returns the probe: each call takes about half a second and answers the CPU µs one unit of its work took (the median of three passes). */
export function hostSpeedProbe(): () => number {
  const cache = new SchedulerCache();
  cache.replaceNodes(Array.from({ length: NODES }, (_, i) => schedulingBenchNode(`node-${i}`)));
  // Ten pods a node, so that the nodes' pod lists are walked as in a busy cluster.
  cache.replacePods(Array.from({ length: NODES * 10 }, (_, i) => ({ ...probePod(i), spec: { ...probePod(i).spec, nodeName: `node-${i % NODES}` } })));
  const count = nodesToScore(NODES);
  let start = 0;
  let sink = 0;
  const pass = () => {
    const begun = process.cpuUsage();
    for (let i = 0; i < DECISIONS; i++) {
      const pod = probePod(1_000_000 + i);
      const decision = decide(pod, window(cache.nodes(), start, count), undefined, undefined, Math.random, 3);
      start = (start + count) % NODES;
      cache.assume(pod, decision.ranked[0]);
      sink += (JSON.parse(JSON.stringify({ ...pod, spec: { ...pod.spec, nodeName: decision.ranked[0] } })) as Pod).spec.nodeName!.length;
      // The cache stays as it was: every call does the same work.
      cache.forget(pod);
    }
    const used = process.cpuUsage(begun);
    if (sink < 0) console.log(sink);
    return (used.user + used.system) / DECISIONS;
  };
  // V8 optimises the work over the first passes; what is measured is the warm work.
  for (let i = 0; i < 6; i++) pass();
  return () => [pass(), pass(), pass()].sort((a, b) => a - b)[1];
}

// Run alone, it samples the idle host's speed: node --import tsx bench/host-speed.ts [samples=20] [intervalMs=2000]
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const samples = Number(process.argv[2] ?? 20);
  const intervalMs = Number(process.argv[3] ?? 2000);
  const probe = hostSpeedProbe();
  const seen: number[] = [];
  for (let i = 0; i < samples; i++) {
    seen.push(probe());
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const sorted = [...seen].sort((a, b) => a - b);
  console.log(`the host probe, idle, every ${intervalMs} ms: ${seen.map((s) => s.toFixed(0)).join(' ')} µs`);
  console.log(`  ${sorted[0].toFixed(0)}-${sorted[sorted.length - 1].toFixed(0)} µs, median ${sorted[Math.floor((sorted.length - 1) / 2)].toFixed(0)}: the slowest ${(sorted[sorted.length - 1] / sorted[0]).toFixed(2)}x the fastest`);
}
