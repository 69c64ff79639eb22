// The real kubectl binary, run the way the integration tests drive Wharf with it: against one API
// server, with a cache directory of the test's own, and a KUBECONFIG that is never the
// developer's, so nothing outside the test decides where kubectl connects or what it has cached.
import type { ExecutionContext } from 'ava';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { clusterFor, runningClustersLogs } from './cluster.ts';

export interface KubectlOptions {
  /** --server; left out when the kubeconfig names the server. */
  server?: string;
  /** --cache-dir: discovery cached per test, not in ~/.kube. */
  cacheDir?: string;
  /**
   * KUBECONFIG: normally the cluster's (`cluster.kubeconfig`: its CA and the admin token). With
   * --server and a file that does not exist (or /dev/null), the kubeconfig of the running cluster
   * that serves --server is used, so kubectl trusts its CA and sends the admin token.
   */
  kubeconfig: string;
  /** The environment under KUBECONFIG; process.env unless given. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds before kubectl is killed; 60 s unless given. */
  timeout?: number;
  cwd?: string;
  maxBuffer?: number;
}

export interface KubectlRun {
  /** The exit code; 1 when kubectl was killed (timed out) and so has none. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlCall {
  /** Variables for this run only, over the runner's environment (KUBE_EDITOR for `kubectl edit`). */
  env?: Record<string, string>;
  /** Written to kubectl's stdin, for `-f -`. */
  input?: string;
}

export interface Kubectl {
  /** Runs kubectl to its exit; resolves whatever the exit code, for tests assert on failures too. */
  (args: string[], call?: KubectlCall): Promise<KubectlRun>;
  /** kubectl left running (logs -f, get -w), with the same flags and environment and no timeout. */
  spawn(args: string[]): ChildProcessWithoutNullStreams;
}

/**
 * A kubectl runner. Options may be a function, read on every run, for what a test only knows once
 * its test.before has started the cluster (the API server's URL).
 */
export function kubectlRunner(options: KubectlOptions | (() => KubectlOptions)): Kubectl {
  const resolve = typeof options === 'function' ? options : () => options;
  const argv = (o: KubectlOptions, args: string[]) => [
    ...(o.server !== undefined ? ['--server', o.server] : []),
    ...(o.cacheDir !== undefined ? ['--cache-dir', o.cacheDir] : []),
    ...args,
  ];
  const kubeconfigOf = (o: KubectlOptions) => {
    if (o.server === undefined || (o.kubeconfig !== '/dev/null' && existsSync(o.kubeconfig))) return o.kubeconfig;
    return clusterFor(o.server)?.kubeconfig ?? o.kubeconfig;
  };
  const envOf = (o: KubectlOptions, extra: Record<string, string> = {}) => ({ ...(o.env ?? process.env), KUBECONFIG: kubeconfigOf(o), ...extra });

  const run = (args: string[], call: KubectlCall = {}): Promise<KubectlRun> => {
    const o = resolve();
    return new Promise((done) => {
      const child = execFile(
        'kubectl',
        argv(o, args),
        { env: envOf(o, call.env), timeout: o.timeout ?? 60_000, ...(o.cwd !== undefined && { cwd: o.cwd }), ...(o.maxBuffer !== undefined && { maxBuffer: o.maxBuffer }) },
        (err, stdout, stderr) => done({ code: err ? ((err as any).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
      );
      if (call.input !== undefined) child.stdin!.end(call.input);
    });
  };
  return Object.assign(run, {
    spawn(args: string[]): ChildProcessWithoutNullStreams {
      const o = resolve();
      return spawn('kubectl', argv(o, args), { env: envOf(o) });
    },
  });
}

/** Assertions whose messages name the command line, for a file of many kubectl calls. */
export function kubectlAssertions(kubectl: Kubectl) {
  return {
    /** Exit 0, else a message with stderr, which says why; resolves stdout. */
    async ok(t: ExecutionContext, ...args: string[]): Promise<string> {
      const r = await kubectl(args);
      if (r.code !== 0) t.log(runningClustersLogs());
      t.is(r.code, 0, `kubectl ${args.join(' ')}\n${r.stderr}`);
      return r.stdout;
    },
    /** Exit 1, else a message with stdout, what kubectl did instead; resolves stderr (the error to check). */
    async fails(t: ExecutionContext, ...args: string[]): Promise<string> {
      const r = await kubectl(args);
      t.is(r.code, 1, `kubectl ${args.join(' ')} should fail\n${r.stdout}`);
      return r.stderr;
    },
  };
}
