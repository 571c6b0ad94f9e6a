import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { terraformCatalog } from '../functions/catalog.js';
import { loadConfig } from '../shared/config.js';
import { DEAD_LETTERS } from '../shared/dead-letters/export.js';
import type { TableDeclaration } from '../shared/export/warehouse.js';
import { FINED_VEHICLES } from '../shared/fines/fine-record.js';
import { firestoreResources } from '../shared/platform/firestore/collections.js';
import { USERS } from '../shared/registrations/registrations.js';
import { FINE_REVIEWS } from '../shared/review/review-export.js';
import { VEHICLE_PASSAGES } from '../shared/speed/passage-export.js';
import { WINDOW_PIPELINES } from '../shared/windows/pipelines/index.js';

/** Every warehouse table, declared beside what exports to it (each has its schema in schemas/). */
export const TABLES: readonly TableDeclaration[] = [
  VEHICLE_PASSAGES,
  FINED_VEHICLES,
  FINE_REVIEWS,
  ...WINDOW_PIPELINES.map((p) => p.table),
  USERS,
  DEAD_LETTERS,
];

/**
 * What resources.json holds that the code declares: the Firestore collections' TTL policies and index
 * exemptions, and every table's layout. The rest of resources.json (APIs, the view, policies, metrics,
 * alerts) is written by hand.
 */
export function declaredResources() {
  return {
    ...firestoreResources(
      loadConfig({}),
      WINDOW_PIPELINES.map((p) => p.name),
    ),
    tables: Object.fromEntries(TABLES.map((t) => [t.name, { time: t.time, cluster: [...t.cluster] }])),
  };
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

/**
 * Writes what Terraform reads of the declarations: terraform/functions.json (functions, topics) and the
 * declared keys of terraform/resources.json. A test fails while either is stale.
 */
export function writeTerraformCatalog(terraformDir: string): void {
  writeFileSync(join(terraformDir, 'functions.json'), json(terraformCatalog()));
  const resources = JSON.parse(readFileSync(join(terraformDir, 'resources.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(terraformDir, 'resources.json'), json({ ...resources, ...declaredResources() }));
}
