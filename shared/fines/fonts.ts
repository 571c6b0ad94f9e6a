import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let done = false;

/**
 * sharp draws SVG text through fontconfig, which finds only the machine's fonts: a Cloud Functions
 * image may have none, and text would silently render blank. This adds the DejaVu fonts shipped in
 * `dejavu-fonts-ttf` to fontconfig's search (plus the system's), once per process, before the first
 * text is drawn. A FONTCONFIG_FILE set by the operator is left alone.
 */
export function ensureFonts(): void {
  if (done) return;
  done = true;
  if (process.env['FONTCONFIG_FILE']) return;
  const fontDir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  const dir = join(tmpdir(), `speedcam-fontconfig-${process.getuid?.() ?? 'u'}`);
  mkdirSync(join(dir, 'cache'), { recursive: true });
  const conf = join(dir, 'fonts.conf');
  writeFileSync(
    conf,
    `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>${fontDir}</dir>
  <cachedir>${join(dir, 'cache')}</cachedir>
</fontconfig>
`,
  );
  process.env['FONTCONFIG_FILE'] = conf;
}
