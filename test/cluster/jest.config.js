/** @type {import('jest').Config} */
// The cluster suite: production builds started as child processes (see test/cluster/cluster.ts).
// Separate from `npm test`, run by `npm run test:cluster`.
const root = require('../../jest.config.js');

module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  transform: root.transform,
  transformIgnorePatterns: root.transformIgnorePatterns,
  testMatch: ['<rootDir>/test/cluster/**/*.spec.ts'],
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
  maxWorkers: 1,
};
