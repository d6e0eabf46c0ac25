// report.mjs - counts checks and prints them; the last line is "N passed, N failed".

export class Report {
  constructor(title) {
    this.title = title;
    this.passed = 0;
    this.failed = 0;
    this.skipped = 0;
    this.failures = [];
    this.verbose = process.env.CONTRACT_VERBOSE === '1';
  }

  /** Records one check: problems is an array (empty = pass) or a string/Error (fail). */
  record(name, problems) {
    let list = problems;
    if (problems instanceof Error) list = [problems.message];
    else if (typeof problems === 'string') list = [problems];
    list = (list ?? []).filter(Boolean);
    if (list.length === 0) {
      this.passed++;
      console.log(`ok      ${name}`);
      return true;
    }
    this.failed++;
    this.failures.push({ name, problems: list });
    console.log(`FAILED  ${name}`);
    for (const p of list) console.log(`        - ${String(p).replace(/\n/g, '\n          ')}`);
    return false;
  }

  pass(name) {
    return this.record(name, []);
  }

  fail(name, problems) {
    return this.record(name, problems?.length === 0 ? ['failed'] : problems);
  }

  skip(name, why) {
    this.skipped++;
    console.log(`skipped ${name}: ${why}`);
  }

  info(line) {
    console.log(line);
  }

  /** Prints the summary; returns the exit code. */
  finish() {
    console.log('');
    if (this.failures.length) {
      console.log(`${this.title}: ${this.failures.length} failed check(s):`);
      for (const f of this.failures) console.log(`  - ${f.name}`);
    }
    const skipped = this.skipped ? `, ${this.skipped} skipped` : '';
    console.log(`${this.passed} passed, ${this.failed} failed${skipped}`);
    return this.failed > 0 || this.passed === 0 ? 1 : 0;
  }
}
