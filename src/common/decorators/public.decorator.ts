import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'bastion:public';

/** Opts a route out of authentication. Everything else is denied to anonymous callers. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
