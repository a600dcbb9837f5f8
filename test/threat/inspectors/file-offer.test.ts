import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileOfferInspector, judgeFileName } from '../../../src/threat/inspectors/file-offer.ts';

const friend = { senderIsContact: true, fanout: 1 };

test('programs and scripts are executables', () => {
  for (const name of [
    'FunnyCats.exe',
    'update.SCR',
    'run.bat',
    'invoice.js',
    'tool.ps1',
    'app.apk',
  ]) {
    assert.equal(judgeFileName(name)?.kind, 'executable', name);
  }
});

test('double extensions and direction overrides are disguised', () => {
  assert.equal(judgeFileName('Quote_2024.pdf.exe')?.kind, 'disguised');
  assert.equal(judgeFileName('photo.jpg      .scr')?.kind, 'disguised');
  assert.equal(judgeFileName('summary\u202Excod.scr')?.kind, 'disguised');
  // Windows drops trailing dots and spaces when it opens the file.
  assert.equal(judgeFileName('setup.exe.')?.kind, 'executable');
  assert.equal(judgeFileName('invoice.pdf.exe. . ')?.kind, 'disguised');
});

test('documents and images are fine; archives are archives', () => {
  for (const name of ['minutes.docx', 'q3.xlsx', 'scan.pdf', 'team.png', 'notes.txt']) {
    assert.equal(judgeFileName(name), undefined, name);
  }
  assert.equal(judgeFileName('logs-may.zip')?.kind, 'archive');
  assert.equal(judgeFileName('disk.iso')?.kind, 'archive');
});

test('executables are held; archives held only from strangers or in mass sends', () => {
  const act = (fileName: string, ctx = friend) =>
    fileOfferInspector.inspect({ text: 'here', fileName }, ctx)?.action ?? 'allow';
  assert.equal(act('game.exe'), 'hold');
  assert.equal(act('logs.zip'), 'label');
  assert.equal(act('logs.zip', { senderIsContact: false, fanout: 1 }), 'hold');
  assert.equal(act('logs.zip', { senderIsContact: true, fanout: 30 }), 'hold');
  assert.equal(act('plan.pdf'), 'allow');
  assert.equal(fileOfferInspector.inspect({ text: 'no file' }, friend), undefined);
});
