import { mkdtempSync, rmSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { deploySteps, names, render } from '../../../cli/deploy.js';
import { FUNCTIONS, PUSH_FUNCTIONS, terraformCatalog, type FunctionSpec, type PushFunctionSpec } from '../../../functions/catalog.js';
import { handlerAt, registerFunctions } from '../../../functions/register.js';
import { loadConfig } from '../../../shared/config.js';
import type { InboundMessage } from '../../../shared/core/pubsub-message.js';
import { setRuntime, type Runtime } from '../../../shared/runtime.js';
import { deployOptions } from '../../support/deploy-options.js';
import { serveFunction } from '../../support/function-server.js';
import { systemFromDeploy, systemFromTerraform } from '../../support/system-model.js';

/**
 * A function is declared once, in functions/catalog.ts: the entry module's registrations, Terraform's
 * functions.json and the gcloud deploy commands all follow from the list. A declaration added to a copy of
 * the list (no other file touched) is registered, served by the handler it names, deployed by both paths.
 */
const config = loadConfig({});
const temps: string[] = [];
afterAll(() => {
  setRuntime(undefined);
  temps.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const registrations = FUNCTIONS.find((f): f is PushFunctionSpec => f.entryPoint === 'userRegistrations')!;
const preloaded: string[] = [];
/** A new function: its own name, entry point and account, served by an existing handler. */
const auditLog: PushFunctionSpec = {
  ...registrations,
  name: 'audit-log',
  entryPoint: 'auditLog',
  account: 'audit-log',
  preload: async () => void preloaded.push('auditLog'),
};
const catalog: readonly FunctionSpec[] = [...FUNCTIONS, auditLog];

const options = deployOptions();

const pushBody = (data: string) => ({
  message: { data: Buffer.from(data).toString('base64'), attributes: {}, messageId: '7', publishTime: '2026-11-22T11:00:00Z' },
  subscription: 'projects/my-proj/subscriptions/speedcam-audit-log',
});

describe('the deployed entry module (functions/index.ts)', () => {
  it('registers every declared function under its entry point, and only those', async () => {
    const { REGISTERED } = await import('../../../functions/index.js');
    expect(REGISTERED).toEqual(FUNCTIONS.map((f) => f.entryPoint));
    for (const f of FUNCTIONS) expect(getFunction(f.entryPoint), f.entryPoint).toBeTypeOf('function');
    expect(getFunction('auditLog')).toBeUndefined();
  });

  it('each push function answers a request that is no delivery with 400, before any handler work', async () => {
    await import('../../../functions/index.js');
    for (const spec of PUSH_FUNCTIONS) {
      const s = await serveFunction(spec.entryPoint);
      const res = await fetch(`${s.base}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status, spec.entryPoint).toBe(400);
      await s.close();
    }
  });

  it('names each handler by a path the runtime resolves (a window pipeline as windows.<name>)', () => {
    const rt = { fines: { f: 1 }, windows: { clicks: { c: 1 }, transactions: { t: 1 } } } as unknown as Runtime;
    expect(handlerAt(rt, 'fines')).toBe(rt.fines);
    expect(handlerAt(rt, 'windows.clicks')).toBe(rt.windows.clicks);
    expect(FUNCTIONS.find((f) => f.entryPoint === 'clickEvents')!.handler).toBe('windows.clicks');
  });
});

describe('a function added to the catalog, and nothing else', () => {
  it('is registered alone when FUNCTION_TARGET names it, after its preload, and served by the handler it names', async () => {
    expect(await registerFunctions(catalog, 'auditLog')).toEqual(['auditLog']);
    expect(preloaded).toEqual(['auditLog']);
    const received: InboundMessage[] = [];
    setRuntime({
      clock: { now: () => Date.parse('2026-11-22T12:00:00Z') },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      registrations: { handle: async (m: InboundMessage) => void received.push(m) },
    } as unknown as Runtime);
    const s = await serveFunction('auditLog');
    try {
      const res = await fetch(`${s.base}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(pushBody('{"results":[]}')),
      });
      expect(res.status).toBe(204);
      expect(received.map((m) => [m.messageId, m.data.toString()])).toEqual([['7', '{"results":[]}']]);
    } finally {
      await s.close();
      setRuntime(undefined);
    }
  });

  it('is registered with every other one without FUNCTION_TARGET; a target no declaration has is refused', async () => {
    expect(await registerFunctions(catalog)).toEqual(catalog.map((f) => f.entryPoint));
    await expect(registerFunctions(catalog, 'nope')).rejects.toThrow(/FUNCTION_TARGET=nope is not a declared function/);
  });

  it("has its entry in Terraform's JSON and its gcloud commands, and both paths create the same function", async () => {
    const tf = terraformCatalog(catalog);
    expect(tf.functions['audit-log']).toMatchObject({
      entry_point: 'auditLog',
      trigger: 'user_registrations',
      ingress: 'internal',
      account: 'audit-log',
      concurrency: registrations.concurrency,
    });
    expect(Object.keys(tf.functions)).toEqual(catalog.map((f) => f.name));

    const steps = deploySteps(options, config, catalog);
    const script = steps.map(render).join('\n');
    expect(script).toMatch(/^gcloud functions deploy speedcam-audit-log .*--entry-point=auditLog /m);
    expect(script).toMatch(/^gcloud pubsub subscriptions create speedcam-audit-log .*--topic=\S*user-registrations/m);
    expect(script.match(/^gcloud functions deploy /gm)).toHaveLength(catalog.length);
    // Without the declaration there is none of it.
    expect(deploySteps(options, config).map(render).join('\n')).not.toContain('audit-log');

    // Terraform reading this catalog's JSON creates what the commands create.
    const root = mkdtempSync(join(tmpdir(), 'speedcam-catalog-'));
    temps.push(root);
    cpSync('terraform', join(root, 'terraform'), { recursive: true });
    cpSync('schemas', join(root, 'schemas'), { recursive: true });
    writeFileSync(join(root, 'terraform', 'functions.json'), JSON.stringify(tf, null, 2));
    const vars = { project_id: options.project, region: options.region, name_prefix: options.prefix, firestore_database: 'create' };
    const fromTf = await systemFromTerraform(join(root, 'terraform'), vars);
    const fromGcloud = systemFromDeploy(steps, options.project);
    const n = names(options.project, options.prefix, options.region);
    expect(Object.keys(fromTf.functions)).toContain(n.function(auditLog));
    expect(fromTf.subscriptions[n.subscription(auditLog)]).toBeDefined();
    for (const key of ['functions', 'subscriptions', 'serviceAccounts', 'grants'] as const)
      expect(fromGcloud[key], key).toEqual(fromTf[key]);
  });
});
