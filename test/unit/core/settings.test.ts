import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { configurationTable, withTable } from '../../../cli/config-doc.js';
import { DOCUMENTED_SETTINGS, loadConfig, SETTINGS, type Config } from '../../../shared/config.js';
import { atLeast, ConfigError, msFrom, readSettings, setting, settingsGroup } from '../../../shared/core/settings.js';

/**
 * Adding a setting touches one declaration: a throwaway group, written as a product writes its settings.ts,
 * comes out typed, validated and documented with nothing else edited.
 */
describe('a setting is one declaration', () => {
  const widgets = settingsGroup('shared/widgets/settings.ts', {
    widgetWaitMs: setting('SPEEDCAM_WIDGET_WAIT_S', atLeast(1).default(3), 'how long a widget waits', { to: msFrom.s }),
    widgetColour: setting('SPEEDCAM_WIDGET_COLOUR', z.enum(['red', 'blue']).default('red'), 'its colour', { local: '`blue`' }),
  });

  it('typed from its parser and conversion, read from the environment with its default', () => {
    const { widgets: w } = readSettings({ widgets }, {});
    expectTypeOf(w).toEqualTypeOf<{ widgetWaitMs: number; widgetColour: 'red' | 'blue' }>();
    expect(w).toEqual({ widgetWaitMs: 3000, widgetColour: 'red' });
    expect(readSettings({ widgets }, { SPEEDCAM_WIDGET_WAIT_S: '2.5', SPEEDCAM_WIDGET_COLOUR: 'blue' }).widgets).toEqual({
      widgetWaitMs: 2500,
      widgetColour: 'blue',
    });
  });

  it('validated beside the declared groups: one ConfigError names every invalid variable', () => {
    const read = () => readSettings({ ...SETTINGS, widgets }, { SPEEDCAM_WIDGET_WAIT_S: '0', SPEEDCAM_OCR: 'tesseract' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/SPEEDCAM_WIDGET_WAIT_S: a number >= 1/);
    expect(read).toThrow(/SPEEDCAM_OCR: .*"model".*"vision"/);
    expect(() => readSettings({ widgets }, { SPEEDCAM_WIDGET_COLOUR: 'green' })).toThrow(
      /^invalid configuration: SPEEDCAM_WIDGET_COLOUR: /,
    );
  });

  it('documented: the generated table gains its rows, and the committed doc is stale until regenerated', () => {
    const groups = [...DOCUMENTED_SETTINGS, widgets];
    const table = configurationTable(groups);
    expect(table).toContain('| `SPEEDCAM_WIDGET_WAIT_S` | 3 |  | how long a widget waits | widgets/settings.ts |');
    expect(table).toContain('| `SPEEDCAM_WIDGET_COLOUR` | `red` | `blue` | its colour | widgets/settings.ts |');
    const doc = readFileSync('docs/configuration.md', 'utf8');
    expect(withTable(doc)).toBe(doc);
    expect(withTable(doc, groups)).not.toBe(doc);
  });

  it("an owner's derivation runs once every variable is valid, and its error names the variable", () => {
    const pair = settingsGroup(
      'shared/widgets/settings.ts',
      {
        low: setting('SPEEDCAM_WIDGET_LOW', atLeast(0).default(1), 'low'),
        high: setting('SPEEDCAM_WIDGET_HIGH', atLeast(0).default(2), 'high'),
      },
      ({ low, high }) => {
        if (low > high) throw new ConfigError('SPEEDCAM_WIDGET_LOW: above SPEEDCAM_WIDGET_HIGH');
        return { range: [low, high] as const };
      },
    );
    expectTypeOf(readSettings({ pair }, {}).pair).toEqualTypeOf<{ range: readonly [number, number] }>();
    expect(readSettings({ pair }, {}).pair.range).toEqual([1, 2]);
    expect(() => readSettings({ pair }, { SPEEDCAM_WIDGET_LOW: '3' })).toThrow('SPEEDCAM_WIDGET_LOW: above SPEEDCAM_WIDGET_HIGH');
    // an invalid variable elsewhere is reported first, as one list, before any derivation
    expect(() => readSettings({ pair, ...SETTINGS }, { SPEEDCAM_WIDGET_LOW: '3', SPEEDCAM_OCR: 'x' })).toThrow(
      /^invalid configuration: SPEEDCAM_OCR/,
    );
  });
});

describe('Config: the groups composed', () => {
  it('no two groups yield the same property, and loadConfig holds every one of them', () => {
    const groups = readSettings(SETTINGS, {});
    const keys = Object.values(groups).flatMap((v) => Object.keys(v as object));
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    expect(Object.keys(loadConfig({})).sort()).toEqual([...keys].sort());
  });

  it('keeps the shape the code reads (radars by id, photos.fetch, review, collections, warehouse)', () => {
    const cfg: Config = loadConfig({ SPEEDCAM_COLLECTION_PREFIX: 't_', SPEEDCAM_WAREHOUSE: 'duckdb', SPEEDCAM_REVIEW_EVERY_FINE: 'true' });
    expect(cfg.radars.get(cfg.defaultRadarId)).toMatchObject({ speedLimitKmh: 40, sessionGapMs: 15_000, plateFormats: ['us-ny'] });
    expect(cfg.photos.fetch).toEqual({
      allowedHosts: ['storage.googleapis.com'],
      allowLoopback: false,
      maxBytes: 10 * 1024 * 1024,
      timeoutMs: 10_000,
      maxRedirects: 3,
    });
    expect(cfg.review).toEqual({ auth: 'google', token: null, audiences: [], claimMs: 300_000, alertAfterH: 24, everyFine: true });
    expect(cfg.collections.passageLog).toBe('t_passage_log');
    expect(cfg.warehouse).toEqual({ kind: 'duckdb', path: '.speedcam/warehouse.duckdb' });
    expect(cfg.topics.deadLetters).toBe('dead-letters');
    expect(cfg.projectId).toBe('demo-speedcam');
  });
});
