// The deployed source's entry module. In Google Cloud, FUNCTION_TARGET names the one function this
// instance serves (`--entry-point` / Terraform's `entry_point`): only its module is imported, so it loads
// only the clients and native modules it uses (cold start). Without it (the local stack, tests), every
// function is registered with functions-framework.
import { FUNCTIONS } from './catalog.js';

const target = process.env['FUNCTION_TARGET'];
const spec = FUNCTIONS.find((f) => f.entryPoint === target);
if (spec) await import(`./${spec.dir}/index.js`);
else await Promise.all(FUNCTIONS.map((f) => import(`./${f.dir}/index.js`)));
