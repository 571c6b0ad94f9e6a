import type { Server } from 'node:http';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { loadConfig } from '../shared/config.js';
import { createLogger, parseSeverity } from '../shared/core/logger.js';
import { createRuntime, setRuntime } from '../shared/runtime.js';

/** What a function process reports to the stack when asked (IPC): its own CPU time and Firestore operations. */
export interface InstanceReport {
  pid: number;
  /** process CPU time (user + system) since start, ms */
  cpuMs: number;
  ops: { reads: number; writes: number; deletes: number; transactions: number };
  windowOps: { reads: number; writes: number; deletes: number; transactions: number };
  /** transient faults injected (SPEEDCAM_FAULTS), by fault point */
  faults: Record<string, number>;
  /** the speed path's operations by what they were for */
  passageOpsByKind: Record<string, { reads: number; writes: number; deletes: number; transactions: number }>;
}

/**
 * A function server process of the local stack (one instance of a function, as Cloud Run runs it):
 * serves the named functions (one port each, 127.0.0.1; 0 = a free one), configured from the environment like a deployed
 * instance. Prints `LISTENING {"name":"url"}` once ready; stops on SIGTERM. When started with an IPC
 * channel it answers `{type:"report"}` with an InstanceReport. Usage: serve-functions.js <entryPoint>=<port> …
 */
async function main(): Promise<void> {
  const runtime = createRuntime(loadConfig(process.env), {
    logger: createLogger({ component: 'functions', minSeverity: parseSeverity(process.env['LOG_LEVEL'], 'DEBUG') }),
  });
  setRuntime(runtime);
  await import('../functions/index.js');
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  for (const arg of process.argv.slice(2)) {
    const [name, portText] = arg.split('=');
    const server = await getTestServer(name!);
    // Idle keep-alive connections outlive the dispatcher's (60 s): it closes them first, so it never
    // sends a request on a connection this server is closing (node's default closes after 5 s idle,
    // and the seed generator pauses up to 10 s).
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(Number(portText), '127.0.0.1', () => res());
    });
    servers.push(server);
    const address = server.address();
    urls[name!] = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : Number(portText)}`;
  }
  process.on('message', (m: { type?: string; id?: number }) => {
    if (m?.type !== 'report' || !process.send) return;
    const cpu = process.cpuUsage();
    const report: InstanceReport = {
      pid: process.pid,
      cpuMs: (cpu.user + cpu.system) / 1000,
      ops: runtime.ops.snapshot(),
      windowOps: runtime.windowOps.snapshot(),
      faults: Object.fromEntries(runtime.faults.injected),
      passageOpsByKind: runtime.stores.passageStorage.opsByKind,
    };
    process.send({ type: 'report', id: m.id, report });
  });
  process.stdout.write(`LISTENING ${JSON.stringify(urls)}\n`);
  const stop = async () => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await runtime.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // The stack went away without stopping us (killed): do not linger.
  process.on('disconnect', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`serve-functions: ${String(err)}\n`);
  process.exit(1);
});
