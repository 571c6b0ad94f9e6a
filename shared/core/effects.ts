import type { Clock } from './clock.js';
import type { Faults } from './faults.js';
import type { Logger } from './logger.js';
import type { Publisher } from './publisher.js';

/** What every handler works with beside its configuration and its stores: where it publishes, logs, reads time and meets injected faults. */
export interface Effects {
  publisher: Publisher;
  logger: Logger;
  clock: Clock;
  faults: Faults;
}
