// Runs the Composer stand-in from the command line (used by `make dev`):
//   node test/support/composer-standin/main.ts [--app-port=N] [--api-port=N] [--token=T ...] [--jwt-secret=S]
//     [--faults='{"render":{"app":"foreign","delayMs":300,"placeholder":true}}']   (any StandinFaultsPatch, see faults.ts)
// Prints one JSON line {appUrl, apiUrl} on stdout when both origins listen; stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { applyFaultsPatch, noFaults, type StandinFaultsPatch } from './faults.ts';
import { startComposerStandin } from './standin.ts';

const { values } = parseArgs({
  options: {
    'app-port': { type: 'string', default: '0' },
    'api-port': { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    token: { type: 'string', multiple: true },
    'jwt-secret': { type: 'string' },
    faults: { type: 'string' },
  },
  strict: true,
});

const port = (name: string, value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`--${name}: expected a port number 0..65535, got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return n;
};

const tokens = [...(values.token ?? []), ...(process.env['COMPOSER_STANDIN_TOKEN'] ? [process.env['COMPOSER_STANDIN_TOKEN']] : [])];
const jwtSecret = values['jwt-secret'] ?? process.env['COMPOSER_STANDIN_JWT_SECRET'];
if (tokens.length === 0 && !jwtSecret) {
  console.error('Give at least one accepted token (--token=T or COMPOSER_STANDIN_TOKEN) or an HS256 secret (--jwt-secret=S or COMPOSER_STANDIN_JWT_SECRET).');
  process.exit(2);
}

let faults: StandinFaultsPatch = {};
if (values.faults) {
  try {
    faults = JSON.parse(values.faults) as StandinFaultsPatch;
    applyFaultsPatch(noFaults(), faults);
  } catch (error) {
    console.error(`--faults: ${(error as Error).message}`);
    process.exit(2);
  }
}

const standin = await startComposerStandin({
  faults,
  host: values.host,
  appPort: port('app-port', values['app-port']),
  apiPort: port('api-port', values['api-port']),
  tokens,
  ...(jwtSecret ? { jwtSecret } : {}),
});
process.stdout.write(`${JSON.stringify({ appUrl: standin.appUrl, apiUrl: standin.apiUrl })}\n`);
process.stderr.write(`Composer stand-in: app ${standin.appUrl}  api ${standin.apiUrl}  (admin: ${standin.apiUrl}/__standin/config, ${standin.apiUrl}/__standin/compositions)\n`);

const shutdown = () => {
  standin.stop().then(() => process.exit(0), () => process.exit(1));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
