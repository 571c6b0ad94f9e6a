import type { Handlers } from '../shared/runtime.js';
import type { FunctionSpec, HandlerAt, HandlerName } from './catalog.js';
import { httpFunction } from './http.js';
import { pushFunction } from './push.js';

/** The runtime's handler a declaration names: `fines` → rt.fines, `windows.clicks` → rt.windows.clicks. */
export function handlerAt<P extends HandlerName>(rt: Handlers, name: P): HandlerAt<P> {
  const [group, member] = name.split('.') as [keyof Handlers, string | undefined];
  const handler: unknown = rt[group];
  return (member === undefined ? handler : (handler as Record<string, unknown>)[member]) as HandlerAt<P>;
}

/**
 * Registers the declared functions with functions-framework under their entry points (push → pushFunction,
 * http → httpFunction), each served by the runtime handler its declaration names; with `target` (FUNCTION_TARGET)
 * only that one. First loads what the registered functions preload. Returns the entry points registered.
 */
export async function registerFunctions(catalog: readonly FunctionSpec[], target?: string): Promise<string[]> {
  const chosen = target ? catalog.filter((f) => f.entryPoint === target) : catalog;
  if (chosen.length === 0 && target) {
    throw new Error(
      `FUNCTION_TARGET=${target} is not a declared function (functions/catalog.ts: ${catalog.map((f) => f.entryPoint).join(', ')})`,
    );
  }
  await Promise.all(chosen.map((f) => f.preload?.()));
  for (const f of chosen) {
    if (f.kind === 'push') pushFunction(f.entryPoint, (rt) => handlerAt(rt, f.handler));
    else httpFunction(f.entryPoint, (rt) => handlerAt(rt, f.handler));
  }
  return chosen.map((f) => f.entryPoint);
}
