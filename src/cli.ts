// The `flstm` command.
import * as fl from './index.js';

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const json = rest.includes('--json');
  if (cmd === 'info') {
    const info = await fl.init();
    if (json) console.log(JSON.stringify(info));
    else console.log(info);
    fl.dispose();
    return 0;
  }
  console.error(`flstm: unknown command ${cmd ?? '(none)'}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
