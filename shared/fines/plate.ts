/** Text found in an image, in image pixel coordinates. Both OCR adapters produce these. */
export interface TextDetection {
  text: string;
  /** 0–1 when the engine gives one */
  confidence: number | null;
  /** the engine's probability for each character of `text` (by code point), when it gives them (a CTC recogniser does) */
  charConfidences?: readonly number[];
  /** each character's first frame in `alternatives` (a CTC recogniser's), for `certainty` */
  charFrames?: readonly number[];
  /** each character's probability at the most probable frame of its run (a CTC recogniser's), for `RankOptions.aggregate` 'peak' */
  charPeaks?: readonly number[];
  /** what the recogniser also considered, to read the line again under a plate format (a CTC model's lattice) */
  alternatives?: LineAlternatives;
  box: Box;
}

/**
 * A recogniser's other readings of one text line (shared/platform/ocr/ctc.ts keeps a CTC model's per-frame
 * probabilities). `prefixes(allowed)[k]` is the most probable reading of the whole line whose letters and digits
 * are exactly k characters, the i-th one of the characters in `allowed[i]`; null where none can be read so.
 */
export interface LineAlternatives {
  prefixes(allowed: readonly string[]): ({
    plate: string;
    /** each character's probability, as the engine gives the line's own */
    probs: readonly number[];
    /** the least probability the reading gives where it overrules the engine's best symbol (1: never) */
    overruled: number;
    /** its log probability minus the engine's best reading's (≤ 0) */
    logRatio: number;
    /** each character's probability at the most probable frame of its run, for 'peak' */
    peaks?: readonly number[];
  } | null)[];
  /**
   * how sure the engine is which letter or digit a frame shows, leaving out whether one is there (its
   * probability among the letters and digits alone): `RankOptions.aggregate` 'certainty'
   */
  certainty(frame: number, folding?: 'max' | 'sum'): number;
  /**
   * the engine's posterior for the line read under `allowed` (as `prefixes`, exactly allowed.length characters):
   * log P(it reads so), and P(its i-th character is c | it reads so); null where it cannot: 'posterior'
   */
  posterior(allowed: readonly string[]): { logZ: number; marginal(i: number, c: string): number } | null;
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface PlateRead {
  /** letters and digits only, upper case: "CCC 444" is CCC444, "B-MW 1234" is BMW1234 */
  plate: string;
  /** 0–1 */
  confidence: number;
  box: Box;
  /**
   * whether the plate fits one of the expected formats; false when none are expected (nothing to check the read
   * against: a person confirms it)
   */
  formatMatch: boolean;
}

/**
 * Expected plate formats, as templates over the normalised plate: `L` a letter, `D` a digit, `A`
 * either; a token may repeat `{m,n}` times. A radar lists its country's (New York's by default) to
 * rank candidates; a plate outside them is still read, flagged.
 */
export const PLATE_FORMAT_PRESETS: Record<string, readonly string[]> = {
  'us-ny': ['LLLDDDD'],
  'us-ca': ['DLLLDDD'],
  'us-tx': ['LLLDDDD'],
  'us-nj': ['LDDLLL', 'LLLDDL'],
  'us-pa': ['LLLDDDD'],
  uk: ['LLDDLLL'],
  se: ['LLLDDD', 'LLLDDL'],
  de: ['L{1,3}L{1,2}D{1,4}'],
  es: ['DDDDLLL'],
  fr: ['LLDDDLL'],
  it: ['LLDDDLL'],
  nl: ['LLDDLL', 'DDLLLD', 'LDDLLL', 'LLLDDL', 'DLLLDD', 'LDDDLL', 'LLDDDL', 'DDLLDD'],
  pl: ['LLDDDDD', 'LLLDDDD', 'LLDDDLL'],
};
export const NY_FORMATS: readonly string[] = PLATE_FORMAT_PRESETS['us-ny']!;

/**
 * Letters a country's registration series never issue (its rules leave out those that look like digits or
 * like each other): a read with one of them at a letter position is mistaken. Only where the rule is
 * national and certain; a preset not listed here accepts every letter.
 */
export const PLATE_LETTERS_UNUSED: Record<string, string> = {
  uk: 'IQ', // DVLA: I and Q are not used in the current series
  es: 'AEIOUQ', // since 2000: consonants only, no Q (nor Ñ)
  nl: 'AEIOUCQ', // sidecodes: no vowels, no C or Q
};

const MIN_LEN = 2;
const MAX_LEN = 8;

/** A format's fixed-length templates: "L{1,2}D" → ["LD", "LLD"]. Throws on a malformed format. */
export function expandFormat(format: string): string[] {
  const tokens: { c: string; min: number; max: number }[] = [];
  const re = /([LDA])(?:\{(\d),(\d)\})?/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(format))) {
    const min = m[2] ? Number(m[2]) : 1;
    const max = m[3] ? Number(m[3]) : 1;
    if (min > max || max < 1) throw new Error(`plate format "${format}": bad repeat {${min},${max}}`);
    tokens.push({ c: m[1]!, min, max });
    at = re.lastIndex;
  }
  if (at !== format.length || tokens.length === 0)
    throw new Error(`plate format "${format}": use L (letter), D (digit), A (either), optionally with {m,n}`);
  let out = [''];
  for (const t of tokens) {
    const next: string[] = [];
    for (const prefix of out) for (let k = t.min; k <= t.max; k++) next.push(prefix + t.c.repeat(k));
    out = next.filter((x) => x.length <= MAX_LEN);
    if (out.length > 256) throw new Error(`plate format "${format}": too many variants`);
  }
  return [...new Set(out.filter((x) => x.length >= MIN_LEN))];
}

/** Formats by preset name or template, expanded once. */
export function resolvePlateFormats(list: readonly string[]): string[] {
  return [...new Set(resolveTemplates(list).map((t) => t.pattern))];
}

interface Template {
  /** L, D and A, one per character */
  pattern: string;
  /** letters that never stand at an L position (the preset's country does not issue them) */
  unused: string;
}
const templateCache = new Map<string, Template[]>();

function resolveTemplates(list: readonly string[]): Template[] {
  const key = list.join('\u0000');
  let out = templateCache.get(key);
  if (!out) {
    const seen = new Map<string, Template>();
    for (const f of list)
      for (const g of PLATE_FORMAT_PRESETS[f] ?? [f])
        for (const pattern of expandFormat(g)) {
          const unused = PLATE_LETTERS_UNUSED[f] ?? '';
          const prev = seen.get(pattern);
          // The same pattern from two presets: a letter is unused only if both leave it out.
          seen.set(pattern, { pattern, unused: prev ? [...unused].filter((c) => prev.unused.includes(c)).join('') : unused });
        }
    out = [...seen.values()];
    if (templateCache.size > 256) templateCache.clear();
    templateCache.set(key, out);
  }
  return out;
}

/** Letters and digits, upper case (full-width forms folded: the model's dictionary has both). */
export function normalizePlate(raw: string): string {
  return raw
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '');
}

const fits = (text: string, t: Template) =>
  text.length === t.pattern.length &&
  [...t.pattern].every(
    (p, i) => p === 'A' || (p === 'L' ? /[A-Z]/.test(text[i]!) && !t.unused.includes(text[i]!) : /[0-9]/.test(text[i]!)),
  );

/**
 * Whether OCR text can be a plate of the expected formats. The model reader's characters are taken as
 * read: look-alike swaps (O↔0, S↔5…) to force a format changed no read of the calibration set
 * (docs/ocr.md), so a text outside the formats stays outside, flagged. Without expected formats any 2–8
 * letters and digits are a plate, never trusted unchecked. Returns null when the text cannot be a plate at all.
 */
export function fitPlate(raw: string, formats: readonly string[] = NY_FORMATS): { plate: string; formatMatch: boolean } | null {
  const text = normalizePlate(raw);
  if (text.length < MIN_LEN || text.length > MAX_LEN) return null;
  // Without formats a read is a plate still, but one a person confirms: nothing shows a character missed or made
  // up, or a state's name read for a number. OpenALPR's 55 photographed blank US plates gave 27 state names and
  // slogans at 0.82–0.99, and held-out set 5c two plates read without their first character at 0.99 (docs/ocr.md).
  const formatMatch = formats.length > 0 && resolveTemplates(formats).some((t) => fits(text, t));
  return { plate: text, formatMatch };
}

/** How the plate reader turns detections into candidates; the defaults are the measured choice (docs/ocr.md). */
export interface RankOptions {
  /**
   * a candidate's confidence from its characters' probabilities (each at its first frame): the least sure one, or their
   * mean; or the least certainty (`LineAlternatives.certainty`); measured, not the default (docs/ocr.md):
   * 'peak' the least probability at the most probable frame of each character's run; 'posterior' the least of the
   * chosen characters' posteriors given the formats (`posteriorConfidence`); 'posterior-joint' the same not conditioned
   * on the formats (P(the character is c and the string fits, of this length)); 'certainty-sum' the certainty on the
   * summed folding. 'mean' and 'certainty' also rank the candidates; the last three only set the confidence
   * (candidates are ranked as with 'min', so the reads are min's).
   */
  aggregate: Aggregate;
  /** a line read outside every format is read again as the most probable string that fits one (`LineAlternatives`) */
  constrained: boolean;
}
export const AGGREGATES = ['min', 'mean', 'certainty', 'peak', 'posterior', 'posterior-joint', 'certainty-sum'] as const;
export type Aggregate = (typeof AGGREGATES)[number];
export const RANK_DEFAULTS: RankOptions = { aggregate: 'min', constrained: true };

/**
 * Every plausible plate among detected texts, best first. Candidates are each detection, each run of
 * neighbouring detections on one line (engines split "ABC 1234"), and a line over the line below it (a
 * two-line plate). A candidate's confidence is the engine's: with per-character probabilities (the model
 * reader), the least sure of the plate's letters and digits (a dash or a space does not count); else the
 * least sure detection's. A read outside every expected format keeps its confidence (the fine path flags
 * it for its format). The ranking score lowers candidates outside the formats, those made only of letters
 * or only of digits (a state name, a dealer's slogan, "TESLA.COM") and those whose characters are smaller
 * than the tallest text (the plate's are the largest).
 */
export function rankPlates(
  detections: readonly TextDetection[],
  formats: readonly string[] = NY_FORMATS,
  options: Partial<RankOptions> = {},
): PlateRead[] {
  const opts: RankOptions = { ...RANK_DEFAULTS, ...options };
  const candidates = new Map<string, PlateRead & { score: number }>();
  const sorted = [...detections].filter((d) => d.text.trim().length > 0).sort((a, b) => a.box.y0 - b.box.y0 || a.box.x0 - b.box.x0);
  const tallest = Math.max(1, ...sorted.map((d) => height(d.box)));
  const consider = (group: readonly TextDetection[]) => {
    const fit = fitPlate(group.map((d) => d.text).join(''), formats);
    const { aggregate } = opts;
    const ranksToo = aggregate === 'mean' || aggregate === 'certainty';
    // Without formats, a character missed or made up would go unseen: there, the model's own probability.
    const sure = groupConfidence(group, ranksToo ? (aggregate === 'certainty' && formats.length === 0 ? 'min' : aggregate) : 'min');
    let confidence = sure;
    if (aggregate === 'peak') confidence = groupConfidence(group, 'peak');
    else if (aggregate === 'certainty-sum' && formats.length > 0) confidence = groupConfidence(group, 'certainty-sum');
    else if ((aggregate === 'posterior' || aggregate === 'posterior-joint') && fit?.formatMatch)
      confidence =
        posteriorConfidence(group, fit.plate, resolveTemplates(formats), fit.plate.length, aggregate === 'posterior-joint') ?? sure;
    const h = Math.min(...group.map((d) => height(d.box)));
    const add = (plate: string, formatMatch: boolean, confidence: number, likelihood: number) => {
      const mixed = /[A-Z]/.test(plate) && /[0-9]/.test(plate);
      const score = likelihood * (mixed ? 1 : 0.4) * (h >= tallest * 0.6 ? 1 : 0.5) * (formatMatch ? 1 : 0.35);
      const prev = candidates.get(plate);
      if (!prev || score > prev.score)
        candidates.set(plate, { plate, formatMatch, confidence, score, box: union(group.map((d) => d.box)) });
    };
    if (fit) add(fit.plate, fit.formatMatch, confidence, sure);
    if (fit?.formatMatch || !opts.constrained || formats.length === 0) return;
    const read = fitByAlternatives(group, resolveTemplates(formats), normalizePlate(group.map((d) => d.text).join('')).length, opts);
    // ranked by the line's own reading, lowered by how much less probable the model finds the fitted one
    if (read) add(read.plate, true, read.confidence, sure * Math.exp(read.logRatio / read.plate.length));
  };
  const cy = (d: TextDetection) => (d.box.y0 + d.box.y1) / 2;
  // The next text to the right on the same line (a tilted plate's right half may sit higher than its left).
  const rightOf = (prev: TextDetection) => {
    let best: TextDetection | null = null;
    for (const d of sorted) {
      if (d === prev || d.box.x0 <= prev.box.x0 || Math.abs(cy(d) - cy(prev)) >= Math.max(height(prev.box), height(d.box)) * 0.5) continue;
      if (!best || d.box.x0 < best.box.x0) best = d;
    }
    return best;
  };
  for (let i = 0; i < sorted.length; i++) {
    const top = sorted[i]!;
    consider([top]);
    const line = [top];
    for (let next = rightOf(top); next && line.length < 4; next = rightOf(next)) {
      line.push(next);
      consider(line);
    }
    for (let j = i + 1; j < sorted.length; j++) {
      const d = sorted[j]!;
      // a two-line plate: this line over the next, overlapping across, close below, of a like size
      const ht = height(top.box);
      const hd = height(d.box);
      const across = Math.min(top.box.x1, d.box.x1) - Math.max(top.box.x0, d.box.x0);
      const gap = d.box.y0 - top.box.y1;
      const overlapping = across > 0.5 * Math.min(top.box.x1 - top.box.x0, d.box.x1 - d.box.x0);
      if (overlapping && gap > -0.3 * ht && gap < 0.8 * Math.min(ht, hd) && hd < ht * 2 && ht < hd * 2.5) consider([top, d]);
    }
  }
  return [...candidates.values()]
    .sort((a, b) => b.score - a.score || b.plate.length - a.plate.length)
    .map(({ score: _score, ...read }) => read);
}

/** Why a plate read needs a person (a fine's `review_reason` from its read). */
export type PlateReview = 'plate_not_read' | 'low_confidence' | 'plate_mismatch' | 'plate_format_unexpected';

/**
 * Why a plate read needs a person before a notice (null: none): nothing read, less sure than the review
 * threshold, not the plate the message claims, or outside the radar's formats (always, when the radar lists
 * none, or the radar is not in the fines' configuration). The fine path's rule; the benches ask it too.
 */
export function plateReview(read: PlateRead | null, reviewBelow: number, claimed?: string | null): PlateReview | null {
  if (!read) return 'plate_not_read';
  if (read.confidence < reviewBelow) return 'low_confidence';
  // the camera's own plate contradicted says more to a reviewer than a format (with none expected, every read is outside)
  if (claimed && normalizePlate(claimed) !== read.plate) return 'plate_mismatch';
  if (!read.formatMatch) return 'plate_format_unexpected';
  return null;
}

/** The licence plate among detected texts: rankPlates' first, or null when no text can be a plate. */
export function pickPlate(detections: readonly TextDetection[], formats: readonly string[] = NY_FORMATS): PlateRead | null {
  return rankPlates(detections, formats)[0] ?? null;
}

/**
 * The most probable reading of a run of lines (each with the recogniser's alternatives) that fits one of the
 * templates: each line reads one or more of the template's characters, in order. Its confidence is the model's
 * for the characters chosen (aggregated as the line's own), and no higher than the least probability the
 * reading has where it overrules the model's best symbol (a character dropped or replaced): a reading the model
 * did not prefer is as sure as its least sure change. Only templates within two characters of the line's own
 * length are tried.
 */
function fitByAlternatives(
  group: readonly TextDetection[],
  templates: readonly Template[],
  length: number,
  opts: RankOptions,
): { plate: string; confidence: number; logRatio: number } | null {
  if (!group.every((d) => d.alternatives)) return null;
  type Fitted = { plate: string; probs: number[]; peaks: number[]; overruled: number; logRatio: number };
  let best: Fitted | null = null;
  for (const t of templates) {
    const n = t.pattern.length;
    if (Math.abs(n - length) > 2) continue;
    const allowed = allowedOf(t);
    // reads[a]: the best reading of the lines so far that covers the template's first a characters
    let reads: (Fitted | null)[] = [{ plate: '', probs: [], peaks: [], overruled: 1, logRatio: 0 }, ...Array<null>(n).fill(null)];
    for (const d of group) {
      const next: (Fitted | null)[] = Array<null>(n + 1).fill(null);
      reads.forEach((r, a) => {
        if (!r || a === n) return;
        d.alternatives!.prefixes(allowed.slice(a)).forEach((x, k) => {
          if (!x || k === 0) return;
          const joined = {
            plate: r.plate + x.plate,
            probs: [...r.probs, ...x.probs],
            peaks: [...r.peaks, ...(x.peaks ?? [])],
            overruled: Math.min(r.overruled, x.overruled),
            logRatio: r.logRatio + x.logRatio,
          };
          if (!next[a + k] || joined.logRatio > next[a + k]!.logRatio) next[a + k] = joined;
        });
      });
      reads = next;
    }
    const r = reads[n];
    if (r && (!best || r.logRatio > best.logRatio)) best = r;
  }
  if (!best || best.probs.length === 0) return null;
  const chars =
    opts.aggregate === 'mean'
      ? best.probs.reduce((a, b) => a + b, 0) / best.probs.length
      : opts.aggregate === 'peak' && best.peaks.length === best.probs.length
        ? Math.min(...best.peaks)
        : opts.aggregate === 'posterior' || opts.aggregate === 'posterior-joint'
          ? (posteriorConfidence(group, best.plate, templates, length, opts.aggregate === 'posterior-joint') ?? Math.min(...best.probs))
          : Math.min(...best.probs);
  return { plate: best.plate, confidence: Math.min(chars, best.overruled), logRatio: best.logRatio };
}
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';

/** The characters a template allows at each position (a country's unused letters left out). */
function allowedOf(t: Template): string[] {
  return [...t.pattern].map((c) =>
    c === 'D' ? DIGITS : [...(c === 'L' ? LETTERS : LETTERS + DIGITS)].filter((x) => !(c === 'L' && t.unused.includes(x))).join(''),
  );
}

/** Every way to cut positions 0…n into `parts` runs in order (empty ones too), as the runs' boundaries [0, …, n]. */
function cutsOf(n: number, parts: number): number[][] {
  if (parts === 1) return [[0, n]];
  const out: number[][] = [];
  for (let a = 0; a <= n; a++) for (const rest of cutsOf(n - a, parts - 1)) out.push([0, ...rest.map((x) => x + a)]);
  return out;
}

const logAdd = (a: number, b: number) =>
  a === -Infinity ? b : b === -Infinity ? a : Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));

/**
 * The model's own confidence in `plate` given the expected formats: for each position i, P(the plate's i-th character
 * is plate[i] | the lines' frames, the lines read a string that fits one of the templates), from each line's
 * forward–backward (`LineAlternatives.posterior`) over every template within two characters of the lines' own
 * length and every way the lines can share its positions in order (a line may read none: a group's line of other
 * text, such as an EU band's stray symbol, reads nothing of the plate); the least of them.
 * A character missed or made up shows as the length's own doubt (strings of other lengths share the mass). null
 * when a line has no alternatives or nothing fits. `joint`: not conditioned on the formats, P(the i-th character is
 * plate[i] and the lines read a string of the plate's length that fits | the frames) (all alignments sum to 1).
 */
function posteriorConfidence(
  group: readonly TextDetection[],
  plate: string,
  templates: readonly Template[],
  length: number,
  joint = false,
): number | null {
  if (!group.every((d) => d.alternatives)) return null;
  const n = plate.length;
  let logTotal = -Infinity;
  const logChar = Array<number>(n).fill(-Infinity);
  for (const t of templates) {
    const m = t.pattern.length;
    if (Math.abs(m - length) > 2) continue;
    const allowed = allowedOf(t);
    for (const cuts of cutsOf(m, group.length)) {
      let w = 0;
      const posts: { logZ: number; marginal(i: number, c: string): number }[] = [];
      for (const [l, d] of group.entries()) {
        const post = d.alternatives!.posterior(allowed.slice(cuts[l], cuts[l + 1]));
        if (!post) {
          w = -Infinity;
          break;
        }
        w += post.logZ;
        posts.push(post);
      }
      if (w === -Infinity) continue;
      logTotal = logAdd(logTotal, w);
      if (m !== n) continue;
      posts.forEach((post, l) => {
        for (let i = cuts[l]!; i < cuts[l + 1]!; i++) {
          const p = post.marginal(i - cuts[l]!, plate[i]!);
          if (p > 0) logChar[i] = logAdd(logChar[i]!, w + Math.log(p));
        }
      });
    }
  }
  if (logTotal === -Infinity || n === 0) return null;
  return Math.min(...logChar.map((v) => Math.min(1, Math.exp(joint ? v : v - logTotal))));
}

/** A group's confidence: its plate characters' probabilities when the engine gives them, else its detections'. */
function groupConfidence(group: readonly TextDetection[], aggregate: RankOptions['aggregate']): number {
  const probs: number[] = [];
  for (const d of group) {
    const chars = [...d.text];
    const { alternatives: alt, charFrames: frames } = d;
    const per =
      (aggregate === 'certainty' || aggregate === 'certainty-sum') && alt && frames
        ? frames.map((t) => alt.certainty(t, aggregate === 'certainty' ? 'max' : 'sum'))
        : aggregate === 'peak' && d.charPeaks
          ? d.charPeaks
          : d.charConfidences;
    if (per && per.length === chars.length) {
      chars.forEach((c, i) => {
        if (normalizePlate(c)) probs.push(per[i]!);
      });
    } else probs.push(d.confidence ?? 0.9);
  }
  if (probs.length === 0) return 0;
  return aggregate === 'mean' ? probs.reduce((a, b) => a + b, 0) / probs.length : Math.min(...probs);
}

const height = (b: Box) => b.y1 - b.y0;

export function union(boxes: readonly Box[]): Box {
  return {
    x0: Math.min(...boxes.map((b) => b.x0)),
    y0: Math.min(...boxes.map((b) => b.y0)),
    x1: Math.max(...boxes.map((b) => b.x1)),
    y1: Math.max(...boxes.map((b) => b.y1)),
  };
}
