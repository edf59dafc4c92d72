import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsInt, Matches, Max, Min, ValidateBy, type ValidationOptions } from 'class-validator';
import { MayBeAbsent, MayBeAbsentOrNull } from '../../common/http/may-be-absent';

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * A URI a browser may be sent to with a code or after logout: absolute, no fragment, https — or
 * http on the loopback interface only (native and development apps, RFC 8252 §7.3).
 */
export function isRedirectUri(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 2048) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.hash || value.includes('#') || url.username || url.password) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
}

export const IsRedirectUri = (options?: ValidationOptions) =>
  ValidateBy({ name: 'isRedirectUri', validator: { validate: isRedirectUri, defaultMessage: () => 'must be an absolute https URL (http only on 127.0.0.1, [::1] or localhost) without a fragment' } }, options);

/** An audience / resource indicator (RFC 8707): an absolute URI without a fragment. */
export function isAbsoluteUri(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 255 || value.includes('#')) return false;
  try {
    return /^[a-z][a-z0-9+.-]*:/i.test(value) && Boolean(new URL(value).protocol);
  } catch {
    return false;
  }
}

export const IsAbsoluteUri = (options?: ValidationOptions) =>
  ValidateBy({ name: 'isAbsoluteUri', validator: { validate: isAbsoluteUri, defaultMessage: () => 'must be an absolute URI without a fragment (at most 255 characters)' } }, options);

/** An OAuth scope token (RFC 6749 §3.3), at most 64 characters. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

export const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** `accessTokenTtl` of clients and resource servers: seconds, 60 s to a day, null for the default. */
export const AccessTokenTtl = () =>
  applyDecorators(
    ApiPropertyOptional({ nullable: true, type: Number, minimum: 60, maximum: 86400, description: 'Seconds; default ACCESS_TOKEN_TTL' }),
    MayBeAbsentOrNull(),
    IsInt(),
    Min(60),
    Max(86400),
  );

/** A list of scope tokens. */
export const ScopeList = () =>
  applyDecorators(
    MayBeAbsent(),
    IsArray(),
    ArrayMaxSize(50),
    ArrayUnique(),
    Matches(SCOPE_TOKEN, { each: true, message: 'each scope must be 1-64 characters without spaces, quotes or backslashes' }),
  );
