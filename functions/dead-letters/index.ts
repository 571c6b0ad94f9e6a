import { pushFunction } from '../push.js';

/** dead-letters → kept in Firestore until the flush writes the dead_letters table. */
pushFunction('deadLetters', (rt) => rt.deadLetterSink);
