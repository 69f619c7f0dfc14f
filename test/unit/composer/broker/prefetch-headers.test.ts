import { expect } from 'chai';
import { prefetchableHeaders, prefetchKey } from '#server/composer/broker/prefetch-headers.ts';

const APP = 'https://composer.example.com';

describe('headers a page\'s sign-in check or read lends the next lease\'s prefetch', () => {
  it('keeps the plain headers of the app\'s own GET', () => {
    expect(prefetchableHeaders('GET', { accept: '*/*', 'accept-language': 'pt-BR', origin: APP }, APP)).to.deep.equal({ accept: '*/*', 'accept-language': 'pt-BR', origin: APP });
    expect(prefetchableHeaders('get', { origin: APP }, APP)).to.deep.equal({ origin: APP });
  });

  it('keeps nothing a page could use to choose what the next lease\'s platform call asks', () => {
    expect(prefetchableHeaders('GET', { accept: '*/*', origin: APP, 'if-none-match': '"x"' }, APP), 'a conditional header').to.equal(undefined);
    expect(prefetchableHeaders('GET', { accept: '*/*', origin: APP, 'cache-control': 'no-cache' }, APP), 'a cache header').to.equal(undefined);
    expect(prefetchableHeaders('GET', { accept: '*/*', origin: 'https://attacker.example' }, APP), 'another origin').to.equal(undefined);
    expect(prefetchableHeaders('GET', { accept: '*/*' }, APP), 'no origin').to.equal(undefined);
    expect(prefetchableHeaders('GET', { accept: 'x'.repeat(300), origin: APP }, APP), 'a long value').to.equal(undefined);
    expect(prefetchableHeaders('GET', { accept: 'a\u0000b', origin: APP }, APP), 'a control character').to.equal(undefined);
    expect(prefetchableHeaders('HEAD', { origin: APP }, APP), 'not a GET').to.equal(undefined);
    expect(prefetchableHeaders('GET', { origin: APP }, undefined), 'no app origin known').to.equal(undefined);
  });

  it('keys a header set whatever the order of its names', () => {
    expect(prefetchKey({ origin: APP, accept: '*/*' })).to.equal(prefetchKey({ accept: '*/*', origin: APP }));
    expect(prefetchKey({ accept: '*/*' })).to.not.equal(prefetchKey({ accept: 'application/json' }));
  });
});
