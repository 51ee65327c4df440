import type { SchemaComponents } from './components.js';
import type { HeaderDoc, JsonSchema } from './route-doc.js';

/** A Fastify URL as an OpenAPI path: `:id` becomes `{id}`; a bare `*` (undescribed) becomes `{path}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}').replace(/\*$/, '{path}');
}

const propertiesOf = (schema: unknown): Record<string, JsonSchema> => ((schema as { properties?: Record<string, JsonSchema> } | undefined)?.properties ?? {});
const requiredOf = (schema: unknown): string[] => ((schema as { required?: string[] } | undefined)?.required ?? []);

/** The `{name}`s of a path template, typed by the route's params schema where it has one. */
export function pathParameters(path: string, paramsSchema: unknown, descriptions: Record<string, string> = {}) {
  return [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
    name: name!,
    in: 'path',
    required: true,
    schema: propertiesOf(paramsSchema)[name!] ?? { type: 'string' },
    ...(descriptions[name!] ? { description: descriptions[name!] } : {}),
  }));
}

/** Each property of the query schemas (Fastify's, then the doc's) as a query parameter. */
export function queryParameters(schemas: unknown[], components: SchemaComponents) {
  const seen = new Map<string, unknown>();
  for (const schema of schemas) {
    const required = requiredOf(schema);
    for (const [name, property] of Object.entries(propertiesOf(schema))) {
      if (seen.has(name)) continue;
      const { description, ...rest } = property as { description?: string };
      seen.set(name, { name, in: 'query', required: required.includes(name), schema: components.use(rest), ...(description ? { description } : {}) });
    }
  }
  return [...seen.values()];
}

export function headerParameters(headers: readonly HeaderDoc[]) {
  return headers.map((header) => ({
    name: header.name,
    in: 'header',
    required: header.required === true,
    description: header.description,
    schema: header.schema ?? { type: 'string' },
  }));
}
