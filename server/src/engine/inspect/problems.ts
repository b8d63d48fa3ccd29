/** A bounded list of problem messages: a hostile image must not make the report itself unbounded. */
export class Problems {
  private readonly list: string[] = [];
  private dropped = 0;

  constructor(private readonly max = 1000) {}

  add(message: string): void {
    if (this.list.length < this.max) this.list.push(message);
    else this.dropped++;
  }

  get count(): number {
    return this.list.length + this.dropped;
  }

  toArray(): string[] {
    return this.dropped > 0 ? [...this.list, `... and ${this.dropped} more problems not listed`] : [...this.list];
  }
}
