import { pushFunction } from '../push.js';

/** click-events (GA4 rows) → per-user one-minute windows → user_event_counts (through the flush). */
pushFunction('clickEvents', (rt) => rt.windows.clicks);
