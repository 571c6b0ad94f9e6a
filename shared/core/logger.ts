import { z } from 'zod';
import { readSettings, setting, settingsGroup } from './settings.js';

/** Structured one-line JSON logs with `severity`, the shape Cloud Logging parses from stdout. */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };

export function parseSeverity(s: string | undefined, fallback: Severity = 'INFO'): Severity {
  const up = (s ?? '').toUpperCase();
  if (up === 'WARN') return 'WARNING';
  return up in RANK ? (up as Severity) : fallback;
}

/** LOG_LEVEL: each logger reads it itself (before any configuration is loaded); an unknown level is INFO. */
export const logSettings = settingsGroup('shared/core/logger.ts', {
  minSeverity: setting(
    'LOG_LEVEL',
    z
      .string()
      .optional()
      .transform((s) => parseSeverity(s)),
    'minimum severity of the JSON logs (the stack writes every line to `stack.log`, echoes `WARNING` and above)',
  ),
});

/** `write` receives one JSON line (no newline); the default writes it to stdout. */
export function createLogger(opts: { component?: string; minSeverity?: Severity; write?: (line: string) => void } = {}): Logger {
  const min = RANK[opts.minSeverity ?? readSettings({ log: logSettings }, process.env).log.minSeverity];
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const emit = (severity: Severity, message: string, fields?: Record<string, unknown>) => {
    if (RANK[severity] < min) return;
    // JSON.stringify escapes control characters, so hostile ids cannot forge log lines.
    write(JSON.stringify({ severity, message, component: opts.component, time: new Date().toISOString(), ...fields }));
  };
  return {
    debug: (m, f) => emit('DEBUG', m, f),
    info: (m, f) => emit('INFO', m, f),
    warn: (m, f) => emit('WARNING', m, f),
    error: (m, f) => emit('ERROR', m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
