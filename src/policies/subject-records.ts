import type { EntityClass } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { SUBJECTS, type SubjectType } from './policy-schema';

export type SubjectRecord = Record<string, unknown> & { id: string };
/** Loads one record by id in the shape policies see it, or null when there is none. */
export type SubjectLoader = (id: string) => Promise<SubjectRecord | null>;

/**
 * Loads any subject by id (for dry-run checks). The policy engine knows no business module: each
 * module registers the loader for its own subjects when it starts, as listeners register with the
 * change feed; a subject without a loader stops start-up rather than failing a check later.
 */
@Injectable()
export class SubjectRecords implements OnApplicationBootstrap {
  private readonly loaders = new Map<SubjectType, SubjectLoader>();

  constructor(private readonly em: EntityManager) {}

  register(type: SubjectType, loader: SubjectLoader): void {
    if (this.loaders.has(type)) throw new Error(`A loader for ${type} is already registered`);
    this.loaders.set(type, loader);
  }

  /** The common case: the subject is one entity, seen as its own properties. */
  registerEntity(type: SubjectType, entity: EntityClass<{ id: string }>): void {
    this.register(type, async (id) => {
      const record = await this.em.fork().findOne(entity, { id });
      return record && { ...record };
    });
  }

  onApplicationBootstrap(): void {
    const missing = SUBJECTS.filter((type): type is SubjectType => type !== 'all' && !this.loaders.has(type));
    if (missing.length) throw new Error(`No subject loader registered for ${missing.join(', ')}`);
  }

  load(type: SubjectType, id: string): Promise<SubjectRecord | null> {
    const loader = this.loaders.get(type);
    if (!loader) throw new Error(`No subject loader registered for ${type}`);
    return loader(id);
  }
}

/** Imported by every module that owns a subject, so it can register its loader (no cycle with PoliciesModule). */
@Module({ providers: [SubjectRecords], exports: [SubjectRecords] })
export class SubjectRecordsModule {}
