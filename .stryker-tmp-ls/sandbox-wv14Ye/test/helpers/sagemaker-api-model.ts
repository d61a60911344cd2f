import * as sagemaker from '@aws-sdk/client-sagemaker';

/**
 * Checks a request against the SageMaker API model as @aws-sdk/client-sagemaker ships it (its schemas,
 * `<Shape>$`: structures with their members and how many of the first are required, lists, maps), and
 * the limits of the API reference those schemas do not carry, for the shapes segpipe sends. Returns
 * every problem, by path.
 */
type Schema = number | (() => Schema) | readonly unknown[];

const deref = (schema: Schema): Schema => (typeof schema === 'function' ? deref(schema()) : schema);

/** Limits from the SageMaker API reference (CreateTrainingJob, CreateModel), by member name. */
const LIMITS: Record<string, (value: unknown) => string | undefined> = {
  HyperParameters: (v) => {
    const entries = Object.entries(v as Record<string, string>);
    if (entries.length > 100) return `${entries.length} entries, at most 100`;
    const bad = entries.find(([k, x]) => k.length > 256 || String(x).length > 2500);
    return bad ? `${bad[0]}: key ≤ 256 and value ≤ 2500 characters` : undefined;
  },
  Environment: (v) => {
    const entries = Object.entries(v as Record<string, string>);
    if (entries.length > 100) return `${entries.length} entries, at most 100`;
    const bad = entries.find(([k, x]) => k.length > 1024 || String(x).length > 1024 || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k));
    return bad ? `${bad[0]}: a key [a-zA-Z_][a-zA-Z0-9_]* and key and value ≤ 1024 characters` : undefined;
  },
  MetricDefinitions: (v) => ((v as unknown[]).length > 40 ? 'at most 40' : undefined),
  Name: (v) => (typeof v === 'string' && (v.length < 1 || v.length > 255) ? '1 to 255 characters' : undefined),
  Regex: (v) => (typeof v === 'string' && (v.length < 1 || v.length > 500) ? '1 to 500 characters' : undefined),
  TrainingImage: (v) => (typeof v === 'string' && (v.length > 255 || /\s/.test(v)) ? 'at most 255 characters, no spaces' : undefined),
  Image: (v) => (typeof v === 'string' && (v.length > 255 || /\s/.test(v)) ? 'at most 255 characters, no spaces' : undefined),
  ChannelName: (v) => (typeof v === 'string' && !/^[A-Za-z0-9.\-_]{1,64}$/.test(v) ? '[A-Za-z0-9.-_]{1,64}' : undefined),
  TrainingInputMode: (v) => (['Pipe', 'File', 'FastFile'].includes(v as string) ? undefined : 'Pipe, File or FastFile'),
  InstanceType: (v) =>
    Object.values(sagemaker.TrainingInstanceType).includes(v as sagemaker.TrainingInstanceType) ? undefined : 'a TrainingInstanceType',
  S3DataType: (v) => (Object.values(sagemaker.S3DataType).includes(v as sagemaker.S3DataType) ? undefined : 'an S3DataType'),
  S3Uri: (v) => (typeof v === 'string' && !/^(https|s3):\/\/([^/]+)\/?(.*)$/.test(v) ? 'an s3:// or https:// URI' : undefined),
  ModelDataUrl: (v) => (typeof v === 'string' && !/^(https|s3):\/\/([^/]+)\/?(.*)$/.test(v) ? 'an s3:// or https:// URI' : undefined),
};

function check(value: unknown, schema: Schema, path: string, problems: string[], member?: string): void {
  const limit = member ? LIMITS[member]?.(value) : undefined;
  if (limit) problems.push(`${path}: ${limit}`);
  const s = deref(schema);
  if (typeof s === 'number') {
    // 0 string (or enum), 1 number, 2 boolean, 64|x list of x, 128|x map of x.
    if (s & 128) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return void problems.push(`${path}: a map`);
      for (const [k, v] of Object.entries(value)) check(v, s & ~128, `${path}.${k}`, problems);
    } else if (s & 64) {
      if (!Array.isArray(value)) return void problems.push(`${path}: a list`);
      value.forEach((v, i) => {
        check(v, s & ~64, `${path}[${i}]`, problems);
      });
    } else if (s === 0 && typeof value !== 'string') problems.push(`${path}: a string`);
    else if (s === 1 && typeof value !== 'number') problems.push(`${path}: a number`);
    else if (s === 2 && typeof value !== 'boolean') problems.push(`${path}: a boolean`);
    return;
  }
  const [kind] = s as [number];
  if (kind === 3) {
    const [, , name, , members, types, required = 0] = s as [number, string, string, number, string[], Schema[], number?];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return void problems.push(`${path}: a ${name} structure`);
    for (const key of Object.keys(value)) if (!members.includes(key)) problems.push(`${path}.${key}: not a member of ${name}`);
    for (const m of members.slice(0, required)) if (!(m in value)) problems.push(`${path}.${m}: required by ${name}`);
    members.forEach((m, i) => {
      if (m in value) check((value as Record<string, unknown>)[m], types[i], `${path}.${m}`, problems, m);
    });
  } else if (kind === 1) {
    const [, , , , item] = s as [number, string, string, number, Schema];
    if (!Array.isArray(value)) return void problems.push(`${path}: a list`);
    value.forEach((v, i) => {
      check(v, item, `${path}[${i}]`, problems);
    });
  } else if (kind === 2) {
    const [, , , , , item] = s as [number, string, string, number, Schema, Schema];
    if (typeof value !== 'object' || value === null) return void problems.push(`${path}: a map`);
    for (const [k, v] of Object.entries(value)) check(v, item, `${path}.${k}`, problems);
  }
}

/** Problems of a request to `operation` (e.g. `CreateTrainingJob`), none when the API model takes it. */
export function apiModelProblems(operation: 'CreateTrainingJob' | 'CreateModel', request: unknown): string[] {
  const schema = { CreateTrainingJob: sagemaker.CreateTrainingJobRequest$, CreateModel: sagemaker.CreateModelInput$ }[
    operation
  ] as unknown as Schema;
  const problems: string[] = [];
  check(request, schema, operation, problems);
  return problems;
}

/** A Task state's Parameters as the request it makes: every `<name>.$` path given `placeholder` for its value. */
export function withPathsFilled(parameters: unknown, placeholder = 's3://bucket/key'): unknown {
  if (Array.isArray(parameters)) return parameters.map((p) => withPathsFilled(p, placeholder));
  if (typeof parameters !== 'object' || parameters === null) return parameters;
  return Object.fromEntries(
    Object.entries(parameters).map(([k, v]) => (k.endsWith('.$') ? [k.slice(0, -2), placeholder] : [k, withPathsFilled(v, placeholder)])),
  );
}
