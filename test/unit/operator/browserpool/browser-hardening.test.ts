import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { REFUSED_ENV, refusedEnv, refusedFlag, refusedFlagsPattern } from '#operator/controllers/browserpool/browser-hardening.ts';
import { validateSpec } from '#operator/controllers/browserpool/validate-spec.ts';
import type { BrowserPoolSpec } from '#kube/api/v1alpha1/browserpool.ts';

const CRD = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'crds', 'browser.composer-mcp.io_browserpools.yaml');

describe('browser hardening: refused Chromium flags and environment', () => {
  it('refuses security-relevant flags with one or two dashes, any case, with or without a value', () => {
    for (const arg of ['--remote-allow-origins=*', '-remote-allow-origins=*', '--proxy-server=http://evil:3128', '-proxy-server=x',
      '--proxy-bypass-list=*', '--host-resolver-rules=MAP * 1.2.3.4', '--Remote-Debugging-Port=9229', '--remote-debugging-pipe',
      '--disable-web-security', '--no-sandbox', '-no-sandbox', '--user-data-dir=/tmp/x', '--js-flags=--allow-natives-syntax',
      '--ignore-certificate-errors-spki-list=abc', '--enable-features=NetworkServiceInProcess', '--load-extension=/x', '--single-process']) {
      expect(refusedFlag(arg), arg).to.not.equal(undefined);
    }
  });

  it('lets ordinary flags through', () => {
    for (const arg of ['--lang=pt-BR', '--window-size=1280,800', '--hide-scrollbars', '--force-device-scale-factor=2', 'about:blank',
      '--disable-blink-features=AutomationControlled', '--proxy-serverless', '--no-sandboxes']) {
      expect(refusedFlag(arg), arg).to.equal(undefined);
    }
  });

  it('refuses proxy, preload and key-log variables in any case', () => {
    expect(refusedEnv('https_proxy')).to.match(/egress/);
    expect(refusedEnv('LD_PRELOAD')).to.match(/loads code/);
    expect(refusedEnv('LANG')).to.equal(undefined);
  });

  it('reports each refusal on the spec with the field, the flag and why (the Degraded message)', () => {
    const v = validateSpec('pool', {
      browser: {
        image: 'a/b:1', args: ['--lang=pt-BR', '-proxy-server=http://x'],
        env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'other-secret', key: 'k' } } }, { name: 'http_proxy', value: 'http://x' }],
      },
    } as Partial<BrowserPoolSpec>);
    expect(v.ok).to.equal(false);
    const problems = v.ok ? [] : v.problems;
    expect(problems).to.include('spec.browser.args[1]: --proxy-server is refused: it would route the browser\'s traffic around the egress controls; remove it');
    expect(problems.some((p) => p.startsWith('spec.browser.env[0].valueFrom is refused'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('spec.browser.env[1].name: http_proxy is refused'))).to.equal(true);
  });

  it('matches the CRD\'s CEL rules (the same flags and variables are refused at admission)', () => {
    const crd = JSON.stringify(parse(readFileSync(CRD, 'utf8')));
    expect(crd).to.include(JSON.stringify(`self.all(a, !a.lowerAscii().matches('${refusedFlagsPattern()}'))`).slice(1, -1));
    for (const name of REFUSED_ENV.keys()) expect(crd, name).to.include(`'${name}'`);
    expect(crd).to.include('!has(self.valueFrom)');
    // The CEL pattern (RE2) refuses what refusedFlag refuses.
    const re = new RegExp(refusedFlagsPattern());
    for (const arg of ['--no-sandbox', '-proxy-server=x', '--remote-debugging-address=0.0.0.0', '--lang=pt-br']) {
      expect(re.test(arg.toLowerCase()), arg).to.equal(refusedFlag(arg) !== undefined);
    }
  });
});
