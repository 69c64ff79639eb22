// A probe of the host's speed: the CPU a fixed piece of scheduler work takes (a pod decided over
// 420 of 1,000 nodes, assumed and forgotten, and the pod's JSON written and read as a bind does),
// run in the bench's own process while nothing else of the bench runs. This VM's speed moves by
// up to 2x within seconds and it reports no steal time, so a run's CPU a pod carries the host's
// speed through it: the probe before and after each run shows runs made on a host of another
// speed (it cannot say what the speed was through a run, so it corrects nothing).
import { pathToFileURL } from 'node:url';
import { SchedulerCache } from '../services/scheduler/cache.ts';
import { decide } from '../services/scheduler/plugins.ts';
import { nodesToScore, window } from '../services/scheduler/sampling.ts';
import type { Pod } from '../shared/types.ts';
import { median, range, schedulingBenchNode, schedulingBenchPod } from './measure.ts';

const NODES = 1000;
const DECISIONS = 1500;

const probePod = (i: number, nodeName?: string): Pod => schedulingBenchPod(`probe-${i}`, `probe-${i}`, '1', nodeName);

/** Returns the probe: each call takes about half a second and answers the CPU µs one unit of its work took (the median of three passes). */
export function hostSpeedProbe(): () => number {
  const cache = new SchedulerCache();
  cache.replaceNodes(Array.from({ length: NODES }, (_, i) => schedulingBenchNode(`node-${i}`)));
  // Ten pods a node, so that the nodes' pod lists are walked as in a busy cluster.
  cache.replacePods(Array.from({ length: NODES * 10 }, (_, i) => probePod(i, `node-${i % NODES}`)));
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
  return () => median([pass(), pass(), pass()]);
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
  console.log(`the host probe, idle, every ${intervalMs} ms: ${seen.map((s) => s.toFixed(0)).join(' ')} µs`);
  console.log(`  ${range(seen, 0)} µs, median ${median(seen).toFixed(0)}: the slowest ${(Math.max(...seen) / Math.min(...seen)).toFixed(2)}x the fastest`);
}
