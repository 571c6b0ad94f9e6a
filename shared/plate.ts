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
  const out: string[] = [];
  for (const f of list) for (const g of PLATE_FORMAT_PRESETS[f] ?? [f]) out.push(...expandFormat(g));
  return [...new Set(out)];
}

const SYMBOL_TO_CHAR: Record<string, string> = { '}': 'J', ']': 'J', ')': 'J', '|': 'I', '!': 'I', '$': 'S', '€': 'E', '£': 'E', '§': 'S' };
const TO_DIGIT: Record<string, string> = { O: '0', Q: '0', D: '0', U: '0', I: '1', L: '1', J: '1', T: '7', Z: '2', S: '5', B: '8', G: '6', A: '4' };
const TO_LETTER: Record<string, string> = { '0': 'O', '1': 'I', '2': 'Z', '5': 'S', '8': 'B', '6': 'G', '4': 'A', '7': 'T', '3': 'B' };

/** Letters and digits, upper case, with the symbols OCR makes of plate characters mapped back. */
export function normalizePlate(raw: string): string {
  return [...raw.toUpperCase()].map((c) => SYMBOL_TO_CHAR[c] ?? c).join('').replace(/[^A-Z0-9]/g, '');
}

const fits = (text: string, template: string) =>
  text.length === template.length && [...template].every((t, i) => t === 'A' || (t === 'L' ? /[A-Z]/.test(text[i]!) : /[0-9]/.test(text[i]!)));

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
  const templates = formats.length ? resolvePlateFormats(formats) : [];
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
function bestSwap(text: string, templates: readonly string[]): { plate: string; swaps: number } | null {
  let best: { plate: string; swaps: number } | null = null;
  for (const t of templates) {
    if (t.length !== text.length) continue;
    let swaps = 0;
    const fixed = [...text].map((c, i) => {
      const want = t[i];
      const d = want === 'D' && /[A-Z]/.test(c) ? TO_DIGIT[c] : want === 'L' && /[0-9]/.test(c) ? TO_LETTER[c] : undefined;
      if (d) swaps++;
      return d ?? c;
    }).join('');
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
