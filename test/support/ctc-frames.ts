const PLATE_DICT = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', ' ', '-', 'x'];
/**
 * A recogniser's output for CTC tests, over a small dictionary (letters, digits, space, dash, a lower-case x):
 * each frame's named classes ('_' is CTC's blank) with their probabilities, the rest spread over the others.
 */
export function frames(rows: readonly Partial<Record<string, number>>[]): {
  probs: Float32Array;
  steps: number;
  classes: number;
  dictionary: string[];
} {
  const classes = PLATE_DICT.length + 1;
  const probs = new Float32Array(rows.length * classes);
  rows.forEach((row, t) => {
    const named = Object.entries(row)
      .filter((e): e is [string, number] => e[1] !== undefined)
      .map(([c, p]) => [c === '_' ? 0 : PLATE_DICT.indexOf(c) + 1, p] as const);
    const rest = (1 - named.reduce((a, [, p]) => a + p, 0)) / (classes - named.length);
    for (let k = 0; k < classes; k++) probs[t * classes + k] = rest;
    for (const [k, p] of named) probs[t * classes + k] = p;
  });
  return { probs, steps: rows.length, classes, dictionary: PLATE_DICT };
}
