import { describe, expect, it } from 'vitest';
import { CtcLattice, ctcGreedy } from '../../../shared/platform/ocr/ctc.js';
import { frames } from '../../support/ctc-frames.js';
import { normalizePlate } from '../../../shared/fines/plate.js';
import { dbBoxes, DB_DEFAULTS, hull, minAreaRect } from '../../../shared/platform/ocr/db-boxes.js';

/** Softmax rows as a recogniser gives them: at each step, `p` for the class and the rest shared by the others. */
function steps(classes: number, rows: [number, number][]): Float32Array {
  const out = new Float32Array(rows.length * classes);
  rows.forEach(([k, p], t) => {
    for (let c = 0; c < classes; c++) out[t * classes + c] = c === k ? p : (1 - p) / (classes - 1);
  });
  return out;
}

const lattice = (rows: readonly Partial<Record<string, number>>[]) => {
  const f = frames(rows);
  return {
    greedy: ctcGreedy(f.probs, f.steps, f.classes, f.dictionary),
    lattice: new CtcLattice(f.probs, f.steps, f.classes, f.dictionary),
  };
};
const L = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const D = '0123456789';

describe("a character's certainty: its probability among letters and digits alone", () => {
  it('a letter the model doubts only against a blank is sure of its identity; one it doubts against another letter is not', () => {
    // frame 0: A 0.5 against the blank 0.45; frame 2: B 0.5 against 8 at 0.45 (the other classes share 0.05)
    const { greedy, lattice: l } = lattice([{ A: 0.5, _: 0.45 }, { _: 0.99 }, { B: 0.5, '8': 0.45 }]);
    expect(greedy).toMatchObject({ text: 'AB', frames: [0, 2] });
    expect(greedy.probs.map((p) => Math.round(p * 100))).toEqual([50, 50]);
    expect(l.certainty(0)).toBeGreaterThan(0.9);
    expect(l.certainty(2)).toBeLessThan(0.55);
    expect(l.certainty(1)).toBe(1); // a blank frame
  });
});

/**
 * Brute force for the posterior: every sequence of plate symbols over the frames (each symbol's probability the
 * sum of its classes', folded here by normalizePlate's rule), collapsed as CTC does (repeats merged, then blanks
 * and separators dropped): each plate string's probability.
 */
const stringsCache = new Map<object, Map<string, number>>();
function plateStrings(rows: readonly Partial<Record<string, number>>[]): Map<string, number> {
  const hit = stringsCache.get(rows);
  if (hit) return hit;
  const f = frames(rows);
  const symbolOf = (k: number) => (k === 0 ? '_' : normalizePlate(f.dictionary[k - 1]!) || '-');
  const q: Map<string, number>[] = [];
  for (let t = 0; t < f.steps; t++) {
    const m = new Map<string, number>();
    for (let k = 0; k < f.classes; k++) m.set(symbolOf(k), (m.get(symbolOf(k)) ?? 0) + f.probs[t * f.classes + k]!);
    q.push(m);
  }
  const out = new Map<string, number>();
  const walk = (t: number, last: string, text: string, p: number) => {
    if (t === f.steps) return void out.set(text, (out.get(text) ?? 0) + p);
    for (const [s, v] of q[t]!) walk(t + 1, s, s !== last && s !== '_' && s !== '-' ? text + s : text, p * v);
  };
  walk(0, '', '', 1);
  stringsCache.set(rows, out);
  return out;
}

/** P(the i-th character is c | the string fits `allowed`), by brute force; and the probability that it fits. */
function bruteMarginals(rows: readonly Partial<Record<string, number>>[], allowed: string[]) {
  const fitting = [...plateStrings(rows)].filter(([w]) => w.length === allowed.length && [...w].every((c, i) => allowed[i]!.includes(c)));
  const Z = fitting.reduce((a, [, p]) => a + p, 0);
  const marginal = (i: number, c: string) => fitting.filter(([w]) => w[i] === c).reduce((a, [, p]) => a + p, 0) / Z;
  return { Z, marginal };
}

describe("a character's posterior under the formats (CtcLattice.posterior, forward–backward)", () => {
  it('one position, two frames: the closed form', () => {
    // frame 0: A 0.6, B 0.2, blank 0.1; frame 1: A 0.3, blank 0.5, B 0.1 (the rest spread over the other classes)
    const rows = [
      { A: 0.6, B: 0.2, _: 0.1 },
      { A: 0.3, _: 0.5, B: 0.1 },
    ];
    const f = frames(rows);
    const at = (t: number, c: string) => f.probs[t * f.classes + (c === '_' ? 0 : f.dictionary.indexOf(c) + 1)]!;
    // a gap frame is a blank or any separator (space, dash): their probabilities summed; a letter is its classes' sum (x and X)
    const gap = (t: number) => at(t, '_') + at(t, ' ') + at(t, '-');
    const [a0, a1, b0, b1, g0, g1] = [at(0, 'A'), at(1, 'A'), at(0, 'B'), at(1, 'B'), gap(0), gap(1)];
    const pa = a0 * a1 + a0 * g1 + g0 * a1;
    const pb = b0 * b1 + b0 * g1 + g0 * b1;
    const post = lattice(rows).lattice.posterior(['AB'])!;
    expect(post.logZ).toBeCloseTo(Math.log(pa + pb), 6);
    expect(post.marginal(0, 'A')).toBeCloseTo(pa / (pa + pb), 6);
    expect(post.marginal(0, 'B')).toBeCloseTo(pb / (pa + pb), 6);
    expect(post.marginal(0, 'C')).toBe(0); // not allowed there
  });

  it('a doubled letter needs a gap between its runs: one alignment on three frames, none on two', () => {
    const rows = [{ A: 0.7 }, { _: 0.6, A: 0.3 }, { A: 0.8 }];
    const f = frames(rows);
    const at = (t: number, k: number) => f.probs[t * f.classes + k]!;
    const A = f.dictionary.indexOf('A') + 1;
    const gap1 = at(1, 0) + at(1, f.dictionary.indexOf(' ') + 1) + at(1, f.dictionary.indexOf('-') + 1);
    const post = lattice(rows).lattice.posterior(['A', 'A'])!;
    expect(post.logZ).toBeCloseTo(Math.log(at(0, A) * gap1 * at(2, A)), 6);
    expect(post.marginal(0, 'A')).toBeCloseTo(1, 9);
    expect(lattice(rows.slice(0, 2)).lattice.posterior(['A', 'A'])).toBeNull();
  });

  it('equals the brute-force sum over every symbol sequence, on a line with doubt between letters, digits and gaps', () => {
    const rows = [
      { V: 0.5, X: 0.2, _: 0.2 },
      { V: 0.3, _: 0.5, ' ': 0.1 },
      { '8': 0.4, B: 0.35, _: 0.1 },
      { B: 0.5, '8': 0.2, _: 0.2 },
    ];
    const l = lattice(rows).lattice;
    for (const allowed of [
      [L, D],
      [L, L],
      [L + D, L + D],
      ['VX', 'B8', L],
      ['V', 'B'],
    ]) {
      const brute = bruteMarginals(rows, allowed);
      const post = l.posterior(allowed)!;
      expect(post.logZ).toBeCloseTo(Math.log(brute.Z), 6);
      allowed.forEach((a, i) => {
        let sum = 0;
        for (const c of a) {
          expect(post.marginal(i, c)).toBeCloseTo(brute.marginal(i, c), 6);
          sum += post.marginal(i, c);
        }
        expect(sum).toBeCloseTo(1, 6);
      });
    }
  });

  it('no underflow where every alignment is improbable: 300 frames sure of a digit, read under a letter', () => {
    const rows = Array.from({ length: 300 }, () => ({ '7': 0.999 }));
    const post = lattice(rows).lattice.posterior([L])!;
    expect(post.logZ).toBeLessThan(-745); // below the smallest double: unscaled, every sum would be 0
    expect(Number.isFinite(post.logZ)).toBe(true);
    // every other class has the same probability, so every letter is as probable as another but X (X and x: two classes)
    const all = [...L].map((c) => post.marginal(0, c));
    expect(all.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(post.marginal(0, 'Q')).toBeCloseTo(post.marginal(0, 'B'), 12);
    expect(post.marginal(0, 'X')).toBeGreaterThan(2 * post.marginal(0, 'Q'));
  });
});

describe("a character's peak: its probability at the most probable frame of its run", () => {
  it("greedy and constrained readings keep it beside the first frame's", () => {
    const { greedy, lattice: l } = lattice([{ A: 0.5 }, { A: 0.9 }, { A: 0.7 }, { _: 0.9 }, { '1': 0.6 }, { _: 0.9 }, { A: 0.8 }]);
    expect(greedy.text).toBe('A1A');
    expect(greedy.probs.map((p) => Math.round(p * 100))).toEqual([50, 60, 80]);
    expect(greedy.peaks.map((p) => Math.round(p * 100))).toEqual([90, 60, 80]);
    const fit = l.prefixes([L, D, L])[3]!;
    expect(fit.plate).toBe('A1A');
    expect(fit.peaks.map((p) => Math.round(p * 100))).toEqual([90, 60, 80]);
  });
});

describe('CTC reading constrained to a format (CtcLattice)', () => {
  // "99FJJ2" as CTC merges a doubled J: the frame between the two J's says J (0.55) over blank (0.4)
  const merged: Record<string, number>[] = [
    { '9': 0.95 },
    { _: 0.9 },
    { '9': 0.93 },
    { F: 0.97 },
    { J: 0.96 },
    { J: 0.55, _: 0.4 },
    { J: 0.9 },
    { '2': 0.98 },
  ];

  it('the best path that fits: a doubled letter split where the model half-saw the gap', () => {
    const { greedy, lattice: l } = lattice(merged);
    expect(greedy.text).toBe('99FJ2'); // the greedy path violates DDLLLD
    const fit = l.prefixes([D, D, L, L, L, D])[6]!;
    expect(fit.plate).toBe('99FJJ2');
    expect(fit.probs).toHaveLength(6);
    expect(fit.probs[4]).toBeCloseTo(0.9, 5); // the second J: its first frame
    expect(fit.overruled).toBeCloseTo(0.4, 5); // the blank it chose where the model said J
    expect(fit.logRatio).toBeCloseTo(Math.log(0.4 / 0.55), 4);
  });

  it('unconstrained (any character anywhere) it is the greedy path, nothing overruled', () => {
    const any = L + D;
    const fit = lattice(merged).lattice.prefixes(Array(6).fill(any))[5]!;
    expect(fit.plate).toBe('99FJ2');
    expect(fit.overruled).toBe(1);
    expect(fit.logRatio).toBeCloseTo(0, 6);
    expect(fit.probs.map((p) => Math.round(p * 100))).toEqual([95, 93, 97, 96, 98]);
  });

  it("a look-alike at a digit's place: the digit the model gave less, with that probability", () => {
    const { greedy, lattice: l } = lattice([
      { C: 0.99 },
      { _: 0.9 },
      { C: 0.98 },
      { _: 0.9 },
      { C: 0.99 },
      { ' ': 0.8 },
      { '4': 0.97 },
      { _: 0.9 },
      { A: 0.6, '4': 0.3 },
      { _: 0.9 },
      { '4': 0.99 },
    ]);
    expect(greedy.text).toBe('CCC 4A4');
    const fit = l.prefixes([L, L, L, D, D, D])[6]!;
    expect(fit).toMatchObject({ plate: 'CCC444' });
    expect(fit.probs[4]).toBeCloseTo(0.3, 5);
    expect(fit.overruled).toBeCloseTo(0.3, 5);
  });

  it('a character the format has no room for is dropped, at the probability of the blank read instead', () => {
    const fit = lattice([{ A: 0.9 }, { B: 0.95 }, { S: 0.7, _: 0.25 }, { '1': 0.99 }, { '2': 0.99 }]).lattice.prefixes([L, L, D, D])[4]!;
    expect(fit.plate).toBe('AB12');
    expect(fit.overruled).toBeCloseTo(0.25, 5);
  });

  it('no reading when the line has too few frames for the format; each shorter length is its own', () => {
    const reads = lattice([{ A: 0.9 }, { '1': 0.9 }]).lattice.prefixes([L, D, D]);
    expect(reads[3]).toBeNull();
    expect(reads[2]!.plate).toBe('A1');
    expect(reads[1]!.plate).toMatch(/^[A-Z]$/);
    expect(reads[0]!.plate).toBe('');
  });
});

describe('CTC greedy decoding', () => {
  const dictionary = ['A', 'B', 'C', '4', ' '];
  it('collapses repeats, drops blanks, and keeps each character the probability of its first step', () => {
    // blank, C, C, blank, C (a second C after a blank), space, 4, 4, blank
    const probs = steps(6, [
      [0, 0.9],
      [3, 0.8],
      [3, 0.99],
      [0, 0.7],
      [3, 0.6],
      [5, 0.5],
      [4, 0.95],
      [4, 0.2],
      [0, 0.9],
    ]);
    const d = ctcGreedy(probs, 9, 6, dictionary);
    expect(d.text).toBe('CC 4');
    expect(d.probs.map((p) => Math.round(p * 100) / 100)).toEqual([0.8, 0.6, 0.5, 0.95]);
  });
  it('all blanks: no text', () => {
    expect(
      ctcGreedy(
        steps(6, [
          [0, 0.99],
          [0, 0.99],
        ]),
        2,
        6,
        dictionary,
      ),
    ).toEqual({ text: '', probs: [], frames: [], peaks: [] });
  });
});

describe('DB text boxes', () => {
  const W = 200;
  const H = 100;
  function map(paint: (x: number, y: number) => number): Float32Array {
    const m = new Float32Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) m[y * W + x] = paint(x, y);
    return m;
  }

  it('finds each text kernel, grows it back by area × ratio / perimeter, largest first; unsure regions are dropped', () => {
    const m = map((x, y) =>
      x >= 20 && x < 120 && y >= 20 && y < 40
        ? 0.9
        : x >= 150 && x < 170 && y >= 60 && y < 70
          ? 0.45
          : x >= 140 && x < 180 && y >= 80 && y < 90
            ? 0.8
            : 0,
    );
    const boxes = dbBoxes(m, W, H);
    expect(boxes).toHaveLength(2); // the 0.45 region is above the threshold (0.3) but below box_thresh (0.6)
    const [big, small] = boxes;
    expect(big!.score).toBeCloseTo(0.9, 5);
    // 100 × 20 kernel: grown by 100·20·1.5 / (2·120) = 12.5 on each side
    const xs = big!.quad.map((p) => p[0]);
    const ys = big!.quad.map((p) => p[1]);
    expect(Math.min(...xs)).toBeCloseTo(7.5, 5);
    expect(Math.max(...xs)).toBeCloseTo(132.5, 5);
    expect(Math.min(...ys)).toBeCloseTo(7.5, 5);
    expect(Math.max(...ys)).toBeCloseTo(52.5, 5);
    // corners in reading order: top-left, top-right, bottom-right, bottom-left
    expect(big!.quad[0][0]).toBeLessThan(big!.quad[1][0]);
    expect(big!.quad[3][1]).toBeGreaterThan(big!.quad[0][1]);
    expect(small!.score).toBeCloseTo(0.8, 5);
    expect(dbBoxes(m, W, H, { ...DB_DEFAULTS, boxThreshold: 0.4 })).toHaveLength(3);
  });

  it('a tilted line gets a tilted rectangle, its long side first', () => {
    const angle = (10 * Math.PI) / 180;
    const m = map((x, y) => {
      const u = (x - 100) * Math.cos(angle) + (y - 50) * Math.sin(angle);
      const v = -(x - 100) * Math.sin(angle) + (y - 50) * Math.cos(angle);
      return Math.abs(u) < 60 && Math.abs(v) < 8 ? 0.95 : 0;
    });
    const [b] = dbBoxes(m, W, H);
    const [p0, p1] = b!.quad;
    expect((Math.atan2(p1[1] - p0[1], p1[0] - p0[0]) * 180) / Math.PI).toBeCloseTo(10, 0);
  });

  it('minimum-area rectangle of a rotated square is that square', () => {
    const r = minAreaRect(
      hull([
        [0, 5],
        [5, 0],
        [10, 5],
        [5, 10],
        [5, 5],
      ]),
    );
    expect(r.w * r.h).toBeCloseTo(50, 5);
  });
});
