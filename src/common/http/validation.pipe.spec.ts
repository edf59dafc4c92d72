import { Transform } from 'class-transformer';
import { IsEmail, IsString, IsUUID } from 'class-validator';
import { DomainError } from '../problem/domain-error';
import { MAX_INPUT_DEPTH } from './input-limits';
import { MayBeAbsent, MayBeAbsentOrNull } from './may-be-absent';
import { AppValidationPipe } from './validation.pipe';

class ProfileDto {
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  displayName!: string;

  @MayBeAbsent()
  @IsEmail()
  email?: string;

  @MayBeAbsentOrNull()
  @IsUUID()
  departmentId?: string | null;
}

class SearchQuery {
  @MayBeAbsent()
  @IsString()
  q?: string;
}

const pipe = new AppValidationPipe();
const body = (value: unknown) => pipe.transform(value, { type: 'body', metatype: ProfileDto });
const query = (value: unknown) => pipe.transform(value, { type: 'query', metatype: SearchQuery });

/** The validation problem a call throws, or a failure naming what it did instead. */
async function refusal(call: Promise<unknown>): Promise<{ field: string; message: string }[]> {
  try {
    await call;
  } catch (err) {
    if (err instanceof DomainError && err.code === 'validation') return err.errors ?? [];
    throw new Error(`expected a validation DomainError, got ${String(err)}`);
  }
  throw new Error('expected a validation error, the input was accepted');
}

// Found by the HTTP fuzzer (test/fuzz): each of these was a 500 or a silently accepted body.
describe('AppValidationPipe: hostile input is a 400, never a 500', () => {
  it('refuses U+0000 in a body string or a query value (PostgreSQL text cannot hold it)', async () => {
    expect(await refusal(body({ displayName: 'a\u0000b' }))).toEqual([{ field: 'displayName', message: 'must not contain NUL characters' }]);
    expect(await refusal(query({ q: '\u0000' }))).toEqual([{ field: 'q', message: 'must not contain NUL characters' }]);
  });

  it('refuses lone surrogates (validator.isEmail threw URIError on them)', async () => {
    expect(await refusal(body({ displayName: 'x', email: '\ud800' }))).toEqual([{ field: 'email', message: 'must be well-formed Unicode (no lone surrogates)' }]);
    await expect(body({ displayName: 'smile \u{1f600}' })).resolves.toMatchObject({ displayName: 'smile \u{1f600}' });
  });

  it('refuses nesting deeper than the limit before class-transformer recurses (it overflowed the stack)', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i += 1) deep = [deep];
    expect(await refusal(body({ displayName: 'x', extra: deep }))).toEqual([{ field: 'extra' + '[0]'.repeat(MAX_INPUT_DEPTH - 1), message: `is nested deeper than ${MAX_INPUT_DEPTH} levels` }]);
  });

  it('refuses keys named like inherited methods, which class-transformer dropped silently', async () => {
    expect(await refusal(body({ displayName: 'x', toString: 1 }))).toEqual([{ field: 'toString', message: 'is not allowed' }]);
    expect(await refusal(body({ displayName: 'x', valueOf: { a: 1 } }))).toEqual([{ field: 'valueOf', message: 'is not allowed' }]);
  });

  it('refuses null for an optional field (IsOptional() let it through to a NOT NULL column: 500) and accepts it only where the field is nullable', async () => {
    expect(await refusal(body({ displayName: null }))).toEqual([{ field: 'displayName', message: 'displayName must be a string' }]);
    expect(await refusal(body({ displayName: 'x', email: null }))).toEqual([{ field: 'email', message: 'email must be an email' }]);
    await expect(body({ displayName: 'x', departmentId: null })).resolves.toMatchObject({ departmentId: null });
    await expect(body({ displayName: 'x' })).resolves.toMatchObject({ displayName: 'x' });
    expect(await refusal(body({ displayName: 'x', departmentId: 'nope' }))).toEqual([{ field: 'departmentId', message: 'departmentId must be a UUID' }]);
  });
});
