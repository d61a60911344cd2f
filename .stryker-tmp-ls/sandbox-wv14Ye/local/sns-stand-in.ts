import { isValidSnsSubject } from '../lambda/common/untrusted-text';

/**
 * What SNS checks of a Publish before it accepts it, for the local stand-ins: a subject with a line
 * break, a control or non-ASCII character, or of 100 characters or more is refused, as SNS refuses it
 * (Amazon SNS API Reference, `Publish`), so that a run locally meets what it would meet in AWS.
 * @throws an error named as Step Functions names SNS's refusal.
 */
export function checkSnsPublish(input: unknown): void {
  const { Subject, Message } = (input ?? {}) as { Subject?: unknown; Message?: unknown };
  const refused = (reason: string) =>
    Object.assign(new Error(`Invalid parameter: ${reason} (Service: Sns, Status Code: 400, Error Code: InvalidParameter)`), {
      name: 'SNS.InvalidParameterException',
    });
  if (typeof Message !== 'string' || Message === '') throw refused('Message must not be empty');
  if (Buffer.byteLength(Message, 'utf8') > 262_144) throw refused('Message too long');
  if (Subject !== undefined && (typeof Subject !== 'string' || !isValidSnsSubject(Subject))) throw refused('Subject');
}
