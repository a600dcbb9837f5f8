import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dlpInspector } from '../../../src/threat/inspectors/dlp-inspector.ts';
import { dlpSignals, luhnValid } from '../../../src/threat/inspectors/dlp-signals.ts';

const friend = { senderIsContact: true, fanout: 1 };
const stranger = { senderIsContact: false, fanout: 1 };
const act = (text: string, ctx = friend) => dlpInspector.inspect({ text }, ctx)?.action ?? 'allow';

test('Luhn check', () => {
  assert.ok(luhnValid('4111111111111111'));
  assert.ok(luhnValid('5500005555555559'));
  assert.ok(!luhnValid('4111111111111112'));
});

test('secrets are held even between contacts', () => {
  assert.equal(act('card 4111 1111 1111 1111 exp 09/27'), 'hold');
  assert.equal(act('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA'), 'hold');
  assert.equal(act('use AKIAQWERTYUIOPASDFGH for the bucket'), 'hold');
  assert.equal(act('curl -H "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123"'), 'hold');
  assert.equal(act('mail: c.ng@corp.test / Sunny#2025\nbank: cng88 / Tiger!909'), 'hold');
  assert.equal(act('router 10.0.0.1 password: hunter22'), 'hold');
});

test('machine reports about a public address are held', () => {
  assert.equal(act('host LAB-PC-07 addr 198.51.100.23 open ports 22,3389 user=kim'), 'hold');
  assert.equal(act('[*] 203.0.113.40 up | ports: 445/139 | os: win11 | user: ops', friend), 'hold');
  assert.equal(act('主机 198.51.100.8 端口:5900 用户:admin 系统:Win11'), 'hold');
});

test('IT talk between contacts passes; the same to a stranger is held', () => {
  const texts = [
    'can you open 8443 on the LB for 10.4.0.0/16?',
    'db is 10.2.3.4:5432 now, update your config',
    'switch 10.0.0.1 reboots at 22:00',
  ];
  for (const t of texts) assert.equal(act(t), 'allow', t);
  assert.equal(act('db is 10.2.3.4:5432 now, update your config', stranger), 'hold');
});

test('talking about passwords without giving one passes', () => {
  for (const t of [
    'never share your password in chat please',
    'reset your pw via the portal, not here',
    'the order number is 1234 5678 9012 3456',
  ]) {
    assert.equal(act(t), 'allow', t);
  }
});

test('signals are counted', () => {
  const s = dlpSignals('ip 198.51.100.1:8080 and 10.0.0.2, host WEB-SRV-01');
  assert.equal(s.ipAddresses, 2);
  assert.equal(s.publicIps, 1);
  assert.equal(s.ipWithPort, 1);
  assert.equal(s.hostNames, 1);
});

test('passwords written out without a colon, and listening back doors, are recognised', () => {
  assert.equal(dlpSignals('router admin pass is Tr0ub4dor&3').credentialValue, 1);
  assert.equal(dlpSignals('the pw policy changed in 2024').credentialValue, 0);
  assert.ok(dlpSignals('agent listening on 40404').portList);
  assert.ok(dlpSignals('vnc open, no password').portList);
  assert.equal(act('LAB-PC-02 at 198.51.100.61, shell on 4444, pw Qwerty!9'), 'hold');
});
