import { pushFunction } from '../push.js';

/** user-registrations (randomuser.me responses) → one users row per result (through the flush). */
pushFunction('userRegistrations', (rt) => rt.registrations);
