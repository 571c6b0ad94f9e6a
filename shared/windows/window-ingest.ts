import type { WindowState, WindowStore } from './window-store.js';
import type { WindowConfig } from './settings.js';
import { Rejection } from '../core/rejection.js';
import { GroupCommitter } from '../core/group-commit.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import { sendToDeadLetters } from '../dead-letters/send.js';
import { windowOf, type WindowEvent } from './aggregate.js';
import type { WindowPipeline } from './pipeline.js';
import type { Effects } from '../core/effects.js';
import { digestOf, shardOfDigest, type WindowShard } from './window-state.js';
import type { CompletedPassage } from './declaration.js';

export interface WindowDeps extends Effects {
  config: WindowConfig;
  windows: Pick<WindowStore, 'append' | 'getState' | 'getShards'>;
}

/** Largest group commit: a batch document must stay well under Firestore's 1 MiB. */
const MAX_BATCH_EVENTS = 2000;
/** How long an instance trusts "this window is not exported" before asking again. */
const OPEN_CHECK_TTL_MS = 1000;
/** Exported windows an instance remembers (their state is final under `late: dead_letter`). */
const EXPORTED_CACHE = 64;

export type IngestResult = { accepted: number; late: number; duplicates?: number } | { rejected: string };

/**
 * The windowed pipelines' function logic: parse → (late: dead_letter) set aside events of exported
 * windows → group-commit the rest into new batch documents. A message resolves once its events are
 * durable; the flush aggregates.
 *
 * Whether a window is exported is the flush's fact, recorded in the window's state document. An
 * instance reads it for a window it has not itself written to within the lateness (a window it wrote
 * to that recently cannot have closed: the flush waits until a window has had no write for the
 * lateness), so on-time data costs no read. Under `late: update` nothing is set aside: events of an
 * exported window are stored, and the flush folds them into a revision of the row.
 */
export class WindowIngest {
  private readonly committer: GroupCommitter<WindowEvent[], void>;
  /** window start → this instance's last commit to it */
  private readonly wroteAt = new Map<number, number>();
  private readonly openChecks = new Map<number, { at: number; state: Promise<WindowState> }>();
  private readonly exported = new Map<number, { state: WindowState; shards: Map<number, Promise<WindowShard | undefined>> }>();

  constructor(
    private readonly deps: WindowDeps,
    private readonly pipeline: WindowPipeline,
  ) {
    this.committer = new GroupCommitter<WindowEvent[], void>(
      async (_key, items) => {
        const events = items.flat();
        deps.faults.check('window.beforeCommit');
        await deps.windows.append(pipeline.name, pipeline.window.sizeMs, events);
        const at = deps.clock.now();
        for (const e of events) this.wroteAt.set(windowOf(e.timeMs, pipeline.window.sizeMs).start, at);
        // Only writes within the lateness matter: forget older ones (a replay writes many windows).
        if (this.wroteAt.size > 1000) for (const [w, t] of this.wroteAt) if (t <= at - pipeline.allowedLatenessMs) this.wroteAt.delete(w);
        deps.faults.check('window.afterCommit');
        return items.map(() => undefined);
      },
      // One batch per instance for all keys: a hot key is just more events in the same documents.
      { waitMs: deps.config.groupCommitWaitMs, maxBatch: () => MAX_BATCH_EVENTS },
    );
  }

  async handle(msg: InboundMessage): Promise<IngestResult> {
    const { clock } = this.deps;
    const source = this.pipeline.inputTopic ?? this.pipeline.name;
    const parsed = this.pipeline.parse(msg, clock.now());
    if (parsed instanceof Rejection) {
      await sendToDeadLetters(this.deps, source, msg, parsed);
      return { rejected: parsed.reason };
    }
    let onTime = parsed;
    let duplicates = 0;
    let late = 0;
    if (this.pipeline.late === 'dead_letter') {
      onTime = [];
      for (const e of parsed) {
        const verdict = await this.exportedVerdict(e);
        if (verdict === 'open') onTime.push(e);
        else if (verdict === 'counted') duplicates++;
        else {
          late++;
          const w = windowOf(e.timeMs, this.pipeline.window.sizeMs);
          await sendToDeadLetters(
            this.deps,
            source,
            msg,
            new Rejection(
              'late',
              `event time ${new Date(e.timeMs).toISOString()} (${this.pipeline.eventTime}) is in window ${new Date(w.start).toISOString()}–${new Date(w.end).toISOString()}, already exported`,
              `${this.pipeline.name}:${e.id}`,
            ),
          );
        }
      }
    }
    if (onTime.length > 0) await this.committer.submit(this.pipeline.name, onTime);
    return duplicates > 0 ? { accepted: onTime.length, late, duplicates } : { accepted: onTime.length, late };
  }

  /** open: store it; counted: its window was exported with this event in it (a redelivery); late. */
  private async exportedVerdict(e: WindowEvent): Promise<'open' | 'counted' | 'late'> {
    const { clock, windows } = this.deps;
    const { start } = windowOf(e.timeMs, this.pipeline.window.sizeMs);
    const now = clock.now();
    let known = this.exported.get(start);
    if (!known) {
      if ((this.wroteAt.get(start) ?? -Infinity) > now - this.pipeline.allowedLatenessMs) return 'open';
      let check = this.openChecks.get(start);
      if (!check || check.at < now - OPEN_CHECK_TTL_MS) {
        check = { at: now, state: windows.getState(this.pipeline.name, start) };
        this.openChecks.set(start, check);
        if (this.openChecks.size > EXPORTED_CACHE) this.openChecks.delete(this.openChecks.keys().next().value!);
      }
      const state = await check.state.catch((err: unknown) => {
        this.openChecks.delete(start);
        throw err;
      });
      if (!state.exported) return 'open';
      known = this.exported.get(start) ?? { state, shards: new Map() };
      this.exported.set(start, known);
      if (this.exported.size > EXPORTED_CACHE) this.exported.delete(this.exported.keys().next().value!);
    }
    const d = digestOf(e.id);
    const k = shardOfDigest(d, known.state.shards);
    let shard = known.shards.get(k);
    if (!shard) {
      shard = windows.getShards(this.pipeline.name, start, known.state, [k]).then((m) => m.get(k));
      known.shards.set(k, shard);
      shard.catch(() => known.shards.delete(k));
    }
    return (await shard)?.ids.has(d) ? 'counted' : 'late';
  }
}

/** Feeds completed passages (exported by the flush) to the pipelines fed by passages, each once by its id. */
export function passageFeed(
  windows: Pick<WindowStore, 'append'>,
  pipelines: readonly WindowPipeline[],
): (passages: readonly CompletedPassage[]) => Promise<void> {
  return async (passages) => {
    for (const p of pipelines) if (p.fromPassage) await windows.append(p.name, p.window.sizeMs, passages.map(p.fromPassage));
  };
}
