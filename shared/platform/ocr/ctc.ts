/**
 * CTC greedy decoding of a text-recognition model's output (PaddleOCR's CTCLabelDecode): at each time step
 * the most probable class; runs of one class collapse to one character and the blank (class 0) is dropped.
 * Each character keeps the model's probability for it (the first step of its run, as PaddleOCR does), so
 * a read's confidence is the model's own, character by character.
 */
export interface DecodedText {
  text: string;
  /** one per character of `text` (by code point), 0–1 */
  probs: number[];
}

/**
 * `probs` is [steps × classes] row-major softmax output; class k ≥ 1 is `dictionary[k - 1]`. A class the
 * dictionary has no entry for decodes as nothing.
 */
export function ctcGreedy(probs: Float32Array, steps: number, classes: number, dictionary: readonly string[]): DecodedText {
  const chars: string[] = [];
  const out: number[] = [];
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
      }
    }
    prev = best;
  }
  return { text: chars.join(''), probs: out };
}
