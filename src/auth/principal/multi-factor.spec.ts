import { isMultiFactor } from './multi-factor';

describe('isMultiFactor', () => {
  it.each([
    [['pwd', 'otp'], true],
    [['otp'], true],
    [['hwk', 'user'], true],
    [['pwd'], false],
    [['hwk'], false],
    [['user'], false],
    [['pwd', 'user'], false],
    [[], false],
  ])('%j → %s', (amr, expected) => {
    expect(isMultiFactor(amr)).toBe(expected);
  });
});
