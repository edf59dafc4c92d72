import { escapeHtml, htmlPage } from './html-page';

export interface ConsentView {
  uid: string;
  clientName: string;
  scopes: string[];
  resources: { audience: string; scopes: string[] }[];
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are (your Bastion user id)',
  profile: 'Your name',
  email: 'Your email address and whether it is verified',
  roles: 'Your roles and department',
  offline_access: 'Stay signed in to it while you are away',
};

/** Consent for a third-party client: what it asks for, and two forms (allow, deny) without fields. */
export function consentPage(view: ConsentView): string {
  const items = view.scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`);
  for (const r of view.resources) items.push(`<li>Call ${escapeHtml(r.audience)} on your behalf${r.scopes.length ? ` (${r.scopes.map(escapeHtml).join(', ')})` : ''}</li>`);
  const base = `/oidc/interaction/${encodeURIComponent(view.uid)}`;
  return htmlPage(
    'Allow access?',
    `<p><strong>${escapeHtml(view.clientName)}</strong> asks to:</p>
<ul>${items.join('')}</ul>
<form method="post" action="${base}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="${base}/abort"><button type="submit">Deny</button></form>`,
  );
}
