/**
 * Where Label Studio meets the inbox. Tasks and annotations have prefixes of their own, apart: a
 * source storage reading its own target storage's files imports them as new, broken tasks.
 */
/** Label Studio's source storage (the "tasks" import method): `<prefix><batch>/<generation>/<image>.json`. */
export const LABELSTUDIO_TASKS_PREFIX = 'labelstudio/tasks/';
/**
 * Label Studio's target storage. Its prefix is given without the trailing slash: Label Studio joins
 * `prefix + "/" + key`, so `labelstudio/annotations/` would write `labelstudio/annotations//7`.
 */
export const LABELSTUDIO_ANNOTATIONS_PREFIX = 'labelstudio/annotations/';
