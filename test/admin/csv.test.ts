import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRosterCsv, parseUserCsv } from '../../src/admin/csv.ts';

describe('import CSV', () => {
  it('reads jid,password lines, skipping blanks, comments and a header', () => {
    const rows = parseUserCsv(
      '\uFEFFjid,password\n# staff\n\nalice@localhost,s3cret,with,commas\r\n  bob@localhost , spaced pass \n',
    );
    assert.deepEqual(rows, [
      { line: 4, jid: 'alice@localhost', password: 's3cret,with,commas' },
      { line: 5, jid: 'bob@localhost', password: ' spaced pass ' },
    ]);
  });

  it('names the bad line', () => {
    assert.throws(() => parseUserCsv('a@localhost,pw\n\nb@localhost\n'), {
      message: 'bad CSV line 3: missing password',
    });
    assert.throws(() => parseUserCsv('a@localhost,\n'), {
      message: 'bad CSV line 1: missing password',
    });
    assert.throws(() => parseUserCsv(',pw\n'), { message: 'bad CSV line 1: missing JID' });
    assert.throws(() => parseRosterCsv('a@localhost\n'), {
      message: 'bad CSV line 1: missing contact',
    });
  });

  it('trims roster fields', () => {
    assert.deepEqual(parseRosterCsv('jid,contact\n a@localhost , b@localhost \n'), [
      { line: 2, jid: 'a@localhost', contact: 'b@localhost' },
    ]);
  });
});
