import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowOutcome } from './workflow-runner';

interface Execution {
  readonly arn: string;
  readonly input: string;
  readonly startDate: Date;
  done: boolean;
  readonly outcome: Promise<WorkflowOutcome>;
}

/**
 * LOCAL STAND-IN for the Step Functions API's `StartExecution` (JSON 1.0 protocol, as the AWS SDK
 * speaks it), so that the real start Lambda starts local runs. Like a Standard workflow, a repeated
 * name with the same input while running answers with the running execution; otherwise
 * `ExecutionAlreadyExists`.
 */
export class LocalStepFunctions {
  readonly executions = new Map<string, Execution>();
  private server?: Server;

  constructor(
    private readonly stateMachineArn: string,
    private readonly startExecution: (name: string, input: unknown) => Promise<WorkflowOutcome>,
  ) {}

  /** Starts listening on 127.0.0.1; returns the URL to give the start Lambda as `SEGPIPE_SFN_ENDPOINT`. */
  async listen(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(body));
      };
      if (req.headers['x-amz-target'] !== 'AWSStepFunctions.StartExecution') {
        return reply(400, {
          __type: 'UnknownOperationException',
          message: `the local Step Functions stand-in answers StartExecution only, not ${req.headers['x-amz-target']}`,
        });
      }
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { stateMachineArn: string; name: string; input: string };
      if (request.stateMachineArn !== this.stateMachineArn)
        return reply(400, { __type: 'StateMachineDoesNotExist', message: `State Machine Does Not Exist: '${request.stateMachineArn}'` });
      const existing = this.executions.get(request.name);
      if (existing && (existing.done || existing.input !== request.input)) {
        return reply(400, { __type: 'ExecutionAlreadyExists', message: `Execution Already Exists: '${existing.arn}'` });
      }
      const execution = existing ?? this.start(request.name, request.input);
      reply(200, { executionArn: execution.arn, startDate: execution.startDate.getTime() / 1000 });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private start(name: string, input: string): Execution {
    const execution: Execution = {
      arn: `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
      input,
      startDate: new Date(),
      done: false,
      outcome: this.startExecution(name, JSON.parse(input)),
    };
    execution.outcome.finally(() => (execution.done = true)).catch(() => undefined);
    this.executions.set(name, execution);
    return execution;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
