// The deployed source's entry module. In Google Cloud, FUNCTION_TARGET names the one function this
// instance serves (`--entry-point` / Terraform's `entry_point`): only its module is imported, so it loads
// only the clients and native modules it uses (cold start). Without it (the local stack, tests), every
// function is registered with functions-framework.

/** Each function's module by entry point (functions/catalog.ts; a test keeps the two in step). */
export const FUNCTION_MODULES: Record<string, () => Promise<unknown>> = {
  vehicleObservations: () => import('./vehicle-observations/index.js'),
  fines: () => import('./fines/index.js'),
  clickEvents: () => import('./click-events/index.js'),
  transactions: () => import('./transactions/index.js'),
  userRegistrations: () => import('./user-registrations/index.js'),
  review: () => import('./review/index.js'),
  deadLetters: () => import('./dead-letters/index.js'),
  flush: () => import('./flush/index.js'),
};

const target = process.env['FUNCTION_TARGET'];
const only = target ? FUNCTION_MODULES[target] : undefined;
if (only) await only();
else await Promise.all(Object.values(FUNCTION_MODULES).map((load) => load()));
