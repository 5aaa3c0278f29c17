// npm run schema:check: can this change of the subgraphs ship without breaking the graph or its
// clients? Composition, a current supergraph, breaking changes against a base revision (API schema
// and authorization rules; unless approved), client operations, and conventions. See README
// "Schema checks".
// Exit 0 clean, 1 a check failed, 2 usage error (bad flag, unknown base revision, unreadable input).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseOptions, USAGE, UsageError } from './schema-check/config.ts';
import { formatReport } from './schema-check/report.ts';
import { runSchemaCheck } from './schema-check/run.ts';

try {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
  } else {
    const report = await runSchemaCheck(options);
    console.log(formatReport(report));
    if (options.jsonFile) {
      const json = `${JSON.stringify(report, null, 2)}\n`;
      await mkdir(dirname(options.jsonFile), { recursive: true })
        .then(() => writeFile(options.jsonFile as string, json))
        .catch((error: Error) => {
          throw new UsageError(`cannot write --json ${options.jsonFile}: ${error.message}`);
        });
    }
    process.exitCode = report.exitCode;
  }
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`schema-check: ${error.message}\n${USAGE}`);
  process.exitCode = 2;
}
