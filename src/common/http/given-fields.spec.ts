import { givenFields } from './given-fields';

class Dto {
  name?: string = undefined;
  scopes?: string[] = undefined;
  ttl?: number | null = undefined;
}

describe('givenFields', () => {
  it('drops declared-but-absent fields (ES2022 class fields are own properties set to undefined), keeps null', () => {
    const dto = Object.assign(new Dto(), { name: 'x', ttl: null });
    expect(Object.keys(dto).sort()).toEqual(['name', 'scopes', 'ttl']);
    expect(givenFields(dto)).toEqual({ name: 'x', ttl: null });
  });
});
