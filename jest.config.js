/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest'] },
  // ESM-only packages (otplib's crypto deps, jose, the mock identity provider, oidc-provider and
  // the openid-client relying party of the tests) are compiled too.
  transformIgnorePatterns: ['/node_modules/(?!(@scure/base|@noble/hashes|@otplib|otplib|jose|oauth2-mock-server|is-plain-obj|oidc-provider|openid-client|oauth4webapi)/)'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/{e2e,unit,security,fuzz,support}/**/*.spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['reflect-metadata'],
  testTimeout: 30000,
  maxWorkers: 2,
};
