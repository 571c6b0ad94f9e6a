import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A running emulator: started by us (pid set, stop() kills it) or found already running (pid null). */
export interface Emulator {
  name: 'pubsub' | 'firestore';
  host: string;
  pid: number | null;
  stop(): Promise<void>;
}

export function sdkRoot(): string {
  const fromEnv = process.env['CLOUDSDK_ROOT_DIR'];
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const guess of ['/usr/lib/google-cloud-sdk', '/usr/share/google-cloud-sdk', '/opt/google-cloud-sdk']) {
    if (existsSync(join(guess, 'platform'))) return guess;
  }
  try {
    return execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'Google Cloud SDK not found: install it with the pubsub-emulator and cloud-firestore-emulator components, or set CLOUDSDK_ROOT_DIR',
    );
  }
}

export async function isUp(host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts the emulator's Java process directly (one PID, its own process group) on 127.0.0.1, unless
 * one already answers on that port, in which case it is reused and left running.
 */
export async function ensureEmulator(
  name: 'pubsub' | 'firestore',
  port: number,
  opts: { logDir?: string; readyTimeoutMs?: number } = {},
): Promise<Emulator> {
  const host = `127.0.0.1:${port}`;
  if (await isUp(host)) return { name, host, pid: null, stop: async () => {} };
  const sdk = sdkRoot();
  const [cmd, args] =
    name === 'pubsub'
      ? [join(sdk, 'platform/pubsub-emulator/bin/cloud-pubsub-emulator'), ['--host=127.0.0.1', `--port=${port}`]]
      : [
          'java',
          [
            '-cp',
            join(sdk, 'platform/cloud-firestore-emulator/cloud-firestore-emulator.jar'),
            'com.google.cloud.datastore.emulator.firestore.CloudFirestore',
            'start',
            '--host=127.0.0.1',
            `--port=${port}`,
          ],
        ];
  if (!existsSync(cmd) && cmd !== 'java')
    throw new Error(`${name} emulator not installed at ${cmd}: run "gcloud components install pubsub-emulator"`);
  let out: number | 'ignore' = 'ignore';
  if (opts.logDir) {
    mkdirSync(opts.logDir, { recursive: true });
    out = openSync(join(opts.logDir, `${name}-emulator.log`), 'a');
  }
  const child: ChildProcess = spawn(cmd, args as string[], { detached: true, stdio: ['ignore', out, out] });
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (!(await isUp(host))) {
    if (exited) throw new Error(`${name} emulator exited during start-up${opts.logDir ? `; see ${opts.logDir}/${name}-emulator.log` : ''}`);
    if (Date.now() > deadline) {
      killGroup(child.pid!);
      throw new Error(`${name} emulator did not answer on ${host} within ${(opts.readyTimeoutMs ?? 60_000) / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name,
    host,
    pid: child.pid!,
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      killGroup(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Wipes all Firestore emulator data of a project. */
export async function resetFirestore(host: string, project: string): Promise<void> {
  await fetch(`http://${host}/emulator/v1/projects/${project}/databases/(default)/documents`, { method: 'DELETE' });
}
