// jsdom has no Clipboard API; @jupyterlab/apputils warns about it on import.
// A stub keeps the test output quiet (no test uses the clipboard).
if (typeof navigator !== 'undefined' && !navigator.clipboard) {
  Object.defineProperty(navigator, 'clipboard', {
    configurable: true,
    value: {
      read: () => Promise.resolve([]),
      readText: () => Promise.resolve(''),
      write: () => Promise.resolve(),
      writeText: () => Promise.resolve()
    }
  });
}
