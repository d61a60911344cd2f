/**
 * The CDK-typed defaults the stack's constructs share, each written once. Plain values (the
 * configuration's defaults among them) are in lambda/common/defaults.ts, which lambda/ can import.
 */
import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';

/** How long the stack's log groups keep entries: the Lambdas', the state machine's, the tear-down provider's. */
export const LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/** The workflow's waits, where `SegpipeWorkflowProps` does not set them. */
export const WORKFLOW_WAITS = {
  /** Between two looks at a batch that is still receiving uploads. */
  batchPollInterval: Duration.seconds(30),
  /** Between two looks at a changing endpoint, and between two asks for the deploy lock. */
  endpointPollInterval: Duration.minutes(1),
  /** Looks at a changing endpoint before a run gives up on it. */
  endpointPollAttempts: 60,
  /** An earlier run of the same export may hold its turn for as long as a whole run: a day, asked every 5 minutes. */
  importTurnPollInterval: Duration.minutes(5),
  importTurnAttempts: 288,
} as const;
