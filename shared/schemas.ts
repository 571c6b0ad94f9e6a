import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A BigQuery JSON schema field, as in schemas/*.json (the files Terraform also reads). */
export interface SchemaField {
  name: string;
  type: 'STRING' | 'FLOAT' | 'INTEGER' | 'BOOLEAN' | 'TIMESTAMP' | 'JSON';
  mode?: 'REQUIRED' | 'NULLABLE' | 'REPEATED';
  description?: string;
}

/** The repository's schemas/ folder, from src (shared/) or build output (dist/shared/). */
export function schemasDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      if (readdirSync(join(dir, 'schemas')).some((f) => f.endsWith('.json'))) return join(dir, 'schemas');
    } catch {
      /* not here: look one level up */
    }
    dir = dirname(dir);
  }
  throw new Error('schemas/ folder not found next to the code');
}

export function loadSchemas(dir = schemasDir()): Map<string, SchemaField[]> {
  const out = new Map<string, SchemaField[]>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    out.set(f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, f), 'utf8')) as SchemaField[]);
  }
  return out;
}
