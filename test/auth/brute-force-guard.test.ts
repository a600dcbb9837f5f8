import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BruteForceGuard, type GuardOptions } from '../../src/auth/brute-force-guard.ts';

function setup(overrides: Partial<GuardOptions> = {}) {
  const clock = { t: 1_000_000 };
  const guard = new BruteForceGuard({
    maxFailures: 3,
    baseDelayMs: 1000,
    maxDelayMs: 8000,
    windowMs: 60_000,
    now: () => clock.t,
    ...overrides,
  });
  return { guard, clock };
}

describe('BruteForceGuard', () => {
  it('allows attempts below the threshold', () => {
    const { guard } = setup();
    assert.deepEqual(guard.recordFailure('alice', '10.0.0.1'), {
      accountFailures: 1,
      addressFailures: 1,
      penaltyMs: 0,
    });
    guard.recordFailure('alice', '10.0.0.1');
    assert.deepEqual(guard.check('alice', '10.0.0.1'), { allowed: true });
  });

  it('starts the penalty at maxFailures, doubles it, and caps it', () => {
    const { guard, clock } = setup();
    const penalties: number[] = [];
    for (let i = 0; i < 7; i++) {
      penalties.push(guard.recordFailure('alice', '10.0.0.1').penaltyMs);
      clock.t += 10_000; // let each penalty run out
    }
    assert.deepEqual(penalties, [0, 0, 1000, 2000, 4000, 8000, 8000]);
  });

  it('refuses even the right password during a penalty, then allows again', () => {
    const { guard, clock } = setup();
    for (let i = 0; i < 3; i++) guard.recordFailure('alice', '10.0.0.1');
    clock.t += 400;
    assert.deepEqual(guard.check('alice', '10.0.0.1'), {
      allowed: false,
      retryAfterMs: 600,
      scope: 'account',
    });
    clock.t += 600;
    assert.deepEqual(guard.check('alice', '10.0.0.1'), { allowed: true });
  });

  it('counts accounts and addresses separately', () => {
    const { guard } = setup();
    // One address spraying many accounts: the address is penalized.
    for (const account of ['a', 'b', 'c']) guard.recordFailure(account, '10.0.0.1');
    assert.deepEqual(guard.check('d', '10.0.0.1'), {
      allowed: false,
      retryAfterMs: 1000,
      scope: 'address',
    });
    assert.deepEqual(guard.check('a', '10.0.0.2'), { allowed: true });

    // Many addresses against one account: the account is penalized.
    for (const address of ['10.0.1.1', '10.0.1.2', '10.0.1.3']) guard.recordFailure('eve', address);
    assert.deepEqual(guard.check('eve', '10.0.9.9'), {
      allowed: false,
      retryAfterMs: 1000,
      scope: 'account',
    });
  });

  it('clears the account counter on success, not the address counter', () => {
    const { guard, clock } = setup();
    guard.recordFailure('alice', '10.0.0.1');
    guard.recordFailure('alice', '10.0.0.1');
    guard.recordSuccess('alice', '10.0.0.1');
    clock.t += 1;
    const r = guard.recordFailure('alice', '10.0.0.1');
    assert.equal(r.accountFailures, 1);
    assert.equal(r.addressFailures, 3);
    assert.deepEqual(guard.check('bob', '10.0.0.1'), {
      allowed: false,
      retryAfterMs: 1000,
      scope: 'address',
    });
  });

  it('forgets counters after windowMs without failures', () => {
    const { guard, clock } = setup();
    guard.recordFailure('alice', '10.0.0.1');
    guard.recordFailure('alice', '10.0.0.1');
    clock.t += 59_999;
    assert.equal(guard.recordFailure('alice', '10.0.0.1').accountFailures, 3);
    clock.t += 60_000;
    assert.deepEqual(guard.recordFailure('alice', '10.0.0.1'), {
      accountFailures: 1,
      addressFailures: 1,
      penaltyMs: 0,
    });
  });

  it('keeps a counter while its penalty outlasts the window', () => {
    const { guard, clock } = setup({ windowMs: 1000, maxDelayMs: 100_000 });
    for (let i = 0; i < 6; i++) guard.recordFailure('alice', '10.0.0.1'); // penalty 8000
    clock.t += 5000;
    const check = guard.check('alice', '10.0.0.1');
    assert.equal(check.allowed, false);
    assert.equal(guard.recordFailure('alice', '10.0.0.1').accountFailures, 7);
  });

  it('bounds memory by evicting the least recently failed keys', () => {
    const { guard, clock } = setup({ maxKeys: 10 });
    for (let i = 0; i < 100; i++) {
      guard.recordFailure(`user${i}`, `10.0.${i}.1`);
      clock.t += 1;
    }
    assert.deepEqual(guard.size, { accounts: 10, addresses: 10 });
    assert.equal(guard.recordFailure('user99', '10.0.99.1').accountFailures, 2);
    assert.equal(guard.recordFailure('user0', '10.0.0.1').accountFailures, 1);
  });

  it('drops expired counters as new failures arrive', () => {
    const { guard, clock } = setup();
    for (let i = 0; i < 50; i++) guard.recordFailure(`user${i}`, '10.0.0.1');
    clock.t += 120_000;
    guard.recordFailure('fresh', '10.0.0.2');
    assert.deepEqual(guard.size, { accounts: 1, addresses: 1 });
  });
});
