import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { MayBeAbsent } from '../http/may-be-absent';

/**
 * Only plain decimal digits are a number here: `Number()` (what `@Type(() => Number)` applies)
 * also reads '' and ' ' as 0, '0x10' as 16 and '1e2' as 100, so `?offset=` or `?limit=1e2`
 * would be accepted. Anything else stays a string (or an array, for a repeated parameter) and
 * fails `@IsInt()`.
 */
const decimal = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value);

/** `?limit=1..100 (default 20)&offset=0..`; anything else is a 400. */
export class ListQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @MayBeAbsent()
  @Transform(decimal)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({ minimum: 0, maximum: 1_000_000, default: 0 })
  @MayBeAbsent()
  @Transform(decimal)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset: number = 0;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** One page of a list: its items, the total the caller may read, and the window asked for. */
export function pageOf<T>(items: T[], total: number, query: ListQuery): Page<T> {
  return { items, total, limit: query.limit, offset: query.offset };
}

export function emptyPage<T>(query: ListQuery): Page<T> {
  return pageOf([], 0, query);
}

/** `%`, `_` and `\` taken literally inside an ILIKE pattern. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
