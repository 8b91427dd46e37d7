// Runs libs/protocol's codecs and subject scheme; compared natively vs bundled for browsers.
import { changesSubject, parseSubject, subjectToken } from '@merklesync/protocol';
import { toHex } from '@merklesync/merkle';
import { LogTree, getHashSuite, proveLogInclusion } from '@merklesync/merkle';
import { proofFromMessage, proofToMessage } from '@merklesync/protocol';

export function run(): string {
  const log = new LogTree(getHashSuite('sha256'));
  log.appendMany([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)]);
  const back = proofFromMessage(proofToMessage(proveLogInclusion(log, 1)));
  return JSON.stringify({
    subject: changesSubject('pg main', 'public.users'),
    parsed: parseSubject(changesSubject('pg main', 'public.users')),
    token: subjectToken('a.b*c>'),
    proofRoot: back.kind === 'log-inclusion' ? toHex(back.root) : '',
  });
}
