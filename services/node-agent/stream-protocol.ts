// The remote-command protocol of exec and attach over WebSocket, as the kubelet speaks it
// (KEP-4006; k8s.io/apimachinery/pkg/util/httpstream/wsstream, k8s.io/apimachinery/pkg/util/
// remotecommand, kubelet's cri streaming server): each binary message starts with its channel's
// byte — 0 stdin, 1 stdout, 2 stderr, 3 error (a Status, once, at the end), 4 resize (JSON
// {Width, Height}) — and v5 adds a message on channel 255 whose byte names a stream the client
// closes (stdin: the process sees end of input). Pure: the agent's adapter (streams.ts) does the I/O.

/** The subprotocols served, newest first. v4 has no stdin close; older ones write no Status. */
export const STREAM_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5: the client closes the stream named by the next byte. */
export const CLOSE = 255;

/** The subprotocol to speak: the first the client offers that the agent serves (wsstream's handshake). */
export function chooseStreamProtocol(offered: Iterable<string>): string | undefined {
  for (const p of offered) if ((STREAM_PROTOCOLS as readonly string[]).includes(p)) return p;
  return undefined;
}

/** A message for a channel: its byte, then the data. */
export function channelMessage(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  body.copy(out, 1);
  return out;
}

export type ClientMessage =
  | { type: 'stdin'; data: Buffer }
  | { type: 'resize'; width: number; height: number }
  | { type: 'close'; channel: number }
  | { type: 'ignored' };

/** What a message from the client says. A malformed resize or an empty message is ignored, as the kubelet ignores them. */
export function parseClientMessage(message: Buffer, protocol: string): ClientMessage {
  if (message.length === 0) return { type: 'ignored' };
  const data = message.subarray(1);
  switch (message[0]) {
    case STDIN:
      return { type: 'stdin', data };
    case RESIZE: {
      try {
        const size = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
        const width = Number(size.Width);
        const height = Number(size.Height);
        if (Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0 && width <= 0xffff && height <= 0xffff) return { type: 'resize', width, height };
      } catch {
        // ignored below
      }
      return { type: 'ignored' };
    }
    case CLOSE:
      return protocol === 'v5.channel.k8s.io' && data.length >= 1 ? { type: 'close', channel: data[0] } : { type: 'ignored' };
    default:
      return { type: 'ignored' };
  }
}

/** The streams a request asks for (PodExecOptions / PodAttachOptions from the query). */
export interface StreamOptions {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const truthy = (v: string | null) => v !== null && v !== '0' && v.toLowerCase() !== 'false';

/**
 * The options of an exec or attach request, as the kubelet reads them (remotecommand's
 * NewOptions): at least one stream; with a tty, stderr is merged into stdout, so it is off.
 */
export function streamOptions(query: URLSearchParams, kind: 'exec' | 'attach'): StreamOptions | { error: string } {
  const tty = truthy(query.get('tty'));
  const options = { command: query.getAll('command'), stdin: truthy(query.get('stdin')), stdout: truthy(query.get('stdout')), stderr: truthy(query.get('stderr')) && !tty, tty };
  if (!options.stdin && !options.stdout && !truthy(query.get('stderr'))) return { error: 'you must specify at least 1 of stdin, stdout, stderr' };
  if (kind === 'exec' && options.command.length === 0) return { error: 'you must specify a command' };
  return options;
}

/** A Status as the error channel carries it (metav1.Status without its type meta, as the kubelet writes it). */
export interface StreamStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes: { reason: string; message: string }[] };
}

/** The Status that ends an exec: Success, or NonZeroExitCode whose ExitCode cause kubectl exits with. */
export function exitStatus(command: string[], exitCode: number): StreamStatus {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: command '${command.join(' ')}' exited with ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** The Status of an attach that ended (the container's output closed) or of anything that succeeded without an exit code. */
export function successStatus(): StreamStatus {
  return { metadata: {}, status: 'Success' };
}

/** The Status of a stream the runtime could not run (apierrors.NewInternalError, as the kubelet writes it). */
export function internalErrorStatus(message: string): StreamStatus {
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', code: 500, details: { causes: [{ reason: '', message }] } };
}

/**
 * The exit code of an exec the engine could not start, from the message Docker writes in its
 * place ("OCI runtime exec failed: ... executable file not found"), as a shell and the docker CLI
 * give it: 127 for a command that is not there, 126 for one that cannot be run; undefined for
 * output that is the command's own.
 */
export function execStartFailure(firstOutput: string): 126 | 127 | undefined {
  if (!firstOutput.startsWith('OCI runtime exec failed')) return undefined;
  return /executable file not found|no such file or directory/i.test(firstOutput) ? 127 : 126;
}

/**
 * Docker's multiplexed stream (a container without a tty): frames of an 8-byte header — the
 * stream (1 stdout, 2 stderr), three zero bytes, the payload's length as a big-endian uint32 —
 * then the payload. Feed chunks as they come; complete payloads come out, a frame split across
 * chunks included, never more than one chunk's worth held.
 */
export class DockerFrameReader {
  private header = Buffer.alloc(8);
  private headerHave = 0;
  private remaining = 0;
  private stream = 1;

  /** The payload pieces in this chunk, each with its stream (1 stdout, 2 stderr). */
  push(chunk: Buffer): { stream: number; data: Buffer }[] {
    const out: { stream: number; data: Buffer }[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(8 - this.headerHave, chunk.length - i);
        chunk.copy(this.header, this.headerHave, i, i + take);
        this.headerHave += take;
        i += take;
        if (this.headerHave < 8) break;
        this.headerHave = 0;
        this.stream = this.header[0];
        this.remaining = this.header.readUInt32BE(4);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - i);
      out.push({ stream: this.stream, data: chunk.subarray(i, i + take) });
      this.remaining -= take;
      i += take;
    }
    return out;
  }
}
