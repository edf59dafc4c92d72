import { ValidateIf } from 'class-validator';

/**
 * An optional field: left out, it is not validated; present, it must be valid — and `null` is
 * present. class-validator's `@IsOptional()` skips `null` too, so `{"displayName": null}` slipped
 * past every check and reached a NOT NULL column as a 500 (issue 11); eslint forbids it here.
 */
export const MayBeAbsent = () => ValidateIf((_, value: unknown) => value !== undefined);

/** An optional field the contract documents as nullable (`null` clears it). */
export const MayBeAbsentOrNull = () => ValidateIf((_, value: unknown) => value !== undefined && value !== null);
