import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GcsObjectStore } from '../../../shared/platform/gcs-object-store.js';
import { testConfig } from '../../support/fixtures.js';
import { expandFormat, fitPlate, normalizePlate, pickPlate, resolvePlateFormats, type TextDetection } from '../../../shared/fines/plate.js';
import { ObjectAccessDenied } from '../../../shared/fines/ports.js';

const box = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1 });

describe('plates of any country, normalised', () => {
  it.each([
    ['CCC 444', 'se', 'CCC444'], // the course's Swedish sample
    ['B-MW 1234', 'de', 'BMW1234'], // German, with the dash
    ['M·AB 123', 'de', 'MAB123'],
    ['0000 BBB', 'es', '0000BBB'], // Spanish
    ['AB12 CDE', 'uk', 'AB12CDE'],
    ['AB-123-CD', 'fr', 'AB123CD'],
    ['12-BDF-3', 'nl', '12BDF3'], // Dutch sidecodes carry no vowels
    ['7ABC123', 'us-ca', '7ABC123'],
    ['KXT 4821', 'us-ny', 'KXT4821'],
    ['WA 12345', 'pl', 'WA12345'],
  ])('%s (%s) is %s and fits its country', (printed, formats, plate) => {
    expect(normalizePlate(printed)).toBe(plate);
    expect(fitPlate(printed, [formats])).toEqual({ plate, formatMatch: true });
  });

  it('a plate outside the expected formats is still read, flagged as not matching', () => {
    expect(fitPlate('CCC 444', ['us-ny'])).toEqual({ plate: 'CCC444', formatMatch: false });
    // no expected formats: any 2–8 letters and digits is a plate, none trusted unchecked
    expect(fitPlate('CCC 444', [])).toEqual({ plate: 'CCC444', formatMatch: false });
    expect(fitPlate('X', [])).toBeNull();
    expect(fitPlate('ABCDEFGHI', [])).toBeNull();
  });

  it('with no expected formats, a plate is read but never trusted: a state name, a lone number, a number missing a character', () => {
    expect(fitPlate('ALASKA', [])).toEqual({ plate: 'ALASKA', formatMatch: false });
    expect(fitPlate('NEW YORK', [])).toEqual({ plate: 'NEWYORK', formatMatch: false });
    expect(fitPlate('1287960', [])).toEqual({ plate: '1287960', formatMatch: false });
    // held-out set 5c: Alaska's 3728RD read without the 3 under the flag (0.99), Hawaii's 576PCR without its 5
    expect(fitPlate('728 RD', [])).toEqual({ plate: '728RD', formatMatch: false });
    expect(fitPlate('76 PCR', [])).toEqual({ plate: '76PCR', formatMatch: false });
    // the plate's number still comes first when it was read; alone, the state's name is a flagged read
    const at = (text: string, y0: number, h: number): TextDetection => ({
      text,
      confidence: 0.99,
      charConfidences: [...text].map(() => 0.99),
      box: { x0: 10, y0, x1: 200, y1: y0 + h },
    });
    expect(pickPlate([at('ALASKA', 0, 20), at('EKS 123', 30, 40)], [])).toMatchObject({ plate: 'EKS123', formatMatch: false });
    expect(pickPlate([at('ALASKA', 0, 20)], [])).toMatchObject({ plate: 'ALASKA', formatMatch: false });
  });

  it('characters are taken as read: a look-alike does not make a text fit (it is flagged instead)', () => {
    expect(fitPlate('CCC 4A4', ['se'])).toEqual({ plate: 'CCC4A4', formatMatch: false });
    expect(fitPlate('0000 8BB', ['es'])).toEqual({ plate: '00008BB', formatMatch: false });
    expect(fitPlate('GMGO0742', ['us-ny'])).toMatchObject({ formatMatch: false });
    // a full-width form (the model's dictionary has both) is its plain letter or digit
    expect(fitPlate('ＣＣＣ ４４４', ['se'])).toEqual({ plate: 'CCC444', formatMatch: true });
  });

  it('letters a country does not issue put a read outside its format', () => {
    expect(fitPlate('GZ01 CIN', ['uk'])).toEqual({ plate: 'GZ01CIN', formatMatch: false }); // no I on British plates
    expect(fitPlate('12-ABC-3', ['nl'])).toMatchObject({ formatMatch: false }); // no vowels on Dutch ones
    expect(fitPlate('1234 BOB', ['es'])).toEqual({ plate: '1234BOB', formatMatch: false }); // Spanish: consonants only
    // a template alone, or a preset without such a rule, accepts every letter
    expect(fitPlate('GZ01 CIN', ['LLDDLLL'])).toEqual({ plate: 'GZ01CIN', formatMatch: true });
    expect(fitPlate('ABC 1234', ['us-ny'])).toEqual({ plate: 'ABC1234', formatMatch: true });
    // two presets with the same pattern: a letter is refused only if both refuse it
    expect(fitPlate('GZ01 CIN', ['uk', 'LLDDLLL'])).toMatchObject({ plate: 'GZ01CIN', formatMatch: true });
  });

  it.each(['plates', 'plates-holdout2', 'plates-holdout3', 'plates-final'])(
    "every plate of the %s set fits its radar's formats (the truth is a valid read)",
    (set) => {
      const { photos } = JSON.parse(readFileSync(`test/fixtures/${set}/manifest.json`, 'utf8')) as {
        photos: { file: string; plate: string; formats: string }[];
      };
      expect(photos.length).toBeGreaterThanOrEqual(120);
      for (const p of photos) expect(fitPlate(p.plate, [p.formats]), p.file).toEqual({ plate: p.plate, formatMatch: true });
    },
  );

  it('formats: presets and L/D/A templates with repeats; malformed ones are refused', () => {
    expect(expandFormat('L{1,2}D')).toEqual(['LD', 'LLD']);
    expect(resolvePlateFormats(['de'])).toContain('LLLLDDDD');
    expect(resolvePlateFormats(['LLDDLLL', 'se'])).toEqual(['LLDDLLL', 'LLLDDD', 'LLLDDL']);
    expect(() => expandFormat('XYZ')).toThrow(/L \(letter\), D \(digit\), A/);
    expect(() => testConfig({ SPEEDCAM_PLATE_FORMATS: 'narnia' })).toThrow(/SPEEDCAM_PLATE_FORMATS.*preset: us-ny/);
    expect(testConfig({ SPEEDCAM_PLATE_FORMATS: 'se, de' }).radars.values().next().value!.plateFormats).toEqual(['se', 'de']);
  });

  it("among texts, picks the plate: mixed letters and digits, the tallest, fitting the radar's formats", () => {
    // As Vision answers for the course's Swedish photo: the plate split in two words, a dealer's URL
    // and the car's badge beside it.
    const texts: TextDetection[] = [
      { text: 'TESLA', confidence: 0.95, box: box(530, 600, 700, 640) },
      { text: 'CCC', confidence: 0.97, box: box(497, 640, 620, 700) },
      { text: '444', confidence: 0.96, box: box(636, 640, 760, 700) },
      { text: 'TESLA.COM', confidence: 0.9, box: box(540, 700, 690, 715) },
      { text: 'DUAL', confidence: 0.9, box: box(900, 725, 945, 735) },
    ];
    expect(pickPlate(texts, ['se'])).toMatchObject({ plate: 'CCC444', formatMatch: true, confidence: 0.96 });
    // a radar in New York still reads it, flagged as outside its formats
    expect(pickPlate(texts, ['us-ny'])).toMatchObject({ plate: 'CCC444', formatMatch: false });
  });
});

describe('Cloud Storage adapter: preconditions and permissions', () => {
  function fakeStorage(behaviour: { save?: () => Promise<unknown>; download?: () => Promise<[Buffer]> }) {
    const calls: { name: string; opts: unknown }[] = [];
    const storage = {
      bucket: (b: string) => ({
        file: (name: string) => ({
          save: async (_bytes: Buffer, opts: unknown) => {
            calls.push({ name: `${b}/${name}`, opts });
            return behaviour.save?.();
          },
          download: async () => behaviour.download?.() ?? [Buffer.from('x')],
        }),
      }),
    };
    return { store: new GcsObjectStore(storage as never), calls };
  }
  const err = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

  it('creates evidence with ifGenerationMatch 0; a 412 means it already exists', async () => {
    const ok = fakeStorage({});
    expect(
      await ok.store.create('gs://evidence-b/r/F1.png', Buffer.from('png'), { contentType: 'image/png', metadata: { sha256: 'abc' } }),
    ).toBe('created');
    expect(ok.calls[0]).toEqual({
      name: 'evidence-b/r/F1.png',
      opts: expect.objectContaining({
        preconditionOpts: { ifGenerationMatch: 0 },
        contentType: 'image/png',
        metadata: { metadata: { sha256: 'abc' } },
      }),
    });
    const exists = fakeStorage({ save: () => Promise.reject(err(412)) });
    expect(await exists.store.create('gs://evidence-b/r/F1.png', Buffer.from('png'), { contentType: 'image/png' })).toBe('exists');
  });

  it('403 is access denied (permanent), 404 is no object, 503 is thrown as it is (transient)', async () => {
    await expect(fakeStorage({ download: () => Promise.reject(err(403)) }).store.get('gs://captures-b/a.jpg')).rejects.toBeInstanceOf(
      ObjectAccessDenied,
    );
    await expect(
      fakeStorage({ save: () => Promise.reject(err(403)) }).store.create('gs://evidence-b/a.png', Buffer.alloc(1), {
        contentType: 'image/png',
      }),
    ).rejects.toBeInstanceOf(ObjectAccessDenied);
    expect(await fakeStorage({ download: () => Promise.reject(err(404)) }).store.get('gs://captures-b/a.jpg')).toBeNull();
    await expect(fakeStorage({ download: () => Promise.reject(err(503)) }).store.get('gs://captures-b/a.jpg')).rejects.toMatchObject({
      code: 503,
    });
  });
});
