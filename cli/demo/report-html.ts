import sharp from 'sharp';

export interface ReportFine {
  fine_id: string;
  vehicle_id: string;
  plate_read: string | null;
  plate_truth: string | null;
  plate_confidence: number | null;
  review_reason: string | null;
  avg_speed: number;
  /** the analysed photo (PNG), or null when the fine has none */
  photo: Buffer | null;
}

export interface ReportRadar {
  radar_id: string;
  name: string;
  speed_limit: number;
  /** vehicles and fines per minute (section_traffic_minute) */
  minutes: { minute: string; vehicles: number; fined: number }[];
  /** every passage's average speed */
  speeds: number[];
}

export interface ReportData {
  generatedAt: string;
  headline: [string, string][];
  fines: ReportFine[];
  radars: ReportRadar[];
  clickWindows: { window_start: string; user_pseudo_id: string; event_count: number }[];
  transactionWindows: Record<string, unknown>[];
  deadLetters: { reason: string; source: string; n: number }[];
  latencies: [string, string][];
}

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const MAX_PHOTOS = 12;

/** A smaller copy of a photo (JPEG), for embedding (the report is one file). */
export async function thumbnail(photo: Buffer, width = 320): Promise<Buffer> {
  return sharp(photo).rotate().resize({ width, withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
}

/** A data: URL of a photo's bytes, with its type read from its first bytes. */
function photoDataUrl(bytes: Buffer): string {
  const type =
    bytes[0] === 0xff && bytes[1] === 0xd8
      ? 'image/jpeg'
      : bytes.subarray(8, 12).toString('latin1') === 'WEBP'
        ? 'image/webp'
        : 'image/png';
  return `data:${type};base64,${bytes.toString('base64')}`;
}

function barChart(r: ReportRadar): string {
  const W = 560;
  const H = 180;
  const pad = 28;
  const max = Math.max(1, ...r.minutes.map((m) => m.vehicles));
  const bw = (W - pad * 2) / Math.max(1, r.minutes.length);
  const bars = r.minutes
    .map((m, i) => {
      const x = pad + i * bw;
      const h = ((H - pad * 2) * m.vehicles) / max;
      const hf = ((H - pad * 2) * m.fined) / max;
      return `<rect class="bar" x="${x + 2}" y="${H - pad - h}" width="${Math.max(1, bw - 4)}" height="${h}" fill="#4c78a8"><title>${esc(m.minute)}: ${m.vehicles} vehicles, ${m.fined} fined</title></rect>
<rect class="bar-fined" x="${x + 2}" y="${H - pad - hf}" width="${Math.max(1, bw - 4)}" height="${hf}" fill="#e45756"/>
<text x="${x + bw / 2}" y="${H - 10}" font-size="10" text-anchor="middle">${esc(m.minute.slice(11, 16))}</text>`;
    })
    .join('\n');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="vehicles per minute">
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/>
<text x="${pad}" y="14" font-size="11">max ${max} vehicles/min · <tspan fill="#e45756">fined</tspan></text>
${bars}</svg>`;
}

function histogram(r: ReportRadar): string {
  const W = 560;
  const H = 180;
  const pad = 28;
  const bin = 5;
  const top = Math.max(r.speed_limit * 2.5, ...r.speeds.map((s) => Math.ceil(s / bin) * bin));
  const bins = Array.from({ length: Math.ceil(top / bin) }, (_, i) => r.speeds.filter((s) => s >= i * bin && s < (i + 1) * bin).length);
  const max = Math.max(1, ...bins);
  const bw = (W - pad * 2) / bins.length;
  const xOf = (v: number) => pad + (v / (bins.length * bin)) * (W - pad * 2);
  const bars = bins
    .map(
      (n, i) =>
        `<rect class="bin" x="${pad + i * bw + 1}" y="${H - pad - ((H - pad * 2) * n) / max}" width="${Math.max(1, bw - 2)}" height="${((H - pad * 2) * n) / max}" fill="${(i + 1) * bin > r.speed_limit ? '#e45756' : '#54a24b'}"><title>${i * bin}-${(i + 1) * bin} km/h: ${n}</title></rect>`,
    )
    .join('\n');
  const ticks = Array.from({ length: Math.floor(bins.length / 4) + 1 }, (_, k) => k * 4 * bin)
    .map((v) => `<text x="${xOf(v)}" y="${H - 10}" font-size="10" text-anchor="middle">${v}</text>`)
    .join('');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="average speeds">
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/>
${bars}
<line class="limit" x1="${xOf(r.speed_limit)}" y1="${pad - 10}" x2="${xOf(r.speed_limit)}" y2="${H - pad}" stroke="#222" stroke-dasharray="4 3"/>
<text x="${xOf(r.speed_limit) + 4}" y="${pad - 2}" font-size="11">limit ${r.speed_limit} km/h</text>
${ticks}</svg>`;
}

function table(rows: Record<string, unknown>[], limit = 40): string {
  if (rows.length === 0) return '<p class="empty">none</p>';
  const cols = Object.keys(rows[0]!);
  const body = rows
    .slice(0, limit)
    .map(
      (r) =>
        `<tr>${cols.map((c) => `<td>${esc(typeof r[c] === 'number' ? Math.round((r[c] as number) * 100) / 100 : r[c])}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>${rows.length > limit ? `<p class="more">… and ${rows.length - limit} more rows</p>` : ''}`;
}

/** One self-contained HTML page: photos embedded, charts as inline SVG, no script. */
export function renderReport(d: ReportData): string {
  const exact = d.fines.filter((f) => f.plate_read !== null && f.plate_read === f.plate_truth).length;
  const fines = d.fines
    .slice(0, MAX_PHOTOS)
    .map(
      (f) => `<figure class="fine">
${f.photo ? `<img class="evidence" alt="analysed photo of fine ${esc(f.fine_id)}" src="${photoDataUrl(f.photo)}">` : '<div class="nophoto">no photo</div>'}
<figcaption><b>${esc(f.plate_read ?? 'not read')}</b> ${f.plate_read === f.plate_truth ? '<span class="ok">= truth</span>' : `<span class="bad">truth ${esc(f.plate_truth)}</span>`}
· ${f.avg_speed.toFixed(1)} km/h${f.plate_confidence !== null ? ` · confidence ${Math.round(f.plate_confidence * 100)} %` : ''}${f.review_reason ? ` · <i>review: ${esc(f.review_reason)}</i>` : ''}</figcaption>
</figure>`,
    )
    .join('\n');
  const radars = d.radars
    .map(
      (r) => `<section class="radar"><h3>${esc(r.name)} <small>(${esc(r.radar_id)}, limit ${r.speed_limit} km/h)</small></h3>
<div class="charts"><div><h4>Vehicles per minute</h4>${barChart(r)}</div><div><h4>Average speeds against the limit (${r.speeds.length} passages)</h4>${histogram(r)}</div></div></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>speedcam demo report</title>
<style>
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
h1{margin-bottom:0}.sub{color:#666;margin-top:4px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:8px;margin:16px 0}
.card{background:#f4f6f8;border-radius:8px;padding:10px 12px}.card b{display:block;font-size:20px}.card span{color:#555;font-size:13px}
.fines{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.fine{margin:0;background:#fafafa;border:1px solid #ddd;border-radius:8px;padding:6px}.fine img{width:100%;height:auto;display:block}
figcaption{font-size:13px;padding:4px}.ok{color:#2e7d32}.bad{color:#c62828}.nophoto{height:120px;display:flex;align-items:center;justify-content:center;color:#888}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{background:#fff;border:1px solid #eee}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f0f0f0}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:24px}
</style></head><body>
<h1>speedcam: what the demo did</h1>
<p class="sub">Generated ${esc(d.generatedAt)} on the local stack (Pub/Sub and Firestore emulators, DuckDB warehouse).</p>
<div class="cards">${d.headline.map(([k, v]) => `<div class="card"><b>${esc(v)}</b><span>${esc(k)}</span></div>`).join('')}</div>
<h2>Fines (${d.fines.length}; plates read exactly: ${exact}/${d.fines.length})</h2>
<div class="fines">${fines}</div>
${d.fines.length > MAX_PHOTOS ? `<p class="more">${d.fines.length - MAX_PHOTOS} more fines are in speedcam.fined_vehicles.</p>` : ''}
<h2>Traffic per radar</h2>
${radars}
<div class="cols">
<div><h2>Click windows (events per user per minute)</h2>${table(d.clickWindows)}</div>
<div><h2>Transaction windows (30 s)</h2>${table(d.transactionWindows)}</div>
</div>
<div class="cols">
<div><h2>Dead letters by reason</h2>${table(d.deadLetters)}</div>
<div><h2>Measured latencies</h2>${table(d.latencies.map(([what, value]) => ({ what, value })))}</div>
</div>
</body></html>`;
}
