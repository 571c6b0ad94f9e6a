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
  plate: string;
  /** 0–1 */
  confidence: number;
  box: Box;
  /** true when characters had to be swapped (O↔0, S↔5, …) to fit the plate syntax */
  corrected: boolean;
}

/** New York standard passenger plates: three letters, four digits. */
export const NY_PLATE = /^[A-Z]{3}[0-9]{4}$/;

const SYMBOL_TO_CHAR: Record<string, string> = { '}': 'J', ']': 'J', ')': 'J', '|': 'I', '!': 'I', '$': 'S', '€': 'E', '£': 'E', '§': 'S' };
const TO_DIGIT: Record<string, string> = { O: '0', Q: '0', D: '0', I: '1', L: '1', Z: '2', S: '5', B: '8', G: '6', T: '7', A: '4' };
const TO_LETTER: Record<string, string> = { '0': 'O', '1': 'I', '2': 'Z', '5': 'S', '8': 'B', '6': 'G', '4': 'A', '7': 'T' };

/**
 * Fits OCR text to the plate syntax: OCR confuses O/0, S/5, B/8…, and the syntax says which one a
 * position holds (ALPR engines do the same). Only the LLLDDDD shape is corrected.
 */
export function fitPlateSyntax(raw: string, syntax: RegExp = NY_PLATE): { plate: string; corrected: boolean } | null {
  const upper = raw.toUpperCase();
  const clean = upper.replace(/[^A-Z0-9]/g, '');
  if (syntax.test(clean)) return { plate: clean, corrected: false };
  // Symbols OCR makes of plate characters (a bold J's hook reads as '}'), then O/0-style swaps.
  const text = [...upper].map((c) => SYMBOL_TO_CHAR[c] ?? c).join('').replace(/[^A-Z0-9]/g, '');
  if (syntax.test(text)) return { plate: text, corrected: true };
  if (syntax !== NY_PLATE || text.length !== 7) return null;
  const fixed = [...text].map((c, i) => (i < 3 ? (TO_LETTER[c] ?? c) : (TO_DIGIT[c] ?? c))).join('');
  return syntax.test(fixed) ? { plate: fixed, corrected: true } : null;
}

/**
 * Picks the licence plate among detected texts. Candidates are each detection and each run of
 * neighbouring detections on one line (engines often split "ABC 1234"). The highest-confidence candidate
 * that fits the syntax wins, and a corrected read loses a quarter of its confidence.
 */
export function pickPlate(detections: readonly TextDetection[], syntax: RegExp = NY_PLATE): PlateRead | null {
  const candidates: PlateRead[] = [];
  const consider = (group: readonly TextDetection[]) => {
    const fit = fitPlateSyntax(group.map((d) => d.text).join(''), syntax);
    if (!fit) return;
    const confs = group.map((d) => d.confidence ?? 0.9);
    const confidence = Math.min(...confs) * (fit.corrected ? 0.75 : 1);
    candidates.push({ ...fit, confidence, box: union(group.map((d) => d.box)) });
  };
  const sorted = [...detections].filter((d) => d.text.trim().length > 0).sort((a, b) => a.box.y0 - b.box.y0 || a.box.x0 - b.box.x0);
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
  candidates.sort((a, b) => b.confidence - a.confidence);
  return candidates[0] ?? null;
}

export function union(boxes: readonly Box[]): Box {
  return {
    x0: Math.min(...boxes.map((b) => b.x0)),
    y0: Math.min(...boxes.map((b) => b.y0)),
    x1: Math.max(...boxes.map((b) => b.x1)),
    y1: Math.max(...boxes.map((b) => b.y1)),
  };
}
