import type { AddressInfo } from 'node:net';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll } from 'vitest';
import { setRuntime } from '../../shared/runtime.js';

/** One registered functions-framework target served on a free 127.0.0.1 port (the framework's own server listens on all). */
export async function serveFunction(target: string): Promise<{ base: string; close: () => Promise<void> }> {
  const server = await getTestServer(target);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/**
 * Serves `target` for this test file: `register` (which imports or declares the function, and may set the runtime)
 * runs first; after the file the server is closed and the runtime unset.
 */
export function useFunctionServer(target: string, register: () => unknown): { base: () => string } {
  let served: Awaited<ReturnType<typeof serveFunction>> | undefined;
  beforeAll(async () => {
    await register();
    served = await serveFunction(target);
  });
  afterAll(async () => {
    setRuntime(undefined);
    await served?.close();
  });
  return { base: () => served?.base ?? '' };
}
