import test from 'ava';
import { containerReady, initialState, mayRun, recordResult, resolvePort, timingOf } from '../../services/node-agent/probe-logic.ts';

test('defaults follow Kubernetes (period 10 s, timeout 1 s, success 1, failure 3)', (t) => {
  t.deepEqual(timingOf({}), { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  t.is(timingOf({ periodSeconds: 0 }).periodSeconds, 1);
});

test('initial verdicts: readiness not ready, liveness healthy, startup unknown', (t) => {
  t.false(initialState('readiness').healthy);
  t.true(initialState('liveness').healthy);
  t.is(initialState('startup').healthy, undefined);
});

test('a verdict flips only after the threshold of consecutive results', (t) => {
  const timing = timingOf({ successThreshold: 2, failureThreshold: 3 });
  let s = initialState('readiness');
  let r = recordResult(s, true, timing);
  t.false(r.changed);
  r = recordResult(r.state, true, timing);
  t.true(r.changed);
  t.true(r.state.healthy);
  s = r.state;
  for (let i = 0; i < 2; i++) {
    r = recordResult(s, false, timing, 'boom');
    s = r.state;
    t.false(r.changed);
  }
  // A success in between resets the failure count.
  s = recordResult(s, true, timing).state;
  t.is(s.failures, 0);
  for (let i = 0; i < 3; i++) s = recordResult(s, false, timing, 'boom').state;
  t.false(s.healthy);
  t.is(s.lastMessage, 'boom');
});

test('liveness and readiness wait for a startup probe', (t) => {
  t.true(mayRun('readiness', false, false));
  t.false(mayRun('readiness', true, false));
  t.false(mayRun('liveness', true, false));
  t.true(mayRun('liveness', true, true));
  t.true(mayRun('startup', true, false));
  t.false(mayRun('startup', true, true));
});

test('readiness of a container', (t) => {
  t.false(containerReady(false, {}, undefined, undefined));
  t.true(containerReady(true, {}, undefined, undefined));
  t.false(containerReady(true, { readinessProbe: {} }, undefined, undefined));
  t.true(containerReady(true, { readinessProbe: {} }, true, undefined));
  t.false(containerReady(true, { startupProbe: {} }, undefined, false));
  t.true(containerReady(true, { startupProbe: {} }, undefined, true));
});

test('ports by number, numeric string or container port name', (t) => {
  const ports = [{ name: 'http', containerPort: 8080 }];
  t.is(resolvePort(80, ports), 80);
  t.is(resolvePort('9090', ports), 9090);
  t.is(resolvePort('http', ports), 8080);
  t.is(resolvePort('nope', ports), undefined);
});
