import { execFile } from 'node:child_process';

/** A function's settings as deployed (BigQuery, Cloud Storage, no metadata server), for a child measured cold. */
export const DEPLOYED_ENV = { SPEEDCAM_WAREHOUSE: 'bigquery', SPEEDCAM_OBJECTS: 'gcs', METADATA_SERVER_DETECTION: 'none' } as const;

/** Runs `script` (an ES module's source) in a fresh Node process with `env` added; its stdout, parsed as JSON. */
export function runChildScript<T>(label: string, script: string, env: Record<string, string>, maxBuffer = 16 * 1024 * 1024): Promise<T> {
  return new Promise((ok, fail) =>
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer },
      (err, stdout, stderr) => {
        if (err) return fail(new Error(`${label}: ${stderr || err.message}`));
        ok(JSON.parse(stdout) as T);
      },
    ),
  );
}
