import type { MailMessage } from './mail-message';

/** What a template renders; the recipient is added by the caller. */
export type MailContent = Omit<MailMessage, 'to'>;

/**
 * `${appUrl}${path}?token=…`. String concatenation rather than `new URL(path, appUrl)`, which would
 * drop a path prefix of APP_URL (e.g. https://intranet.example.com/auth); URLSearchParams encodes
 * the token whatever alphabet it uses.
 */
export function linkTo(appUrl: string, path: string, token: string): string {
  return `${appUrl.replace(/\/+$/, '')}${path}?${new URLSearchParams({ token }).toString()}`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Everything interpolated into HTML goes through here (text and attribute values alike). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

interface Layout {
  subject: string;
  paragraphs: string[];
  actions: { label: string; link: string }[];
  footer: string;
}

// One layout for every mail, so the text and HTML parts say the same thing.
function render({ subject, paragraphs, actions, footer }: Layout): MailContent {
  const text = [...paragraphs, ...actions.map((a) => `${a.label}: ${a.link}`), footer].join('\n\n');
  const html = [
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...actions.map((a) => `<p><a href="${escapeHtml(a.link)}">${escapeHtml(a.label)}</a></p>`),
    `<p><small>${escapeHtml(footer)}</small></p>`,
  ].join('\n');
  return { subject, text: `${text}\n`, html: `<!doctype html>\n<html><body>\n${html}\n</body></html>\n` };
}

const IGNORE = 'If you did not ask for this, you can ignore this message.';

export function verifyEmail(link: string): MailContent {
  return render({
    subject: 'Verify your email address',
    paragraphs: ['Please confirm that this is your email address to activate your account.', 'The link can be used once.'],
    actions: [{ label: 'Verify email address', link }],
    footer: IGNORE,
  });
}

export function passwordReset(link: string): MailContent {
  return render({
    subject: 'Reset your password',
    paragraphs: ['Someone asked to reset the password of your account.', 'The link can be used once and expires in 30 minutes.'],
    actions: [{ label: 'Choose a new password', link }],
    footer: `${IGNORE} Your password has not been changed.`,
  });
}

/**
 * Sent instead of a verification link when someone registers with the email of an active account:
 * the owner learns of the attempt, and the registration answer stays the same (no enumeration).
 */
export function accountAlreadyExists(loginLink: string, resetLink: string): MailContent {
  return render({
    subject: 'You already have an account',
    paragraphs: ['Someone tried to register a new account with this email address, but you already have one. Nothing was changed.'],
    actions: [
      { label: 'Sign in', link: loginLink },
      { label: 'Forgot your password? Reset it', link: resetLink },
    ],
    footer: 'If this was not you, you can ignore this message.',
  });
}

/** For an account an administrator created without a password. */
export function setPassword(link: string): MailContent {
  return render({
    subject: 'Set your password',
    paragraphs: ['An administrator created an account for you.', 'Choose a password to sign in. The link can be used once.'],
    actions: [{ label: 'Set your password', link }],
    footer: 'If you did not expect this, contact your administrator.',
  });
}

/**
 * To the mailbox owner who just signed in with Google and thereby claimed an account someone else
 * had registered (unverified) with their address: whatever that person set up is gone.
 */
export function accountClaimed(loginLink: string): MailContent {
  return render({
    subject: 'Your account was claimed with Google',
    paragraphs: [
      'You signed in with Google using this email address. An unverified account registered with it was made yours.',
      'Whoever registered it before lost access: their password, every session and any two-factor setup were removed.',
    ],
    actions: [{ label: 'Sign in', link: loginLink }],
    footer: 'If this was not you, contact your administrator.',
  });
}

/** The account changes the owner is told about (ASVS 6.3.7), each in a sentence. */
export const SECURITY_EVENTS = {
  password_changed: 'The password of your account was changed.',
  password_reset: 'The password of your account was reset with a link sent to this address.',
  mfa_enabled: 'Two-step verification was turned on for your account.',
  mfa_disabled: 'Two-step verification was turned off for your account.',
  mfa_reset: 'An administrator reset the two-step verification of your account.',
  recovery_codes_regenerated: 'New recovery codes were created for your account; the previous ones no longer work.',
  identity_linked: 'A Google account was linked to your account; it can now be used to sign in.',
  email_changed: 'The email address of your account was changed; this address will no longer receive messages about it.',
} as const;

export type SecurityEvent = keyof typeof SECURITY_EVENTS;

export interface SecurityNotice {
  event: SecurityEvent;
  at: Date;
  ip: string | null;
  userAgent: string | null;
}

/** A notice to the account's address after a security-relevant change, with where it came from. */
export function securityNotice(notice: SecurityNotice, accountLink: string): MailContent {
  return render({
    subject: 'Security notice for your account',
    paragraphs: [
      SECURITY_EVENTS[notice.event],
      `When: ${notice.at.toUTCString()}`,
      `From: IP address ${notice.ip ?? 'unknown'}, browser or app "${notice.userAgent ?? 'unknown'}"`,
      'If this was you, there is nothing to do. If it was not, review your account at once: change your password and end sessions you do not recognise.',
    ],
    actions: [{ label: 'Review your account', link: accountLink }],
    footer: 'You receive this message because it concerns the security of your account.',
  });
}

/** To the new address of an email change: following the link makes it the account's address. */
export function confirmEmailChange(link: string): MailContent {
  return render({
    subject: 'Confirm your new email address',
    paragraphs: ['Someone asked to use this address for their account.', 'Follow the link to confirm it. The link can be used once and expires in 24 hours.'],
    actions: [{ label: 'Confirm this email address', link }],
    footer: IGNORE,
  });
}

/** To the person whose passkey was added or removed: they can react if it was not them. */
export function passkeyChanged(change: 'added' | 'removed', name: string, accountLink: string): MailContent {
  return render({
    subject: change === 'added' ? 'A passkey was added to your account' : 'A passkey was removed from your account',
    paragraphs: [`The passkey "${name}" was ${change === 'added' ? 'added to' : 'removed from'} your account.`],
    actions: [{ label: 'Review your account', link: accountLink }],
    footer: 'If this was not you, contact your administrator at once.',
  });
}
