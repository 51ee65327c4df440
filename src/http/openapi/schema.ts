import type { JsonSchema } from './route-doc.js';

/** Schemas to write once under `components/schemas`, by the name they get there. */
const names = new WeakMap<object, string>();

/** Marks a schema to appear once in the document, under `name`, and be referred to everywhere else. */
export function named<T extends JsonSchema>(name: string, schema: T): T {
  names.set(schema, name);
  return schema;
}

export function nameOf(schema: object): string | undefined {
  return names.get(schema);
}

// Builders that keep the response schemas beside the views short to read.

export const string = (description?: string): JsonSchema => ({ type: 'string', ...(description ? { description } : {}) });
export const integer = (description?: string): JsonSchema => ({ type: 'integer', ...(description ? { description } : {}) });
export const boolean = (description?: string): JsonSchema => ({ type: 'boolean', ...(description ? { description } : {}) });
export const nullable = (type: 'string' | 'integer', description?: string): JsonSchema => ({ type: [type, 'null'], ...(description ? { description } : {}) });
export const arrayOf = (items: JsonSchema, description?: string): JsonSchema => ({ type: 'array', items, ...(description ? { description } : {}) });
/** A map from any key to values of one shape. */
export const mapOf = (values: JsonSchema, description?: string): JsonSchema => ({ type: 'object', additionalProperties: values, ...(description ? { description } : {}) });

/** An object with these properties; `required` lists those always present. */
export function object(properties: Record<string, JsonSchema>, required: string[] = [], description?: string): JsonSchema {
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), ...(description ? { description } : {}) };
}

/** An object whose listed properties are all always present. */
export function record(properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return object(properties, Object.keys(properties), description);
}
