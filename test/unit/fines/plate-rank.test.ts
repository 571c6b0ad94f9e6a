import { describe, expect, it } from 'vitest';
import { pickPlate, rankPlates, type TextDetection } from '../../../shared/fines/plate.js';

const box = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1 });
const det = (text: string, charConfidences: number[], b: ReturnType<typeof box>): TextDetection => ({
  text,
  confidence: charConfidences.reduce((a, c) => a + c, 0) / charConfidences.length,
  charConfidences,
  box: b,
});

describe("plates ranked from a model reader's lines", () => {
  // As the model reads the course's Swedish photo: the plate, the EU band's "S", the dealer's URL.
  const course = [
    det('S', [0.99], box(470, 645, 490, 690)),
    det('CCC 444', [0.99, 0.98, 0.99, 0.6, 0.97, 0.99, 0.96], box(497, 640, 760, 700)),
    det('TESLA.COM', [0.99, 0.98, 0.97, 0.99, 0.99, 0.9, 0.99, 0.98, 0.97], box(540, 705, 690, 720)),
  ];

  it('every plausible candidate, best first; pickPlate is the first', () => {
    const ranked = rankPlates(course, ['se']);
    expect(ranked[0]).toMatchObject({ plate: 'CCC444', formatMatch: true });
    expect(ranked.map((r) => r.plate)).toContain('TESLACOM');
    expect(pickPlate(course, ['se'])).toEqual(ranked[0]);
    // no candidate twice
    expect(new Set(ranked.map((r) => r.plate)).size).toBe(ranked.length);
  });

  it("the confidence is the least sure of the plate's own characters (a space or a dash does not count)", () => {
    expect(pickPlate(course, ['se'])!.confidence).toBeCloseTo(0.96, 5);
    expect(rankPlates(course, ['se'], { aggregate: 'mean' })[0]!.confidence).toBeCloseTo((0.99 + 0.98 + 0.99 + 0.97 + 0.99 + 0.96) / 6, 5);
  });

  it('a plate the detector splits in two is joined, even tilted (its right half higher than its left)', () => {
    // as the model read calibration photo 112-uk.jpg: "WU29" and "GNA" as two boxes, the second higher
    const split = [det('GNA', [0.99, 0.99, 0.98], box(330, 196, 420, 236)), det('WU29', [0.99, 0.97, 0.99, 0.99], box(200, 200, 310, 242))];
    expect(pickPlate(split, ['uk'])).toMatchObject({ plate: 'WU29GNA', formatMatch: true, confidence: 0.97 });
  });

  it('a two-line plate is read top line then bottom line', () => {
    const square = [
      det('AB12', [0.99, 0.98, 0.97, 0.99], box(100, 100, 200, 140)),
      det('CDE', [0.95, 0.99, 0.99], box(110, 150, 190, 190)),
    ];
    expect(pickPlate(square, ['uk'])).toMatchObject({ plate: 'AB12CDE', formatMatch: true, confidence: 0.95 });
    // lines far apart are not one plate
    const apart = [square[0]!, { ...square[1]!, box: box(110, 400, 190, 440) }];
    expect(pickPlate(apart, ['uk'])?.plate).not.toBe('AB12CDE');
  });

  it("a look-alike read is not swapped into the format: it stays outside, with the model's confidence", () => {
    const lookalike = [det('CCC 4A4', [0.99, 0.99, 0.99, 0.9, 0.99, 0.99, 0.99], box(0, 0, 100, 30))];
    expect(pickPlate(lookalike, ['se'])).toMatchObject({ plate: 'CCC4A4', formatMatch: false });
    expect(pickPlate(lookalike, ['se'])!.confidence).toBeCloseTo(0.99, 5); // the model's own (the space does not count)
  });
});
