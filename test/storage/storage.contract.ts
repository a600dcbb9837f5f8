/**
 * Behaviour every Storage adapter must have. An adapter's test file calls runStorageContract with
 * a function that returns an EMPTY store each time (a new file, or truncated tables).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  AccountExistsError,
  type DeliveryRecord,
  type NewAccount,
  type PubsubItem,
  type PubsubNodeConfig,
  type RosterItem,
  type ScramCredential,
  type Storage,
  type StoredDeliveryRecord,
  type StoredFile,
  type ThreatBlock,
} from '../../src/storage/ports.ts';

const cred = (n: number): ScramCredential => ({
  hash: 'SHA-256',
  salt: `c2FsdA${n}==`,
  iterations: 4096 + n,
  storedKey: `c3RvcmVk${n}=`,
  serverKey: `c2VydmVy${n}=`,
});

const account = (jid: string): NewAccount => ({ jid, credentials: [cred(1)] });

const item = (contact: string, extra: Partial<RosterItem> = {}): RosterItem => ({
  contact,
  subscription: 'none',
  askOut: false,
  askIn: false,
  preApproved: false,
  groups: [],
  ...extra,
});

export function runStorageContract(name: string, open: () => Promise<Storage> | Storage): void {
  describe(`Storage contract: ${name}`, () => {
    let s: Storage;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });

    it('names its kind', () => {
      assert.equal(typeof s.kind, 'string');
      assert.ok(s.kind.length > 0);
    });

    describe('accounts', () => {
      it('creates and reads back an account', async () => {
        const before = Date.now();
        await s.accounts.create({ jid: 'alice@example.com', credentials: [cred(1), cred(2)] });
        const got = await s.accounts.get('alice@example.com');
        assert.ok(got);
        assert.equal(got.jid, 'alice@example.com');
        assert.deepEqual(got.credentials, [cred(1), cred(2)]);
        assert.ok(got.createdAt >= before && got.createdAt <= Date.now());
        assert.equal('quarantinedReason' in got, false);
      });

      it('returns undefined for an unknown account', async () => {
        assert.equal(await s.accounts.get('nobody@example.com'), undefined);
      });

      it('refuses a duplicate with AccountExistsError and keeps the original', async () => {
        await s.accounts.create(account('alice@example.com'));
        await assert.rejects(
          s.accounts.create({ jid: 'alice@example.com', credentials: [cred(9)] }),
          AccountExistsError,
        );
        assert.deepEqual((await s.accounts.get('alice@example.com'))?.credentials, [cred(1)]);
      });

      it('createMany inserts all new accounts and reports the existing ones', async () => {
        await s.accounts.create({ jid: 'b@example.com', credentials: [cred(7)] });
        const result = await s.accounts.createMany([
          account('a@example.com'),
          account('b@example.com'),
          account('c@example.com'),
        ]);
        assert.deepEqual(result, { created: 2, existing: ['b@example.com'] });
        assert.deepEqual(await s.accounts.list(), [
          'a@example.com',
          'b@example.com',
          'c@example.com',
        ]);
        // the existing account is untouched
        assert.deepEqual((await s.accounts.get('b@example.com'))?.credentials, [cred(7)]);
      });

      it('createMany of nothing creates nothing', async () => {
        assert.deepEqual(await s.accounts.createMany([]), { created: 0, existing: [] });
      });

      it('replaces credentials, and says false for an unknown account', async () => {
        await s.accounts.create(account('alice@example.com'));
        assert.equal(await s.accounts.setCredentials('alice@example.com', [cred(3)]), true);
        assert.deepEqual((await s.accounts.get('alice@example.com'))?.credentials, [cred(3)]);
        assert.equal(await s.accounts.setCredentials('nobody@example.com', [cred(3)]), false);
      });

      it('sets and clears quarantine', async () => {
        await s.accounts.create(account('alice@example.com'));
        assert.equal(await s.accounts.setQuarantine('alice@example.com', 'fan-out T2'), true);
        assert.equal((await s.accounts.get('alice@example.com'))?.quarantinedReason, 'fan-out T2');
        assert.equal(await s.accounts.setQuarantine('alice@example.com', undefined), true);
        const cleared = await s.accounts.get('alice@example.com');
        assert.ok(cleared);
        assert.equal('quarantinedReason' in cleared, false);
        assert.equal(await s.accounts.setQuarantine('nobody@example.com', 'x'), false);
      });

      it('lists accounts sorted, optionally by exact domain', async () => {
        await s.accounts.createMany([
          account('zed@example.com'),
          account('amy@example.com'),
          account('bob@sub.example.com'),
          account('eve@example.com.evil'),
        ]);
        assert.deepEqual(await s.accounts.list(), [
          'amy@example.com',
          'bob@sub.example.com',
          'eve@example.com.evil',
          'zed@example.com',
        ]);
        assert.deepEqual(await s.accounts.list('example.com'), [
          'amy@example.com',
          'zed@example.com',
        ]);
        assert.deepEqual(await s.accounts.list('nowhere.example'), []);
      });

      it('remove deletes the account and everything it owns, and nothing else', async () => {
        const alice = 'alice@example.com';
        const bob = 'bob@example.com';
        await s.accounts.createMany([account(alice), account(bob)]);
        for (const owner of [alice, bob]) {
          await s.roster.put(owner, item('carol@example.com'));
          await s.offline.push(owner, '<message/>');
          await s.kv.set(owner, 'vcard', '<vCard/>');
        }
        await s.roster.put(bob, item(alice, { subscription: 'both' }));

        assert.equal(await s.accounts.remove(alice), true);
        assert.equal(await s.accounts.get(alice), undefined);
        assert.deepEqual((await s.roster.get(alice)).items, []);
        assert.equal(await s.offline.count(alice), 0);
        assert.equal(await s.kv.get(alice, 'vcard'), undefined);

        assert.ok(await s.accounts.get(bob));
        assert.equal((await s.roster.get(bob)).items.length, 2);
        assert.equal(await s.offline.count(bob), 1);
        assert.equal(await s.kv.get(bob, 'vcard'), '<vCard/>');
        assert.equal(await s.accounts.remove(alice), false);
      });
    });

    describe('roster', () => {
      const owner = 'alice@example.com';

      it('starts empty at version 0', async () => {
        assert.deepEqual(await s.roster.get(owner), { version: 0, items: [] });
      });

      it('round-trips every field of an item', async () => {
        const full = item('bob@example.com', {
          name: 'Bob — Sales',
          subscription: 'both',
          askOut: true,
          askIn: true,
          preApproved: true,
          groups: ['Work', 'Ünïcode 组'],
        });
        await s.roster.put(owner, full);
        assert.deepEqual(await s.roster.getItem(owner, 'bob@example.com'), full);
        assert.deepEqual((await s.roster.get(owner)).items, [full]);
      });

      it('leaves name absent when it was not given', async () => {
        await s.roster.put(owner, item('bob@example.com'));
        const got = await s.roster.getItem(owner, 'bob@example.com');
        assert.ok(got);
        assert.equal('name' in got, false);
      });

      it('put replaces an existing item', async () => {
        await s.roster.put(owner, item('bob@example.com', { name: 'Bob', groups: ['A'] }));
        await s.roster.put(owner, item('bob@example.com', { subscription: 'to' }));
        assert.deepEqual((await s.roster.get(owner)).items, [
          item('bob@example.com', { subscription: 'to' }),
        ]);
      });

      it('getItem returns undefined for an unknown contact', async () => {
        assert.equal(await s.roster.getItem(owner, 'nobody@example.com'), undefined);
      });

      it('increments the version on every put and remove', async () => {
        const v1 = await s.roster.put(owner, item('bob@example.com'));
        const v2 = await s.roster.put(owner, item('carol@example.com'));
        const v3 = await s.roster.put(owner, item('bob@example.com', { subscription: 'from' }));
        const v4 = await s.roster.remove(owner, 'carol@example.com');
        assert.ok(v4 !== undefined);
        assert.ok(v1 > 0 && v1 < v2 && v2 < v3 && v3 < v4, `${v1} ${v2} ${v3} ${v4}`);
        assert.equal((await s.roster.get(owner)).version, v4);
      });

      it('remove of an unknown contact returns undefined and keeps the version', async () => {
        const v = await s.roster.put(owner, item('bob@example.com'));
        assert.equal(await s.roster.remove(owner, 'nobody@example.com'), undefined);
        assert.equal((await s.roster.get(owner)).version, v);
      });

      it('keeps versions and items per owner', async () => {
        await s.roster.put(owner, item('bob@example.com'));
        await s.roster.put(owner, item('carol@example.com'));
        const other = await s.roster.put('bob@example.com', item(owner));
        const mine = await s.roster.get(owner);
        assert.equal(mine.items.length, 2);
        assert.ok(other < mine.version);
        assert.deepEqual((await s.roster.get('bob@example.com')).items, [item(owner)]);
      });

      it('never reuses a version after the account is removed and created again', async () => {
        await s.accounts.create(account(owner));
        await s.roster.put(owner, item('bob@example.com'));
        const before = await s.roster.put(owner, item('carol@example.com'));
        await s.accounts.remove(owner);
        await s.accounts.create(account(owner));
        const after = await s.roster.put(owner, item('dave@example.com'));
        assert.ok(after > before, `${after} > ${before}`);
      });
    });

    describe('offline messages', () => {
      const owner = 'alice@example.com';

      it('lists oldest first with increasing ids and stored times', async () => {
        const before = Date.now();
        const ids: number[] = [];
        for (let i = 0; i < 5; i++) ids.push(await s.offline.push(owner, `<message id="${i}"/>`));
        const list = await s.offline.list(owner);
        assert.deepEqual(
          list.map((m) => m.id),
          ids,
        );
        assert.deepEqual(
          list.map((m) => m.stanza),
          [0, 1, 2, 3, 4].map((i) => `<message id="${i}"/>`),
        );
        for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!);
        for (const m of list) assert.ok(m.storedAt >= before && m.storedAt <= Date.now());
      });

      it('honours the limit', async () => {
        for (let i = 0; i < 5; i++) await s.offline.push(owner, `<message id="${i}"/>`);
        const first = await s.offline.list(owner, 2);
        assert.deepEqual(
          first.map((m) => m.stanza),
          ['<message id="0"/>', '<message id="1"/>'],
        );
      });

      it('removes by id, only the owner’s own messages', async () => {
        const a = await s.offline.push(owner, '<message id="a"/>');
        const b = await s.offline.push(owner, '<message id="b"/>');
        const c = await s.offline.push(owner, '<message id="c"/>');
        const bobs = await s.offline.push('bob@example.com', '<message id="bob"/>');
        await s.offline.remove(owner, [a, c, bobs]);
        assert.deepEqual(
          (await s.offline.list(owner)).map((m) => m.id),
          [b],
        );
        assert.equal(await s.offline.count('bob@example.com'), 1);
        await s.offline.remove(owner, []);
        assert.equal(await s.offline.count(owner), 1);
      });

      it('keeps in-flight messages out of sight until landed; removes or lands them by id', async () => {
        const early = await s.offline.push(owner, '<message id="early"/>');
        const pending = [0, 1, 2].map((i) =>
          s.offline.pushInFlight(owner, `<message id="f${i}"/>`),
        );
        // Many writes in one turn share one commit; each still gets its own id.
        const [f0, f1, f2] = await Promise.all(pending);
        assert.equal(new Set([f0, f1, f2]).size, 3);
        assert.deepEqual(
          (await s.offline.list(owner)).map((m) => m.id),
          [early],
        );
        assert.equal(await s.offline.count(owner), 1);
        await s.offline.remove(owner, [f0!]);
        await s.offline.land(owner, [f1!]);
        assert.deepEqual(
          (await s.offline.list(owner)).map((m) => m.id),
          [early, f1],
        );
        assert.equal(await s.offline.landAllInFlight(), 1);
        assert.deepEqual(
          (await s.offline.list(owner)).map((m) => m.stanza),
          ['<message id="early"/>', '<message id="f1"/>', '<message id="f2"/>'],
        );
      });

      it('counts per owner and lists nothing for an unknown owner', async () => {
        await s.offline.push(owner, '<message/>');
        await s.offline.push(owner, '<message/>');
        await s.offline.push('bob@example.com', '<message/>');
        assert.equal(await s.offline.count(owner), 2);
        assert.equal(await s.offline.count('nobody@example.com'), 0);
        assert.deepEqual(await s.offline.list('nobody@example.com'), []);
      });

      it('keeps stanza text exactly', async () => {
        const stanza =
          '<message xmlns="jabber:client" to="a@b"><body>&lt;Ω 😀 \'"&amp;</body></message>';
        await s.offline.push(owner, stanza);
        assert.equal((await s.offline.list(owner))[0]?.stanza, stanza);
      });
    });

    describe('security events', () => {
      const ev = (n: number, rule = 'r1', actor = 'mallory@example.com') => ({
        time: 1_700_000_000_000 + n,
        threat: 'T1',
        rule,
        actor,
        verdict: 'refuse' as const,
      });

      it('stores every field and stamps the time when absent', async () => {
        const before = Date.now();
        await s.events.record({
          threat: 'T2',
          rule: 'url.ip-literal',
          actor: 'bob@example.com',
          target: 'alice@example.com',
          address: '192.0.2.7',
          verdict: 'hold',
          evidence: { url: 'hxxp://192.0.2.7:8180/x', score: 0.9, tags: ['a'] },
        });
        await s.events.record(ev(1));
        const [full, bare] = await s.events.list();
        assert.ok(full && bare);
        assert.ok(full.time >= before && full.time <= Date.now());
        assert.deepEqual(full, {
          id: full.id,
          time: full.time,
          threat: 'T2',
          rule: 'url.ip-literal',
          actor: 'bob@example.com',
          target: 'alice@example.com',
          address: '192.0.2.7',
          verdict: 'hold',
          evidence: { url: 'hxxp://192.0.2.7:8180/x', score: 0.9, tags: ['a'] },
        });
        assert.deepEqual(bare, { id: bare.id, ...ev(1) });
        assert.ok(bare.id > full.id);
      });

      it('lists newest last, and the newest `limit` without afterId', async () => {
        for (let i = 0; i < 5; i++) await s.events.record(ev(i));
        const all = await s.events.list();
        assert.deepEqual(
          all.map((e) => e.time - ev(0).time),
          [0, 1, 2, 3, 4],
        );
        assert.deepEqual(
          (await s.events.list({ limit: 2 })).map((e) => e.id),
          all.slice(3).map((e) => e.id),
        );
      });

      it('pages forward with afterId', async () => {
        for (let i = 0; i < 5; i++) await s.events.record(ev(i));
        const seen: number[] = [];
        let afterId = 0;
        for (;;) {
          const page = await s.events.list({ afterId, limit: 2 });
          if (page.length === 0) break;
          assert.ok(page.length <= 2);
          for (const e of page) seen.push(e.time - ev(0).time);
          afterId = page.at(-1)!.id;
        }
        assert.deepEqual(seen, [0, 1, 2, 3, 4]);
        assert.deepEqual(await s.events.list({ afterId }), []);
      });

      it('filters by rule and actor, also while paging', async () => {
        await s.events.record(ev(0, 'r1', 'a@x'));
        await s.events.record(ev(1, 'r2', 'a@x'));
        await s.events.record(ev(2, 'r1', 'b@x'));
        await s.events.record(ev(3, 'r1', 'a@x'));
        const times = (list: { time: number }[]) => list.map((e) => e.time - ev(0).time);
        assert.deepEqual(times(await s.events.list({ rule: 'r1' })), [0, 2, 3]);
        assert.deepEqual(times(await s.events.list({ actor: 'a@x' })), [0, 1, 3]);
        assert.deepEqual(times(await s.events.list({ rule: 'r1', actor: 'a@x' })), [0, 3]);
        const first = (await s.events.list({ rule: 'r1', limit: 1, afterId: 0 }))[0]!;
        assert.deepEqual(times(await s.events.list({ rule: 'r1', afterId: first.id })), [2, 3]);
        assert.deepEqual(await s.events.list({ rule: 'none' }), []);
      });

      it('filters by time with since, also while paging', async () => {
        for (let i = 0; i < 5; i++) await s.events.record(ev(i));
        const times = (list: { time: number }[]) => list.map((e) => e.time - ev(0).time);
        assert.deepEqual(times(await s.events.list({ since: ev(3).time })), [3, 4]);
        const first = (await s.events.list({ since: ev(1).time, afterId: 0, limit: 1 }))[0]!;
        assert.deepEqual(
          times(await s.events.list({ since: ev(1).time, afterId: first.id })),
          [2, 3, 4],
        );
      });
    });

    describe('held messages', () => {
      const held = (owner: string, sender: string, kind: 'request' | 'review', n: number) => ({
        owner,
        sender,
        kind,
        stanza: `<message><body>${n}</body></message>`,
        rule: kind === 'request' ? 'stranger' : 'url',
        reason: `reason ${n}`,
        heldAt: 1_700_000_000_000 + n,
      });

      it('keeps every field, lists oldest first and filters by owner, sender and kind', async () => {
        const a = await s.held.add({ ...held('bob@x', 'carol@x', 'request', 1), threat: 'T1' });
        const b = await s.held.add(held('bob@x', 'dave@x', 'review', 2));
        await s.held.add(held('erin@x', 'carol@x', 'request', 3));
        assert.ok(b > a);
        assert.deepEqual(await s.held.get(a), {
          id: a,
          ...held('bob@x', 'carol@x', 'request', 1),
          threat: 'T1',
        });
        assert.equal('threat' in (await s.held.get(b))!, false);
        const bodies = (list: { stanza: string }[]) => list.map((m) => m.stanza.slice(15, 16));
        assert.deepEqual(bodies(await s.held.list()), ['1', '2', '3']);
        assert.deepEqual(bodies(await s.held.list({ owner: 'bob@x' })), ['1', '2']);
        assert.deepEqual(bodies(await s.held.list({ sender: 'carol@x' })), ['1', '3']);
        assert.deepEqual(bodies(await s.held.list({ owner: 'bob@x', kind: 'review' })), ['2']);
        assert.equal(await s.held.get(9999), undefined);
      });

      it('removes by id and by age; an account takes its held messages with it', async () => {
        await s.accounts.create(account('bob@x'));
        const ids = [];
        for (const n of [1, 2, 3])
          ids.push(await s.held.add(held('bob@x', 'carol@x', 'request', n)));
        await s.held.add(held('erin@x', 'carol@x', 'request', 4));
        assert.equal(await s.held.remove([ids[0]!, 12345]), 1);
        assert.equal(await s.held.removeOlderThan(1_700_000_000_003), 1);
        assert.deepEqual(
          (await s.held.list({ owner: 'bob@x' })).map((m) => m.id),
          [ids[2]],
        );
        await s.accounts.remove('bob@x');
        assert.deepEqual(await s.held.list({ owner: 'bob@x' }), []);
        assert.equal((await s.held.list({ owner: 'erin@x' })).length, 1);
      });
    });

    describe('key-value', () => {
      const owner = 'alice@example.com';

      it('returns undefined for a missing key', async () => {
        assert.equal(await s.kv.get(owner, 'nope'), undefined);
      });

      it('sets, overwrites and deletes', async () => {
        await s.kv.set(owner, 'private:storage', '<a/>');
        assert.equal(await s.kv.get(owner, 'private:storage'), '<a/>');
        await s.kv.set(owner, 'private:storage', '<b/>');
        assert.equal(await s.kv.get(owner, 'private:storage'), '<b/>');
        await s.kv.delete(owner, 'private:storage');
        assert.equal(await s.kv.get(owner, 'private:storage'), undefined);
        await s.kv.delete(owner, 'private:storage');
      });

      it('keeps keys per owner, and stores the empty string', async () => {
        await s.kv.set(owner, 'k', 'alice');
        await s.kv.set('bob@example.com', 'k', 'bob');
        await s.kv.set(owner, 'empty', '');
        assert.equal(await s.kv.get(owner, 'k'), 'alice');
        assert.equal(await s.kv.get('bob@example.com', 'k'), 'bob');
        assert.equal(await s.kv.get(owner, 'empty'), '');
      });
    });

    describe('pubsub (PEP)', () => {
      const owner = 'alice@example.com';
      const config = (extra: Partial<PubsubNodeConfig> = {}): PubsubNodeConfig => ({
        accessModel: 'presence',
        maxItems: 3,
        persistItems: true,
        sendLastPublishedItem: 'on_sub_and_presence',
        notifyRetract: false,
        ...extra,
      });
      const pub = (id: string, at = 1): PubsubItem => ({
        id,
        payload: `<p n="${id}"/>`,
        publisher: `${owner}/phone`,
        publishedAt: at,
      });
      const ids = (items: PubsubItem[]) => items.map((i) => i.id);

      it('creates, lists, reconfigures and deletes nodes per owner', async () => {
        assert.equal(await s.pubsub.getNode(owner, 'urn:x'), undefined);
        await s.pubsub.putNode(owner, 'urn:x', config());
        await s.pubsub.putNode(owner, 'urn:a', config({ accessModel: 'open', title: 'A' }));
        await s.pubsub.putNode('bob@example.com', 'urn:b', config());
        assert.deepEqual(
          await s.pubsub.getNode(owner, 'urn:a'),
          config({ accessModel: 'open', title: 'A' }),
        );
        assert.deepEqual(
          (await s.pubsub.nodes(owner)).map((n) => n.node),
          ['urn:a', 'urn:x'],
        );
        await s.pubsub.putNode(owner, 'urn:x', config({ accessModel: 'whitelist' }));
        assert.equal((await s.pubsub.getNode(owner, 'urn:x'))?.accessModel, 'whitelist');
        assert.equal(await s.pubsub.deleteNode(owner, 'urn:x'), true);
        assert.equal(await s.pubsub.deleteNode(owner, 'urn:x'), false);
        assert.deepEqual(
          (await s.pubsub.nodes(owner)).map((n) => n.node),
          ['urn:a'],
        );
      });

      it('keeps items newest first, republishing moves an id to the front', async () => {
        await s.pubsub.putNode(owner, 'n', config({ maxItems: 10 }));
        for (const id of ['a', 'b', 'c']) await s.pubsub.publish(owner, 'n', pub(id));
        await s.pubsub.publish(owner, 'n', { ...pub('a', 5), payload: '<p n="a2"/>' });
        const items = await s.pubsub.items(owner, 'n');
        assert.deepEqual(ids(items), ['a', 'c', 'b']);
        assert.deepEqual(items[0], { ...pub('a', 5), payload: '<p n="a2"/>' });
        assert.deepEqual(ids(await s.pubsub.items(owner, 'n', { max: 2 })), ['a', 'c']);
        assert.deepEqual(ids(await s.pubsub.items(owner, 'n', { ids: ['b', 'zz', 'a'] })), [
          'a',
          'b',
        ]);
        assert.deepEqual(await s.pubsub.items(owner, 'other'), []);
      });

      it('drops the oldest items beyond maxItems, also when maxItems shrinks', async () => {
        await s.pubsub.putNode(owner, 'n', config({ maxItems: 3 }));
        for (const id of ['1', '2', '3', '4', '5']) await s.pubsub.publish(owner, 'n', pub(id));
        assert.deepEqual(ids(await s.pubsub.items(owner, 'n')), ['5', '4', '3']);
        await s.pubsub.putNode(owner, 'n', config({ maxItems: 1 }));
        assert.deepEqual(ids(await s.pubsub.items(owner, 'n')), ['5']);
      });

      it('retracts items, and deleting a node (or the account) removes its items', async () => {
        await s.accounts.create(account(owner));
        await s.pubsub.putNode(owner, 'n', config());
        await s.pubsub.publish(owner, 'n', pub('x'));
        await s.pubsub.publish(owner, 'n', pub('y'));
        assert.equal(await s.pubsub.retract(owner, 'n', 'x'), true);
        assert.equal(await s.pubsub.retract(owner, 'n', 'x'), false);
        assert.deepEqual(ids(await s.pubsub.items(owner, 'n')), ['y']);
        await s.pubsub.deleteNode(owner, 'n');
        await s.pubsub.putNode(owner, 'n', config());
        assert.deepEqual(await s.pubsub.items(owner, 'n'), []);
        await s.pubsub.publish(owner, 'n', pub('z'));
        await s.accounts.remove(owner);
        assert.equal(await s.pubsub.getNode(owner, 'n'), undefined);
        assert.deepEqual(await s.pubsub.items(owner, 'n'), []);
      });

      it('refuses to publish to a node that does not exist', async () => {
        await assert.rejects(s.pubsub.publish(owner, 'missing', pub('a')));
      });
    });

    describe('uploaded files', () => {
      const slot = (id: string, extra: Partial<StoredFile> = {}): StoredFile => ({
        id,
        owner: 'alice@example.com',
        name: 'report.pdf',
        size: 1000,
        contentType: 'application/pdf',
        status: 'slot',
        createdAt: 1_000,
        expiresAt: 10_000,
        ...extra,
      });

      it('creates a slot and reads it back without optional fields', async () => {
        await s.files.create(slot('f1'));
        assert.deepEqual(await s.files.get('f1'), slot('f1'));
        assert.equal(await s.files.get('nope'), undefined);
      });

      it('moves status only from the expected state, once', async () => {
        await s.files.create(slot('f1'));
        assert.equal(await s.files.transition('f1', 'slot', 'uploading'), true);
        assert.equal(await s.files.transition('f1', 'slot', 'uploading'), false);
        assert.equal(await s.files.transition('nope', 'slot', 'uploading'), false);
        assert.equal((await s.files.get('f1'))?.status, 'uploading');
      });

      it('updates fields and clears them with undefined', async () => {
        await s.files.create(slot('f1'));
        await s.files.update('f1', {
          status: 'quarantined',
          sha256: 'ab'.repeat(32),
          detectedType: 'exe',
          wrappedKey: 'a2V5',
          verdictRule: 'files.type-policy',
          verdictReason: 'executables are not accepted',
          expiresAt: 20_000,
        });
        const got = await s.files.get('f1');
        assert.equal(got?.status, 'quarantined');
        assert.equal(got?.sha256, 'ab'.repeat(32));
        assert.equal(got?.detectedType, 'exe');
        assert.equal(got?.verdictRule, 'files.type-policy');
        assert.equal(got?.expiresAt, 20_000);
        await s.files.update('f1', { verdictRule: undefined, verdictReason: undefined });
        const cleared = await s.files.get('f1');
        assert.equal('verdictRule' in (cleared ?? {}), false);
        assert.equal(cleared?.wrappedKey, 'a2V5');
      });

      it('lists by owner, status and hash, newest first', async () => {
        await s.files.create(slot('f1', { createdAt: 1 }));
        await s.files.create(slot('f2', { createdAt: 2, status: 'quarantined' }));
        await s.files.create(slot('f3', { createdAt: 3, owner: 'bob@example.com' }));
        await s.files.update('f3', { sha256: 'cd'.repeat(32) });
        assert.deepEqual(
          (await s.files.list()).map((f) => f.id),
          ['f3', 'f2', 'f1'],
        );
        assert.deepEqual(
          (await s.files.list({ owner: 'alice@example.com' })).map((f) => f.id),
          ['f2', 'f1'],
        );
        assert.deepEqual(
          (await s.files.list({ status: 'quarantined' })).map((f) => f.id),
          ['f2'],
        );
        assert.deepEqual(
          (await s.files.list({ sha256: 'cd'.repeat(32) })).map((f) => f.id),
          ['f3'],
        );
      });

      it('counts quota usage of unexpired records and finds expired ones', async () => {
        await s.files.create(slot('f1', { size: 100, expiresAt: 50 }));
        await s.files.create(slot('f2', { size: 200, expiresAt: 500 }));
        await s.files.create(slot('f3', { size: 400, expiresAt: 500, owner: 'bob@example.com' }));
        assert.equal(await s.files.usage('alice@example.com', 10), 300);
        assert.equal(await s.files.usage('alice@example.com', 100), 200);
        assert.equal(await s.files.usage('carol@example.com', 100), 0);
        assert.deepEqual(
          (await s.files.expired(100)).map((f) => f.id),
          ['f1'],
        );
        assert.equal(await s.files.remove('f1'), true);
        assert.equal(await s.files.remove('f1'), false);
        assert.deepEqual(await s.files.expired(100), []);
      });
    });

    describe('threat blocks', () => {
      const block = (value: string, extra: Partial<ThreatBlock> = {}): ThreatBlock => ({
        kind: 'domain',
        value,
        reason: 'worm host',
        source: 'admin',
        createdAt: 1000,
        ...extra,
      });

      it('adds, lists oldest first, keeps the first of duplicates, removes', async () => {
        assert.equal(await s.threatBlocks.add(block('b.example', { createdAt: 2000 })), true);
        assert.equal(
          await s.threatBlocks.add(block('http://x/', { kind: 'url', source: 'outbreak' })),
          true,
        );
        assert.equal(await s.threatBlocks.add(block('b.example', { reason: 'other' })), false);
        const listed = await s.threatBlocks.list();
        assert.deepEqual(listed, [
          block('http://x/', { kind: 'url', source: 'outbreak' }),
          block('b.example', { createdAt: 2000 }),
        ]);
        assert.equal('purgedAt' in listed[0]!, false);
        assert.equal(await s.threatBlocks.remove('domain', 'b.example'), true);
        assert.equal(await s.threatBlocks.remove('domain', 'b.example'), false);
        assert.equal((await s.threatBlocks.list()).length, 1);
      });

      it('records when a block was purged', async () => {
        await s.threatBlocks.add(block('c.example'));
        await s.threatBlocks.markPurged('domain', 'c.example', 5000);
        assert.equal((await s.threatBlocks.list())[0]?.purgedAt, 5000);
      });
    });

    describe('delivery log', () => {
      const entry = (n: number, extra: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
        stanzaId: `sid-${n}`,
        messageId: `m-${n}`,
        sender: 'alice@example.com',
        recipient: `r${n}@example.com`,
        artefacts: ['url:http://x/', 'domain:x'],
        time: 1000 + n,
        ...extra,
      });

      it('finds deliveries by any artefact, since a time, optionally by sender', async () => {
        await s.deliveries.record(entry(1));
        await s.deliveries.record(entry(2, { artefacts: ['domain:x'], sender: 'bob@example.com' }));
        await s.deliveries.record(entry(3, { artefacts: ['sha256:ab'] }));
        const { messageId: _none, ...noMessageId } = entry(4);
        await s.deliveries.record(noMessageId);
        const ids = (rows: StoredDeliveryRecord[]) => rows.map((r) => r.stanzaId);
        assert.deepEqual(ids(await s.deliveries.find({ artefacts: ['domain:x'], since: 0 })), [
          'sid-1',
          'sid-2',
          'sid-4',
        ]);
        assert.deepEqual(
          ids(await s.deliveries.find({ artefacts: ['domain:x', 'sha256:ab'], since: 1002 })),
          ['sid-2', 'sid-3', 'sid-4'],
        );
        assert.deepEqual(
          ids(
            await s.deliveries.find({
              artefacts: ['domain:x'],
              since: 0,
              sender: 'bob@example.com',
            }),
          ),
          ['sid-2'],
        );
        assert.deepEqual(await s.deliveries.find({ artefacts: [], since: 0 }), []);
        const [first] = await s.deliveries.find({ artefacts: ['url:http://x/'], since: 0 });
        assert.deepEqual(
          { ...first, id: 0 },
          { ...entry(1, { artefacts: ['domain:x', 'url:http://x/'] }), id: 0 },
        );
        const fourth = (await s.deliveries.find({ artefacts: ['url:http://x/'], since: 1004 }))[0]!;
        assert.equal('messageId' in fourth, false);
      });

      it('a find sees deliveries recorded in the same turn, before they are committed', async () => {
        const written = [1, 2, 3].map((n) => s.deliveries.record(entry(n)));
        const found = await s.deliveries.find({ artefacts: ['domain:x'], since: 0 });
        assert.deepEqual(
          found.map((r) => r.stanzaId),
          ['sid-1', 'sid-2', 'sid-3'],
        );
        await Promise.all(written);
      });

      it('removes purged deliveries and prunes old ones', async () => {
        for (const n of [1, 2, 3]) await s.deliveries.record(entry(n));
        const found = await s.deliveries.find({ artefacts: ['domain:x'], since: 0 });
        await s.deliveries.remove([found[0]!.id]);
        assert.equal(await s.deliveries.prune(1003), 1);
        const left = await s.deliveries.find({ artefacts: ['domain:x'], since: 0 });
        assert.deepEqual(
          left.map((r) => r.stanzaId),
          ['sid-3'],
        );
      });
    });
  });
}
