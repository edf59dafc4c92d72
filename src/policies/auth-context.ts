import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '../auth/principal/principal';
import type { Abilities } from './ability-factory';

/** What a service needs to decide: who is asking, and what they may do. */
export interface AuthContext extends Abilities {
  principal: Principal;
}

export type PolicyRequest = { user?: Principal; abilities?: Abilities };

/** The caller and their abilities, as established by the PoliciesGuard. */
export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): AuthContext => {
  const request = context.switchToHttp().getRequest<PolicyRequest>();
  if (!request.user || !request.abilities) throw new Error('@Auth() used on a route without @CheckPolicy or @SignedIn');
  return { principal: request.user, ...request.abilities };
});
