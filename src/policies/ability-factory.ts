import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { RawRuleOf } from '@casl/ability';
import { isMultiFactor } from '../auth/principal/multi-factor';
import { type AppAbility, buildAbility } from './app-ability';
import { resolvePlaceholders } from './placeholders';
import { RoleCatalog } from './role-catalog';
import type { StoredPermission } from './role.entity';

export interface PolicySubject {
  userId: string;
  departmentId: string | null;
  roles: string[];
  amr: string[];
}

export interface Abilities {
  /** What the caller may do now. */
  ability: AppAbility;
  /**
   * What the caller could do after a second factor, when a role with `requireMfa` is withheld
   * from this session: a refusal that this would allow is answered `mfa-required`.
   */
  withMfa?: AppAbility;
  /**
   * The rules behind `ability` as stored (placeholders unresolved; "their department" rules left
   * out for a user without one): what the caller holds, and so may delegate (rule-coverage.ts).
   */
  held: StoredPermission[];
}

interface Templates {
  granted: StoredPermission[];
  withMfa?: StoredPermission[];
}

/**
 * Builds CASL abilities from the principal's roles. The rule templates of a role set are compiled
 * once per policy version; the resolved abilities are kept per (user, department, roles, MFA,
 * version) in a bounded LRU, so a request in steady state builds nothing.
 */
@Injectable()
export class AbilityFactory {
  private readonly templates = new LRUCache<string, Templates>({ max: 1000 });
  private readonly abilities = new LRUCache<string, Abilities>({ max: 20_000 });

  constructor(private readonly catalog: RoleCatalog) {}

  async forSubject(subject: PolicySubject): Promise<Abilities> {
    // The version of the rules this ability is built from, not the catalog's version by now.
    const { version, roles } = await this.catalog.get();
    const multiFactor = isMultiFactor(subject.amr);
    const roleKey = [...subject.roles].sort().join(',');
    const key = `${version}|${subject.userId}|${subject.departmentId}|${roleKey}|${multiFactor}`;
    const cached = this.abilities.get(key);
    if (cached) return cached;

    const templateKey = `${version}|${roleKey}|${multiFactor}`;
    let templates = this.templates.get(templateKey);
    if (!templates) {
      const granted: StoredPermission[] = [];
      const all: StoredPermission[] = [];
      for (const name of subject.roles) {
        const role = roles.get(name);
        if (!role) continue;
        all.push(...role.permissions);
        if (!role.requireMfa || multiFactor) granted.push(...role.permissions);
      }
      templates = { granted, withMfa: all.length !== granted.length ? all : undefined };
      this.templates.set(templateKey, templates);
    }
    const values = { id: subject.userId, departmentId: subject.departmentId };
    const build = (rules: StoredPermission[]) => buildAbility(orderForCasl(resolvePlaceholders(rules, values)));
    const held = templates.granted.filter((rule) => resolvePlaceholders([rule], values).length > 0);
    const abilities: Abilities = { ability: build(templates.granted), withMfa: templates.withMfa && build(templates.withMfa), held };
    this.abilities.set(key, abilities);
    return abilities;
  }
}

/**
 * Several roles combine as a union of grants; a role's restriction (inverted rule) limits only
 * what comes before it in CASL's order. Restrictions go last so that no role's grant can undo
 * another role's explicit restriction.
 */
function orderForCasl(rules: StoredPermission[]): RawRuleOf<AppAbility>[] {
  const grants = rules.filter((r) => !r.inverted);
  const restrictions = rules.filter((r) => r.inverted);
  return [...grants, ...restrictions] as RawRuleOf<AppAbility>[];
}
