import fc from 'fast-check';

/** Strings an attacker types: injections, encodings, control characters, numbers in disguise. */
export const INJECTIONS = [
  // SQL
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  "admin'--",
  "1' UNION SELECT password_hash, null FROM users --",
  '1); DELETE FROM roles; --',
  "\\'; TRUNCATE documents CASCADE; --",
  "$1::text; SELECT version()",
  '%',
  '_',
  '\\',
  "%' AND '%'='",
  // NoSQL / CASL / operators smuggled as strings
  '{"$gt":""}',
  '{"$ne":null}',
  '$where',
  'this.password.match(/.*/)',
  '${user.id}',
  '${process.env}',
  // templates, markup, traversal, headers
  '{{7*7}}',
  '#{7*7}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  'C:\\Windows\\win.ini',
  'a\r\nSet-Cookie: injected=1',
  '%s%s%s%n',
  // numbers and keywords in disguise
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '0x7fffffff',
  '9'.repeat(400),
  'null',
  'undefined',
  'true',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  // Unicode edge cases: NUL, RTL override, NFKC expanders, lone surrogates, BOM, emoji
  'a\u0000b',
  '\u0000',
  '\u202eevil',
  '\ufb00\ufb01\ufb03'.repeat(10),
  '\ud800',
  '\udfff\ud800',
  '\ufeff',
  '\u{1f4a9}'.repeat(50),
  'ʼ OR 1=1 --',
  '',
  ' ',
  '\t\n',
];

export const TWO_MB = 'A'.repeat(2 * 1024 * 1024);

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'grapheme' }) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(257), 'x'.repeat(513), 'é'.repeat(5000), 'z'.repeat(100_001)) },
  { weight: 1, arbitrary: fc.constant(TWO_MB) },
);

/** A JSON value nested `depth` levels deep, built without recursion. */
export function deeplyNested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = kind === 'array' ? [value] : { a: value };
  return value;
}

const protoObject = fc.constantFrom<Record<string, unknown>>(
  JSON.parse('{"__proto__":{"isAdmin":true,"roles":["admin"]}}'),
  JSON.parse('{"constructor":{"prototype":{"isAdmin":true}}}'),
  { $gt: '' },
  { $ne: null },
  { $where: 'sleep(1000)' },
  { toString: 'x', valueOf: 1 },
);

/** Values of every JSON type, hostile in shape. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, -0, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>([], {}, [null], [[]], [{}], ['a', 1, null]) },
  { weight: 1, arbitrary: protoObject },
  { weight: 1, arbitrary: fc.constantFrom(deeplyNested(64, 'array'), deeplyNested(64, 'object'), deeplyNested(2000, 'array')) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A value whose JSON type differs from `type` (the schema's). */
export function wrongTypeValue(type: string | undefined): fc.Arbitrary<unknown> {
  const byType: Record<string, unknown[]> = {
    string: [0, -1, 1.5, true, false, [], ['a'], {}, { $gt: '' }, deeplyNested(50, 'object')],
    number: ['1', 'one', '', true, [], [1], {}, { $gt: 0 }, '1e3'],
    integer: ['1', true, [], {}],
    boolean: ['true', 'false', 1, 0, [], {}],
    array: ['a', 1, true, {}, { 0: 'a', length: 1 }],
    object: ['a', 1, true, [], [{}]],
  };
  return fc.constantFrom(...(byType[type ?? 'string'] ?? byType.string));
}

/** Raw bytes that are not UTF-8: lone continuation, overlong, truncated, surrogates, 0xFF. */
export const INVALID_UTF8: Buffer[] = [
  Buffer.from([0xff, 0xfe, 0xfd]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xe0, 0x80, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0x80, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0x00]),
];

/** Bodies that are not JSON, or JSON at the edge of what a parser should accept. */
export const MALFORMED_JSON: (string | Buffer)[] = [
  '{',
  '}',
  '{"a":}',
  "{'email':'a@b.c'}",
  '{"email":"a@b.c",}',
  '{"email":"a@b.c"} trailing',
  '{"email":"a@b.c"}{"email":"d@e.f"}',
  'NaN',
  '{"n":NaN}',
  '{"n":Infinity}',
  '{"n":1e999999}',
  '{"n":-}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '{"a":"\\x41"}',
  '"\\',
  '\ufeff{"a":1}',
  '['.repeat(5000) + ']'.repeat(5000),
  '['.repeat(200_000),
  '['.repeat(300_000) + ']'.repeat(300_000),
  '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000),
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"isAdmin":true}}}',
  '{"a":1,"a":2,"a":{"__proto__":null}}',
  'null',
  'true',
  '0',
  '"string"',
  '[]',
  '[{"email":"a@b.c","password":"x"}]',
  '',
  ' ',
  Buffer.concat([Buffer.from('{"email":"'), INVALID_UTF8[0], Buffer.from('","password":"'), INVALID_UTF8[1], Buffer.from('"}')]),
  Buffer.concat([Buffer.from('{"'), INVALID_UTF8[3], Buffer.from('":1}')]),
  Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
  Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]),
];

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=ebcdic',
  'APPLICATION/JSON',
  'application/json;;;',
  'application/problem+json',
  'application/vnd.api+json',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'multipart/form-data',
  'application/xml',
  'application/octet-stream',
  'application/json, text/plain',
  '*/*',
  'json',
  '',
  ';',
];
