import { createHash, timingSafeEqual } from 'node:crypto';
import type { ReviewSettings } from './settings.js';

/** Who is calling: the reviewer's identity, or null (401). */
export type Authenticate = (headers: Record<string, string | string[] | undefined>) => Promise<string | null>;

const bearer = (headers: Record<string, string | string[] | undefined>): string | null => {
  const h = headers['authorization'];
  const v = Array.isArray(h) ? h[0] : h;
  const m = v ? /^Bearer\s+(\S+)\s*$/i.exec(v) : null;
  return m ? m[1]! : null;
};

/**
 * The local stack's check: `Authorization: Bearer <token>` equal to SPEEDCAM_REVIEW_TOKEN (compared in
 * constant time). The reviewer is `local:<name>`, the name from `X-Speedcam-Reviewer` (default `reviewer`),
 * so that two people on one stack hold separate claims.
 */
export function tokenAuth(token: string): Authenticate {
  const want = createHash('sha256').update(token).digest();
  return async (headers) => {
    const got = bearer(headers);
    if (!got || !timingSafeEqual(createHash('sha256').update(got).digest(), want)) return null;
    const h = headers['x-speedcam-reviewer'];
    const name = (Array.isArray(h) ? h[0] : h)?.replace(/[^A-Za-z0-9._@-]/g, '').slice(0, 64) || 'reviewer';
    return `local:${name}`;
  };
}

/** What verifying a Google ID token needs (google-auth-library's OAuth2Client.verifyIdToken). */
export interface IdTokenVerifier {
  verifyIdToken(o: { idToken: string; audience?: string | string[] }): Promise<{ getPayload(): IdTokenPayload | undefined }>;
}

/** The claims of a Google ID token the function reads. */
export interface IdTokenPayload {
  email?: string;
  email_verified?: boolean;
  sub?: string;
}

/**
 * In Google Cloud: Cloud Run's invoker IAM lets only the `reviewers` in (roles/run.invoker), after checking the
 * request's Google ID token; it passes the Authorization header on to the function but no identity header of
 * its own. So the function verifies the same token again (signature, expiry, issuer; the audience too when
 * SPEEDCAM_REVIEW_AUDIENCES lists them) with google-auth-library and records the token's verified e-mail.
 */
export function googleAuth(verifier: IdTokenVerifier, audiences: readonly string[]): Authenticate {
  return async (headers) => {
    const idToken = bearer(headers);
    if (!idToken) return null;
    try {
      const ticket = await verifier.verifyIdToken({ idToken, ...(audiences.length ? { audience: [...audiences] } : {}) });
      const p = ticket.getPayload();
      if (!p?.email || p.email_verified === false) return null;
      return p.email;
    } catch {
      return null;
    }
  };
}

/** The configured check (config.review.auth). */
export async function authenticator(config: ReviewSettings): Promise<Authenticate> {
  if (config.review.auth === 'token') return tokenAuth(config.review.token!);
  // google-auth-library comes with the Google Cloud clients (they depend on it).
  const { OAuth2Client } = await import('google-auth-library');
  return googleAuth(new OAuth2Client(), config.review.audiences);
}
