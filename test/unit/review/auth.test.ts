import { describe, expect, it } from 'vitest';
import { googleAuth, tokenAuth, type IdTokenVerifier } from '../../../shared/review/auth.js';
import { rankPlates, type TextDetection } from '../../../shared/fines/plate.js';

describe('review authentication', () => {
  it('token: the exact bearer token, the reviewer named by X-Speedcam-Reviewer; anything else is nobody', async () => {
    const auth = tokenAuth('s3cret-token-0123456789');
    expect(await auth({ authorization: 'Bearer s3cret-token-0123456789' })).toBe('local:reviewer');
    expect(await auth({ authorization: 'bearer s3cret-token-0123456789', 'x-speedcam-reviewer': 'ana <script>' })).toBe('local:anascript');
    const wrong = ['Bearer s3cret-token-012345678', 's3cret-token-0123456789', 'Basic s3cret-token-0123456789'];
    for (const h of [{}, ...wrong.map((authorization) => ({ authorization }))]) {
      expect(await auth(h), JSON.stringify(h)).toBeNull();
    }
  });

  it("google: the verified token's e-mail is the reviewer; an unverifiable token, an unverified e-mail or none is nobody", async () => {
    const seen: unknown[] = [];
    const verifier: IdTokenVerifier = {
      async verifyIdToken(o) {
        seen.push(o);
        if (o.idToken === 'good') return { getPayload: () => ({ email: 'ana@city.example', email_verified: true }) };
        if (o.idToken === 'unverified') return { getPayload: () => ({ email: 'eve@example.com', email_verified: false }) };
        if (o.idToken === 'no-email') return { getPayload: () => ({ sub: '123' }) };
        throw new Error('Invalid token signature');
      },
    };
    const auth = googleAuth(verifier, ['https://speedcam-review-abc-ue.a.run.app']);
    expect(await auth({ authorization: 'Bearer good' })).toBe('ana@city.example');
    expect(seen[0]).toEqual({ idToken: 'good', audience: ['https://speedcam-review-abc-ue.a.run.app'] });
    for (const t of ['unverified', 'no-email', 'forged']) expect(await auth({ authorization: `Bearer ${t}` }), t).toBeNull();
    expect(await auth({})).toBeNull();
    // No audiences configured: the audience is left to Cloud Run's own check.
    await googleAuth(verifier, [])({ authorization: 'Bearer good' });
    expect(seen.at(-1)).toEqual({ idToken: 'good' });
  });
});

describe('rankPlates', () => {
  const d = (text: string, x0: number, confidence = 0.9): TextDetection => ({
    text,
    confidence,
    box: { x0, y0: 100, x1: x0 + 60, y1: 130 },
  });
  it('the best read first (pickPlate), then the other plausible reads, each plate once', () => {
    const reads = rankPlates([d('KXT', 100), d('4821', 170), d('ABC1234', 400, 0.6)]);
    expect(reads[0]!.plate).toBe('KXT4821');
    expect(reads.map((r) => r.plate)).toContain('ABC1234');
    expect(new Set(reads.map((r) => r.plate)).size).toBe(reads.length);
    expect(rankPlates([])).toEqual([]);
  });
});
