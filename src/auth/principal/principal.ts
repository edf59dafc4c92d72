/** The verified caller of a request. Identity comes from the credential; roles from the cache. */
export interface Principal {
  userId: string;
  sessionId: string;
  amr: string[];
  /** Seconds since the epoch. */
  authTime: number;
  roles: string[];
  departmentId: string | null;
  /** When the presented credential stops being valid (access token exp, or idle timeout). */
  expiresAt: Date;
  via: 'bearer' | 'cookie';
  /** Cookie mode: the CSRF token expected on unsafe methods. */
  csrfToken?: string;
}

/** What the principal cache holds per user: kept current by the change feed. */
export interface UserSnapshot {
  userId: string;
  status: 'pending' | 'active' | 'disabled';
  deleted: boolean;
  roles: string[];
  departmentId: string | null;
  /** Sessions of this user this instance has found live (revocations are the RevocationSet's). */
  sessionIds: Set<string>;
}
