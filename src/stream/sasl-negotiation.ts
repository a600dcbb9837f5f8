import { verifyPassword } from '../auth/credentials.ts';
import { createPlainServer } from '../auth/plain-server.ts';
import type { SaslCondition, SaslMechanismServer, SaslStep } from '../auth/scram-server.ts';
import { createScramServer } from '../auth/scram-server.ts';
import type { ServerContext } from '../server/context.ts';
import type { StreamErrorCondition } from '../stanza/errors.ts';
import { Jid } from '../stanza/jid.ts';
import { NS } from '../stanza/namespaces.ts';
import type { Account, ScramHash } from '../storage/ports.ts';
import type { Transport } from '../transport/transport.ts';
import { type XmlElement, x } from '../xml/element.ts';

/** Failed attempts allowed on one stream before it is closed (RFC 6120 §6.4.5 says 2 to 5). */
const MAX_ATTEMPTS_PER_STREAM = 3;

const SCRAM: Record<string, { hash: ScramHash; plus: boolean }> = {
  'SCRAM-SHA-256-PLUS': { hash: 'SHA-256', plus: true },
  'SCRAM-SHA-256': { hash: 'SHA-256', plus: false },
  'SCRAM-SHA-1-PLUS': { hash: 'SHA-1', plus: true },
  'SCRAM-SHA-1': { hash: 'SHA-1', plus: false },
};

/** Channel-binding types we advertise (XEP-0440); the transport knows which apply to a connection. */
const CHANNEL_BINDING_TYPES = ['tls-exporter', 'tls-server-end-point', 'tls-unique'];

/** SASL (RFC 6120 §6) on one stream: mechanism choice, challenges, brute-force guard, events. */
export class SaslNegotiation {
  private mechanism: SaslMechanismServer | undefined;
  private mechanismName = '';
  private attempts = 0;
  /** Set when the guard refused the account during this attempt. */
  private lockedFor: { account: string; retryAfterMs: number } | undefined;
  private triedAccount: string | undefined;
  /** The account record read during this attempt, reused when it succeeds. */
  private loaded: Account | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly transport: Transport,
    private readonly onSuccess: (bareJid: string) => void,
    private readonly closeStream: (condition: StreamErrorCondition, text: string) => void,
  ) {}

  static offered(ctx: ServerContext, transport: Transport): string[] {
    const hasCb = CHANNEL_BINDING_TYPES.some((t) => transport.channelBinding(t) !== undefined);
    return ctx.config.auth.mechanisms
      .filter((m) => {
        if (m === 'PLAIN') return ctx.config.auth.allow_plain && transport.isSecure();
        return !m.endsWith('-PLUS') || hasCb;
      })
      .concat(
        ctx.config.auth.allow_plain &&
          transport.isSecure() &&
          !ctx.config.auth.mechanisms.includes('PLAIN')
          ? ['PLAIN']
          : [],
      );
  }

  static features(ctx: ServerContext, transport: Transport): XmlElement[] {
    const mechs = SaslNegotiation.offered(ctx, transport);
    const cbTypes = CHANNEL_BINDING_TYPES.filter((t) => transport.advertisesChannelBinding(t));
    return [
      x('mechanisms', { xmlns: NS.sasl }, ...mechs.map((m) => x('mechanism', {}, m))),
      // XEP-0440: which channel-binding types a -PLUS client may use.
      cbTypes.length > 0
        ? x(
            'sasl-channel-binding',
            { xmlns: NS.saslChannelBinding },
            ...cbTypes.map((t) => x('channel-binding', { type: t })),
          )
        : undefined,
    ].filter((e): e is XmlElement => e !== undefined);
  }

  async handle(el: XmlElement): Promise<void> {
    switch (el.name) {
      case 'auth':
        return this.start(el);
      case 'response': {
        if (!this.mechanism)
          return this.fail('malformed-request', 'no authentication in progress', false);
        const data = decodeBase64(el.text());
        if (data === undefined) return this.fail('incorrect-encoding', 'invalid base64', true);
        return this.apply(await this.mechanism.step(data));
      }
      case 'abort':
        this.mechanism = undefined;
        return this.sendFailure('aborted');
      default:
        return this.fail('malformed-request', `unexpected <${el.name}/>`, false);
    }
  }

  private async start(el: XmlElement): Promise<void> {
    if (this.mechanism)
      return this.fail('malformed-request', 'authentication already in progress', true);
    const name = el.attrs.mechanism ?? '';
    const offered = SaslNegotiation.offered(this.ctx, this.transport);
    if (!offered.includes(name)) {
      this.sendFailure('invalid-mechanism', `offered: ${offered.join(', ')}`);
      return;
    }
    const text = el.text();
    const initial =
      text === '' ? Buffer.alloc(0) : text === '=' ? Buffer.alloc(0) : decodeBase64(text);
    if (initial === undefined) return this.fail('incorrect-encoding', 'invalid base64', false);
    this.mechanismName = name;
    this.lockedFor = undefined;
    this.triedAccount = undefined;
    this.loaded = undefined;
    this.mechanism = this.createMechanism(name, offered);
    await this.apply(await this.mechanism.start(initial));
  }

  private createMechanism(name: string, offered: string[]): SaslMechanismServer {
    const scram = SCRAM[name];
    if (scram) {
      return createScramServer({
        hash: scram.hash,
        plus: scram.plus,
        serverOffersPlus: offered.some((m) => m.endsWith('-PLUS')),
        channelBinding: (type) => this.transport.channelBinding(type),
        secret: this.ctx.secret,
        fakeIterations: this.ctx.config.auth.scram_iterations,
        lookup: async (username) => {
          const account = this.accountFor(username);
          if (!account || !this.admit(account)) return undefined;
          // A quarantined account is told so only after a correct proof (see apply()).
          const stored = await this.ctx.storage.accounts.get(account);
          this.loaded = stored;
          return stored?.credentials.find((c) => c.hash === scram.hash);
        },
      });
    }
    return createPlainServer({
      verify: async (username, password) => {
        const account = this.accountFor(username);
        if (!account || !this.admit(account)) return false;
        const stored = await this.ctx.storage.accounts.get(account);
        this.loaded = stored;
        // Unknown accounts cost the same time as wrong passwords: no user enumeration.
        return verifyPassword(
          password,
          stored?.credentials ?? [],
          this.ctx.config.auth.scram_iterations,
        );
      },
    });
  }

  /** Maps a SASL username (a localpart) to the bare JID on this server. */
  private accountFor(username: string): string | undefined {
    try {
      const jid = Jid.parse(username.includes('@') ? username : `${username}@${this.ctx.domain}`);
      if (jid.domain !== this.ctx.domain || !jid.isBare || jid.local === '') return undefined;
      this.triedAccount = jid.bare;
      return jid.bare;
    } catch {
      return undefined;
    }
  }

  /** The brute-force guard: during a penalty even the right password is refused (T4). */
  private admit(account: string): boolean {
    const check = this.ctx.guard.check(account, this.transport.remoteAddress);
    if (check.allowed) return true;
    this.lockedFor = { account, retryAfterMs: check.retryAfterMs };
    return false;
  }

  private async apply(step: SaslStep): Promise<void> {
    if (step.kind === 'challenge') {
      this.transport.write(
        x('challenge', { xmlns: NS.sasl }, step.data.toString('base64')).toString(),
      );
      return;
    }
    this.mechanism = undefined;
    const address = this.transport.remoteAddress;
    if (step.kind === 'failure') {
      const account =
        this.triedAccount ?? (step.username ? this.accountFor(step.username) : undefined);
      if (this.lockedFor) {
        const seconds = Math.ceil(this.lockedFor.retryAfterMs / 1000);
        this.ctx.events.record({
          threat: 'T4',
          rule: 'auth.locked',
          actor: address,
          target: this.lockedFor.account,
          address,
          verdict: 'refuse',
          evidence: { mechanism: this.mechanismName, retryAfterSeconds: seconds },
        });
        return this.sendFailureCounting(
          'temporary-auth-failure',
          `Too many failed logins. Try again in ${seconds} seconds.`,
        );
      }
      if (step.credentialsRejected && account) {
        const counts = this.ctx.guard.recordFailure(account, address);
        this.ctx.events.record({
          threat: 'T4',
          rule: counts.penaltyMs > 0 ? 'auth.lockout' : 'auth.failure',
          actor: address,
          target: account,
          address,
          verdict: counts.penaltyMs > 0 ? 'delay' : 'refuse',
          evidence: {
            mechanism: this.mechanismName,
            accountFailures: counts.accountFailures,
            addressFailures: counts.addressFailures,
            penaltyMs: counts.penaltyMs,
          },
        });
      }
      // The mechanism's text is for the log; the client gets a plain, non-revealing one.
      this.ctx.log.debug({ address, account, reason: step.text }, 'SASL failure');
      return this.sendFailureCounting(step.condition, clientText(step.condition));
    }
    const account = this.accountFor(step.username);
    const stored =
      account === undefined
        ? undefined
        : this.loaded?.jid === account
          ? this.loaded
          : await this.ctx.storage.accounts.get(account);
    if (!account || !stored) return this.sendFailureCounting('not-authorized');
    if (
      step.authzid !== undefined &&
      step.authzid !== '' &&
      Jid.tryParse(step.authzid)?.bare !== account
    ) {
      return this.sendFailureCounting('invalid-authzid', 'you may only act as yourself');
    }
    if (stored.quarantinedReason !== undefined) {
      this.ctx.events.record({
        threat: 'T2',
        rule: 'auth.quarantined',
        actor: account,
        address,
        verdict: 'refuse',
        evidence: { reason: stored.quarantinedReason },
      });
      return this.sendFailureCounting(
        'account-disabled',
        `This account is quarantined: ${stored.quarantinedReason}. Contact your administrator.`,
      );
    }
    this.ctx.guard.recordSuccess(account, address);
    this.transport.write(
      x(
        'success',
        { xmlns: NS.sasl },
        step.data.length > 0 ? step.data.toString('base64') : undefined,
      ).toString(),
    );
    this.onSuccess(account);
  }

  private sendFailure(condition: SaslCondition, text?: string): void {
    this.transport.write(
      x(
        'failure',
        { xmlns: NS.sasl },
        x(condition),
        text ? x('text', { 'xml:lang': 'en' }, text) : undefined,
      ).toString(),
    );
  }

  private sendFailureCounting(condition: SaslCondition, text?: string): void {
    this.sendFailure(condition, text);
    if (++this.attempts >= MAX_ATTEMPTS_PER_STREAM) {
      this.closeStream('policy-violation', 'too many failed authentication attempts');
    }
  }

  private fail(condition: SaslCondition, text: string, count: boolean): void {
    this.mechanism = undefined;
    if (count) this.sendFailureCounting(condition, text);
    else this.sendFailure(condition, text);
  }
}

function clientText(condition: SaslCondition): string | undefined {
  switch (condition) {
    case 'not-authorized':
      return 'Wrong user name or password, or a channel binding this server cannot verify.';
    case 'malformed-request':
      return 'The authentication message was malformed.';
    case 'temporary-auth-failure':
      return 'Authentication is unavailable right now; try again shortly.';
    default:
      return undefined;
  }
}

function decodeBase64(s: string): Buffer | undefined {
  const t = s.trim();
  if (t === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 !== 0) return undefined;
  return Buffer.from(t, 'base64');
}
