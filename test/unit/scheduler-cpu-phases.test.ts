import test from 'ava';
import { threadCpuSeconds } from '../../shared/thread-cpu.ts';
import { inCpuPhase, schedulerCpu, schedulerCpuItems } from '../../services/scheduler/metrics.ts';

const counted = async (metric: typeof schedulerCpu, phase: string) => (await metric.get()).values.find((v) => v.labels.phase === phase)?.value ?? 0;

/** Keeps this thread on a core until it has used ms of CPU (not of wall time: a loaded machine preempts it). */
function spin(ms: number): void {
  const start = threadCpuSeconds()!;
  const giveUpAt = performance.now() + 10_000;
  while (threadCpuSeconds()! - start < ms / 1000 && performance.now() < giveUpAt);
}

/** Keeps this thread off the cores for ms (blocked, not spinning). */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('a phase counts the thread CPU its work took and its items, and not the time the thread was off the cores', async (t) => {
  if (threadCpuSeconds() === undefined) return t.pass('no per-thread CPU on this platform: nothing is counted');
  const cpuBefore = await counted(schedulerCpu, 'decide');
  const itemsBefore = await counted(schedulerCpuItems, 'decide');
  const result = inCpuPhase('decide', 7, () => {
    spin(60);
    return 'decided';
  });
  t.is(result, 'decided');
  const spun = (await counted(schedulerCpu, 'decide')) - cpuBefore;
  t.true(spun >= 0.055 && spun < 1, `${spun} s counted for 60 ms of CPU spent spinning`);
  t.is((await counted(schedulerCpuItems, 'decide')) - itemsBefore, 7);

  const followBefore = await counted(schedulerCpu, 'follow');
  inCpuPhase('follow', 1, () => block(100));
  const blocked = (await counted(schedulerCpu, 'follow')) - followBefore;
  t.true(blocked < 0.03, `${blocked} s counted for 100 ms blocked`);
});

test('a phase whose work throws is counted all the same, and the error goes on', async (t) => {
  if (threadCpuSeconds() === undefined) return t.pass('no per-thread CPU on this platform');
  const before = await counted(schedulerCpuItems, 'bind');
  t.throws(() => inCpuPhase('bind', 3, () => {
    throw new Error('refused');
  }), { message: 'refused' });
  t.is((await counted(schedulerCpuItems, 'bind')) - before, 3);
});
