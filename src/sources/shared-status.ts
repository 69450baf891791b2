// One object for equal stored statuses. The controller keeps every Gateway API object's .status
// as the API server has it (the status writer merges into it and keeps lastTransitionTime from
// it), and at 10,000 routes most of those statuses are equal: one parent, the same Gateway, the
// same conditions, stamped in the same second of a write burst. Parsed, each was its own tree of
// ~10 objects; shared, 10,000 routes hold a few hundred. Nothing changes a stored status in place
// (status-merge.ts builds new objects), so one object can stand for all of its equals.

/** Keys past this size are not worth a table entry: a status that long is rarely repeated. */
const MAX_KEY = 4096;

export class SharedStatuses {
  /** JSON of a status -> the object that stands for it while anything holds that object. */
  private readonly table = new Map<string, WeakRef<object>>();
  /** Size after the last sweep: the next sweep comes when the table has doubled. */
  private swept = 64;

  /** `status`, or an equal one already held (equal as JSON: the same fields in the same order). */
  shared<T>(status: T): T {
    if (status === null || typeof status !== 'object') return status;
    const key = JSON.stringify(status);
    if (key.length > MAX_KEY) return status;
    const had = this.table.get(key)?.deref();
    if (had) return had as T;
    this.table.set(key, new WeakRef(status as object));
    if (this.table.size > 2 * this.swept) this.sweep();
    return status;
  }

  /** Entries whose objects were collected (a status everyone has moved on from). */
  private sweep(): void {
    for (const [k, ref] of this.table) if (!ref.deref()) this.table.delete(k);
    this.swept = Math.max(64, this.table.size);
  }

  get size(): number {
    return this.table.size;
  }
}
