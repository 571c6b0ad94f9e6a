import { afterAll, beforeAll } from 'vitest';
import { PaddleTextDetector } from '../../shared/platform/ocr/paddle-text-detector.js';
import { closeWorlds, useEmulatorProject } from './fixtures.js';

/** This file's worlds on the run's emulators, with one model OCR reader for them all; both closed after the file. */
export function useOcrWorlds(): PaddleTextDetector {
  const ocr = new PaddleTextDetector();
  beforeAll(() => {
    useEmulatorProject();
  });
  afterAll(async () => {
    await ocr.close();
    await closeWorlds();
  });
  return ocr;
}
