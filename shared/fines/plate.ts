/** Text found in an image, in image pixel coordinates. Both OCR adapters produce these. */
export interface TextDetection {
  text: string;
  /** 0–1 when the engine gives one */
  confidence: number | null;
  box: Box;
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
  /** true when characters had to be swapped (O↔0, S↔5, …) to fit an expected format */
  corrected: boolean;
  /** whether the plate fits one of the expected formats (true when none are expected) */
  formatMatch: boolean;
}

/**
 * Expected plate formats, as templates over the normalised plate: `L` a letter, `D` a digit, `A`
 * either; a token may repeat `{m,n}` times. A radar lists its country's (New York's by default) to
 * rank candidates and fix look-alike characters; a plate outside them is still read, flagged.
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
  if (at !== format.length || tokens.length === 0) throw new Error(`plate format "${format}": use L (letter), D (digit), A (either), optionally with {m,n}`);
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

const SYMBOL_TO_CHAR: Record<string, string> = { '}': 'J', ']': 'J', ')': 'J', '|': 'I', '!': 'I', '$': 'S', '€': 'E', '£': 'E', '§': 'S' };
const TO_DIGIT: Record<string, string> = { O: '0', Q: '0', D: '0', U: '0', I: '1', L: '1', J: '1', T: '7', Z: '2', S: '5', B: '8', G: '6', A: '4' };
const TO_LETTER: Record<string, string> = { '0': 'O', '1': 'I', '2': 'Z', '5': 'S', '8': 'B', '6': 'G', '4': 'A', '7': 'T', '3': 'B' };
/** A letter a country does not issue, read for the one it most looks like (a monospace J's bar makes an I). */
const TO_OTHER_LETTER: Record<string, string> = { I: 'J', O: 'D', Q: 'O', U: 'V', '1': 'J', '0': 'D' };

/** Letters and digits, upper case, with the symbols OCR makes of plate characters mapped back. */
export function normalizePlate(raw: string): string {
  return [...raw.toUpperCase()].map((c) => SYMBOL_TO_CHAR[c] ?? c).join('').replace(/[^A-Z0-9]/g, '');
}

const fits = (text: string, t: Template) =>
  text.length === t.pattern.length &&
  [...t.pattern].every((p, i) => p === 'A' || (p === 'L' ? /[A-Z]/.test(text[i]!) && !t.unused.includes(text[i]!) : /[0-9]/.test(text[i]!)));

/**
 * Fits OCR text to the expected formats: OCR confuses O/0, S/5, B/8…, and the template says which one a
 * position holds (ALPR engines do the same). Without expected formats any 2–8 letters and digits are a
 * plate. Returns null when the text cannot be a plate at all.
 */
export function fitPlate(
  raw: string,
  formats: readonly string[] = NY_FORMATS,
  opts: { repairExtra?: boolean } = {},
): { plate: string; corrected: boolean; formatMatch: boolean } | null {
  const text = normalizePlate(raw);
  if (text.length < MIN_LEN || text.length > MAX_LEN + (opts.repairExtra ? 1 : 0)) return null;
  const templates = formats.length ? resolveTemplates(formats) : [];
  if (templates.length === 0) return text.length <= MAX_LEN ? { plate: text, corrected: false, formatMatch: true } : null;
  if (templates.some((t) => fits(text, t))) return { plate: text, corrected: false, formatMatch: true };
  const swapped = bestSwap(text, templates);
  if (swapped) return { plate: swapped.plate, corrected: true, formatMatch: true };
  // An engine that doubles a character ("GMGO0742", an O read beside a 0): drop one that repeats or
  // looks like its neighbour, when that alone makes the text fit…
  if (opts.repairExtra) {
    const alike = (a: string, b: string) => a === b || TO_DIGIT[a] === b || TO_LETTER[a] === b || TO_DIGIT[b] === a || TO_LETTER[b] === a;
    const doubled = [...Array(text.length).keys()].filter((i) => (i > 0 && alike(text[i]!, text[i - 1]!)) || (i + 1 < text.length && alike(text[i]!, text[i + 1]!)));
    // …or else a stray glyph at either end (an EU band's letter, a bolt, the frame's edge).
    for (const i of [...doubled, 0, text.length - 1]) {
      const shorter = text.slice(0, i) + text.slice(i + 1);
      if (templates.some((t) => fits(shorter, t))) return { plate: shorter, corrected: true, formatMatch: true };
      const fixed = bestSwap(shorter, templates);
      if (fixed) return { plate: fixed.plate, corrected: true, formatMatch: true };
    }
  }
  if (text.length > MAX_LEN) return null;
  return { plate: text, corrected: false, formatMatch: false };
}

/** The text swapped into a template of its length with the fewest look-alike swaps, if any. */
function bestSwap(text: string, templates: readonly Template[]): { plate: string; swaps: number } | null {
  let best: { plate: string; swaps: number } | null = null;
  for (const t of templates) {
    if (t.pattern.length !== text.length) continue;
    let swaps = 0;
    const fixed = [...text]
      .map((c, i) => {
        const want = t.pattern[i];
        let d = want === 'D' && /[A-Z]/.test(c) ? TO_DIGIT[c] : want === 'L' && /[0-9]/.test(c) ? TO_LETTER[c] : undefined;
        // a letter the country does not issue, or a digit whose look-alike it does not issue
        if (want === 'L' && t.unused.includes(d ?? c)) d = TO_OTHER_LETTER[d ?? c] ?? TO_OTHER_LETTER[c];
        if (d) swaps++;
        return d ?? c;
      })
      .join('');
    if (fits(fixed, t) && (!best || swaps < best.swaps)) best = { plate: fixed, swaps };
  }
  return best;
}

/** New York's syntax only: the plate when the text fits LLLDDDD (after look-alike swaps), else null. */
export function fitPlateSyntax(raw: string): { plate: string; corrected: boolean } | null {
  const f = fitPlate(raw, NY_FORMATS);
  return f && f.formatMatch ? { plate: f.plate, corrected: f.corrected } : null;
}

/**
 * Picks the licence plate among detected texts. Candidates are each detection and each run of
 * neighbouring detections on one line (engines often split "ABC 1234"). A candidate's score is its
 * confidence, less a quarter when characters were swapped to fit a format, much less outside every
 * expected format or made only of letters or only of digits (a state name, a dealer's slogan), and less
 * when its characters are smaller than the tallest text (the plate's are the largest).
 */
export function pickPlate(detections: readonly TextDetection[], formats: readonly string[] = NY_FORMATS): PlateRead | null {
  const candidates: (PlateRead & { score: number })[] = [];
  const sorted = [...detections].filter((d) => d.text.trim().length > 0).sort((a, b) => a.box.y0 - b.box.y0 || a.box.x0 - b.box.x0);
  const tallest = Math.max(1, ...sorted.map((d) => d.box.y1 - d.box.y0));
  const consider = (group: readonly TextDetection[]) => {
    const fit = fitPlate(group.map((d) => d.text).join(''), formats);
    if (!fit) return;
    const confidence = Math.min(...group.map((d) => d.confidence ?? 0.9)) * (fit.corrected ? 0.75 : 1) * (fit.formatMatch ? 1 : 0.7);
    const mixed = /[A-Z]/.test(fit.plate) && /[0-9]/.test(fit.plate);
    const height = Math.min(...group.map((d) => d.box.y1 - d.box.y0));
    const score = confidence * (mixed ? 1 : 0.4) * (height >= tallest * 0.6 ? 1 : 0.5) * (fit.formatMatch ? 1 : 0.5);
    candidates.push({ ...fit, confidence, score, box: union(group.map((d) => d.box)) });
  };
  for (let i = 0; i < sorted.length; i++) {
    consider([sorted[i]!]);
    const line = [sorted[i]!];
    for (let j = i + 1; j < sorted.length && line.length < 4; j++) {
      const prev = line[line.length - 1]!;
      const d = sorted[j]!;
      const h = Math.max(prev.box.y1 - prev.box.y0, 1);
      const sameLine = Math.abs((d.box.y0 + d.box.y1) / 2 - (prev.box.y0 + prev.box.y1) / 2) < h * 0.5;
      if (!sameLine || d.box.x0 < prev.box.x0) continue;
      line.push(d);
      consider(line);
    }
  }
  candidates.sort((a, b) => b.score - a.score || b.plate.length - a.plate.length);
  const best = candidates[0];
  if (!best) return null;
  const { score: _score, ...read } = best;
  return read;
}

export function union(boxes: readonly Box[]): Box {
  return {
    x0: Math.min(...boxes.map((b) => b.x0)),
    y0: Math.min(...boxes.map((b) => b.y0)),
    x1: Math.max(...boxes.map((b) => b.x1)),
    y1: Math.max(...boxes.map((b) => b.y1)),
  };
}

/** One character as an OCR engine read it (tesseract's symbols), confidence 0–1, in the crop's pixels. */
export interface OcrSymbol {
  text: string;
  confidence: number;
  box: Box;
}
export interface OcrWord {
  text: string;
  box: Box;
  symbols: readonly OcrSymbol[];
}
/** One reading of a plate crop (one preparation of the image): its text lines. */
export interface OcrPass {
  lines: readonly { words: readonly OcrWord[] }[];
}

/** The most a read that needed look-alike swaps is trusted: below every default of SPEEDCAM_PLATE_REVIEW_BELOW. */
export const CORRECTED_AT_MOST = 0.5;

export interface PlateVote {
  plate: string;
  /** 0–1: agreement of the passes, weighed by how sure each was */
  confidence: number;
  /** passes that read this plate */
  passes: number;
  /** characters were swapped or dropped to fit a format in every pass that read it (swaps cap the confidence) */
  corrected: boolean;
}

const height = (b: Box) => b.y1 - b.y0;
const overlap = (a: Box, b: Box) => Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) / Math.max(1, Math.min(a.x1 - a.x0, b.x1 - b.x0));

/**
 * The plate candidates one pass gives, each with a weight 0–1. The plate's characters are a line's
 * tallest words (a state name, an EU band's letter or a frame's text are smaller); every run of
 * neighbouring main words is a candidate, weighted by the share of the line's characters it covers.
 * Within a run, symbols an LSTM engine invents are suspects: one drawn over its neighbour (an "O" and a
 * "0" over one glyph), one far shorter than the others (a speck, a bolt), one at either end (a band's
 * edge read as "1"). Each variant without some suspects that fits a format is a candidate too, for a
 * little less.
 */
export function passCandidates(pass: OcrPass, formats: readonly string[]): Map<string, { weight: number; swapped: boolean; dropped: boolean }> {
  const out = new Map<string, { weight: number; swapped: boolean; dropped: boolean }>();
  const put = (plate: string, weight: number, swapped: boolean, dropped: boolean) => {
    const v = out.get(plate);
    if (!v || weight > v.weight) out.set(plate, { weight, swapped, dropped });
  };
  for (const line of pass.lines) {
    const words = line.words
      .map((w) => ({ ...w, symbols: w.symbols.flatMap((s) => normalizePlate(s.text).split('').map((c) => ({ ...s, text: c }))) }))
      .filter((w) => w.symbols.length > 0);
    const tallest = Math.max(1, ...words.map((w) => height(w.box)));
    const main = words.filter((w) => height(w.box) >= tallest * 0.65);
    const total = Math.max(1, main.reduce((n, w) => n + w.symbols.length, 0));
    for (let a = 0; a < main.length; a++)
      for (let z = a; z < main.length; z++) {
        const run = main.slice(a, z + 1);
        const syms = run.flatMap((w) => w.symbols);
        if (syms.length < MIN_LEN) continue;
        const coverage = syms.length / total;
        const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] ?? 0;
        const medianH = median(syms.map((s) => height(s.box)));
        const medianW = median(syms.map((s) => s.box.x1 - s.box.x0));
        const medianGap = median(syms.slice(1).map((s, i) => s.box.x0 - syms[i]!.box.x1));
        const suspect = new Set<number>();
        syms.forEach((s, i) => {
          const w = Math.max(1, s.box.x1 - s.box.x0);
          const prev = syms[i - 1];
          const next = syms[i + 1];
          // drawn over its neighbours: the engine read one glyph twice
          const covered = ((prev ? Math.max(0, prev.box.x1 - s.box.x0) : 0) + (next ? Math.max(0, s.box.x1 - next.box.x0) : 0)) / w;
          if (covered > 0.5 && w <= medianW * 1.2) suspect.add(i);
          // a speck or a frame's edge: far shorter, or a sliver
          if (height(s.box) < medianH * 0.6 || w < medianW * 0.25) suspect.add(i);
          // at either end, set apart or of another size: a band's edge, a bolt, a sticker
          if (i === 0 || i === syms.length - 1) {
            const gap = i === 0 ? (next ? next.box.x0 - s.box.x1 : 0) : prev ? s.box.x0 - prev.box.x1 : 0;
            if (gap > Math.max(medianGap * 2, medianW * 0.5) || Math.abs(height(s.box) - medianH) > medianH * 0.3) suspect.add(i);
          }
        });
        const ss = [...suspect];
        const drops: number[][] = [[], ...ss.map((i) => [i])];
        for (let i = 0; i < ss.length; i++) for (let j = i + 1; j < ss.length; j++) drops.push([ss[i]!, ss[j]!]);
        for (const drop of drops) {
          const kept = syms.filter((_, i) => !drop.includes(i));
          if (kept.length < MIN_LEN || kept.length > MAX_LEN) continue;
          const fit = fitPlate(kept.map((s) => s.text).join(''), formats);
          if (!fit || !fit.formatMatch || !/[A-Z]/.test(fit.plate) || !/[0-9]/.test(fit.plate)) continue;
          const sure = kept.reduce((n, s) => n + s.confidence, 0) / kept.length;
          const penalty = 0.8 ** drop.length;
          // Each look-alike swapped to fit counts: a badge's "MODEL3" bent into a plate needs several.
          const text = kept.map((s) => s.text).join('');
          const swaps = [...fit.plate].filter((c, i) => c !== text[i]).length;
          put(fit.plate, coverage * (0.5 + 0.5 * sure) * penalty * 0.85 ** swaps, swaps > 0, drop.length > 0);
        }
      }
  }
  return out;
}

/**
 * The plate several passes agree on: each pass's candidates vote with their weights. The confidence is
 * the winner's share of the passes' weight, so a plate that only some passes read, or read unsure, counts
 * for less; a plate that needed correcting in every pass is marked so.
 */
export function votePlate(passes: readonly OcrPass[], formats: readonly string[]): PlateVote | null {
  const votes = new Map<string, { weight: number; passes: number; swapped: boolean; corrected: boolean }>();
  for (const pass of passes) {
    for (const [plate, c] of passCandidates(pass, formats)) {
      const v = votes.get(plate) ?? { weight: 0, passes: 0, swapped: true, corrected: true };
      votes.set(plate, { weight: v.weight + c.weight, passes: v.passes + 1, swapped: v.swapped && c.swapped, corrected: v.corrected && (c.swapped || c.dropped) });
    }
  }
  const ranked = [...votes.entries()].sort((a, b) => b[1].weight - a[1].weight || b[0].length - a[0].length);
  const best = ranked[0];
  if (!best) return null;
  const [plate, v] = best;
  // A pass that read another plate (or none) is dissent: the read is less sure than its weight says.
  const dissent = v.passes / Math.max(1, passes.length);
  const confidence = Math.min(1, (v.weight / Math.max(1, passes.length)) * dissent);
  // A plate read only by swapping look-alikes to fit a format (every pass needed it) is a guess a person
  // checks: at most CORRECTED_AT_MOST, below the default review threshold.
  return { plate, confidence: v.swapped ? Math.min(confidence, CORRECTED_AT_MOST) : confidence, passes: v.passes, corrected: v.corrected };
}

/**
 * Every plausible read of the photo, best first (the review page shows the alternatives a person may pick):
 * the best read of all the texts (pickPlate), then the best read of each text alone and of the texts left
 * once the best one's are set aside, each plate once.
 */
export function rankPlates(detections: readonly TextDetection[], formats: readonly string[] = NY_FORMATS): PlateRead[] {
  const best = pickPlate(detections, formats);
  if (!best) return [];
  const b = best.box;
  const inside = (d: TextDetection) => d.box.x0 >= b.x0 && d.box.x1 <= b.x1 && d.box.y0 >= b.y0 && d.box.y1 <= b.y1;
  const others = [pickPlate(detections.filter((d) => !inside(d)), formats), ...detections.map((d) => pickPlate([d], formats))];
  const seen = new Set([best.plate]);
  const rest: PlateRead[] = [];
  for (const r of others) if (r && !seen.has(r.plate)) (seen.add(r.plate), rest.push(r));
  return [best, ...rest.sort((a, b) => b.confidence - a.confidence)];
}
