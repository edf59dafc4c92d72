import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Action, SubjectType } from './policy-schema';

export const CHECK_POLICY = 'bastion:check-policy';
export const SIGNED_IN = 'bastion:signed-in';

export interface PolicyRequirement {
  action: Action;
  subject: SubjectType;
}

const secured = () =>
  applyDecorators(
    ApiBearerAuth('bearer'),
    ApiCookieAuth('cookie'),
    ApiUnauthorizedResponse({ description: 'No, invalid, expired or revoked credentials' }),
  );

/**
 * The access rule of a route, stated once: the PoliciesGuard enforces `action` on `subject`
 * (type level), the service then checks the record and its fields. Also writes the OpenAPI security.
 */
export const CheckPolicy = (action: Action, subject: SubjectType) =>
  applyDecorators(
    SetMetadata(CHECK_POLICY, { action, subject } satisfies PolicyRequirement),
    secured(),
    ApiForbiddenResponse({ description: `Needs "${action}" on ${subject}` }),
  );

/** Self-service routes (the caller's own account): any signed-in user, no policy. */
export const SignedIn = () => applyDecorators(SetMetadata(SIGNED_IN, true), secured());
