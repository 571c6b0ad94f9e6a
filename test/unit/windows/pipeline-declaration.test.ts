import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rejection } from '../../../shared/core/rejection.js';
import type { WindowPipelineDeclaration } from '../../../shared/windows/declaration.js';
import { resolvePipeline, type WindowPipeline } from '../../../shared/windows/pipeline.js';
import { inbound, testConfig } from '../../support/fixtures.js';

/** Where the worked example lives: the code a newcomer copies is the code under test. */
const EXAMPLE_DOC = 'docs/architecture.md';
const EXAMPLE_HEADING = '## Adding a window pipeline: a worked example';

/** The worked example ("Adding a window pipeline"), taken from its page in docs/. */
function docExample(): string {
  const doc = readFileSync(EXAMPLE_DOC, 'utf8');
  const at = doc.indexOf(EXAMPLE_HEADING);
  if (at < 0) throw new Error(`${EXAMPLE_DOC} has no section "${EXAMPLE_HEADING}"`);
  const block = /```ts\n([\s\S]*?)```/.exec(doc.slice(at));
  if (!block) throw new Error(`${EXAMPLE_DOC} has no worked pipeline example`);
  return block[1]!.replace(/^ {3}/gm, '');
}

const dir = mkdtempSync(join(tmpdir(), 'speedcam-pipeline-'));
const config = testConfig();
let p: WindowPipeline;
beforeAll(async () => {
  const from = (m: string) => JSON.stringify(resolve(m));
  const file = join(dir, 'page-views.ts');
  writeFileSync(
    file,
    [
      `import { asText } from ${from('shared/core/payload.ts')};`,
      `import { Rejection } from ${from('shared/core/rejection.ts')};`,
      `import { defineWindowPipeline } from ${from('shared/windows/declaration.ts')};`,
      `import { eventTimeOf } from ${from('shared/windows/event-time.ts')};`,
      docExample(),
    ].join('\n'),
  );
  const { pageViews } = (await import(file)) as { pageViews: WindowPipelineDeclaration };
  p = resolvePipeline(pageViews, config);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a declared window pipeline (the worked example in docs/architecture.md)', () => {
  it('is resolved with the defaults: its topic, publish time, a 5-minute window, the table it declares', () => {
    expect(p).toMatchObject({
      name: 'pageviews',
      inputTopic: 'page-views',
      window: { kind: 'fixed', sizeMs: 300_000 },
      late: 'dead_letter',
      table: 'page_view_counts',
    });
    expect(p.allowedLatenessMs).toBe(config.windowLatenessMs);
    expect(p.row('/home', 0, 300_000, { views: 3 })).toEqual({
      row_id: '0~/home',
      page: '/home',
      views: 3,
      window_start: '1970-01-01T00:00:00.000Z',
      window_end: '1970-01-01T00:05:00.000Z',
    });
  });

  it('parses a message into its event, keyed by page, at the publish time', () => {
    const msg = inbound(JSON.stringify({ page: '/home', time: '2026-11-22T10:00:00Z' }), {
      messageId: 'pv1',
      publishTimeMs: Date.parse('2026-11-22T10:01:00Z'),
    });
    expect(p.parse(msg, Date.parse('2026-11-22T10:01:01Z'))).toEqual([
      { id: 'pv1', key: '/home', timeMs: Date.parse('2026-11-22T10:01:00Z'), values: {} },
    ]);
  });

  it('the payload prelude runs before its parser: empty, not JSON, not an object, a required field missing', () => {
    const reasons = ['', 'no json', '[]', '{"page":"/home"}'].map((data) => {
      const r = p.parse(inbound(data), Date.now());
      return r instanceof Rejection ? [r.reason, r.detail] : r;
    });
    expect(reasons).toEqual([
      ['empty_payload', 'message has no data'],
      ['malformed_json', expect.stringContaining('payload is not JSON')],
      ['not_an_object', 'payload is JSON array, expected an object'],
      ['invalid_fields', 'missing field(s) time'],
    ]);
  });
});
