import { User } from '../users/user.entity';

/** Every entity, listed once (no directory scanning: the build and the tests see the same set). */
export const ENTITIES = [User];
