/**
 * The fields a request body actually carried. A DTO instance built by class-transformer from a
 * class compiled with ES2022 class fields (the production build) owns every declared field, set to
 * undefined when absent: spreading or assigning it as is would overwrite defaults and stored values.
 */
export function givenFields<T extends object>(dto: T): Partial<T> {
  return Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined)) as Partial<T>;
}
