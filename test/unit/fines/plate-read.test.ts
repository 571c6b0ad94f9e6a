import { describe, expect, it } from 'vitest';
import { CORRECTED_AT_MOST, passCandidates, votePlate, type OcrPass } from '../../../shared/fines/plate.js';

/**
 * The plate reader's voting on what tesseract really answered: each pass below is tesseract.js 7's
 * output (best_int English model, letters-and-digits whitelist) for a crop of a photo of
 * test/fixtures/plates (or a tuning photo drawn by the same script with another seed), recorded as
 * [word, word box, [symbol, confidence %, x0, y0, x1, y1]…].
 */
type Sym = [string, number, number, number, number, number];
type Word = [string, [number, number, number, number], Sym[]];
const pass = (...lines: Word[][]): OcrPass => ({
  lines: lines.map((words) => ({
    words: words.map(([text, [x0, y0, x1, y1], syms]) => ({
      text,
      box: { x0, y0, x1, y1 },
      symbols: syms.map(([t, c, sx0, sy0, sx1, sy1]) => ({ text: t, confidence: c / 100, box: { x0: sx0, y0: sy0, x1: sx1, y1: sy1 } })),
    })),
  })),
});

// 013-us-ca.jpg (5HHH019): the engine reads the "H0" pair as "HO0", one glyph twice, and 5 as S.
const californiaDoubled = pass([['SHHHO019', [12, 37, 400, 92], [['S', 15, 12, 38, 93, 92], ['H', 98, 99, 38, 139, 86], ['H', 99, 148, 38, 189, 86], ['H', 98, 197, 38, 238, 85], ['O', 96, 239, 37, 258, 92], ['0', 95, 244, 37, 277, 86], ['1', 98, 284, 38, 316, 85], ['9', 5, 320, 37, 400, 86]]]]);
// 139-es.jpg (9221DTX): the left edge of the plate, past the cut-off EU band, read as a "1".
const spanishEdge = pass([['19221DTX', [14, 25, 412, 99], [['1', 82, 14, 25, 45, 99], ['9', 98, 14, 26, 87, 99], ['2', 98, 96, 25, 133, 77], ['2', 99, 144, 25, 181, 77], ['1', 99, 194, 26, 230, 76], ['D', 28, 264, 26, 311, 76], ['T', 98, 315, 26, 362, 76], ['X', 98, 364, 25, 412, 76]]]]);
// 015-us-nj.jpg (W07CRZ), two preparations: an "O" drawn over the W and the 0.
const jerseyGrey = pass([['WO07CRZ', [33, 33, 341, 80], [['W', 98, 33, 33, 96, 78], ['O', 98, 87, 33, 111, 80], ['0', 98, 101, 33, 138, 79], ['7', 99, 145, 34, 205, 79], ['C', 0, 211, 33, 249, 80], ['R', 98, 258, 34, 298, 79], ['Z', 98, 302, 34, 341, 80]]]]);
const jerseyBinary = pass([['WO07CRZ', [25, 25, 256, 60], [['W', 98, 25, 25, 72, 59], ['O', 97, 66, 25, 84, 60], ['0', 98, 76, 25, 103, 59], ['7', 98, 108, 25, 134, 59], ['C', 0, 140, 25, 187, 60], ['R', 98, 194, 26, 223, 59], ['Z', 98, 227, 26, 256, 59]]]]);
// 172-uk.jpg (GZ01CJN): a monospace J read as I, a letter British plates never carry.
const britishJ = pass([['GZO1CIN', [12, 19, 389, 92], [['G', 84, 12, 19, 84, 92], ['Z', 98, 90, 20, 129, 75], ['O', 96, 134, 20, 171, 76], ['1', 97, 179, 21, 215, 76], ['C', 2, 266, 22, 301, 79], ['I', 96, 307, 23, 342, 79], ['N', 99, 351, 24, 389, 79]]]]);
// 054-de.jpg (WSSUE531): a German plate read whole, its first letter unsure and drawn wide.
const german = pass([['WSSUE531', [12, 30, 508, 110], [['W', 20, 12, 30, 161, 110], ['S', 98, 164, 35, 205, 84], ['S', 98, 210, 35, 252, 84], ['U', 13, 257, 35, 324, 84], ['E', 98, 332, 35, 372, 84], ['5', 70, 396, 35, 431, 84], ['3', 99, 434, 35, 469, 84], ['1', 99, 475, 35, 508, 84]]]]);
// 025-us-ca.jpg (5XKT761) from the tuning photos: the grey crop reads 9, the binarised one 5.
const californiaGrey = pass([['9XKT761', [57, 20, 326, 76], [['9', 92, 57, 20, 89, 75], ['X', 97, 92, 20, 132, 75], ['K', 99, 138, 20, 179, 75], ['T', 98, 181, 20, 220, 75], ['7', 98, 223, 21, 253, 75], ['6', 99, 258, 20, 289, 76], ['1', 99, 296, 21, 326, 76]]]]);
const californiaBinary = pass([['5XKT761', [43, 15, 244, 57], [['5', 96, 43, 15, 67, 56], ['X', 98, 69, 15, 99, 56], ['K', 98, 103, 15, 134, 56], ['T', 98, 136, 15, 164, 56], ['7', 98, 167, 16, 190, 56], ['6', 98, 193, 15, 217, 57], ['1', 98, 222, 16, 244, 57]]]]);

// 219-us-nj.jpg of a third tuning set (T92JRE): the car's "MODEL 3" badge, the first text region found.
const badge = pass([['MODEL3', [19, 16, 379, 76], [['M', 99, 19, 17, 76, 75], ['O', 99, 87, 16, 145, 76], ['D', 98, 156, 17, 207, 75], ['E', 98, 189, 16, 240, 76], ['L', 99, 217, 17, 312, 75], ['3', 45, 339, 16, 379, 76]]]]);

const REVIEW_BELOW = 0.6;

describe('reading a plate from the engine\'s symbols', () => {
  it('drops a glyph read twice (a symbol drawn over its neighbours), not an end character', () => {
    // Dropping the last "9" instead would also fit (SHHHO01 → 5HHH001): that end symbol is not set
    // apart, so it is no suspect.
    expect(votePlate([californiaDoubled], ['us-ca'])).toMatchObject({ plate: '5HHH019', corrected: true });
    expect([...passCandidates(californiaDoubled, ['us-ca']).keys()]).not.toContain('5HHH001');
  });

  it('drops a band\'s edge read as a character at the end', () => {
    expect(votePlate([spanishEdge], ['es'])).toMatchObject({ plate: '9221DTX', corrected: true });
    // The doubled "22" is no reason to drop one of them: their boxes do not overlap.
    expect([...passCandidates(spanishEdge, ['es']).keys()]).not.toContain('1921DTX');
  });

  it('two preparations agreeing make a sure read; the same read from one is less sure', () => {
    const both = votePlate([jerseyGrey, jerseyBinary], ['us-nj'])!;
    expect(both).toMatchObject({ plate: 'W07CRZ', passes: 2, corrected: true });
    const withDissent = votePlate([jerseyGrey, pass()], ['us-nj'])!;
    expect(withDissent.plate).toBe('W07CRZ');
    expect(withDissent.confidence).toBeLessThan(both.confidence / 1.5);
  });

  it('a letter the country does not issue is read as its look-alike (British plates have no I)', () => {
    expect(votePlate([britishJ], ['uk'])).toMatchObject({ plate: 'GZ01CJN', corrected: true });
    // where I is issued, the read stays as it is
    expect(votePlate([britishJ], ['LLDDLLL'])).toMatchObject({ plate: 'GZ01CIN' });
  });

  it('a read that needed look-alike swaps to fit is left for review, however sure the engine was', () => {
    expect(CORRECTED_AT_MOST).toBeLessThan(REVIEW_BELOW);
    expect(votePlate([britishJ, britishJ], ['uk'])!.confidence).toBeLessThanOrEqual(CORRECTED_AT_MOST);
    expect(votePlate([californiaDoubled], ['us-ca'])!.confidence).toBeLessThanOrEqual(CORRECTED_AT_MOST);
    // a badge bent into New Jersey's LDDLLL (O→0 twice, 3→B): each swap costs, and it stays unsure
    const v = votePlate([badge, badge], ['us-nj'])!;
    expect(v).toMatchObject({ plate: 'M00ELB', corrected: true });
    expect(v.confidence).toBeLessThan(REVIEW_BELOW);
    // dropping an invented symbol is no swap: a read agreed on by two preparations stays sure
    expect(votePlate([jerseyGrey, jerseyBinary], ['us-nj'])!.confidence).toBeGreaterThanOrEqual(REVIEW_BELOW);
  });

  it('a whole read that fits is kept as read, even with an unsure end character', () => {
    expect(votePlate([german], ['de'])).toMatchObject({ plate: 'WSSUE531', corrected: false });
  });

  it('preparations that read different plates leave the read for review', () => {
    const v = votePlate([californiaGrey, californiaBinary], ['us-ca'])!;
    expect(['9XKT761', '5XKT761']).toContain(v.plate);
    expect(v.passes).toBe(1);
    expect(v.confidence).toBeLessThan(REVIEW_BELOW);
    // each alone would have been sure: the disagreement is what flags it
    expect(votePlate([californiaGrey], ['us-ca'])!.confidence).toBeGreaterThanOrEqual(REVIEW_BELOW);
  });

  it('nothing plate-like: no vote', () => {
    expect(votePlate([], ['us-ny'])).toBeNull();
    expect(votePlate([pass([['TEXAS', [0, 0, 100, 20], [['T', 99, 0, 0, 20, 20], ['E', 99, 20, 0, 40, 20], ['X', 99, 40, 0, 60, 20], ['A', 99, 60, 0, 80, 20], ['S', 99, 80, 0, 100, 20]]]])], ['us-tx'])).toBeNull();
  });
});
