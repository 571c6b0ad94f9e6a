import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A BigQuery JSON schema field, as in schemas/*.json (the files Terraform also reads). */
export interface SchemaField {
  name: string;
  type: 'STRING' | 'FLOAT' | 'INTEGER' | 'BOOLEAN' | 'TIMESTAMP' | 'JSON';
  mode?: 'REQUIRED' | 'NULLABLE' | 'REPEATED';
  description?: string;
}

/** A path in the repository, from src (shared/export/) or a build output (dist/shared/export/), the nearest above. */
export function repoPath(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, relative))) return join(dir, relative);
    dir = dirname(dir);
  }
  throw new Error(`${relative} not found next to the code`);
}

/** The repository's schemas/ folder. */
export function schemasDir(): string {
  return repoPath('schemas');
}

export function loadSchemas(dir = schemasDir()): Map<string, SchemaField[]> {
  const out = new Map<string, SchemaField[]>();
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    out.set(f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, f), 'utf8')) as SchemaField[]);
  }
  return out;
}
