import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationTable, DESCRIPTIONS, documentedVariables, withTable } from '../../../cli/config-doc.js';

/** docs/configuration.md's variables table is generated from the code: stale or undocumented settings fail here. */
describe('docs/configuration.md', () => {
  const doc = readFileSync('docs/configuration.md', 'utf8');

  it('holds the table the code generates (run `node dist/cli/speedcam.js config-doc` after changing a setting)', () => {
    expect(withTable(doc)).toBe(doc);
  });

  it('documents every variable the code reads, and nothing else', () => {
    const read = documentedVariables().map((v) => v.name);
    expect(read.filter((name) => !DESCRIPTIONS[name])).toEqual([]);
    expect(Object.keys(DESCRIPTIONS).filter((name) => !read.includes(name))).toEqual([]);
    for (const name of read) expect(doc).toContain(`| \`${name}\` |`);
  });

  it('shows the defaults of the code: a copy with an edited default is stale', () => {
    const row = '| `SPEEDCAM_SESSION_GAP_S` | 15 |';
    expect(configurationTable()).toContain(row);
    const edited = doc.replace(row, '| `SPEEDCAM_SESSION_GAP_S` | 20 |');
    expect(edited).not.toBe(doc);
    expect(withTable(edited)).not.toBe(edited);
  });
});
