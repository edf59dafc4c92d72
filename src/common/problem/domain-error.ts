import { type FieldError, ProblemType } from './problem-details';

/**
 * Errors the services raise. Each code maps to one HTTP status and problem type in
 * `DOMAIN_ERRORS`; services never pick status codes themselves.
 */
export const DOMAIN_ERRORS = {
  validation: { status: 400, type: ProblemType.validation, title: 'Validation failed' },
  badRequest: { status: 400, type: ProblemType.blank, title: 'Bad Request' },
  // A wrong current password or code on a signed-in route: 400, never 401, which a front end
  // reads as "your session is gone".
  invalidPassword: { status: 400, type: ProblemType.invalidPassword, title: 'Invalid password' },
  invalidCode: { status: 400, type: ProblemType.invalidCode, title: 'Invalid code' },
  unauthenticated: { status: 401, type: ProblemType.blank, title: 'Unauthorized' },
  invalidCredentials: { status: 401, type: ProblemType.blank, title: 'Invalid credentials' },
  forbidden: { status: 403, type: ProblemType.blank, title: 'Forbidden' },
  mfaRequired: { status: 403, type: ProblemType.mfaRequired, title: 'Multi-factor authentication required' },
  emailNotVerified: { status: 403, type: ProblemType.emailNotVerified, title: 'Email not verified' },
  accountDisabled: { status: 403, type: ProblemType.accountDisabled, title: 'Account disabled' },
  notFound: { status: 404, type: ProblemType.blank, title: 'Not Found' },
  conflict: { status: 409, type: ProblemType.blank, title: 'Conflict' },
  versionConflict: { status: 409, type: ProblemType.versionConflict, title: 'Version conflict' },
  rateLimited: { status: 429, type: ProblemType.rateLimited, title: 'Too Many Requests' },
  badGateway: { status: 502, type: ProblemType.blank, title: 'Bad Gateway' },
  unavailable: { status: 503, type: ProblemType.blank, title: 'Service Unavailable' },
} as const;

export type DomainErrorCode = keyof typeof DOMAIN_ERRORS;

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'DomainError';
  }
}
