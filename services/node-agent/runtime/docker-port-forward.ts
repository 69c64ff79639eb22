// Port-forward on the Docker engine: a connection to localhost:PORT inside the pod's network
// namespace, as dockershim made it (nsenter + socat) and containerd does (a dial from inside the
// namespace). Here: a Docker exec in the pod's sandbox of busybox `nc 127.0.0.1 PORT`, its stdin
// and stdout joined to the client's stream over the hijacked exec connection. A server bound to
// 127.0.0.1 in the pod is reachable, as on Kubernetes; the pod IP is never used.
//
// Back-pressure both ways: the client's stream is paused while the exec connection is full, and
// the exec connection is paused while the client's stream is (nc then stops reading the pod's
// socket). The client half-closing reaches nc as EOF on stdin, which half-closes the socket to the
// pod; the pod closing its end ends nc. A client that goes away (reset, session lost) kills nc.
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { connect, type Socket } from 'node:net';

/** Docker's stream multiplexing without a TTY: 1 byte stream (1 stdout, 2 stderr), 3 zero, 4-byte size, payload. */
export class DockerStreamDemuxer {
  private buf: Buffer = Buffer.alloc(0);

  /** Feeds bytes of the exec connection; returns the payloads, in order, with their stream. */
  push(chunk: Buffer): { stream: 'stdout' | 'stderr' | 'stdin'; data: Buffer }[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: { stream: 'stdout' | 'stderr' | 'stdin'; data: Buffer }[] = [];
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const kind = this.buf[0];
      out.push({ stream: kind === 2 ? 'stderr' : kind === 0 ? 'stdin' : 'stdout', data: this.buf.subarray(8, 8 + size) });
      this.buf = this.buf.subarray(8 + size);
    }
    return out;
  }
}

/** The shell line the exec runs: it tells its pid first (so it can be killed), then becomes nc. */
export function portForwardCommand(port: number): string[] {
  return ['sh', '-c', 'echo "$$" >&2; exec nc 127.0.0.1 "$0"', String(port)];
}

/**
 * Kubernetes' wording for a failed connection (containerd's "failed to connect to localhost:PORT
 * inside namespace ...", with Go's dial error), from what busybox nc printed.
 */
export function portForwardFailure(port: number, sandboxId: string, exitCode: number, stderr: string): string {
  const text = stderr.trim();
  const refused = /can't connect to remote host \(([^)]+)\): (.*)$/m.exec(text);
  if (refused) {
    const reason = refused[2].toLowerCase();
    return `failed to connect to localhost:${port} inside namespace "${sandboxId}", IPv4: dial tcp4 ${refused[1]}:${port}: connect: ${reason}`;
  }
  if (/not found|no such file/i.test(text) || exitCode === 127) return 'unable to do port forwarding: nc not found';
  return `port forwarding to localhost:${port} inside namespace "${sandboxId}" failed (exit code ${exitCode})${text ? `: ${text}` : ''}`;
}

/** Splits the pid line the command writes first from what nc writes after it. */
export function splitPidLine(stderr: string): { pid?: number; rest: string } {
  const nl = stderr.indexOf('\n');
  if (nl < 0) return /^\d+$/.test(stderr.trim()) ? { pid: Number(stderr.trim()), rest: '' } : { rest: stderr };
  const first = stderr.slice(0, nl).trim();
  if (!/^\d+$/.test(first)) return { rest: stderr };
  return { pid: Number(first), rest: stderr.slice(nl + 1) };
}

const MAX_STDERR = 8 * 1024;

export async function dockerPortForward(docker: Docker, sandboxId: string, port: number, stream: Duplex): Promise<void> {
  const container = docker.getContainer(sandboxId);
  let exec: Docker.Exec;
  let socket: Socket;
  try {
    exec = await container.exec({ Cmd: portForwardCommand(port), AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
    socket = (await exec.start({ hijack: true, stdin: true })) as unknown as Socket;
  } catch (err) {
    const message = (err as Error).message;
    throw new Error(/executable file not found|no such file/i.test(message) ? 'unable to do port forwarding: sh not found' : message, { cause: err });
  }

  const demux = new DockerStreamDemuxer();
  let stderr = '';
  let clientGone = false;

  // client -> pod
  const onClientData = (chunk: Buffer) => {
    if (!socket.write(chunk)) stream.pause();
  };
  socket.on('drain', () => stream.resume());
  stream.on('data', onClientData);
  stream.once('end', () => socket.end());

  const podDone = new Promise<void>((resolve) => {
    // pod -> client
    socket.on('data', (chunk: Buffer) => {
      // busybox nc reads and writes a few KiB at a time: what one read of the exec connection
      // brings goes on as one write (one SPDY frame, one TLS record) rather than one per nc write.
      const out: Buffer[] = [];
      for (const part of demux.push(chunk)) {
        if (part.stream === 'stderr') {
          if (stderr.length < MAX_STDERR) stderr += part.data.toString('utf8');
        } else if (part.stream === 'stdout') out.push(part.data);
      }
      if (out.length && !clientGone && !stream.write(out.length === 1 ? out[0] : Buffer.concat(out))) {
        socket.pause();
        stream.once('drain', () => socket.resume());
      }
    });
    socket.once('close', () => resolve());
    socket.once('end', () => resolve());
    socket.on('error', () => resolve());
  });
  const clientClosed = new Promise<'client-gone'>((resolve) => {
    stream.once('close', () => {
      // A stream that closes before the pod's side is done was reset or lost.
      clientGone = true;
      resolve('client-gone');
    });
  });

  const first = await Promise.race([podDone.then(() => 'pod-done' as const), clientClosed]);
  stream.off('data', onClientData);
  if (first === 'client-gone') {
    socket.destroy();
    const { pid } = splitPidLine(stderr);
    if (pid) await killInSandbox(container, pid);
    return;
  }
  socket.destroy();
  const info = await exec.inspect().catch(() => undefined);
  const { rest } = splitPidLine(stderr);
  const code = info?.ExitCode ?? 0;
  if (info?.Running) {
    // The connection ended while nc still runs (the engine dropped it): do not leave it behind.
    const { pid } = splitPidLine(stderr);
    if (pid) await killInSandbox(container, pid);
    return;
  }
  if (code !== 0) throw new Error(portForwardFailure(port, sandboxId, code, rest));
}

async function killInSandbox(container: Docker.Container, pid: number): Promise<void> {
  try {
    const kill = await container.exec({ Cmd: ['kill', '-9', String(pid)], AttachStdout: false, AttachStderr: false });
    const s = await kill.start({ hijack: true, stdin: false });
    s.resume();
    await new Promise<void>((resolve) => {
      s.once('end', resolve);
      s.once('close', resolve);
      s.once('error', () => resolve());
    });
  } catch {
    // the sandbox is gone, and nc with it
  }
}

/**
 * A connection to podIP:port from the node, joined to the client's stream with back-pressure both
 * ways; for a pod whose own container has no nc to connect from inside. Kubernetes' wording for a
 * refused connection.
 */
export function forwardToAddress(podIP: string, port: number, stream: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: podIP, port });
    let connected = false;
    socket.setNoDelay(true);
    socket.once('connect', () => {
      connected = true;
      stream.pipe(socket);
      socket.pipe(stream, { end: false }); // the stream is the caller's to close
    });
    stream.once('close', () => socket.destroy());
    socket.once('close', () => resolve());
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (connected) return resolve();
      const reason = err.code === 'ECONNREFUSED' ? 'connection refused' : err.message;
      reject(new Error(`failed to connect to ${podIP}:${port} of the pod, IPv4: dial tcp4 ${podIP}:${port}: connect: ${reason}`));
    });
  });
}
