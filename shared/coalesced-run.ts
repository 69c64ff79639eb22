// A pass that follows a stream of changes (routes from Nodes, listeners from Services) must see the
// latest state without running once per change: asked while a pass is under way, it runs once more
// when that pass ends, however many times it was asked meanwhile.

export class CoalescedRun {
  private running?: Promise<void>;
  private again = false;

  constructor(private readonly pass: () => Promise<void>) {}

  /** Resolves when a pass that began after this request has finished. */
  request(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
