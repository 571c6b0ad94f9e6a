import { z } from 'zod';
import { amount, commaList, ConfigError, type GroupValues, isTrue, setting, settingsGroup, trueOrFalse } from '../core/settings.js';

/**
 * The review function's settings (docs/review.md). `auth`: `google` verifies the caller's Google ID token
 * (Cloud Run's invoker IAM let it in; the token names the reviewer), `token` compares a bearer token (the
 * local stack's). `everyFine`: every fine is held for a person (UK and Dutch practice: a plate is read by a
 * person before a notice), not only those with a review reason; the fines function reads it.
 */
export const reviewSettings = settingsGroup(
  'shared/review/settings.ts',
  {
    auth: setting(
      'SPEEDCAM_REVIEW_AUTH',
      z.enum(['google', 'token']).default('google'),
      'how the review function authenticates: `google` (verified Google ID token, behind invoker IAM) or `token` (a bearer token)',
      { local: '`token`' },
    ),
    token: setting('SPEEDCAM_REVIEW_TOKEN', z.string().min(16, 'at least 16 characters').optional(), 'the bearer token, with `token`', {
      default: 'none',
      local: 'a new one per run, printed in READY (unless set)',
    }),
    audiences: setting(
      'SPEEDCAM_REVIEW_AUDIENCES',
      z.string().default(''),
      "comma-separated audiences an ID token must carry (the function's URLs); empty: any audience (invoker IAM checked it first)",
      { to: commaList },
    ),
    claimMs: amount(
      'SPEEDCAM_REVIEW_CLAIM_S',
      { min: 1, default: 300, ms: 's' },
      'how long a reviewer who opened a held fine keeps it to themselves',
    ),
    alertAfterH: amount(
      'SPEEDCAM_REVIEW_ALERT_H',
      { min: 0.01, default: 24 },
      'the alert fires when the oldest held fine has waited longer than this',
    ),
    everyFine: setting(
      'SPEEDCAM_REVIEW_EVERY_FINE',
      trueOrFalse(),
      '`true`: every fine is held until a person confirms its plate (UK and Dutch practice), not only doubtful ones; see review.md',
      { to: isTrue },
    ),
  },
  ({ token, ...review }) => {
    if (review.auth === 'token' && !token) throw new ConfigError('SPEEDCAM_REVIEW_TOKEN: required when SPEEDCAM_REVIEW_AUTH=token');
    return { review: { ...review, token: token ?? null } };
  },
);

/** The review's configuration (the runtime passes the whole Config). */
export type ReviewSettings = GroupValues<typeof reviewSettings>;
