// The deployed source's entry module (package.json "main"). In Google Cloud, FUNCTION_TARGET names the one
// function this instance serves (`--entry-point` / Terraform's `entry_point`): only it is registered and only
// what it preloads is imported; its handler is built on its first request, so it loads only the clients and
// native modules it uses (cold start; `npm run bench:cold-start`). Without it (the local stack, tests), every
// declared function is registered with functions-framework.
import { FUNCTIONS } from './catalog.js';
import { registerFunctions } from './register.js';

/** The entry points this process registered (functions/catalog.ts's, or FUNCTION_TARGET's alone). */
export const REGISTERED = await registerFunctions(FUNCTIONS, process.env['FUNCTION_TARGET']);
