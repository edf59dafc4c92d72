import type { Type } from '@nestjs/common';
import { AppValidationPipe } from './validation.pipe';

const pipe = new AppValidationPipe();

/**
 * Validates input the global pipe has not seen yet — e.g. a login body in a guard, since Nest
 * runs guards before pipes and passport-local must never see an unvalidated body.
 */
export async function validateDto<T extends object>(type: Type<T>, value: unknown, kind: 'body' | 'query' = 'body'): Promise<T> {
  return (await pipe.transform(kind === 'query' ? (value ?? {}) : value, { type: kind, metatype: type })) as T;
}
