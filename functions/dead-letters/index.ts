import { recordDeadLetter } from '../../shared/dead-letters/sink.js';
import { runtime } from '../../shared/runtime.js';
import { pushFunction } from '../push.js';

/** dead-letters → kept in Firestore until the flush writes the dead_letters table. */
pushFunction('deadLetters', (msg) => {
  const rt = runtime();
  return recordDeadLetter({ store: rt.deadLetters, logger: rt.logger, clock: rt.clock, faults: rt.faults }, msg);
});
