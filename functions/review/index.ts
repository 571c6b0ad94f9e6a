import * as ff from '@google-cloud/functions-framework';
import { runtime } from '../../shared/runtime.js';

/**
 * The review function (HTTP, called by people, not by a push subscription): the review page at GET / and its
 * JSON API under /reviews (docs/review.md). In Google Cloud only the `reviewers` may invoke it (run.invoker);
 * the handler verifies who they are (shared/review/auth.ts).
 */
ff.http('review', async (req, res) => {
  try {
    const query = req.query as Record<string, unknown>;
    const answer = await runtime().review.handle({ method: req.method, path: req.path, query, headers: req.headers, body: req.body });
    for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v);
    res.setHeader('x-content-type-options', 'nosniff');
    if (Buffer.isBuffer(answer.body) || typeof answer.body === 'string') {
      res
        .status(answer.status)
        .type(answer.contentType ?? 'application/octet-stream')
        .send(answer.body);
    } else {
      res.status(answer.status).json(answer.body);
    }
  } catch (err) {
    const error = String((err as Error)?.stack ?? err);
    runtime().logger.error('review request failed', { path: req.path.slice(0, 200), method: req.method, error });
    res.status(500).json({ error: 'internal', message: 'the request failed; try again' });
  }
});
