import type { EntityManager } from '@mikro-orm/postgresql';
import { SUBJECTS, type SubjectType } from './policy-schema';
import { type SubjectLoader, SubjectRecords } from './subject-records';

const ID = '0b6d1c1e-54a3-4f0e-8d4b-6b8a2f9d7e01';
const TYPES = SUBJECTS.filter((s): s is SubjectType => s !== 'all');

// Only registerEntity touches the EntityManager; these tests register plain loaders.
const registry = () => new SubjectRecords(undefined as unknown as EntityManager);
const loaderOf = (type: SubjectType): SubjectLoader => async (id) => ({ id, type });

describe('SubjectRecords', () => {
  it('loads each subject through the loader its module registered', async () => {
    const records = registry();
    TYPES.forEach((type) => records.register(type, loaderOf(type)));
    records.onApplicationBootstrap();
    for (const type of TYPES) expect(await records.load(type, ID)).toEqual({ id: ID, type });
  });

  it('stops start-up when a subject has no loader, naming it', () => {
    const records = registry();
    TYPES.filter((type) => type !== 'Session' && type !== 'Document').forEach((type) => records.register(type, loaderOf(type)));
    expect(() => records.onApplicationBootstrap()).toThrow('No subject loader registered for Document, Session');
  });

  it('refuses a second loader for the same subject', () => {
    const records = registry();
    records.register('User', loaderOf('User'));
    expect(() => records.register('User', loaderOf('User'))).toThrow('A loader for User is already registered');
  });
});
