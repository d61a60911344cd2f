/** Node.js major versions segpipe supports (see the README's set-up): the maintained LTS lines; the Lambdas run on 24. */
export const SUPPORTED_NODE_MAJORS = [22, 24];

/** What to tell someone running segpipe on `version` (`process.version`), or undefined when it is supported. */
export function nodeSupportNotice(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (major >= SUPPORTED_NODE_MAJORS[0]) return undefined;
  return `segpipe: Node.js ${version} is past its end of life and not supported (the AWS SDK drops it in January 2027): install Node.js ${SUPPORTED_NODE_MAJORS.join(' or ')}.`;
}

/**
 * The AWS SDK prints an 8-line notice on Node.js 20 from every process that makes a client. Every
 * command silences it (unless AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED is set otherwise) and
 * says it once, in one line with what to do, to a person at a terminal: the output of scripts and
 * CI stays as the command's own.
 */
export function replaceSdkNodeVersionNotice(): () => void {
  const sdkNoticeWanted = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === 'false';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return () => {
    const notice = nodeSupportNotice(process.version);
    if (notice && process.stderr.isTTY && !sdkNoticeWanted) process.stderr.write(`${notice}\n`);
  };
}
