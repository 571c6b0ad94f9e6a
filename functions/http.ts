import * as ff from '@google-cloud/functions-framework';
import { runtime, type HttpHandler, type Runtime } from '../shared/runtime.js';

/**
 * Registers an HTTP function people call (the review page and its JSON API, docs/review.md), served by the
 * runtime's handler that `handler` names. In Google Cloud only its invokers may call it (run.invoker); the
 * handler verifies who they are. A handler that throws answers 500 and is logged.
 */
export function httpFunction(name: string, handler: (rt: Runtime) => HttpHandler): void {
  ff.http(name, async (req, res) => {
    try {
      const query = req.query as Record<string, unknown>;
      const answer = await handler(runtime()).handle({ method: req.method, path: req.path, query, headers: req.headers, body: req.body });
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
      runtime().logger.error('request failed', { function: name, path: req.path.slice(0, 200), method: req.method, error });
      res.status(500).json({ error: 'internal', message: 'the request failed; try again' });
    }
  });
}
