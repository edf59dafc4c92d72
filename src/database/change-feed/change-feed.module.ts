import { Global, Module } from '@nestjs/common';
import { ChangeFeed } from './change-feed.service';

/** The change feed is shared by the auth caches and the policy engine. */
@Global()
@Module({ providers: [ChangeFeed], exports: [ChangeFeed] })
export class ChangeFeedModule {}
