import fc from 'fast-check';
import { NOWHERE, payloadArbitrary, stringBreaks } from './bodies';
import { hostileString } from './hostile';
import type { FuzzRoute, QueryParam } from './openapi-routes';

/** What the fuzzer sends: inject options plus what it knows about them. */
export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Serialized when sent, not when generated: generating must stay cheap (bodies reach 2 MB). */
  payload?: string | Buffer | (() => string);
  /** Human-readable list of what was made hostile. */
  notes: string[];
  /** The body or query breaks the documented schema for certain: it must be refused with 4xx. */
  invalid: boolean;
}

export interface FuzzContext {
  /** An active account that is not used to sign in: public routes get its address. */
  victimEmail: string;
  /** Ids of rows that exist (users, roles, documents, departments, sessions). */
  existingIds: string[];
}

export interface RouteOptions {
  /** Only bodies that break the schema (the caller can change data: nothing must change). */
  onlyInvalidBodies: boolean;
  /** Path ids may name existing rows (false for body-less writes of a caller who may do them). */
  existingIds: boolean;
}

/** encodeURIComponent, except that lone surrogates become their (invalid) UTF-8 bytes. */
export function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value.split('').map((c) => { try { return encodeURIComponent(c); } catch { return '%ED%A0%80'; } }).join('');
  }
}

/** A hostile value for a query parameter, and whether it surely breaks the parameter's schema. */
function queryValue(param: QueryParam): fc.Arbitrary<{ raw: string; invalid: boolean }> {
  const s = param.schema;
  const numeric = s.type === 'number' || s.type === 'integer';
  const absurd = ['-1', '0', '101', '1000001', '1e9', '99999999999999999999999', '1.5', 'NaN', 'Infinity', '-0', '0x10', '', ' ', '+5', '5abc', '1e2', '00005', 'null', '[]', "1' OR '1'='1", '1;DROP TABLE users'];
  const sane = ['1', '20', '100', '0', '3'];
  // API.md: an integer within the documented range, written in decimal digits; anything else is a 400.
  const breaks = (v: string) => {
    if (numeric) {
      const n = Number(v);
      return !/^\d{1,16}$/.test(v) || (s.minimum !== undefined && n < s.minimum) || (s.maximum !== undefined && n > s.maximum);
    }
    return s.type === 'string' && v !== '' && stringBreaks(s, v);
  };
  const values = numeric ? fc.oneof(fc.constantFrom(...absurd), fc.constantFrom(...sane), fc.integer().map(String)) : fc.oneof(hostileString.filter((v) => v.length < 20_000), fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '+275760-09-13T00:00:00Z', '2024-02-30T00:00:00Z', '1970-01-01T00:00:00+99:99', '2024-01-01'), fc.uuid());
  return values.map((raw) => ({ raw: encode(raw), invalid: breaks(raw) }));
}

function queryArbitrary(route: FuzzRoute): fc.Arbitrary<{ query: string; notes: string[]; invalid: boolean }> {
  // Each parameter is left out more often than not, so some lists get past validation to SQL.
  const declared = route.query.map((p) =>
    fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: queryValue(p).map((v) => ({ ...v, name: p.name })) }),
  );
  const extras = fc.array(
    fc.constantFrom('code=x', 'state=%00', 'error=access_denied', '__proto__[isAdmin]=1', 'constructor[prototype][x]=1', 'limit=1&limit=2', 'offset=0&offset=-1', 'a[b][c]=1', '%=%', '%ff%fe=%c0%af', 'q=%00', 'q=%E0%A4%A', '&&&', '==', `long=${'x'.repeat(8000)}`, 'mode=cookie', 'mode[]=cookie'),
    { maxLength: 2 },
  );
  return fc.tuple(fc.tuple(...declared), extras).map(([params, extra]) => {
    const set = params.filter((p): p is { raw: string; invalid: boolean; name: string } => p !== null);
    const parts = [...set.map((p) => `${p.name}=${p.raw}`), ...extra];
    const overridden = extra.some((e) => set.some((p) => e.startsWith(`${p.name}=`) || e.startsWith(`${p.name}[`)));
    return { query: parts.join('&'), notes: parts.length ? [`?${parts.join('&').slice(0, 120)}`] : [], invalid: !overridden && set.some((p) => p.invalid) };
  });
}

function pathValue(ctx: FuzzContext, existing: boolean): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: existing && ctx.existingIds.length ? fc.constantFrom(...ctx.existingIds) : fc.uuid() },
    { weight: 1, arbitrary: existing && ctx.existingIds.length ? fc.constantFrom(...ctx.existingIds).map((id) => id.toUpperCase()) : fc.constant('00000000-0000-0000-0000-000000000000') },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 3, arbitrary: hostileString.filter((s) => s.length < 4000).map((s) => encode(s)) },
    { weight: 1, arbitrary: fc.constantFrom('..', '.', '%2e%2e%2f', '%00', '%ff', '%', 'x'.repeat(201), `${NOWHERE}%00`, `${NOWHERE}.json`, `${NOWHERE} `, '{id}', ':id', '*') },
  );
}

function headerArbitrary(): fc.Arbitrary<{ headers: Record<string, string>; notes: string[] }> {
  const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 12_000);
  const one = fc.oneof(
    fc.oneof(fc.constant('fuzz-req.1'), hostileString.map(printable), fc.constant('r'.repeat(129))).map((v) => ['x-request-id', v] as const),
    fc.oneof(hostileString.map(printable), fc.constant('u'.repeat(10_000))).map((v) => ['user-agent', v] as const),
    fc.constantFrom('application/xml', '*/*;q=abc', 'text/html', '').map((v) => ['accept', v] as const),
    fc.constantFrom('1.2.3.4, <script>', "' OR 1=1", '::1', '999.999.999.999', 'unknown').map((v) => ['x-forwarded-for', v] as const),
    fc.constantFrom('https://evil.example', 'null', 'file://').map((v) => ['origin', v] as const),
    fc.constantFrom('gzip', 'br', 'deflate, identity', 'chunked').map((v) => ['content-encoding', v] as const),
    fc.constantFrom('"x"', 'W/"*"', '*').map((v) => ['if-none-match', v] as const),
  );
  return fc.array(one, { maxLength: 3 }).map((pairs) => ({
    headers: Object.fromEntries(pairs),
    notes: pairs.map(([k, v]) => `${k}: ${JSON.stringify(v.slice(0, 40))}`),
  }));
}

/** Every request the fuzzer may send to one route, for one caller (its credential headers). */
export function requestArbitrary(route: FuzzRoute, ctx: FuzzContext, options: RouteOptions): fc.Arbitrary<FuzzRequest> {
  const params = route.pathParams.map(() => pathValue(ctx, options.existingIds));
  return fc
    .tuple(fc.tuple(...params), queryArbitrary(route), payloadArbitrary(route, ctx, options.onlyInvalidBodies), headerArbitrary())
    .map(([values, query, payload, extra]) => {
      let path = route.path;
      route.pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, values[i])));
      const headers: Record<string, string> = { ...extra.headers };
      if (payload.contentType !== undefined) headers['content-type'] = payload.contentType;
      return {
        method: route.method,
        url: query.query ? `${path}?${query.query}` : path,
        headers,
        payload: payload.payload,
        notes: [...(route.pathParams.length ? [`path ${path.slice(0, 160)}`] : []), ...query.notes, ...payload.notes, ...extra.notes],
        invalid: payload.invalid || query.invalid,
      };
    });
}
