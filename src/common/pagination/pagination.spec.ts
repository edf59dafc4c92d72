import { DomainError } from '../problem/domain-error';
import { AppValidationPipe } from '../http/validation.pipe';
import { ListQuery } from './pagination';

const pipe = new AppValidationPipe();
const query = (value: unknown) => pipe.transform(value, { type: 'query', metatype: ListQuery });

async function refusedFields(call: Promise<unknown>): Promise<string[]> {
  try {
    await call;
  } catch (err) {
    if (err instanceof DomainError && err.code === 'validation') return (err.errors ?? []).map((e) => e.field);
    throw new Error(`expected a validation DomainError, got ${String(err)}`);
  }
  throw new Error('expected a validation error, the query was accepted');
}

// Found by the HTTP fuzzer (test/fuzz): `?offset=%20` listed page 0 and `?limit=1e2` 100 rows.
describe('ListQuery: limit and offset are decimal integers in range', () => {
  it.each(['', ' ', '1e2', '0x10', '+5', '1.5', ' 5', '-0', 'Infinity'])('refuses limit=%j (Number() would have read it)', async (limit) => {
    expect(await refusedFields(query({ limit }))).toContain('limit');
  });

  it('refuses a repeated parameter (an array) and reads plain digits', async () => {
    expect(await refusedFields(query({ offset: ['0', '1'] }))).toContain('offset');
    await expect(query({ limit: '100', offset: '0' })).resolves.toMatchObject({ limit: 100, offset: 0 });
    await expect(query({})).resolves.toMatchObject({ limit: 20, offset: 0 });
  });
});
