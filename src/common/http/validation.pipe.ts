import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError } from '../problem/domain-error';
import type { FieldError } from '../problem/problem-details';
import { inputLimitErrors } from './input-limits';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

// class-transformer also skips any key that names an inherited method (`toString`, `valueOf`, …).
const PROTOTYPE_KEYS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** Paths of own keys that class-transformer would silently drop (and that no DTO declares). */
function prototypeKeys(value: unknown, path: string, depth = 0): string[] {
  if (value === null || typeof value !== 'object' || depth > 32) return [];
  return Object.keys(value).flatMap((key) => {
    const here = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    return PROTOTYPE_KEYS.has(key) ? [here] : prototypeKeys((value as Record<string, unknown>)[key], here, depth + 1);
  });
}

export function validationFailed(errors: FieldError[]): DomainError {
  return new DomainError('validation', 'The request is invalid', errors);
}

/**
 * The global pipe: unknown fields, wrong types and over-long strings are 400 with
 * `errors: [{field, message}]`. A body that is not a JSON object (array, string, null) never
 * reaches class-validator.
 */
export class AppValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      stopAtFirstError: false,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => validationFailed(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') {
      const limits = inputLimitErrors(value);
      if (limits.length) throw validationFailed(limits);
    }
    if (metadata.type === 'body' && metadata.metatype && this.toValidate(metadata)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw validationFailed([{ field: 'body', message: 'the request body must be a JSON object' }]);
      }
      // Refused rather than stripped: a dropped key could silently widen what a body means.
      const forbidden = prototypeKeys(value, '');
      if (forbidden.length) throw validationFailed(forbidden.map((field) => ({ field, message: 'is not allowed' })));
    }
    return super.transform(value, metadata);
  }
}
