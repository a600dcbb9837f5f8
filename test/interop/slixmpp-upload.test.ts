import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loginArgs, runPyClient, slixmppSkipReason } from '../helpers/python-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';
import { httpRequest, putFile, type Slot } from '../helpers/upload.ts';

// Debian's slixmpp finds the upload service with its own disco plugin, the way its xep_0363
// plugin does, and gets a slot; the file then goes up and comes back over HTTPS.

const skip = slixmppSkipReason();
const PASSWORD = 'interop upload 1';

describe('slixmpp discovers HTTP upload', { skip }, () => {
  let server: RampartProcess;
  before(async () => {
    server = await startRampart({ config: '[upload]\nmax_file_size = 5000000\n' });
    await server.addUser('sly', PASSWORD);
  });
  after(() => server?.stop());

  it('finds the domain as the service, reads max-file-size, and its slot works', async () => {
    const body = Buffer.from('uploaded after slixmpp discovery\n');
    const run = await runPyClient('sly', 'upload_discovery.py', [
      ...loginArgs(server.ports.c2s, 'sly@localhost', PASSWORD),
      '--size',
      String(body.length),
    ]);
    assert.equal(run.code, 0, run.client.describe());
    const service = run.events.find((e) => e.event === 'service');
    assert.equal(service?.jid, 'localhost');
    assert.equal(service?.max_file_size, 5_000_000);
    const slot = run.events.find((e) => e.event === 'slot') as unknown as Slot | undefined;
    assert.ok(slot, run.client.describe());
    assert.equal((await putFile(slot, body)).status, 201);
    assert.deepEqual((await httpRequest('GET', slot.get)).body, body);
  });
});
