import { describe, expect, it } from 'vitest';
import { pickPlate, rankPlates, type TextDetection } from '../../../shared/fines/plate.js';
import { CtcLattice, ctcGreedy } from '../../../shared/platform/ocr/ctc.js';
import { frames } from '../../support/ctc-frames.js';

/** A line as the model reader gives it: the greedy reading, each character's probability, and the lattice. */
const modelLine = (
  rows: readonly Partial<Record<string, number>>[],
  b: { x0: number; y0: number; x1: number; y1: number },
): TextDetection => {
  const f = frames(rows);
  const g = ctcGreedy(f.probs, f.steps, f.classes, f.dictionary);
  return {
    text: g.text,
    confidence: g.probs.reduce((a, c) => a + c, 0) / g.probs.length,
    charConfidences: g.probs,
    charFrames: g.frames,
    charPeaks: g.peaks,
    alternatives: new CtcLattice(f.probs, f.steps, f.classes, f.dictionary),
    box: b,
  };
};

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

  describe('a line read outside every format is read again under the formats', () => {
    // an Italian "UZ 985TE" with a blotch the model half-reads as an S between the halves
    const blotched = [
      { U: 0.99 },
      { _: 0.9 },
      { Z: 0.98 },
      { S: 0.55, _: 0.4 },
      { '9': 0.99 },
      { '8': 0.99 },
      { '5': 0.97 },
      { T: 0.99 },
      { E: 0.98 },
    ];
    const line = modelLine(blotched, box(100, 100, 300, 150));

    it('the most probable reading that fits is the plate, as sure as the blank it put where the model saw an S', () => {
      expect(line.text).toBe('UZS985TE'); // the greedy reading: outside Italy's LLDDDLL
      const ranked = rankPlates([line], ['it']);
      expect(ranked[0]).toMatchObject({ plate: 'UZ985TE', formatMatch: true });
      expect(ranked[0]!.confidence).toBeCloseTo(0.4, 5); // under the review threshold: a person checks it
      expect(ranked.map((r) => r.plate)).toContain('UZS985TE'); // the reading as it was stays a candidate
    });

    it('off, the reading stays outside the format', () => {
      expect(rankPlates([line], ['it'], { constrained: false })[0]).toMatchObject({ plate: 'UZS985TE', formatMatch: false });
    });

    it('a line that fits already is not read again; without expected formats nothing is', () => {
      const fits = modelLine(
        blotched.filter((_, i) => i !== 3),
        box(100, 100, 300, 150),
      );
      expect(rankPlates([fits], ['it'])[0]).toMatchObject({ plate: 'UZ985TE', formatMatch: true });
      expect(rankPlates([fits], ['it'])[0]!.confidence).toBeCloseTo(0.97, 5);
      expect(rankPlates([line], [])[0]).toMatchObject({ plate: 'UZS985TE', formatMatch: false });
    });

    it('a plate split in two lines is fitted across them', () => {
      const left = modelLine([{ U: 0.99 }, { _: 0.9 }, { Z: 0.98 }, { S: 0.6, _: 0.35 }], box(100, 100, 160, 150));
      const right = modelLine(blotched.slice(4), box(170, 100, 300, 150));
      const read = rankPlates([left, right], ['it'])[0]!;
      expect(read).toMatchObject({ plate: 'UZ985TE', formatMatch: true });
      expect(read.confidence).toBeCloseTo(0.35, 5);
    });

    it('no reading of the line fits (too few characters): it stays outside, flagged', () => {
      const short = modelLine([{ '9': 0.99 }, { '8': 0.99 }, { T: 0.99 }], box(100, 100, 300, 150));
      expect(rankPlates([short], ['it'])).toEqual([expect.objectContaining({ plate: '98T', formatMatch: false })]);
    });
  });
});

describe('other per-character confidences (RankOptions.aggregate, measured in docs/ocr.md)', () => {
  const L = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const D = '0123456789';
  // "AB12": the B half-seen (0.5 against the blank's 0.49); A's first frame unsure, its next one sure
  const rows = [{ A: 0.5, _: 0.49 }, { A: 0.99 }, { _: 0.99 }, { B: 0.5, _: 0.49 }, { _: 0.99 }, { '1': 0.99 }, { _: 0.99 }, { '2': 0.99 }];
  const line = modelLine(rows, box(0, 0, 100, 30));
  const lattice = line.alternatives!;

  it("peak: each character's probability at the most probable frame of its run", () => {
    expect(rankPlates([line], ['LLDD'])[0]).toMatchObject({ plate: 'AB12', confidence: 0.5 });
    expect(rankPlates([line], ['LLDD'], { aggregate: 'peak' })[0]!.confidence).toBeCloseTo(0.5, 5); // B's only frame
    const sureB = modelLine(
      rows.map((r, t) => (t === 3 ? { B: 0.9 } : r)),
      box(0, 0, 100, 30),
    );
    expect(rankPlates([sureB], ['LLDD'])[0]!.confidence).toBeCloseTo(0.5, 5); // A's first frame
    expect(rankPlates([sureB], ['LLDD'], { aggregate: 'peak' })[0]!.confidence).toBeCloseTo(0.9, 5); // B; A peaks at 0.99
  });

  it('posterior: a character the format needs is surer than the frame says; a length the formats also allow shares the mass', () => {
    const one = lattice.posterior([L, L, D, D])!;
    const only = Math.min(...[...'AB12'].map((c, i) => one.marginal(i, c)));
    const read = rankPlates([line], ['LLDD'], { aggregate: 'posterior' })[0]!;
    expect(read.plate).toBe('AB12');
    expect(read.confidence).toBeCloseTo(only, 9);
    expect(read.confidence).toBeGreaterThan(0.9); // with four characters, the B is all but certain (min: 0.5)
    // not conditioned on the formats ('posterior-joint'): times the probability that the line reads LLDD at all
    const joint = rankPlates([line], ['LLDD'], { aggregate: 'posterior-joint' })[0]!.confidence;
    expect(joint).toBeCloseTo(only * Math.exp(one.logZ), 9);
    expect(joint).toBeLessThan(0.6);
    // "A12" fits LDD: the B's doubt (a blank at 0.45) now counts against the whole read
    const short = lattice.posterior([L, D, D])!;
    const z1 = Math.exp(one.logZ);
    const z2 = Math.exp(short.logZ);
    const both = rankPlates([line], ['LLDD', 'LDD'], { aggregate: 'posterior' })[0]!;
    expect(both.plate).toBe('AB12');
    expect(both.confidence).toBeCloseTo((only * z1) / (z1 + z2), 9);
    expect(both.confidence).toBeLessThan(0.6); // about 0.5 / (0.5 + 0.49)
    // without expected formats: the plain probability
    expect(rankPlates([line], [], { aggregate: 'posterior' })[0]!.confidence).toBeCloseTo(0.5, 5);
  });

  it('posterior across two lines: every way the lines can share the positions, weighed by how probable each is', () => {
    const top = modelLine(rows.slice(0, 5), box(0, 0, 100, 30));
    const bottom = modelLine(rows.slice(5), box(0, 35, 100, 65));
    const read = rankPlates([top, bottom], ['LLDD'], { aggregate: 'posterior' })[0]!;
    expect(read.plate).toBe('AB12');
    // by hand: the top line reads the first a characters, the bottom the rest
    const cut = (a: number) => {
      const t = top.alternatives!.posterior([L, L, D, D].slice(0, a));
      const b = bottom.alternatives!.posterior([L, L, D, D].slice(a));
      return t && b
        ? { w: Math.exp(t.logZ + b.logZ), m: (i: number, c: string) => (i < a ? t.marginal(i, c) : b.marginal(i - a, c)) }
        : null;
    };
    const cuts = [0, 1, 2, 3, 4].map(cut).filter((x) => x !== null); // a line may read none of it, too
    const total = cuts.reduce((s, x) => s + x.w, 0);
    const expected = Math.min(...[...'AB12'].map((c, i) => cuts.reduce((s, x) => s + x.w * x.m(i, c), 0) / total));
    expect(read.confidence).toBeCloseTo(expected, 9);
    expect(read.confidence).toBeGreaterThan(0.9);
  });

  it('posterior: a line of other text in the group (a stray symbol over the plate) reads none of the plate', () => {
    const stray = modelLine([{ _: 0.999 }, { '-': 0.999 }, { _: 0.999 }], box(10, -30, 90, -5)); // above: its group comes first
    expect(stray.text).toBe('-');
    const alone = rankPlates([line], ['LLDD'], { aggregate: 'posterior' })[0]!;
    const withStray = rankPlates([line, stray], ['LLDD'], { aggregate: 'posterior' });
    expect(withStray[0]).toMatchObject({ plate: 'AB12', formatMatch: true });
    expect(Math.abs(withStray[0]!.confidence - alone.confidence)).toBeLessThan(0.01);
  });

  it('certainty-sum: the certainty with each letter its classes summed (x and X)', () => {
    const xs = modelLine([{ X: 0.4, x: 0.35, K: 0.2 }, { _: 0.9 }, { '1': 0.99 }], box(0, 0, 100, 30));
    expect(xs.text).toBe('X1');
    const max = rankPlates([xs], ['LD'], { aggregate: 'certainty' })[0]!.confidence;
    const sum = rankPlates([xs], ['LD'], { aggregate: 'certainty-sum' })[0]!.confidence;
    expect(max).toBeLessThan(0.7); // X 0.4 among letters and digits each the most probable of its classes (x 0.35 left out)
    expect(sum).toBeGreaterThan(0.75); // X 0.75 among them
  });
});
