import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../shared/platform/local-object-store.js';
import { parseVisionResponse, VisionTextDetector, type VisionTextResponse } from '../../../shared/platform/ocr/vision-text-detector.js';
import { BadObjectUri, objectName, parseGsUri } from '../../../shared/fines/object-names.js';
import { pickPlate } from '../../../shared/fines/plate.js';

const poly = (x0: number, y0: number, x1: number, y1: number) => ({
  vertices: [
    { x: x0, y: y0 },
    { x: x1, y: y0 },
    { x: x1, y: y1 },
    { x: x0, y: y1 },
  ],
});

/** Shaped as Vision's TEXT_DETECTION answers: textAnnotations[0] the whole text, then the words. */
const twoCandidates: VisionTextResponse = {
  textAnnotations: [
    { description: 'NEW YORK\nKXT 4821\nEMPIRE STATE\n', locale: 'en', boundingPoly: poly(180, 270, 420, 400) },
    { description: 'NEW', boundingPoly: poly(250, 280, 290, 296) },
    { description: 'YORK', boundingPoly: poly(296, 280, 350, 296) },
    { description: 'KXT', boundingPoly: poly(200, 320, 290, 372) },
    { description: '4821', boundingPoly: poly(300, 320, 410, 372) },
    { description: 'EMPIRE', boundingPoly: poly(230, 380, 300, 394) },
    { description: 'STATE', boundingPoly: poly(306, 380, 360, 394) },
    { description: 'TAXI1234', boundingPoly: poly(10, 10, 120, 40) },
  ],
  fullTextAnnotation: {
    text: 'NEW YORK\nKXT 4821\nEMPIRE STATE\n',
    pages: [
      {
        blocks: [
          {
            paragraphs: [
              {
                words: [
                  { boundingBox: poly(200, 320, 290, 372), confidence: 0.97, symbols: [{ text: 'K' }, { text: 'X' }, { text: 'T' }] },
                  {
                    boundingBox: poly(300, 320, 410, 372),
                    confidence: 0.95,
                    symbols: [{ text: '4' }, { text: '8' }, { text: '2' }, { text: '1' }],
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  },
};

describe('Vision response parsing and plate picking', () => {
  it('reads words with their boxes and confidences, and joins a plate split in two words', () => {
    const detections = parseVisionResponse(twoCandidates);
    expect(detections).toHaveLength(7);
    expect(detections[2]).toEqual({ text: 'KXT', confidence: 0.97, box: { x0: 200, y0: 320, x1: 290, y1: 372 } });
    const read = pickPlate(detections)!;
    expect(read).toMatchObject({ plate: 'KXT4821', confidence: 0.95, box: { x0: 200, y0: 320, x1: 410, y1: 372 } });
  });

  it('no text: no plate', () => {
    expect(parseVisionResponse({ textAnnotations: [] })).toEqual([]);
    expect(parseVisionResponse({})).toEqual([]);
    expect(pickPlate([])).toBeNull();
  });

  it('an error inside the response is raised, not taken for an empty photo', () => {
    expect(() => parseVisionResponse({ error: { code: 3, message: 'Bad image data.' } })).toThrow(/Bad image data/);
  });

  it('the detector sends Vision the bytes already downloaded (content), not a second read from Cloud Storage', async () => {
    const calls: unknown[] = [];
    const detector = new VisionTextDetector({ textDetection: (async (req: unknown) => (calls.push(req), [twoCandidates])) as never });
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const found = await detector.detect({ bytes });
    expect(calls).toEqual([{ image: { content: bytes } }]);
    expect(JSON.stringify(calls)).not.toMatch(/gs:|imageUri|source/);
    expect(pickPlate(found)?.plate).toBe('KXT4821');
  });

  it('prefers the more confident of several plate-shaped candidates; one outside the formats counts less', () => {
    // each case: reads (text, confidence) top to bottom, 100 px apart, and the plate picked
    const cases: [string, [string, number][], string][] = [
      [
        'two plate-shaped reads: the more confident',
        [
          ['ABC1234', 0.6],
          ['XYZ9876', 0.9],
        ],
        'XYZ9876',
      ],
      [
        'a more confident read outside the formats loses to a plate-shaped one',
        [
          ['XYZ98O6', 0.9],
          ['ABC1234', 0.8],
        ],
        'ABC1234',
      ],
    ];
    for (const [name, reads, plate] of cases) {
      const candidates = reads.map(([text, confidence], i) => ({
        text,
        confidence,
        box: { x0: 0, y0: i * 100, x1: 100, y1: i * 100 + 20 },
      }));
      expect(pickPlate(candidates)?.plate, name).toBe(plate);
    }
  });
});

describe('object names', () => {
  it('never lets message fields escape a bucket', () => {
    expect(objectName('radar-1', '../../etc/passwd')).toBe('radar-1/.._.._etc_passwd');
    expect(objectName('..', '.', '')).toBe('_/_/_');
    expect(objectName('a\u0000b\nc')).toBe('a_b_c');
    expect(() => parseGsUri('gs://bucket/../x')).toThrow(/unsafe/);
    expect(() => parseGsUri('gs://bucket/a/%00/\u0007')).toThrow(/unsafe/);
    expect(() => parseGsUri('/etc/passwd')).toThrow(/not a gs/);
    // Callers tell a bad address from a failing store by its type, not its text.
    expect(() => parseGsUri('gs://bucket/../x')).toThrow(BadObjectUri);
    expect(() => parseGsUri('/etc/passwd')).toThrow(BadObjectUri);
  });

  it('the local store keeps objects inside their bucket directory', async () => {
    const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'objects-')));
    await store.put('gs://speedcam-captures/r/v/1.png', Buffer.from('png'), { contentType: 'image/png' });
    expect(await store.get('gs://speedcam-captures/r/v/1.png')).toEqual(Buffer.from('png'));
    expect(await store.get('gs://speedcam-captures/r/v/2.png')).toBeNull();
    expect(await store.list('gs://speedcam-captures/r/v/')).toEqual(['gs://speedcam-captures/r/v/1.png']);
    await expect(store.get('gs://speedcam-captures/../../etc/passwd')).rejects.toThrow(/unsafe/);
    expect(store.viewUrl('gs://speedcam-captures/r/v/1.png')).toMatch(/^file:\/\/.*\/speedcam-captures\/r\/v\/1\.png$/);
  });
});
