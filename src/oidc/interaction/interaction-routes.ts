import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionDetails, Provider } from 'oidc-provider';
import { SESSION_COOKIE } from '../../auth/sessions/session-credentials';
import { widenFormAction } from '../form-action';
import { consentPage } from '../pages/consent-page';
import { continuePage, errorPage } from '../pages/provider-pages';
import { OIDC_MOUNT } from '../provider-configuration';
import type { InteractionsService } from './interactions.service';
import { type BastionSession, decideSignIn, oidcAmr } from './sign-in-decision';

type UidRequest = FastifyRequest<{ Params: { uid: string }; Querystring: { continue?: string } }>;

const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

const expired = (reply: FastifyReply) =>
  html(reply, 400, errorPage('invalid_request', 'This sign-in has expired or was started in another browser. Go back to the application and sign in again.'));

/**
 * The login step of every authorization request: Bastion's own session decides. Signed in (and
 * recent, and with a second factor when asked): the login finishes at once with that session's
 * user, amr, acr and auth_time. Otherwise the browser goes through `/login` and comes back here.
 */
export function registerInteractionRoutes(instance: FastifyInstance, provider: Provider, interactions: InteractionsService): void {
  const base = `${OIDC_MOUNT}/interaction/:uid`;

  async function load(request: UidRequest, reply: FastifyReply): Promise<InteractionDetails | null> {
    try {
      const details = await provider.interactionDetails(request.raw, reply.raw);
      return details.uid === request.params.uid ? details : null;
    } catch {
      return null;
    }
  }

  async function finish(reply: FastifyReply, request: UidRequest, result: Record<string, unknown>, merge = true) {
    const to = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: merge });
    return reply.code(303).header('cache-control', 'no-store').redirect(to, 303);
  }

  instance.get(base, async (request: UidRequest, reply) => {
    const details = await load(request, reply);
    if (!details) return expired(reply);
    const here = `${OIDC_MOUNT}/interaction/${encodeURIComponent(details.uid)}`;
    const secret = request.cookies[SESSION_COOKIE];
    // Arriving through redirects that another site started, the SameSite=Strict session cookie
    // is not sent: one same-origin hop first, then decide.
    if (!secret && request.query.continue === undefined) return html(reply, 200, continuePage(`${here}?continue=1`));
    const session = await interactions.session(secret);
    const decision = decideSignIn(details, session, Math.floor(Date.now() / 1000));
    if (decision.kind === 'sign-in') {
      const query = new URLSearchParams({ return_to: here });
      if (decision.fresh) query.set('reauth', '1');
      if (decision.mfa) query.set('mfa', '1');
      return reply.redirect(`/login?${query.toString()}`, 303);
    }
    const signedIn = session as BastionSession;
    const client = await interactions.isFirstParty(details.params.client_id);
    if (!client) return expired(reply);
    if (decision.kind === 'consent') {
      if (details.session?.accountId !== signedIn.userId) return expired(reply);
      if (client.firstParty) return finish(reply, request, { consent: { grantId: await interactions.grantRequested(details, signedIn) } });
      const csp = reply.getHeader('content-security-policy');
      if (typeof csp === 'string') reply.header('content-security-policy', widenFormAction(csp, client.redirectOrigins));
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const resources = Object.entries(missing.missingResourceScopes ?? {}).map(([audience, scopes]) => ({ audience, scopes }));
      return html(reply, 200, consentPage({ uid: details.uid, clientName: client.name, scopes: missing.missingOIDCScope ?? [], resources }));
    }
    const login = { accountId: signedIn.userId, amr: oidcAmr(signedIn.amr), acr: decision.acr, ts: signedIn.authTime, remember: true };
    if (client.firstParty) return finish(reply, request, { login, consent: { grantId: await interactions.grantRequested(details, signedIn) } });
    await interactions.relink(details, signedIn);
    return finish(reply, request, { login });
  });

  instance.post(`${base}/confirm`, async (request: UidRequest, reply) => {
    const details = await load(request, reply);
    if (!details || details.prompt.name !== 'consent') return expired(reply);
    const session = await interactions.session(request.cookies[SESSION_COOKIE]);
    if (!session || session.userId !== details.session?.accountId) return expired(reply);
    return finish(reply, request, { consent: { grantId: await interactions.grantConsented(details, session) } });
  });

  instance.post(`${base}/abort`, async (request: UidRequest, reply) => {
    const details = await load(request, reply);
    if (!details) return expired(reply);
    await interactions.denied(details, await interactions.session(request.cookies[SESSION_COOKIE]));
    return finish(reply, request, { error: 'access_denied', error_description: 'The user did not allow access' }, false);
  });
}
