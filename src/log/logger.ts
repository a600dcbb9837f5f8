import pino, { type Logger } from 'pino';

/** JSON logs to stderr; message bodies and credentials never appear in them. */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: 'rampart' },
      redact: { paths: ['password', '*.password', 'body', '*.body'], censor: '[redacted]' },
    },
    pino.destination({ dest: 2, sync: false }),
  );
}
