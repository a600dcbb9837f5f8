/**
 * The contract between the stream's <auth/> handling and a SASL mechanism's server side.
 * Buffers are the decoded payloads of <auth/>, <response/>, <challenge/> and <success/>;
 * base64 on the wire is the stream's job.
 */

/** RFC 6120 §6.5 failure conditions. */
export type SaslCondition =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | {
      kind: 'success';
      /** Additional data with success (SCRAM's server-final-message); may be empty. */
      data: Buffer;
      /** The prepared (SASLprep) user name that authenticated. */
      username: string;
      /** The requested authorization identity, when the client sent one. Checking it is the caller's job. */
      authzid?: string;
    }
  | {
      kind: 'failure';
      condition: SaslCondition;
      /** For logs, not for the client: it can say more than the condition should. */
      text?: string;
      /** The user name tried, once known, so that failures can be counted per account. */
      username?: string;
      /**
       * The exchange got as far as checking the password and it was wrong: only such failures
       * count towards brute-force penalties (a client's unsupported channel-binding type does not).
       */
      credentialsRejected?: boolean;
    };

/** One exchange; create a new one per <auth/>. Never throws: errors become failures. */
export interface SaslMechanismServer {
  /** The initial response; an empty buffer means none was sent (answered by an empty challenge). */
  start(initialResponse: Buffer): Promise<SaslStep>;
  step(response: Buffer): Promise<SaslStep>;
}

/** Longest client message any mechanism here accepts; real ones are well under 1 KiB. */
export const MAX_SASL_MESSAGE_BYTES = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decoding; undefined for invalid sequences. */
export function decodeUtf8(data: Buffer): string | undefined {
  try {
    return utf8.decode(data);
  } catch {
    return undefined;
  }
}

export function failure(
  condition: SaslCondition,
  text?: string,
  username?: string,
): Extract<SaslStep, { kind: 'failure' }> {
  return {
    kind: 'failure',
    condition,
    ...(text === undefined ? {} : { text }),
    ...(username === undefined ? {} : { username }),
  };
}

/** The failure for a wrong password (or unknown user: the two must look the same). */
export function credentialsFailure(
  text: string,
  username: string,
): Extract<SaslStep, { kind: 'failure' }> {
  return { ...failure('not-authorized', text, username), credentialsRejected: true };
}
