import type { Authenticate } from './auth.js';
import { reviewPage } from './page.js';
import { claimReview, decideReview, listReviews, reviewDetail, reviewPhoto, type Answer, type ReviewDeps } from './review.js';

export interface ReviewRequest {
  method: string;
  /** the path without the query */
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** the parsed JSON body (undefined when none) */
  body: unknown;
}

const FINE = '([A-Za-z0-9_-]{1,64})';
const ROUTES = {
  list: /^\/reviews\/?$/,
  one: new RegExp(`^/reviews/${FINE}/?$`),
  claim: new RegExp(`^/reviews/${FINE}/claim/?$`),
  photo: new RegExp(`^/reviews/${FINE}/photos/(\\d{1,2})$`),
};

/**
 * The review function's routes. The page (GET /) holds no data and needs no token; every /reviews route
 * does (401 without a valid one, before anything is read).
 */
export async function routeReview(deps: ReviewDeps & { authenticate: Authenticate }, req: ReviewRequest): Promise<Answer> {
  const { method, path } = req;
  if ((path === '/' || path === '/index.html') && (method === 'GET' || method === 'HEAD')) {
    const headers = { 'cache-control': 'no-store', 'content-security-policy': CSP };
    return { status: 200, body: reviewPage(), contentType: 'text/html; charset=utf-8', headers };
  }
  const noRoute: Answer = { status: 404, body: { error: 'not_found', message: `no route ${method} ${path.slice(0, 100)}` } };
  if (!path.startsWith('/reviews')) return noRoute;
  const reviewer = await deps.authenticate(req.headers);
  if (!reviewer) {
    const body = { error: 'unauthorized', message: 'send Authorization: Bearer <token>' };
    return { status: 401, body, headers: { 'www-authenticate': 'Bearer' } };
  }
  let m: RegExpExecArray | null;
  if (ROUTES.list.test(path) && method === 'GET') return listReviews(deps, req.query);
  if ((m = ROUTES.one.exec(path))) {
    if (method === 'GET') return reviewDetail(deps, m[1]!);
    if (method === 'POST') return decideReview(deps, m[1]!, req.body, reviewer);
  }
  if ((m = ROUTES.claim.exec(path)) && method === 'POST') return claimReview(deps, m[1]!, reviewer);
  if ((m = ROUTES.photo.exec(path)) && method === 'GET') return reviewPhoto(deps, m[1]!, Number(m[2]));
  const known = [ROUTES.list, ROUTES.one, ROUTES.claim, ROUTES.photo].some((r) => r.test(path));
  return known ? { status: 405, body: { error: 'method_not_allowed', message: `${method} ${path.slice(0, 100)}` } } : noRoute;
}

/** The page loads nothing from elsewhere: its own script and style, its photos as blobs fetched from here. */
const CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  'img-src blob: data:',
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
