/**
 * The review page: plain HTML, CSS and JavaScript in one document served by the review function (no build
 * step, nothing loaded from elsewhere). It talks to the same function's JSON API with relative URLs, so it
 * works at the function's URL, behind `gcloud run services proxy`, and on the local stack. Keyboard first:
 * c confirm · e correct (type the plate, Enter) · r reject (type the reason, Enter) · n/j next · k previous ·
 * 1-5 pick an alternative read to correct with · Esc cancel.
 */
export function reviewPage(): string {
  return PAGE;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>speedcam · fine review</title>
<style>
  :root { color-scheme: light dark; --bg: #f6f6f4; --fg: #1b1b1b; --muted: #666; --line: #d8d8d4;
    --accent: #c8102e; --ok: #1a7f37; --card: #fff; }
  @media (prefers-color-scheme: dark) { :root { --bg: #161616; --fg: #eee; --muted: #aaa; --line: #333; --card: #1f1f1f; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg);
    display: grid; grid-template-columns: 300px 1fr; height: 100vh; }
  aside { border-right: 1px solid var(--line); overflow: auto; }
  aside h1 { font-size: 15px; margin: 12px; }
  #queue { list-style: none; margin: 0; padding: 0; }
  #queue li { padding: 8px 12px; border-top: 1px solid var(--line); cursor: pointer; }
  #queue li.current { background: var(--card); border-left: 4px solid var(--accent); }
  #queue li.claimed { opacity: .55; }
  #queue .id { font-family: ui-monospace, monospace; font-size: 12px; }
  #queue .why, .muted { color: var(--muted); font-size: 12px; }
  main { overflow: auto; padding: 16px 20px; }
  .row { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
  figure { margin: 0; background: var(--card); border: 1px solid var(--line); padding: 6px; }
  figure img { display: block; max-width: 100%; }
  figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
  #main-photo img { max-height: 60vh; }
  #zoom canvas { display: block; width: 360px; image-rendering: pixelated; }
  #captures figure img { max-width: 420px; max-height: 30vh; }
  .plate { font: bold 28px ui-monospace, monospace; letter-spacing: 2px; }
  table { border-collapse: collapse; } td { padding: 2px 10px 2px 0; vertical-align: top; }
  #alternatives li { font-family: ui-monospace, monospace; }
  #prompt { margin-top: 12px; display: none; }
  #prompt.open { display: block; }
  #prompt input { font: 18px ui-monospace, monospace; padding: 6px 8px; width: 360px; }
  #status-line { margin: 10px 0; min-height: 1.4em; font-weight: 600; }
  #status-line.error { color: var(--accent); } #status-line.ok { color: var(--ok); }
  kbd { border: 1px solid var(--line); border-bottom-width: 2px; border-radius: 3px; padding: 0 4px; font-size: 12px; }
  #auth { display: none; margin: 12px; } #auth.open { display: block; }
  .empty { padding: 40px; color: var(--muted); }
</style>
</head>
<body>
<aside>
  <h1>Held fines <span id="count" class="muted"></span></h1>
  <form id="auth"><label>Review token<br><input id="token" type="password" autocomplete="off" size="28"></label> <button>Use</button></form>
  <ol id="queue"></ol>
</aside>
<main>
  <p class="muted"><kbd>c</kbd> confirm · <kbd>e</kbd> correct (type the plate, <kbd>Enter</kbd>) ·
    <kbd>r</kbd> reject (type why, <kbd>Enter</kbd>) · <kbd>n</kbd>/<kbd>j</kbd> next · <kbd>k</kbd> previous ·
    <kbd>1</kbd>–<kbd>5</kbd> correct to an alternative · <kbd>Esc</kbd> cancel</p>
  <div id="status-line" role="status" aria-live="polite"></div>
  <div id="fine"><p class="empty">Loading…</p></div>
  <div id="prompt"><label><span id="prompt-label"></span><br><input id="decision-input" autocomplete="off" spellcheck="false"></label>
    <span class="muted">Enter to send, Esc to cancel</span></div>
</main>
<script>
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    sessionStorage.setItem('speedcam-review-token', fromHash);
    history.replaceState(null, '', location.pathname + location.search);
  }
  let token = sessionStorage.getItem('speedcam-review-token');
  let queue = [];
  let index = 0;
  let current = null;
  let mode = null; // 'correct' | 'reject' while the prompt is open
  let busy = false;
  const urls = [];

  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const status = (text, kind) => { const el = $('status-line'); el.textContent = text; el.className = kind || ''; };
  const api = async (path, opts = {}) => {
    const headers = Object.assign({ accept: 'application/json' }, opts.body ? { 'content-type': 'application/json' } : {},
      token ? { authorization: 'Bearer ' + token } : {});
    const res = await fetch(path, { method: opts.method || 'GET', headers, body: opts.body ? JSON.stringify(opts.body) : undefined });
    if (res.status === 401) { $('auth').classList.add('open'); throw new Error('not signed in: give the review token'); }
    return res;
  };
  const blobUrl = async (path) => {
    const res = await api(path);
    if (!res.ok) return null;
    const u = URL.createObjectURL(await res.blob());
    urls.push(u);
    return u;
  };
  const age = (iso) => {
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    return s < 3600 ? Math.round(s / 60) + ' min' : (s / 3600).toFixed(1) + ' h';
  };

  async function loadQueue(keepId) {
    const res = await api('reviews?status=pending');
    const data = await res.json();
    queue = data.reviews;
    $('count').textContent = '(' + queue.length + ')';
    const at = keepId ? queue.findIndex((r) => r.fine_id === keepId) : -1;
    index = at >= 0 ? at : Math.min(index, Math.max(0, queue.length - 1));
    renderQueue();
    if (queue.length === 0) { current = null; $('fine').innerHTML = '<p class="empty" id="empty">No fine waits for review.</p>'; return; }
    await open(index);
  }

  function renderQueue() {
    $('queue').innerHTML = queue.map((r, i) =>
      '<li data-i="' + i + '" class="' + (i === index ? 'current' : '') + (r.claimed_by ? ' claimed' : '') + '">' +
      '<div class="id">' + esc(r.fine_id) + '</div>' +
      '<div>' + esc(r.license_plate || '—') + ' · ' + esc(r.avg_speed.toFixed(1)) + ' km/h</div>' +
      '<div class="why">' + esc(r.review_reason || 'every fine is reviewed') + ' · waiting ' + age(r.issued_at) +
      (r.claimed_by ? ' · ' + esc(r.claimed_by) : '') + '</div></li>').join('');
  }

  async function open(i) {
    closePrompt();
    index = i;
    renderQueue();
    const id = queue[i].fine_id;
    while (urls.length) URL.revokeObjectURL(urls.pop());
    const claim = await api('reviews/' + encodeURIComponent(id) + '/claim', { method: 'POST' });
    const claimBody = await claim.json();
    // The last decision's outcome stays on the line until something else is worth saying.
    if (claim.status === 409) status(claimBody.message + ' (until ' + (claimBody.claimed_until || '') + ')', 'error');
    const res = await api('reviews/' + encodeURIComponent(id));
    if (!res.ok) { status((await res.json()).message, 'error'); return; }
    const f = await res.json();
    current = f;
    const photos = await Promise.all(f.photos.map(async (p) => Object.assign({}, p, { src: await blobUrl(p.url) })));
    const main = photos.find((p) => p.kind === 'analysed' && p.src) || photos.find((p) => p.src);
    const captures = photos.filter((p) => p.kind === 'capture' && p.src);
    const alts = (f.plate_alternatives || []).slice(0, 5);
    $('fine').innerHTML =
      '<div class="row">' +
        '<figure id="main-photo">' + (main ? '<img alt="analysed photo" src="' + main.src + '">' : '<p class="empty">No photo</p>') +
          '<figcaption>' + esc(main ? main.label : '') + '</figcaption></figure>' +
        '<div>' +
          '<figure id="zoom"><canvas width="360" height="120"></canvas><figcaption>plate region, as the camera took it</figcaption></figure>' +
          '<p>Read: <span class="plate" id="plate">' + esc(f.license_plate || 'not read') + '</span> ' +
            '<span id="confidence" class="muted">' + (f.plate_confidence == null ? '' : Math.round(f.plate_confidence * 100) + ' %') +
            '</span></p>' +
          '<ol id="alternatives">' +
            alts.map((a) => '<li>' + esc(a.plate) + ' <span class="muted">' + Math.round(a.confidence * 100) + ' %</span></li>').join('') +
          '</ol>' +
          '<table id="passage">' +
            '<tr><td>Fine</td><td id="fine-id">' + esc(f.fine_id) + '</td></tr>' +
            '<tr><td>Why held</td><td id="reason">' + esc(f.review_reason || 'every fine is reviewed') + '</td></tr>' +
            '<tr><td>Speed</td><td><b>' + esc(f.avg_speed.toFixed(1)) + ' km/h</b> (limit ' + esc(f.speed_limit) + ')</td></tr>' +
            '<tr><td>Section</td><td>' + esc(f.radar_name) + ' <span class="muted">' + esc(f.radar_id) + '</span></td></tr>' +
            '<tr><td>Entered</td><td>' + esc(f.first_seen) + '</td></tr><tr><td>Left</td><td>' + esc(f.last_seen) + '</td></tr>' +
            '<tr><td>Vehicle</td><td>' + esc(f.vehicle_id) + '</td></tr>' +
          '</table>' +
        '</div>' +
      '</div>' +
      '<div class="row" id="captures">' +
        captures.map((p) => '<figure><img alt="' + esc(p.label) + '" src="' + p.src + '">' +
          '<figcaption>' + esc(p.label) + '</figcaption></figure>').join('') +
      '</div>';
    // The plate region of the photo as the camera took it (no overlay of the read), else of the analysed one.
    const source = photos.find((p) => p.source && p.src) || main;
    if (source) zoom(source.src, f.plate_box);
  }

  function zoom(src, box) {
    const canvas = document.querySelector('#zoom canvas');
    const img = new Image();
    img.onload = () => {
      const ctx = canvas.getContext('2d');
      ctx.imageSmoothingEnabled = false;
      // The box is in the camera photo's pixels (the analysed photo is that photo with a banner below).
      const b = box || { x0: img.width * 0.25, y0: img.height * 0.45, x1: img.width * 0.75, y1: img.height * 0.8 };
      const pad = Math.max(8, (b.x1 - b.x0) * 0.15);
      const sx = Math.max(0, b.x0 - pad), sy = Math.max(0, b.y0 - pad);
      const sw = Math.min(img.width - sx, b.x1 - b.x0 + 2 * pad), sh = Math.min(img.height - sy, b.y1 - b.y0 + 2 * pad);
      canvas.height = Math.round(canvas.width * sh / sw);
      ctx.drawImage(img, sx, sy, sw, sh, 0, 0, canvas.width, canvas.height);
    };
    img.src = src;
  }

  function openPrompt(kind, value) {
    if (!current) return;
    mode = kind;
    $('prompt-label').textContent = kind === 'correct' ? 'The plate the photo shows' : 'Why reject this fine';
    $('prompt').classList.add('open');
    const input = $('decision-input');
    input.value = value || '';
    input.focus();
    input.select();
  }
  function closePrompt() { mode = null; $('prompt').classList.remove('open'); $('decision-input').blur(); }

  async function decide(body) {
    if (!current || busy) return;
    busy = true;
    const id = current.fine_id;
    try {
      const res = await api('reviews/' + encodeURIComponent(id), { method: 'POST', body });
      const out = await res.json();
      if (res.ok) {
        const o = out.outcome;
        const plate = o.license_plate ? ' · ' + o.license_plate : '';
        status(id + ': ' + o.status + plate + (o.notified ? ' · notice sent' : ' · no notice'), 'ok');
        closePrompt();
        await loadQueue();
      } else {
        status(id + ': ' + res.status + ' ' + (out.message || out.error), 'error');
        if (res.status === 409 || res.status === 404) {
          closePrompt();
          await loadQueue();
          status(id + ': ' + res.status + ' ' + (out.message || out.error), 'error');
        }
      }
    } catch (err) {
      status(String(err.message || err), 'error');
    } finally {
      busy = false;
    }
  }

  const move = (d) => { if (queue.length) open((index + d + queue.length) % queue.length).catch((e) => status(e.message, 'error')); };

  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (mode) {
      if (ev.key === 'Escape') { ev.preventDefault(); closePrompt(); }
      else if (ev.key === 'Enter') {
        ev.preventDefault();
        const v = $('decision-input').value.trim();
        if (!v) return;
        decide(mode === 'correct' ? { decision: 'correct', plate: v } : { decision: 'reject', reason: v });
      }
      return;
    }
    if (ev.target instanceof HTMLInputElement) return;
    const k = ev.key;
    if (k === 'c') { ev.preventDefault(); decide({ decision: 'confirm' }); }
    else if (k === 'e') { ev.preventDefault(); openPrompt('correct', current && current.license_plate); }
    else if (k === 'r') { ev.preventDefault(); openPrompt('reject', ''); }
    else if (k === 'n' || k === 'j') { ev.preventDefault(); move(1); }
    else if (k === 'k' || k === 'p') { ev.preventDefault(); move(-1); }
    else if (/^[1-5]$/.test(k) && current) {
      const alt = (current.plate_alternatives || [])[Number(k) - 1];
      if (alt) { ev.preventDefault(); openPrompt('correct', alt.plate); }
    }
  });
  $('queue').addEventListener('click', (ev) => {
    const li = ev.target.closest('li');
    if (li) open(Number(li.dataset.i)).catch((e) => status(e.message, 'error'));
  });
  $('auth').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token').value.trim();
    sessionStorage.setItem('speedcam-review-token', token);
    $('auth').classList.remove('open');
    loadQueue().catch((e) => status(e.message, 'error'));
  });
  loadQueue().catch((e) => status(e.message, 'error'));
})();
</script>
</body>
</html>
`;
