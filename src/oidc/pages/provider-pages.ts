import { escapeHtml, htmlPage } from './html-page';

/**
 * The error page of the authorization endpoint (unknown client, wrong redirect_uri, …): the
 * standard error code and its description, never a redirect to an unverified URI, never a stack.
 */
export function errorPage(error: string, description: string | undefined): string {
  return htmlPage(
    'Sign-in failed',
    `<p>The application sent an invalid sign-in request.</p>
<p><code>${escapeHtml(error)}</code>${description ? `: ${escapeHtml(description)}` : ''}</p>`,
  );
}

/** RP-initiated logout confirmation: `form` is oidc-provider's own form (a hidden xsrf field). */
export function logoutPage(form: string, clientName: string | undefined): string {
  return htmlPage(
    'Sign out',
    `${form}
<p>Sign out of Bastion${clientName ? ` and ${escapeHtml(clientName)}` : ''}?</p>
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
<button type="submit" form="op.logoutForm">Stay signed in</button>`,
  );
}

export function loggedOutPage(): string {
  return htmlPage('Signed out', '<p>You have been signed out. You can close this page.</p>');
}

/**
 * A page that sends the browser on to `url` (same origin) with a meta refresh: a navigation that
 * this origin starts, so the SameSite=Strict session cookie is sent even when the browser arrived
 * here through a chain of redirects that another site began.
 */
export function continuePage(url: string): string {
  const target = escapeHtml(url);
  return htmlPage('Continue', `<p><a href="${target}">Continue</a></p>`, `\n<meta http-equiv="refresh" content="0;url=${target}">`);
}
