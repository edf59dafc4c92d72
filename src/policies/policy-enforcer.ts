import { Injectable } from '@nestjs/common';
import { permittedFieldsOf } from '@casl/ability/extra';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/problem/domain-error';
import { asSubject } from './app-ability';
import type { AuthContext } from './auth-context';
import { type Action, SUBJECT_FIELDS, type SubjectType } from './policy-schema';
import { accessibleFilter, type Filter } from './rules-to-filter';

const mfaRequired = () => new DomainError('mfaRequired', 'This requires a session verified with a second factor');

/**
 * Record- and field-level decisions for services (ASVS 8.2.2/8.2.3). A record the caller may not
 * read is "not found"; a readable one with a forbidden action is 403. Every refusal is audited.
 */
@Injectable()
export class PolicyEnforcer {
  constructor(private readonly audit: AuditService) {}

  /** 404 unless readable, 403 unless `action` is allowed on it; `mfa-required` when a second factor would allow it. */
  async assertCan(auth: AuthContext, action: Action, type: SubjectType, record: Record<string, unknown> & { id: unknown }): Promise<void> {
    const subject = asSubject(type, record);
    if (!auth.ability.can('read', subject as never)) {
      if (auth.withMfa?.can('read', subject as never)) return this.deny(auth, action, type, record.id, 'requires MFA', mfaRequired());
      // Still a denied decision (ASVS 16.3.2), but one the caller must not be able to tell from a
      // missing record: the event is written off the response path, so this 404 is not slower.
      void this.recordDenial(auth, action, type, record.id, 'not readable');
      throw new DomainError('notFound', `No such ${type}`);
    }
    if (action !== 'read' && !auth.ability.can(action, subject as never)) {
      if (auth.withMfa?.can(action, subject as never)) return this.deny(auth, action, type, record.id, 'requires MFA', mfaRequired());
      const reason = auth.ability.relevantRuleFor(action, subject as never)?.reason ?? 'no rule allows it';
      return this.deny(auth, action, type, record.id, reason, new DomainError('forbidden', `You may not ${action} this ${type}`));
    }
  }

  /**
   * Field-level check of a change: every changed field must be allowed on the record as it is and
   * as it would be (so a rule can limit the values, e.g. "not confidential").
   */
  async assertFields(auth: AuthContext, action: Action, type: SubjectType, before: Record<string, unknown> & { id: unknown }, changes: Record<string, unknown>): Promise<void> {
    await this.assertFieldsOn(auth, action, type, Object.keys(changes), [before, { ...before, ...changes }], before.id);
  }

  /**
   * A create, checked like a change: the record as it would be created (defaults applied) must be
   * allowed, and so must each of its fields that the body sets. A field the body leaves to its
   * default is not held against the caller; the body's own values are judged in the complete record.
   */
  async assertCreate(auth: AuthContext, type: SubjectType, sent: Record<string, unknown>, record: Record<string, unknown>): Promise<void> {
    if (!this.can(auth, 'create', type, record)) {
      await this.deny(auth, 'create', type, null, 'no rule allows it', new DomainError('forbidden', `You may not create this ${type}`));
    }
    const fields = Object.keys(sent).filter((field) => sent[field] !== undefined && Object.prototype.hasOwnProperty.call(SUBJECT_FIELDS[type], field));
    await this.assertFieldsOn(auth, 'create', type, fields, [record], null);
  }

  private async assertFieldsOn(auth: AuthContext, action: Action, type: SubjectType, fields: string[], records: Record<string, unknown>[], id: unknown): Promise<void> {
    const denied = fields.filter((field) => records.some((record) => !auth.ability.can(action, asSubject(type, record) as never, field)));
    if (!denied.length) return;
    const error = new DomainError(
      'forbidden',
      `You may not ${action} ${denied.join(', ')} of this ${type}`,
      denied.map((field) => ({ field, message: 'you may not set this field to this value' })),
    );
    await this.deny(auth, action, type, id, `fields: ${denied.join(', ')}`, error);
  }

  /** Whether `action` is allowed on the record (no exception, no audit). */
  can(auth: AuthContext, action: Action, type: SubjectType, record: Record<string, unknown>): boolean {
    return auth.ability.can(action, asSubject(type, record) as never);
  }

  /** The SQL filter of records the caller may `action` (null: none). */
  filter(auth: AuthContext, action: Action, type: SubjectType): Filter | null {
    return accessibleFilter(auth.ability, action, type);
  }

  /** The response without the fields the caller may not read. */
  visible<T extends Record<string, unknown>>(auth: AuthContext, type: SubjectType, record: T): Partial<T> {
    const all = Object.keys(SUBJECT_FIELDS[type]);
    const allowed = new Set(permittedFieldsOf(auth.ability, 'read', asSubject(type, record) as never, { fieldsFrom: (rule) => rule.fields ?? all }));
    return Object.fromEntries(Object.entries(record).filter(([key]) => allowed.has(key))) as Partial<T>;
  }

  async deny(auth: AuthContext | { principal: { userId: string } }, action: string, type: string, id: unknown, reason: string, error: DomainError): Promise<never> {
    await this.recordDenial(auth, action, type, id, reason);
    throw error;
  }

  /** AuditService.record never rejects: a failed write is logged, not thrown. */
  private recordDenial(auth: { principal: { userId: string } }, action: string, type: string, id: unknown, reason: string): Promise<void> {
    return this.audit.record({
      type: 'access.denied',
      outcome: 'denied',
      actorId: auth.principal.userId,
      targetType: type,
      targetId: typeof id === 'string' ? id : null,
      details: { action, subject: type, id: id ?? null, reason },
    });
  }
}
