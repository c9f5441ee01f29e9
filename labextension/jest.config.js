// Jest setup of JupyterLab extensions: @jupyterlab/testing provides the
// environment, ts-jest for TypeScript and babel for the ES modules that
// JupyterLab packages ship (they must not be ignored by the transform).
const jestJupyterLab = require('@jupyterlab/testing/lib/jest-config');

const esModules = [
  '@codemirror',
  '@jupyter/ydoc',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyterlab/',
  '@lumino/',
  '@microsoft',
  'exenv-es6',
  'lib0',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  collectCoverageFrom: ['src/**/*.{ts,tsx}', '!src/**/*.d.ts'],
  coverageReporters: ['lcov', 'text'],
  reporters: ['default'],
  setupFiles: [...baseConfig.setupFiles, '<rootDir>/jest.setup.js'],
  testRegex: 'src/.*/.*.spec.tsx?$',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
