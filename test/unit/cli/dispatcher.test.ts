import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { billBusyPeriod, startDispatcher, type Dispatcher } from '../../../cli/dispatcher.js';

/** Instances as tiny HTTP servers on 127.0.0.1 that answer with their name, after `holdMs`. */
async function instance(name: string, holdMs = 0): Promise<{ url: string; server: Server; seen: number }> {
  const self = { url: '', server: null as unknown as Server, seen: 0 };
  self.server = createServer((req, res) => {
    self.seen++;
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(name), holdMs));
  });
  await new Promise<void>((r) => self.server.listen(0, '127.0.0.1', () => r()));
  const addr = self.server.address();
  self.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return self;
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});
function track<T extends { close(): Promise<void> }>(x: T): T {
  open.push(x);
  return x;
}
const serverCloser = (s: Server) => ({ close: () => new Promise<void>((r) => s.close(() => r())) });
const post = async (d: Dispatcher) => {
  const res = await fetch(`${d.url}/projects/p/topics/t`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.text() };
};

describe('dispatcher (Cloud Run load balancing, locally)', () => {
  it('round-robin spreads requests evenly over the instances that are up', async () => {
    const xs = await Promise.all(['a', 'b', 'c'].map((n) => instance(n)));
    xs.forEach((x) => track(serverCloser(x.server)));
    const d = track(await startDispatcher({ port: 0, instances: 3, concurrency: 10, strategy: 'round-robin' }));
    xs.forEach((x, i) => d.up(i, x.url));
    const bodies = [];
    for (let i = 0; i < 9; i++) bodies.push((await post(d)).body);
    expect(bodies).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
    expect(d.load().map((l) => l.requests)).toEqual([3, 3, 3]);
  });

  it('random dispatch reaches every instance; a down instance gets nothing; all down answers 503', async () => {
    const xs = await Promise.all(['a', 'b', 'c', 'd'].map((n) => instance(n)));
    xs.forEach((x) => track(serverCloser(x.server)));
    let seed = 7;
    const d = track(
      await startDispatcher({ port: 0, instances: 4, concurrency: 10, random: () => (seed = (seed * 48271) % 2147483647) / 2147483647 }),
    );
    xs.forEach((x, i) => d.up(i, x.url));
    d.down(3);
    const got = await Promise.all(Array.from({ length: 60 }, () => post(d)));
    expect(got.every((g) => g.status === 200)).toBe(true);
    expect(new Set(got.map((g) => g.body))).toEqual(new Set(['a', 'b', 'c']));
    expect(xs[3]!.seen).toBe(0);
    // an instance whose process died: the request answers 503 (the push relay redelivers it)
    d.up(3, 'http://127.0.0.1:9'); // nothing listens on the discard port
    for (const i of [0, 1, 2]) d.down(i);
    expect((await post(d)).status).toBe(503);
    expect(d.load()[3]!.failed).toBe(1);
  });

  it('never more than `concurrency` requests in flight on an instance (the rest wait), and counts busy time', async () => {
    const x = await instance('slow', 40);
    track(serverCloser(x.server));
    const d = track(await startDispatcher({ port: 0, instances: 1, concurrency: 2 }));
    d.up(0, x.url);
    const started = performance.now();
    const got = await Promise.all(Array.from({ length: 6 }, () => post(d)));
    expect(got.map((g) => g.body)).toEqual(Array(6).fill('slow'));
    const [load] = d.load();
    expect(load!.maxInFlight).toBe(2);
    expect(load!.requests).toBe(6);
    expect(load!.busyMs).toBeGreaterThan(0);
    // every busy period is billed rounded up to 100 ms, never more than the instance's time
    expect(load!.busyRoundedMs).toBeGreaterThanOrEqual(load!.busyMs);
    expect(load!.busyRoundedMs).toBeLessThanOrEqual(performance.now() - started + 100);
  });

  it('bills a busy period rounded up to 100 ms, and a moment only once', () => {
    let until = 0;
    const bill = (start: number, end: number) => {
      const b = billBusyPeriod(start, end, until);
      until = b.billedUntil;
      return b.billedMs;
    };
    expect(bill(0, 30)).toBe(100);
    // starts inside the first period's rounding: billed from 100 to its own rounded end, 150
    expect(bill(50, 80)).toBe(50);
    expect(bill(110, 140)).toBe(60);
    // inside what is billed already: only its own rounding beyond it (130 + 100 = 230, billed to 210)
    expect(bill(130, 140)).toBe(20);
    expect(bill(1000, 1001)).toBe(100);
    // 20 requests of 30 ms, 50 ms apart, one at a time: 1 s of traffic billed as 1 s plus the last rounding
    // (each rounded on its own: 2 s)
    until = 0;
    let total = 0;
    for (let i = 0; i < 20; i++) total += bill(i * 50, i * 50 + 30);
    expect(total).toBe(1050);
  });
});
