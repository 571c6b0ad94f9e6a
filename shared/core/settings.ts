import { z } from 'zod';

/**
 * One declaration per setting: its environment variable, its parser (zod, default included), the sentence
 * docs/configuration.md shows and, through its group, the module that owns it. A group yields its typed
 * values (inferred from the parsers, or from the owner's derivation) and its rows of the documentation;
 * shared/config.ts composes the groups into loadConfig and Config, cli/config-doc.ts writes the table.
 */

/** An invalid configuration; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface SettingOptions<P, T> {
  /** the documented default when the parser has none (the owner computes it, e.g. "the first radar") */
  default?: string;
  /** what `npm run stack` sets, when it differs */
  local?: string;
  /** turns the variable's value into the one the code uses (seconds into milliseconds, a list…) */
  to?: (value: P) => T;
}

export interface Setting<T> {
  readonly env: string;
  /** the meaning, as docs/configuration.md shows it */
  readonly doc: string;
  /** the default column: the parser's default in the variable's own unit, else the declared one */
  readonly documentedDefault: string;
  readonly local: string;
  /** the variable's value, or "VARIABLE: problem" for each problem */
  read(text: string | undefined): { ok: true; value: T } | { ok: false; issues: string[] };
}

/** A setting shown in docs: a string in backquotes, the empty string as "empty". */
function shown(v: unknown): string {
  if (v === undefined) return '';
  if (v === '') return 'empty';
  return typeof v === 'string' ? `\`${v}\`` : String(v);
}

/** Declares the variable `env`: `parser` reads its text (undefined when unset, so the parser's default applies). */
export function setting<P extends z.ZodType>(
  env: string,
  parser: P,
  doc: string,
  options?: SettingOptions<z.output<P>, never> & { to?: never },
): Setting<z.output<P>>;
/** … and `options.to` turns the parsed value into the one the code reads. */
export function setting<P extends z.ZodType, T>(
  env: string,
  parser: P,
  doc: string,
  options: SettingOptions<z.output<P>, T> & { to: (value: z.output<P>) => T },
): Setting<T>;
export function setting<P extends z.ZodType, T>(
  env: string,
  parser: P,
  doc: string,
  options: SettingOptions<z.output<P>, T> = {},
): Setting<T> {
  const unset = parser.safeParse(undefined);
  const to = options.to ?? ((v: z.output<P>) => v as unknown as T);
  return {
    env,
    doc,
    documentedDefault: (unset.success ? shown(unset.data) : '') || (options.default ?? ''),
    local: options.local ?? '',
    read(text) {
      const r = parser.safeParse(text);
      if (r.success) return { ok: true, value: to(r.data) };
      return { ok: false, issues: r.error.issues.map((i) => `${[env, ...i.path].join('.')}: ${i.message}`) };
    },
  };
}

type Settings = Record<string, Setting<unknown>>;
/** The values of a group's settings, by the name each is declared under. */
export type SettingValues<S extends Settings> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export interface SettingsGroup<V> {
  /** the module that declares the group */
  readonly owner: string;
  readonly settings: readonly Setting<unknown>[];
  /**
   * Reads every variable of the group: the problems, or the values (computed on demand: a derivation may
   * throw a ConfigError naming the variable, once every group's variables have been checked).
   */
  check(env: Env): { ok: true; values: () => V } | { ok: false; issues: string[] };
}

/** The values a group yields. */
export type GroupValues<G> = G extends SettingsGroup<infer V> ? V : never;

/**
 * A group of settings owned by `owner`; `derive` (the owner's) turns their values into the ones the code
 * reads (a map of radars, a fetch policy), checking what spans several variables.
 */
export function settingsGroup<S extends Settings>(owner: string, settings: S): SettingsGroup<SettingValues<S>>;
export function settingsGroup<S extends Settings, V>(owner: string, settings: S, derive: (values: SettingValues<S>) => V): SettingsGroup<V>;
export function settingsGroup<S extends Settings, V>(
  owner: string,
  settings: S,
  derive?: (values: SettingValues<S>) => V,
): SettingsGroup<V | SettingValues<S>> {
  return {
    owner,
    settings: Object.values(settings),
    check(env) {
      const values: Record<string, unknown> = {};
      const issues: string[] = [];
      for (const [name, s] of Object.entries(settings)) {
        const r = s.read(env[s.env]);
        if (r.ok) values[name] = r.value;
        else issues.push(...r.issues);
      }
      if (issues.length > 0) return { ok: false, issues };
      const typed = values as SettingValues<S>;
      return { ok: true, values: () => (derive ? derive(typed) : typed) };
    },
  };
}

/**
 * Reads several groups: every variable of every group is checked first (one ConfigError lists each
 * invalid one), then each group's values are derived.
 */
export function readSettings<G extends Record<string, SettingsGroup<unknown>>>(groups: G, env: Env): { [K in keyof G]: GroupValues<G[K]> } {
  const checked = Object.entries(groups).map(([key, g]) => [key, g.check(env)] as const);
  const issues = checked.flatMap(([, c]) => (c.ok ? [] : c.issues));
  if (issues.length > 0) throw new ConfigError(`invalid configuration: ${issues.join('; ')}`);
  return Object.fromEntries(checked.map(([key, c]) => [key, c.ok ? c.values() : undefined])) as { [K in keyof G]: GroupValues<G[K]> };
}

/** A number of at least `min`, from the variable's text. */
export const atLeast = (min: number) => z.coerce.number().refine((n) => Number.isFinite(n) && n >= min, `a number >= ${min}`);

/**
 * A number of at least `min`, `default` when unset, in the variable's unit; `ms` converts that unit
 * (seconds, hours, days) into the milliseconds the code reads.
 */
export function amount(
  env: string,
  n: { min: number; default: number; ms?: keyof typeof msFrom; local?: string },
  doc: string,
): Setting<number> {
  const parser = atLeast(n.min).default(n.default);
  return n.ms ? setting(env, parser, doc, { local: n.local, to: msFrom[n.ms] }) : setting(env, parser, doc, { local: n.local });
}

/** `true` or `false`, false when unset. */
export const trueOrFalse = () => z.enum(['true', 'false']).default('false');
export const isTrue = (s: 'true' | 'false'): boolean => s === 'true';

/** Comma-separated items, trimmed, empty ones dropped. */
export const commaList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Unit conversions of the variables' values into milliseconds. */
export const msFrom = {
  s: (s: number) => s * 1000,
  h: (h: number) => h * 3_600_000,
  days: (d: number) => d * 86_400_000,
};
