import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PaddleTextDetector } from '../../../shared/platform/ocr/paddle-text-detector.js';

/** The model reads one photo at a time; `onStart` tells a photo's wait behind the others from its reading. */
const ocr = new PaddleTextDetector();
afterAll(() => ocr.close());

describe('the reader queue', () => {
  it('starts a photo only when the one ahead of it is read, and says when', async () => {
    const bytes = readFileSync('test/fixtures/plates/000-us-ny.jpg');
    const events: string[] = [];
    // the model's own work, watched from inside: when it begins and ends on a photo
    const reader = ocr as unknown as { read(bytes: Buffer): Promise<unknown> };
    const original = reader.read.bind(reader);
    const spy = vi.spyOn(reader, 'read').mockImplementation(async (b: Buffer) => {
      events.push('model begins');
      try {
        return await original(b);
      } finally {
        events.push('model ends');
      }
    });
    const read = (name: string) => ocr.detect({ bytes, formats: ['us-ny'], onStart: () => events.push(`${name} starts`) });
    const [a, b, c] = await Promise.all([read('a'), read('b'), read('c')]);
    spy.mockRestore();
    const photo = (name: string) => [`${name} starts`, 'model begins', 'model ends'];
    expect(events).toEqual([...photo('a'), ...photo('b'), ...photo('c')]);
    expect(b.map((d) => d.text)).toEqual(a.map((d) => d.text));
    expect(c.map((d) => d.text)).toEqual(a.map((d) => d.text));
  });

  it('starts the next photo after one that fails', async () => {
    const events: string[] = [];
    const bad = ocr.detect({ bytes: Buffer.from('not a photo'), onStart: () => events.push('bad starts') });
    const good = ocr.detect({ bytes: readFileSync('test/fixtures/plates/000-us-ny.jpg'), onStart: () => events.push('good starts') });
    await expect(bad).rejects.toThrow();
    expect((await good).length).toBeGreaterThan(0);
    expect(events).toEqual(['bad starts', 'good starts']);
  });
});
