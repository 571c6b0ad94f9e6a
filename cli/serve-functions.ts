import type { Server } from 'node:http';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { createRuntime, setRuntime } from '../shared/runtime.js';

/**
 * A function server process of the local stack: serves the named functions (one port each, 127.0.0.1),
 * configured from the environment like a deployed instance. Prints `LISTENING {"name":"url"}` once
 * ready; stops on SIGTERM. Usage: serve-functions.js <entryPoint>=<port> …
 */
async function main(): Promise<void> {
  const runtime = createRuntime(loadConfig(process.env), { logger: createLogger({ component: 'functions', minSeverity: 'DEBUG' }) });
  setRuntime(runtime);
  await import('../functions/index.js');
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  for (const arg of process.argv.slice(2)) {
    const [name, portText] = arg.split('=');
    const server = await getTestServer(name!);
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(Number(portText), '127.0.0.1', () => res());
    });
    servers.push(server);
    urls[name!] = `http://127.0.0.1:${Number(portText)}`;
  }
  process.stdout.write(`LISTENING ${JSON.stringify(urls)}\n`);
  const stop = async () => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await runtime.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`serve-functions: ${String(err)}\n`);
  process.exit(1);
});
