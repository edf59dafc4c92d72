/**
 * The browser tier (`npm run test:browser`): the hosted pages in Debian's Chromium, driven by
 * playwright-core. One worker and one browser; the same test database template as `npm test`.
 * @type {import('jest').Config}
 */
const base = require('../../jest.config');

module.exports = {
  ...base,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/browser/**/*.browser.spec.ts'],
  maxWorkers: 1,
  testTimeout: 60000,
};
