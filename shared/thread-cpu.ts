// The calling thread's own CPU time, from Linux's per-thread scheduler statistics
// (/proc/thread-self/schedstat: nanoseconds spent on a CPU). Unlike process.cpuUsage() it leaves
// out V8's and libuv's helper threads, and unlike a clock it leaves out the time other processes
// held the core — so a phase measured with it costs the same whether or not the machine is busy,
// unless the work itself got dearer.
// The file is opened once and read again from its start each call (one pread, a quarter of an
// open-read-close's cost, which a phase counted many times a second pays twice). Opened by the
// calling thread it names that thread for good; a worker thread has its own copy of this module.
import { openSync, readSync } from 'node:fs';

let available = process.platform === 'linux';
let fd: number | undefined;
const buffer = Buffer.alloc(128);

/** Seconds this thread has run on a CPU; undefined where the kernel does not say (not Linux). */
export function threadCpuSeconds(): number | undefined {
  if (!available) return undefined;
  try {
    fd ??= openSync('/proc/thread-self/schedstat', 'r');
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const end = buffer.indexOf(32);
    return Number(buffer.toString('latin1', 0, end > 0 && end < length ? end : length)) / 1e9;
  } catch {
    available = false;
    return undefined;
  }
}
