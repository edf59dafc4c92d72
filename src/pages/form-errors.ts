import { DomainError } from '../common/problem/domain-error';
import type { MessageKey } from './i18n/en';
import type { Translate } from './i18n/locale';

// The password policy's sentences (PasswordPolicy) → catalog entries, so its rules stay in one place.
const POLICY_MESSAGES: [RegExp, MessageKey][] = [
  [/at least (\d+) characters/, 'password.tooShort'],
  [/at most/, 'password.tooLong'],
  [/too common/, 'password.common'],
  [/email address/, 'password.containsEmail'],
  [/breach/, 'password.breached'],
];

/** Errors that name the fields at fault: validation, and a wrong current password or code. */
const FIELD_ERROR_CODES = new Set<DomainError['code']>(['validation', 'invalidPassword', 'invalidCode']);

const FIELD_MESSAGES: Record<string, MessageKey> = { email: 'field.email', newEmail: 'field.email', code: 'field.code' };

/**
 * A service's validation error as field → translated message, for re-rendering the form; null
 * for any other error (the caller rethrows it). Field names are the API's (the same DTOs run).
 */
export function formErrors(err: unknown, t: Translate, rename: Record<string, string> = {}): Record<string, string> | null {
  if (!(err instanceof DomainError) || !FIELD_ERROR_CODES.has(err.code)) return null;
  const errors: Record<string, string> = {};
  for (const { field, message } of err.errors ?? []) {
    const name = rename[field] ?? field;
    if (errors[name]) continue;
    // A wrong current password (400 invalid-password, whatever the form calls the field).
    errors[name] = err.code === 'invalidPassword' ? t('field.currentPasswordWrong') : translateFieldError(field, message, t);
  }
  return errors;
}

function translateFieldError(field: string, message: string, t: Translate): string {
  for (const [pattern, key] of POLICY_MESSAGES) {
    const match = pattern.exec(message);
    if (match && /password/i.test(field)) return t(key, { min: match[1] ?? '' });
  }
  if (/empty|required|must be longer|at least 1/.test(message)) return t('field.required');
  return t(FIELD_MESSAGES[field] ?? 'field.invalid');
}
