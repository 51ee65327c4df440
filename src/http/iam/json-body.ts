import type { FastifyInstance } from 'fastify';

/**
 * Parses JSON bodies of an IAM API, treating an empty body as no body: IBM's SDKs send
 * `Content-Type: application/json` with nothing on lock and delete calls. Bad JSON becomes the
 * API's own validation error.
 */
export function acceptJsonOrNothing(app: FastifyInstance, invalid: (details: string) => Error): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(invalid(`the body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
}
