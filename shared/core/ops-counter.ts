/** Counts billable Firestore operations so benchmarks and the demo can report them per event. */
export class OpsCounter {
  reads = 0;
  writes = 0;
  deletes = 0;
  transactions = 0;
  snapshot() {
    return { reads: this.reads, writes: this.writes, deletes: this.deletes, transactions: this.transactions };
  }
}
