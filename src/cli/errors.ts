/** A failure the user can act on: printed as one line (`berth: <message>`), exit status 1. */
export class CliError extends Error {}

/** A server's 4xx/5xx, already worded for people, with the status and body a command may look into. */
export class ServerError extends CliError {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** What an HTTP error body says, whichever API's shape it has (IAM, Policy, management, OCI). */
export function serverMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const first = Array.isArray(b.errors) ? (b.errors[0] as Record<string, unknown> | undefined) : undefined;
  const details = typeof first?.details === 'string' && first.details !== '' ? `: ${first.details}` : '';
  if (typeof first?.message === 'string') return `${first.message}${details}`;
  if (typeof b.errorMessage === 'string') return `${b.errorMessage}${typeof b.errorDetails === 'string' ? `: ${b.errorDetails}` : ''}`;
  if (typeof b.message === 'string') return b.message;
  return undefined;
}
