/** RFC 9457 problem details, the one error shape of the API. */
export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const ProblemType = {
  blank: 'about:blank',
  validation: 'urn:bastion:problem:validation',
  mfaRequired: 'urn:bastion:problem:mfa-required',
  emailNotVerified: 'urn:bastion:problem:email-not-verified',
  accountDisabled: 'urn:bastion:problem:account-disabled',
  versionConflict: 'urn:bastion:problem:version-conflict',
  rateLimited: 'urn:bastion:problem:rate-limited',
  invalidPassword: 'urn:bastion:problem:invalid-password',
  invalidCode: 'urn:bastion:problem:invalid-code',
} as const;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function statusTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request');
}

export function problem(status: number, detail: string, extra: Partial<ProblemDetails> = {}): ProblemDetails {
  return { type: ProblemType.blank, title: statusTitle(status), status, detail, ...extra };
}
