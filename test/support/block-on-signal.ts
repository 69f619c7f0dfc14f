// Preloaded into a process under test (NODE_OPTIONS=--import=<this file>): on SIGUSR2 the process blocks its own
// event loop for BLOCK_ON_SIGNAL_MS (default 6000) ms, as a runaway synchronous loop would. Liveness tests use it.
process.on('SIGUSR2', () => {
  const until = Date.now() + Number(process.env['BLOCK_ON_SIGNAL_MS'] ?? 6000);
  while (Date.now() < until) {
    // busy: nothing else runs on this thread meanwhile
  }
});
