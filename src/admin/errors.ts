/**
 * Why an admin operation was refused. `code` lets a REST API pick a status; `message` is
 * one line meant for the operator (the CLI prints it after "rampart: ").
 */
export type AdminErrorCode = 'invalid' | 'policy' | 'exists' | 'not-found' | 'notify-failed';

export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly code: AdminErrorCode;

  constructor(code: AdminErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
