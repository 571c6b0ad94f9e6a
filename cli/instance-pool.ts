import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startDispatcher, type DispatchStrategy, type InstanceLoad } from './dispatcher.js';
import type { InstanceReport } from './serve-functions.js';

/** One instance as the stack sees it: its process, the load the dispatcher gave it and what it reports. */
export interface InstanceStats extends InstanceLoad {
  index: number;
  pid: number | null;
  /** times this instance's process was killed and restarted */
  restarts: number;
  /** null when the process could not answer (down, or killed) */
  report: InstanceReport | null;
  /** reports of this slot's earlier processes, killed since (their CPU and operations still count) */
  earlier: InstanceReport[];
}

export interface InstancePool {
  entryPoint: string;
  url: string;
  size: number;
  /**
   * SIGKILLs instance `index` (a random one that is up when omitted), waits downMs, starts a new process in
   * its place; resolves with the index once it is back (-1 when no instance was up to kill)
   */
  crash(downMs: number, index?: number): Promise<number>;
  stats(): Promise<InstanceStats[]>;
  stop(): Promise<void>;
}

interface Instance {
  child: ChildProcess | null;
  restarts: number;
  /** last report of the current process (kept so a kill does not lose its figures) */
  last: InstanceReport | null;
  earlier: InstanceReport[];
}

const START_PARALLEL = 4;

/**
 * A function served as Cloud Run serves it: `size` processes (cli/serve-functions.js, one instance each)
 * behind a dispatcher (cli/dispatcher.ts) that spreads requests over them. Needs the compiled build (dist/).
 */
export async function startInstancePool(opts: {
  entryPoint: string;
  size: number;
  concurrency: number;
  port: number;
  strategy?: DispatchStrategy;
  log: WriteStream;
  env?: NodeJS.ProcessEnv;
}): Promise<InstancePool> {
  const dispatcher = await startDispatcher({
    port: opts.port,
    instances: opts.size,
    concurrency: opts.concurrency,
    strategy: opts.strategy,
  });
  const instances: Instance[] = [];
  try {
    // A few at a time: sixteen Node processes loading their modules at once starve a 2-core machine.
    for (let i = 0; i < opts.size; i += START_PARALLEL) {
      const started = await Promise.allSettled(
        Array.from({ length: Math.min(START_PARALLEL, opts.size - i) }, () => startFunctionProcess(opts.entryPoint, opts.log, opts.env)),
      );
      for (const r of started) {
        if (r.status !== 'fulfilled') continue;
        dispatcher.up(instances.length, r.value.url);
        instances.push({ child: r.value.child, restarts: 0, last: null, earlier: [] });
      }
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } catch (err) {
    await Promise.all(instances.map((x) => (x.child ? stopChild(x.child) : undefined)));
    await dispatcher.close();
    throw err;
  }

  const refresh = async (x: Instance) => {
    if (!x.child) return null;
    const r = await askReport(x.child);
    if (r) x.last = r;
    return r;
  };

  return {
    entryPoint: opts.entryPoint,
    url: dispatcher.url,
    size: opts.size,
    async crash(downMs, index) {
      const up = instances.map((x, k) => (x.child ? k : -1)).filter((k) => k >= 0);
      const i = index ?? up[Math.floor(Math.random() * up.length)] ?? -1;
      const x = instances[i];
      if (!x?.child) return -1; // down already (a crash in progress)
      await refresh(x).catch(() => undefined);
      dispatcher.down(i);
      const child = x.child;
      x.child = null;
      if (x.last) x.earlier.push(x.last);
      x.last = null;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await gone;
      await new Promise((r) => setTimeout(r, downMs));
      // A restart that fails (a busy machine) is tried again: Cloud Run replaces a crashed instance too.
      for (let attempt = 1; ; attempt++) {
        try {
          const { child: next, url } = await startFunctionProcess(opts.entryPoint, opts.log, opts.env);
          x.child = next;
          x.restarts++;
          dispatcher.up(i, url);
          return i;
        } catch (err) {
          if (attempt >= 3) throw err;
        }
      }
    },
    async stats() {
      const load = dispatcher.load();
      return Promise.all(
        instances.map(async (x, i) => ({
          index: i,
          pid: x.child?.pid ?? null,
          restarts: x.restarts,
          ...load[i]!,
          report: await refresh(x).catch(() => null),
          earlier: [...x.earlier],
        })),
      );
    },
    async stop() {
      await dispatcher.close();
      await Promise.all(instances.map((x) => (x.child ? stopChild(x.child) : undefined)));
    },
  };
}

let reportSeq = 0;
/** Asks a function process for its report over IPC; null if it does not answer within 2 s. */
function askReport(child: ChildProcess): Promise<InstanceReport | null> {
  if (!child.connected) return Promise.resolve(null);
  const id = ++reportSeq;
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(null), 2000);
    const onMessage = (m: { type?: string; id?: number; report?: InstanceReport }) => {
      if (m?.type === 'report' && m.id === id) done(m.report ?? null);
    };
    const done = (r: InstanceReport | null) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(r);
    };
    child.on('message', onMessage);
    try {
      child.send({ type: 'report', id });
    } catch {
      done(null);
    }
  });
}

/**
 * The compiled function server: next to this module when it runs compiled (dist/cli), else (tests run the
 * TypeScript sources) the build's copy under dist/.
 */
function serveScript(): string {
  const here = fileURLToPath(new URL('./serve-functions.js', import.meta.url));
  return existsSync(here) ? here : join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'serve-functions.js');
}

/**
 * Starts cli/serve-functions.js for one function on a port the system picks (no clash with anything else
 * on the machine); resolves with its URL once it listens. Its logs go to the stack log.
 */
export async function startFunctionProcess(
  entryPoint: string,
  log: WriteStream,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; url: string }> {
  const script = serveScript();
  if (!existsSync(script)) throw new Error(`cannot serve ${entryPoint} in its own process: ${script} is not built (run npm run build)`);
  const child = spawn(process.execPath, [script, `${entryPoint}=0`], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  // Every function's process at the same priority: the fines' OCR at nice 10 or 5 (as until 2026-12-07) made
  // both its own tail and the decisions' slower in the demo (docs/benchmarks.md).
  child.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
  const lines = createInterface({ input: child.stdout! });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${entryPoint} server did not start within 90 s`)), 90_000);
      child.once('exit', (code) => reject(new Error(`${entryPoint} server exited with ${code} during start-up`)));
      lines.on('line', (line) => {
        if (line.startsWith('LISTENING ')) {
          clearTimeout(timer);
          resolve((JSON.parse(line.slice('LISTENING '.length)) as Record<string, string>)[entryPoint]!);
        } else log.write(line + '\n');
      });
    });
    return { child, url };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}
