import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MailQueue } from './mail-queue';
import { createMailTransport, MailTransport } from './mail-transport';
import { MailService } from './mail.service';

/** Mail off the request path: templates, a durable pg-boss queue, SMTP or log delivery. */
@Module({
  providers: [
    { provide: MailTransport, inject: [AppConfig], useFactory: createMailTransport },
    MailQueue,
    MailService,
  ],
  exports: [MailService],
})
export class MailModule {}
