import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationTable, withTable } from '../../../cli/config-doc.js';
import { DOCUMENTED_SETTINGS } from '../../../shared/config.js';

/** docs/configuration.md's variables table is generated from the settings' declarations: a stale table fails here. */
describe('docs/configuration.md', () => {
  const doc = readFileSync('docs/configuration.md', 'utf8');
  const declared = DOCUMENTED_SETTINGS.flatMap((g) => g.settings.map((s) => ({ ...s, owner: g.owner })));

  it('holds the table the code generates (run `node dist/cli/speedcam.js config-doc` after changing a setting)', () => {
    expect(withTable(doc)).toBe(doc);
  });

  it('documents every declared variable once, with its meaning and the module that declares it', () => {
    const names = declared.map((s) => s.env);
    expect(names.length).toBeGreaterThan(60);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    for (const s of declared) {
      expect(s.doc.trim(), s.env).not.toBe('');
      expect(existsSync(s.owner), `${s.env}: ${s.owner}`).toBe(true);
      // the owner named is where the variable is written (a topic's variable is written with its topic: TOPICS)
      if (!s.env.startsWith('TOPIC_')) expect(readFileSync(s.owner, 'utf8'), s.env).toContain(`'${s.env}'`);
      expect(doc).toContain(`| \`${s.env}\` | ${s.documentedDefault} |`);
    }
    expect(doc).toContain('| `SPEEDCAM_SESSION_GAP_S` | 15 |  | ');
    expect(doc).toMatch(/\| `SPEEDCAM_SESSION_GAP_S` .* \| speed\/settings\.ts \|/);
  });

  it('shows the defaults of the code: a copy with an edited default is stale', () => {
    const row = '| `SPEEDCAM_SESSION_GAP_S` | 15 |';
    expect(configurationTable()).toContain(row);
    const edited = doc.replace(row, '| `SPEEDCAM_SESSION_GAP_S` | 20 |');
    expect(edited).not.toBe(doc);
    expect(withTable(edited)).not.toBe(edited);
  });
});
