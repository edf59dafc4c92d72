import { AsyncLocalStorage } from 'node:async_hooks';

/** Who is on the other end of the current request, for audit events and session records. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

const storage = new AsyncLocalStorage<RequestMeta>();
const NONE: RequestMeta = { ip: null, userAgent: null, requestId: null };

export const requestMeta = {
  run<T>(meta: RequestMeta, fn: () => T): T {
    return storage.run(meta, fn);
  },
  /** The current request's metadata, or nulls outside a request (jobs, start-up). */
  current(): RequestMeta {
    return storage.getStore() ?? NONE;
  },
};
