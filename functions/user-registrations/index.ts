import { runtime } from '../../shared/runtime.js';
import { handleRegistrations } from '../../shared/registrations/registrations.js';
import { pushFunction } from '../push.js';

/** user-registrations (randomuser.me responses) → one users row per result (through the flush). */
pushFunction('userRegistrations', (msg) => {
  const rt = runtime();
  return handleRegistrations({ ...rt.windowDeps, users: rt.users }, msg);
});
