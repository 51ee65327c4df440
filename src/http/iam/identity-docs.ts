import type { HeaderDoc } from '../openapi/route-doc.js';

// Headers the Identity API reads (identity-input.ts), as GET /openapi.json describes them.

export const ifMatchHeader: HeaderDoc = {
  name: 'If-Match',
  required: true,
  description: 'the entity_tag (ETag) last read, or * for any version; without it the answer is 428',
};

const ENTITY_FLAGS: Record<'Entity-Lock' | 'Entity-Disable', string> = {
  'Entity-Lock': 'create it locked',
  'Entity-Disable': 'create it disabled',
};

/** `Entity-Lock` / `Entity-Disable`: "true" or "false" (the default). */
export function entityHeaders(names: Array<keyof typeof ENTITY_FLAGS>): HeaderDoc[] {
  return names.map((name) => ({ name, description: ENTITY_FLAGS[name], schema: { type: 'string', enum: ['true', 'false'] } }));
}
