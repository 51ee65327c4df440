import { CliError, ServerError, serverMessage } from './errors.js';

export interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * One request to a Berth API. A 4xx/5xx becomes a CliError with what the server said; a server
 * that cannot be reached says so, with the URL, never with a stack trace.
 */
export async function request<T = unknown>(url: string, init: RequestInit = {}): Promise<Answer<T>> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  const text = await response.text();
  let body: unknown = undefined;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (response.status >= 400) {
    const said = serverMessage(body) ?? (typeof body === 'string' && body !== '' ? body.slice(0, 200) : response.statusText);
    throw new ServerError(`${response.status} from ${new URL(url).pathname}: ${said}`, response.status, body);
  }
  return { status: response.status, body: body as T, headers: response.headers };
}

export function jsonBody(value: unknown): RequestInit {
  return { body: JSON.stringify(value), headers: { 'content-type': 'application/json' } };
}
