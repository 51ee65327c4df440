import type { FastifyInstance } from 'fastify';

class NulError extends Error {}

/** No name, description or ID holds a NUL, and PostgreSQL text cannot store one: refused as bad input. */
function refuseNul(key: string, value: unknown): unknown {
  if (key.includes('\0') || (typeof value === 'string' && value.includes('\0'))) throw new NulError();
  return value;
}

/**
 * Parses JSON bodies of an IAM API, treating an empty body as no body: IBM's SDKs send
 * `Content-Type: application/json` with nothing on lock and delete calls. Bad JSON becomes the
 * API's own validation error, and so is a NUL character in any string.
 */
export function acceptJsonOrNothing(app: FastifyInstance, invalid: (details: string) => Error): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text, refuseNul);
    } catch (error) {
      if (error instanceof NulError) return done(invalid('the body holds a NUL character (\\u0000), which no field may hold'), undefined);
      return done(invalid(`the body is not valid JSON: ${(error as Error).message}`), undefined);
    }
    done(null, parsed);
  });
}
