import test from 'ava';
import { CoalescedRun } from '../../shared/coalesced-run.ts';

/** A pass that waits to be let go, counting its runs. */
function gatedPass() {
  const gates: (() => void)[] = [];
  let runs = 0;
  const pass = () => {
    runs++;
    return new Promise<void>((resolve) => gates.push(resolve));
  };
  return { pass, runs: () => runs, release: () => gates.shift()?.() };
}

test('requests during a pass collapse into one more pass, and every request resolves after a pass that began after it', async (t) => {
  const g = gatedPass();
  const run = new CoalescedRun(g.pass);
  let firstDone = false;
  const first = run.request().then(() => (firstDone = true));
  t.is(g.runs(), 1);
  const later = [run.request(), run.request(), run.request()];
  t.is(g.runs(), 1, 'no second pass while one runs');
  g.release();
  await new Promise((r) => setImmediate(r));
  t.is(g.runs(), 2, 'one more pass for the three requests');
  t.false(firstDone, 'the first request waits for the pass that covers the later ones too');
  g.release();
  await Promise.all([first, ...later]);
  t.is(g.runs(), 2);
  // Idle again: the next request starts a pass at once.
  const next = run.request();
  t.is(g.runs(), 3);
  g.release();
  await next;
});

test('a failing pass rejects its requests and leaves the runner usable', async (t) => {
  let fail = true;
  const run = new CoalescedRun(async () => {
    if (fail) throw new Error('boom');
  });
  await t.throwsAsync(run.request(), { message: 'boom' });
  fail = false;
  await t.notThrowsAsync(run.request());
});
