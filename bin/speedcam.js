#!/usr/bin/env node
// The `speedcam` command: runs the compiled CLI (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
const entry = new URL('../dist/cli/speedcam.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('speedcam: not built yet: run "npm run build" in the speedcam folder\n');
  process.exit(1);
}
await import(entry.href);
