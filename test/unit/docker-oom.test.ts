// The Docker runtime's wait for the engine's OOM flag: only for a container that has just died of
// SIGKILL under a memory limit without it.
import test from 'ava';
import type Docker from 'dockerode';
import { oomFlagMayFollow } from '../../services/node-agent/runtime/docker.ts';

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
