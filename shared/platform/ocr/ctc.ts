/**
 * CTC greedy decoding of a text-recognition model's output (PaddleOCR's CTCLabelDecode): at each time step
 * the most probable class; runs of one class collapse to one character and the blank (class 0) is dropped.
 * Each character keeps the model's probability for it (the first step of its run, as PaddleOCR does), so
 * a read's confidence is the model's own, character by character. `CtcLattice` keeps a line's output folded
 * to plate symbols, to read it again as the most probable string a plate format allows (shared/fines/plate.ts).
 */
export interface DecodedText {
  text: string;
  /** one per character of `text` (by code point), 0–1 */
  probs: number[];
  /** each character's first frame */
  frames: number[];
}

/**
 * `probs` is [steps × classes] row-major softmax output; class k ≥ 1 is `dictionary[k - 1]`. A class the
 * dictionary has no entry for decodes as nothing.
 */
export function ctcGreedy(probs: Float32Array, steps: number, classes: number, dictionary: readonly string[]): DecodedText {
  const chars: string[] = [];
  const out: number[] = [];
  const frames: number[] = [];
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let p = -Infinity;
    const row = t * classes;
    for (let k = 0; k < classes; k++) {
      const v = probs[row + k]!;
      if (v > p) {
        p = v;
        best = k;
      }
    }
    if (best !== 0 && best !== prev) {
      const c = dictionary[best - 1];
      if (c !== undefined) {
        chars.push(c);
        out.push(p);
        frames.push(t);
      }
    }
    prev = best;
  }
  return { text: chars.join(''), probs: out, frames };
}

/**
 * A plate's symbols: the CTC blank, any other symbol (a space, a dash, a character no plate has: read as a
 * separator, as normalizePlate drops it), then A–Z and 0–9.
 */
const BLANK = 0;
const OTHER = 1;
const PLATE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SYMBOLS = 2 + PLATE_CHARS.length;
const foldCache = new WeakMap<readonly string[], Int16Array>();

/** Each dictionary class's symbol: a letter in any case or width is that letter (NFKC, upper case), as normalizePlate reads it. */
function symbolsOf(dictionary: readonly string[]): Int16Array {
  let out = foldCache.get(dictionary);
  if (!out) {
    out = new Int16Array(dictionary.length + 1);
    out[0] = BLANK;
    dictionary.forEach((c, k) => {
      const i = PLATE_CHARS.indexOf(c.normalize('NFKC').toUpperCase());
      out![k + 1] = c.length > 0 && i >= 0 && [...c].length === 1 ? 2 + i : OTHER;
    });
    foldCache.set(dictionary, out);
  }
  return out;
}

/** The most probable reading of a line under a constraint, from the model's per-frame probabilities. */
export interface ConstrainedRead {
  /** letters and digits, upper case */
  plate: string;
  /** each character's probability at the first frame of its run (as the greedy reading's) */
  probs: number[];
  /** the least probability the path gives a frame where it overrules the model's best symbol, a letter or digit (1: never) */
  overruled: number;
  /** the path's log probability minus the best path's (≤ 0) */
  logRatio: number;
}

/**
 * A text line's CTC output folded to plate symbols (per frame: blank, other, A–Z, 0–9, each the most probable
 * of the classes that read as it), kept to read the line again under a plate format (`prefixes`).
 */
export class CtcLattice {
  private readonly folded: { p: Float32Array; logp: Float32Array; best: Int16Array; bestLog: number };
  private readonly cache = new Map<string, (ConstrainedRead | null)[]>();

  /** Folds the recogniser's output at once: a line's raw output (steps × ~6,600 classes) is not kept. */
  constructor(
    probs: Float32Array,
    readonly steps: number,
    classes: number,
    dictionary: readonly string[],
  ) {
    this.folded = CtcLattice.fold(probs, steps, classes, dictionary);
  }

  private static fold(probs: Float32Array, steps: number, classes: number, dictionary: readonly string[]) {
    const fold = symbolsOf(dictionary);
    const p = new Float32Array(steps * SYMBOLS);
    const logp = new Float32Array(steps * SYMBOLS);
    const best = new Int16Array(steps);
    let bestLog = 0;
    for (let t = 0; t < steps; t++) {
      const row = t * classes;
      const out = t * SYMBOLS;
      for (let k = 0; k < classes; k++) {
        const s = k < fold.length ? fold[k]! : OTHER;
        const v = probs[row + k]!;
        if (v > p[out + s]!) p[out + s] = v;
      }
      let b = 0;
      for (let s = 0; s < SYMBOLS; s++) {
        logp[out + s] = Math.log(Math.max(p[out + s]!, 1e-30));
        if (p[out + s]! > p[out + b]!) b = s;
      }
      best[t] = b;
      bestLog += logp[out + b]!;
    }
    return { p, logp, best, bestLog };
  }

  /**
   * How sure the model is which letter or digit a frame shows, leaving out whether one is there: the frame's
   * best symbol's probability among the letters and digits alone (1 where its best is a blank or a separator).
   */
  certainty(t: number): number {
    const { p, best } = this.folded;
    const b = best[t]!;
    if (b < 2) return 1;
    let sum = 0;
    for (let s = 2; s < SYMBOLS; s++) sum += p[t * SYMBOLS + s]!;
    return p[t * SYMBOLS + b]! / Math.max(sum, 1e-30);
  }

  /**
   * For k = 0…allowed.length: the most probable reading of the whole line whose letters and digits are exactly
   * k characters, the i-th one of `allowed[i]` (a string of the characters allowed there); null where no path
   * reads so. Blanks and other symbols (separators) may stand anywhere. Viterbi over CTC paths: a character's
   * run is one symbol repeated, and two equal characters in a row need a blank or a separator between them.
   */
  prefixes(allowed: readonly string[]): (ConstrainedRead | null)[] {
    const key = allowed.join('|');
    const hit = this.cache.get(key);
    if (hit) return hit;
    const n = allowed.length;
    const T = this.steps;
    const { p: P, logp, best, bestLog } = this.folded;
    const sets = allowed.map((a) => [...new Set([...a].map((c) => 2 + PLATE_CHARS.indexOf(c)).filter((s) => s >= 2))]);
    // states: gap(j) = j (j characters read, between runs), then char(j, s): the j-th character's run, symbol s
    const charBase: number[] = [];
    let S = n + 1;
    for (let j = 1; j <= n; j++) {
      charBase[j] = S;
      S += sets[j - 1]!.length;
    }
    let score = new Float64Array(S).fill(-Infinity);
    let next = new Float64Array(S);
    score[0] = 0;
    const back = new Int32Array(T * S).fill(-1);
    for (let t = 0; t < T; t++) {
      const row = t * SYMBOLS;
      const gapLog = Math.max(logp[row + BLANK]!, logp[row + OTHER]!);
      next.fill(-Infinity);
      for (let j = 0; j <= n; j++) {
        // stay between runs, or end the j-th character's run
        let from = j;
        let v = score[j]!;
        if (j >= 1)
          sets[j - 1]!.forEach((_, i) => {
            if (score[charBase[j]! + i]! > v) {
              v = score[charBase[j]! + i]!;
              from = charBase[j]! + i;
            }
          });
        if (v > -Infinity) {
          next[j] = v + gapLog;
          back[t * S + j] = from;
        }
        if (j === 0) continue;
        // the j-th character: its run goes on, starts after a gap, or follows another character directly
        sets[j - 1]!.forEach((s, i) => {
          const me = charBase[j]! + i;
          let bv = score[me]!;
          let bf = me;
          if (score[j - 1]! > bv) {
            bv = score[j - 1]!;
            bf = j - 1;
          }
          if (j >= 2)
            sets[j - 2]!.forEach((s2, i2) => {
              const prev = charBase[j - 1]! + i2;
              if (s2 !== s && score[prev]! > bv) {
                bv = score[prev]!;
                bf = prev;
              }
            });
          if (bv > -Infinity) {
            next[me] = bv + logp[row + s]!;
            back[t * S + me] = bf;
          }
        });
      }
      [score, next] = [next, score];
    }
    const symbolOf = (state: number): number => {
      for (let j = n; j >= 1; j--) if (state >= charBase[j]!) return sets[j - 1]![state - charBase[j]!]!;
      return BLANK;
    };
    const out: (ConstrainedRead | null)[] = [];
    for (let k = 0; k <= n; k++) {
      let end = k;
      if (k >= 1) sets[k - 1]!.forEach((_, i) => (score[charBase[k]! + i]! > score[end]! ? (end = charBase[k]! + i) : 0));
      if (score[end] === -Infinity || T === 0) {
        out.push(null);
        continue;
      }
      // back through the frames: the path's state at each one
      const path = new Int32Array(T);
      let st = end;
      for (let t = T - 1; t >= 0; t--) {
        path[t] = st;
        st = back[t * S + st]!;
      }
      let plate = '';
      const probs: number[] = [];
      let overruled = 1;
      for (let t = 0; t < T; t++) {
        const row = t * SYMBOLS;
        const gap = path[t]! <= n;
        const sym = gap ? BLANK : symbolOf(path[t]!);
        const p = gap ? Math.max(P[row + BLANK]!, P[row + OTHER]!) : P[row + sym]!;
        if (!gap && (t === 0 || path[t - 1] !== path[t])) {
          plate += PLATE_CHARS[sym - 2];
          probs.push(p);
        }
        const b = best[t]!;
        if (b >= 2 && (gap || sym !== b)) overruled = Math.min(overruled, p);
      }
      out.push({ plate, probs, overruled, logRatio: Math.min(0, score[end]! - bestLog) });
    }
    if (this.cache.size > 64) this.cache.clear();
    this.cache.set(key, out);
    return out;
  }
}
