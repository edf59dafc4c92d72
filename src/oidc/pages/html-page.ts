import { escapeHtml } from '../../mail/mail-templates';

export { escapeHtml };

/**
 * A minimal server-rendered page for the provider's own screens (errors, logout, the hop that
 * makes a cross-site arrival same-site). No inline script: the CSP allows scripts from 'self' only.
 * `body` is HTML the caller has already escaped.
 */
export function htmlPage(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">${head}
<title>${escapeHtml(title)} · Bastion</title></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}
