import { AuditEvent } from '../audit/audit-event.entity';
import { EmailToken } from '../auth/email-tokens/email-token.entity';
import { ExternalIdentity, OAuthExchangeCode, OAuthState } from '../auth/google/google.entities';
import { MfaChallenge, RecoveryCode, TotpFactor } from '../auth/mfa/mfa.entities';
import { PasskeyCredential, WebAuthnChallenge } from '../auth/passkeys/passkey.entities';
import { RefreshToken } from '../auth/sessions/refresh-token.entity';
import { Session } from '../auth/sessions/session.entity';
import { Department } from '../departments/department.entity';
import { Document } from '../documents/document.entity';
import { Client } from '../oidc/clients/client.entity';
import { OidcModel } from '../oidc/oidc-model.entity';
import { ResourceServer } from '../oidc/resource-servers/resource-server.entity';
import { Role } from '../policies/role.entity';
import { User } from '../users/user.entity';

/** Every entity, listed once (no directory scanning: the build and the tests see the same set). */
export const ENTITIES = [User, Role, Session, RefreshToken, EmailToken, AuditEvent, Department, Document, TotpFactor, RecoveryCode, MfaChallenge, ExternalIdentity, OAuthState, OAuthExchangeCode, OidcModel, Client, ResourceServer, PasskeyCredential, WebAuthnChallenge];
