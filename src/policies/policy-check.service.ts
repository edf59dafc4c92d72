import { Injectable } from '@nestjs/common';
import { PrincipalCache } from '../auth/principal/principal-cache';
import { DomainError } from '../common/problem/domain-error';
import { AbilityFactory } from './ability-factory';
import { asSubject, type AppAbility } from './app-ability';
import type { AuthContext } from './auth-context';
import { PolicyEnforcer } from './policy-enforcer';
import type { Action, SubjectName } from './policy-schema';
import { SubjectRecords } from './subject-records';

export interface CheckRequest {
  action: Action;
  subject: SubjectName;
  id?: string;
  field?: string;
  userId?: string;
}

export interface CheckResult {
  allowed: boolean;
  reason?: string;
}

/** `POST /policies/check`: a dry run of the policy engine, for the caller or (admins) another user. */
@Injectable()
export class PolicyCheckService {
  constructor(
    private readonly factory: AbilityFactory,
    private readonly users: PrincipalCache,
    private readonly records: SubjectRecords,
    private readonly enforcer: PolicyEnforcer,
  ) {}

  async check(auth: AuthContext, request: CheckRequest): Promise<CheckResult> {
    let ability: AppAbility = auth.ability;
    if (request.userId && request.userId !== auth.principal.userId) {
      if (!auth.ability.can('read', 'Role')) {
        await this.enforcer.deny(auth, 'read', 'Role', null, 'checking another user needs read on Role', new DomainError('forbidden', 'Checking another user needs read on Role'));
      }
      const user = await this.users.get(request.userId);
      if (!user || user.deleted) throw new DomainError('notFound', 'No such user');
      ability = (await this.factory.forSubject({ userId: user.userId, departmentId: user.departmentId, roles: user.roles, amr: [] })).ability;
    }
    if (request.subject === 'all') {
      return this.result(ability, request.action, 'all', request.field);
    }
    if (!request.id) return this.result(ability, request.action, request.subject, request.field);
    const record = await this.records.load(request.subject, request.id);
    // The caller learns nothing about records they cannot read themselves.
    if (!record || !auth.ability.can('read', asSubject(request.subject, record) as never)) throw new DomainError('notFound', `No such ${request.subject}`);
    return this.result(ability, request.action, asSubject(request.subject, record), request.field);
  }

  private result(ability: AppAbility, action: Action, subject: unknown, field?: string): CheckResult {
    const allowed = ability.can(action, subject as never, field);
    if (allowed) return { allowed };
    return { allowed, reason: ability.relevantRuleFor(action, subject as never, field)?.reason ?? 'no rule allows it' };
  }
}
