import type { V2Handler } from '../context.js';
import { nextLink, pageRequest } from '../pagination.js';

/** `GET /v2/_catalog?n=&last=`: only repositories the caller may pull are listed. */
export const listCatalog: V2Handler = async ({ query, reply, deps, pullable }) => {
  const request = pageRequest(query, deps.config.registry.maxPageSize);
  const page = await deps.registry.catalog.list(request, pullable);
  const link = nextLink('/v2/_catalog', page, request);
  if (link) reply.header('link', link);
  reply.code(200).send({ repositories: page.items });
};
