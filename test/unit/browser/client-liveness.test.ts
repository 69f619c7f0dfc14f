import { expect } from 'chai';
import { ClientHeartbeat, type HeartbeatPeer } from '#browser/gateway/client-heartbeat.ts';
import { DEFAULT_LIVENESS, livenessSettingsProblem, livenessVerdict, tickWasLate } from '#browser/gateway/client-liveness.ts';

describe('gateway: which CDP clients are hung (ping and timeout)', () => {
  const settings = { pingIntervalMs: 5_000, pingTimeoutMs: 15_000 };

  it('pings a client heard from within the timeout, and judges it hung once silent for the whole timeout', () => {
    expect(livenessVerdict({ lastHeardAt: 1_000, readingPaused: false }, 1_000, settings)).to.deep.equal({ kind: 'ping' });
    expect(livenessVerdict({ lastHeardAt: 1_000, readingPaused: false }, 15_999, settings)).to.deep.equal({ kind: 'ping' });
    expect(livenessVerdict({ lastHeardAt: 1_000, readingPaused: false }, 16_000, settings)).to.deep.equal({ kind: 'hung', silentForMs: 15_000 });
  });

  it('never judges a client the gateway is not reading (pipe backpressure): its pongs could not be heard', () => {
    expect(livenessVerdict({ lastHeardAt: 0, readingPaused: true }, 60_000, settings)).to.deep.equal({ kind: 'wait' });
  });

  it('does nothing with the interval at 0', () => {
    expect(livenessVerdict({ lastHeardAt: 0, readingPaused: false }, 1e9, { pingIntervalMs: 0, pingTimeoutMs: 15_000 })).to.deep.equal({ kind: 'off' });
  });

  it('accepts the defaults and a timeout of two intervals; refuses less, negative or fractional values with what to change', () => {
    expect(livenessSettingsProblem(DEFAULT_LIVENESS)).to.equal(undefined);
    expect(livenessSettingsProblem({ pingIntervalMs: 500, pingTimeoutMs: 1_000 })).to.equal(undefined);
    expect(livenessSettingsProblem({ pingIntervalMs: 0, pingTimeoutMs: 1 })).to.equal(undefined);
    expect(livenessSettingsProblem({ pingIntervalMs: 500, pingTimeoutMs: 999 })).to.match(/at least twice pingIntervalMs \(500\).*raise the timeout or shorten the interval/);
    expect(livenessSettingsProblem({ pingIntervalMs: -1, pingTimeoutMs: 1_000 })).to.match(/pingIntervalMs must be/);
    expect(livenessSettingsProblem({ pingIntervalMs: 1.5, pingTimeoutMs: 1_000 })).to.match(/pingIntervalMs must be/);
    expect(livenessSettingsProblem({ pingIntervalMs: 0, pingTimeoutMs: 0 })).to.match(/pingTimeoutMs must be/);
    expect(() => new ClientHeartbeat({ pingIntervalMs: 1_000, pingTimeoutMs: 1_500 })).to.throw(RangeError, /at least twice/);
  });

  describe('the heartbeat over several clients (a clock the test moves)', () => {
    let now = 0;
    const peer = () => {
      const seen = { pings: 0, hung: [] as number[] };
      const p: HeartbeatPeer = { ping: () => seen.pings++, hung: (ms) => seen.hung.push(ms) };
      return { p, seen };
    };

    it('drops the client that stopped answering, once, and keeps pinging the one that answers', () => {
      now = 0;
      const beat = new ClientHeartbeat(settings, () => now);
      const live = peer();
      const stopped = peer();
      const liveTracked = beat.track(live.p);
      beat.track(stopped.p);
      for (let t = 5_000; t <= 30_000; t += 5_000) {
        now = t;
        beat.tick();
        liveTracked.heard(); // its pong
      }
      expect(stopped.seen.pings, 'pings to the stopped client before it was judged').to.equal(2);
      expect(stopped.seen.hung).to.deep.equal([15_000]);
      expect(live.seen.pings).to.equal(6);
      expect(live.seen.hung).to.deep.equal([]);
      expect(beat.size).to.equal(1);
      beat.close();
    });

    it('counts a message as being heard, and restarts the silence when reading resumes after backpressure', () => {
      now = 0;
      const beat = new ClientHeartbeat(settings, () => now);
      const busy = peer();
      const tracked = beat.track(busy.p);
      const tickUntil = (end: number) => {
        while (now + 5_000 <= end) {
          now += 5_000;
          beat.tick();
        }
      };
      tickUntil(10_000);
      tracked.heard(); // a CDP command at 10 s, no pong
      tickUntil(20_000);
      expect(busy.seen.hung).to.deep.equal([]);
      tracked.paused();
      tickUntil(60_000);
      expect(busy.seen.hung, 'not judged while unread').to.deep.equal([]);
      tracked.resumed();
      tickUntil(70_000);
      expect(busy.seen.hung).to.deep.equal([]);
      tickUntil(75_000);
      expect(busy.seen.hung, 'silent for the timeout once read again').to.deep.equal([15_000]);
      beat.close();
    });

    it('judges nobody at a tick the gateway itself was late for (its event loop blocked, its clients\' pongs unread), and pings them', () => {
      now = 0;
      const beat = new ClientHeartbeat(settings, () => now);
      const client = peer();
      beat.track(client.p);
      now = 5_000;
      beat.tick();
      now = 40_000; // blocked 35 s: the timer runs before the socket reads that hold the pong
      beat.tick();
      expect(client.seen).to.deep.equal({ pings: 2, hung: [] });
      for (now = 45_000; now <= 55_000; now += 5_000) beat.tick();
      expect(client.seen.hung, 'a client that still answers nothing is judged a timeout later').to.deep.equal([15_000]);
      expect(tickWasLate(5_000, 15_001, settings)).to.equal(true);
      expect(tickWasLate(5_000, 15_000, settings)).to.equal(false);
      beat.close();
    });

    it('forgets a client that went, and never calls it hung', () => {
      now = 0;
      const beat = new ClientHeartbeat(settings, () => now);
      const gone = peer();
      beat.track(gone.p).untrack();
      now = 100_000;
      beat.tick();
      expect(gone.seen).to.deep.equal({ pings: 0, hung: [] });
      expect(beat.size).to.equal(0);
    });
  });
});
