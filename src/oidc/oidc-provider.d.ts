/**
 * The part of oidc-provider's API that Bastion uses. The package ships no type declarations;
 * these are written from its README and lib/ (version 9.13.3, pinned).
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type Configuration = Record<string, unknown>;

  export interface KoaContextWithOIDC {
    req: IncomingMessage;
    res: ServerResponse;
    body: unknown;
    type: string;
    status: number;
    host: string;
    cookies: { get(name: string, options?: { signed?: boolean }): string | undefined };
    set(name: string, value: string): void;
    append(name: string, value: string): void;
    oidc: {
      client?: ClientInstance;
      params?: Record<string, unknown>;
      session?: { accountId?: string };
      result?: { login?: unknown };
      route?: string;
    };
  }

  export interface ClientInstance {
    clientId: string;
    scope?: string;
    redirectUris: string[];
    metadata(): Record<string, unknown>;
    grantTypeAllowed(type: string): boolean;
  }

  export interface InteractionDetails {
    uid: string;
    iat: number;
    exp: number;
    returnTo: string;
    grantId?: string;
    session?: { accountId?: string; uid?: string };
    params: Record<string, unknown> & { client_id: string; redirect_uri?: string; scope?: string };
    prompt: { name: 'login' | 'consent'; reasons: string[]; details: Record<string, unknown> };
    lastSubmission?: Record<string, unknown>;
  }

  export interface GrantInstance {
    jti: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantClass {
    new (properties: { accountId: string; clientId: string }): GrantInstance;
    find(id: string): Promise<GrantInstance | undefined>;
  }

  export interface TokenLike {
    kind: string;
    grantId?: string;
    accountId?: string;
    clientId?: string;
  }

  export class Provider {
    constructor(issuer: string, configuration: Configuration);
    proxy: boolean;
    maxIpsCount: number;
    readonly Client: { validate(metadata: Record<string, unknown>): Promise<void>; prototype: { compareClientSecret(this: ClientInstance & { clientSecret?: string }, actual: string): Promise<boolean> | boolean }; find(id: string): Promise<ClientInstance | undefined> };
    readonly Grant: GrantClass;
    readonly Interaction: { find(uid: string): Promise<{ params: Record<string, unknown> } | undefined> };
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    interactionResult(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<string>;
    on(event: string, listener: (...args: never[]) => void): this;
  }

  export const interactionPolicy: {
    Check: {
      new (reason: string, description: string, check: (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>): unknown;
      REQUEST_PROMPT: true;
      NO_NEED_TO_PROMPT: false;
    };
    base(): { get(name: string): { checks: { add(check: unknown, index?: number): void } } } & unknown[];
  };

  export const errors: {
    InvalidTarget: new (description?: string) => Error;
    InvalidClientMetadata: new (description?: string) => Error;
    AccessDenied: new (description?: string) => Error;
  };
}
