import { Injectable } from '@nestjs/common';

/**
 * What a sign-in started by another part of Bastion (the OIDC provider's interaction step) needs
 * from /login and /login/mfa. The OIDC module registers a resolver once; the pages ask it with the
 * (already validated) `return_to` of each request.
 */
export interface SignInRequirements {
  /** Origins the browser will be sent on to after the sign-in (added to CSP `form-action`). */
  formActionOrigins?: string[];
  /**
   * Show the sign-in form even to a browser with a live session (OIDC `prompt=login`, `max_age`):
   * the new sign-in replaces that session and, for an account with TOTP, asks for the code again.
   */
  forceSignIn?: boolean;
}

export type SignInRequirementsResolver = (returnTo: string) => Promise<SignInRequirements | null> | SignInRequirements | null;

@Injectable()
export class SignInInteractions {
  private readonly resolvers: SignInRequirementsResolver[] = [];

  /** E.g. `interactions.register((to) => to.startsWith('/oidc/interaction/') ? lookUp(to) : null)`. */
  register(resolver: SignInRequirementsResolver): void {
    this.resolvers.push(resolver);
  }

  async requirementsFor(returnTo: string): Promise<Required<SignInRequirements>> {
    const merged: Required<SignInRequirements> = { formActionOrigins: [], forceSignIn: false };
    for (const resolve of this.resolvers) {
      const found = await resolve(returnTo);
      if (!found) continue;
      merged.formActionOrigins.push(...(found.formActionOrigins ?? []));
      merged.forceSignIn ||= !!found.forceSignIn;
    }
    return merged;
  }
}
