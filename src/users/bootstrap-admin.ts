import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { PasswordHasher } from '../auth/passwords/password-hasher';
import { PasswordPolicy } from '../auth/passwords/password-policy';
import { AppConfig } from '../config/app-config';
import { RoleSeeder } from '../policies/role-seeder';
import { grantRoles } from './user-roles';
import { User, UserStatus } from './user.entity';

/** BOOTSTRAP_ADMIN_EMAIL/PASSWORD: a verified admin created at start when that email is unknown. */
@Injectable()
export class BootstrapAdmin implements OnApplicationBootstrap {
  private readonly logger = new Logger('BootstrapAdmin');

  constructor(
    private readonly em: EntityManager,
    private readonly roles: RoleSeeder,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly audit: AuditService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.bootstrapAdmin;
    if (!admin) return;
    await this.roles.ensureBuiltIns();
    const email = admin.email.trim().toLowerCase();
    const em = this.em.fork();
    if (await em.count(User, { email })) return;
    const problems = await this.policy.check(admin.password, { email });
    if (problems.length) throw new Error(`BOOTSTRAP_ADMIN_PASSWORD: ${problems.join('; ')}`);
    const passwordHash = await this.hasher.hash(admin.password);
    let created: string;
    try {
      created = await em.transactional(async (tx) => {
        const user = tx.create(User, { email, displayName: 'Administrator', passwordHash, emailVerified: true, status: UserStatus.Active });
        await tx.flush();
        await grantRoles(tx, user.id, ['admin']);
        return user.id;
      });
    } catch (err) {
      // Instances started together all see no admin; the one whose insert loses must still start
      // (and must not print the error, whose SQL carries the password hash).
      if (err instanceof UniqueConstraintViolationException) return;
      throw err;
    }
    this.logger.log(`Created the bootstrap administrator ${email}`);
    await this.audit.record({ type: 'user.created', outcome: 'success', targetType: 'User', targetId: created, details: { email, roles: ['admin'], bootstrap: true } });
  }
}
