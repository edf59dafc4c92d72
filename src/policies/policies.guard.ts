import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC } from '../common/decorators/public.decorator';
import { DomainError } from '../common/problem/domain-error';
import { AbilityFactory } from './ability-factory';
import type { PolicyRequest } from './auth-context';
import { CHECK_POLICY, type PolicyRequirement, SIGNED_IN } from './check-policy.decorator';
import { PolicyEnforcer } from './policy-enforcer';

/**
 * The second default-deny: after authentication, a route must declare @CheckPolicy(action,
 * subject) or @SignedIn(); one with neither is refused (fails closed) however it was reached.
 */
@Injectable()
export class PoliciesGuard implements CanActivate {
  private readonly logger = new Logger('PoliciesGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly factory: AbilityFactory,
    private readonly enforcer: PolicyEnforcer,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<PolicyRequest>();
    const principal = request.user;
    if (!principal) throw new DomainError('unauthenticated', 'Authentication is required', undefined, { 'www-authenticate': 'Bearer' });
    const requirement = this.reflector.getAllAndOverride<PolicyRequirement | undefined>(CHECK_POLICY, targets);
    const signedIn = this.reflector.getAllAndOverride<boolean>(SIGNED_IN, targets);
    if (!requirement && !signedIn) {
      this.logger.error(`${context.getClass().name}.${context.getHandler().name} declares no access rule: refused`);
      throw new DomainError('forbidden', 'This route declares no access rule');
    }
    const abilities = await this.factory.forSubject(principal);
    request.abilities = abilities;
    if (requirement && !abilities.ability.can(requirement.action, requirement.subject)) {
      const auth = { principal, ...abilities };
      // The targeted record, when the route names one, so the audit trail says what was refused.
      const target = (request as { params?: Record<string, unknown> }).params?.id ?? null;
      if (abilities.withMfa?.can(requirement.action, requirement.subject)) {
        await this.enforcer.deny(auth, requirement.action, requirement.subject, target, 'requires MFA', new DomainError('mfaRequired', 'This requires a session verified with a second factor'));
      }
      await this.enforcer.deny(auth, requirement.action, requirement.subject, target, 'no rule allows it', new DomainError('forbidden', `You may not ${requirement.action} ${requirement.subject}`));
    }
    return true;
  }
}
