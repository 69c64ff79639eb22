// kubectl driven through a real pseudo-terminal, as a person at a terminal drives it: script(1)
// gives kubectl a tty of a set size, the test types into it and reads the screen, and resizes it
// from outside (stty -F), which signals kubectl as a terminal window does.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './cluster.ts';

export interface TerminalSession {
  /** Everything the terminal has shown so far (stdout and stderr, with the tty's \r\n). */
  screen(): string;
  /** Types text, as keys (end a command with \r). */
  type(text: string): void;
  /** Waits until the screen matches. */
  see(pattern: RegExp, message: string, timeoutMs?: number): Promise<void>;
  /** Sets the terminal's size, as resizing its window does. */
  resize(rows: number, cols: number): void;
  /** kubectl's exit code once it ends. */
  exited: Promise<number | null>;
  kill(): void;
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

export function kubectlInTerminal(args: string[], options: { kubeconfig: string; cacheDir: string; rows?: number; cols?: number }): TerminalSession {
  const ttyFile = join(mkdtempSync(join(tmpdir(), 'wharf-tty-')), 'tty-name');
  const inner = `tty > ${ttyFile}; stty rows ${options.rows ?? 45} cols ${options.cols ?? 123}; exec kubectl --cache-dir ${shellQuote(options.cacheDir)} ${args.map(shellQuote).join(' ')}`;
  const child = spawn('script', ['-qefc', inner, '/dev/null'], { env: { ...process.env, KUBECONFIG: options.kubeconfig, TERM: 'dumb' } });
  let screen = '';
  child.stdout.on('data', (d) => (screen += d));
  child.stderr.on('data', (d) => (screen += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then((code) => (screen += `[exit ${code}]`));
  return {
    screen: () => screen,
    type: (text) => child.stdin.write(text),
    see: async (pattern, message, timeoutMs = 20_000) => {
      await eventually(() => pattern.test(screen), { timeoutMs, message, detail: () => `screen: ${JSON.stringify(screen)}` });
    },
    resize: (rows, cols) => execFileSync('stty', ['-F', readFileSync(ttyFile, 'utf8').trim(), 'rows', String(rows), 'cols', String(cols)]),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}
