// Preloaded into a process under test (NODE_OPTIONS=--import=<this file>): on SIGUSR2 the process throws from inside
// the signal's event handler, as a bug in any event handler would: an uncaught exception. Process-failure tests use it.
process.on('SIGUSR2', () => {
  throw new RangeError('injected: thrown synchronously inside an event handler');
});
