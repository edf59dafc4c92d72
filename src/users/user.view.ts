import { ApiProperty } from '@nestjs/swagger';

/** The public shape of a user (API.md "User") — never a hash or a secret. */
export class UserView {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty() emailVerified!: boolean;
  @ApiProperty({ enum: ['pending', 'active', 'disabled'] }) status!: 'pending' | 'active' | 'disabled';
  @ApiProperty({ type: [String] }) roles!: string[];
  @ApiProperty({ nullable: true, type: String }) departmentId!: string | null;
  @ApiProperty() mfaEnabled!: boolean;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}
