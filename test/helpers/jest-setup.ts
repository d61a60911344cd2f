/**
 * Jest's set-up in each test file's environment, before its modules load.
 *
 * aws-cdk-lib runs its built-in CloudFormation validation (a WebAssembly engine with rego rules) on
 * every synth; the first synth of each test file pays for starting it, seconds on this machine, for
 * findings the tests never looked at (in a test, aws-cdk-lib reports them as warnings). It is turned
 * off here, as aws-cdk-lib documents (`CDK_VALIDATION=false`), and run on purpose by the whole-app
 * test that checks the shipped templates pass it (test/lib/segpipe-stack.slow.test.ts, "validation").
 */
process.env.CDK_VALIDATION ??= 'false';

/**
 * The AWS SDK prints an 8-line notice on Node.js 20 once per process that makes a client: once per
 * Jest worker and test file. The global set-up (build-cli.ts) says it once, in one line, for the run.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
