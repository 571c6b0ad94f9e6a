import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

export type DispatchStrategy = 'random' | 'round-robin';

/** What one instance behind the dispatcher was asked to do, and for how long it was busy. */
export interface InstanceLoad {
  requests: number;
  /** answered with a 5xx or not at all (the instance died) */
  failed: number;
  /** wall time with at least one request in flight: what Cloud Run bills with request-based billing */
  busyMs: number;
  /** the same with every busy period rounded up to 100 ms (Cloud Run rounds billable time up to 100 ms) */
  busyRoundedMs: number;
  maxInFlight: number;
  /** each request's time from forwarding to its answer, ms */
  durationsMs: number[];
}

export interface Dispatcher {
  url: string;
  /** sets instance i's address (it answers from now on) */
  up(i: number, target: string): void;
  /** takes instance i out of rotation (killed or restarting): new requests go to the others */
  down(i: number): void;
  load(): InstanceLoad[];
  close(): Promise<void>;
}

interface Slot {
  target: string | null;
  inFlight: number;
  busySince: number;
  /** billed up to here: the last busy period's end rounded up to 100 ms */
  billedUntil: number;
  load: InstanceLoad;
}

/**
 * The billable instance time of a busy period [start, end): rounded up to 100 ms, as Cloud Run bills it,
 * without billing again what the previous period's rounding already covered (an instance is billed at
 * most once for any moment, so its billed time never exceeds its lifetime).
 */
export function billBusyPeriod(start: number, end: number, billedUntil: number): { billedMs: number; billedUntil: number } {
  const roundedEnd = start + Math.ceil((end - start) / 100) * 100;
  return { billedMs: Math.max(0, roundedEnd - Math.max(start, billedUntil)), billedUntil: Math.max(billedUntil, roundedEnd) };
}

/**
 * The local stand-in for Cloud Run's load balancer in front of a function's instances: one URL, each
 * request forwarded to one instance that is up, chosen at random (or round-robin), never more than
 * `concurrency` at once per instance (Cloud Run queues the rest). A request whose instance dies answers
 * 503, so the push relay redelivers it, as Pub/Sub does when an instance crashes mid-request.
 * Listens on 127.0.0.1 only.
 */
export async function startDispatcher(opts: {
  port: number;
  instances: number;
  concurrency: number;
  strategy?: DispatchStrategy;
  random?: () => number;
  now?: () => number;
}): Promise<Dispatcher> {
  const strategy = opts.strategy ?? 'random';
  const random = opts.random ?? Math.random;
  const now = opts.now ?? (() => performance.now());
  const slots: Slot[] = Array.from({ length: opts.instances }, () => ({
    target: null,
    inFlight: 0,
    busySince: 0,
    billedUntil: 0,
    load: { requests: 0, failed: 0, busyMs: 0, busyRoundedMs: 0, maxInFlight: 0, durationsMs: [] },
  }));
  const waiting: ((i: number) => void)[] = [];
  // Idle connections are closed here after 60 s, before the instances' servers close them (65 s).
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(16, opts.concurrency), timeout: 60_000 });
  let next = 0;

  const pick = (): number | null => {
    const open = slots.map((s, i) => (s.target !== null && s.inFlight < opts.concurrency ? i : -1)).filter((i) => i >= 0);
    if (open.length === 0) return null;
    if (strategy === 'random') return open[Math.floor(random() * open.length)]!;
    for (let k = 0; k < slots.length; k++) {
      const i = (next + k) % slots.length;
      if (open.includes(i)) {
        next = i + 1;
        return i;
      }
    }
    return null;
  };
  /** An instance, counted busy from now; waits while every instance is at its concurrency or down. */
  const acquire = (): Promise<number> => {
    const i = pick();
    if (i === null) return new Promise((resolve) => waiting.push(resolve));
    begin(i);
    return Promise.resolve(i);
  };
  /** Hands waiting requests to instances with room. */
  const drain = () => {
    while (waiting.length > 0) {
      const j = pick();
      if (j === null) break;
      begin(j);
      waiting.shift()!(j);
    }
  };
  const begin = (i: number) => {
    const s = slots[i]!;
    if (s.inFlight++ === 0) s.busySince = now();
    s.load.requests++;
    s.load.maxInFlight = Math.max(s.load.maxInFlight, s.inFlight);
  };
  const end = (i: number) => {
    const s = slots[i]!;
    if (--s.inFlight === 0) {
      const t = now();
      s.load.busyMs += t - s.busySince;
      const bill = billBusyPeriod(s.busySince, t, s.billedUntil);
      s.load.busyRoundedMs += bill.billedMs;
      s.billedUntil = bill.billedUntil;
    }
    drain();
  };

  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const i = await acquire();
    const targetUrl = slots[i]!.target;
    let done = false;
    const sent = now();
    const finish = (status: number | null) => {
      if (done) return;
      done = true;
      slots[i]!.load.durationsMs.push(now() - sent);
      if (status === null || status >= 500) slots[i]!.load.failed++;
      end(i);
    };
    if (targetUrl === null) {
      finish(null);
      res.writeHead(503, { 'content-type': 'text/plain' }).end('instance unavailable');
      return;
    }
    const target = new URL(targetUrl);
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => finish(answer.statusCode ?? 502));
        answer.on('error', () => finish(null));
      },
    );
    out.on('error', () => {
      finish(null);
      if (!res.headersSent) res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('instance unavailable');
    });
    out.end(body);
  };

  const server = createServer((req, res) => {
    forward(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  return {
    url: `http://127.0.0.1:${port}`,
    up(i, target) {
      slots[i]!.target = target;
      drain();
    },
    down(i) {
      slots[i]!.target = null;
    },
    load() {
      const t = now();
      // The busy period in progress counts up to now (rounded as if it ended now).
      return slots.map((s) => ({
        ...s.load,
        durationsMs: [...s.load.durationsMs],
        busyMs: s.load.busyMs + (s.inFlight > 0 ? t - s.busySince : 0),
        busyRoundedMs: s.load.busyRoundedMs + (s.inFlight > 0 ? billBusyPeriod(s.busySince, t, s.billedUntil).billedMs : 0),
      }));
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
