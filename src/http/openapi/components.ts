import { nameOf } from './schema.js';
import type { JsonSchema } from './route-doc.js';

/**
 * The document's `components/schemas`: every schema marked with `named()` is written there once,
 * on first use, and everywhere it appears becomes a `$ref` to it.
 */
export class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};
  private readonly owners = new Map<string, object>();

  /** A copy of `schema` with named parts replaced by references. */
  use(schema: unknown): unknown {
    if (Array.isArray(schema)) return schema.map((item) => this.use(item));
    if (typeof schema !== 'object' || schema === null) return schema;
    const name = nameOf(schema);
    if (name === undefined) return this.copy(schema);
    const owner = this.owners.get(name);
    if (owner === undefined) {
      this.owners.set(name, schema);
      this.schemas[name] = this.copy(schema);
    } else if (owner !== schema) {
      throw new Error(`two different schemas are named ${name}`);
    }
    return { $ref: `#/components/schemas/${name}` };
  }

  private copy(schema: object): JsonSchema {
    return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, this.use(value)]));
  }
}
