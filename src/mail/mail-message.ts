/** A rendered mail, as queued and as handed to a transport. `from` is the transport's concern. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}
