import type { FieldError } from '../problem/problem-details';

/** Deeper than any DTO of this API (a role's conditions, the deepest, stay under 20 levels). */
export const MAX_INPUT_DEPTH = 32;
const NUL = '\u0000';
/** A UTF-16 surrogate that is not half of a pair: `"\ud800"` is valid JSON but no character. */
const LONE_SURROGATE = /\p{Cs}/u;

function textError(text: string): string | undefined {
  if (text.includes(NUL)) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'must be well-formed Unicode (no lone surrogates)';
  return undefined;
}

/**
 * What no DTO may contain, found before class-transformer runs: nesting deeper than
 * MAX_INPUT_DEPTH (class-transformer and Nest's proto-key stripping recurse once per level, so a
 * 1 MiB body of `[[[[…` overflows the stack: a 500), U+0000 in any key or string (PostgreSQL
 * text cannot hold it: the insert or query fails, another 500), and lone surrogates (validator's
 * isEmail throws on them — a 500 — and the database would store U+FFFD instead of what was
 * sent). The walk is iterative, so the check itself cannot overflow.
 */
export function inputLimitErrors(input: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: input, path: '', depth: 0 }];
  while (stack.length && errors.length < 10) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const message = textError(value);
      if (message) errors.push({ field: path || 'body', message });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) {
      errors.push({ field: path || 'body', message: `is nested deeper than ${MAX_INPUT_DEPTH} levels` });
      continue;
    }
    for (const key of Object.keys(value)) {
      const here = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      const message = textError(key);
      if (message) errors.push({ field: here, message });
      else stack.push({ value: (value as Record<string, unknown>)[key], path: here, depth: depth + 1 });
    }
  }
  return errors;
}
