import type { V2Handler } from '../context.js';
import { nextLink, pageRequest } from '../pagination.js';

/** `GET /v2/<name>/tags/list?n=&last=` */
export const listTags: V2Handler = async ({ name, query, reply, deps }) => {
  const request = pageRequest(query, deps.config.registry.maxPageSize);
  const page = await deps.registry.tags.list(name, request);
  const link = nextLink(`/v2/${name}/tags/list`, page, request);
  if (link) reply.header('link', link);
  reply.code(200).send({ name, tags: page.items });
};
