import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The import rule of shared/, read from the source files:
 * - core/ (config-free helpers: clock, logger, faults, hashing, the payload prelude, the message
 *   envelope, the settings declarations' helper and the shared settings) imports nothing of ours outside core/;
 * - contracts/ (every topic's name and message schema, docs/contracts.md) imports only core/ (and zod): a
 *   topic's producer and its consumer both import it, so it never imports either;
 * - export/ (the flush loop, the exporter and warehouse ports, the export's settings) and dead-letters/
 *   import core/ and contracts/; dead-letters/ may also use export/'s ports;
 * - a product (speed/, fines/, windows/, registrations/) imports its own folder, contracts/, core/, dead-letters/
 *   and export/: never another product, never platform/, never the runtime, never config.ts (each declares
 *   its settings in its own settings.ts and reads their type; the runtime hands it the whole Config);
 * - platform/ holds the adapters: each implements a product's or export/'s port, so it may import
 *   those, but never the runtime;
 * - review/ (a person's decision on a held fine) is the fines' second stage: a product that may also use fines/;
 * - config.ts composes the products' settings (it imports their settings.ts), never platform/ or the runtime;
 * - runtime.ts wires everything and may import anything.
 * functions/ reach shared/ through the runtime, config.ts, the topics, the message envelope and the pipelines' declarations.
 */
const PRODUCTS = ['speed', 'fines', 'windows', 'registrations'];
const ALLOWED: Record<string, readonly string[]> = {
  core: ['core'],
  contracts: ['contracts', 'core'],
  export: ['export', 'contracts', 'core'],
  'dead-letters': ['dead-letters', 'contracts', 'core', 'export'],
  ...Object.fromEntries(PRODUCTS.map((p) => [p, [p, 'contracts', 'core', 'dead-letters', 'export']])),
  review: ['review', 'fines', 'contracts', 'core', 'dead-letters', 'export'],
  platform: ['platform', 'contracts', 'core', 'dead-letters', 'export', 'config', 'review', ...PRODUCTS],
  config: ['config', 'contracts', 'core', 'export', 'review', ...PRODUCTS],
  runtime: ['runtime', 'config', 'contracts', 'core', 'dead-letters', 'export', 'platform', 'review', ...PRODUCTS],
};

/** shared/<folder>/… → folder; shared/config.ts → config; shared/runtime.ts → runtime; outside shared/ → null. */
export function part(file: string): string | null {
  const rel = relative(resolve('shared'), resolve(file)).split(/[\\/]/);
  if (rel[0] === '..') return null;
  return rel.length === 1 ? rel[0]!.replace(/\.ts$/, '') : rel[0]!;
}

/** The folders a file imports from against the rule: each "from → to (specifier)" that breaks it. */
export function violations(file: string, source: string): string[] {
  const from = part(file);
  if (from === null) return [];
  const allowed = ALLOWED[from];
  if (!allowed) return [`${file}: shared/${from} is in no rule; add it to the layout test`];
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map((i) => i.fileName)
    .filter((spec) => spec.startsWith('.'))
    .flatMap((spec) => {
      const to = part(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      return to !== null && !allowed.includes(to) ? [`${file}: ${from} → ${to} (${spec})`] : [];
    });
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the layout of shared/', () => {
  it('no module imports a sibling product, platform/ or the runtime except as the rule above says', () => {
    const files = tsFiles('shared');
    expect(files.length).toBeGreaterThan(40);
    expect(files.flatMap((f) => violations(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('the check sees a break of the rule (a product reaching into another or config, core reaching out, a product into platform)', () => {
    expect(violations('shared/speed/x.ts', "import { issueFine } from '../fines/fine.js';")).toEqual([
      'shared/speed/x.ts: speed → fines (../fines/fine.js)',
    ]);
    expect(violations('shared/core/x.ts', "import type { Config } from '../config.js';")).toHaveLength(1);
    // products read their own settings' type, never the composed configuration (not even a type)
    expect(violations('shared/speed/x.ts', "import type { Config } from '../config.js';")).toEqual([
      'shared/speed/x.ts: speed → config (../config.js)',
    ]);
    expect(violations('shared/review/x.ts', "import type { ReviewSettings } from './settings.js';")).toEqual([]);
    expect(violations('shared/export/x.ts', "export { FLUSH_TIMEOUT_S } from '../config.js';")).toHaveLength(1);
    expect(violations('shared/windows/pipelines/x.ts', "export { a } from '../../platform/firestore/window-store.js';")).toHaveLength(1);
    expect(violations('shared/fines/x.ts', "import { z } from 'zod';\nimport { Rejection } from '../core/rejection.js';")).toEqual([]);
    expect(violations('shared/contracts/x.ts', "import type { PassageDecision } from '../speed/passage.js';")).toEqual([
      'shared/contracts/x.ts: contracts → speed (../speed/passage.js)',
    ]);
    expect(violations('shared/speed/x.ts', "import { speedingVehicle } from '../contracts/speeding-vehicle.js';")).toEqual([]);
  });

  it('contracts/ imports nothing from outside the project but zod', () => {
    const bare = tsFiles('shared/contracts').flatMap((f) =>
      ts
        .preProcessFile(readFileSync(f, 'utf8'), true, true)
        .importedFiles.map((i) => i.fileName)
        .filter((spec) => !spec.startsWith('.'))
        .map((spec) => `${f}: ${spec}`),
    );
    expect(bare.filter((b) => !b.endsWith(': zod'))).toEqual([]);
    expect(bare.length).toBeGreaterThan(3);
  });

  it('function modules reach shared/ through the runtime, the message envelope, the declarations and core names', () => {
    const reach = tsFiles('functions').flatMap((f) =>
      ts
        .preProcessFile(readFileSync(f, 'utf8'), true, true)
        .importedFiles.map((i) => relative(resolve('.'), resolve(dirname(f), i.fileName)))
        .filter((p) => p.startsWith('shared/')),
    );
    // the catalog's fines declaration preloads the fine module, so its image code loads at start, not on the first delivery.
    expect(new Set(reach)).toEqual(
      new Set([
        'shared/runtime.js',
        'shared/config.js',
        'shared/contracts/topics.js',
        'shared/core/pubsub-message.js',
        'shared/core/names.js',
        'shared/windows/pipelines/index.js',
        'shared/fines/fine.js',
      ]),
    );
  });
});
