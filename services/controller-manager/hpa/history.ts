// Where the HPA controller keeps each HPA's history between syncs: one Redis string of JSON per HPA
// (keys.hpaHistory), with a time-to-live a little beyond the longest window it matters for, so a
// deleted HPA leaves nothing behind. Syncs of one HPA never overlap (the work queue's per-key
// lock), so a plain read and write suffice.
import type { Redis } from 'ioredis';
import type { Keys } from '../../../shared/keys.ts';
import { emptyHistory, type History } from './behavior.ts';

export class HistoryStore {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  async get(uid: string): Promise<History> {
    const raw = await this.redis.get(this.keys.hpaHistory(uid));
    if (!raw) return emptyHistory();
    try {
      const h = JSON.parse(raw) as Partial<History>;
      return { recommendations: h.recommendations ?? [], scaleUpEvents: h.scaleUpEvents ?? [], scaleDownEvents: h.scaleDownEvents ?? [] };
    } catch {
      return emptyHistory();
    }
  }

  async set(uid: string, history: History, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.hpaHistory(uid), JSON.stringify(history), 'PX', Math.max(1000, Math.ceil(ttlMs)));
  }
}
