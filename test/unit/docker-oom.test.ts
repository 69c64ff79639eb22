// The Docker runtime and the OOM killer: it waits for the engine's OOMKilled flag only for a container
// that has just died of SIGKILL under a memory limit, and counts the engine's oom event as the flag.
import test from 'ava';
import type Docker from 'dockerode';
import { oomFlagMayFollow, toObserved } from '../../services/node-agent/runtime/docker.ts';

const NOW = Date.parse('2026-12-01T03:00:00.000Z');

function inspected(state: Partial<Docker.ContainerInspectInfo['State']>, memory = 8 * 1024 * 1024): Docker.ContainerInspectInfo {
  return {
    State: { Status: 'exited', ExitCode: 137, OOMKilled: false, FinishedAt: new Date(NOW - 100).toISOString(), ...state },
    HostConfig: { Memory: memory },
  } as Docker.ContainerInspectInfo;
}

test('a container SIGKILLed under a memory limit a moment ago may yet be flagged OOMKilled', (t) => {
  t.true(oomFlagMayFollow(inspected({}), NOW));
});

test('no wait once flagged, for another exit code, without a memory limit, for a running container, or 2 s after the exit', (t) => {
  t.false(oomFlagMayFollow(inspected({ OOMKilled: true }), NOW));
  t.false(oomFlagMayFollow(inspected({ ExitCode: 1 }), NOW));
  t.false(oomFlagMayFollow(inspected({}, 0), NOW));
  t.false(oomFlagMayFollow(inspected({ Status: 'running' }), NOW));
  t.false(oomFlagMayFollow(inspected({ FinishedAt: new Date(NOW - 2500).toISOString() }), NOW));
});

test('no wait once the engine sent an oom event for the container', (t) => {
  t.false(oomFlagMayFollow(inspected({}), NOW, true));
});

test('an oom event marks a SIGKILLed container OOMKilled even when the engine never set the flag', (t) => {
  const info = (state: Partial<Docker.ContainerInspectInfo['State']>) => ({
    ...inspected(state),
    Id: 'c1',
    Name: '/c1',
    Created: new Date(NOW - 5000).toISOString(),
    Image: 'sha256:1',
    Config: { Image: 'busybox:latest', Labels: {} },
    NetworkSettings: { Networks: {} },
  }) as unknown as Docker.ContainerInspectInfo;
  t.false(toObserved(info({}), 'wharf').oomKilled, 'the flag alone decides without an event');
  t.true(toObserved(info({}), 'wharf', true).oomKilled);
  t.true(toObserved(info({ OOMKilled: true }), 'wharf').oomKilled);
  t.false(toObserved(info({ ExitCode: 1 }), 'wharf', true).oomKilled, 'a process the OOM killer spared that exited on its own');
});
