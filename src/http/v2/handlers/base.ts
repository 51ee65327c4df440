import type { V2Handler } from '../context.js';

/** `GET /v2/`: the API version check every client starts with. */
export const apiVersion: V2Handler = async ({ reply }) => {
  reply.code(200).header('content-type', 'application/json').send('{}');
};
