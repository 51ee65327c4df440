import { AsyncLocalStorage } from 'node:async_hooks';
import type { Origin } from './access-events.js';

/**
 * The request being served, for events recorded deep in domain code (an IAM change) that is not
 * handed the request: the HTTP layer runs each request inside `originScope`.
 */
export const originScope = new AsyncLocalStorage<Origin>();

export function currentOrigin(): Origin | undefined {
  return originScope.getStore();
}
