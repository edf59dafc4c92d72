import { Global, Module } from '@nestjs/common';
import { ChangeFeed } from './change-feed.service';

/** Database infrastructure every module may use (auth caches, policy engine, business modules), hence global. */
@Global()
@Module({ providers: [ChangeFeed], exports: [ChangeFeed] })
export class ChangeFeedModule {}
