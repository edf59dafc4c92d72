/**
 * A CSP whose `form-action` also allows `origins`. Chromium applies form-action to every redirect
 * that follows a form submission, so a sign-in, consent or logout form whose answer redirects to
 * the client must list the client's origin, or the browser stops at the last Bastion page.
 */
export function widenFormAction(csp: string, origins: string[]): string {
  const extra = [...new Set(origins.filter((o) => /^https?:\/\/[^\s;,']+$/.test(o)))];
  if (!extra.length) return csp;
  const directives = csp.split(';').map((d) => d.trim()).filter(Boolean);
  const index = directives.findIndex((d) => d.toLowerCase().startsWith('form-action'));
  if (index === -1) return csp;
  directives[index] = `${directives[index]} ${extra.join(' ')}`;
  return directives.join(';');
}

export function originOf(uri: unknown): string[] {
  if (typeof uri !== 'string') return [];
  try {
    return [new URL(uri).origin];
  } catch {
    return [];
  }
}
