// The remote-command protocol of exec and attach (KEP-4006, the kubelet's wsstream): channel
// framing, the client's messages, the Status that carries the exit code, Docker's frames.
import test from 'ava';
import {
  channelMessage, chooseStreamProtocol, DockerFrameReader, execStartFailure, exitStatus, parseClientMessage, streamOptions,
} from '../../services/node-agent/stream-protocol.ts';

test('the subprotocol is the first the client offers that is served', (t) => {
  t.is(chooseStreamProtocol(['v5.channel.k8s.io', 'v4.channel.k8s.io']), 'v5.channel.k8s.io');
  t.is(chooseStreamProtocol(['v4.channel.k8s.io', 'v5.channel.k8s.io']), 'v4.channel.k8s.io');
  t.is(chooseStreamProtocol(['channel.k8s.io', 'base64.channel.k8s.io']), undefined);
});

test('a message is its channel byte, then the data', (t) => {
  t.deepEqual([...channelMessage(1, 'hi')], [1, 0x68, 0x69]);
  t.deepEqual([...channelMessage(3, Buffer.alloc(0))], [3]);
});

test('client messages: stdin, resize (JSON Width/Height), v5 close of stdin; anything malformed is ignored', (t) => {
  t.deepEqual(parseClientMessage(Buffer.from([0, 0x61]), 'v5.channel.k8s.io'), { type: 'stdin', data: Buffer.from('a') });
  t.deepEqual(parseClientMessage(channelMessage(4, '{"Width":80,"Height":24}'), 'v5.channel.k8s.io'), { type: 'resize', width: 80, height: 24 });
  t.deepEqual(parseClientMessage(channelMessage(4, '{"Width":-1}'), 'v5.channel.k8s.io'), { type: 'ignored' });
  t.deepEqual(parseClientMessage(channelMessage(4, 'nope'), 'v5.channel.k8s.io'), { type: 'ignored' });
  t.deepEqual(parseClientMessage(Buffer.from([255, 0]), 'v5.channel.k8s.io'), { type: 'close', channel: 0 });
  t.deepEqual(parseClientMessage(Buffer.from([255, 0]), 'v4.channel.k8s.io'), { type: 'ignored' }, 'v4 has no close');
  t.deepEqual(parseClientMessage(Buffer.alloc(0), 'v5.channel.k8s.io'), { type: 'ignored' });
});

test('the exit code travels as the kubelet writes it: Success, or NonZeroExitCode with an ExitCode cause', (t) => {
  t.deepEqual(exitStatus(['true'], 0), { metadata: {}, status: 'Success' });
  const failed = exitStatus(['sh', '-c', 'exit 3'], 3);
  t.is(failed.status, 'Failure');
  t.is(failed.reason, 'NonZeroExitCode');
  t.deepEqual(failed.details, { causes: [{ reason: 'ExitCode', message: '3' }] });
  t.regex(failed.message!, /^command terminated with non-zero exit code: /);
});

test('options from the query: a command and at least one stream; a tty takes stderr into stdout', (t) => {
  t.deepEqual(streamOptions(new URLSearchParams('command=sh&command=-c&command=true&stdout=true&stderr=true'), 'exec'), { command: ['sh', '-c', 'true'], stdin: false, stdout: true, stderr: true, tty: false });
  t.deepEqual(streamOptions(new URLSearchParams('command=sh&stdin=true&stdout=true&stderr=true&tty=true'), 'exec'), { command: ['sh'], stdin: true, stdout: true, stderr: false, tty: true });
  t.deepEqual(streamOptions(new URLSearchParams('command=sh'), 'exec'), { error: 'you must specify at least 1 of stdin, stdout, stderr' });
  t.deepEqual(streamOptions(new URLSearchParams('stdout=true'), 'exec'), { error: 'you must specify a command' });
  t.deepEqual(streamOptions(new URLSearchParams('stdout=true'), 'attach'), { command: [], stdin: false, stdout: true, stderr: false, tty: false });
});

test('an exec the engine could not start: 127 for a missing command, 126 for one that cannot run', (t) => {
  t.is(execStartFailure('OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown\r\n'), 127);
  t.is(execStartFailure('OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc/passwd": permission denied: unknown\r\n'), 126);
  t.is(execStartFailure('hello'), undefined);
});

test('Docker frames: split onto their streams, a header or payload cut across chunks included', (t) => {
  const frame = (stream: number, text: string) => {
    const h = Buffer.alloc(8);
    h[0] = stream;
    h.writeUInt32BE(Buffer.byteLength(text), 4);
    return Buffer.concat([h, Buffer.from(text)]);
  };
  const all = Buffer.concat([frame(1, 'out'), frame(2, 'err'), frame(1, 'more')]);
  for (let cut = 0; cut <= all.length; cut++) {
    const reader = new DockerFrameReader();
    const pieces = [...reader.push(all.subarray(0, cut)), ...reader.push(all.subarray(cut))];
    const joined = (s: number) => Buffer.concat(pieces.filter((p) => p.stream === s).map((p) => p.data)).toString();
    t.is(joined(1), 'outmore', `cut at ${cut}`);
    t.is(joined(2), 'err', `cut at ${cut}`);
  }
});
