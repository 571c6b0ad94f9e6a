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
  /** each character's probability at the most probable frame of its run (its peak) */
  peaks: number[];
}

/**
 * `probs` is [steps × classes] row-major softmax output; class k ≥ 1 is `dictionary[k - 1]`. A class the
 * dictionary has no entry for decodes as nothing.
 */
export function ctcGreedy(probs: Float32Array, steps: number, classes: number, dictionary: readonly string[]): DecodedText {
  const chars: string[] = [];
  const out: number[] = [];
  const frames: number[] = [];
  const peaks: number[] = [];
  let prev = -1;
  // whether the current run of `prev` is a kept character (its peak is updated while the run goes on)
  let kept = false;
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
    if (best !== prev) {
      const c = best === 0 ? undefined : dictionary[best - 1];
      kept = c !== undefined;
      if (c !== undefined) {
        chars.push(c);
        out.push(p);
        frames.push(t);
        peaks.push(p);
      }
    } else if (kept && p > peaks[peaks.length - 1]!) peaks[peaks.length - 1] = p;
    prev = best;
  }
  return { text: chars.join(''), probs: out, frames, peaks };
}

/**
 * A plate's symbols: the CTC blank, any other symbol (a space, a dash, a character no plate has: read as a
 * separator, as normalizePlate drops it), then A–Z and 0–9.
 */
const BLANK = 0;
const OTHER = 1;
const PLATE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SYMBOLS = 2 + PLATE_CHARS.length;
const foldCache = new WeakMap<readonly string[], { fold: Int16Array; members: Int32Array[] }>();

/**
 * Each dictionary class's symbol: a letter in any case or width is that letter (NFKC, upper case), as normalizePlate
 * reads it; and each letter's or digit's classes (`members[s]`, for the summed folding).
 */
function symbolsOf(dictionary: readonly string[]): { fold: Int16Array; members: Int32Array[] } {
  let out = foldCache.get(dictionary);
  if (!out) {
    const fold = new Int16Array(dictionary.length + 1);
    fold[0] = BLANK;
    const members: number[][] = Array.from({ length: SYMBOLS }, () => []);
    dictionary.forEach((c, k) => {
      const i = PLATE_CHARS.indexOf(c.normalize('NFKC').toUpperCase());
      fold[k + 1] = c.length > 0 && i >= 0 && [...c].length === 1 ? 2 + i : OTHER;
      if (fold[k + 1]! >= 2) members[fold[k + 1]!]!.push(k + 1);
    });
    out = { fold, members: members.map((m) => Int32Array.from(m)) };
    foldCache.set(dictionary, out);
  }
  return out;
}

/**
 * A line's posterior under a constraint (`CtcLattice.posterior`): how probable it is that the line reads so, and
 * given that, each position's probability of each character.
 */
export interface LinePosterior {
  /** log P(the line's letters and digits are exactly `allowed.length`, the i-th one of `allowed[i]` | the frames) */
  logZ: number;
  /** P(the i-th letter or digit is c | the frames, the line reads so) */
  marginal(i: number, c: string): number;
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
  /** each character's probability at the most probable frame of its run on the path */
  peaks: number[];
}

/**
 * A text line's CTC output folded to plate symbols (per frame: blank, other, A–Z, 0–9, each the most probable
 * of the classes that read as it), kept to read the line again under a plate format (`prefixes`).
 */
export class CtcLattice {
  private readonly folded: { p: Float32Array; logp: Float32Array; best: Int16Array; bestLog: number; sum: Float32Array };
  private readonly cache = new Map<string, (ConstrainedRead | null)[]>();
  private readonly posteriors = new Map<string, LinePosterior | null>();

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
    const { fold, members } = symbolsOf(dictionary);
    const p = new Float32Array(steps * SYMBOLS);
    // summed folding: each symbol's probability is the sum of its classes' (the blank's own; the separator's the rest)
    const sum = new Float32Array(steps * SYMBOLS);
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
      let chars = 0;
      for (let s = 2; s < SYMBOLS; s++) {
        let v = 0;
        for (const k of members[s]!) if (k < classes) v += probs[row + k]!;
        sum[out + s] = v;
        chars += v;
      }
      sum[out + BLANK] = probs[row]!;
      sum[out + OTHER] = Math.max(0, 1 - probs[row]! - chars);
    }
    return { p, logp, best, bestLog, sum };
  }

  /**
   * How sure the model is which letter or digit a frame shows, leaving out whether one is there: the frame's
   * best symbol's probability among the letters and digits alone (1 where its best is a blank or a separator).
   * `folding` 'sum': each symbol's probability the sum of its classes' (upper and lower case, full width), not the most probable one's.
   */
  certainty(t: number, folding: 'max' | 'sum' = 'max'): number {
    const { best } = this.folded;
    const p = folding === 'sum' ? this.folded.sum : this.folded.p;
    const b = best[t]!;
    if (b < 2) return 1;
    let sum = 0;
    for (let s = 2; s < SYMBOLS; s++) sum += p[t * SYMBOLS + s]!;
    return p[t * SYMBOLS + b]! / Math.max(sum, 1e-30);
  }

  /**
   * The model's own posterior for the line read under a constraint: the line's letters and digits are exactly
   * `allowed.length`, the i-th one of `allowed[i]`. A forward–backward over every CTC alignment that reads so, on
   * the summed folding (each symbol's probability the sum of its classes': upper and lower case, full width; a gap
   * frame's the blank's and the separators' together): blanks and separators anywhere, a character's run one symbol
   * repeated, two equal characters in a row need a gap between them. Each frame's forward values are scaled to sum
   * to 1 and the scales kept as logs (Rabiner's scaling): exact, and no underflow on long lines. null when no
   * alignment reads so (too few frames). Cost: frames × (positions + allowed characters), a few multiplications each.
   */
  posterior(allowed: readonly string[]): LinePosterior | null {
    const key = allowed.join('|');
    const hit = this.posteriors.get(key);
    if (hit !== undefined) return hit;
    const out = this.forwardBackward(allowed);
    if (this.posteriors.size > 256) this.posteriors.clear();
    this.posteriors.set(key, out);
    return out;
  }

  private forwardBackward(allowed: readonly string[]): LinePosterior | null {
    const n = allowed.length;
    const T = this.steps;
    const q = this.folded.sum;
    const sets = allowed.map((a) => Int16Array.from(new Set([...a].map((c) => 2 + PLATE_CHARS.indexOf(c)).filter((s) => s >= 2))));
    if (T === 0 || sets.some((x) => x.length === 0)) return null;
    // states: gap(j) = j (j characters read, between runs); char(j, i) = base[j] + i, the j-th character's run, symbol sets[j-1][i]
    const base: number[] = [0];
    let S = n + 1;
    for (let j = 1; j <= n; j++) {
      base[j] = S;
      S += sets[j - 1]!.length;
    }
    // the state of position j−1 (for prev) or j+1 (for next) with the same symbol, −1 where there is none
    const same = (j: number, i: number, k: number) => (k < 1 || k > n ? -1 : sets[k - 1]!.indexOf(sets[j - 1]![i]!));
    const samePrev = sets.map((x, j0) => Int32Array.from(x, (_, i) => same(j0 + 1, i, j0)));
    const sameNext = sets.map((x, j0) => Int32Array.from(x, (_, i) => same(j0 + 1, i, j0 + 2)));
    const total = (row: Float64Array, j: number) => {
      let v = 0;
      for (let i = 0; i < sets[j - 1]!.length; i++) v += row[base[j]! + i]!;
      return v;
    };
    const alpha = new Float64Array(T * S);
    const scale = new Float64Array(T);
    let logScale = 0;
    for (let t = 0; t < T; t++) {
      const cur = alpha.subarray(t * S, (t + 1) * S);
      const qt = t * SYMBOLS;
      const gap = q[qt + BLANK]! + q[qt + OTHER]!;
      if (t === 0) {
        cur[0] = gap;
        if (n >= 1) sets[0]!.forEach((s, i) => (cur[base[1]! + i] = q[qt + s]!));
      } else {
        const prev = alpha.subarray((t - 1) * S, t * S);
        const totals = [0];
        for (let j = 1; j <= n; j++) totals[j] = total(prev, j);
        for (let j = 0; j <= n; j++) cur[j] = (prev[j]! + totals[j]!) * gap;
        for (let j = 1; j <= n; j++)
          sets[j - 1]!.forEach((s, i) => {
            const me = base[j]! + i;
            let v = prev[me]! + prev[j - 1]!;
            if (j >= 2) {
              const k = samePrev[j - 1]![i]!;
              v += Math.max(0, totals[j - 1]! - (k >= 0 ? prev[base[j - 1]! + k]! : 0));
            }
            cur[me] = v * q[qt + s]!;
          });
      }
      let c = 0;
      for (let x = 0; x < S; x++) c += cur[x]!;
      if (!(c > 0)) return null;
      for (let x = 0; x < S; x++) cur[x] = cur[x]! / c;
      scale[t] = c;
      logScale += Math.log(c);
    }
    const last = alpha.subarray((T - 1) * S, T * S);
    const z = last[n]! + (n >= 1 ? total(last, n) : 0);
    if (!(z > 0)) return null;
    // backward, scaled by the same factors; entries into each character's run summed on the way
    const marg = sets.map((x) => new Float64Array(x.length));
    let beta = new Float64Array(S);
    let prevBeta = new Float64Array(S);
    beta[n] = 1;
    if (n >= 1) for (let i = 0; i < sets[n - 1]!.length; i++) beta[base[n]! + i] = 1;
    for (let t = T - 1; t >= 0; t--) {
      const qt = t * SYMBOLS;
      if (t === 0) {
        if (n >= 1) sets[0]!.forEach((_, i) => (marg[0]![i]! += (alpha[base[1]! + i]! * beta[base[1]! + i]!) / z));
        break;
      }
      const a = alpha.subarray((t - 1) * S, t * S);
      for (let j = 1; j <= n; j++) {
        const pt = j >= 2 ? total(a, j - 1) : 0;
        sets[j - 1]!.forEach((s, i) => {
          const k = j >= 2 ? samePrev[j - 1]![i]! : -1;
          const pred = a[j - 1]! + (j >= 2 ? Math.max(0, pt - (k >= 0 ? a[base[j - 1]! + k]! : 0)) : 0);
          marg[j - 1]![i]! += (pred * q[qt + s]! * beta[base[j]! + i]!) / (scale[t]! * z);
        });
      }
      // β̂(t−1) from β̂(t): emissions at frame t
      const gap = q[qt + BLANK]! + q[qt + OTHER]!;
      const into = [0]; // into[j]: Σ over the j-th character's symbols of β̂(t) × q(t)
      for (let j = 1; j <= n; j++) {
        let v = 0;
        sets[j - 1]!.forEach((s, i) => (v += beta[base[j]! + i]! * q[qt + s]!));
        into[j] = v;
      }
      for (let j = 0; j <= n; j++) prevBeta[j] = (beta[j]! * gap + (j < n ? into[j + 1]! : 0)) / scale[t]!;
      for (let j = 1; j <= n; j++)
        sets[j - 1]!.forEach((s, i) => {
          const me = base[j]! + i;
          let v = beta[me]! * q[qt + s]! + beta[j]! * gap;
          if (j < n) {
            const k = sameNext[j - 1]![i]!;
            v += Math.max(0, into[j + 1]! - (k >= 0 ? beta[base[j + 1]! + k]! * q[qt + s]! : 0));
          }
          prevBeta[me] = v / scale[t]!;
        });
      [beta, prevBeta] = [prevBeta, beta];
    }
    const logZ = logScale + Math.log(z);
    return {
      logZ,
      marginal: (i, c) => {
        const at = sets[i]?.indexOf(2 + PLATE_CHARS.indexOf(c)) ?? -1;
        return at >= 0 ? Math.min(1, marg[i]![at]!) : 0;
      },
    };
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
      const peaks: number[] = [];
      let overruled = 1;
      for (let t = 0; t < T; t++) {
        const row = t * SYMBOLS;
        const gap = path[t]! <= n;
        const sym = gap ? BLANK : symbolOf(path[t]!);
        const p = gap ? Math.max(P[row + BLANK]!, P[row + OTHER]!) : P[row + sym]!;
        if (!gap && (t === 0 || path[t - 1] !== path[t])) {
          plate += PLATE_CHARS[sym - 2];
          probs.push(p);
          peaks.push(p);
        } else if (!gap && p > peaks[peaks.length - 1]!) peaks[peaks.length - 1] = p;
        const b = best[t]!;
        if (b >= 2 && (gap || sym !== b)) overruled = Math.min(overruled, p);
      }
      out.push({ plate, probs, overruled, logRatio: Math.min(0, score[end]! - bestLog), peaks });
    }
    if (this.cache.size > 64) this.cache.clear();
    this.cache.set(key, out);
    return out;
  }
}
