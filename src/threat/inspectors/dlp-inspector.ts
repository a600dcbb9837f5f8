// T3/T6: data that should not leave through chat. Secrets (keys, tokens, card numbers,
// credential dumps) and machine reports (addresses with open ports, hosts, users: the
// shape of a trojan's beacon) are held when they go to someone outside the contact list.
// Between contacts, where IT staff talk about hosts and ports all day, only the strong
// signals hold: secrets, and full machine reports about a public address.

import type { Verdict } from '../verdict.ts';
import { type DlpSignals, dlpSignals } from './dlp-signals.ts';
import { type Inspector, verdict } from './types.ts';

export function secretFound(s: DlpSignals): string | undefined {
  if (s.privateKey) return 'a private key';
  if (s.apiToken) return 'an access token';
  if (s.cardNumber) return 'a payment card number';
  if (s.credentialPairs >= 2) return 'a list of logins and passwords';
  if (s.credentialValue >= 1 && (s.credentialPairs >= 1 || s.ipAddresses > 0 || s.hostNames > 0)) {
    return 'a password together with where it works';
  }
  return undefined;
}

export function machineReport(s: DlpSignals): boolean {
  const ports = s.portList || s.ipWithPort > 0;
  return s.ipAddresses > 0 && ports && (s.hostNames > 0 || s.reportKeys >= 3);
}

export const dlpInspector: Inspector = {
  name: 'dlp',
  threat: 'T3',
  inspect(msg, ctx): Verdict | undefined {
    const s = dlpSignals(msg.text);
    const secret = secretFound(s);
    const report = machineReport(s);
    const loose = s.ipAddresses > 0 && (s.portList || s.ipWithPort > 0 || s.hostNames > 0);
    const evidence = { ...s };
    if (secret) {
      return verdict('hold', 'T6', 'dlp.secret', `This message contains ${secret}.`, evidence);
    }
    if (report && (!ctx.senderIsContact || s.publicIps > 0)) {
      return verdict(
        'hold',
        'T3',
        'dlp.machine-report',
        'This message reports a machine’s addresses and open ports, as a trojan does.',
        evidence,
      );
    }
    if (!ctx.senderIsContact && (loose || s.credentialValue > 0)) {
      return verdict(
        'hold',
        'T3',
        'dlp.to-stranger',
        'Addresses, ports or passwords are being sent to someone outside the contact list.',
        evidence,
      );
    }
    return undefined;
  },
};
