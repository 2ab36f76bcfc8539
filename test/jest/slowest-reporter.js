/**
 * Prints the slowest test files after a run, so a slow suite is seen where it is
 * added. `JEST_SLOWEST=<n>` changes how many (default 10, 0 for none).
 */
class SlowestReporter {
  constructor(_globalConfig, options = {}) {
    this.count = Number(process.env.JEST_SLOWEST ?? options.count ?? 10);
  }

  onRunComplete(_contexts, results) {
    if (!this.count) return;
    const files = results.testResults
      .map((r) => ({ file: r.testFilePath, seconds: (r.perfStats.end - r.perfStats.start) / 1000 }))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, this.count);
    if (files.length === 0) return;
    const root = process.cwd() + '/';
    const lines = files.map((f) => `  ${f.seconds.toFixed(1).padStart(6)} s  ${f.file.replace(root, '')}`);
    process.stderr.write(`\nSlowest test files:\n${lines.join('\n')}\n`);
  }
}

module.exports = SlowestReporter;
