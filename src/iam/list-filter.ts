/**
 * The Identity API's `filter` query parameter, a SCIM-like expression such as
 * `name co "ci" and created_by eq "BERTHid-…"`: comparisons joined by `and` (binding tighter) and
 * `or`. Operators: eq, ne, co (contains), sw (starts with), ew (ends with); values are quoted
 * strings (`\"` escapes a quote) or bare words. Comparison is case-sensitive.
 */
export type FilterPredicate = (fields: Readonly<Record<string, string | null | undefined>>) => boolean;

const OPERATORS: Record<string, (actual: string, wanted: string) => boolean> = {
  eq: (a, w) => a === w,
  ne: (a, w) => a !== w,
  co: (a, w) => a.includes(w),
  sw: (a, w) => a.startsWith(w),
  ew: (a, w) => a.endsWith(w),
};

const MAX_FILTER = 1024;

/** Parses a filter over the given attribute names; throws FilterError with a message for people. */
export function parseFilter(text: string, attributes: readonly string[]): FilterPredicate {
  if (text.length > MAX_FILTER) throw new FilterError(`filter is longer than ${MAX_FILTER} characters`);
  const tokens = tokenize(text);
  let position = 0;
  const next = () => tokens[position++];

  const comparison = (): FilterPredicate => {
    const attribute = next();
    const operator = next()?.toLowerCase();
    const value = next();
    if (attribute === undefined || operator === undefined || value === undefined) throw new FilterError(`filter "${text}" ends too early`);
    if (!attributes.includes(attribute)) throw new FilterError(`filter attribute ${attribute} is not one of ${attributes.join(', ')}`);
    const test = OPERATORS[operator];
    if (!test) throw new FilterError(`filter operator ${operator} is not one of ${Object.keys(OPERATORS).join(', ')}`);
    return (fields) => test(fields[attribute] ?? '', value);
  };
  const conjunction = (): FilterPredicate => {
    const parts = [comparison()];
    while (tokens[position]?.toLowerCase() === 'and') {
      position += 1;
      parts.push(comparison());
    }
    return (fields) => parts.every((part) => part(fields));
  };

  const alternatives = [conjunction()];
  while (tokens[position]?.toLowerCase() === 'or') {
    position += 1;
    alternatives.push(conjunction());
  }
  if (position < tokens.length) throw new FilterError(`filter has an unexpected ${tokens[position]}`);
  return (fields) => alternatives.some((alternative) => alternative(fields));
}

export class FilterError extends Error {}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === '"') {
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== '"') {
        value += text[i] === '\\' && i + 1 < text.length ? text[++i] : text[i];
        i += 1;
      }
      if (i >= text.length) throw new FilterError('filter has an unterminated quoted value');
      i += 1;
      tokens.push(value);
    } else {
      const start = i;
      while (i < text.length && !/[\s"]/.test(text[i]!)) i += 1;
      tokens.push(text.slice(start, i));
    }
  }
  return tokens;
}
