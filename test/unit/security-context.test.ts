// The node agent's reading of a pod's securityContext for one container (pod-level defaults,
// container-level overrides), the kubelet's runAsNonRoot verdict, Docker's HostConfig for it, and
// subPaths that must not leave their volume.
import test from 'ava';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, realpathSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilityName, effectiveSecurity, imageUser, processUser, runAsNonRootError } from '../../services/node-agent/security-context.ts';
import { securityHostConfig } from '../../services/node-agent/runtime/docker.ts';
import { mountsFor, safeSubPath } from '../../services/node-agent/volumes.ts';
import { ContainerConfigError } from '../../services/node-agent/runtime/types.ts';

const POD = { namespace: 'ns', name: 'web', uid: 'u-1' };

test('pod-level settings are the defaults, container-level ones override them', (t) => {
  const spec = {
    hostPID: true,
    securityContext: { runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true, supplementalGroups: [3000, 3001], fsGroup: 4000, seccompProfile: { type: 'Unconfined' } },
  };
  const plain = effectiveSecurity(spec, { securityContext: undefined });
  t.deepEqual(plain, {
    privileged: false, capAdd: [], capDrop: [], runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true, groups: [3000, 3001, 4000],
    readOnlyRootFilesystem: false, noNewPrivileges: false, seccomp: { type: 'Unconfined' }, hostPID: true, hostIPC: false,
  });
  const own = effectiveSecurity(spec, {
    securityContext: {
      runAsUser: 1001, runAsNonRoot: false, privileged: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'CAP_SYS_TIME'], drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    },
  });
  t.like(own, { runAsUser: 1001, runAsGroup: 2000, runAsNonRoot: false, privileged: true, readOnlyRootFilesystem: true, noNewPrivileges: true, capAdd: ['NET_ADMIN', 'SYS_TIME'], capDrop: ['ALL'], seccomp: { type: 'RuntimeDefault' } });
  t.deepEqual(effectiveSecurity({}, { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' } } }).seccompLocalhost, 'profiles/audit.json');
  t.is(effectiveSecurity({}, { securityContext: { allowPrivilegeEscalation: true } }).noNewPrivileges, false);
  t.is(capabilityName('CAP_NET_RAW'), 'NET_RAW');
});

test('runAsNonRoot, as the kubelet verifies it against the image\'s user', (t) => {
  const s = (extra: Record<string, unknown> = {}) => ({ ...effectiveSecurity({ securityContext: { runAsNonRoot: true } }, {}), ...extra });
  t.is(runAsNonRootError(s(), '', POD, 'c'), 'container has runAsNonRoot and image will run as root (pod: "web_ns(u-1)", container: c)');
  t.is(runAsNonRootError(s(), '0:0', POD, 'c'), 'container has runAsNonRoot and image will run as root (pod: "web_ns(u-1)", container: c)');
  t.is(runAsNonRootError(s(), 'nobody', POD, 'c'), 'container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "web_ns(u-1)", container: c)');
  t.is(runAsNonRootError(s(), '1000:1000', POD, 'c'), undefined);
  t.is(runAsNonRootError(s({ runAsUser: 1000 }), '', POD, 'c'), undefined, 'runAsUser decides over the image');
  t.is(runAsNonRootError(s({ runAsUser: 0 }), '1000', POD, 'c'), 'container\'s runAsUser breaks non-root policy (pod: "web_ns(u-1)", container: c)');
  t.is(runAsNonRootError({ ...s(), runAsNonRoot: false }, '', POD, 'c'), undefined);
  t.deepEqual(imageUser(''), { uid: 0 });
  t.deepEqual(imageUser('1000:50'), { uid: 1000 });
});

test('the process user: uid, uid:gid, or a bare group with the image\'s user', (t) => {
  const base = effectiveSecurity({}, {});
  t.is(processUser(base, 'nobody'), undefined, 'the image decides');
  t.is(processUser({ ...base, runAsUser: 1000 }, ''), '1000');
  t.is(processUser({ ...base, runAsUser: 1000, runAsGroup: 3000 }, ''), '1000:3000');
  t.is(processUser({ ...base, runAsGroup: 3000 }, 'nobody:nogroup'), 'nobody:3000');
  t.is(processUser({ ...base, runAsGroup: 3000 }, ''), '0:3000');
});

test('Docker\'s HostConfig for the security settings', (t) => {
  t.deepEqual(securityHostConfig(undefined), {});
  t.deepEqual(securityHostConfig(effectiveSecurity({}, {})), {}, 'nothing asked, Docker\'s defaults (its seccomp profile included)');
  const s = effectiveSecurity(
    { hostPID: true, hostIPC: true, securityContext: { supplementalGroups: [5], fsGroup: 6 } },
    { securityContext: { privileged: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, seccompProfile: { type: 'Unconfined' } } },
  );
  t.deepEqual(securityHostConfig(s), {
    Privileged: true,
    CapAdd: ['NET_ADMIN'],
    CapDrop: ['ALL'],
    ReadonlyRootfs: true,
    SecurityOpt: ['no-new-privileges', 'seccomp=unconfined'],
    GroupAdd: ['5', '6'],
    PidMode: 'host',
    IpcMode: 'host',
  });
  t.deepEqual(securityHostConfig({ ...effectiveSecurity({}, {}), seccomp: { type: 'Localhost', path: '/p.json', profile: '{"defaultAction":"SCMP_ACT_ALLOW"}' } }).SecurityOpt, ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']);
});

test('a subPath is resolved inside its volume, created when missing, refused when a symlink leads out', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wharf-subpath-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const volume = join(root, 'volume');
  const outside = join(root, 'outside');
  mkdirSync(volume, { mode: 0o777 });
  mkdirSync(outside);
  mkdirSync(join(volume, 'data'));
  writeFileSync(join(volume, 'data', 'file'), 'x');
  symlinkSync('/', join(volume, 'root-link'));
  symlinkSync('../outside', join(volume, 'relative-link'));
  symlinkSync('data', join(volume, 'inner-link'));
  symlinkSync(join(root, 'nowhere'), join(volume, 'dangling'));
  const real = realpathSync(volume);
  t.is(await safeSubPath(volume, 'data/file'), join(real, 'data', 'file'));
  t.is(await safeSubPath(volume, 'inner-link/file'), join(real, 'data', 'file'), 'a symlink that stays inside is followed');
  t.is(await safeSubPath(volume, 'new/dir'), join(real, 'new', 'dir'));
  t.is(statSync(join(volume, 'new', 'dir')).mode & 0o777, statSync(volume).mode & 0o777, 'created with the volume\'s mode');
  t.is(await safeSubPath(volume, 'root-link'), undefined);
  t.is(await safeSubPath(volume, 'root-link/etc'), undefined);
  t.is(await safeSubPath(volume, 'relative-link'), undefined);
  t.is(await safeSubPath(volume, 'dangling'), undefined);
  t.is(await safeSubPath(volume, '../outside'), undefined);
  const volumes = new Map([['v', { path: volume, readOnly: false }]]);
  await t.throwsAsync(mountsFor({ name: 'c', image: 'x', volumeMounts: [{ name: 'v', mountPath: '/m', subPath: 'root-link' }] }, volumes), {
    instanceOf: ContainerConfigError,
    message: 'failed to prepare subPath for volumeMount "v" of container "c"',
  });
  t.deepEqual(await mountsFor({ name: 'c', image: 'x', volumeMounts: [{ name: 'v', mountPath: '/m', subPath: 'data', readOnly: true }] }, volumes), [{ hostPath: join(real, 'data'), containerPath: '/m', readOnly: true }]);
});
