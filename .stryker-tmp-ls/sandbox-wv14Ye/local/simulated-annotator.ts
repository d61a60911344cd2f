import type { ObjectStore } from '../lambda/convert/stores/object-store';
import { LABELSTUDIO_ANNOTATIONS_PREFIX } from '../lambda/labelstudio/storage-layout';
import { type LabelStudioTask, maskPrediction } from '../lambda/labelstudio/tasks';
import type { TrueLabels } from './simulated-workforce';

/** Label Studio's two target-storage file shapes: `<annotation id>` (its default), `<task id>.json` (`FUTURE_SAVE_TASK_TO_STORAGE=true`). */
export type TargetFileShape = 'annotation' | 'task';

export interface SimulatedAnnotation {
  /** The target-storage file written. */
  readonly key: string;
  readonly task: LabelStudioTask;
}

/**
 * LOCAL STAND-IN for a person labeling in Label Studio and its S3 target storage: it reads each task
 * file under `tasksPrefix` (as the source storage imports them), paints each class the image truly
 * holds as one brush region (Label Studio's RLE), and writes the file the target storage writes on
 * Submit, in either shape. Tasks whose image it knows no labels for are skipped, as a person may
 * leave them. It refuses what Label Studio's tasks import refuses: a file that is not a task.
 */
export async function simulateAnnotator(options: {
  readonly store: ObjectStore;
  readonly inboxBucket: string;
  /** `s3://<inbox>/labelstudio/tasks/<batch>/<round>/` */
  readonly tasksPrefix: string;
  readonly classes: readonly string[];
  readonly truthOf: (image: string) => TrueLabels | undefined;
  readonly shape?: TargetFileShape;
  /** Ids given to the first task and annotation: Label Studio's ids grow across a project. @default 1 */
  readonly firstId?: number;
  /** A task whose image it knows no labels for: left unannotated, or skipped in Label Studio (a cancelled annotation, which counts as done, unlabeled). @default 'leave' */
  readonly unknown?: 'leave' | 'cancel';
}): Promise<SimulatedAnnotation[]> {
  const { store, shape = 'annotation' } = options;
  const written: SimulatedAnnotation[] = [];
  let id = options.firstId ?? 1;
  for (const location of (await store.listUnder(options.tasksPrefix)).sort()) {
    if (!location.endsWith('.json'))
      throw new Error(`${location}: a sync in the tasks import method stops at a key that is not .json (local stand-in of Label Studio)`);
    const task = JSON.parse((await store.read(location)).toString('utf8')) as LabelStudioTask;
    if (typeof task.data?.image !== 'string') throw new Error(`${location}: a task needs data.image (local stand-in of Label Studio)`);
    const truth = options.truthOf(task.data.image);
    if (!truth && options.unknown !== 'cancel') continue;
    const result = truth
      ? maskPrediction({
          mask: truth.classIndices,
          width: truth.width,
          height: truth.height,
          classes: options.classes,
          modelVersion: 'annotator',
        }).prediction.result.map((r, i) => ({ ...r, id: `a${i}`, origin: 'manual' }))
      : [];
    const taskId = id;
    const annotation = {
      id: id++,
      result,
      was_cancelled: !truth,
      ground_truth: false,
      created_at: '2026-12-07T00:00:00.000000Z',
      updated_at: '2026-12-07T00:00:00.000000Z',
      lead_time: 12.5,
    };
    const labelStudioTask = { id: taskId, data: task.data, meta: task.meta ?? {}, project: 1 };
    const [key, body] =
      shape === 'annotation'
        ? [
            `${LABELSTUDIO_ANNOTATIONS_PREFIX}${annotation.id}`,
            {
              ...annotation,
              task: labelStudioTask,
              completed_by: { id: 1, first_name: 'Local', last_name: 'Annotator', email: 'annotator@localhost' },
            },
          ]
        : [
            `${LABELSTUDIO_ANNOTATIONS_PREFIX}${taskId}.json`,
            { ...labelStudioTask, annotations: [{ ...annotation, task: taskId }], predictions: task.predictions ?? [] },
          ];
    await store.write(`s3://${options.inboxBucket}/${key}`, Buffer.from(JSON.stringify(body)), 'application/json');
    written.push({ key, task });
  }
  return written;
}
