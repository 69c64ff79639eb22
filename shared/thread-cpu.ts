// The calling thread's own CPU time, from Linux's per-thread scheduler statistics
// (/proc/thread-self/schedstat: nanoseconds spent on a CPU). Unlike process.cpuUsage() it leaves
// out V8's and libuv's helper threads, and unlike a clock it leaves out the time other processes
// held the core — so a phase measured with it costs the same whether or not the machine is busy,
// unless the work itself got dearer.
import { readFileSync } from 'node:fs';

let available = process.platform === 'linux';

/** Seconds this thread has run on a CPU; undefined where the kernel does not say (not Linux). */
export function threadCpuSeconds(): number | undefined {
  if (!available) return undefined;
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;
  } catch {
    available = false;
    return undefined;
  }
}
